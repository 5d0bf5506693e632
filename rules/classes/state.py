"""In-memory state: module-level containers written from request code (sessions, job registries, counters)
are per isolate on Workers; caches are fine as caches."""
from __future__ import annotations

import re
from typing import Any

from ..model import Hit, RuleContext
from ...analyzer.parsing.facts import FileFacts, StateVar

CACHE_NAME = re.compile(r"(?i)(cache|memo|lru|ttl)")
ROLE_HINTS = [
    (re.compile(r"(?i)session"), "sessions"),
    (re.compile(r"(?i)(job|task|queue|work)"), "a job registry"),
    (re.compile(r"(?i)(user|client|conn|socket|room|lobby|game|player|peer|subscri)"), "connected clients or rooms"),
    (re.compile(r"(?i)(count|hits|total|requests|rate|limit|quota)"), "a counter or rate limit"),
]

# No class here looks at calls: both read FileFacts.state only.
CALLS: tuple[str, ...] = ()


def _is_cache(sv: StateVar) -> bool:
    return sv.kind == "cache" or bool(CACHE_NAME.search(sv.name))


def _lines(ws: list[int]) -> str:
    ws = sorted(ws)
    shown = ", ".join(str(x) for x in ws[:5])
    return shown + (f" and {len(ws) - 5} more" if len(ws) > 5 else "")


class ModuleState:
    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        for sv in facts.state:
            if not sv.writes or _is_cache(sv):
                continue
            if sv.owner and not sv.lifetime:
                continue      # a field of instances made per request (or not known to live for the process)
            if sv.lifetime.startswith("startup-only"):
                continue      # filled while the module loads, only read afterwards: the same data in every isolate
            role = next((label for rx, label in ROLE_HINTS if rx.search(sv.name)), "shared state")
            what = {"counter": "counter", "map": "Map", "set": "Set", "object": "object", "array": "array",
                    "dict": "dict", "list": "list"}.get(sv.kind, sv.kind)
            if sv.owner:
                msg = (f"{what.capitalize()} `{sv.name}` lives for the process: {sv.lifetime}; it is written by its "
                       f"methods (line {_lines(sv.writes)}) and used as {role}. On Workers each isolate has its own "
                       "copy, isolates run in parallel and are evicted at any time, so the data is neither shared "
                       "between requests nor kept.")
            else:
                msg = (f"Module-level {what} `{sv.name}` is written from functions (line {_lines(sv.writes)}) and "
                       f"used as {role}; each Worker isolate has its own copy, isolates run in parallel and are "
                       "evicted at any time, so the data is neither shared between requests nor kept.")
            hits.append(Hit(sv.line, sv.column, sv.line, sv.snippet, message=msg))
        return hits


class ModuleCache:
    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        for sv in facts.state:
            if not _is_cache(sv) or (sv.owner and not sv.lifetime):
                continue
            msg = (f"Module-level cache `{sv.name}`: on Workers it is a per-isolate cache (each isolate starts empty "
                   "and may be evicted), which is fine for a cache but gives a lower hit rate than one process.")
            hits.append(Hit(sv.line, sv.column, sv.line, sv.snippet, message=msg))
        return hits
