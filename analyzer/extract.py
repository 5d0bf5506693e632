"""The parse stage: facts of every source file (tree-sitter extraction), in worker processes for big scans,
from the per-file facts cache where a file is unchanged, each file under a wall-clock bound. It receives the
call-name patterns worth keeping from the engine; it knows nothing of rules."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from .discovery import SourceFile, read_source
from .parsing.facts import FileFacts

PARALLEL_MIN_FILES = int(os.environ.get("CFCOMPAT_PARALLEL_MIN_FILES", "400"))
# ... or this many bytes of source (a few big files, e.g. a bundled compiler, are worth a second process;
# measured on the node_modules corpus, 389 files / 1.5 MB: median 1.81 s -> 1.48 s)
PARALLEL_MIN_BYTES = int(os.environ.get("CFCOMPAT_PARALLEL_MIN_BYTES", str(1024 * 1024)))
AGAIN_PARALLEL_BYTES = 256 * 1024   # re-extraction after linking: a few files, the pool is worth it sooner


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
