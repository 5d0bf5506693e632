"""Dependency verdicts for the target: knowledge base, Pyodide list by date, lockfile evidence, transitive
natives attributed to the direct dependency, replacements with minimum versions, dev never a blocker."""
from __future__ import annotations

import json
from pathlib import Path

from cfcompat.analyzer.dependencies import lowest_version
from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.reports.json_report import document

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def deps_of(path: Path, **opts) -> tuple[dict, list[dict]]:
    doc = document(scan(path, ScanOptions(jobs=1, **opts)))
    return doc, doc["dependencies"]


def by_name(deps: list[dict]) -> dict[str, dict]:
    return {d["name"] + ("<" + d["via"] if d.get("via") else ""): d for d in deps}


def test_npm_native_direct_and_transitive():
    doc, deps = deps_of(FIX / "manifests" / "npm-v3")
    d = by_name(deps)
    assert d["better-sqlite3"]["verdict"] == "incompatible"
    assert d["sharp<@xenova/transformers"]["kind"] == "transitive"
    f = [f for f in doc["findings"] if f["rule_id"] == "native-dependency" and "sharp" in f["message"]]
    assert f and "via `@xenova/transformers`" in f[0]["message"] and f[0]["severity"] == "blocker"
    assert f[0]["path"] == "package.json" and f[0]["line"] == d["sharp<@xenova/transformers"]["line"]


def test_dev_dependencies_are_never_blockers():
    doc, deps = deps_of(FIX / "manifests" / "npm-v3")
    for f in doc["findings"]:
        if f["path"].endswith("package.json") and "esbuild" in f["message"]:
            assert f["severity"] == "info" and "development dependency" in f.get("note", "")


def test_containers_accept_native_packages():
    doc, deps = deps_of(FIX / "manifests" / "npm-v3", target="containers")
    assert by_name(deps)["better-sqlite3"]["verdict"] == "ok"
    assert not [f for f in doc["findings"] if f["rule_id"] == "native-dependency"]


def test_python_packages_judged_by_pyodide_for_the_date():
    _, deps = deps_of(FIX / "fastapi-apscheduler-psycopg2")
    d = by_name(deps)
    assert d["fastapi"]["verdict"] == "ok" and "Pyodide 314.0.6" in d["fastapi"]["reason"]
    assert d["psycopg2-binary"]["verdict"] == "incompatible"
    _, old = deps_of(FIX / "fastapi-apscheduler-psycopg2", compat_date="2026-01-15")
    assert "Pyodide 0.28.2" in by_name(old)["pydantic"]["reason"]
    assert by_name(old)["fastapi"]["verdict"] == "unknown"   # not in 0.28.2's list


def test_in_pyodide_but_needs_sockets_is_replace():
    _, deps = deps_of(FIX / "manifests" / "python-uv")
    d = by_name(deps)
    assert d["psycopg"]["verdict"] == "replace" and "Pyodide" in d["psycopg"]["reason"]
    assert d["uvloop<uvicorn"]["verdict"] == "incompatible"   # uvicorn[standard] pulls it in


def test_replacement_with_minimum_version(tmp_path: Path):
    (tmp_path / "package.json").write_text(json.dumps({
        "name": "x", "dependencies": {"pg": "^8.11.3", "postgres": "^3.4.5", "jsonwebtoken": "^9.0.0",
                                      "ws": "^8.18.0"}}, indent=2))
    doc, deps = deps_of(tmp_path)
    d = by_name(deps)
    assert d["pg"]["verdict"] == "replace" and "8.13.0" in d["pg"].get("reason", "")
    pg = next(f for f in doc["findings"] if "`pg`" in f["message"])
    assert pg["severity"] == "warning" and pg["rule_id"] == "dependency-needs-change"
    # postgres >= 3.4.4 works through Hyperdrive: ok, with the note, and no finding
    assert d["postgres"]["verdict"] == "ok" and "Hyperdrive" in d["postgres"]["reason"]
    assert not any("`postgres`" in f["message"] for f in doc["findings"])
    assert d["jsonwebtoken"]["verdict"] == "ok" and d["jsonwebtoken"]["replacement"].startswith("jose")
    assert next(f for f in doc["findings"] if "`ws`" in f["message"])["severity"] == "warning"


def test_lowest_version():
    assert lowest_version("^8.11.3") == (8, 11, 3)
    assert lowest_version(">=2,<3") == (2, 0, 0)
    assert lowest_version("<3") is None
    assert lowest_version("latest") is None


def test_uv_lock_platform_wheels_are_evidence():
    _, deps = deps_of(FIX / "manifests" / "python-uv")
    assert deps, "uv fixture has dependencies"
    for d in deps:
        assert d["verdict"] in ("ok", "incompatible", "replace", "unknown")


def test_installed_size_and_large_assets(tmp_path: Path):
    (tmp_path / "node_modules" / "bigpkg").mkdir(parents=True)
    (tmp_path / "node_modules" / "devtool").mkdir(parents=True)
    (tmp_path / "package.json").write_text(json.dumps(
        {"name": "sz", "dependencies": {"bigpkg": "1.0.0"}, "devDependencies": {"devtool": "1.0.0"}}))
    with open(tmp_path / "node_modules" / "bigpkg" / "data.bin", "wb") as fh:
        fh.truncate(70 * 1048576)          # sparse: no real disk use
    (tmp_path / "public").mkdir()
    with open(tmp_path / "public" / "video.mp4", "wb") as fh:
        fh.truncate(26 * 1048576)
    with open(tmp_path / "public" / "small.png", "wb") as fh:
        fh.truncate(1024)
    doc, _ = deps_of(tmp_path)
    rules = {(f["rule_id"], f["path"]) for f in doc["findings"]}
    assert ("worker-size-limit", "package.json") in rules
    assert ("static-asset-too-large", "public/video.mp4") in rules
    assert not any(p == "public/small.png" for _, p in rules)
    size = next(f for f in doc["findings"] if f["rule_id"] == "worker-size-limit")
    assert "70.0 MiB" in size["message"] and "64 MiB" in size["message"]


