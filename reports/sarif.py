"""`--format sarif`: SARIF 2.1.0 for code scanning (GitHub, Azure DevOps, IDE viewers).

One run; `tool.driver.rules` holds every rule that has a result (id, name, descriptions, help as text and
markdown, helpUri = first docs link, properties with the category and tags); each finding is a result with its
ruleIndex, level (blocker -> error, warning -> warning, info -> note), message, a location and
`partialFingerprints["cfcompat/v1"]`, the fingerprint that survives line shifts.

Locations are relative to the **repository root** (`%SRCROOT%`), whatever folder was scanned: code scanning
resolves a result's URI against the checkout, so a scan of `services/chat` reports `services/chat/server/index.js`.
`originalUriBaseIds` declares `%SRCROOT%` (the repository root: the git work tree holding the scanned folder, or
the scanned folder itself outside git) and `SCANROOT`, the scanned folder relative to it; the run's
`automationDetails.id` (`cfcompat/services/chat/`) keeps the scans of several folders apart in code scanning.
With `--baseline`, the findings the baseline hides are still results, with `baselineState: "unchanged"` (the
others `"new"`): code scanning keeps the whole inventory while the gate and the annotations count only what is new.
Files that could not be read or parsed are `toolExecutionNotifications`. Deterministic: no timestamps, no absolute
paths. Artifact URIs are the relative paths percent-encoded (RFC 3986: `src/issue #12.js` is
`src/issue%20%2312.js`; a name that is not UTF-8 keeps its bytes).
"""
from __future__ import annotations

from ..rules.kb import kb_summary

import json
import re
import urllib.parse
from typing import Any

from ..analyzer import __version__
from ..rules import Rule, rules_by_id
from .options import RenderOptions

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"blocker": "error", "warning": "warning", "info": "note"}


def uri(path: str) -> str:
    """A relative path as a URI reference: every byte but unreserved characters and `/` percent-encoded (a `:`
    too, which would otherwise read as a scheme)."""
    return urllib.parse.quote(path, safe="/", errors="surrogateescape")


def _name(rule_id: str) -> str:
    return "".join(p.capitalize() for p in re.split(r"[^A-Za-z0-9]+", rule_id) if p)


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    m = re.match(r"(.+?[.;])(\s|$)", text)
    return (m.group(1) if m else text).rstrip(";").rstrip(".") + "."


def _rule_descriptor(rule_id: str, rule: Rule | None, sample, target: str) -> dict[str, Any]:
    if rule is not None:
        short = rule.title or _first_sentence(rule.message)
        full = rule.message + ((" " + rule.why) if rule.why else "")
        help_text = rule.remediation
        md = [rule.remediation]
        if rule.example.get("before") or rule.example.get("after"):
            md += ["", "Before:", "", "```", rule.example.get("before", ""), "```", "", "After:", "", "```",
                   rule.example.get("after", ""), "```"]
        if rule.docs:
            md += ["", "Docs: " + ", ".join(f"<{d}>" for d in rule.docs)]
        docs = list(rule.docs)
        category = rule.category
        level = LEVELS.get(rule.severity_for(target) or "warning", "warning")
        effort = rule.effort
    else:   # a finding from a rule not in the packs (a class-only rule): describe it from the finding
        short = _first_sentence(sample.message)
        full = sample.message
        help_text = sample.remediation
        md = [sample.remediation]
        docs = list(sample.docs)
        category = sample.category
        level = LEVELS.get(sample.original_severity or sample.severity, "warning")
        effort = sample.effort
    d: dict[str, Any] = {
        "id": rule_id,
        "name": _name(rule_id),
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": help_text, "markdown": "\n".join(md)},
        "defaultConfiguration": {"level": level},
        "properties": {"category": category, "tags": ["cloudflare", category, target], "effort": effort},
    }
    if docs:
        d["helpUri"] = docs[0]
    return d


def document(result, options: RenderOptions | None = None) -> dict[str, Any]:
    opts = RenderOptions.of(options)

    def loc(path: str) -> str:   # the repository-relative path as a URI reference
        return uri(opts.repo_path(path))
    rules = rules_by_id()
    target = result.settings.target
    order: list[str] = []
    sample: dict[str, Any] = {}
    baselined = result.baseline is not None
    hidden = list(getattr(result, "baseline_hidden", None) or []) if baselined else []
    for f in list(result.findings) + hidden:
        if f.rule_id not in sample:
            sample[f.rule_id] = f
            order.append(f.rule_id)
    order.sort()
    index = {rid: i for i, rid in enumerate(order)}
    descriptors = [_rule_descriptor(rid, rules.get(rid), sample[rid], target) for rid in order]
    results = []
    hidden_ids = {id(f) for f in hidden}
    for f in sorted(list(result.findings) + hidden, key=lambda f: f.sort_key()) if hidden else result.findings:
        region: dict[str, Any] = {"startLine": max(1, f.line), "startColumn": max(1, f.column or 1),
                                  "endLine": max(f.line, f.end_line or f.line)}
        if f.snippet:
            region["snippet"] = {"text": f.snippet}
        msg = f.message
        if f.severity != "info" and f.remediation:
            msg += " Fix: " + f.remediation
        elif f.note:
            msg += f" ({f.note})"
        r: dict[str, Any] = {
            "ruleId": f.rule_id,
            "ruleIndex": index[f.rule_id],
            "level": LEVELS[f.severity],
            "message": {"text": msg},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": loc(f.path), "uriBaseId": "%SRCROOT%"},
                "region": region,
            }}],
            "partialFingerprints": {"cfcompat/v1": f.fingerprint},
            "properties": {"category": f.category, "severity": f.severity, "context": f.context},
        }
        if f.note:
            r["properties"]["note"] = f.note
        if baselined:       # scan --baseline: the baseline's findings stay in the inventory, marked as such
            r["baselineState"] = "unchanged" if id(f) in hidden_ids else "new"
        results.append(r)
    notifications = [{
        "level": "warning",
        "message": {"text": e.message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": loc(e.path), "uriBaseId": "%SRCROOT%"}}}],
    } for e in result.errors]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    base_ids: dict[str, Any] = {"%SRCROOT%": {"description": {"text": "The repository root."}}}
    if opts.repository_prefix:
        base_ids["SCANROOT"] = {"uri": opts.repository_prefix, "uriBaseId": "%SRCROOT%",
                                "description": {"text": "The scanned folder."}}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "cfcompat",
            "version": __version__,
            "semanticVersion": __version__,
            "rules": descriptors,
        }},
        "invocations": [invocation],
        "originalUriBaseIds": base_ids,
        "automationDetails": {"id": f"cfcompat/{opts.repository_prefix}"},
        "results": results,
        "properties": {
            "target": target,
            "compatibility_date": result.settings.compatibility_date,
            "verdict": result.summary.get("verdict"),
            "knowledge_base": kb_summary(),
            "scanned_folder": opts.repository_prefix.rstrip("/") or ".",
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(result, options: RenderOptions | None = None, **_: Any) -> str:
    return json.dumps(document(result, options), indent=2, ensure_ascii=False) + "\n"
