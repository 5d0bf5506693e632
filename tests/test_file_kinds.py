"""File kinds by content, not only by name: prose named like a pip file (Django's reST docs have
docs/ref/models/constraints.txt) is not read as requirements; real pip files, and files a pip file includes,
still are."""
from __future__ import annotations

from pathlib import Path

from cfcompat.analyzer.assessment import scan_and_assess
from cfcompat.analyzer.manifests import scan_manifests
from cfcompat.analyzer.manifests.pip_requirements import looks_like_pip_file

REST = """=====================
Constraints reference
=====================

.. module:: django.db.models.constraints

.. currentmodule:: django.db.models

The classes defined in this module create database constraints. They are added
in the model :attr:`Meta.constraints <django.db.models.Options.constraints>`
option.

.. admonition:: Referencing built-in constraints

    Constraints are defined in ``django.db.models.constraints``, but for
    convenience they're imported into :mod:`django.db.models`.

``CheckConstraint``
===================

.. class:: CheckConstraint(*, condition, name, violation_error_code=None)

    Creates a check constraint in the database.
"""

MARKDOWN = """# Requirements

Before you start, make sure you have:

- Python 3.11 or newer
- A Cloudflare account
- [ ] a wrangler login
```
pip install -r requirements.txt
```
"""


def test_sniffing():
    assert not looks_like_pip_file(REST)
    assert not looks_like_pip_file(MARKDOWN)
    assert looks_like_pip_file("")
    assert looks_like_pip_file("# only comments\n\n")
    assert looks_like_pip_file("flask==3.0.0\nrequests>=2 ; python_version>'3.8'\n-r base.txt\n"
                               "git+https://github.com/a/b.git#egg=b\n-e .\n--hash=sha256:abc\n")
    # a real file with one typo is still a pip file (the typo is reported)
    assert looks_like_pip_file("flask==3.0.0\nrequests>=2\nnumpy=1.0\nsqlalchemy\n")


def repo(tmp_path: Path) -> Path:
    (tmp_path / "docs" / "ref" / "models").mkdir(parents=True)
    (tmp_path / "docs" / "ref" / "models" / "constraints.txt").write_text(REST)
    (tmp_path / "docs" / "requirements.txt").write_text("sphinx>=7\n")
    (tmp_path / "requirements.txt").write_text("flask==3.0.0\nnumpy=1.0\n-c constraints/pins.txt\n")
    (tmp_path / "constraints").mkdir()
    (tmp_path / "constraints" / "pins.txt").write_text("Pins\n====\n\nflask==3.0.0\n")   # included: always read
    (tmp_path / "REQUIREMENTS.md").write_text(MARKDOWN)
    (tmp_path / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    return tmp_path


def test_prose_named_like_a_pip_file_is_not_a_manifest(tmp_path):
    r = repo(tmp_path)
    rels = [p.relative_to(r).as_posix() for p in r.rglob("*") if p.is_file()]
    scan = scan_manifests(r, rels)
    paths = {e.path for e in scan.errors}
    assert "docs/ref/models/constraints.txt" not in paths
    assert any(e.path == "requirements.txt" and "line 2" in e.message for e in scan.errors)   # the typo
    assert not any(p.root == "docs/ref/models" for p in scan.projects)
    deps = {(d.manifest, d.name) for d in scan.dependencies}
    assert ("docs/requirements.txt", "sphinx") in deps and ("requirements.txt", "flask") in deps
    assert any(ev.lockfile == "constraints/pins.txt" for ev in scan.locked)        # included with -c: read


def test_scan_reports_no_errors_for_rest_docs(tmp_path):
    result = scan_and_assess(repo(tmp_path))
    assert not [e for e in result.errors if e.path.startswith("docs/ref/")]
