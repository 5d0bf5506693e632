"""`cfcompat verify` (analyzer/verify.py): bundle with esbuild, start once in workerd, one GET /."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from cfcompat.analyzer.verify import verify


def _project(tmp_path, src: str, main: str = "src/index.ts", extra: dict[str, str] | None = None):
    (tmp_path / "wrangler.jsonc").write_text(
        '{ "name": "t", "main": "%s", "compatibility_date": "2026-11-17", "vars": { "GREETING": "hi" } }' % main)
    for rel, text in {main: src, **(extra or {})}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_clean_worker_starts_and_answers(bundler_root, tmp_path, record_property):
    p = _project(tmp_path, 'import { greet } from "./lib";\nexport default { async fetch(r: Request, env: any) '
                           '{ return new Response(greet(env.GREETING)); } };\n',
                 extra={"src/lib.ts": "export const greet = (g: string): string => `${g} there`;\n"})
    r = verify(p, with_scan=False)
    record_property("observed", r.to_json())
    assert r.stage == "started" and r.request == {"status": 200, "body": "hi there"}, r.to_json()


def test_global_timer_fails_startup_like_the_static_rule_says(bundler_root, tmp_path, record_property):
    p = _project(tmp_path, "setInterval(() => {}, 1000);\nexport default { fetch() { return new Response('x'); } };\n",
                 main="src/index.js")
    r = verify(p)
    record_property("observed", r.to_json())
    assert r.stage == "startup-failed" and "Disallowed operation called within global scope" in r.error
    assert any(b["rule"] == "timer-global-scope" for b in r.blockers), r.blockers


def test_project_file_read_fails_in_the_request(bundler_root, tmp_path, record_property):
    p = _project(tmp_path, "import fs from 'node:fs';\nexport default { fetch() { return new Response("
                           "fs.readFileSync('./data.json', 'utf8')); } };\n", main="src/index.js")
    r = verify(p)
    record_property("observed", r.to_json())
    assert r.stage == "started" and "ENOENT" in (r.request or {}).get("code", ""), r.to_json()
    assert any(b["rule"] == "fs-read-project-file" for b in r.blockers), r.blockers


def test_unresolvable_import_is_a_bundle_failure(bundler_root, tmp_path):
    p = _project(tmp_path, "import x from 'not-installed-pkg';\nexport default { fetch() { return new Response(x); } };\n",
                 main="src/index.js")
    r = verify(p, with_scan=False)
    assert r.stage == "bundle-failed" and "not-installed-pkg" in r.error


# --------------------------------------------------------------------------------------------- bundled as wrangler does

def test_require_of_a_node_builtin_is_rewritten_like_wrangler(bundler_root, tmp_path, record_property):
    """esbuild alone leaves `require("events")` as a dynamic require that throws `Dynamic require of "events" is
    not supported`; wrangler (and verify) turn it into an import of the built-in."""
    p = _project(tmp_path, "import { hello } from './lib.cjs';\nexport default { fetch() { return new Response(hello()); } };\n",
                 main="src/index.js",
                 extra={"src/lib.cjs": "const { EventEmitter } = require('events');\nconst util = require('node:util');\n"
                                       "exports.hello = () => typeof EventEmitter + ' ' + typeof util.format;\n"})
    r = verify(p, with_scan=False)
    record_property("observed", r.to_json())
    assert r.stage == "started" and r.request == {"status": 200, "body": "function function"}, r.to_json()
    assert r.node_compat == "v2"


def test_unenv_polyfill_for_the_configured_date(bundler_root, tmp_path, record_property):
    """Before node:fs is native (2025-09-15) wrangler aliases it to unenv's stub: the import works, calls throw."""
    src = ("import fs from 'fs';\nexport default { fetch() { try { fs.readFileSync('/tmp/x'); return new Response('read'); }"
           " catch (e) { return new Response(String(e.message)); } } };\n")
    p = _project(tmp_path, src, main="src/index.js")
    r = verify(p, compat_date="2025-01-01", compat_flags=["nodejs_compat"], with_scan=False)
    record_property("observed", r.to_json())
    assert r.stage == "started" and "[unenv] fs.readFileSync is not implemented yet!" in r.request["body"], r.to_json()


def test_nothing_outside_the_repository_is_bundled(bundler_root, tmp_path):
    outside = tmp_path / "outside.js"
    outside.write_text("export default 'host secret';\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    p = _project(repo, f"import s from {str(outside)!r};\nimport t from '../../outside.js';\n"
                       "export default {{ fetch() {{ return new Response(s + t); }} }};\n".replace("{{", "{").replace("}}", "}"),
                 main="src/index.js")
    r = verify(p, with_scan=False)
    assert r.stage == "bundle-failed", r.to_json()
    assert r.error.count("reaches outside the repository") == 2 and "src/index.js:1" in r.error, r.error


