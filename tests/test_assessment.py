"""Assessment: compatibility rows, rewrite scope, effort, cost arithmetic, schedules -> Cron Triggers."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from cfcompat.analyzer.assessment import (assess, compatibility, effort, ensure_assessment, rewrite_scope,
                                          scan_and_assess, services)
from cfcompat.analyzer.cost import estimate, parse_workload, pricing, price_text
from cfcompat.analyzer.model import Finding
from cfcompat.analyzer.parsing.facts import Arg, FileFacts
from cfcompat.analyzer.schedules import (convert_aps_cron, convert_crontab, interval_to_cron, runs_per_month)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def express():
    return scan_and_assess(FIXTURES / "express-multer-sqlite-cron")


@pytest.fixture(scope="module")
def fastapi():
    return scan_and_assess(FIXTURES / "fastapi-apscheduler-psycopg2")


# ----------------------------------------------------------------------------------------------- compatibility

def test_compatibility_rows_for_express(express):
    rows = {r["category"]: r for r in express.assessment.compatibility}
    assert rows["filesystem"]["status"] == "incompatible" and rows["filesystem"]["impact"] == "critical"
    assert "Move SQLite to D1" in rows["filesystem"]["action"] and "R2" in rows["filesystem"]["action"]
    assert rows["model-loading"]["action"] == "Switch to Workers AI"
    assert rows["long-running"]["action"].startswith("Replace cron with Cron Triggers")
    for r in rows.values():
        assert r["status"] in ("compatible", "partial", "incompatible")
        assert r["impact"] in ("critical", "high", "medium", "low")
        assert r["findings"] == r["blockers"] + r["warnings"]


def test_core_categories_get_a_compatible_row_and_info_does_not_count():
    result = scan_and_assess(FIXTURES / "workers-ts-clean")
    rows = compatibility(result)
    assert [r["category"] for r in rows] == ["filesystem", "native-module", "model-loading", "long-running"]
    assert all(r["status"] == "compatible" and r["action"] == "Keep as-is" for r in rows)
    assert any(f.severity == "info" for f in result.findings)   # info exists but drives nothing


def test_fastapi_database_and_jobs(fastapi):
    rows = {r["category"]: r for r in fastapi.assessment.compatibility}
    assert "Hyperdrive" in rows["native-module"]["action"]
    assert rows["model-loading"]["status"] == "compatible"
    assert {"hyperdrive", "queues", "cron", "r2"} <= set(services(fastapi))


# ----------------------------------------------------------------------------------------------- rewrite scope

def _finding(path, line, rule="r", effort=3, sev="blocker", cat="filesystem", end=None, symbol=""):
    return Finding(rule_id=rule, category=cat, severity=sev, path=path, line=line, column=1,
                   end_line=end or line, message="m", snippet="s", context="runtime", remediation="x",
                   effort=effort, symbol=symbol)


def _result(files, findings):
    return SimpleNamespace(files=files, findings=findings, dependencies=[], assessment=None, schedules=None, settings=None,
                           errors=[], summary={})


def test_rewrite_model_counts_statement_plus_effort_padding_once():
    ff = FileFacts(path="a.js", language="javascript", role="runtime", lines=100)
    res = _result([ff], [_finding("a.js", 50, effort=3), _finding("a.js", 52, rule="q", effort=2)])
    rs = rewrite_scope(res)
    # 47..53 and 50..54 overlap: 47..54 = 8 lines
    assert rs["lines_to_change"] == 8 and rs["lines_to_rewrite"] == 0
    assert rs["files"][0]["rewrite"] is False and rs["total_lines"] == 100


def test_rewrite_flag_for_model_loading_and_majority():
    a = FileFacts(path="m.py", language="python", role="runtime", lines=40)
    b = FileFacts(path="s.py", language="python", role="runtime", lines=10)
    t = FileFacts(path="tests/t.py", language="python", role="test", lines=10)
    res = _result([a, b, t], [_finding("m.py", 5, effort=7, cat="model-loading"),
                              _finding("s.py", 5, effort=3),
                              _finding("tests/t.py", 2, sev="info")])
    rs = rewrite_scope(res)
    by = {f["path"]: f for f in rs["files"]}
    assert by["m.py"]["rewrite"] and by["m.py"]["lines_to_change"] == 40 and "ML model" in by["m.py"]["why"]
    assert by["s.py"]["rewrite"] and by["s.py"]["lines_to_change"] == 10       # 2..8 = 7 of 10 lines > 50%
    assert "tests/t.py" not in by
    assert rs["lines_to_change"] == 50 and rs["total_lines"] == 50 and rs["percent_change"] == 100.0


def test_rewrite_totals_add_up(express):
    rs = express.assessment.rewrite_scope
    assert rs["lines_to_change"] == sum(f["lines_to_change"] for f in rs["files"])
    assert rs["lines_to_rewrite"] == sum(f["lines_to_rewrite"] for f in rs["files"])
    assert rs["lines_to_rewrite"] <= rs["lines_to_change"] <= rs["total_lines"]
    by = {f["path"]: f for f in rs["files"]}
    assert by["src/tagger.js"]["rewrite"] is True
    assert "package.json" not in by


# ----------------------------------------------------------------------------------------------- effort

def test_effort_repeats_count_a_quarter_and_manifests_one_point():
    ff = FileFacts(path="a.js", language="javascript", role="runtime", lines=100)
    fs = [_finding("a.js", 1, rule="x", effort=4, cat="native-module"),
          _finding("a.js", 9, rule="x", effort=4, cat="native-module"),
          _finding("package.json", 3, rule="native-dependency", effort=5, cat="native-module"),
          _finding("a.js", 20, rule="y", effort=3, sev="info")]
    e = effort(_result([ff], fs))
    assert e["by_category"] == {"native-module": 6}          # 4 + 1 + 1
    assert e["by_file"] == {"a.js": 5, "package.json": 1}
    assert e["points"] == 6 and e["hours_low"] == 9 and e["hours_high"] == 18


def test_effort_of_fixture_is_consistent(express):
    e = express.assessment.effort
    assert e["points"] == round(sum(e["by_category"].values()))
    assert e["hours_low"] < e["hours_high"] and e["assumptions"]


# ----------------------------------------------------------------------------------------------- cost

WORKLOAD = {"requests_per_month": 20_000_000, "cpu_ms": 15, "kv_reads_per_month": 15_000_000,
            "kv_writes_per_month": 2_000_000, "kv_storage_gb": 3, "d1_rows_read_per_month": 30_000_000_000,
            "d1_rows_written_per_month": 60_000_000, "d1_storage_gb": 10, "r2_storage_gb": 110,
            "r2_class_a_per_month": 3_000_000, "r2_class_b_per_month": 12_000_000,
            "container_instance": "standard-1", "container_hours": 730, "container_cpu_utilization": 0.25}


def test_cost_workers_only_matches_hand_computation():
    # Prices from shared/reference/cloudflare-facts.md e) Pricing (W-PRICE, 2026-07-07), computed by hand:
    hand = (5.00                                   # Workers Paid minimum
            + (20 - 10) * 0.30                     # requests: 20M - 10M included, $0.30/M
            + (20 * 15 - 30) * 0.02                # CPU: 300M ms - 30M included, $0.02/M
            + (15 - 10) * 0.50                     # KV reads: $0.50/M over 10M
            + (2 - 1) * 5.00                       # KV writes: $5.00/M over 1M
            + (3 - 1) * 0.50                       # KV storage: $0.50/GB-month over 1 GB
            + (30_000 - 25_000) * 0.001            # D1 rows read: 30B - 25B, in millions, $0.001/M
            + (60 - 50) * 1.00                     # D1 rows written: $1.00/M over 50M
            + (10 - 5) * 0.75                      # D1 storage: $0.75/GB-month over 5 GB
            + (110 - 10) * 0.015                   # R2 storage: $0.015/GB-month over 10 GB
            + (3 - 1) * 4.50                       # R2 class A: $4.50/M over 1M
            + (12 - 10) * 0.36)                    # R2 class B: $0.36/M over 10M
    assert round(hand, 2) == 51.87
    c = estimate({"d1", "r2", "kv"}, WORKLOAD)
    workers = next(o for o in c["options"] if o["id"] == "workers")
    assert workers["monthly_usd"] == 51.87
    assert c["as_of"] == "2026-07-07"
    lines = {l["price_key"]: l for l in workers["lines"]}
    assert lines["workers_cpu_ms"]["billable"] == 270_000_000 and lines["workers_cpu_ms"]["usd"] == 5.40
    assert all(l["source"] and l["as_of"] for l in workers["lines"])


def test_cost_containers_only_matches_hand_computation():
    secs = 730 * 3600
    hand = (5.00 + (20 - 10) * 0.30                        # plan + front Worker requests (1 ms CPU: included)
            + 2.50 + 5.00 + 1.00 + 5.00 + 10.00 + 3.75 + 1.50 + 9.00 + 0.72   # same storage as above
            + (20 - 1) * 0.15                              # DO requests: $0.15/M over 1M
            + (4 * secs - 25 * 3600) * 0.0000025           # standard-1 memory 4 GiB, 25 GiB-h included (CT-PRICE)
            + (0.5 * secs * 0.25 - 375 * 60) * 0.000020    # 1/2 vCPU at 25% use, 375 vCPU-min included
            + (8 * secs - 200 * 3600) * 0.00000007)        # 8 GB disk, 200 GB-h included
    c = estimate({"d1", "r2", "kv"}, WORKLOAD)
    cont = next(o for o in c["options"] if o["id"] == "containers")
    assert cont["monthly_usd"] == round(hand, 2) == 82.92


def test_pricing_data_is_dated_and_sourced():
    p = pricing()
    assert p["as_of"] == "2026-07-07" and p["currency"] == "USD"
    for key, item in p["prices"].items():
        assert item["source"] in p["sources"], key
        assert str(item["as_of"]).startswith("2026-"), key
        assert item["usd"] >= 0
    assert p["prices"]["workers_requests"]["usd"] == 0.30
    assert p["prices"]["container_memory"]["usd"] == 0.0000025
    assert price_text(0.3) == "$0.30" and price_text(0.0000025) == "$0.0000025" and price_text(0.011) == "$0.011"


def test_current_cost_gives_deltas_and_an_honest_note():
    c = estimate({"r2"}, {"current_monthly_cost": 4})
    assert c["current_monthly_usd"] == 4.0
    assert all("delta_usd" in o for o in c["options"])
    assert "costs more" in c["note"]


def test_parse_workload():
    assert parse_workload(["r2_storage_gb=200", "container-instance=basic", "cpu_ms=2.5"]) == {
        "r2_storage_gb": 200, "container_instance": "basic", "cpu_ms": 2.5}
    for bad in (["nope=1"], ["r2_storage_gb"], ["r2_storage_gb=-1"], ["container_instance=huge"], ["cpu_ms=x"]):
        with pytest.raises(ValueError):
            parse_workload(bad)


def test_ensure_assessment_caches_and_recomputes_for_a_new_workload(express):
    blocks = ensure_assessment(express)
    assert set(blocks) == {"compatibility", "rewrite_scope", "effort", "cost"}
    assert ensure_assessment(express)["cost"] is blocks["cost"]
    other = ensure_assessment(express, {"requests_per_month": 50_000_000})
    assert other["cost"]["assumptions"]["requests_per_month"] == 50_000_000
    again = assess(express, {"requests_per_month": 3_000_000})
    assert again.cost["assumptions"]["requests_per_month"] == 3_000_000
    json.dumps(again.blocks())   # plain data


# ----------------------------------------------------------------------------------------------- schedules

@pytest.mark.parametrize("expr, numbering, want", [
    ("15 3 * * *", "crontab", "15 3 * * *"),
    ("0 15 3 * * *", "crontab", "15 3 * * *"),              # node-cron seconds field 0
    ("0 9 * * 1-5", "crontab", "0 9 * * MON-FRI"),          # Cloudflare numbers weekdays from Sunday = 1
    ("0 0 * * 0", "crontab", "0 0 * * SUN"),
    ("0 0 * * 7", "crontab", "0 0 * * SUN"),
    ("0 0 * * 0", "aps", "0 0 * * MON"),                    # APScheduler 3.x and 4.x: 0 = Monday
    ("0 0 * * 6", "aps", "0 0 * * SUN"),
    ("0 0 * * 0-4", "aps", "0 0 * * MON-FRI"),
    ("0 0 * * 5-1", "crontab", "0 0 * * SUN,MON,FRI,SAT"),
    ("*/5 * * jan,jul *", "crontab", "*/5 * * 1,7 *"),
    ("@daily", "crontab", "0 0 * * *"),
])
def test_convert_crontab(expr, numbering, want):
    assert convert_crontab(expr, numbering) == (want, "")


@pytest.mark.parametrize("expr, numbering", [("*/10 * * * * *", "crontab"), ("0 0 1 * 1", "crontab"),
                                             ("61 * * * *", "crontab"),
                                             ("* * * *", "crontab")])
def test_convert_crontab_refuses_what_it_cannot_keep(expr, numbering):
    cron, why = convert_crontab(expr, numbering)
    assert cron is None and why


def _kw(**kw):
    return {k: Arg("number" if isinstance(v, int) else "string", str(v), str(v)) for k, v in kw.items()}


def test_apscheduler_cron_defaults():
    assert convert_aps_cron(_kw(hour=3), "aps") == ("0 3 * * *", "")
    assert convert_aps_cron(_kw(hour=2, minute=30), "aps") == ("30 2 * * *", "")
    assert convert_aps_cron(_kw(day=1), "aps") == ("0 0 1 * *", "")
    assert convert_aps_cron(_kw(month=6), "aps") == ("0 0 1 6 *", "")
    assert convert_aps_cron(_kw(day_of_week="mon-fri", hour=7), "aps") == ("0 7 * * MON-FRI", "")
    assert convert_aps_cron(_kw(day="last"), "aps") == ("0 0 L * *", "")
    for bad in (_kw(second=30), _kw(year=2027), _kw(week=2), _kw(day=1, day_of_week="mon")):
        assert convert_aps_cron(bad, "aps")[0] is None


def test_intervals():
    assert interval_to_cron(900)[0] == "*/15 * * * *"
    assert interval_to_cron(3600)[0] == "0 * * * *"
    assert interval_to_cron(6 * 3600)[0] == "0 */6 * * *"
    cron, why, suggestion = interval_to_cron(7 * 60)
    assert cron is None and "divide" in why and suggestion == "*/7 * * * *"
    assert interval_to_cron(30)[0] is None


def test_runs_per_month():
    assert runs_per_month("*/15 * * * *") == 2920
    assert round(runs_per_month("15 3 * * *"), 2) == 30.42
    assert runs_per_month("0 9 * * MON-FRI") == pytest.approx(21.75)


def test_fixture_schedules(express, fastapi):
    from cfcompat.analyzer.assessment import schedules
    ex = {s.path: s for s in schedules(express)}
    assert ex["src/jobs/cleanup.js"].cron == "15 3 * * *" and ex["src/jobs/cleanup.js"].active
    assert any("CLEANUP_CRON" in n for n in ex["src/jobs/cleanup.js"].notes)
    assert ex["src/db.js"].cron == "*/10 * * * *" and not ex["src/db.js"].active
    fa = {s.job: s.cron for s in schedules(fastapi)}
    assert fa == {"purge-reports": "30 2 * * *", "fx-rates": "*/15 * * * *", "mark-overdue": "0 6 * * *"}
    assert fastapi.assessment.cost["assumptions"]["cron_runs_per_month"] == 2981   # 30.42 + 2920 + 30.42
