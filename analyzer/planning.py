"""The migration plan as data: what the markdown and HTML reports render.

Everything here is derived from the scan result and its assessment: blocking issues from blockers, key decisions
from the categories and products that appear, phases from the findings (with their points), dependency changes
from the manifests, before/after code from the rules' examples, and a starter wrangler.jsonc with the bindings and
Cron Triggers the findings imply.
"""
from __future__ import annotations

import json
import posixpath
import re
from collections import defaultdict
from typing import Any

from . import __version__
from .assessment import (active, databases, ensure_assessment, finding_points, schedules, services)
from .cost import format_usd
from .model import CATEGORIES, Finding
from ..rules import rules_by_id, rules_with_role


def _phase_of(rule_id: str) -> str:
    r = rules_by_id().get(rule_id)
    return r.plan.phase if r else ""


def _phase(f: Finding) -> str:
    return _phase_of(f.rule_id)


def _rule_roles(f: Finding) -> tuple[str, ...]:
    r = rules_by_id().get(f.rule_id)
    return r.roles if r else ()

# versions the knowledge base was checked against (shared/reference/cloudflare-facts.md: WRANGLER, PY-PKG)
WRANGLER_VERSION = "4.164.0"
WORKERS_PY_VERSION = "1.17.9"

PHASES = ("infrastructure", "core services", "jobs", "testing", "rollout")
TESTING_SHARE = 0.2
ROLLOUT_SHARE = 0.1
ROLLOUT_BASE = 2

PRODUCT_NAMES = {
    "d1": "D1 database", "r2": "R2 bucket", "kv": "KV namespace", "do": "Durable Object class",
    "queues": "Queue", "cron": "Cron Triggers", "ai": "Workers AI binding", "assets": "Static Assets directory",
    "logs": "Workers Logs (observability)", "hyperdrive": "Hyperdrive configuration", "container": "Container image",
    "browser": "Browser Rendering binding", "images": "Images binding",
}
PRODUCT_SETUP = {
    "d1": "create the D1 database (`wrangler d1 create {name}`), export the schema and data from SQLite and load "
          "them (`wrangler d1 execute {name} --remote --file schema.sql`)",
    "r2": "create the R2 bucket (`wrangler r2 bucket create {name}-files`) and copy the existing files into it",
    "kv": "create the KV namespace (`wrangler kv namespace create KV`)",
    "do": "declare the Durable Object class and its migration (new_sqlite_classes)",
    "queues": "create the queue (`wrangler queues create {name}-jobs`) and its dead-letter queue",
    "cron": "add the Cron Triggers to wrangler.jsonc (`triggers.crons`)",
    "ai": "add the Workers AI binding and pick the catalog model for each local model",
    "assets": "point Static Assets at the folder the server serves today",
    "logs": "turn on Workers Logs (`observability.enabled`) and decide where logs go after 7 days",
    "hyperdrive": "create the Hyperdrive configuration for the existing database (`wrangler hyperdrive create "
                  "{name}-db --connection-string=...`) and allow Cloudflare to reach it",
    "container": "write the Dockerfile (linux/amd64) for the parts that stay in a container",
    "browser": "add the Browser Rendering binding",
    "images": "add the Images binding",
}

# ------------------------------------------------------------------------------------------------ helpers


def _lang_of(path: str) -> str:
    if path.endswith(".py"):
        return "python"
    if path.endswith((".ts", ".tsx", ".mts", ".cts")):
        return "typescript"
    if path.endswith((".json",)):
        return "json"
    if path.endswith((".toml",)):
        return "toml"
    if path.endswith((".js", ".jsx", ".mjs", ".cjs")):
        return "javascript"
    return ""


def project_name(result) -> str:
    for p in result.projects:
        name = getattr(p, "name", None) or (p.get("name") if isinstance(p, dict) else None)
        if name:
            break
    else:
        name = result.root.name
    name = re.sub(r"[^a-z0-9-]+", "-", str(name).lower().split("/")[-1]).strip("-")
    return name[:54] or "app"


def is_python(result) -> bool:
    langs = result.summary.get("languages", {})
    py = langs.get("python", 0)
    return py > 0 and py >= sum(v for k, v in langs.items() if k != "python")


def _first_sentence(text: str) -> str:
    m = re.match(r"(.+?[.;])(\s|$)", text.strip(), re.S)
    return (m.group(1) if m else text).strip()


# ------------------------------------------------------------------------------------------------ issues

