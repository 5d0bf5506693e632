"""The pipeline: discover -> parse (facts) -> link modules and classify contexts -> rules -> findings. It owns no
stage's logic: extract.py parses, graph.py links, evaluate.py applies the rules, whatif.py asks what settings
would resolve. Assessment and reports read its `ScanResult` (result.py)."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from ..rules import load_rules
from ..rules.matching import call_patterns
from .dependencies import analyse_dependencies
from .discovery import discover
from .evaluate import apply_suppressions, evaluate, finalize, link_related, verdict_of
from .extract import AGAIN_PARALLEL_BYTES, DEADLINE, is_degraded, parse_all
from .graph import Resolver, build_graph, classify, find_entries, link_modules
from .model import ScanError
from .parsing.relevance import CONSUMER_CALLS, keeper
from .result import ScanResult
from .settings import Settings, resolve_settings, wrangler_dirs
from .whatif import fixable_by_setting


@dataclass
class ScanOptions:
    target: str | None = None
    compat_date: str | None = None
    compat_flags: list[str] = field(default_factory=list)
    plan: str = "paid"
    include_tests: bool = False
    include_large: bool = False
    inline_ignores: bool = True         # honour `cfcompat-ignore` comments (--no-inline-ignores turns off)
    use_graph: bool = True              # contexts from the import graph (off: path conventions only)
    use_guards: bool = True             # downgrade code under guards (`if __name__ == "__main__"`, NODE_ENV...)
    use_cache: bool = True              # per-file facts cache (--no-cache, or CFCOMPAT_NO_CACHE=1, turns off)
    max_seconds: float | None = None    # overall bound: files not reached in time are listed as not scanned
    jobs: int = 0                       # 0 = CPU count
    config: dict[str, Any] = field(default_factory=dict)
    progress: Callable[[int, int], None] | None = None


@lru_cache(maxsize=1)
def keep_patterns() -> tuple[str, ...]:
    """Every glob a call name is checked against, sorted (computed once per process): what the rules match and
    what the engine's other readers of calls look at. The extractors keep only those calls."""
    return tuple(sorted(set(CONSUMER_CALLS) | call_patterns(load_rules())))


