"""The parse stage: facts of every source file (tree-sitter extraction), in worker processes for big scans,
from the per-file facts cache where a file is unchanged, each file under a wall-clock bound. It receives the
call-name patterns worth keeping from the engine; it knows nothing of rules."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from . import inputs
from .budget import Deadline
from .discovery import MAX_LARGE_SOURCE_BYTES, SourceFile, read_source
from .parsing.facts import FileFacts

PARALLEL_MIN_FILES = int(os.environ.get("CFCOMPAT_PARALLEL_MIN_FILES", "400"))
# ... or this many bytes of source (a few big files, e.g. a bundled compiler, are worth a second process;
# measured on the node_modules corpus, 389 files / 1.5 MB: median 1.81 s -> 1.48 s)
PARALLEL_MIN_BYTES = int(os.environ.get("CFCOMPAT_PARALLEL_MIN_BYTES", str(1024 * 1024)))
AGAIN_PARALLEL_BYTES = 256 * 1024   # re-extraction after linking: a few files, the pool is worth it sooner


FILE_SECONDS = float(os.environ.get("CFCOMPAT_FILE_SECONDS", "20"))
MAX_CALLS_PER_FILE = 20_000    # calls kept (the ones a rule can match); a real file has a few hundred


class _FileTimeout(BaseException):   # not caught by the per-file `except Exception`
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise _FileTimeout()


TIMED_OUT = "analysis took longer than"
NOT_REACHED = "not scanned: the scan reached its time limit"


def is_degraded(f: FileFacts) -> bool:
    """Facts that depend on this run's machine and load (a time bound cut them): never cached, and a scan
    that has any is never stored whole."""
    return bool(f.error) and f.error.startswith((TIMED_OUT, NOT_REACHED))


def parse_file(root: str, src: SourceFile, keep: tuple[str, ...] | None = None) -> FileFacts:
    """Facts of one file. Never raises: a problem becomes `FileFacts.error`. `keep`: the call-name patterns
    that matter (parsing/relevance.py); None keeps every call."""
    data, err = read_source(Path(root), src.path)
    return parse_bytes(src, data, err, keep)


def _bounded(fn: Callable[[], FileFacts], src: SourceFile, seconds: float, reason: str = "") -> FileFacts:
    """Run one file's extraction under a wall-clock bound (POSIX main thread; elsewhere unbounded). The timer
    interrupts Python code; tree-sitter's C parse itself is bounded by the file-size limit. `reason`: the error
    when the bound is the scan's deadline rather than the per-file limit."""
    import signal
    import threading
    if seconds <= 0 or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return fn()
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, seconds)
            return fn()
        finally:   # a timer firing here, after fn returned, still lands in the `except` below
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _FileTimeout:
        f = FileFacts(path=src.path, language=src.language, role=src.role)
        f.error = reason or f"{TIMED_OUT} {seconds:g} s; skipped"
        return f
    finally:
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
    except UnicodeDecodeError as exc:   # one bad byte must not leave the file unscanned
        line = data.count(b"\n", 0, exc.start) + 1
        facts.warning = (f"not valid UTF-8 (byte 0x{data[exc.start:exc.start + 1].hex()} at line {line}); "
                         "scanned with replacement characters")
        data = data.decode("utf-8", "replace").encode("utf-8")
    facts.lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    try:
        if src.language == "python":
            _extractor(True).extract_python(data, facts, keep)
        else:
            _extractor(False).extract_js(data, facts, keep)
        if len(facts.calls) > MAX_CALLS_PER_FILE:   # bounds the facts, the rules' work and the findings it gives
            note = (f"{len(facts.calls) - MAX_CALLS_PER_FILE} calls beyond the first {MAX_CALLS_PER_FILE} that rules "
                    "look at were not analysed")
            facts.warning = f"{facts.warning}; {note}" if facts.warning else note
            del facts.calls[MAX_CALLS_PER_FILE:]
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


