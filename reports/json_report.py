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
    if result.context_mode:
        doc["settings"]["context"] = {"mode": result.context_mode, "entry_points": result.entries or {}}
    scopes = result.scopes
    if scopes:
        # monorepo: each folder with its own wrangler config is judged with its own settings
        doc["settings"]["scopes"] = {d: {"target": s.target, **s.to_json()} for d, s in sorted(scopes.items())}
    if result.frameworks:       # frameworks as data (rules/kb/frameworks.yaml): what each project is built with
        doc["frameworks"] = [fw.to_json() for fw in result.frameworks]
    projects = result.projects
    if projects:
        doc["projects"] = [p.to_json() if hasattr(p, "to_json") else p for p in projects]
    if result.assessment is not None:
        doc.update(result.assessment.blocks())
    if result.diff is not None:         # scan --diff-base (analyzer/diffscan.py)
        doc["diff"] = result.diff
    if result.baseline is not None:     # scan --baseline (analyzer/baseline.py)
        doc["baseline"] = result.baseline
    # the date the platform facts behind every verdict are as of (rules/kb/sources.yaml, platform_changes.yaml)
    doc["knowledge_base"] = kb_summary()
    doc["suppressed"] = result.suppressed
    doc["errors"] = [e.to_json() for e in result.errors]
    return doc


def render(result, **_: Any) -> str:
    return json.dumps(document(result), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
