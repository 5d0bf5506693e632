"""The knowledge base's dated platform changes (rules/kb/platform_changes.yaml) and the verdicts that follow the
compatibility date; every report states the knowledge base's date."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.reports import render
from cfcompat.rules import load_kb
from cfcompat.rules.kb import kb_as_of

ROOT = Path(__file__).resolve().parents[1]
FLASK = ROOT / "fixtures" / "flask-wsgi"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def test_every_change_is_dated_sourced_and_says_what_changed():
    keys = {s["key"] for s in load_kb("sources.yaml")["sources"]}
    changes = load_kb("platform_changes.yaml")["changes"]
    assert len(changes) >= 15
    ids = [c["id"] for c in changes]
    assert len(ids) == len(set(ids))
    for c in changes:
        assert DATE.match(c["date"]) and c["date"] >= "2025-01-01", c
        assert c["source"] in keys, c
        af = c["applies_from"]
        assert af["kind"] in ("compatibility-date", "sdk-release", "platform") and DATE.match(af["date"]), c
        assert c["cfcompat"].strip() and c["title"].strip(), c


def test_dated_knowledge_base_entries_name_a_recorded_change():
    ids = {c["id"] for c in load_kb("platform_changes.yaml")["changes"]}
    rep = load_kb("replacements.yaml")
    for eco in ("npm", "pypi"):
        for e in rep[eco]:
            for v in e.get("from") or []:
                assert v["change"] in ids and DATE.match(v["date"]), (e["name"], v)


def _flask(date: str):
    return scan(FLASK, ScanOptions(compat_date=date, use_cache=False))


def test_flask_before_wsgi_support_keeps_the_older_verdict():
    r = _flask("2026-08-01")
    flask = next(d for d in r.dependencies if d.name == "flask")
    assert flask.verdict == "replace" and "ASGI adapter" in flask.reason and "from 2026-09-02" in flask.reason
    assert r.summary["verdict"] == "needs-changes"


def test_flask_from_wsgi_support_is_an_adapter_change_with_the_flask_page():
    r = _flask("2026-10-01")
    flask = next(d for d in r.dependencies if d.name == "flask")
    assert flask.verdict == "ok" and "wsgi.entrypoint" in flask.reason
    assert flask.docs == ["https://developers.cloudflare.com/workers/languages/python/packages/flask/"]
    assert r.summary["verdict"] == "ready", [(f.rule_id, f.message) for f in r.findings]


@pytest.mark.parametrize("fmt", ["json", "text", "markdown", "html", "sarif"])
def test_every_report_states_the_knowledge_base_date(fmt):
    r = _flask("2026-10-01")
    out = render(fmt, r)
    assert kb_as_of() in out
    if fmt == "json":
        doc = json.loads(out)
        assert doc["knowledge_base"]["as_of"] == kb_as_of() and doc["schema_version"] == "1"
    if fmt == "sarif":
        assert json.loads(out)["runs"][0]["properties"]["knowledge_base"]["as_of"] == kb_as_of()
