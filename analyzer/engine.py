"""The engine: discover -> parse (facts) -> rules -> findings. Reports and assessment read its `ScanResult`."""
from __future__ import annotations

import fnmatch
import hashlib
import importlib
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from ..rules import Hit, Rule, RuleContext, load_rules, rules_by_id
from ..rules.matching import call_patterns, hits_of, rule_class, rule_globs
from .discovery import Discovery, SourceFile, discover, read_source
from .model import Dependency, Finding, ScanError, SEVERITY_RANK
from .parsing.facts import FileFacts
from .parsing.relevance import CONSUMER_CALLS, keeper
from .settings import Settings, resolve_settings, settings_for, wrangler_dirs
from .targets import effective_target

# Below this many files a single process is faster than paying worker start-up (override for tests).
PARALLEL_MIN_FILES = int(os.environ.get("CFCOMPAT_PARALLEL_MIN_FILES", "400"))
# ... or this many bytes of source (a few big files, e.g. a bundled compiler, are worth a second process;
# measured on the node_modules corpus, 389 files / 1.5 MB: median 1.81 s -> 1.48 s)
PARALLEL_MIN_BYTES = int(os.environ.get("CFCOMPAT_PARALLEL_MIN_BYTES", str(1024 * 1024)))
AGAIN_PARALLEL_BYTES = 256 * 1024   # re-extraction after linking: a few files, the pool is worth it sooner


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
    discovery: Discovery | None = None  # reuse a discovery already made (the result-cache lookup walks first)
    digests: dict[str, bytes] | None = None   # ... and the source digests it took (path -> SHA-256)


@dataclass
class ScanResult:
    root: Path
    settings: Settings
    files: list[FileFacts]
    findings: list[Finding]
    dependencies: list[Dependency]
    errors: list[ScanError]
    discovery: Discovery
    summary: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return self.settings.target


# --------------------------------------------------------------------------------------------- parsing stage

@lru_cache(maxsize=1)
def keep_patterns() -> tuple[str, ...]:
    """Every glob a call name is checked against, sorted (computed once per process): what the rules match and
    what the engine's other readers of calls look at. The extractors keep only those calls."""
    return tuple(sorted(set(CONSUMER_CALLS) | call_patterns(load_rules())))


FILE_SECONDS = float(os.environ.get("CFCOMPAT_FILE_SECONDS", "20"))


class _FileTimeout(BaseException):   # not caught by the per-file `except Exception`
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise _FileTimeout()


def parse_file(root: str, src: SourceFile, keep: tuple[str, ...] | None = None) -> FileFacts:
    """Facts of one file. Never raises: a problem becomes `FileFacts.error`. `keep`: the call-name patterns
    that matter (parsing/relevance.py); None keeps every call."""
    data, err = read_source(Path(root), src.path)
    return parse_bytes(src, data, err, keep)


def _bounded(fn: Callable[[], FileFacts], src: SourceFile, seconds: float) -> FileFacts:
    """Run one file's extraction under a wall-clock bound (POSIX main thread; elsewhere unbounded). The timer
    interrupts Python code; tree-sitter's C parse itself is bounded by the file-size limit."""
    import signal
    import threading
    if seconds <= 0 or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return fn()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    except _FileTimeout:
        f = FileFacts(path=src.path, language=src.language, role=src.role)
        f.error = f"analysis took longer than {seconds:g} s; skipped"
        return f
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@lru_cache(maxsize=2)
def _extractor(python: bool) -> Any:
    """The Python or the JavaScript extractor's module, imported on first use (each loads its grammars)."""
    if python:
        from .parsing import python as module
    else:
        from .parsing import javascript as module  # type: ignore[no-redef]
    return module


