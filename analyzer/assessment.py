"""Assessment: from findings to the contract's `compatibility`, `rewrite_scope`, `effort` and `cost` blocks.

Reads only the engine's `ScanResult` (files, findings, dependencies, settings). Every number is derived by a small,
documented model (README "How the assessment is computed"):

- compatibility: one row per category with non-info findings, plus a `compatible` row for each of the core four
  (filesystem, native-module, model-loading, long-running) without any. Status: `incompatible` with a blocker,
  `partial` with only warnings, else `compatible`. Impact: `critical` when a blocker needs a redesign (effort >= 5),
  `high` for other blockers, `medium` for warnings, `low` otherwise. The action is each rule's `plan.action` (rules/packs).
- rewrite_scope: see `rewrite_scope()`.
- effort: see `effort()`.
- cost: `analyzer/cost.py`, priced from `rules/kb/pricing.yaml`.

Hook: `ensure_assessment(result, workload)` (what the CLI and the formatters call) computes the blocks once and
keeps them on the result (`result.assessment`, result.py).
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from ..rules import Rule, rules_by_id
from .cost import estimate, resolve_workload
from .model import CATEGORIES, Finding
from .result import Assessment
from .engine import scan
from .schedules import Schedule, find_schedules

CORE_CATEGORIES = ("filesystem", "native-module", "model-loading", "long-running")

# ------------------------------------------------------------------------------------------------ data

SQLITE_PKGS = {"better-sqlite3", "sqlite3", "sqlite", "node:sqlite", "sql.js", "@databases/sqlite", "aiosqlite",
               "sqlite-utils", "apsw"}
POSTGRES_PKGS = {"pg", "postgres", "pg-promise", "pg-pool", "psycopg2", "psycopg2-binary", "psycopg", "psycopg-binary",
                 "asyncpg", "pg8000", "slonik"}
MYSQL_PKGS = {"mysql", "mysql2", "pymysql", "mysqlclient", "aiomysql", "mysql-connector-python"}
MONGO_PKGS = {"mongodb", "mongoose", "pymongo", "motor"}
REDIS_PKGS = {"redis", "ioredis", "aioredis", "bullmq", "bull", "rq", "celery"}

CATEGORY_ACTIONS: dict[str, str] = {
    "filesystem": "Move files to R2, KV or D1",
    "native-module": "Replace native packages (WASM/JS build, a binding, or a Container)",
    "model-loading": "Switch to Workers AI or run the model in a Container",
    "long-running": "Decompose into Cron Triggers, Queues or Workflows",
    "subprocess": "Use HTTP APIs (e.g. GitHub REST) or run the binary in a Container",
    "network": "Use Durable Objects for WebSockets; cloudflare:sockets for outbound TCP",
    "state": "Move shared state to Durable Objects or KV",
    "dynamic-code": "Remove eval / new Function from request handlers",
    "database": "Connect through Hyperdrive or move to D1",
    "runtime-api": "Replace APIs the runtime lacks",
    "config": "Use wrangler vars and secrets",
    "limits": "Stay within Worker limits",
}

# rewrite-scope model
REPEAT_FACTOR = 0.25           # the same rule again in the same file costs a quarter of its points
MANIFEST_POINTS = 1            # a manifest edit whose code change is counted elsewhere
HOURS_PER_POINT = (1.5, 3.0)   # low, high
SHARE_REWRITE = 0.5            # a file whose changed share exceeds this is rewritten
REDESIGN_EFFORT = 5            # effort from which a finding redesigns the code around it
MAX_PAD = 10


_NO_RULE = Rule(id="", category="", languages=(), severity={}, effort=1, message="", remediation="", docs=())


def _rule(f: Finding) -> Rule:
    """The rule a finding came from (what the plan, the table and the products read), or an empty one."""
    return rules_by_id().get(f.rule_id, _NO_RULE)


def active(findings: list[Finding]) -> list[Finding]:
    """Findings that drive the assessment: blockers and warnings (info is worth knowing, no action)."""
    return [f for f in findings if f.severity != "info"]


def _source_paths(result) -> dict[str, Any]:
    return {f.path: f for f in result.files}


def _dep_for(result, f: Finding):
    for d in result.dependencies:
        if d.manifest == f.path and d.line == f.line:
            return d
    return None


def _mentions(f: Finding, names: set[str]) -> str | None:
    text = f.snippet.lower()
    for n in sorted(names, key=len, reverse=True):
        if f"'{n}'" in text or f'"{n}"' in text or f"import {n}" in text or f"from {n}" in text \
                or text.startswith(n) or f" {n} " in f" {text} ":
            return n
    return None


# ------------------------------------------------------------------------------------------------ services

def databases(result) -> dict[str, list[str]]:
    """Database engines the code uses: 'sqlite' | 'postgres' | 'mysql' | 'mongodb' | 'redis' -> packages / reasons."""
    out: dict[str, list[str]] = defaultdict(list)
    for d in result.dependencies:
        if d.dev:
            continue
        n = d.name.lower()
        for kind, pkgs in (("sqlite", SQLITE_PKGS), ("postgres", POSTGRES_PKGS), ("mysql", MYSQL_PKGS),
                           ("mongodb", MONGO_PKGS), ("redis", REDIS_PKGS)):
            if n in pkgs and n not in out[kind]:
                out[kind].append(n)
    for f in active(result.findings):
        if "sqlite-file" in _rule(f).roles and "sqlite" not in out:
            out["sqlite"].append(f"{f.path}:{f.line}")
    return {k: v for k, v in out.items() if v}


CATEGORY_PRODUCTS: dict[str, tuple[str, ...]] = {"subprocess": ("container",), "network": ("do",)}


def services(result) -> dict[str, list[str]]:
    """Cloudflare products the findings imply, each with the findings (path:line) that call for it."""
    need: dict[str, list[str]] = defaultdict(list)
    dbs = databases(result)

    def add(product: str, f: Finding | None = None, why: str = "") -> None:
        need[product].append(why or (f"{f.rule_id} at {f.path}:{f.line}" if f else ""))

    for f in active(result.findings):
        rule = _rule(f)
        if rule.plan.products:
            for prod in rule.plan.products:
                if prod == "kv" and "kv-store" not in rule.roles:
                    add("kv", why="file metadata and small JSON values next to the objects in R2")
                elif prod == "r2" and "model-weights" in rule.roles:
                    add("r2", why=f"model weights ({f.path})")
                else:
                    add(prod, f)
            if "static-files" in rule.roles and "upload" in f.snippet.lower():
                add("r2", f)
        elif f.category == "native-module" and f.severity == "blocker":
            pkg = _native_package(result, f)
            if pkg and pkg.lower() in SQLITE_PKGS:
                add("d1", f)
            elif pkg and pkg.lower() in POSTGRES_PKGS | MYSQL_PKGS:
                add("hyperdrive", f)
            else:
                add("container", f)
        elif f.category in CATEGORY_PRODUCTS:
            for prod in CATEGORY_PRODUCTS[f.category]:
                add(prod, f)
    if "postgres" in dbs or "mysql" in dbs:
        need["hyperdrive"].extend(f"dependency {p}" for p in dbs.get("postgres", []) + dbs.get("mysql", []))
    if "sqlite" in dbs and "d1" not in need and any(
            f.category in ("native-module", "filesystem", "database") for f in active(result.findings)):
        need["d1"].extend(f"dependency {p}" for p in dbs["sqlite"])
    return {k: list(dict.fromkeys(v)) for k, v in need.items()}


def _native_package(result, f: Finding) -> str | None:
    d = _dep_for(result, f)
    if d is not None:
        return d.name
    names = {d.name for d in result.dependencies} | SQLITE_PKGS | POSTGRES_PKGS | MYSQL_PKGS
    return _mentions(f, {n.lower() for n in names})


# ------------------------------------------------------------------------------------------------ compatibility

def _action_for(result, f: Finding) -> str:
    if _rule(f).plan.action:
        return _rule(f).plan.action
    if f.category == "native-module":
        pkg = _native_package(result, f)
        if pkg and pkg.lower() in SQLITE_PKGS:
            return "Move SQLite to D1"
        if pkg and pkg.lower() in POSTGRES_PKGS:
            if f.path.endswith(".py") or f.path.endswith((".toml", ".txt", ".cfg", ".lock")):
                return "Reach Postgres through Hyperdrive (from a JS Worker) or move to D1"
            return "Connect to Postgres through Hyperdrive (pg >= 8.13) or move to D1"
        if pkg and pkg.lower() in MYSQL_PKGS:
            return f"Replace {pkg} with mysql2 through Hyperdrive"
        if pkg:
            return f"Replace {pkg} (WASM/JS build, a binding, or a Container)"
    d = _dep_for(result, f)
    if d is not None and d.replacement:
        short = d.replacement.split(";")[0].split(" (")[0].strip()
        return f"Swap {d.name} for {short}"
    return CATEGORY_ACTIONS.get(f.category, "Review")


def compatibility(result) -> list[dict[str, Any]]:
    by_cat: dict[str, list[Finding]] = defaultdict(list)
    for f in active(result.findings):
        by_cat[f.category].append(f)
    rows = []
    for cat in CATEGORIES:
        fs = by_cat.get(cat, [])
        if not fs:
            if cat in CORE_CATEGORIES:
                rows.append({"category": cat, "status": "compatible", "impact": "low", "action": "Keep as-is",
                             "findings": 0, "blockers": 0, "warnings": 0})
            continue
        blockers = [f for f in fs if f.severity == "blocker"]
        status = "incompatible" if blockers else "partial"
        if blockers and max(f.effort for f in blockers) >= REDESIGN_EFFORT:
            impact = "critical"
        elif blockers:
            impact = "high"
        else:
            impact = "medium"
        # blockers first, then the most effort, then file order: the headline is the biggest job
        ordered = sorted(fs, key=lambda f: (f.severity != "blocker", -f.effort, f.path, f.line))
        actions = list(dict.fromkeys(_action_for(result, f) for f in ordered))
        action = "; ".join(actions[:3]) + ("; ..." if len(actions) > 3 else "")
        rows.append({"category": cat, "status": status, "impact": impact, "action": action, "findings": len(fs),
                     "blockers": len(blockers), "warnings": len(fs) - len(blockers)})
    return rows


# ------------------------------------------------------------------------------------------------ rewrite scope

def _symbol_spans(facts) -> dict[str, tuple[int, int]]:
    """The part of each function we can see: the lines between its first and last call (every call counts,
    also those the extraction did not keep; the extractor records them in `FileFacts.spans`)."""
    return facts.spans


def _union(intervals: list[tuple[int, int]]) -> int:
    total = 0
    cur_lo = cur_hi = None
    for lo, hi in sorted(intervals):
        if cur_hi is None or lo > cur_hi + 1:
            if cur_hi is not None:
                total += cur_hi - cur_lo + 1
            cur_lo, cur_hi = lo, hi
        else:
            cur_hi = max(cur_hi, hi)
    if cur_hi is not None:
        total += cur_hi - cur_lo + 1
    return total


def rewrite_scope(result) -> dict[str, Any]:
    """Lines to change per file.

    Model: each blocker or warning in a runtime source file changes its statement (line..end_line) plus
    `min(effort, 10)` lines either side (the code that feeds it and uses its result). A finding that needs a
    redesign (effort >= 5) in a function changes the whole visible span of that function (first to last call).
    Overlaps count once. Lines to rewrite are the spans of redesign findings. A file is rewritten outright
    (`rewrite: true`, all its lines count as changed and rewritten) when more than half of it changes, or when it
    loads an ML model or starts a server the platform replaces. Manifests are not counted (see dependency changes).
    """
    files = _source_paths(result)
    per_file: dict[str, list[Finding]] = defaultdict(list)
    for f in active(result.findings):
        facts = files.get(f.path)
        if facts is None or facts.role != "runtime":
            continue
        per_file[f.path].append(f)
    runtime_lines = sum(f.lines for f in result.files if f.role == "runtime" and not f.error)
    rows = []
    tot_change = tot_rewrite = 0
    for path in sorted(per_file):
        facts = files[path]
        n = max(facts.lines, 1)
        spans = _symbol_spans(facts)
        change: list[tuple[int, int]] = []
        redo: list[tuple[int, int]] = []
        reasons: list[str] = []
        for f in per_file[path]:
            pad = min(f.effort, MAX_PAD)
            lo, hi = f.line - pad, max(f.end_line, f.line) + pad
            if f.effort >= REDESIGN_EFFORT and f.symbol and f.symbol in spans:
                s_lo, s_hi = spans[f.symbol]
                lo, hi = min(lo, s_lo), max(hi, s_hi)
            iv = (max(1, lo), min(n, hi))
            change.append(iv)
            if f.effort >= REDESIGN_EFFORT:
                redo.append(iv)
            if f.category == "model-loading":
                reasons.append("loads an ML model")
            if _rule(f).plan.rewrite:
                reasons.append("server entry point")
        changed = _union(change)
        rewritten = _union(redo)
        share = changed / n
        if share > SHARE_REWRITE:
            reasons.append(f"{share:.0%} of the file changes")
        rewrite = bool(reasons)
        if rewrite:
            changed = rewritten = n
        tot_change += changed
        tot_rewrite += rewritten
        row = {"path": path, "lines": facts.lines, "lines_to_change": changed, "lines_to_rewrite": rewritten,
               "percent": round(100 * changed / n), "rewrite": rewrite, "findings": len(per_file[path])}
        if rewrite:
            row["why"] = "; ".join(dict.fromkeys(reasons))
        rows.append(row)
    rows.sort(key=lambda r: (-r["percent"], -r["lines_to_change"], r["path"]))
    pct = (lambda x: round(100 * x / runtime_lines, 1) if runtime_lines else 0.0)
    return {
        "total_lines": runtime_lines,
        "all_source_lines": sum(f.lines for f in result.files),
        "lines_to_change": tot_change, "lines_to_rewrite": tot_rewrite,
        "percent_change": pct(tot_change), "percent_rewrite": pct(tot_rewrite),
        "files": rows,
        "model": ("runtime source files only; each blocker/warning changes its statement plus min(effort, 10) lines "
                  "either side; a redesign (effort >= 5) changes the visible span of its function; overlaps count "
                  "once; a file is rewritten when > 50% changes, or when it loads an ML model or is a server entry "
                  "point the platform replaces"),
    }


# ------------------------------------------------------------------------------------------------ effort

def effort(result) -> dict[str, Any]:
    """Story points (rule data: 1 trivial, 3 complex, 5 redesign, 7 re-architecture, 13 unknown).

    Each blocker/warning counts its rule's points; the same rule again in the same file counts 25%. A dependency
    finding in a manifest counts 1 point when code findings of its category are already counted (the package swap
    is part of that work), else its full points. Hours: 1.5 to 3 per point (an engineer who knows the code;
    testing and rollout are the plan's own phases)."""
    by_cat: dict[str, float] = defaultdict(float)
    by_file: dict[str, float] = defaultdict(float)
    for f, pts in finding_points(result):
        by_cat[f.category] += pts
        by_file[f.path] += pts
    total = sum(by_cat.values())
    points = int(round(total))
    return {
        "points": points,
        "hours_low": int(round(total * HOURS_PER_POINT[0])),
        "hours_high": int(round(total * HOURS_PER_POINT[1])),
        "by_category": {c: _r(by_cat[c]) for c in CATEGORIES if c in by_cat},
        "by_file": {p: _r(v) for p, v in sorted(by_file.items(), key=lambda kv: (-kv[1], kv[0]))},
        "assumptions": [
            "points per finding from the rule (1 trivial, 3 complex, 5 redesign, 7 re-architecture, 13 unknown)",
            f"the same rule again in the same file counts {REPEAT_FACTOR:.0%}",
            f"a manifest entry counts {MANIFEST_POINTS} point when the code using the package is already counted",
            f"{HOURS_PER_POINT[0]:g} to {HOURS_PER_POINT[1]:g} hours per point, for an engineer who knows the code",
            "info findings (tests, build scripts, guarded code) count nothing",
        ],
    }


def finding_points(result) -> list[tuple[Finding, float]]:
    """The points each active finding contributes (same model as `effort`)."""
    files = _source_paths(result)
    code_cats = {f.category for f in active(result.findings) if f.path in files}
    seen: set[tuple[str, str]] = set()
    out = []
    for f in active(result.findings):
        if f.path not in files:   # a manifest entry
            pts = float(MANIFEST_POINTS) if f.category in code_cats else float(f.effort)
        elif (f.rule_id, f.path) in seen:
            pts = f.effort * REPEAT_FACTOR
        else:
            pts = float(f.effort)
        seen.add((f.rule_id, f.path))
        out.append((f, pts))
    return out


def _r(x: float) -> float | int:
    x = round(x, 2)
    return int(x) if float(x).is_integer() else x


# ------------------------------------------------------------------------------------------------ entry points

def schedules(result) -> list[Schedule]:
    if result.schedules is None:
        result.schedules = find_schedules(result.files, result.dependencies)
    return result.schedules


def cost(result, workload: dict[str, Any] | None = None) -> dict[str, Any]:
    needs = set(services(result))
    cron_runs = round(sum(s.runs_per_month or 0 for s in schedules(result) if s.cron and s.active))
    return estimate(needs, workload, cron_runs)


def assess(result, workload: dict[str, Any] | None = None) -> Assessment:
    """The contract blocks for a scan result. Pure: reads the result, returns them."""
    if workload is None and result.assessment is not None:
        workload = result.assessment.workload
    return Assessment(compatibility=compatibility(result), rewrite_scope=rewrite_scope(result),
                      effort=effort(result), cost=cost(result, workload),
                      workload=dict(workload) if workload is not None else None)


def ensure_assessment(result, workload: dict[str, Any] | None = None) -> dict[str, Any]:
    """Compute the blocks once and keep them on the result (recomputed when a different workload is given).
    Formatters call this, so no engine change is needed for them to have the blocks."""
    if result.assessment is None or (workload is not None and result.assessment.workload != workload):
        result.assessment = assess(result, workload)
    return result.assessment.blocks()


def scan_and_assess(path: str | Path, options=None, workload: dict[str, Any] | None = None):
    """Scan PATH and attach the assessment (for tests and library use)."""
    result = scan(Path(path), options)
    ensure_assessment(result, workload or {})
    return result


def resolved_workload(result) -> dict[str, Any]:
    return resolve_workload(result.assessment.workload if result.assessment is not None else None)
