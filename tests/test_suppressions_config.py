"""Suppressions with reasons (inline and config file), --no-inline-ignores, config validation, and linked
findings counted once."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfcompat.analyzer.cli import main
from cfcompat.analyzer.config import ConfigError, load_config
from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.reports.json_report import document


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def cli_json(args: list[str], capsys) -> tuple[int, dict | None, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return exc.value.code or 0, (json.loads(out.out) if out.out.strip().startswith("{") else None), out.err


JS = """const fs = require('fs');
// cfcompat-ignore fs-persistent-write -- written once by the deploy step, read-only afterwards
fs.writeFileSync('a.json', '{}');
fs.writeFileSync('b.json', '{}'); // cfcompat-ignore fs-persistent-write -- dev-only export
fs.writeFileSync('c.json', '{}'); // cfcompat-ignore fs-persistent-write
fs.writeFileSync('d.json', '{}');
"""
PY = """# cfcompat: ignore-file[py-open-write] this module only runs in the nightly export job
def export(rows):
    with open("out.csv", "w") as fh:
        fh.write(rows)
"""


def test_inline_suppressions_need_reasons(tmp_path: Path):
    write(tmp_path, {"src/a.js": JS, "src/b.py": PY})
    doc = document(scan(tmp_path, ScanOptions(jobs=1)))
    kept = sorted(f["line"] for f in doc["findings"] if f["path"] == "src/a.js")
    assert kept == [5, 6]                       # no reason on line 5: not suppressed
    sup = {(d["path"], d["line"]): d["suppressed_by"] for d in doc["suppressed"]}
    assert sup[("src/a.js", 3)]["reason"].startswith("written once")
    assert sup[("src/a.js", 4)]["kind"] == "inline"
    assert ("src/b.py", 3) in sup and sup[("src/b.py", 3)]["reason"].startswith("this module")
    assert doc["summary"]["suppressed"] == 3
    assert any("no reason" in e["message"] and e["path"] == "src/a.js" for e in doc["errors"])


def test_no_inline_ignores_and_config_ignores(tmp_path: Path, capsys):
    write(tmp_path, {"src/a.js": JS, "cfcompat.toml":
                     '[[ignore]]\npath = "src/**"\nrules = ["fs-persistent-write"]\nreason = "legacy, tracked in JIRA-12"\n'})
    code, doc, _ = cli_json(["scan", str(tmp_path), "--format", "json", "--no-inline-ignores"], capsys)
    assert code == 0 and doc["findings"] == []
    assert {d["suppressed_by"]["kind"] for d in doc["suppressed"]} == {"config"}
    assert len(doc["suppressed"]) == 4


def test_config_errors_name_the_key(tmp_path: Path, capsys):
    write(tmp_path, {"cfcompat.toml": 'targett = "workers"\n'})
    code, _, err = cli_json(["scan", str(tmp_path)], capsys)
    assert code == 2 and "unknown key 'targett'" in err and err.count("\n") == 1
    write(tmp_path, {"cfcompat.toml": 'plan = 3\n'})
    code, _, err = cli_json(["scan", str(tmp_path)], capsys)
    assert code == 2 and "plan must be a string" in err
    write(tmp_path, {"cfcompat.toml": '[[ignore]]\npath = "x"\nrules = ["a"]\n'})
    with pytest.raises(ConfigError, match="reason is required"):
        load_config(tmp_path)


def test_pyproject_tool_table_sets_target_date_and_fail_on(tmp_path: Path, capsys):
    write(tmp_path, {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\n\n[tool.cfcompat]\n'
                     'target = "containers"\ncompat_date = "2025-10-01"\nfail_on = "warning"\n',
                     "app.py": "import threading\nthreading.Thread(target=print).start()\n"})
    code, doc, _ = cli_json(["scan", str(tmp_path), "--format", "json"], capsys)
    assert doc["target"] == "containers" and doc["settings"]["compatibility_date"] == "2025-10-01"
    assert doc["settings"]["sources"]["compatibility_date"] == "config file"


def test_import_and_dependency_counted_once(tmp_path: Path):
    write(tmp_path, {"package.json": json.dumps({"name": "x", "main": "index.js",
                                                 "dependencies": {"better-sqlite3": "^11.0.0"}}, indent=2),
                     "index.js": "const Database = require('better-sqlite3');\nmodule.exports = Database;\n"})
    doc = document(scan(tmp_path, ScanOptions(jobs=1)))
    imp = next(f for f in doc["findings"] if f["rule_id"] == "native-addon-import")
    dep = next(f for f in doc["findings"] if f["rule_id"] == "native-dependency")
    assert imp["related"] == dep["fingerprint"]
    assert doc["summary"]["findings"]["blocker"] == 1 and doc["summary"]["linked"] == 1
