"""Baselines: `cfcompat baseline PATH -o FILE` records today's findings; `scan --baseline FILE` hides them.

File format (JSON, sorted, no timestamps, so it diffs cleanly in review):

    {"schema": "cfcompat-baseline/1", "tool_version": "0.1.0", "created_from": {"commit": "<sha>"},
     "findings": [{"fingerprint": "...", "rule_id": "...", "path": "...", "snippet_hash": "...", "symbol": "..."}]}

Matching, each baseline entry hiding at most one finding:
1. by fingerprint (rule, path, normalised snippet, enclosing symbol, occurrence index: survives line shifts);
2. then, for what is left, by rule_id + path + snippet_hash (sha256 of the snippet with whitespace runs
   collapsed), so renaming the enclosing function or reordering identical calls still matches.
Entries that hide nothing are counted as `stale` (the finding was fixed since the baseline was written).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import inputs
from .diffscan import norm_snippet, recount

MAX_BASELINE_BYTES = 256 * 1024 * 1024
from .model import Finding

SCHEMA = "cfcompat-baseline/1"
ENTRY_KEYS = ("fingerprint", "rule_id", "path", "snippet_hash", "symbol")


class BaselineError(Exception):
    """A baseline file that cannot be used: one line naming the file and the problem."""


def snippet_hash(snippet: str) -> str:
    return hashlib.sha256(norm_snippet(snippet).encode("utf-8")).hexdigest()[:20]


def entry(f: Finding) -> dict[str, str]:
    return {"fingerprint": f.fingerprint, "rule_id": f.rule_id, "path": f.path,
            "snippet_hash": snippet_hash(f.snippet), "symbol": f.symbol or ""}


def document(findings: list[Finding], commit: str | None, version: str) -> dict[str, Any]:
    entries = sorted((entry(f) for f in findings),
                     key=lambda e: (e["path"], e["rule_id"], e["snippet_hash"], e["symbol"], e["fingerprint"]))
    created: dict[str, Any] = {}
    if commit:
        created["commit"] = commit
    return {"schema": SCHEMA, "tool_version": version, "created_from": created, "findings": entries}


def write(path: Path, findings: list[Finding], commit: str | None, version: str) -> int:
    doc = document(findings, commit, version)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write baseline ({exc.strerror or exc})") from None
    return len(doc["findings"])


@dataclass
class Baseline:
    source: str
    entries: list[dict[str, str]] = field(default_factory=list)


def load(path: Path) -> Baseline:
    name = str(path)
    where = inputs.kind(None, str(path))
    if where in ("absent", "broken"):
        raise BaselineError(f"{name}: no such baseline file (write one with `cfcompat baseline PATH -o {name}`)")
    if where != "file":
        raise BaselineError(f"{name}: not a file")
    try:
        text = inputs.read_text(None, os.path.abspath(path), limit=MAX_BASELINE_BYTES)
    except UnicodeDecodeError:
        raise BaselineError(f"{name}: not a baseline (not UTF-8 text)") from None
    except inputs.InputError as exc:
        raise BaselineError(f"{name}: cannot read baseline ({exc.detail or exc.message})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(doc, dict):
        raise BaselineError(f"{name}: not a baseline (expected a JSON object with \"schema\": \"{SCHEMA}\")")
    schema = doc.get("schema")
    if schema != SCHEMA:
        got = "no \"schema\" key" if schema is None else f"schema {schema!r}"
        raise BaselineError(f"{name}: not a cfcompat baseline ({got}; expected {SCHEMA!r})")
    items = doc.get("findings")
    if not isinstance(items, list):
        raise BaselineError(f"{name}: \"findings\" must be a list")
    entries = []
    for i, e in enumerate(items, 1):
        if not isinstance(e, dict):
            raise BaselineError(f"{name}: findings entry {i} must be an object")
        for k in ENTRY_KEYS:
            if k == "symbol" and k not in e:
                continue
            if k not in e:
                raise BaselineError(f"{name}: findings entry {i} has no {k!r}")
            if not isinstance(e[k], str):
                raise BaselineError(f"{name}: findings entry {i}: {k!r} must be a string")
        if "symbol" in e and not isinstance(e["symbol"], str):
            raise BaselineError(f"{name}: findings entry {i}: 'symbol' must be a string")
        entries.append({k: e.get(k, "") for k in ENTRY_KEYS})
    return Baseline(source=name, entries=entries)


def split(findings: list[Finding], baseline: Baseline) -> tuple[list[Finding], list[Finding], int]:
    """(kept, hidden, stale entries)."""
    by_fp: dict[str, list[int]] = {}
    by_key: dict[tuple[str, str, str], list[int]] = {}
    for i, e in enumerate(baseline.entries):
        by_fp.setdefault(e["fingerprint"], []).append(i)
        by_key.setdefault((e["rule_id"], e["path"], e["snippet_hash"]), []).append(i)
    used: set[int] = set()
    hidden_ids: set[int] = set()
    for f in findings:
        free = [i for i in by_fp.get(f.fingerprint, ()) if i not in used]
        if free:
            used.add(free[0])
            hidden_ids.add(id(f))
    for f in findings:
        if id(f) in hidden_ids:
            continue
        free = [i for i in by_key.get((f.rule_id, f.path, snippet_hash(f.snippet)), ()) if i not in used]
        if free:
            used.add(free[0])
            hidden_ids.add(id(f))
    kept = [f for f in findings if id(f) not in hidden_ids]
    hidden = [f for f in findings if id(f) in hidden_ids]
    return kept, hidden, len(baseline.entries) - len(used)


def apply(result, baseline: Baseline) -> None:
    kept, hidden, stale = split(result.findings, baseline)
    result.findings = kept
    result.baseline_hidden = hidden
    recount(result)
    result.summary["baseline_hidden"] = len(hidden)
    result.baseline = {"file": baseline.source, "entries": len(baseline.entries),
                                 "hidden": len(hidden), "stale": stale}
    diff = result.diff
    if isinstance(diff, dict):
        keep = {f.fingerprint for f in kept}
        diff["new"] = [d for d in diff.get("new", []) if d.get("fingerprint") in keep]
        counts = {s: 0 for s in ("blocker", "warning", "info")}
        for d in diff["new"]:
            counts[d["severity"]] = counts.get(d["severity"], 0) + 1
        diff.setdefault("counts", {})["new"] = counts
