"""CLI contract: exit codes, one-line errors, JSON shape, determinism, bad input."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cfcompat.analyzer.cli import main

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "express-multer-sqlite-cron"


def run(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return exc.value.code or 0, out.out, out.err


def make_repo(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir(parents=True)
    (tmp_path / "src" / "index.js").write_text(
        "const fs = require('fs');\nmodule.exports = () => fs.writeFileSync('data/out.json', '{}');\n")
    return tmp_path


def test_version(capsys):
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.strip().startswith("cfcompat 0.")


def test_missing_path_is_one_line_exit_2(capsys, tmp_path):
    code, out, err = run(["scan", str(tmp_path / "nope")], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no such folder" in err and "Traceback" not in err


def test_bad_option_is_one_line_exit_2(capsys, tmp_path):
    code, _, err = run(["scan", str(tmp_path), "--bogus"], capsys)
    assert code == 2 and err.count("\n") == 1 and "--bogus" in err


def test_bad_compat_date_exit_2(capsys, tmp_path):
    code, _, err = run(["scan", str(tmp_path), "--compat-date", "2025-13-40"], capsys)
    assert code == 2 and "YYYY-MM-DD" in err


def test_json_contract_shape(capsys, tmp_path):
    repo = make_repo(tmp_path)
    code, out, _ = run(["scan", str(repo), "--format", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["schema_version"] == "1" and doc["tool"]["name"] == "cfcompat"
    assert doc["target"] == "workers"
    assert set(doc["summary"]) >= {"files", "lines", "languages", "findings", "verdict"}
    f = doc["findings"][0]
    for key in ("rule_id", "category", "severity", "path", "line", "column", "end_line", "message", "snippet",
                "context", "remediation", "fingerprint", "docs"):
        assert key in f
    assert f["path"] == "src/index.js" and f["line"] == 2 and f["rule_id"] == "fs-persistent-write"
    assert doc["summary"]["verdict"] == "blocked"


def test_fail_on_sets_exit_1(capsys, tmp_path):
    repo = make_repo(tmp_path)
    code, _, _ = run(["scan", str(repo), "--format", "json", "--fail-on", "blocker"], capsys)
    assert code == 1
    code, _, _ = run(["scan", str(repo), "--format", "json", "--fail-on", "never"], capsys)
    assert code == 0


def test_outputs_written_and_identical_to_stdout(capsys, tmp_path):
    repo = make_repo(tmp_path / "r")
    target = tmp_path / "out" / "r.json"
    code, out, _ = run(["scan", str(repo), "--format", "json", "-o", f"json:{target}"], capsys)
    assert code == 0 and target.read_text() == out


def test_bad_output_spec_exit_2(capsys, tmp_path):
    code, _, err = run(["scan", str(tmp_path), "-o", "yaml:x.yaml"], capsys)
    assert code == 2 and "unknown format" in err


def test_bad_files_are_errors_not_crashes(capsys, tmp_path):
    repo = make_repo(tmp_path)
    (repo / "src" / "bin.js").write_bytes(b"\x00\x01\x02binary")
    (repo / "src" / "latin.py").write_bytes(b"x = '\xe9t\xe9'\n")
    (repo / "src" / "broken.ts").write_text("export const = ;;; {{{\n")
    big = repo / "src" / "huge.js"
    big.write_text("// x\n" * 300_000)
    code, out, _ = run(["scan", str(repo), "--format", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    errs = {e["path"]: e["message"] for e in doc["errors"]}
    assert "binary" in errs["src/bin.js"]
    assert "UTF-8" in errs["src/latin.py"]
    assert "MiB" in errs["src/huge.js"]
    assert any(f["rule_id"] == "fs-persistent-write" for f in doc["findings"])


def test_symlink_loop_and_outside_link(capsys, tmp_path):
    repo = make_repo(tmp_path / "r")
    (repo / "loop").symlink_to(repo, target_is_directory=True)
    outside = tmp_path / "secret.js"
    outside.write_text("require('fs').writeFileSync('x', 'y')\n")
    (repo / "src" / "linked.js").symlink_to(outside)
    code, out, _ = run(["scan", str(repo), "--format", "json"], capsys)
    doc = json.loads(out)
    assert code == 0
    assert all(not f["path"].startswith("loop/") for f in doc["findings"])
    assert any("outside" in e["message"] for e in doc["errors"] if e["path"] == "src/linked.js")
    assert str(tmp_path) not in out


def test_rules_and_explain(capsys):
    code, out, _ = run(["rules", "--category", "filesystem"], capsys)
    assert code == 0 and "fs-persistent-write" in out and "scheduler-library" not in out
    code, out, _ = run(["explain", "fs-persistent-write"], capsys)
    assert code == 0 and "Why it breaks" in out and "https://developers.cloudflare.com" in out
    code, _, err = run(["explain", "no-such-rule"], capsys)
    assert code == 2 and "unknown rule" in err


def test_text_output_plain_when_not_a_terminal(capsys, tmp_path):
    repo = make_repo(tmp_path)
    code, out, _ = run(["scan", str(repo)], capsys)
    assert code == 0 and "\x1b[" not in out
    assert "Verdict: blocked" in out and "src/index.js" in out and "fs-persistent-write" in out


def test_json_identical_across_job_counts(tmp_path):
    repo = make_repo(tmp_path)
    for i in range(30):
        (repo / "src" / f"m{i}.js").write_text(f"const fs = require('fs');\nfs.mkdirSync('d{i}')\n")
    outs = []
    for jobs in ("1", "2"):
        env = dict(os.environ, CFCOMPAT_PARALLEL_MIN_FILES="1")
        p = subprocess.run([sys.executable, "-m", "cfcompat.analyzer.cli", "scan", str(repo), "--format", "json",
                            "-j", jobs], capture_output=True, text=True, env=env, check=True)
        outs.append(p.stdout)
    assert outs[0] == outs[1]
    assert len(json.loads(outs[0])["findings"]) == 31


def test_json_and_sarif_identical_across_jobs_and_cache(tmp_path):
    repo = Path(__file__).resolve().parents[1] / "fixtures" / "express-multer-sqlite-cron"
    outs = {}
    for label, jobs, cache in (("j1-cold", "1", True), ("j2-warm", "2", True), ("j2-nocache", "2", False)):
        env = dict(os.environ, CFCOMPAT_PARALLEL_MIN_FILES="1", CFCOMPAT_CACHE_DIR=str(tmp_path / "cache"))
        env.pop("CFCOMPAT_NO_CACHE", None)
        args = [sys.executable, "-m", "cfcompat.analyzer.cli", "scan", str(repo), "-j", jobs, "--format", "json",
                "-o", f"sarif:{tmp_path / (label + '.sarif')}"] + ([] if cache else ["--no-cache"])
        p = subprocess.run(args, capture_output=True, text=True, env=env, check=True)
        outs[label] = (p.stdout, (tmp_path / (label + ".sarif")).read_text())
    first = outs["j1-cold"]
    assert all(o == first for o in outs.values())
    assert json.loads(first[1])["runs"][0]["results"]