def issue_groups(result, severity: str) -> list[dict[str, Any]]:
    """Findings of one severity grouped by rule: the problem, where, the fix."""
    rules = rules_by_id()
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in result.findings:
        if f.severity == severity:
            groups[f.rule_id].append(f)
    out = []
    for rid, fs in groups.items():
        r = rules.get(rid)
        out.append({
            "rule_id": rid, "title": (r.title if r and r.title else rid), "category": fs[0].category,
            "problem": fs[0].message if len({f.message for f in fs}) == 1 else (r.message if r else fs[0].message),
            "why": r.why if r else "", "solution": fs[0].remediation, "docs": fs[0].docs[:2],
            "effort": fs[0].effort,
            "locations": [{"path": f.path, "line": f.line, "snippet": f.snippet.strip(), "lang": _lang_of(f.path)}
                          for f in fs],
        })
    out.sort(key=lambda g: (-g["effort"], CATEGORIES.index(g["category"]) if g["category"] in CATEGORIES else 99,
                            g["rule_id"]))
    return out


# ------------------------------------------------------------------------------------------------ dependencies

def dependency_changes(result, needs: set[str]) -> dict[str, list[dict[str, str]]]:
    remove, swap, add = [], [], []
    py = is_python(result)
    for d in result.dependencies:
        if d.kind != "direct":
            continue
        entry = {"name": d.name, "version": d.version or "", "manifest": d.manifest, "line": str(d.line),
                 "dev": "dev" if d.dev else "", "reason": d.reason or "", "replacement": d.replacement or ""}
        if d.verdict == "incompatible":
            remove.append(entry)
        elif d.verdict == "replace":
            swap.append(entry)
    names = {d.name for d in result.dependencies}
    if py:
        add.append({"name": "workers-py (pywrangler)", "version": f">={WORKERS_PY_VERSION}", "dev": "dev",
                    "reason": "builds, vendors dependencies and deploys Python Workers (`uv run pywrangler deploy`); "
                              "uses wrangler underneath"})
    else:
        add.append({"name": "wrangler", "version": f"^{WRANGLER_VERSION}", "dev": "dev",
                    "reason": "develop, test and deploy the Worker; version the knowledge base was checked against"})
        if any(p.endswith((".ts", ".tsx")) for p in (f.path for f in result.files)):
            add.append({"name": "@cloudflare/workers-types", "version": "latest", "dev": "dev",
                        "reason": "types for env bindings (or `wrangler types`)"})
        if "hyperdrive" in needs and "pg" not in names and "postgres" not in names:
            dbs = databases(result)
            if "postgres" in dbs:
                add.append({"name": "pg", "version": ">=8.13.0", "dev": "",
                            "reason": "Postgres driver Hyperdrive supports (>= 8.13.0)"})
            if "mysql" in dbs:
                add.append({"name": "mysql2", "version": "latest", "dev": "",
                            "reason": "MySQL driver Hyperdrive supports"})
        if "container" in needs or result.settings.target == "containers":
            add.append({"name": "@cloudflare/containers", "version": "latest", "dev": "",
                        "reason": "the Container class (a Durable Object that starts and proxies to the container)"})
        if "browser" in needs:
            add.append({"name": "@cloudflare/puppeteer", "version": "latest", "dev": "",
                        "reason": "Puppeteer over the Browser Rendering binding"})
    return {"remove": remove, "swap": swap, "add": add}


# ------------------------------------------------------------------------------------------------ decisions

def _opt(name: str, good: str, bad: str) -> dict[str, str]:
    return {"name": name, "pros": good, "cons": bad}


def main_framework(result):
    """The framework the plan is built around: the one with a Cloudflare deployment path (full-stack first, then
    web, then the rest), in the repository root's project when there is one."""
    order = {"fullstack": 0, "web": 1, "realtime": 2, "bot": 3, "jobs": 4, "workers": 5}
    fws = sorted(result.frameworks, key=lambda fw: (fw.root != "", order.get(fw.kind, 9), fw.id))
    return fws[0] if fws else None


def key_decisions(result, needs: set[str]) -> list[dict[str, Any]]:
    return _decisions(result, needs) + framework_decisions(result)


