"""The rules stage: rules applied to every file's facts (and to repository files by name), the severity each
finding gets in its context (test, build and guarded code is info), fingerprints, suppressions, and linked
findings counted once."""
from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath
from typing import Any

from ..rules import Hit, Rule, RuleContext, rules_by_id
from ..rules.matching import hits_of, rule_class, rule_globs
from .discovery import Discovery, classify_role
from .model import Dependency, Finding, ScanError, SEVERITY_RANK
from .parsing.facts import FileFacts
from .settings import Settings, settings_for
from .targets import effective_target, target_for_languages


def fingerprint(rule_id: str, path: str, snippet: str, symbol: str, occurrence: int) -> str:
    norm = re.sub(r"\s+", " ", snippet).strip()
    h = hashlib.sha256(f"{rule_id}\x00{path}\x00{norm}\x00{symbol}\x00{occurrence}".encode("utf-8"))
    return h.hexdigest()[:20]


def _downgrade(sev: str, role: str, guard: str, include_tests: bool, reason: str = "") -> tuple[str, str]:
    if guard:
        return "info", guard
    if role != "runtime" and not include_tests:
        label = {"test": "test code", "build": "build/tooling code", "config": "tool configuration",
                 "browser": "browser code"}[role]
        why = reason or "judged from its path"
        where = "the server" if role == "browser" else "the deployed Worker"
        return "info", f"{label}, not part of {where} ({why})"
    return sev, ""


def evaluate(files: list[FileFacts], rules: tuple[Rule, ...], settings: Settings, discovery: Discovery,
             dependencies: list[Dependency], include_tests: bool,
             scoped: dict[str, Settings] | None = None, contexts: dict[str, Any] | None = None,
             use_guards: bool = True) -> list[Finding]:
    findings: list[Finding] = []
    root_settings = settings
    contexts = contexts or {}
    repo_calls = frozenset(c.qname for f in files for c in f.calls)
    for facts in files:
        if facts.error:
            continue
        fctx = contexts.get(facts.path)
        role = fctx.context if fctx is not None else facts.role
        reason = fctx.reason if fctx is not None and fctx.context != facts.role or \
            (fctx is not None and "reachable" in fctx.reason) else ""
        chain = fctx.chain if fctx is not None else []
        settings = settings_for(facts.path, root_settings, scoped or {})
        tgt = effective_target(settings.target, facts.language)
        via_at = {(c.line, c.column): c.via for c in facts.calls if c.via}
        ctx = RuleContext(settings, tgt, discovery, dependencies, repo_calls)
        lang_key = facts.language
        for rule in rules:
            if lang_key not in rule.languages:
                continue
            sev = rule.severity_for(tgt)
            if sev is None:
                continue
            if rule.cls and "files" in rule.match:
                continue   # a repository-file rule (see evaluate_files)
            hits: list[Hit] = hits_of(rule, facts, ctx)
            seen_lines: set[int] = set()
            for h in hits:
                if h.top_level and (h.line, h.column) in via_at:
                    h.message = f"{(h.message or rule.message).rstrip()} It runs while the Worker starts: " \
                                f"{via_at[(h.line, h.column)]}."
                if h.line in seen_lines:
                    continue
                seen_lines.add(h.line)
                hit_sev = h.severity or sev
                final, note = _downgrade(hit_sev, role, h.guard if use_guards else "", include_tests, reason)
                findings.append(Finding(
                    rule_id=rule.id, category=rule.category, severity=final, path=facts.path, line=h.line,
                    column=h.column, end_line=h.end_line, message=h.message or rule.message, snippet=h.snippet,
                    context=role, remediation=h.remediation or rule.remediation, chain=list(chain),
                    docs=list(dict.fromkeys(list(rule.docs_for(lang_key)) + list(h.extra_docs))),
                    effort=rule.effort, symbol=h.symbol, original_severity=hit_sev, note=note))
    findings += evaluate_files(rules, root_settings, discovery)
    return findings


