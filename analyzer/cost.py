"""Monthly cost estimate for three ways of running the scanned code on Cloudflare.

Prices come from `rules/kb/pricing.yaml` (dated, with source keys); the workload comes from the user (scan options)
with stated defaults. The products priced are the ones the findings imply (see `assessment.services`): D1 when a
local SQLite file is found, R2 for files that must persist, Queues for background threads, and so on.

Options:
- `workers`: everything on Workers and the storage products (the migration plan's target).
- `workers+containers`: Workers for HTTP and storage, plus a container for what does not fit a Worker
  (local models, native code, long jobs), reached through a Durable Object.
- `containers`: the app as it is in a container behind a small Worker; persistent data still moves to
  R2 / D1 / KV because a container's disk is ephemeral.

Every line: quantity, included allowance, billable quantity, unit price, USD (rounded to cents); the total is
rounded to cents and shown rounded to whole dollars. It is an estimate, labelled with the price date.
"""
from __future__ import annotations

import math
from typing import Any

from ..rules import load_kb

HOURS_PER_MONTH = 730          # 365 * 24 / 12
DO_BILLED_GB = 0.125           # Durable Object duration is billed at 128 MB

# name -> (default, description). Defaults that depend on the request volume are None here and resolved in
# `resolve_workload` (the description says how).
WORKLOAD_KNOBS: dict[str, tuple[Any, str]] = {
    "requests_per_month": (3_000_000, "HTTP requests per month"),
    "cpu_ms": (10, "CPU milliseconds per request on a Worker"),
    "cron_cpu_ms": (200, "CPU milliseconds per Cron Trigger run"),
    "current_monthly_cost": (None, "today's hosting cost in USD per month (optional, for comparison)"),
    "kv_reads_per_month": (None, "KV reads per month (default: one per request)"),
    "kv_writes_per_month": (100_000, "KV writes per month"),
    "kv_storage_gb": (1, "KV storage, GB"),
    "d1_rows_read_per_month": (None, "D1 rows read per month (default: 20 per request)"),
    "d1_rows_written_per_month": (1_000_000, "D1 rows written per month"),
    "d1_storage_gb": (1, "D1 storage, GB"),
    "r2_storage_gb": (50, "R2 storage, GB"),
    "r2_class_a_per_month": (100_000, "R2 writes/lists per month"),
    "r2_class_b_per_month": (1_000_000, "R2 reads per month"),
    "do_requests_per_month": (None, "Durable Object requests per month for shared state (default: one per request)"),
    "do_wall_ms": (50, "Durable Object wall-clock ms per request (billed at 128 MB unless hibernating)"),
    "queue_messages_per_month": (100_000, "Queue messages per month (about 3 operations each)"),
    "ai_neurons_per_month": (0, "Workers AI Neurons per month (depends on model and input; 0 = not estimated)"),
    "log_events_per_request": (1, "Workers Logs events per request"),
    "container_instance": (None, "container instance type (default: standard-1 with local models, else basic; "
                                 "standard-1 for the containers-only option)"),
    "container_instances": (1, "container instances running"),
    "container_hours": (HOURS_PER_MONTH, "hours each instance runs per month (730 = always on)"),
    "container_cpu_utilization": (0.25, "share of the provisioned vCPU in active use (CPU is billed on use)"),
    "container_request_share": (0.1, "share of requests that need the container in the workers+containers option"),
    "container_egress_gb": (0, "container egress to the internet, GB per month (North America / Europe)"),
    "front_cpu_ms": (1, "CPU ms per request of the Worker in front of a container"),
}


def pricing() -> dict[str, Any]:
    return load_kb("pricing.yaml")


def resolve_workload(workload: dict[str, Any] | None, needs: set[str] | None = None) -> dict[str, Any]:
    """The workload with every default filled in (values the user gave win)."""
    w = {k: v[0] for k, v in WORKLOAD_KNOBS.items()}
    for k, v in (workload or {}).items():
        if v is not None:
            w[k] = v
    req = float(w["requests_per_month"])
    if w["kv_reads_per_month"] is None:
        w["kv_reads_per_month"] = req
    if w["d1_rows_read_per_month"] is None:
        w["d1_rows_read_per_month"] = req * 20
    if w["do_requests_per_month"] is None:
        w["do_requests_per_month"] = req
    return w