def test_installed_size_under_limit_gives_no_finding(tmp_path: Path):
    (tmp_path / "node_modules" / "small").mkdir(parents=True)
    (tmp_path / "package.json").write_text(json.dumps({"name": "s", "dependencies": {"small": "1.0.0"}}))
    (tmp_path / "node_modules" / "small" / "index.js").write_text("module.exports = 1\n")
    doc, _ = deps_of(tmp_path)
    assert not [f for f in doc["findings"] if f["rule_id"] == "worker-size-limit"]


def test_python_requirements_and_extras_that_pull_natives(tmp_path: Path):
    """Without a lockfile: known requirements (sentence-transformers -> torch) and requested extras
    (uvicorn[standard] -> uvloop) are transitive natives on the parent's line; extras that pull nothing native
    (passlib[bcrypt]: bcrypt is in Pyodide), a direct native listed on its own line and Containers are not."""
    (tmp_path / "requirements.txt").write_text(
        "fastapi\nuvicorn[standard]==0.30.1\nredis[hiredis]>=5\nsentence-transformers\ntorch\n"
        "passlib[bcrypt]\nfaster-whisper\n")
    (tmp_path / "app.py").write_text("import fastapi\n")
    doc, deps = deps_of(tmp_path, target="python-workers")
    d = by_name(deps)
    assert d["uvloop<uvicorn[standard]"]["kind"] == "transitive"
    assert "watchfiles" in d["uvloop<uvicorn[standard]"]["reason"]
    assert d["hiredis<redis[hiredis]"]["verdict"] == "incompatible"
    assert "tokenizers<sentence-transformers" in d        # torch is listed directly: named once, on its own line
    assert d["ctranslate2<faster-whisper"]["line"] == 7
    assert not [k for k in d if k.endswith("<fastapi") or k.endswith("<passlib[bcrypt]")]
    lines = {f["line"]: f for f in doc["findings"] if f["rule_id"] == "native-dependency"}
    assert set(lines) == {2, 3, 4, 5, 7} and lines[5]["category"] == "native-module"
    _, cont = deps_of(tmp_path, target="containers")
    assert not [x for x in cont if x.get("kind") == "transitive"]


def _next_app(root: Path, extra: dict[str, str] | None = None) -> Path:
    """A Next.js app whose lockfile holds what npm installs with next 15: the SWC compiler's per-platform
    binaries and sharp (an optional dependency, image optimisation) with its @img/* binaries."""
    deps = {"next": "15.3.4", "react": "19.0.0", **(extra or {})}
    (root / "app" / "api" / "hello").mkdir(parents=True)
    (root / "app" / "api" / "hello" / "route.js").write_text("export async function GET() { return Response.json({ok: 1}) }\n")
    (root / "package.json").write_text(json.dumps({"name": "shop", "dependencies": deps}, indent=2))
    pkgs = {"": {"name": "shop", "dependencies": deps},
            "node_modules/next": {"version": "15.3.4", "dependencies": {"react": "19.0.0"},
                                  "optionalDependencies": {"@next/swc-linux-x64-gnu": "15.3.4", "sharp": "^0.34.1"}},
            "node_modules/@next/swc-linux-x64-gnu": {"version": "15.3.4", "optional": True, "os": ["linux"],
                                                     "cpu": ["x64"]},
            "node_modules/sharp": {"version": "0.34.2", "optional": True, "hasInstallScript": True,
                                   "optionalDependencies": {"@img/sharp-linux-x64": "0.34.2"}},
            "node_modules/@img/sharp-linux-x64": {"version": "0.34.2", "optional": True, "os": ["linux"],
                                                  "cpu": ["x64"]},
            "node_modules/react": {"version": "19.0.0"}}
    for name, ver in (extra or {}).items():
        pkgs[f"node_modules/{name}"] = {"version": ver}
    (root / "package-lock.json").write_text(json.dumps({"name": "shop", "lockfileVersion": 3, "packages": pkgs}))
    return root


def test_nextjs_own_native_pieces_are_not_blockers(tmp_path):
    """Next's SWC binaries run at build time and sharp is optional (image optimisation): the app runs on Workers
    through OpenNext, so neither `next` nor sharp-via-next is a native blocker; a direct sharp still is."""
    doc, deps = deps_of(_next_app(tmp_path / "a"))
    d = by_name(deps)
    assert d["next"]["verdict"] == "ok", d["next"]
    assert not any(k.startswith("sharp<") for k in d)
    assert not [f for f in doc["findings"] if f["severity"] == "blocker"]
    assert "SWC" in d["next"]["reason"] and "OpenNext" in d["next"]["replacement"]
    doc2, deps2 = deps_of(_next_app(tmp_path / "b", {"sharp": "0.34.2"}))
    assert by_name(deps2)["sharp"]["verdict"] == "incompatible"
