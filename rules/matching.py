"""How rules meet facts: pattern rules (`match: calls / imports`) matched against a file's facts, rule classes
loaded by name, and the call-name globs every rule needs (the engine hands them to the extractors, which keep
only calls some rule can match)."""
from __future__ import annotations

import importlib
import re
from typing import Any, Callable

from ..analyzer.parsing.facts import FileFacts
from ..analyzer.parsing.relevance import Keep
from .conditions import applies, holds
from .model import Hit, Rule, RuleClass


_PATTERN_CACHE: dict[str, Any] = {}


def rule_globs(rule: Rule, key: str) -> Callable[[str], bool]:
    """A predicate for the rule's `key` globs (fnmatch meaning): exact names in a set, plain prefixes and
    suffixes as tuples, only the rest as a regex (parsing.relevance.Keep, also used to filter extraction)."""
    ck = rule.id + ":" + key
    if ck not in _PATTERN_CACHE:
        pats = tuple(rule.match.get(key, []))
        _PATTERN_CACHE[ck] = Keep(pats) if pats else (lambda _q: False)
    return _PATTERN_CACHE[ck]


def import_matches(module: str, pattern: str) -> bool:
    if pattern.endswith("*"):
        return module.startswith(pattern[:-1])
    return module == pattern or module.startswith(pattern + "/") or module.startswith(pattern + ".")


def _kinds(rule: Rule) -> frozenset[str]:
    ck = rule.id + ":kinds"
    if ck not in _KINDS:
        _KINDS[ck] = frozenset(rule.match.get("kinds") or ("call", "new", "decorator", "pattern"))
    return _KINDS[ck]


_KINDS: dict[str, frozenset[str]] = {}


def _import_regex(rule: Rule) -> re.Pattern[str]:
    """`import_matches` for all of a rule's import patterns at once."""
    ck = rule.id + ":imports"
    if ck not in _PATTERN_CACHE:
        alts = [re.escape(p[:-1]) if p.endswith("*") else re.escape(p) + r"(?:\Z|[/.])"
                for p in rule.match.get("imports", [])]
        _PATTERN_CACHE[ck] = re.compile("|".join(alts), re.S) if alts else re.compile(r"(?!x)x")
    return _PATTERN_CACHE[ck]


def match_calls(rule: Rule, facts: FileFacts, ctx: Any = None) -> list[Hit]:
    pat = rule_globs(rule, "calls")
    kinds = _kinds(rule)
    hits = []
    for c in facts.calls:
        if c.kind not in kinds or not pat(c.qname):
            continue
        at_load = c.top_level or bool(c.via)       # `via`: inside a function that also runs at start-up
        if rule.top_level is True and not at_load or rule.top_level is False and c.top_level:
            continue
        if rule.where and not all(holds(c, w) for w in rule.where if applies(c, w)):
            continue
        if rule.unless and any(holds(c, u) for u in rule.unless if applies(c, u)):
            continue
        hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, guard=c.guard,
                        top_level=c.top_level or (rule.top_level is True and at_load)))
    return hits


def match_imports(rule: Rule, facts: FileFacts) -> list[Hit]:
    rx = _import_regex(rule)
    hits = []
    for imp in facts.imports:
        if imp.type_only:
            continue
        if rx.match(imp.module):
            hits.append(Hit(imp.line, imp.column, imp.line, imp.snippet, guard=imp.guard, top_level=imp.top_level))
    return hits


_CLASS_CACHE: dict[str, Any] = {}


def rule_class(name: str) -> RuleClass:
    if name not in _CLASS_CACHE:
        mod_name, _, cls_name = name.rpartition(".")
        mod = importlib.import_module(f"{__package__}.classes.{mod_name}")
        _CLASS_CACHE[name] = getattr(mod, cls_name)()
    return _CLASS_CACHE[name]


def rule_class_module(rule: Rule) -> Any:
    mod_name = (rule.cls or "").rpartition(".")[0]
    return importlib.import_module(f"{__package__}.classes.{mod_name}")


def call_patterns(rules: tuple[Rule, ...]) -> set[str]:
    """Every call-name glob the rules can match: the packs' `calls` and each rule class module's `CALLS` (a
    class module that declares none sees every call: `*`)."""
    pats: set[str] = set()
    for rule in rules:
        pats.update(rule.match.get("calls", []))
        if rule.cls:
            pats.update(getattr(rule_class_module(rule), "CALLS", ("*",)))
    return pats


def hits_of(rule: Rule, facts: FileFacts, ctx: Any) -> list[Hit]:
    """A rule's hits in one file: its class's, or its pattern matches."""
    if rule.cls:
        return rule_class(rule.cls).check(rule, facts, ctx)
    hits: list[Hit] = []
    if "calls" in rule.match:
        hits += match_calls(rule, facts, ctx)
    if "imports" in rule.match:
        hits += match_imports(rule, facts)
    return hits