def test_the_worker_has_no_network(bundler_root, tmp_path, record_property):
    p = _project(tmp_path, "export default { async fetch() { try { await fetch('http://127.0.0.1:9/'); return new "
                           "Response('reached'); } catch (e) { return new Response(e.message); } } };\n",
                 main="src/index.js")
    r = verify(p, with_scan=False)
    record_property("observed", r.to_json())
    assert r.stage == "started" and "is not allowed" in r.request["body"], r.to_json()


def test_missing_dependencies_say_how_to_install_them(bundler_root, tmp_path):
    p = _project(tmp_path, "import express from 'express';\nexport default { fetch() { return new Response('x'); } };\n",
                 main="src/index.js", extra={"package.json": '{"name": "t", "dependencies": {"express": "^5.1.0"}}',
                                             "package-lock.json": "{}"})
    r = verify(p, with_scan=False)
    assert r.stage == "missing-dependencies" and r.missing == ["express"], r.to_json()
    assert r.install == "npm ci --ignore-scripts" and "--ignore-scripts" in r.error


def test_a_startup_failure_in_a_dependency_names_the_importing_file(bundler_root, tmp_path, record_property):
    """node-cron-like: a CommonJS package that reads __dirname when loaded (undefined in a Worker)."""
    p = _project(tmp_path, "import './jobs.js';\nexport default { fetch() { return new Response('x'); } };\n",
                 main="src/index.js",
                 extra={"src/jobs.js": "import sched from 'fake-scheduler';\nsched.every(1);\n",
                        "node_modules/fake-scheduler/package.json": '{"name": "fake-scheduler", "main": "index.js"}',
                        "node_modules/fake-scheduler/index.js": "const path = require('path');\n"
                                                                "const daemon = path.join(__dirname, 'daemon.js');\n"
                                                                "module.exports = { every() {}, daemon };\n"})
    r = verify(p, with_scan=False)
    record_property("observed", r.to_json())
    assert r.stage == "startup-failed" and "__dirname is not defined" in r.error, r.to_json()
    assert r.cause["at"]["file"] == "node_modules/fake-scheduler/index.js", r.cause
    assert r.cause["imported_by"][0]["file"] == "src/jobs.js" and r.cause["imported_by"][0]["line"] == 1, r.cause


# --------------------------------------------------------------------------------------------- real applications

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "verify"


def installed_fixture(name: str, bundler_root: Path, tmp_path: Path) -> Path:
    """A copy of fixtures/verify/NAME with its dependencies installed (npm, no install scripts), cached by the
    package.json's content beside the pinned runtime."""
    src = FIXTURES / name
    digest = hashlib.sha256((src / "package.json").read_bytes()).hexdigest()[:16]
    cache = bundler_root / "verify-fixtures" / f"{name}-{digest}"
    if not (cache / "node_modules").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / "package.json", cache / "package.json")
        r = subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=cache, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-800:]
    dst = tmp_path / name
    shutil.copytree(src, dst)
    shutil.copytree(cache / "node_modules", dst / "node_modules", symlinks=True)
    return dst


def test_express_with_http_server_handler_starts(bundler_root, tmp_path, record_property):
    r = verify(installed_fixture("express-handler", bundler_root, tmp_path), with_scan=False)
    record_property("observed", r.to_json())
    assert r.stage == "started" and r.request == {"status": 200, "body": '{"hello":"express"}'}, r.to_json()


def test_hono_starts(bundler_root, tmp_path, record_property):
    r = verify(installed_fixture("hono", bundler_root, tmp_path), with_scan=False)
    record_property("observed", r.to_json())
    assert r.stage == "started" and r.request["status"] == 200, r.to_json()


def test_socketio_fails_and_names_the_import(bundler_root, tmp_path, record_property):
    r = verify(installed_fixture("socketio", bundler_root, tmp_path))
    record_property("observed", r.to_json())
    assert r.stage == "startup-failed" and "wsEngine is not a constructor" in r.error, r.to_json()
    imp = r.cause["imported_by"][0]
    assert imp["file"] == "src/index.js" and imp["import"] == "socket.io" and imp["via"] == ["socket.io", "engine.io"]
    assert any(b["rule"] in ("websocket-server", "socket-server-listen") for b in r.blockers) or r.blockers == [], r.blockers


def test_timer_in_a_function_called_at_top_level_is_a_startup_failure_and_a_blocker(bundler_root, tmp_path,
                                                                                   record_property):
    src = ("function startPolling() {\n  setInterval(() => {}, 60000);\n}\nstartPolling();\n"
           "export default { fetch() { return new Response('x'); } };\n")
    p = _project(tmp_path, src, main="src/index.js")
    r = verify(p)
    record_property("observed", r.to_json())
    assert r.stage == "startup-failed" and "Disallowed operation called within global scope" in r.error
    assert r.cause["at"] == {"file": "src/index.js", "line": 2}, r.cause
    assert any(b["rule"] == "timer-global-scope" and b["where"] == "src/index.js:2" for b in r.blockers), r.blockers