def _parse_chunk(args: tuple[str, list[SourceFile], float, Any, bool, bool]
                 ) -> tuple[list[tuple[FileFacts, str | None]], list[inputs.Check] | None]:
    """A worker's share: facts, (when the caller caches) their cache encoding, made here in parallel, and
    (when the caller records) the checks of what was read here."""
    root, chunk, seconds, keep, encode, record = args
    out = []
    with inputs.recording(inputs.Recorder() if record else None) as rec:
        for s in chunk:
            f = _bounded(lambda s=s: parse_file(root, s, _keep_of(keep, s.path)), s, seconds)
            text = None
            if encode and f.error is None:
                from .caching.facts import encode as encode_facts
                text = encode_facts(f)
            out.append((f, text))
    return out, (rec.items() if rec is not None else None)


def _not_scanned(s: SourceFile, limit: float) -> FileFacts:
    f = FileFacts(path=s.path, language=s.language, role=s.role)
    f.error = f"{NOT_REACHED} ({limit:g} s, --max-seconds)"
    return f


def parse_all(root: Path, sources: list[SourceFile], jobs: int,
              progress: Callable[[int, int], None] | None = None, use_cache: bool = False,
              keep: Keeps = None, parallel_bytes: int = 0, deadline: Deadline | None = None) -> list[FileFacts]:
    """Facts of every source, from the facts cache where the file is unchanged. `keep`: the call patterns that
    matter, or a dict of them per path. `parallel_bytes`: the size from which a few files go to worker
    processes (default `PARALLEL_MIN_BYTES`)."""
    if not use_cache:
        return _parse_all(root, sources, jobs, progress, keep, parallel_bytes=parallel_bytes, deadline=deadline)
    from .caching.facts import FactCache, file_key
    from .parsing.relevance import fingerprint as keep_fingerprint
    cache = FactCache()
    keyed: dict[str, str] = {}
    sigs: dict[str, str] = {}
    errors: list[FileFacts] = []
    root_s = str(root)
    for s in sources:
        digest = inputs.digest(root_s, s.path, limit=MAX_LARGE_SOURCE_BYTES)
        if digest is None:
            errors.append(parse_file(root_s, s, _keep_of(keep, s.path)))
        else:
            keyed[s.path] = file_key(s.path, s.role, digest, keep_fingerprint(_keep_of(keep, s.path)))
            sigs[s.path] = digest.hex()
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
    read: dict[str, str] = {}
    fresh = _parse_all(root, misses, jobs, (lambda d, t: progress(done0 + d, len(sources))) if progress else None,
                       keep, encoded, parallel_bytes, read, deadline)
    for f in fresh:
        k = keyed.get(f.path)
        # stored only when the parse read the bytes the key was made from (not a file edited meanwhile)
        if k is not None and f.error is None and read.get(f.path, "").endswith(":" + sigs[f.path]):
            cache.put(k, f, encoded.get(f.path))
    cache.close()
    out.extend(fresh)
    out.sort(key=lambda f: f.path)
    LAST_CACHE_STATS.update(hits=cache.hits, misses=cache.misses, path=str(cache.path))
    return out


LAST_CACHE_STATS: dict[str, Any] = {}


def _merge_reads(checks: list[inputs.Check] | None, read: dict[str, str] | None, root_s: str) -> None:
    """Hand a worker's (or a serial pass's) checks to the scan's recorder, and note what each source read."""
    if not checks:
        return
    outer = inputs.current()
    if outer is not None:
        outer.merge(checks)
    if read is not None:
        for kind, r, rel, sig in checks:
            if kind == "sha" and r == root_s:
                read[rel] = sig