def parse_bytes(src: SourceFile, data: bytes | None, err: str | None = None,
                keep: tuple[str, ...] | None = None) -> FileFacts:
    facts = FileFacts(path=src.path, language=src.language, role=src.role)
    if data is None:
        facts.error = err
        return facts
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:   # read_source rejects such files; callers passing raw bytes get replacements
        data = data.decode("utf-8", "replace").encode("utf-8")
    facts.lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    try:
        if src.language == "python":
            _extractor(True).extract_python(data, facts, keep)
        else:
            _extractor(False).extract_js(data, facts, keep)
    except RecursionError:
        facts.error = "nesting too deep to analyse; skipped"
        facts.imports.clear()
        facts.calls.clear()
    except Exception as exc:  # a parser bug must not stop the scan; say which file
        facts.error = f"could not be analysed ({type(exc).__name__}: {exc}); skipped"
        facts.imports.clear()
        facts.calls.clear()
    return facts


Keeps = "tuple[str, ...] | None | dict[str, tuple[str, ...]]"   # one set of call patterns, or one per path


def _keep_of(keep: Any, path: str) -> tuple[str, ...] | None:
    return keep[path] if isinstance(keep, dict) else keep


def _parse_chunk(args: tuple[str, list[SourceFile], float, Any, bool]) -> list[tuple[FileFacts, str | None]]:
    """A worker's share: facts, and (when the caller caches) their cache encoding, made here in parallel."""
    root, chunk, seconds, keep, encode = args
    out = []
    for s in chunk:
        f = _bounded(lambda s=s: parse_file(root, s, _keep_of(keep, s.path)), s, seconds)
        text = None
        if encode and f.error is None:
            from .cache import encode as encode_facts
            text = encode_facts(f)
        out.append((f, text))
    return out


def _not_scanned(s: SourceFile, limit: float) -> FileFacts:
    f = FileFacts(path=s.path, language=s.language, role=s.role)
    f.error = f"not scanned: the scan reached its time limit ({limit:g} s, --max-seconds)"
    return f


def parse_all(root: Path, sources: list[SourceFile], jobs: int,
              progress: Callable[[int, int], None] | None = None, use_cache: bool = False,
              keep: Keeps = None, digests: dict[str, bytes] | None = None,
              parallel_bytes: int = 0) -> list[FileFacts]:
    """Facts of every source, from the facts cache where the file is unchanged. `digests`: content digests
    already taken (the result-cache key reads every file first), so that a file is not read twice for its key.
    `keep`: the call patterns that matter, or a dict of them per path. `parallel_bytes`: the size from which a
    few files go to worker processes (default `PARALLEL_MIN_BYTES`)."""
    if not use_cache:
        return _parse_all(root, sources, jobs, progress, keep, parallel_bytes=parallel_bytes)
    from .cache import FactCache, content_digest, file_key
    from .parsing.relevance import fingerprint as keep_fingerprint
    cache = FactCache()
    keyed: dict[str, str] = {}
    errors: list[FileFacts] = []
    for s in sources:
        digest = (digests or {}).get(s.path) or content_digest(str(root / s.path))
        if digest is None:
            errors.append(parse_bytes(s, *read_source(root, s.path)))
        else:
            keyed[s.path] = file_key(s.path, s.role, digest, keep_fingerprint(_keep_of(keep, s.path)))
    hits = cache.get_many(sorted(set(keyed.values())))
    out: list[FileFacts] = list(errors)
    misses: list[SourceFile] = []
    for s in sources:
        k = keyed.get(s.path)
        if k is None:
            continue
        f = hits.get(k)
        if f is not None and f.path == s.path and f.role == s.role:
            out.append(f)
        else:
            misses.append(s)
    cache.hits, cache.misses = len(out) - len(errors), len(misses)
    done0 = len(out)
    encoded: dict[str, str] = {}
    fresh = _parse_all(root, misses, jobs, (lambda d, t: progress(done0 + d, len(sources))) if progress else None,
                       keep, encoded, parallel_bytes)
    for f in fresh:
        k = keyed.get(f.path)
        if k is not None and f.error is None:
            cache.put(k, f, encoded.get(f.path))
    cache.close()
    out.extend(fresh)
    out.sort(key=lambda f: f.path)
    LAST_CACHE_STATS.update(hits=cache.hits, misses=cache.misses, path=str(cache.path))
    return out


