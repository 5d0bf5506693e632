"""Every fix is proven by the runtime: each codemod is applied to its fixture (fixtures/fix/NAME/before), then the
result is started in workerd with `cfcompat verify` (JavaScript: bundled as wrangler does, dependencies installed
from npm without install scripts) or checked the way Python Workers load it (Python). And a rescan after a fix
never says "ready" for code that would not start."""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.analyzer.fix import plan_fixes
from cfcompat.analyzer.verify import verify

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "fix"

# fixture -> does the fixed Worker start? (js-node-cron keeps a 30-second node-cron schedule no Cron Trigger can
# express, so node-cron stays imported and the Worker does not start; the rescan must say so)
JS = {"js-express-listen": True, "js-http-cjs": True, "js-node-cron-all": True, "js-node-cron": False}
PY = {"py-fastapi-entry": True, "py-apscheduler": True, "py-env-binding": True, "py-requests-httpx": True}


def _fixed(name: str, tmp_path: Path) -> Path:
    root = tmp_path / name
    shutil.copytree(FIX / name / "before", root)
    plan = plan_fixes(root)
    plan.workspace.commit()
    return root


def _install(root: Path, cache_root: Path) -> None:
    pj = root / "package.json"
    if not pj.exists():
        return
    digest = hashlib.sha256(pj.read_bytes()).hexdigest()[:16]
    cache = cache_root / "fix-proofs" / digest
    if not (cache / "node_modules").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        shutil.copy(pj, cache / "package.json")
        r = subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=cache, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-800:]
    if (cache / "node_modules").is_dir():
        shutil.copytree(cache / "node_modules", root / "node_modules", symlinks=True)


def _verdict(root: Path) -> str:
    return scan(root, ScanOptions(use_cache=False)).summary["verdict"]


@pytest.mark.parametrize("name", sorted(JS))
def test_js_fix_starts_in_workerd(bundler_root, tmp_path, record_property, name):
    root = _fixed(name, tmp_path)
    _install(root, bundler_root)
    r = verify(root)
    verdict = _verdict(root)
    record_property("claim", f"{name}: after `cfcompat fix`, the Worker {'starts' if JS[name] else 'does not start'}")
    record_property("observed", {"stage": r.stage, "error": r.error, "request": r.request, "cause": r.cause,
                                 "rescan": verdict})
    if JS[name]:
        assert r.stage == "started" and r.handler == "fetch", r.to_json()
        # the app answered through the Worker (a 404 from Express is the app's own answer to an unknown path)
        assert r.request and isinstance(r.request.get("status"), int) and r.request["status"] < 500, r.to_json()
    else:
        assert r.stage != "started", r.to_json()
    if r.stage != "started":
        assert verdict != "ready", f"rescan says ready but the Worker does not start: {r.error}"


def test_node_cron_fix_removes_what_it_replaces(tmp_path):
    root = _fixed("js-node-cron-all", tmp_path)
    code = "".join(p.read_text() for p in (root / "src").rglob("*.js"))
    assert not re.search(r"""from\s+['"]node-cron['"]|require\(\s*['"]node-cron['"]\s*\)""", code), code
    assert "cron.schedule" not in code
    assert "node-cron" not in (root / "package.json").read_text()


def test_partial_node_cron_fix_fails_with_the_cause_and_is_not_ready(bundler_root, tmp_path):
    root = _fixed("js-node-cron", tmp_path)
    _install(root, bundler_root)
    r = verify(root)
    assert r.stage == "startup-failed", r.to_json()
    assert any(i["file"] == "src/jobs/digest.js" and i["import"] == "node-cron"
               for i in (r.cause or {}).get("imported_by") or []), r.cause
    assert _verdict(root) == "blocked"


@pytest.mark.parametrize("name", sorted(PY))
def test_python_fix_loads_like_python_workers(tmp_path, record_property, name):
    root = _fixed(name, tmp_path)
    r = verify(root)
    verdict = _verdict(root)
    record_property("observed", {"stage": r.stage, "error": r.error, "checks": r.checks, "rescan": verdict})
    assert r.language == "python", r.to_json()
    if PY[name]:
        assert r.stage == "started", r.to_json()
    if r.stage != "started":
        assert verdict != "ready", r.error
