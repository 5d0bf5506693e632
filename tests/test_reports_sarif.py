"""SARIF 2.1.0: validates against the OASIS schema (a copy in tests/data), rules and results line up."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from cfcompat.analyzer.assessment import scan_and_assess
from cfcompat.reports import render

from reports_helpers import make_hostile_repo

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def validate(doc):
    cls = jsonschema.validators.validator_for(SCHEMA)
    errors = sorted(cls(SCHEMA).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


@pytest.mark.parametrize("fixture", ["express-multer-sqlite-cron", "fastapi-apscheduler-psycopg2",
                                     "workers-ts-clean"])
def test_sarif_validates(fixture):
    result = scan_and_assess(FIXTURES / fixture)
    doc = json.loads(render("sarif", result))
    validate(doc)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert doc["version"] == "2.1.0" and run["tool"]["driver"]["name"] == "cfcompat"
    assert len(run["results"]) == len(result.findings)
    for r, f in zip(run["results"], result.findings):
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"] == f.rule_id
        assert r["level"] == {"blocker": "error", "warning": "warning", "info": "note"}[f.severity]
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"] == {"uri": f.path, "uriBaseId": "%SRCROOT%"}
        assert loc["region"]["startLine"] == f.line and loc["region"]["endLine"] >= f.line
        assert r["partialFingerprints"]["cfcompat/v1"] == f.fingerprint
    for d in rules:
        assert d["shortDescription"]["text"] and d["fullDescription"]["text"]
        assert d["help"]["text"] and d["help"]["markdown"]
        assert d["helpUri"].startswith("https://")
        assert d["properties"]["category"] in d["properties"]["tags"]


def test_sarif_reports_unreadable_files_as_notifications(tmp_path):
    result = scan_and_assess(make_hostile_repo(tmp_path))
    doc = json.loads(render("sarif", result))
    validate(doc)
    notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any(n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/bad.js" for n in notes)
    assert str(tmp_path) not in json.dumps(doc)   # paths relative to %SRCROOT%