def evaluate_files(rules: tuple[Rule, ...], settings: Settings, discovery: Discovery) -> list[Finding]:
    """Rules that match repository files by name (model weights and the like)."""
    out = []
    names = [(rel, rel.rsplit("/", 1)[-1].lower()) for rel in discovery.other_files]
    for rule in rules:
        globs = rule.match.get("files")
        if not globs:
            continue
        min_mb = float(rule.match.get("min_file_mb", 0))
        want = rule_globs(rule, "files")
        unwanted = rule_globs(rule, "exclude_files")
        for rel, name in names:
            if not want(name) or unwanted(name):
                continue
            size = discovery.other_sizes.get(rel, 0)
            max_mb = rule.match.get("max_file_mb")
            if size < min_mb * 1048576 or (max_mb is not None and size >= float(max_mb) * 1048576):
                continue
            tgt = target_for_languages(settings.target, set(rule.languages))
            sev = rule.severity_for(tgt) or rule.severity_for(settings.target)
            if sev is None:
                continue
            mb = size / 1048576
            msg = rule.message.replace("{size}", f"{mb:.1f} MB")
            line, snippet = 1, f"{PurePosixPath(rel).name} ({mb:.1f} MB)"
            spots = [(line, snippet, msg)]
            if rule.cls:
                # a rule class may look inside the file (read-only) and decide: no hit, one, or one per line
                got = rule_class(rule.cls).check_file(rule, rel, discovery.root)
                hits = got if isinstance(got, list) else [] if got is None else [got]
                spots = [(h.line, h.snippet, h.message or rule.message) for h in hits]
            role = _role_for_file(rel)
            final, note = _downgrade(sev, role, "", False)
            for line, snippet, msg in spots:
                out.append(Finding(
                    rule_id=rule.id, category=rule.category, severity=final, path=rel, line=line, column=1,
                    end_line=line, message=msg, snippet=snippet, context=role,
                    remediation=rule.remediation, docs=list(rule.docs), effort=rule.effort, original_severity=sev,
                    note=note))
    return out


def _role_for_file(rel: str) -> str:
    return classify_role(rel)


def apply_suppressions(findings: list[Finding], files: list[FileFacts], config: dict[str, Any],
                       inline: bool, errors: list[ScanError]) -> tuple[list[Finding], list[dict[str, Any]]]:
    """Split findings into kept and suppressed. Inline comments need a reason; config ignores need one too."""
    by_path: dict[str, list] = {}
    for f in files:
        if not f.suppressions:
            continue
        valid = []
        for sup in f.suppressions:
            if not sup.reason:
                errors.append(ScanError(f.path, f"line {sup.line}: suppression of {', '.join(sup.rules)} has no "
                                                "reason and is ignored (write `-- reason`)"))
                continue
            valid.append(sup)
        by_path[f.path] = valid
    ignores = config.get("ignore") or []
    kept: list[Finding] = []
    suppressed: list[dict[str, Any]] = []
    for fd in findings:
        hit = None
        if inline:
            for sup in by_path.get(fd.path, ()):
                if fd.rule_id not in sup.rules:
                    continue
                if sup.file_level or sup.line == fd.line or (sup.own_line and sup.line + 1 == fd.line):
                    hit = {"kind": "inline", "reason": sup.reason, "where": f"{fd.path}:{sup.line}"}
                    break
        if hit is None:
            for ig in ignores:
                if ("*" in ig.rules or fd.rule_id in ig.rules) and _glob_match(fd.path, ig.path):
                    hit = {"kind": "config", "reason": ig.reason, "where": f"ignore path={ig.path}"}
                    break
        if hit is None:
            kept.append(fd)
        else:
            d = fd.to_json()
            d["suppressed_by"] = hit
            suppressed.append(d)
    suppressed.sort(key=lambda d: (d["path"], d["line"], d["rule_id"]))
    return kept, suppressed


def _glob_match(path: str, pattern: str) -> bool:
    import pathspec
    return pathspec.GitIgnoreSpec.from_lines([pattern]).match_file(path)


def link_related(findings: list[Finding]) -> None:
    """No cascades: a finding whose rule names `related` rules is the same problem as a non-info finding of one
    of those rules about the same thing (its symbol: an import of a package that also has a dependency
    finding). It points at that finding (`related`) and the summary counts the problem once."""
    rules = rules_by_id()
    owners: dict[tuple[str, str], Finding] = {}
    for f in findings:
        if f.severity != "info":
            owners[(f.rule_id, f.symbol)] = f          # the last one wins, as before
    for f in findings:
        rule = rules.get(f.rule_id)
        for rel in (rule.related if rule else ()):
            owner = owners.get((rel, f.symbol))
            if owner is not None:
                f.related = owner.fingerprint
                break


def finalize(findings: list[Finding]) -> list[Finding]:
    findings.sort(key=lambda f: f.sort_key())
    counts: dict[tuple[str, str, str, str], int] = {}
    for f in findings:
        key = (f.rule_id, f.path, re.sub(r"\s+", " ", f.snippet).strip(), f.symbol)
        n = counts.get(key, 0)
        counts[key] = n + 1
        f.fingerprint = fingerprint(f.rule_id, f.path, f.snippet, f.symbol, n)
    return findings


def verdict_of(findings: list[Finding]) -> str:
    sevs = {f.severity for f in findings}
    if "blocker" in sevs:
        return "blocked"
    if "warning" in sevs:
        return "needs-changes"
    return "ready"


def worst(findings: list[Finding]) -> int:
    return max((SEVERITY_RANK[f.severity] for f in findings), default=0)
