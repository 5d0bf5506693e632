"""The migration plan (markdown): every section, escaping of hostile code, the starter wrangler config."""
from __future__ import annotations

import re
from pathlib import Path

import json5
import pytest
from markdown_it import MarkdownIt

from cfcompat.analyzer.assessment import scan_and_assess, services
from cfcompat.analyzer import planning as plan
from cfcompat.reports import render
from cfcompat.reports.markdown import code, fence, md

from reports_helpers import HOSTILE, make_hostile_repo

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECTIONS = ["Compatibility summary", "Blocking issues", "Rewrite scope", "Effort", "Dependency changes",
            "Key decisions", "Options compared", "Migration path", "Before / after", "Cost estimate",
            "Starter wrangler.jsonc", "Next steps"]


def to_html(text: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(text)


def outside_code(html: str) -> str:
    return re.sub(r"<(pre|code)>.*?</\1>", "", html, flags=re.S)


@pytest.fixture(scope="module")
def express_md():
    return render("markdown", scan_and_assess(FIXTURES / "express-multer-sqlite-cron"))


def test_every_section_is_there(express_md):
    heads = re.findall(r"^## (?:\d+\. )?(.+)$", express_md, re.M)
    for s in SECTIONS:
        assert s in heads, s
    assert express_md.startswith("# Migration plan: docshelf-api")
    assert "**Verdict: blocked.**" in express_md


def test_plan_content_comes_from_the_findings(express_md):
    assert "`src/db.js:11`" in express_md                        # blocking issue location
    assert "Move SQLite to D1" in express_md                     # compatibility action
    assert "| `better-sqlite3` |" in express_md                  # dependency to remove
    assert "### 6.1 Database" in express_md and "Inference" in express_md and "Background jobs" in express_md
    assert "Phase 1: Infrastructure" in express_md and "Phase 5: Rollout" in express_md
    assert "```jsonc" in express_md and '"15 3 * * *"' in express_md
    assert "as of 2026-07-07" in express_md


def test_hostile_snippet_renders_inert(tmp_path):
    result = scan_and_assess(make_hostile_repo(tmp_path))
    text = render("markdown", result)
    assert HOSTILE.split("<script>")[0] in text or "script" in text   # the snippet is in the plan
    html = to_html(text)
    assert "<script" not in html and "<img" not in html
    assert html.count("<details>") == 1 and html.count("</details>") == 1   # only the appendix's own
    rest = outside_code(html)
    assert "@octocat" not in rest and "#123" not in rest
    assert "alert(1)" in html                                  # shown, as text
    # the unreadable file is listed
    assert "src/bad.js" in text


def test_escaping_helpers():
    assert code("a `b` c") == "``a `b` c``"
    assert code("`x`") == "`` `x` ``"
    assert code("a|b", table=True) == "`a\\|b`"
    f = fence("x\n```\ny", "js")
    assert f.startswith("````js\n") and f.endswith("\n````")
    out = md("see `</details>` and <b>@bob</b> #7")
    html = to_html(out)
    assert "<b>" not in html and "</details>" not in outside_code(html) and "@bob" not in outside_code(html)


@pytest.mark.parametrize("fixture, crons, bindings", [
    ("express-multer-sqlite-cron", ["15 3 * * *"], {"d1_databases", "r2_buckets", "kv_namespaces", "ai", "assets"}),
    ("fastapi-apscheduler-psycopg2", ["30 2 * * *", "*/15 * * * *", "0 6 * * *"],
     {"hyperdrive", "queues", "r2_buckets", "assets"}),
])
def test_wrangler_starter_is_valid_jsonc(fixture, crons, bindings):
    result = scan_and_assess(FIXTURES / fixture)
    cfg = json5.loads(plan.wrangler_starter(result, set(services(result))))
    assert cfg["triggers"]["crons"] == crons
    assert bindings <= set(cfg)
    assert cfg["compatibility_date"] == result.settings.compatibility_date


def test_hostile_cron_and_names_stay_valid_jsonc(tmp_path):
    result = scan_and_assess(make_hostile_repo(tmp_path))
    cfg = json5.loads(plan.wrangler_starter(result, set(services(result))))
    assert cfg["triggers"]["crons"] == ["*/5 * * * MON-FRI"]
    assert cfg["name"] == "hostile-app"
