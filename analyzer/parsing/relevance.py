"""Which calls the extractors keep.

Most calls in real code (`console.log`, `len`, `this.render()`, `ts.createNode(...)`) can never matter to a
rule, and building their argument trees was most of the scan's time and memory. So a scan extracts only:

- calls whose qualified name matches a name something looks at: the engine passes the patterns in (the rule
  packs' `calls`, each rule class module's `CALLS`, and `CONSUMER_CALLS` below, the engine's other readers of
  calls); parsing never reads the rules itself;
- calls that the cross-module pass may still rename (`link_modules`: a name imported from a local module, or
  from a package a workspace or tsconfig path could map to a local file). Only their names are kept
  (`FileFacts.linkable`, a set: no place, no arguments, no Call objects to build and ship between processes);
  when linking turns one into a name that matters, the engine extracts that file again with everything kept
  (`Keep(None)`).

A call whose arguments mention the environment (`process`, `environ`, or a local alias of them) is kept
whatever its name: the env-var rule looks inside every call's arguments.

Every call, kept or not, still counts towards its function's visible span (`FileFacts.spans`, used by the
rewrite-scope estimate) and still records writes to module state. `tests/test_relevance.py` scans every
fixture and evaluation app both ways and requires byte-identical reports.
"""
from __future__ import annotations

import fnmatch
import hashlib
import re
from functools import lru_cache

from ..languages import NODE_BUILTINS, PY_STDLIB as _PY_STDLIB

# Readers of calls outside the rule packs and rule classes (tests/test_relevance.py checks these sets against
# the constants in those modules).
CONSUMER_CALLS: tuple[str, ...] = (
    # graph.find_entries: app constructors and the Workers http handler mark entry points
    "fastapi.FastAPI", "flask.Flask", "starlette.applications.Starlette", "quart.Quart", "sanic.Sanic",
    "aiohttp.web.Application", "django.core.asgi.get_asgi_application", "django.core.wsgi.get_wsgi_application",
    "litestar.Litestar", "falcon.App", "falcon.asgi.App", "cloudflare:node.httpServerHandler*",
    "cloudflare:node.handleAsNodeRequest*",
    # schedules.find_schedules (the plan's cron triggers and cost): schedulers, their jobs, timers
    "*apscheduler.schedulers.*Scheduler", "*apscheduler*.add_job", "*apscheduler*.scheduled_job",
    "node-cron.schedule", "node-cron.default.schedule", "cron.CronJob", "cron.job", "cron.CronJob.from",
    "croner.Cron", "croner", "croner.default", "node-schedule.scheduleJob", "node-schedule.default.scheduleJob",
    "*@nestjs/schedule.Cron", "setInterval", "timers.setInterval",
    # lifetime.process_wide_instances: framework singletons (one instance per application)
    "@nestjs/common.Injectable", "@nestjs/common.Controller", "@nestjs/bull.Processor", "@nestjs/bullmq.Processor",
    "@nestjs/websockets.WebSocketGateway", "@nestjs/graphql.Resolver", "@nestjs/microservices.Controller",
    # (fix.runner's FastAPI / Starlette apps and node-cron jobs are among the names above)
)

PY_STDLIB = _PY_STDLIB


@lru_cache(maxsize=16)
def fingerprint(patterns: tuple[str, ...] | None) -> str:
    """What the facts-cache key says of the kept-call patterns (memoised: asked once per file)."""
    if patterns is None:
        return "all"
    return hashlib.sha256("\0".join(patterns).encode()).hexdigest()[:16]


class Keep:
    """`Keep(patterns)(qname)`: does the call matter? `Keep(None)` keeps everything. A pattern `=NAME` is that
    exact name, glob characters and all (`x[]`): the engine adds such names when linking makes them matter."""

    def __init__(self, patterns: tuple[str, ...] | None):
        self.all = patterns is None or "*" in patterns
        exact: set[str] = set()
        prefixes: list[str] = []
        suffixes: list[str] = []
        infixes: list[str] = []
        complex_: list[str] = []
        for p in patterns or ():
            if p.startswith("="):
                exact.add(p[1:])
                continue
            body = p.strip("*")
            if not any(ch in body for ch in "*?["):
                if p == body:
                    exact.add(p)
                    continue
                if p == body + "*" and body:
                    prefixes.append(body)
                    continue
                if p == "*" + body and body:
                    suffixes.append(body)
                    continue
                if p == "*" + body + "*" and body:
                    infixes.append(body)
                    continue
            complex_.append(p)
        self.exact = frozenset(exact)
        self.prefixes = tuple(sorted(prefixes))
        self.suffixes = tuple(sorted(suffixes))
        self.infixes = tuple(sorted(infixes))
        # the rest go into one regex, compiled on first need, and tried only when a name starts with one of
        # their literal heads or ends with one of their literal tails (a necessary condition): most scans of
        # small repositories never compile it
        self.complex = tuple(complex_)
        self._regex: re.Pattern[str] | None = None
        heads, tails = [], []
        self.c_any = False
        for p in complex_:
            cut = [i for i, ch in enumerate(p) if ch in "*?["]
            head, tail = p[:cut[0]], p[max((i for i, ch in enumerate(p) if ch in "*?]"), default=-1) + 1:]
            if head:
                heads.append(head)
            elif tail:
                tails.append(tail)
            else:
                self.c_any = True
        self.c_heads = tuple(sorted(heads))
        self.c_tails = tuple(sorted(tails))
        self.seen: dict[str, bool] = {}

    def _complex(self, q: str) -> bool:
        if not self.complex or not (self.c_any or q.startswith(self.c_heads) or q.endswith(self.c_tails)):
            return False
        if self._regex is None:
            self._regex = re.compile("|".join(f"(?:{glob_regex(p)})" for p in self.complex), re.S)
        return self._regex.match(q) is not None

    def __call__(self, q: str) -> bool:
        if self.all:
            return True
        v = self.seen.get(q)
        if v is None:
            v = q in self.exact or q.startswith(self.prefixes) or q.endswith(self.suffixes) or \
                any(s in q for s in self.infixes) or self._complex(q)
            if len(self.seen) < 200_000:
                self.seen[q] = v
        return v


def glob_regex(p: str) -> str:
    """fnmatch's meaning as a plain regex (`*` any run, `?` one character): fnmatch.translate's atomic groups
    make a union of a few hundred patterns slow to compile. Patterns with `[` classes go through fnmatch."""
    if "[" in p:
        return fnmatch.translate(p)
    return "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in p) + r"\Z"


@lru_cache(maxsize=4)
def keeper(patterns: tuple[str, ...] | None) -> Keep:
    return Keep(patterns)


def node_builtins() -> frozenset[str]:
    """Node.js built-in module names (a call through one of them is never renamed by linking)."""
    return NODE_BUILTINS
