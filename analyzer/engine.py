"""The pipeline: discover -> parse (facts) -> link modules and classify contexts -> rules -> findings. It owns no
stage's logic: extract.py parses, graph.py links, evaluate.py applies the rules, whatif.py asks what settings
would resolve. Assessment and reports read its `ScanResult` (result.py)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from ..rules import load_rules
from ..rules.matching import call_patterns
from . import inputs
from .budget import Deadline
from .dependencies import DependencyReport, analyse_dependencies
from .discovery import Discovery, discover
from .evaluate import apply_suppressions, evaluate, finalize, link_related, verdict_of
from .extract import AGAIN_PARALLEL_BYTES, NOT_REACHED, is_degraded, parse_all
from .lifetime import (mark_process_state, mark_startup_calls, mark_startup_state, process_wide_instances,
                       startup_functions)
from .frameworks import browser_reason, detect_frameworks, framework_entries
from .graph import ImportGraph, Resolver, build_graph, classify, find_entries, front_end_roots, link_modules
from .model import Finding, ScanError
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


MAX_FINDINGS_PER_FILE = 1000
MAX_FINDINGS = 20000


def cap_findings(findings: list[Finding], errors: list[ScanError], per_file: int | None = None,
                 total: int | None = None) -> dict[str, Any]:
    """Keep at most `per_file` findings in a file and `total` in the scan, the most severe first (then by
    position), in place; every cut is an entry in `errors`, and the returned summary (empty when nothing was
    cut) says how many went: reports and memory stay bounded on a file of a million flagged calls."""
    per_file = MAX_FINDINGS_PER_FILE if per_file is None else per_file
    total = MAX_FINDINGS if total is None else total
    rank = {"blocker": 0, "warning": 1, "info": 2}

    def order(f: Finding) -> tuple:
        return (rank.get(f.severity, 3), f.line, f.column, f.rule_id)

    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        by_file.setdefault(f.path, []).append(f)
    cut: dict[str, int] = {}
    kept: list[Finding] = []
    for path, group in by_file.items():
        if len(group) > per_file:
            group = sorted(group, key=order)
            cut[path] = len(group) - per_file
            errors.append(ScanError(path, f"{len(group) - per_file} more findings in this file not reported "
                                          f"(at most {per_file} per file, the most severe first)"))
            group = group[:per_file]
        kept += group
    over = len(kept) - total
    if over > 0:
        keep_ids = {id(f) for f in sorted(kept, key=lambda f: (order(f), f.path))[:total]}
        errors.append(ScanError(".", f"{over} more findings not reported (at most {total} per scan, the most "
                                     "severe first)"))
        kept = [f for f in kept if id(f) in keep_ids]
    if not cut and over <= 0:
        return {}
    kept_ids = {id(k) for k in kept}
    findings[:] = [f for f in findings if id(f) in kept_ids]
    return {"findings_not_reported": sum(cut.values()) + max(over, 0), "files": dict(sorted(cut.items())),
            "per_file": per_file, "per_scan": total}


def scan(root: Path, options: ScanOptions | None = None) -> ScanResult:
    """The pipeline. With `max_seconds`, every stage runs under the deadline (budget.py): a stage it cuts
    answers with its fallback, says so in `errors`, and the result is partial."""
    options = options or ScanOptions()
    root = Path(root)
    deadline = Deadline(options.max_seconds)
    reading = deadline.for_reading()
    disc = reading.run("discovery", lambda: discover(root, include_large=options.include_large),
                       lambda: Discovery(root=Path(inputs.resolve(root))))
    if disc.incomplete:
        deadline.cut.append("discovery")
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
    keep = None if os.environ.get("CFCOMPAT_KEEP_ALL_CALLS") else keep_patterns()
    files = parse_all(disc.root, disc.sources, options.jobs, options.progress, use_cache, keep, deadline=reading)
    for f in files:
        if f.error or f.warning:
            errors.append(ScanError(f.path, f.error or f.warning))
    deps = deadline.run("dependency analysis", lambda: analyse_dependencies(disc, settings, files, scoped),
                        DependencyReport)
    dependencies, dep_findings = deps.dependencies, deps.findings
    errors += deps.errors
    projects = deps.projects
    resolver = Resolver(disc.root, [f.path for f in files], projects, disc.other_files)
    errors += [ScanError(path, note) for path, note in resolver.notes]
    renamed: dict[str, dict[str, str]] = {}
    linked = deadline.run("linking modules", lambda: link_modules(files, disc.root, projects, disc.other_files,
                                                                  resolver=resolver, renamed=renamed) or True,
                          lambda: False)
    if keep is not None and linked:
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
                                                  parallel_bytes=AGAIN_PARALLEL_BYTES, deadline=deadline)}
            files = [fresh.get(f.path, f) for f in files]
            deadline.run("linking modules", lambda: link_modules(files, disc.root, projects, disc.other_files,
                                                                 only=again, resolver=resolver), lambda: 0)
    if keep is not None:
        for f in files:   # the names have served their purpose: nothing downstream can match them
            f.linkable = set()
    # where code runs: functions called while a module loads make their calls at load time too (lifetime.py)
    def lifetimes() -> None:
        startup = startup_functions(files, resolver)
        mark_startup_calls(files, startup)
        mark_startup_state(files, startup)
        mark_process_state(files, process_wide_instances(files, resolver))

    deadline.run("where code runs (start-up or request)", lifetimes, lambda: None)
    mains = [settings.main] if settings.main else []
    for sub, st in scoped.items():
        if st.main:
            mains.append(f"{sub}/{st.main}")
    frameworks = detect_frameworks(dependencies)

    def contexts() -> tuple[Any, Any, Any]:
        graph = build_graph(files, disc.root, projects, disc.other_files, resolver)
        routed = framework_entries(frameworks, [f.path for f in files])
        entries = find_entries(files, disc.root, deps.entry_points, mains, disc.other_files, projects, routed)
        browser = {f.path: why for f in files if f.language != "python"
                   and (why := browser_reason(frameworks, f.path, f.directives))}
        return graph, entries, classify(files, graph, entries, front_end_roots(dependencies), browser)

    graph, entries, ctx_result = deadline.run("the import graph", contexts,
                                              lambda: (ImportGraph(), {}, classify(files, ImportGraph(), {})))
    rules = load_rules()
    findings = deadline.run("the rules", lambda: evaluate(files, rules, settings, disc, dependencies,
                                                          options.include_tests, scoped,
                                                          ctx_result.contexts if options.use_graph else None,
                                                          options.use_guards), list)
    findings += dep_findings
    findings = finalize(findings)
    findings, suppressed = apply_suppressions(findings, files, options.config, options.inline_ignores, errors)
    cut = cap_findings(findings, errors)
    if options.use_graph:
        link_related(findings)
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
        "partial": False,
        "linked": sum(1 for f in findings if f.related),
    }
    if cut:
        summary["cut"] = cut
    result = ScanResult(root=disc.root, settings=settings, files=files, findings=findings,
                        dependencies=dependencies, errors=errors, discovery=disc, summary=summary, scopes=scoped,
                        projects=projects, locked=deps.locked, entry_points=deps.entry_points,
                        installed_size=deps.installed_size, context_mode=ctx_result.mode, entries=entries,
                        graph=graph, contexts=ctx_result.contexts, suppressed=suppressed,
                        frameworks=frameworks)
    # findings a newer compatibility date or a flag would resolve (what `cfcompat fix` proposes)
    fixes = deadline.run("working out setting fixes", lambda: _setting_fixes(result, options.include_tests, errors),
                         dict)
    for f in findings:
        f.fixable_by_setting = fixes.get(f.fingerprint, "")
    summary["fixable_by_setting"] = sum(1 for f in findings if f.fixable_by_setting)
    errors += [ScanError(".", m) for m in deadline.messages()]
    errors.sort(key=lambda e: (e.path, e.message))
    summary["partial"] = bool(deadline.cut) or any((f.error or "").startswith(NOT_REACHED) for f in files)
    result.degraded = summary["partial"] or any(is_degraded(f) for f in files)
    return result


def _setting_fixes(result: ScanResult, include_tests: bool, errors: list[ScanError]) -> dict[str, str]:
    try:
        return fixable_by_setting(result, include_tests)
    except Exception as exc:  # an advisory extra must never fail the scan
        errors.append(ScanError(".", f"could not work out setting fixes ({type(exc).__name__}: {exc})"))
        return {}
