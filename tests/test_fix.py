"""`cfcompat fix`: fixtures before -> after, validity of the output, idempotence, findings resolved, the CLI,
cron conversion, wrangler config edits and the settings planner."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import json5
import libcst
import pytest
import yaml

from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.analyzer.fix import FixOptions, plan_fixes
from cfcompat.analyzer.whatif import fixable_by_setting
from cfcompat.analyzer.fix import cron, jsonc
from cfcompat.analyzer.fix.js import error_count
from cfcompat.analyzer.fix.model import Workspace
from cfcompat.analyzer.fix.wrangler import ConfigRequest, apply_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "fix"
NAMES = sorted(p.name for p in FIX.iterdir() if (p / "before").is_dir())


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*")) if p.is_file()}


def _copy(name: str, tmp_path: Path) -> Path:
    dst = tmp_path / name
    shutil.copytree(FIX / name / "before", dst)
    return dst


def _counts(root: Path) -> tuple[Counter, Counter]:
    r = scan(root, ScanOptions(jobs=1, use_cache=False))
    return (Counter(f.rule_id for f in r.findings if f.severity != "info"),
            Counter(f.rule_id for f in r.findings))


def test_there_are_fix_fixtures():
    assert len(NAMES) >= 8
    for n in NAMES:
        assert (FIX / n / "after").is_dir() and (FIX / n / "fix.yaml").is_file(), n


@pytest.mark.parametrize("name", NAMES)
def test_fix_before_becomes_after(name: str, tmp_path: Path):
    root = _copy(name, tmp_path)
    plan = plan_fixes(root)
    assert plan.changed_files(), "the fixture must need a fix"
    assert plan.reports and all(r.changed or r.left for r in plan.reports)
    plan.workspace.commit()
    assert _tree(root) == _tree(FIX / name / "after")


@pytest.mark.parametrize("name", NAMES)
def test_fixed_files_parse(name: str):
    after = FIX / name / "after"
    before = _tree(FIX / name / "before")
    for rel, text in _tree(after).items():
        if before.get(rel) == text:
            continue
        if rel.endswith(".py"):
            libcst.parse_module(text)
        elif rel.endswith((".js", ".mjs", ".cjs", ".ts")):
            assert error_count(text, rel) == 0, rel
        elif rel.endswith(".toml"):
            tomllib.loads(text)
        elif rel.endswith((".json", ".jsonc")):
            assert isinstance(json5.loads(text), dict)
            jsonc.parse(text)


@pytest.mark.parametrize("name", NAMES)
def test_second_run_changes_nothing(name: str, tmp_path: Path):
    root = tmp_path / name
    shutil.copytree(FIX / name / "after", root)
    plan = plan_fixes(root)
    assert plan.changed_files() == [], plan.diff()


@pytest.mark.parametrize("name", NAMES)
def test_scan_after_fix(name: str):
    """The findings a fix resolves are gone (or fewer); no rule gains non-info findings."""
    spec = yaml.safe_load((FIX / name / "fix.yaml").read_text()) or {}
    b_bad, b_all = _counts(FIX / name / "before")
    a_bad, a_all = _counts(FIX / name / "after")
    for rule in spec.get("resolves") or []:
        assert b_bad[rule] > 0, f"{rule} not found before the fix"
        assert a_bad[rule] == 0, f"{rule} still reported after the fix"
    for rule in spec.get("fewer") or []:
        assert a_all[rule] < b_all[rule], f"{rule}: {b_all[rule]} before, {a_all[rule]} after"
    for rule, n in a_bad.items():
        assert n <= b_bad[rule], f"the fix added {rule} findings"


# --------------------------------------------------------------------------------------------- CLI

def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cfcompat.analyzer.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_cli_prints_diff_and_changes_nothing(tmp_path: Path):
    root = _copy("settings-toml", tmp_path)
    before = _tree(root)
    p = _cli("fix", str(root))
    assert p.returncode == 0, p.stderr
    assert "+compatibility_date = \"2025-09-15\"" in p.stdout
    assert "changed:" in p.stderr
    assert _tree(root) == before


def test_cli_write_and_only(tmp_path: Path):
    root = _copy("js-node-cron", tmp_path)
    p = _cli("fix", str(root), "--write", "--only", "server-listen")
    assert p.returncode == 0, p.stderr
    text = (root / "src/index.js").read_text()
    assert "httpServerHandler({ port: 8787 })" in text
    # the node-cron fix was not selected
    assert "cron.schedule(\"30 7 * * 1-5\"" in (root / "src/jobs/digest.js").read_text()
    assert "triggers" not in (root / "wrangler.json").read_text()


def test_cli_json(tmp_path: Path):
    root = _copy("py-env-binding", tmp_path)
    p = _cli("fix", str(root), "--format", "json")
    doc = json.loads(p.stdout)
    assert doc["files"] == ["src/app.py"]
    assert any(f["fix"] == "py-env-binding" and f["left_for_a_person"] for f in doc["fixes"])


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(root), "PATH": "/usr/bin:/bin"})


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_cli_refuses_dirty_git_tree(tmp_path: Path):
    root = _copy("settings-toml", tmp_path)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "init")
    (root / "src/index.js").write_text((root / "src/index.js").read_text() + "// local edit\n")
    p = _cli("fix", str(root), "--write")
    assert p.returncode == 2 and "uncommitted" in p.stderr
    assert "2025-01-01" in (root / "wrangler.toml").read_text()
    p = _cli("fix", str(root), "--write", "--force")
    assert p.returncode == 0, p.stderr
    assert "2025-09-15" in (root / "wrangler.toml").read_text()


def test_tests_are_not_fixed_unless_asked(tmp_path: Path):
    root = tmp_path / "r"
    (root / "tests").mkdir(parents=True)
    (root / "app.py").write_text("from fastapi import FastAPI\n\napp = FastAPI()\n")
    src = ("import requests\n\n\nasync def test_remote():\n    r = requests.get('https://example.com', "
           "timeout=5)\n    assert r.status_code == 200\n")
    (root / "tests" / "test_remote.py").write_text(src)
    plan = plan_fixes(root)
    assert "tests/test_remote.py" not in plan.changed_files()
    plan = plan_fixes(root, FixOptions(include_tests=True))
    assert "tests/test_remote.py" in plan.changed_files()


# --------------------------------------------------------------------------------------------- settings

def test_fixable_by_setting(tmp_path: Path):
    root = _copy("settings-toml", tmp_path)
    result = scan(root, ScanOptions(jobs=1, use_cache=False))
    fx = fixable_by_setting(result)
    by_rule = {f.rule_id: fx.get(f.fingerprint) for f in result.findings}
    assert by_rule["node-module-unavailable"] == ("compatibility_date >= 2025-09-15 and compatibility flag "
                                                  "nodejs_compat (wrangler.toml)")
    assert by_rule["dynamic-code-global-scope"].startswith("compatibility_date >= 2025-06-01")
    assert by_rule["fs-tmp-write"] is None


def test_server_listen_before_http_server_date(tmp_path: Path):
    root = tmp_path / "r"
    (root / "src").mkdir(parents=True)
    (root / "wrangler.toml").write_text('name = "a"\nmain = "src/a.js"\ncompatibility_date = "2025-08-20"\n'
                                        'compatibility_flags = ["nodejs_compat"]\n')
    (root / "src/a.js").write_text('import http from "node:http";\nconst s = http.createServer((q, r) => '
                                   'r.end("x"));\ns.listen(3000);\n')
    plan = plan_fixes(root, FixOptions(only=("server-listen",)))
    toml = plan.workspace.read("wrangler.toml")
    assert 'compatibility_date = "2025-09-01"' in toml
    assert "export default httpServerHandler({ port: 3000 });" in plan.workspace.read("src/a.js")


# --------------------------------------------------------------------------------------------- cron

@pytest.mark.parametrize("kw,expected", [
    ({"minutes": 15}, "*/15 * * * *"),
    ({"minutes": 1}, "* * * * *"),
    ({"hours": 6}, "0 */6 * * *"),
    ({"hours": 1}, "0 * * * *"),
    ({"days": 1}, "0 0 * * *"),
    ({"minutes": 7}, None),
    ({"hours": 5}, None),
    ({"seconds": 30}, None),
    ({"minutes": 15, "start_date": "2026-01-01"}, None),
])
def test_interval(kw, expected):
    assert cron.apscheduler_interval(kw)[0] == expected


@pytest.mark.parametrize("kw,expected", [
    ({"hour": 3, "minute": 30}, "30 3 * * *"),
    ({"hour": 3}, "0 3 * * *"),                       # less significant fields default to their minimum
    ({"minute": "*/10"}, "*/10 * * * *"),
    ({"day_of_week": "mon-fri", "hour": 9}, "0 9 * * MON-FRI"),
    ({"day_of_week": 0, "hour": 6}, "0 6 * * MON"),   # APScheduler: 0 = Monday
    ({"day_of_week": 6, "hour": 6}, "0 6 * * SUN"),   # APScheduler: 6 = Sunday
    ({"day_of_week": "sat,sun"}, "0 0 * * SUN,SAT"),
    ({"day": 1, "hour": 0}, "0 0 1 * *"),
    ({"day": "last"}, "0 0 L * *"),
    ({"month": "jan", "day": 1}, "0 0 1 1 *"),
    ({"hour": 3, "second": 30}, None),
    ({"hour": 3, "jitter": 60}, None),
    ({"hour": 3, "timezone": "Europe/Berlin"}, None),
    ({"hour": 3, "timezone": "UTC"}, "0 3 * * *"),
    ({"day": 1, "day_of_week": "mon"}, None),         # AND in APScheduler, OR in cron
    ({"year": 2027}, None),
])
def test_apscheduler_cron(kw, expected):
    assert cron.apscheduler_cron(kw)[0] == expected


@pytest.mark.parametrize("expr,expected", [
    ("15 3 * * *", "15 3 * * *"),
    ("0 9 * * 1-5", "0 9 * * MON-FRI"),               # cron: 1 = Monday; Cloudflare: 1 = Sunday, so names
    ("0 0 * * 0", "0 0 * * SUN"),
    ("0 0 * * 7", "0 0 * * SUN"),
    ("0 0 * * sun,sat", "0 0 * * SUN,SAT"),
    ("0 */5 * * * *", "*/5 * * * *"),                 # 6 fields, seconds 0
    ("*/30 * * * * *", None),                         # every 30 seconds
    ("0 0 1 * 1", None),                              # dom and dow both restricted
])
def test_node_cron(expr, expected):
    assert cron.node_cron(expr)[0] == expected


def test_node_cron_timezone():
    assert cron.node_cron("0 3 * * *", "America/New_York")[0] is None
    assert cron.node_cron("0 3 * * *", "Etc/UTC")[0] == "0 3 * * *"


# --------------------------------------------------------------------------------------------- config edits

def _ws(tmp_path: Path, files: dict[str, str]) -> Workspace:
    for k, v in files.items():
        (tmp_path / k).write_text(v)
    return Workspace(tmp_path)


def test_jsonc_edits_keep_comments(tmp_path: Path):
    src = ('{\n  // the worker\n  "name": "x", // name\n  "compatibility_date": "2024-01-01" /* old */\n}\n')
    ws = _ws(tmp_path, {"wrangler.jsonc": src})
    req = ConfigRequest(compatibility_date="2025-09-15", flags=["nodejs_compat"], main="src/i.js",
                        crons=["*/5 * * * *"])
    path, said = apply_config(ws, "", req)
    out = ws.read(path)
    assert "// the worker" in out and "// name" in out and "/* old */" in out
    assert json5.loads(out) == {"name": "x", "compatibility_date": "2025-09-15", "main": "src/i.js",
                                "compatibility_flags": ["nodejs_compat"], "triggers": {"crons": ["*/5 * * * *"]}}
    assert apply_config(ws, "", req)[1] == []          # idempotent


def test_toml_edits_keep_comments(tmp_path: Path):
    src = ('# top\nname = "x"\ncompatibility_date = "2024-01-01" # why\ncompatibility_flags = ["nodejs_als"]\n\n'
           '[triggers]\ncrons = ["0 0 * * *"] # nightly\n')
    ws = _ws(tmp_path, {"wrangler.toml": src})
    apply_config(ws, "", ConfigRequest(compatibility_date="2025-09-15", flags=["nodejs_compat"],
                                       crons=["*/5 * * * *"]))
    out = ws.read("wrangler.toml")
    assert "# top" in out and "# why" in out and "# nightly" in out
    assert tomllib.loads(out) == {"name": "x", "compatibility_date": "2025-09-15",
                                  "compatibility_flags": ["nodejs_als", "nodejs_compat"],
                                  "triggers": {"crons": ["0 0 * * *", "*/5 * * * *"]}}


def test_newer_date_is_kept(tmp_path: Path):
    ws = _ws(tmp_path, {"wrangler.json": '{"name": "x", "compatibility_date": "2026-01-01"}'})
    assert apply_config(ws, "", ConfigRequest(compatibility_date="2025-09-15"))[1] == []


def test_created_config(tmp_path: Path):
    ws = _ws(tmp_path, {"package.json": '{"name": "@acme/My_App"}'})
    path, said = apply_config(ws, "", ConfigRequest(main="src/index.js"))
    assert path == "wrangler.jsonc"
    data = json5.loads(ws.read(path))
    assert data == {"name": "my-app", "main": "src/index.js", "compatibility_date": "2026-11-17"}


@pytest.mark.parametrize("text", ["{", "{\"a\": 1,", "[1,", "{\"a\" 1}", "[1 2]"])
def test_jsonc_truncated_or_malformed_is_a_clean_error(text: str):
    """A broken wrangler.jsonc gives JsoncError (reported on one line), never an IndexError."""
    with pytest.raises(jsonc.JsoncError):
        jsonc.parse(text)
