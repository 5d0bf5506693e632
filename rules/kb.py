"""The knowledge base (rules/kb): dated platform facts, package lists, prices. Every reader goes through
`load_kb` (one parse per file per process)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's C loader: ~10x faster than the pure-Python one on the rule packs and knowledge base
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

KB_DIR = Path(__file__).resolve().parent / "kb"


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader


@lru_cache(maxsize=None)
def load_kb(name: str) -> Any:
    """A knowledge-base file under rules/kb by name ('native_npm.yaml', 'pyodide/index.json', ...)."""
    p = KB_DIR / name
    text = p.read_text(encoding="utf-8")
    return json.loads(text) if p.suffix == ".json" else load_yaml(text)


def kb_as_of() -> str:
    """The date the knowledge base as a whole is as of (sources.yaml `as_of`): stated in every report."""
    return str(load_kb("sources.yaml").get("as_of") or load_kb("sources.yaml").get("researched"))


def kb_summary() -> dict[str, Any]:
    """What every report states about the knowledge base: its date, the runtime it was checked against, the
    Pyodide versions it knows, and how many dated platform changes it records."""
    nm = load_kb("node_modules.yaml")
    pyo = load_kb("pyodide/index.json")
    versions = [r["pyodide"] for r in pyo.get("ranges") or [] if r.get("pyodide")]
    return {"as_of": kb_as_of(), "runtime": nm.get("runtime"),
            "pyodide": versions, "platform_changes": len(load_kb("platform_changes.yaml").get("changes") or [])}