LAST_CACHE_STATS: dict[str, Any] = {}


DEADLINE: dict[str, float] = {}   # {"at": monotonic deadline, "limit": seconds} while a bounded scan runs


def _parse_all(root: Path, sources: list[SourceFile], jobs: int,
               progress: Callable[[int, int], None] | None = None,
               keep: Keeps = None, encoded: dict[str, str] | None = None,
               parallel_bytes: int = 0) -> list[FileFacts]:
    """Facts of `sources`, in path order. With `encoded`, worker processes also return each file's cache
    encoding (path -> text) so the main process does not encode them one by one."""
    import time
    jobs = jobs or os.cpu_count() or 1
    total = len(sources)
    at, limit = DEADLINE.get("at"), DEADLINE.get("limit", 0.0)
    nbytes = sum(s.size for s in sources)
    if jobs <= 1 or total < 2 or (total < PARALLEL_MIN_FILES and nbytes < (parallel_bytes or PARALLEL_MIN_BYTES)):
        out = []
        for i, s in enumerate(sources, 1):
            if at is not None and time.monotonic() > at:
                out.append(_not_scanned(s, limit))
                continue
            out.append(_bounded(lambda s=s: parse_file(str(root), s, _keep_of(keep, s.path)), s, FILE_SECONDS))
            if progress:
                progress(i, total)
        return out
    # biggest files first, in chunks of about equal bytes, so one huge file does not finish last alone
    per_chunk = max(256 * 1024, nbytes // (jobs * 8))
    chunks = []
    cur: list[SourceFile] = []
    cur_bytes = 0
    for src in sorted(sources, key=lambda x: (-x.size, x.path)):
        cur.append(src)
        cur_bytes += src.size
        if cur_bytes >= per_chunk or len(cur) >= 256:
            chunks.append((str(root), cur, FILE_SECONDS, keep, encoded is not None))
            cur, cur_bytes = [], 0
    if cur:
        chunks.append((str(root), cur, FILE_SECONDS, keep, encoded is not None))
    out = []
    done = 0
    from concurrent.futures import ProcessPoolExecutor   # only here: multiprocessing costs ~20 ms to import
    pool = ProcessPoolExecutor(max_workers=jobs)
    try:
        futures = [pool.submit(_parse_chunk, c) for c in chunks]
        for fut, chunk in zip(futures, chunks):
            remaining = None if at is None else max(0.0, at - time.monotonic())
            try:
                pairs = fut.result(timeout=remaining)
            except Exception:   # the deadline passed (or a worker died): the chunk is reported, not lost
                pairs = [(_not_scanned(s, limit) if at is not None else parse_file(str(root), s, _keep_of(keep, s.path)),
                          None)
                         for s in chunk[1]]
            res = [f for f, _ in pairs]
            if encoded is not None:
                encoded.update((f.path, text) for f, text in pairs if text is not None)
            out.extend(res)
            done += len(res)
            if progress:
                progress(done, total)
    finally:
        pool.shutdown(wait=at is None, cancel_futures=True)
    out.sort(key=lambda f: f.path)
    return out


def fingerprint(rule_id: str, path: str, snippet: str, symbol: str, occurrence: int) -> str:
    norm = re.sub(r"\s+", " ", snippet).strip()
    h = hashlib.sha256(f"{rule_id}\x00{path}\x00{norm}\x00{symbol}\x00{occurrence}".encode("utf-8"))
    return h.hexdigest()[:20]


def _downgrade(sev: str, role: str, guard: str, include_tests: bool, reason: str = "") -> tuple[str, str]:
    if guard:
        return "info", guard
    if role != "runtime" and not include_tests:
        label = {"test": "test code", "build": "build/tooling code", "config": "tool configuration"}[role]
        why = reason or "judged from its path"
        return "info", f"{label}, not part of the deployed Worker ({why})"
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
            langs = set(rule.languages)
            tgt = settings.target
            if tgt in ("workers", "python-workers"):
                tgt = "python-workers" if langs == {"python"} else "workers"
            sev = rule.severity_for(tgt) or rule.severity_for(settings.target)
            if sev is None:
                continue
            mb = size / 1048576
            msg = rule.message.replace("{size}", f"{mb:.1f} MB")
            line, snippet = 1, f"{PurePosixPath(rel).name} ({mb:.1f} MB)"
            if rule.cls:
                # a rule class may look inside the file (read-only) and decide; None means no finding
                hit = rule_class(rule.cls).check_file(rule, rel, discovery.root)
                if hit is None:
                    continue
                line, snippet, msg = hit.line, hit.snippet, hit.message or rule.message
            role = _role_for_file(rel)
            final, note = _downgrade(sev, role, "", False)
            out.append(Finding(
                rule_id=rule.id, category=rule.category, severity=final, path=rel, line=line, column=1,
                end_line=line, message=msg, snippet=snippet, context=role,
                remediation=rule.remediation, docs=list(rule.docs), effort=rule.effort, original_severity=sev,
                note=note))
    return out


def _role_for_file(rel: str) -> str:
    from .discovery import classify_role
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


def scan(root: Path, options: ScanOptions | None = None) -> ScanResult:
    options = options or ScanOptions()
    root = Path(root)
    disc = options.discovery if options.discovery is not None else discover(root, include_large=options.include_large)
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
    import time
    DEADLINE.clear()
    if options.max_seconds:
        DEADLINE.update(at=time.monotonic() + options.max_seconds, limit=options.max_seconds)
    keep = None if os.environ.get("CFCOMPAT_KEEP_ALL_CALLS") else keep_patterns()
    try:
        files = parse_all(disc.root, disc.sources, options.jobs, options.progress, use_cache, keep, options.digests)
    finally:
        DEADLINE.clear()
    for f in files:
        if f.error:
            errors.append(ScanError(f.path, f.error))
    from .dependencies import analyse_dependencies
    dependencies, dep_findings, dep_errors, extras = analyse_dependencies(disc, settings, files, scoped)
    errors += dep_errors
    from .graph import Resolver, build_graph, classify, find_entries, link_modules
    projects = extras.get("projects") or []
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
    entries = find_entries(files, disc.root, extras.get("entry_points") or [], mains, disc.other_files)
    ctx_result = classify(files, graph, entries)
    extras["context_mode"] = ctx_result.mode
    extras["entries"] = entries
    extras["graph"] = graph
    rules = load_rules()
    findings = evaluate(files, rules, settings, disc, dependencies, options.include_tests, scoped,
                        ctx_result.contexts if options.use_graph else None, options.use_guards)
    findings += dep_findings
    findings = finalize(findings)
    findings, suppressed = apply_suppressions(findings, files, options.config, options.inline_ignores, errors)
    if options.use_graph:
        link_related(findings)
    extras["suppressed"] = suppressed
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
    extras["scopes"] = scoped
    result = ScanResult(root=disc.root, settings=settings, files=files, findings=findings,
                        dependencies=dependencies, errors=errors, discovery=disc, summary=summary, extras=extras)
    try:   # findings a newer compatibility date or a flag would resolve (what `cfcompat fix` proposes)
        from .fix.settings_fix import fixable_by_setting
        fixes = fixable_by_setting(result, options.include_tests)
    except Exception as exc:  # an advisory extra must never fail the scan
        fixes = {}
        errors.append(ScanError(".", f"could not work out setting fixes ({type(exc).__name__}: {exc})"))
    for f in findings:
        f.fixable_by_setting = fixes.get(f.fingerprint, "")
    summary["fixable_by_setting"] = sum(1 for f in findings if f.fixable_by_setting)
    return result


def worst(findings: list[Finding]) -> int:
    return max((SEVERITY_RANK[f.severity] for f in findings), default=0)