def framework_decisions(result) -> list[dict[str, Any]]:
    """One decision per framework with a Cloudflare path (frameworks.yaml): that path, or a Container."""
    dec: list[dict[str, Any]] = []
    for fw in result.frameworks:
        cf = fw.profile.get("cloudflare") or {}
        if fw.kind == "workers" or not cf.get("path"):
            continue
        opts = [_opt(cf["path"], cf.get("notes") or "the supported way to run it on Cloudflare",
                     "see the framework guide: " + cf.get("docs", ""))]
        if fw.kind in ("web", "fullstack", "bot", "realtime"):
            opts.append(_opt("Container", "the app runs as it is today (a Node or Python process)",
                             "container pricing and cold starts; state and files still need Durable Objects, KV or R2"))
        dec.append({"topic": f"{fw.name} ({fw.root or 'repository root'})",
                    "question": f"How does the {fw.name} app run on Cloudflare?",
                    "evidence": f"{fw.name} in the dependencies of {fw.root or 'the root project'}",
                    "options": opts, "recommendation": cf["path"]})
    return dec


def _decisions(result, needs: set[str]) -> list[dict[str, Any]]:
    dec: list[dict[str, Any]] = []
    dbs = databases(result)
    py = is_python(result)
    found = {f.rule_id for f in active(result.findings)}
    cats = {f.category for f in active(result.findings)}
    if "d1" in needs or dbs.keys() & {"sqlite", "postgres", "mysql"}:
        evidence = ", ".join(f"{k} ({', '.join(v)})" for k, v in dbs.items() if k in ("sqlite", "postgres", "mysql"))
        options = [
            _opt("D1", "managed SQLite over a binding; SQLite SQL carries over; 10 GB per database on Paid, "
                       "50,000 databases; reads and writes priced per row",
                 "asynchronous API (every better-sqlite3/sqlite3 call becomes `await env.DB.prepare(...)`); "
                 "30 s per query; a database is one primary"),
            _opt("Postgres / MySQL through Hyperdrive", "keeps the existing server and data; pooled connections "
                 "over TCP `connect()`; Hyperdrive queries unlimited on Paid",
                 "the database server stays to run and pay for; latency to its region; drivers pg >= 8.13.0, "
                 "postgres >= 3.4.4, mysql2 (JavaScript)" + ("; a Python Worker reaches it through a JavaScript "
                                                             "Worker over a service binding" if py else "")),
            _opt("SQLite in a Durable Object", "synchronous `ctx.storage.sql`, strongly consistent, 10 GB per "
                 "object, storage next to the code", "data must be split by object (per tenant, per document); "
                 "cross-object queries need fan-out"),
        ]
        if "postgres" in dbs or "mysql" in dbs:
            rec = ("Hyperdrive: the data stays where it is and the driver change is small" if not py else
                   "Hyperdrive through a small JavaScript Worker if the database must stay; D1 if the tables are "
                   "small enough to move (no Python Postgres driver runs on Python Workers)")
        else:
            rec = "D1: the schema is SQLite already, so the SQL carries over and only the calls become async"
        dec.append({"topic": "Database", "question": "Where does the relational data live?", "evidence": evidence,
                    "options": options, "recommendation": rec})
    if "ai" in needs:
        where = ", ".join(sorted({f"{f.path}:{f.line}" for f in active(result.findings)
                                  if f.category == "model-loading"}))
        dec.append({"topic": "Inference", "question": "Where does the model run?", "evidence": where, "options": [
            _opt("Workers AI", "a binding (`env.AI.run(model, input)`), no weights to ship, priced per Neuron "
                 "($0.011 per 1,000 after 10,000 a day)", "only models in the catalog; outputs may differ from "
                 "today's model; re-check quality"),
            _opt("External inference API", "any model; no change to model quality", "an API key and a vendor bill; "
                 "latency of a second network hop"),
            _opt("Container", "the same library and weights as today", "CPU only (no GPU instance types); cold "
                 "starts of 1-3 s; memory and disk billed while running"),
        ], "recommendation": "Workers AI if a catalog model does the job (test on real inputs); otherwise a "
                             "Container behind a Durable Object"})
    if "cron" in needs or "queues" in needs:
        found_jobs = sorted(r for r in found if _phase_of(r) == "jobs")
        dec.append({"topic": "Background jobs", "question": "How do scheduled and background jobs run?",
                    "evidence": ", ".join(found_jobs), "options": [
            _opt("Cron Triggers", "fixed schedules in wrangler.jsonc; each run is a Worker invocation",
                 "CPU up to 30 s when the interval is under an hour, 15 min at an hour or more; UTC only; one "
                 "schedule string per trigger"),
            _opt("Queues", "retries, batching, dead-letter queues; consumers get 15 min wall time",
                 "about 3 operations per message; at-least-once delivery (make handlers idempotent)"),
            _opt("Workflows", "durable multi-step jobs with retries per step and no wall-clock limit per step",
                 "steps and state are billed; more code structure"),
            _opt("Durable Object alarms", "per-entity timers (one per object), 15 min wall time",
                 "one alarm per object at a time"),
        ], "recommendation": ("Cron Triggers for the schedules found; when a run can exceed its CPU budget, let "
                              "the cron enqueue work to a Queue" + ("; the background thread/outbox becomes a "
                                                                     "Queue consumer" if "queues" in needs else ""))})
    if "r2" in needs:
        dec.append({"topic": "File storage", "question": "Where do files that must persist go?",
                    "evidence": f"{len([f for f in active(result.findings) if f.category == 'filesystem'])} "
                                "filesystem findings",
                    "options": [
            _opt("R2", "objects of any size, no egress fees, S3 API or binding", "no directory listing semantics "
                 "beyond prefixes; eventual overwrite semantics per key"),
            _opt("KV", "fast global reads of small values (up to 25 MiB)", "1 write per second per key; "
                 "eventually consistent"),
            _opt("D1 rows", "transactional metadata next to the data", "not for blobs"),
        ], "recommendation": "R2 for file contents, KV (or D1) for the small index/metadata the code keeps next "
                             "to them"})
    entry_rules = rules_with_role("http-entry")
    servers = {r.id for r in entry_rules} & {f.rule_id for f in result.findings}
    if servers:
        evidence = ", ".join(sorted(r.id for r in entry_rules if ("python" in r.languages) == py))
        if py:
            dec.append({"topic": "HTTP entry point", "question": "How do requests reach the app?",
                        "evidence": evidence, "options": [
                _opt("ASGI adapter", "FastAPI/Starlette apps run through the SDK's `asgi.fetch(app, request, env)`",
                     "no server process: startup/shutdown hooks and threads do not run"),
                _opt("Container", "uvicorn as today", "container pricing and cold starts")],
                "recommendation": "the ASGI adapter"})
        else:
            dec.append({"topic": "HTTP entry point", "question": "Keep Express or rewrite the routes?",
                        "evidence": evidence, "options": [
                _opt("Keep Express via httpServerHandler", "`export default httpServerHandler({ port })` from "
                     "cloudflare:node; routes unchanged (nodejs_compat)", "Express's bundle size; Node-style "
                     "middleware that touches the disk still needs the changes in this plan"),
                _opt("Rewrite as a fetch handler (Hono)", "small bundle, Web-standard Request/Response, typed "
                     "bindings", "every route is touched")],
                "recommendation": "keep Express with httpServerHandler first; rewrite later only if bundle size or "
                                  "startup time demands it"})
    if "do" in needs or "state" in cats:
        dec.append({"topic": "Shared state", "question": "Where does state shared between requests live?",
                    "evidence": ", ".join(sorted(found & {r.id for r in rules_with_role("shared-state")})),
                    "options": [
            _opt("Durable Objects", "one strongly consistent owner per key (rate limits, rooms, counters)",
                 "requests for a key go to one location"),
            _opt("KV", "cheap global reads (sessions, flags)", "eventually consistent; 1 write/s per key"),
            _opt("Cache API / module scope", "free, per data centre or isolate", "a cache only: evicted any time")],
            "recommendation": "Durable Objects for counters and coordination, KV for sessions"})
    return dec


