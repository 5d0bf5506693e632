"""Findings that a compatibility date or flag resolves, and the smallest change of settings that resolves them.

Nothing here knows which rule depends on which date: the rules are re-evaluated on the scan's own facts with
candidate settings (the dates the knowledge base names, with and without `nodejs_compat`), and a finding counts
as resolved when its severity drops as far as the newest verified date (2026-11-17) would drop it. That keeps
this module right when rules or the knowledge base change.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from ..rules import load_kb, load_rules
from ..rules.classes.runtime import nodejs_compat_on
from .evaluate import evaluate
from .model import SEVERITY_RANK, Finding
from .settings import DEFAULT_COMPAT_DATE, Settings, valid_date

_DATE = re.compile(r"\b(20\d\d-\d\d-\d\d)\b")
# dates named by rule classes rather than the node-module table (server-listen, dynamic-code-global-scope)
_EXTRA_DATES = ("2025-04-01", "2025-06-01", "2025-09-01", "2025-09-15", "2026-08-04")
NODEJS_COMPAT = "nodejs_compat"

Key = tuple[str, str, int, int]


def _key(f: Finding) -> Key:
    return (f.rule_id, f.path, f.line, f.column)


@lru_cache(maxsize=1)
def candidate_dates() -> tuple[str, ...]:
    """Every compatibility date the knowledge base ties a behaviour to, up to the newest verified one."""
    dates = set(_EXTRA_DATES) | {DEFAULT_COMPAT_DATE}
    dates |= set(_DATE.findall(yaml.safe_dump(load_kb("node_modules.yaml"))))
    return tuple(sorted(d for d in dates if valid_date(d) and d <= DEFAULT_COMPAT_DATE))


@dataclass
class SettingChange:
    """The change to one Worker's settings and the findings it resolves."""
    scope: str                       # '' for the root Worker, else the folder with its own wrangler config
    date: str | None                 # new compatibility_date, None when the date stays
    flags: list[str] = field(default_factory=list)     # flags to add
    resolves: list[Finding] = field(default_factory=list)
    per_finding: dict[str, str] = field(default_factory=dict)   # fingerprint -> smallest change for that one

    def describe(self) -> str:
        parts = []
        if self.date:
            parts.append(f"compatibility_date {self.date}")
        if self.flags:
            parts.append("flag " + ", ".join(self.flags))
        return " + ".join(parts)


def _describe(cur: Settings, date: str, flags: tuple[str, ...]) -> str:
    parts = []
    if date != cur.compatibility_date:
        parts.append(f"compatibility_date >= {date}")
    added = [f for f in flags if f not in cur.compatibility_flags]
    if added:
        parts.append("compatibility flag " + ", ".join(added))
    where = cur.wrangler.path if cur.wrangler else "a new wrangler config"
    return " and ".join(parts) + f" ({where})"


class _Simulator:
    """Re-runs the rules on the scan's facts with other settings for one scope."""

    def __init__(self, result, include_tests: bool) -> None:
        self.result = result
        self.rules = load_rules()
        self.include_tests = include_tests
        self.contexts = result.contexts
        self.scoped: dict[str, Settings] = dict(result.scopes)

    def settings_of(self, scope: str) -> Settings:
        return self.scoped[scope] if scope else self.result.settings

    def run(self, scope: str, date: str, flags: tuple[str, ...], paths: set[str]) -> dict[Key, int]:
        st = dataclasses.replace(self.settings_of(scope), compatibility_date=date, compatibility_flags=list(flags))
        root, scoped = self.result.settings, dict(self.scoped)
        if scope:
            scoped[scope] = st
        else:
            root = st
        files = [f for f in self.result.files if f.path in paths]
        found = evaluate(files, self.rules, root, self.result.discovery, self.result.dependencies,
                         self.include_tests, scoped, self.contexts)
        out: dict[Key, int] = {}
        for f in found:
            if f.path in paths:
                out[_key(f)] = min(out.get(_key(f), 99), SEVERITY_RANK[f.severity])
        return out


def _scope_of(path: str, result) -> str:
    scoped = result.scopes
    best = ""
    for d in scoped:
        if path.startswith(d + "/") and len(d) > len(best):
            best = d
    return best


def plan_setting_changes(result, include_tests: bool = False,
                         rules: set[str] | None = None) -> list[SettingChange]:
    """Per Worker scope: the smallest compatibility date (and flags) that resolves every finding that settings
    can resolve, in runtime code (all code with include_tests); `rules` narrows the findings considered."""
    considered = [f for f in result.findings
                  if (include_tests or f.context == "runtime") and f.severity != "info"
                  and (rules is None or f.rule_id in rules)]
    if not considered:
        return []
    sim = _Simulator(result, include_tests)
    # only the rules that produced a considered finding: the runs are compared on those findings' keys alone,
    # and each rule's hits are independent of the other rules, so the others cannot change the outcome
    wanted = {f.rule_id for f in considered}
    sim.rules = tuple(r for r in sim.rules if r.id in wanted)
    by_scope: dict[str, list[Finding]] = {}
    for f in considered:
        by_scope.setdefault(_scope_of(f.path, result), []).append(f)
    changes = []
    for scope, fs in sorted(by_scope.items()):
        ch = _plan_scope(sim, scope, fs)
        if ch is not None:
            changes.append(ch)
    return changes


def _plan_scope(sim: _Simulator, scope: str, fs: list[Finding]) -> SettingChange | None:
    cur = sim.settings_of(scope)
    d0, f0 = cur.compatibility_date, tuple(cur.compatibility_flags)
    paths = {f.path for f in fs}
    base = sim.run(scope, d0, f0, paths)
    best_date = max(d0, DEFAULT_COMPAT_DATE)
    best = sim.run(scope, best_date, f0, paths)

    def rank(run: dict[Key, int], f: Finding) -> int:
        return run.get(_key(f), 0)

    target = [f for f in fs if rank(best, f) < rank(base, f)]
    if not target:
        return None
    cands: list[tuple[str, tuple[str, ...]]] = []
    for d in [d0] + [d for d in candidate_dates() if d > d0]:
        if d != d0:
            cands.append((d, f0))
        if "no_nodejs_compat" not in f0 and not nodejs_compat_on(d, f0):
            cands.append((d, f0 + (NODEJS_COMPAT,)))
    if (best_date, f0) not in cands:
        cands.append((best_date, f0))
    per: dict[str, str] = {}
    chosen: tuple[str, tuple[str, ...]] | None = None
    left = {f.fingerprint or str(_key(f)): f for f in target}
    for date, flags in cands:
        run = best if (date, flags) == (best_date, f0) else sim.run(scope, date, flags, paths)
        ok = [f for f in target if rank(run, f) <= rank(best, f)]
        for f in ok:
            k = f.fingerprint or str(_key(f))
            if k in left:
                per[k] = _describe(cur, date, flags)
                del left[k]
        if len(ok) == len(target):
            chosen = (date, flags)
            break
    if chosen is None:
        return None
    date, flags = chosen
    return SettingChange(scope=scope, date=date if date != d0 else None,
                         flags=[f for f in flags if f not in f0], resolves=target, per_finding=per)


def fixable_by_setting(result, include_tests: bool = False) -> dict[str, str]:
    """fingerprint -> the smallest settings change that resolves that finding (e.g. "compatibility_date >=
    2025-09-15 and compatibility flag nodejs_compat (wrangler.toml)"). For reports: "fixable by setting"."""
    out: dict[str, str] = {}
    for ch in plan_setting_changes(result, include_tests):
        out.update(ch.per_finding)
    return out
