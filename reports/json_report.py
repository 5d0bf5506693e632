"""`--format json`: the document of contract.md, schema_version "1". Deterministic: sorted, no timestamps."""
from __future__ import annotations

import json
from typing import Any

from ..analyzer import __version__
from ..rules.kb import kb_summary


def document(result) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema_version": "1",
        "tool": {"name": "cfcompat", "version": __version__},
        "target": result.settings.target,
        "settings": result.settings.to_json(),
        "summary": result.summary,
        "findings": [f.to_json() for f in result.findings],
        "dependencies": [d.to_json() for d in result.dependencies],
    }
    if result.extras.get("context_mode"):
        doc["settings"]["context"] = {"mode": result.extras["context_mode"],
                                      "entry_points": result.extras.get("entries") or {}}
    scopes = result.extras.get("scopes") or {}
    if scopes:
        # monorepo: each folder with its own wrangler config is judged with its own settings
        doc["settings"]["scopes"] = {d: {"target": s.target, **s.to_json()} for d, s in sorted(scopes.items())}
    projects = result.extras.get("projects") or []
    if projects:
        doc["projects"] = [p.to_json() if hasattr(p, "to_json") else p for p in projects]
    for key in ("compatibility", "rewrite_scope", "effort", "cost"):
        if key in result.extras:
            doc[key] = result.extras[key]
    for key in ("diff", "baseline"):   # scan --diff-base / --baseline (analyzer/diffscan.py, baseline.py)
        if key in result.extras:
            doc[key] = result.extras[key]
    # the date the platform facts behind every verdict are as of (rules/kb/sources.yaml, platform_changes.yaml)
    doc["knowledge_base"] = kb_summary()
    doc["suppressed"] = result.extras.get("suppressed") or []
    doc["errors"] = [e.to_json() for e in result.errors]
    return doc


def render(result, **_: Any) -> str:
    return json.dumps(document(result), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
