"""Incremental cache of per-file facts (the parse stage's; extract.py).

Key: SHA-256 of (facts format version, a hash of the parser source files and grammar versions, the file's
path and role, the kept call patterns, its bytes' digest). Rules are applied after facts, so rule changes need no invalidation. Values are
JSON (never pickle: a foreign or tampered cache must not be able to run code), decoded through typed
constructors; anything that does not decode is treated as a miss and overwritten. The store is one SQLite
file in the user's cache directory (`$CFCOMPAT_CACHE_DIR`, else `$XDG_CACHE_HOME/cfcompat`, else
`~/.cache/cfcompat`); a corrupt database is moved aside and rebuilt.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import inputs
from ..parsing.facts import Arg, Assign, Call, ClassDef, FileFacts, Import, Invoke, StateVar, Suppression

FORMAT = 14


@lru_cache(maxsize=1)
def parser_fingerprint() -> str:
    """Changes whenever fact extraction could change: parser sources and grammar versions."""
    h = hashlib.sha256(str(FORMAT).encode())
    here = Path(__file__).resolve().parent.parent
    for name in ("parsing/facts.py", "parsing/javascript.py", "parsing/python.py", "parsing/scopes.py",
                 "parsing/relevance.py", "discovery.py", "extract.py", "inputs.py", "caching/facts.py"):
        try:
            h.update((here / name).read_bytes())
        except OSError:
            h.update(name.encode())
    for dist in ("tree-sitter", "tree-sitter-javascript", "tree-sitter-typescript", "tree-sitter-python"):
        try:
            h.update(f"{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(dist.encode())
    return h.hexdigest()[:24]


def cache_dir() -> Path:
    return Path(inputs.cache_dir())


def file_key(path: str, role: str, digest: bytes, mode: str = "all") -> str:
    """`digest`: `inputs.digest` of the file; `mode`: which calls the extraction kept
    (parsing.relevance.fingerprint of the patterns). A path that is not valid UTF-8 (its undecodable bytes
    kept as surrogates) is encoded back to those bytes."""
    h = hashlib.sha256(parser_fingerprint().encode())
    h.update(b"\0" + path.encode("utf-8", "surrogateescape") + b"\0" + role.encode() + b"\0" + mode.encode()
             + b"\0")
    h.update(digest)
    return h.hexdigest()


# ------------------------------------------------------------------ encoding (plain JSON, typed decoding)

def _arg_out(a: Arg | None) -> Any:
    if a is None:
        return None
    d: dict[str, Any] = {"k": a.kind, "v": a.value, "t": a.text}
    if a.inner:
        d["i"] = [_arg_out(x) for x in a.inner]
    if a.props:
        d["p"] = {k: _arg_out(v) for k, v in a.props.items()}
    if a.bound is not None:
        d["b"] = _arg_out(a.bound)
    return d


def _arg_in(d: Any, depth: int = 0) -> Arg | None:
    if d is None:
        return None
    if not isinstance(d, dict) or depth > 200:
        raise ValueError("bad arg")
    v = d.get("v")
    if v is not None and not isinstance(v, str):
        raise ValueError("bad arg value")
    return Arg(kind=str(d["k"]), value=v, text=str(d.get("t", "")),
               inner=[_arg_in(x, depth + 1) for x in d.get("i", [])],  # type: ignore[misc]
               props={str(k): _arg_in(x, depth + 1) for k, x in d.get("p", {}).items()},  # type: ignore[misc]
               bound=_arg_in(d.get("b"), depth + 1))


def encode(f: FileFacts) -> str:
    return json.dumps({
        "path": f.path, "language": f.language, "role": f.role, "lines": f.lines, "error": f.error,
        "warning": f.warning,
        "parse_errors": f.parse_errors,
        "imports": [[i.module, i.kind, i.line, i.column, i.snippet, i.names, i.top_level, i.type_only, i.guard]
                    for i in f.imports],
        "calls": [[c.qname, c.kind, c.line, c.column, c.end_line, c.snippet, [_arg_out(a) for a in c.args],
                   {k: _arg_out(v) for k, v in c.kwargs.items()}, c.top_level, c.symbol, c.guard,
                   _arg_out(c.receiver), c.via] for c in f.calls],
        "linkable": sorted(f.linkable),
        "spans": [[k, lo, hi] for k, (lo, hi) in f.spans.items()],
        "suppressions": [[s.line, s.rules, s.reason, s.own_line, s.file_level] for s in f.suppressions],
        "state": [[s.name, s.kind, s.line, s.column, s.snippet, s.ctor, s.writes, s.owner, s.writers]
                  for s in f.state],
        "exports": f.exports,
        "assigns": [[a.target, a.line, a.column, a.snippet, _arg_out(a.value), a.scope] for a in f.assigns],
        "classes": [[c.name, c.line, c.bases] for c in f.classes],
        "invokes": [[i.caller, i.callee, i.line] for i in f.invokes],
        "functions": sorted(f.functions),
        "directives": sorted(f.directives),
    }, separators=(",", ":"))


def decode(text: str) -> FileFacts:
    d = json.loads(text)
    f = FileFacts(path=str(d["path"]), language=str(d["language"]), role=str(d["role"]), lines=int(d["lines"]),
                  error=d["error"] if isinstance(d["error"], str) else None, parse_errors=int(d["parse_errors"]),
                  warning=d["warning"] if isinstance(d["warning"], str) else None)
    for m, k, ln, col, snip, names, top, to, guard in d["imports"]:
        f.imports.append(Import(str(m), str(k), int(ln), int(col), str(snip), [str(x) for x in names], bool(top),
                                bool(to), str(guard)))
    for q, k, ln, col, end, snip, args, kwargs, top, sym, guard, recv, via in d["calls"]:
        f.calls.append(Call(str(q), str(k), int(ln), int(col), int(end), str(snip),
                            [_arg_in(a) for a in args], {str(x): _arg_in(v) for x, v in kwargs.items()},  # type: ignore[misc]
                            bool(top), str(sym), str(guard), _arg_in(recv), str(via)))
    f.linkable = {str(q) for q in d["linkable"]}
    f.spans = {str(k): (int(lo), int(hi)) for k, lo, hi in d["spans"]}
    for ln, rules, reason, own, fl in d["suppressions"]:
        f.suppressions.append(Suppression(int(ln), [str(r) for r in rules], str(reason), bool(own), bool(fl)))
    for name, kind, ln, col, snip, ctor, writes, owner, writers in d["state"]:
        f.state.append(StateVar(str(name), str(kind), int(ln), int(col), str(snip), str(ctor),
                                [int(w) for w in writes], str(owner), [str(w) for w in writers]))
    f.exports = {str(k): str(v) for k, v in d["exports"].items()}
    for tgt, ln, col, snip, val, scope in d.get("assigns", []):
        f.assigns.append(Assign(str(tgt), int(ln), int(col), str(snip), _arg_in(val), str(scope)))
    for name, ln, bases in d.get("classes", []):
        f.classes.append(ClassDef(str(name), int(ln), [str(b) for b in bases]))
    for caller, callee, ln in d.get("invokes", []):
        f.invokes.append(Invoke(str(caller), str(callee), int(ln)))
    f.functions = {str(x) for x in d.get("functions", [])}
    f.directives = {str(x) for x in d.get("directives", [])}
    return f


def open_store(path: Path, schema: str) -> sqlite3.Connection:
    """A SQLite store with `schema` (one CREATE TABLE); a corrupt or foreign file is moved aside and rebuilt."""
    table = schema.split("EXISTS", 1)[1].split("(", 1)[0].strip()
    try:
        db = sqlite3.connect(path, timeout=5)
        db.execute(schema)
        db.execute(f"SELECT count(*) FROM {table} LIMIT 1").fetchone()
        return db
    except sqlite3.DatabaseError:
        try:
            path.replace(path.with_suffix(".corrupt"))
        except OSError:
            pass
        db = sqlite3.connect(path, timeout=5)
        db.execute(schema)
        return db


class FactCache:
    """SQLite-backed store of encoded facts. Every failure degrades to 'no cache', never to an error.

    Housekeeping, so that a cache on a developer machine or a CI runner does not grow for ever: stores of other
    formats are deleted when this one opens, each entry remembers when it was last used, and on close entries
    unused for `MAX_AGE_DAYS` go, as do the oldest beyond `MAX_ENTRIES`."""

    MAX_AGE_DAYS = 30
    MAX_ENTRIES = 300_000

    def __init__(self, directory: Path | None = None):
        self.dir = directory or cache_dir()
        self.path = self.dir / f"facts-v{FORMAT}.sqlite"
        self.db: sqlite3.Connection | None = None
        self.hits = 0
        self.misses = 0
        self.pending: list[tuple[str, str]] = []
        self.used: list[str] = []
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._drop_other_formats()
            self.db = self._open()
        except (OSError, sqlite3.Error):
            self.db = None

    def _drop_other_formats(self) -> None:
        for old in self.dir.glob("facts-v*.sqlite*"):
            stem = old.name.split(".sqlite", 1)[0]
            if stem != f"facts-v{FORMAT}" and stem[len("facts-v"):].isdigit():
                try:
                    old.unlink()
                except OSError:
                    pass

    def _open(self) -> sqlite3.Connection:
        # `at` before the (large) value: reading it never walks a row's overflow pages
        db = open_store(self.path, "CREATE TABLE IF NOT EXISTS facts "
                                   "(key TEXT PRIMARY KEY, at REAL NOT NULL, value TEXT NOT NULL)")
        db.execute("CREATE INDEX IF NOT EXISTS facts_at ON facts (at)")
        return db

    def get_many(self, keys: list[str]) -> dict[str, FileFacts]:
        out: dict[str, FileFacts] = {}
        if self.db is None or not keys:
            return out
        try:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                q = "SELECT key, value FROM facts WHERE key IN (%s)" % ",".join("?" * len(chunk))
                for k, v in self.db.execute(q, chunk):
                    try:
                        out[k] = decode(v)
                    except Exception:
                        continue   # undecodable entry: a miss, overwritten below
        except sqlite3.Error:
            return {}
        self.used.extend(out)
        return out

    def put(self, key: str, facts: FileFacts, text: str | None = None) -> None:
        """Store `facts` (`text`: their encoding when a worker already made it)."""
        if self.db is not None:
            self.pending.append((key, text if text is not None else encode(facts)))

    def flush(self) -> None:
        if self.db is None or not (self.pending or self.used):
            return
        import time
        now = time.time()
        try:
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO facts (key, at, value) VALUES (?, ?, ?)",
                                    [(k, now, v) for k, v in self.pending])
                for i in range(0, len(self.used), 500):
                    chunk = self.used[i:i + 500]
                    self.db.execute("UPDATE facts SET at = ? WHERE key IN (%s)" % ",".join("?" * len(chunk)),
                                    [now, *chunk])
                self.db.execute("DELETE FROM facts WHERE at < ?", (now - self.MAX_AGE_DAYS * 86400,))
                if self.pending and self.db.execute("SELECT count(*) FROM facts").fetchone()[0] > self.MAX_ENTRIES:
                    self.db.execute("DELETE FROM facts WHERE key IN (SELECT key FROM facts ORDER BY at DESC "
                                    "LIMIT -1 OFFSET ?)", (self.MAX_ENTRIES,))
        except sqlite3.Error:
            pass
        self.pending.clear()
        self.used.clear()

    def close(self) -> None:
        self.flush()
        if self.db is not None:
            try:
                self.db.close()
            except sqlite3.Error:
                pass