def _parse_all(root: Path, sources: list[SourceFile], jobs: int,
               progress: Callable[[int, int], None] | None = None,
               keep: Keeps = None, encoded: dict[str, str] | None = None,
               parallel_bytes: int = 0, read: dict[str, str] | None = None,
               deadline: Deadline | None = None) -> list[FileFacts]:
    """Facts of `sources`, in path order. With `encoded`, worker processes also return each file's cache
    encoding (path -> text) so the main process does not encode them one by one; with `read`, the `sha`
    signature of the bytes each file was parsed from (path -> signature).

    A file that took longer than `FILE_SECONDS` in a worker is parsed again here, alone, before it is given
    up: a loaded machine must not change the report. A chunk whose worker died is parsed here too, each file
    still under the timer."""
    import time
    jobs = jobs or os.cpu_count() or 1
    total = len(sources)
    at, limit = (deadline.at, deadline.limit) if deadline is not None else (None, 0.0)
    nbytes = sum(s.size for s in sources)
    root_s = str(root)
    record = read is not None or inputs.current() is not None

    def serial(todo: list[SourceFile], tick: Callable[[int], None] | None = None) -> list[FileFacts]:
        res = []
        with inputs.recording(inputs.Recorder() if record else None) as rec:
            for i, s in enumerate(todo, 1):
                if at is not None and time.monotonic() > at:
                    res.append(_not_scanned(s, limit))
                    continue
                left = FILE_SECONDS if at is None else max(0.01, at - time.monotonic())
                res.append(_bounded(lambda s=s: parse_file(root_s, s, _keep_of(keep, s.path)), s,
                                    min(FILE_SECONDS, left),
                                    f"{NOT_REACHED} ({limit:g} s, --max-seconds)" if left < FILE_SECONDS else ""))
                if tick:
                    tick(i)
        _merge_reads(rec.items() if rec is not None else None, read, root_s)
        return res

    if jobs <= 1 or total < 2 or (total < PARALLEL_MIN_FILES and nbytes < (parallel_bytes or PARALLEL_MIN_BYTES)):
        return serial(sources, (lambda i: progress(i, total)) if progress else None)
    # biggest files first, in chunks of about equal bytes, so one huge file does not finish last alone
    per_chunk = max(256 * 1024, nbytes // (jobs * 8))
    chunks = []
    cur: list[SourceFile] = []
    cur_bytes = 0
    for src in sorted(sources, key=lambda x: (-x.size, x.path)):
        cur.append(src)
        cur_bytes += src.size
        if cur_bytes >= per_chunk or len(cur) >= 256:
            chunks.append((root_s, cur, FILE_SECONDS, keep, encoded is not None, record))
            cur, cur_bytes = [], 0
    if cur:
        chunks.append((root_s, cur, FILE_SECONDS, keep, encoded is not None, record))
    out: list[FileFacts] = []
    done = 0
    from concurrent.futures import ProcessPoolExecutor   # only here: multiprocessing costs ~20 ms to import
    pool = ProcessPoolExecutor(max_workers=jobs)
    again: list[SourceFile] = []
    try:
        futures = [pool.submit(_parse_chunk, c) for c in chunks]
        for fut, chunk in zip(futures, chunks):
            remaining = None if at is None else max(0.0, at - time.monotonic())
            try:
                pairs, checks = fut.result(timeout=remaining)
            except Exception:   # the deadline passed (or a worker died): the chunk is reported, not lost
                if at is not None and time.monotonic() >= at:
                    pairs, checks = [(_not_scanned(s, limit), None) for s in chunk[1]], None
                else:
                    pairs, checks = [(f, None) for f in serial(chunk[1])], None
            _merge_reads(checks, read, root_s)
            by_path = {s.path: s for s in chunk[1]}
            for f, text in pairs:
                if f.error and f.error.startswith(TIMED_OUT):
                    again.append(by_path[f.path])
                    continue
                if encoded is not None and text is not None:
                    encoded[f.path] = text
                out.append(f)
            done += len(pairs)
            if progress:
                progress(done, total)
    finally:
        pool.shutdown(wait=at is None, cancel_futures=True)
    if again:   # timed out next to other work: once more on its own, in this process, before giving up
        out.extend(serial(sorted(again, key=lambda s: s.path)))
    out.sort(key=lambda f: f.path)
    return out