# ------------------------------------------------------------------------------------------------ options compared

def options_compared(result, needs: set[str], pts: list[tuple[Finding, float]], cost: dict[str, Any]) -> list[dict]:
    total = sum(p for _, p in pts)
    container_cats = {"model-loading", "native-module", "subprocess"}
    hybrid = sum(p for f, p in pts if f.category not in container_cats or
                 (f.category == "native-module" and "container" not in needs))
    # containers only: the code runs as is; persistence (files, state) and scheduling still change
    keep = {"filesystem", "state", "database"}
    unchanged = {r.id for r in rules_with_role("container-unchanged")}
    cont = sum(p for f, p in pts if f.category in keep and f.rule_id not in unchanged)
    by_id = {o["id"]: o for o in cost["options"]}
    rows = [
        {"option": "Workers only (serverless refactor)", "points": round(total), "monthly": by_id["workers"]["monthly_usd"],
         "integration": "all Cloudflare bindings", "scaling": "automatic, global", "debugging": "wrangler dev, "
         "Workers Logs; no shell", "notes": by_id["workers"]["fit"]},
        {"option": "Workers + Containers (hybrid)", "points": round(hybrid),
         "monthly": by_id["workers+containers"]["monthly_usd"], "integration": "bindings for the Worker; the "
         "container is reached through a Durable Object", "scaling": "Workers automatic; containers by instance",
         "debugging": "two runtimes to observe", "notes": by_id["workers+containers"]["fit"]},
        {"option": "Containers only (lift and shift)", "points": round(cont),
         "monthly": by_id["containers"]["monthly_usd"], "integration": "a Worker in front; storage through R2 / D1",
         "scaling": "per instance; cold starts 1-3 s", "debugging": "like today (a Linux VM)",
         "notes": by_id["containers"]["fit"]},
    ]
    return rows


