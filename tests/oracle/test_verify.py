"""`cfcompat verify` (analyzer/verify.py): bundle with esbuild, start once in workerd, one GET /."""
from __future__ import annotations

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
