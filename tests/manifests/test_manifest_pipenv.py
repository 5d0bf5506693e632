"""Pipfile and Pipfile.lock."""
from __future__ import annotations

from cfcompat.analyzer.manifests.pipenv import read_pipfile, read_pipfile_lock

from manifest_helpers import FIXTURES, locked, scan_fixture, write


def test_pipfile_packages_dev_packages_lines():
    res = read_pipfile(FIXTURES / "python-pipenv", "Pipfile")
    got = [(d.name, d.version, d.line, d.dev) for d in res.dependencies]
    assert got == [
        ("flask", "==3.0.3", 7, False),
        ("gunicorn", "*", 8, False),
        ("psycopg2-binary", ">=2.9", 9, False),      # quoted key
        ("redis", "[hiredis]>=5.0", 10, False),      # inline table with extras
        ("pytest", "*", 13, True),
        ("flake8", "*", 14, True),
    ]
    assert res.errors == []


def test_pipfile_scripts_are_entry_points():
    res = read_pipfile(FIXTURES / "python-pipenv", "Pipfile", frozenset({"app.py"}))
    eps = [(e.line, e.path, e.kind, e.command) for e in res.entry_points]
    assert eps == [(20, "app.py", "runtime", "flask --app app run --debug"), (21, None, "test", "pytest -q")]


def test_pipfile_lock_versions_dev_and_lines():
    scan = scan_fixture("python-pipenv")
    f = locked(scan, "flask")
    assert (f.version, f.line, f.dev, f.native, f.lockfile) == ("3.0.3", 19, False, None, "Pipfile.lock")
    assert locked(scan, "werkzeug").version == "3.0.3"
    assert locked(scan, "pytest").dev is True
    assert locked(scan, "pytest").line == 62
    assert scan.projects[0].manifests == ["Pipfile", "Pipfile.lock"]


def test_pipfile_custom_category_and_git(tmp_path):
    write(tmp_path, "Pipfile", '[packages]\n"uvicorn[standard]" = "*"\nmylib = {git = "https://github.com/a/mylib.git", ref = "v1"}\n\n'
                               '[docs]\nsphinx = "*"\n\n[source]\nurl = "x"\n')
    res = read_pipfile(tmp_path, "Pipfile")
    assert [(d.name, d.version, d.dev, d.line) for d in res.dependencies] == [
        ("uvicorn", "*", False, 2), ("mylib", "git https://github.com/a/mylib.git", False, 3), ("sphinx", "*", True, 6)]
    write(tmp_path, "Pipfile.lock", '{"default": {"mylib": {"git": "https://github.com/a/mylib.git", "ref": "abc"}},'
                                    ' "develop": []}')
    lock = read_pipfile_lock(tmp_path, "Pipfile.lock")
    assert [(e.name, e.version) for e in lock.locked] == [("mylib", "git https://github.com/a/mylib.git@abc")]


def test_pipfile_lock_truncated(tmp_path):
    write(tmp_path, "Pipfile.lock", '{\n  "default": {\n    "flask": {"version": "==3.0.3"}\n')
    res = read_pipfile_lock(tmp_path, "Pipfile.lock")
    assert res.locked == []
    assert res.errors[0].message.startswith("invalid JSON at line 3: ")