# ------------------------------------------------------------------------------------------------ phases

def phases(result, needs: set[str], pts: list[tuple[Finding, float]]) -> list[dict[str, Any]]:
    name = project_name(result)
    infra_items = [PRODUCT_SETUP[p].format(name=name) for p in
                   ("d1", "r2", "kv", "hyperdrive", "queues", "do", "ai", "assets", "logs", "cron", "container",
                    "browser", "images") if p in needs]
    infra_items.insert(0, "create the Worker project and wrangler.jsonc (starter below); secrets with "
                          "`wrangler secret put`")
    core: dict[str, list[str]] = defaultdict(list)
    jobs: dict[str, list[str]] = defaultdict(list)
    core_pts = job_pts = 0.0
    rules = rules_by_id()
    for f, p in pts:
        bucket = jobs if (_phase(f) == "jobs" or f.category == "subprocess") else core
        title = rules[f.rule_id].title if f.rule_id in rules and rules[f.rule_id].title else f.rule_id
        bucket[title].append(f"{f.path}:{f.line}")
        if bucket is jobs:
            job_pts += p
        else:
            core_pts += p
    sched_items = []
    for s in schedules(result):
        if s.cron and s.active:
            sched_items.append(f"`{s.cron}`: scheduled handler for {s.job or s.library} ({s.path}:{s.line})")
        elif not s.active:
            continue
        else:
            sched_items.append(f"{s.library} job at {s.path}:{s.line}: set the Cron Trigger by hand ({s.reason})")
    job_extra = []
    if job_pts:
        job_extra = ["split long runs so each fits its CPU budget (Cron: 30 s under an hourly interval, 15 min "
                     "otherwise; Queue consumers: 15 min wall)", "persist job state (D1/KV) instead of process "
                     "memory; make handlers idempotent (retries)", "clean-up: R2 lifecycle rules or a scheduled "
                     "purge instead of deleting local files"]
    infra_pts = float(len(infra_items))
    testing_pts = round((core_pts + job_pts) * TESTING_SHARE, 1)
    rollout_pts = round(ROLLOUT_BASE + (core_pts + job_pts) * ROLLOUT_SHARE, 1)
    py = is_python(result)
    test_items = [("local integration tests with `pywrangler dev`" if py else
                   "integration tests against `wrangler dev` (or `@cloudflare/vitest-pool-workers`)"),
                  "bindings tested with local D1/R2/KV (Miniflare) before remote", "performance: CPU ms per request "
                  "against the limits; load test on a preview deployment"]
    if "cron" in needs:
        test_items.append("trigger each schedule locally: run the dev server with `--test-scheduled`, then "
                          "`curl 'http://localhost:8787/__scheduled?cron=...'`")
    rollout_items = ["migrate data (SQLite/D1 export-import, files to R2) with a final sync at cut-over"
                     if ("d1" in needs or "r2" in needs) else "no data to migrate",
                     "deploy to a preview URL, then gradual deployments (percentage of traffic)",
                     "switch DNS/routes; keep the old deployment ready as the rollback path",
                     "watch Workers Logs and error rates for a week, then decommission the old hosting"]

    def grouped(d: dict[str, list[str]]) -> list[str]:
        return [f"{t}: {', '.join(locs[:6])}{' and more' if len(locs) > 6 else ''}" for t, locs in d.items()]

    return [
        {"name": "Infrastructure", "points": infra_pts, "items": infra_items,
         "note": "1 point per product to set up"},
        {"name": "Core services refactor", "points": round(core_pts, 1), "items": grouped(core),
         "note": "findings outside jobs"},
        {"name": "Job processing", "points": round(job_pts, 1), "items": sched_items + grouped(jobs) + job_extra,
         "note": "schedulers, timers, background threads, queues"},
        {"name": "Testing", "points": testing_pts, "items": test_items,
         "note": f"{TESTING_SHARE:.0%} of the refactor points"},
        {"name": "Rollout", "points": rollout_pts, "items": rollout_items,
         "note": f"{ROLLOUT_BASE} points + {ROLLOUT_SHARE:.0%} of the refactor points"},
    ]


