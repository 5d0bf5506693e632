"""Rule packs are data: every pack validates against the JSON schema, and every rule is complete."""
import jsonschema
import pytest

from cfcompat.rules import load_pack_files, load_rules, load_schema
from cfcompat.analyzer.model import CATEGORIES

FOUNDATION_CATEGORIES = {"filesystem", "native-module", "model-loading", "long-running"}


@pytest.mark.parametrize("name,data", sorted(load_pack_files().items()))
def test_pack_validates_against_schema(name, data):
    jsonschema.validate(data, load_schema())


def test_schema_rejects_a_broken_rule():
    bad = {"rules": [{"id": "Bad_ID", "category": "nope", "languages": [], "severity": {},
                      "effort": 4, "message": "x", "remediation": "y", "docs": ["http://insecure"]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, load_schema())


def test_rules_complete_and_unique():
    rules = load_rules()
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids))
    for r in rules:
        assert r.category in CATEGORIES
        assert r.message and r.remediation and r.docs and r.effort in (1, 2, 3, 5, 7, 13)
        assert all(d.startswith("https://developers.cloudflare.com/") or d.startswith("https://blog.cloudflare.com/")
                   for d in r.docs), r.id


def test_foundation_categories_cover_both_languages():
    rules = load_rules()
    for cat in FOUNDATION_CATEGORIES:
        langs = {lang for r in rules if r.category == cat for lang in r.languages}
        assert {"javascript", "python"} <= langs, cat


def test_severity_per_target_falls_back_for_durable_objects_only():
    r = next(r for r in load_rules() if r.id == "fs-persistent-write")
    assert r.severity_for("workers") == "blocker"
    assert r.severity_for("durable-objects") == "blocker"
    assert r.severity_for("containers") == "warning"
    assert r.severity_for("python-workers") is None


def test_every_fact_key_a_rule_cites_is_a_dated_source():
    from cfcompat.rules import load_kb
    known = {s["key"] for s in load_kb("sources.yaml")["sources"]}
    assert {"ORACLE", "W-LIM", "CAPNP", "PYODIDE"} <= known
    for r in load_rules():
        unknown = set(r.facts) - known
        assert not unknown, f"{r.id} cites unknown fact keys {unknown}"