def parse_workload(pairs: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """`KEY=VALUE` strings (from `--workload`) as a workload dict; raises ValueError naming the bad one."""
    out: dict[str, Any] = {}
    for p in pairs:
        key, sep, val = p.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in WORKLOAD_KNOBS:
            raise ValueError(f"--workload {p!r}: expected KEY=VALUE with KEY one of {', '.join(WORKLOAD_KNOBS)}")
        val = val.strip()
        if key == "container_instance":
            types = pricing()["container_instances"]["types"]
            if val not in types:
                raise ValueError(f"--workload container_instance={val!r}: choose from {', '.join(types)}")
            out[key] = val
            continue
        try:
            num = float(val.replace("_", ""))
        except ValueError:
            raise ValueError(f"--workload {p!r}: {val!r} is not a number") from None
        if num < 0 or math.isnan(num) or math.isinf(num):
            raise ValueError(f"--workload {p!r}: must be a non-negative number")
        out[key] = int(num) if num.is_integer() else num
    return out


class _Bill:
    def __init__(self, prices: dict[str, Any]):
        self.prices = prices
        self.lines: list[dict[str, Any]] = []
        self.exact = 0.0

    def add(self, key: str, quantity: float, note: str = "", label: str | None = None) -> None:
        p = self.prices[key]
        included = p.get("included")
        per = float(p.get("per") or 1)
        billable = 0.0 if included is None else max(0.0, quantity - float(included))
        usd = billable / per * float(p["usd"])
        self.exact += usd
        line = {
            "item": label or p["label"], "price_key": key, "quantity": _q(quantity), "unit": p["unit"],
            "included": None if included is None else _q(included), "billable": _q(billable),
            "unit_price": f"{price_text(p['usd'])} per {(_per(per) + ' ') if per != 1 else ''}{p['unit']}",
            "usd": round(usd, 2),
            "source": p["source"], "as_of": p["as_of"],
        }
        if note:
            line["note"] = note
        self.lines.append(line)

    def fixed(self, key: str, note: str = "") -> None:
        p = self.prices[key]
        self.exact += float(p["usd"])
        line = {"item": p["label"], "price_key": key, "quantity": 1, "unit": p["unit"], "included": None,
                "billable": 1, "unit_price": f"${p['usd']:.2f} per {p['unit']}", "usd": round(float(p["usd"]), 2),
                "source": p["source"], "as_of": p["as_of"]}
        if note:
            line["note"] = note
        self.lines.append(line)

    def total(self) -> float:
        return round(self.exact, 2)


def price_text(x: float) -> str:
    """A unit price as written in the price list: $0.30, $0.011, $0.0000025 (no float artefacts)."""
    from decimal import Decimal
    text = format(Decimal(str(x)).normalize(), "f")
    whole, _, frac = text.partition(".")
    if len(frac) < 2:
        frac = (frac + "00")[:2]
    return f"${whole}.{frac}"


def _q(x: float) -> float | int:
    """Quantities: whole numbers stay whole; others keep 2 significant decimals."""
    if float(x).is_integer():
        return int(x)
    return round(float(x), 2)


def _per(per: float) -> str:
    if per == 1:
        return ""
    if per >= 1_000_000 and per % 1_000_000 == 0:
        return f"{int(per // 1_000_000)}M"
    return f"{int(per):,}" if float(per).is_integer() else f"{per:g}"


def _workers_lines(bill: _Bill, needs: set[str], w: dict[str, Any], cron_runs: float, cpu_ms: float,
                   ai_on_workers: bool) -> None:
    req = float(w["requests_per_month"])
    bill.fixed("workers_paid_plan")
    note = f"{_n(req)} requests" + (f" + {_n(cron_runs)} Cron Trigger runs" if cron_runs else "")
    bill.add("workers_requests", req + cron_runs, note)
    cpu = req * cpu_ms + cron_runs * float(w["cron_cpu_ms"])
    bill.add("workers_cpu_ms", cpu, f"{cpu_ms:g} ms x requests" + (
        f" + {float(w['cron_cpu_ms']):g} ms x cron runs" if cron_runs else ""))
    if "logs" in needs:
        bill.add("workers_logs_events", req * float(w["log_events_per_request"]),
                 "replaces the log files (Workers Logs)")
    _storage_lines(bill, needs, w)
    if "do" in needs:
        do_req = float(w["do_requests_per_month"])
        bill.add("do_requests", do_req, "shared state in Durable Objects")
        bill.add("do_duration", do_req * float(w["do_wall_ms"]) / 1000.0 * DO_BILLED_GB,
                 f"{float(w['do_wall_ms']):g} ms awake per request at 128 MB")
    if "queues" in needs:
        bill.add("queues_ops", float(w["queue_messages_per_month"]) * 3, "about 3 operations per message")
    if "ai" in needs and ai_on_workers:
        n = float(w["ai_neurons_per_month"])
        bill.add("workers_ai_neurons", n, "" if n else "not estimated: set --workload ai_neurons_per_month=N "
                 "(Neurons depend on the model and input size)")
    if "hyperdrive" in needs:
        bill.add("hyperdrive_queries", req, "the database server itself is not included (it stays where it is)")


def _storage_lines(bill: _Bill, needs: set[str], w: dict[str, Any]) -> None:
    if "kv" in needs:
        bill.add("kv_reads", float(w["kv_reads_per_month"]))
        bill.add("kv_writes", float(w["kv_writes_per_month"]))
        bill.add("kv_storage", float(w["kv_storage_gb"]))
    if "d1" in needs:
        bill.add("d1_rows_read", float(w["d1_rows_read_per_month"]))
        bill.add("d1_rows_written", float(w["d1_rows_written_per_month"]))
        bill.add("d1_storage", float(w["d1_storage_gb"]))
    if "r2" in needs:
        bill.add("r2_storage", float(w["r2_storage_gb"]))
        bill.add("r2_class_a", float(w["r2_class_a_per_month"]))
        bill.add("r2_class_b", float(w["r2_class_b_per_month"]))


def _container_lines(bill: _Bill, w: dict[str, Any], instance: str, container_requests: float) -> None:
    types = pricing()["container_instances"]["types"]
    spec = types[instance]
    n = float(w["container_instances"])
    hours = float(w["container_hours"]) * n
    secs = hours * 3600
    util = float(w["container_cpu_utilization"])
    bill.add("do_requests", container_requests, "requests reaching the container through its Durable Object",
             label="Durable Objects requests (container access)")
    bill.add("do_duration", secs * DO_BILLED_GB, "the container's Durable Object is awake while it runs",
             label="Durable Objects duration (container access)")
    bill.add("container_memory", spec["memory_gib"] * secs,
             f"{instance}: {spec['memory_gib']:g} GiB x {_n(hours)} instance-hours")
    bill.add("container_cpu", spec["vcpu"] * secs * util,
             f"{instance}: {spec['vcpu']:g} vCPU x {_n(hours)} h x {util:.0%} active")
    bill.add("container_disk", spec["disk_gb"] * secs, f"{instance}: {spec['disk_gb']:g} GB x {_n(hours)} h")
    if float(w["container_egress_gb"]):
        bill.add("container_egress", float(w["container_egress_gb"]))


def _n(x: float) -> str:
    x = float(x)
    if x >= 1_000_000 and (x / 1_000_000) == int(x / 1_000_000):
        return f"{int(x / 1_000_000)}M"
    return f"{x:,.0f}"


def estimate(needs: set[str], workload: dict[str, Any] | None = None, cron_runs: float = 0.0) -> dict[str, Any]:
    """The `cost` block of the contract: assumptions, and one entry per option with its lines and total."""
    p = pricing()
    prices = p["prices"]
    w = resolve_workload(workload, needs)
    types = p["container_instances"]["types"]
    hybrid_instance = w["container_instance"] or ("standard-1" if "ai" in needs else "basic")
    full_instance = w["container_instance"] or ("standard-2" if "ai" in needs else "standard-1")
    for inst in (hybrid_instance, full_instance):
        if inst not in types:
            raise ValueError(f"unknown container instance type {inst!r}")
    req = float(w["requests_per_month"])
    options = []

    bill = _Bill(prices)
    _workers_lines(bill, needs, w, cron_runs, float(w["cpu_ms"]), ai_on_workers=True)
    options.append({"id": "workers", "label": "Workers only", "lines": bill.lines, "monthly_usd": bill.total(),
                    "fit": _fit_workers(needs)})

    bill = _Bill(prices)
    hybrid_needs = set(needs) - ({"ai"} if "ai" in needs else set())
    _workers_lines(bill, hybrid_needs, w, cron_runs, float(w["cpu_ms"]), ai_on_workers=False)
    _container_lines(bill, w, hybrid_instance, req * float(w["container_request_share"]))
    options.append({"id": "workers+containers", "label": "Workers + Containers", "instance_type": hybrid_instance,
                    "lines": bill.lines, "monthly_usd": bill.total(),
                    "fit": ("Workers serve HTTP and storage; one container keeps what does not fit a Worker "
                            "(" + ", ".join(_container_parts(needs)) + ")")})

    bill = _Bill(prices)
    bill.fixed("workers_paid_plan", "Containers need Workers Paid")
    bill.add("workers_requests", req, "the Worker in front of the container")
    bill.add("workers_cpu_ms", req * float(w["front_cpu_ms"]), f"{float(w['front_cpu_ms']):g} ms per request "
             "to forward it")
    _storage_lines(bill, needs, w)
    _container_lines(bill, w, full_instance, req)
    options.append({"id": "containers", "label": "Containers only", "instance_type": full_instance,
                    "lines": bill.lines, "monthly_usd": bill.total(),
                    "fit": ("the code runs almost as is (native modules, subprocesses, local files within one "
                            "run); data that must survive a restart still moves to R2 / D1 because the "
                            "container disk is ephemeral")})

    current = w.get("current_monthly_cost")
    if current is not None:
        for o in options:
            o["delta_usd"] = round(o["monthly_usd"] - float(current), 2)
    assumptions = {k: w[k] for k in WORKLOAD_KNOBS if w.get(k) is not None}
    assumptions["container_instance_hybrid"] = hybrid_instance
    assumptions["container_instance_containers_only"] = full_instance
    assumptions["cron_runs_per_month"] = round(cron_runs)
    out: dict[str, Any] = {
        "as_of": p["as_of"],
        "currency": p.get("currency", "USD"),
        "label": f"Estimate at list prices as of {p['as_of']} (Workers Paid); not a quote",
        "assumptions": assumptions,
        "products": sorted(needs),
        "options": options,
        "sources": {k: v for k, v in p["sources"].items()},
    }
    unpriced = sorted(needs & {"browser", "images"})
    if unpriced:
        out["unpriced"] = [f"{u}: no dated price in the knowledge base; not included" for u in unpriced]
    if current is not None:
        out["current_monthly_usd"] = float(current)
        cheapest = min(o["monthly_usd"] for o in options)
        if cheapest > float(current):
            out["note"] = (f"At this workload every option costs more than today's hosting (${float(current):,.2f}/"
                           f"month); the case for moving rests on operations, scaling and latency, not price.")
    return out


def _container_parts(needs: set[str]) -> list[str]:
    parts = []
    if "ai" in needs:
        parts.append("local model inference")
    if "container" in needs:
        parts.append("native code / subprocesses")
    if "queues" in needs or "cron" in needs:
        parts.append("long jobs")
    return parts or ["jobs that outgrow a Worker"]


def _fit_workers(needs: set[str]) -> str:
    bits = []
    if "ai" in needs:
        bits.append("inference moves to Workers AI")
    if "container" in needs:
        bits.append("native code or subprocesses need a replacement first")
    return "needs the rewrites in this plan" + (": " + "; ".join(bits) if bits else "")


def format_usd(x: float) -> str:
    """Totals shown to people: whole dollars from $10 up, cents below."""
    if x >= 10:
        return f"${x:,.0f}"
    return f"${x:,.2f}"