# ------------------------------------------------------------------------------------------------ examples

def _family(lang: str) -> str:
    return "python" if lang == "python" else "javascript"


def _example_for(rule, fam: str) -> tuple[dict[str, str], str] | None:
    """The rule's first example in the finding's language family (JS and TS share one), as before/after text."""
    for ex in rule.examples:
        if fam in {_family(lang) for lang in ex.languages}:
            text = lambda side: "\n".join(v for v in side.values() if isinstance(v, str)).rstrip("\n")  # noqa: E731
            return {"before": text(ex.before), "after": text(ex.after)}, fam
    if rule.legacy_example:
        return dict(rule.legacy_example), _legacy_lang(rule)
    return None


def _legacy_lang(r) -> str:
    after = r.legacy_example.get("after", "") + r.legacy_example.get("before", "")
    if r.languages == ("python",) or "self.env" in after or re.search(r"^\s*(def|with|class \w+\(|import \w+$)",
                                                                      after, re.M):
        return "python"
    return "javascript"


def examples(result) -> list[dict[str, Any]]:
    rules = rules_by_id()
    seen: dict[tuple[str, str], tuple[Finding, dict[str, str], str]] = {}
    for f in active(result.findings):
        fam = "python" if f.path.endswith(".py") else "javascript"
        if f.rule_id not in rules or (f.rule_id, fam) in seen or not f.path.endswith(
                (".py", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts")):
            continue
        found = _example_for(rules[f.rule_id], fam)
        if found is not None:
            seen[(f.rule_id, fam)] = (f, *found)
    out = []
    for (rid, fam), (f, ex, ex_lang) in seen.items():
        r = rules[rid]
        out.append({"rule_id": rid, "title": r.title or rid, "path": f.path, "line": f.line,
                    "snippet": f.snippet.strip(), "lang": _lang_of(f.path), "before": ex.get("before", ""),
                    "after": ex.get("after", ""), "example_lang": ex_lang})
    return out


# ------------------------------------------------------------------------------------------------ wrangler

_JOIN_FUNCS = ("path.join", "path.resolve", "os.path.join", "pathlib.Path", "path.posix.join", "os.path.abspath",
               "os.path.dirname", "path.dirname")


def _static_path(a, filedir: str, depth: int = 0) -> str | None:
    """A folder path an argument names, relative to the repository root, when it can be read from the code."""
    if a is None or depth > 8:
        return None
    if a.kind == "string":
        v = a.value or ""
        return v if not v.startswith(("/", "http:", "https:")) else None
    if a.kind in ("identifier", "member"):
        if (a.value or "") in ("__dirname", "import.meta.dirname"):
            return filedir or "."
        if a.bound is not None:
            return _static_path(a.bound, filedir, depth + 1)
        return None
    if a.kind in ("call", "new"):
        q = a.value or ""
        if q.endswith(("os.path.dirname", "path.dirname")) and a.inner and (a.inner[0].value or "") == "__file__":
            return filedir or "."
        if q.endswith(_JOIN_FUNCS) and a.inner:
            parts = [_static_path(x, filedir, depth + 1) for x in a.inner]
            if any(p is None for p in parts):
                return None
            if q.endswith(("os.path.dirname", "path.dirname")):
                return posixpath.dirname(parts[0])
            return posixpath.join(*parts)
    return None


def _assets_dir(result) -> tuple[str | None, str]:
    known = set(result.discovery.other_files) | {f.path for f in result.files}
    facts_by_path = {f.path: f for f in result.files}
    for f in active(result.findings):
        if "static-files" not in _rule_roles(f) or "upload" in f.snippet.lower():
            continue
        facts = facts_by_path.get(f.path)
        if facts is None:
            continue
        filedir = posixpath.dirname(f.path)
        for c in facts.calls:
            if not (f.line <= c.line <= f.end_line):
                continue
            cands = [c.kwargs.get("directory")] + [x for x in c.args if x.kind not in ("object", "lambda")][:1]
            for a in cands:
                p = _static_path(a, filedir)
                if p is None:
                    continue
                p = posixpath.normpath(p)
                if p and p != "." and not p.startswith("..") and any(k.startswith(p + "/") for k in known):
                    return p, f"{f.path}:{f.line}"
    return None, ""


def _comment(text: str) -> str:
    return " ".join(str(text).split()).replace("*/", "* /")


def wrangler_starter(result, needs: set[str]) -> str:
    name = project_name(result)
    py = is_python(result)
    st = result.settings
    entries: list[tuple[str, str, str]] = []   # key, JSON value text (may be multi-line), comment
    entries.append(("$schema", json.dumps("node_modules/wrangler/config-schema.json"), ""))
    entries.append(("name", json.dumps(name), ""))
    fw = main_framework(result)
    fw_cf = (fw.profile.get("cloudflare") or {}) if fw is not None else {}
    fw_wr = fw_cf.get("wrangler") or {}
    main = st.main if st.main and st.main.endswith(".py") == py else ("src/entry.py" if py else "src/worker.js")
    if fw_wr.get("main") and not st.main:
        main = fw_wr["main"]
        entries.append(("main", json.dumps(main), f"{fw.name}: {fw_cf['path']}" +
                        (f"; build with `{fw_cf['build']}`" if fw_cf.get("build") else "")))
    else:
        entries.append(("main", json.dumps(main),
                        "new entry: `class Default(WorkerEntrypoint)` with fetch (and scheduled)" if py else
                        "new entry: exports fetch (and scheduled / queue) handlers"))
    entries.append(("compatibility_date", json.dumps(st.compatibility_date), ""))
    flags = list(st.compatibility_flags)
    if py and "python_workers" not in flags:
        flags.append("python_workers")
    if not py and st.compatibility_date < "2026-08-04" and "nodejs_compat" not in flags:
        flags.append("nodejs_compat")
    if flags:
        entries.append(("compatibility_flags", json.dumps(flags),
                        "" if py else "nodejs_compat is the default from 2026-08-04"))
    if "logs" in needs:
        entries.append(("observability", '{ "enabled": true }', "Workers Logs replace the log files"))
    if isinstance(fw_wr.get("assets"), dict):
        entries.append(("assets", json.dumps(fw_wr["assets"]), f"{fw.name}'s static output"))
    elif "assets" in needs:
        d, where = _assets_dir(result)
        if d:
            entries.append(("assets", json.dumps({"directory": "./" + d}), f"served from disk today ({where})"))
        else:
            entries.append(("assets", json.dumps({"directory": "./public"}),
                            "folder not found from the code; set it to the static folder"))
    crons = [s for s in schedules(result)]
    if crons or "cron" in needs:
        lines = []
        items = []
        for s in crons:
            where = f"{s.library} at {s.path}:{s.line}" + (f" ({s.job})" if s.job else "")
            if s.cron and s.active:
                items.append((json.dumps(s.cron), _comment(where + ("; " + "; ".join(s.notes) if s.notes else ""))))
            elif s.cron:
                lines.append(f"// {json.dumps(s.cron)}: {_comment(where + ': ' + '; '.join(s.notes))}")
            else:
                sug = f" closest: {s.suggestion}." if s.suggestion else ""
                lines.append(f"// no exact cron for {_comment(where)}: {_comment(s.reason)}.{_comment(sug)}")
        body = []
        for i, (val, com) in enumerate(items):
            comma = "," if i < len(items) - 1 else ""
            body.append(f"      {val}{comma}" + (f"  // {com}" if com else ""))
        body += ["      " + ln for ln in lines]
        if not items and not lines:
            body.append("      // add the schedules of the jobs found (no literal schedule in the code)")
        entries.append(("triggers", "{\n    \"crons\": [\n" + "\n".join(body) + "\n    ]\n  }", ""))
    if "d1" in needs:
        entries.append(("d1_databases", _arr({"binding": "DB", "database_name": name,
                                              "database_id": f"<id from: wrangler d1 create {name}>"}), ""))
    if "r2" in needs:
        entries.append(("r2_buckets", _arr({"binding": "FILES", "bucket_name": f"{name}-files"}), ""))
    if "kv" in needs:
        entries.append(("kv_namespaces", _arr({"binding": "KV", "id": "<id from: wrangler kv namespace create KV>"}),
                        ""))
    if "hyperdrive" in needs:
        entries.append(("hyperdrive", _arr({"binding": "HYPERDRIVE", "id": f"<id from: wrangler hyperdrive create "
                                                                          f"{name}-db --connection-string=...>"}),
                        "a Python Worker reaches it through a JavaScript Worker (service binding)" if py else ""))
    if "queues" in needs:
        entries.append(("queues", json.dumps({"producers": [{"binding": "JOBS", "queue": f"{name}-jobs"}],
                                              "consumers": [{"queue": f"{name}-jobs", "max_retries": 3}]}), ""))
    if "ai" in needs:
        entries.append(("ai", '{ "binding": "AI" }', "Workers AI replaces the local model"))
    if "browser" in needs:
        entries.append(("browser", '{ "binding": "BROWSER" }', ""))
    if "images" in needs:
        entries.append(("images", '{ "binding": "IMAGES" }', ""))
    do_classes = []
    if "do" in needs:
        do_classes.append(("SHARED_STATE", "SharedState"))
    containers = "container" in needs or st.target == "containers"
    if containers:
        do_classes.append(("APP_CONTAINER", "AppContainer"))
        entries.append(("containers", _arr({"class_name": "AppContainer", "image": "./Dockerfile",
                                            "instance_type": "basic", "max_instances": 3}),
                        "parts that need native code or a process"))
    if do_classes:
        entries.append(("durable_objects", json.dumps({"bindings": [{"name": n, "class_name": c}
                                                                     for n, c in do_classes]}), ""))
        entries.append(("migrations", _arr({"tag": "v1", "new_sqlite_classes": [c for _, c in do_classes]}), ""))
    out = [f"// wrangler.jsonc starter written by cfcompat {__version__} from the findings; fill in the <...> ids",
           "{"]
    for i, (k, v, com) in enumerate(entries):
        comma = "," if i < len(entries) - 1 else ""
        text = f"  {json.dumps(k)}: {v}{comma}"
        if com:
            text += f"  // {_comment(com)}"
        out.append(text)
    out.append("}")
    return "\n".join(out) + "\n"


def _arr(obj: dict[str, Any]) -> str:
    return "[" + json.dumps(obj) + "]"


# ------------------------------------------------------------------------------------------------ the plan

def verdict_sentence(result, effort: dict[str, Any]) -> str:
    s = result.summary
    v = s["verdict"]
    n = s["findings"]
    tgt = result.settings.target
    if v == "ready":
        return f"Ready for {tgt}: no blockers or warnings."
    head = {"blocked": f"Blocked on {tgt}", "needs-changes": f"Runs on {tgt} after changes"}[v]
    return (f"{head}: {n['blocker']} blocker(s) and {n['warning']} warning(s) across "
            f"{len({f.path for f in active(result.findings)})} file(s); about {effort['points']} story points "
            f"({effort['hours_low']}-{effort['hours_high']} hours).")


def build(result, workload: dict[str, Any] | None = None) -> dict[str, Any]:
    blocks = ensure_assessment(result, workload)
    needs = set(services(result))
    pts = finding_points(result)
    cost = blocks["cost"]
    ph = phases(result, needs, pts)
    from ..rules.kb import kb_summary
    return {
        "tool_version": __version__,
        "knowledge_base": kb_summary(),
        "name": project_name(result),
        "root": result.root.name,
        "settings": result.settings,
        "summary": result.summary,
        "verdict_sentence": verdict_sentence(result, blocks["effort"]),
        "compatibility": blocks["compatibility"],
        "rewrite_scope": blocks["rewrite_scope"],
        "effort": blocks["effort"],
        "cost": cost,
        "blockers": issue_groups(result, "blocker"),
        "warnings": issue_groups(result, "warning"),
        "info_count": result.summary["findings"]["info"],
        "dependencies": dependency_changes(result, needs),
        "decisions": key_decisions(result, needs),
        "options": options_compared(result, needs, pts, cost),
        "phases": ph,
        "phase_total": round(sum(p["points"] for p in ph), 1),
        "examples": examples(result),
        "schedules": [s for s in schedules(result)],
        "wrangler": wrangler_starter(result, needs),
        "needs": sorted(needs),
        "services": services(result),
        "product_names": PRODUCT_NAMES,
        "errors": result.errors,
        "format_usd": format_usd,
        "python": is_python(result),
    }
