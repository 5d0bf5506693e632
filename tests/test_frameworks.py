"""Frameworks as data (rules/kb/frameworks.yaml): detected from runtime dependencies, their routed files are entry
points, their client components are browser code, and the report names the path to Cloudflare."""
from __future__ import annotations

import json
from pathlib import Path

from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.analyzer.frameworks import detect_frameworks, matches, profiles
from cfcompat.analyzer.model import Dependency
from cfcompat.reports.json_report import document


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_profiles_are_complete() -> None:
    ids = [p["id"] for p in profiles()]
    assert len(ids) == len(set(ids)) and {"nextjs", "nestjs", "django", "flask", "fastapi", "celery"} <= set(ids)
    for p in profiles():
        assert p["ecosystem"] in ("npm", "pypi") and p["detect"] and p["cloudflare"]["path"]
        assert p["cloudflare"]["docs"].startswith("https://developers.cloudflare.com/"), p["id"]


def test_detection_reads_runtime_dependencies_per_project() -> None:
    deps = [Dependency("npm", "next", "15", "web/package.json", 3), Dependency("npm", "express", "4", "api/package.json", 3),
            Dependency("npm", "fastify", "5", "api/package.json", 4, dev=True),
            Dependency("pypi", "Django", "5", "requirements.txt", 1)]
    got = {(fw.id, fw.root) for fw in detect_frameworks(deps)}
    assert got == {("nextjs", "web"), ("express", "api"), ("django", "")}


def test_brace_and_star_globs() -> None:
    assert matches("app/api/users/route.ts", ["app/**/route.{js,ts}"])
    assert matches("app/route.ts", ["app/**/route.{js,ts}"])
    assert not matches("app/api/users/page.tsx", ["app/**/route.{js,ts}"])


def test_next_app_client_components_are_browser_code_and_routes_are_entries(tmp_path: Path) -> None:
    _write(tmp_path, {
        "package.json": json.dumps({"name": "shop", "dependencies": {"next": "15.0.0", "react": "19", "react-dom": "19"}}),
        "app/api/orders/route.ts": ("import { writeFileSync } from 'fs';\n"
                                    "export async function POST(req: Request) {\n"
                                    "  writeFileSync('./orders.json', await req.text());\n"
                                    "  return Response.json({ ok: true });\n}\n"),
        "app/cart/CartTimer.tsx": ("'use client';\nimport { useEffect } from 'react';\n"
                                   "export function CartTimer() {\n"
                                   "  useEffect(() => { const t = setInterval(() => {}, 1000); return () => clearInterval(t); }, []);\n"
                                   "  return null;\n}\n"),
    })
    res = scan(tmp_path, ScanOptions(jobs=1, use_cache=False))
    by = {(f.path, f.rule_id): f for f in res.findings}
    assert by[("app/api/orders/route.ts", "fs-persistent-write")].severity == "blocker"
    timer = by[("app/cart/CartTimer.tsx", "interval-timer")]
    assert timer.severity == "info" and timer.context == "browser" and "client component" in timer.note
    doc = document(res)
    assert doc["frameworks"][0]["id"] == "nextjs" and "OpenNext" in doc["frameworks"][0]["cloudflare"]["path"]
