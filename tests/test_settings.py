"""Project settings: wrangler config formats, overrides and their sources, per-folder scopes in monorepos."""
from __future__ import annotations

import json
from pathlib import Path

from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.reports.json_report import document


def write(p: Path, text: str) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def test_wrangler_jsonc_with_comments_and_sources(tmp_path: Path):
    write(tmp_path / "wrangler.jsonc", '{\n  // a comment\n  "main": "src/index.js",\n'
          '  "compatibility_date": "2025-01-01", "compatibility_flags": ["nodejs_compat"],\n'
          '  "kv_namespaces": [{"binding": "KV", "id": "x"}], "triggers": {"crons": ["0 3 * * *"]},\n}\n')
    write(tmp_path / "src" / "index.js", "export default {}\n")
    doc = document(scan(tmp_path, ScanOptions(jobs=1)))
    st = doc["settings"]
    assert st["compatibility_date"] == "2025-01-01" and st["compatibility_flags"] == ["nodejs_compat"]
    assert st["sources"]["compatibility_date"] == "wrangler.jsonc"
    assert st["wrangler"]["bindings"] == {"kv_namespaces": 1} and st["wrangler"]["crons"] == ["0 3 * * *"]
    doc = document(scan(tmp_path, ScanOptions(jobs=1, compat_date="2026-10-01", compat_flags=["x_flag"])))
    assert doc["settings"]["compatibility_date"] == "2026-10-01"
    assert doc["settings"]["sources"]["compatibility_date"] == "--compat-date"
    assert "x_flag" in doc["settings"]["compatibility_flags"]


def test_wrangler_toml_python_main_selects_python_workers(tmp_path: Path):
    write(tmp_path / "wrangler.toml", 'main = "src/entry.py"\ncompatibility_date = "2026-10-01"\n'
          'compatibility_flags = ["python_workers"]\n')
    write(tmp_path / "src" / "entry.py", "x = 1\n")
    doc = document(scan(tmp_path, ScanOptions(jobs=1)))
    assert doc["target"] == "python-workers"


def test_broken_wrangler_config_is_an_error_entry(tmp_path: Path):
    write(tmp_path / "wrangler.toml", 'main = "src/index.js"\ncompatibility_date = \n')
    write(tmp_path / "src" / "index.js", "export default {}\n")
    doc = document(scan(tmp_path, ScanOptions(jobs=1)))
    assert any(e["path"] == "wrangler.toml" and "invalid wrangler config" in e["message"] for e in doc["errors"])
    assert doc["settings"]["sources"]["compatibility_date"].startswith("default")


def test_monorepo_folders_are_judged_in_their_own_scope(tmp_path: Path):
    # packages/old is pinned to a date before node:http servers existed; packages/new to a recent one
    app = "const express = require('express');\nconst app = express();\napp.listen(3000);\n"
    for name, date in (("old", "2025-01-01"), ("new", "2026-10-01")):
        write(tmp_path / "packages" / name / "wrangler.json",
              json.dumps({"main": "index.js", "compatibility_date": date, "compatibility_flags": ["nodejs_compat"]}))
        write(tmp_path / "packages" / name / "index.js", app)
    doc = document(scan(tmp_path, ScanOptions(jobs=1)))
    sev = {f["path"]: f["severity"] for f in doc["findings"] if f["rule_id"] == "server-listen"}
    assert sev == {"packages/old/index.js": "blocker", "packages/new/index.js": "warning"}
    assert set(doc["settings"]["scopes"]) == {"packages/old", "packages/new"}


def test_committed_env_file_points_at_the_secret_and_masks_it(tmp_path: Path):
    write(tmp_path / ".env", "PORT=3000\n# stripe\nSTRIPE_SECRET_KEY=sk_live_abc123\n")
    write(tmp_path / ".env.example", "STRIPE_SECRET_KEY=\n")
    write(tmp_path / "config" / "app.env", "DEBUG=1\n")          # no secret: no finding
    write(tmp_path / "index.js", "export default {}\n")
    out = json.dumps(document(scan(tmp_path, ScanOptions(jobs=1))))
    doc = json.loads(out)
    env = [f for f in doc["findings"] if f["rule_id"] == "committed-env-file"]
    assert [(f["path"], f["line"], f["snippet"]) for f in env] == [(".env", 3, "STRIPE_SECRET_KEY=****")]
    assert "sk_live_abc123" not in out


def test_findings_a_setting_resolves_are_named_fixable_by_setting():
    before = Path(__file__).resolve().parents[1] / "fixtures" / "fix" / "settings-toml" / "before"
    doc = document(scan(before, ScanOptions(jobs=1)))
    fixable = [f for f in doc["findings"] if f.get("fixable_by_setting")]
    assert fixable and all("compatibility" in f["fixable_by_setting"] for f in fixable)
    assert doc["summary"]["fixable_by_setting"] == len(fixable)
    after = document(scan(before.parent / "after", ScanOptions(jobs=1)))
    assert not any(f.get("fixable_by_setting") for f in after["findings"])