def scan(root: Path, options: ScanOptions | None = None) -> ScanResult:
    options = options or ScanOptions()
    root = Path(root)
    disc = discover(root, include_large=options.include_large)
    errors: list[ScanError] = list(disc.skipped)
    languages: dict[str, int] = {}
    for s in disc.sources:
        languages[s.language] = languages.get(s.language, 0) + 1
    settings = resolve_settings(disc.root, target=options.target, compat_date=options.compat_date,
                                compat_flags=options.compat_flags, plan=options.plan, languages=languages,
                                errors=errors, config=options.config)
    scoped: dict[str, Settings] = {}
    for sub in wrangler_dirs(disc.other_files):
        sub_langs: dict[str, int] = {}
        for s in disc.sources:
            if s.path.startswith(sub + "/"):
                sub_langs[s.language] = sub_langs.get(s.language, 0) + 1
        scoped[sub] = resolve_settings(disc.root, target=options.target, compat_date=options.compat_date,
                                       compat_flags=options.compat_flags, plan=options.plan, languages=sub_langs,
                                       errors=errors, config=options.config, subdir=sub)
    use_cache = options.use_cache and not os.environ.get("CFCOMPAT_NO_CACHE")
    DEADLINE.clear()
    if options.max_seconds:
        DEADLINE.update(at=time.monotonic() + options.max_seconds, limit=options.max_seconds)
    keep = None if os.environ.get("CFCOMPAT_KEEP_ALL_CALLS") else keep_patterns()
    try:
        files = parse_all(disc.root, disc.sources, options.jobs, options.progress, use_cache, keep)
    finally:
        DEADLINE.clear()
    for f in files:
        if f.error or f.warning:
            errors.append(ScanError(f.path, f.error or f.warning))
    deps = analyse_dependencies(disc, settings, files, scoped)
    dependencies, dep_findings = deps.dependencies, deps.findings
    errors += deps.errors
    projects = deps.projects
    resolver = Resolver(disc.root, [f.path for f in files], projects, disc.other_files)
    renamed: dict[str, dict[str, str]] = {}
    link_modules(files, disc.root, projects, disc.other_files, resolver=resolver, renamed=renamed)
    if keep is not None:
        # a call the extraction left out that linking renames into a name that matters: extract its file
        # again, keeping those calls too (by their names before linking)
        matters = keeper(keep)
        extra = {p: tuple(sorted("=" + q for q, new in names.items() if matters(new)))
                 for p, names in renamed.items()}
        again = {p for p, names in extra.items() if names}
        if again:   # (Django: 10 files, one of 370 KB: worth the workers from 256 KiB)
            by_src = {s.path: s for s in disc.sources}
            fresh = {f.path: f for f in parse_all(disc.root, [by_src[p] for p in sorted(again)], options.jobs, None,
                                                  use_cache, {p: keep + extra[p] for p in again},
                                                  parallel_bytes=AGAIN_PARALLEL_BYTES)}
            files = [fresh.get(f.path, f) for f in files]
            link_modules(files, disc.root, projects, disc.other_files, only=again, resolver=resolver)
        for f in files:   # the names have served their purpose: nothing downstream can match them
            f.linkable = set()
    mains = [settings.main] if settings.main else []
    for sub, st in scoped.items():
        if st.main:
            mains.append(f"{sub}/{st.main}")
    graph = build_graph(files, disc.root, projects, disc.other_files, resolver)
    entries = find_entries(files, disc.root, deps.entry_points, mains, disc.other_files)
    ctx_result = classify(files, graph, entries)
    rules = load_rules()
    findings = evaluate(files, rules, settings, disc, dependencies, options.include_tests, scoped,
                        ctx_result.contexts if options.use_graph else None, options.use_guards)
    findings += dep_findings
    findings = finalize(findings)
    findings, suppressed = apply_suppressions(findings, files, options.config, options.inline_ignores, errors)
    if options.use_graph:
        link_related(findings)
    errors.sort(key=lambda e: (e.path, e.message))
    sev_counts = {s: 0 for s in ("blocker", "warning", "info")}
    for f in findings:
        if not f.related:
            sev_counts[f.severity] += 1
    summary = {
        "files": len(files),
        "lines": sum(f.lines for f in files),
        "languages": {k: languages[k] for k in sorted(languages)},
        "findings": sev_counts,
        "verdict": verdict_of(findings),
        "suppressed": len(suppressed),
        "partial": any((f.error or "").startswith("not scanned: the scan reached") for f in files),
        "linked": sum(1 for f in findings if f.related),
    }
    result = ScanResult(root=disc.root, settings=settings, files=files, findings=findings,
                        dependencies=dependencies, errors=errors, discovery=disc, summary=summary, scopes=scoped,
                        projects=projects, locked=deps.locked, entry_points=deps.entry_points,
                        installed_size=deps.installed_size, context_mode=ctx_result.mode, entries=entries,
                        graph=graph, suppressed=suppressed,
                        degraded=summary["partial"] or any(is_degraded(f) for f in files))
    try:   # findings a newer compatibility date or a flag would resolve (what `cfcompat fix` proposes)
        fixes = fixable_by_setting(result, options.include_tests)
    except Exception as exc:  # an advisory extra must never fail the scan
        fixes = {}
        errors.append(ScanError(".", f"could not work out setting fixes ({type(exc).__name__}: {exc})"))
    for f in findings:
        f.fixable_by_setting = fixes.get(f.fingerprint, "")
    summary["fixable_by_setting"] = sum(1 for f in findings if f.fixable_by_setting)
    return result
