"""docs/packages.md is generated from the knowledge base and must be in step with it."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("kb_packages", ROOT / "scripts" / "kb_packages.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_packages_page_is_generated_from_the_kb():
    mod = _script()
    assert (ROOT / "docs" / "packages.md").read_text(encoding="utf-8") == mod.page(), \
        "docs/packages.md is stale: python scripts/kb_packages.py --write"


def test_every_kb_package_is_on_the_page_with_its_verdict():
    mod = _script()
    rows = {(r["eco"], r["name"]): r["verdict"] for r in mod.rows()}
    npm = yaml.safe_load((ROOT / "rules/kb/native_npm.yaml").read_text())["packages"]
    pypi = yaml.safe_load((ROOT / "rules/kb/native_pypi.yaml").read_text())["packages"]
    for p in npm:
        assert rows[("npm", p["name"])] == p["severity"]
    for p in pypi:
        assert rows[("PyPI", p["name"])] == p["severity"]
    page = mod.page()
    assert "| `better-sqlite3` | blocker |" in page
    assert "| `webpack` | build |" in page
