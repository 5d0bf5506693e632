"""Whole-scan result cache: rescanning an unchanged repository reads back the outputs of the last scan.

The per-file facts cache (cache.py) still leaves linking, rules, assessment and rendering to redo on every run;
when *nothing* the scan reads has changed, none of that can change either. The key is a SHA-256 over:

- cfcompat's code and data: every file of the `cfcompat.analyzer`, `cfcompat.rules` and `cfcompat.reports`
  packages, plus the parser fingerprint (tree-sitter and grammar versions);
- the request: scan options (target, date, flags, plan, config, workload, ...), the formats and files asked
  for, `--fail-on`, colour, and every `CFCOMPAT_*` variable except the cache location;
- the repository as discovered: the root, each source file's path, language, role and content hash, each
  other file's content hash (above 1 MiB its size, mode and mtime instead: hashing gigabytes of images or model
  weights would cost more than the scan, and an edit changes the mtime), the skipped files and the
  vendor folders.

Reads outside discovery (installed packages under node_modules/ or a virtualenv, see manifests/installed.py)
are recorded while the scan runs and stored with the entry; a lookup re-checks every one (a folder by the
names, sizes and times of its entries, a file by size and time). Stored: only complete scans (not partial,
not `--diff-base` / `--baseline` runs), as the rendered outputs and the worst severity (for the exit code).
A corrupt store is moved aside and rebuilt; any failure means "miss", never an error.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from .cache import cache_dir, content_digest, open_store, parser_fingerprint
from .discovery import Discovery

VERSION = 1
BIG = 1024 * 1024     # other files above this are compared by size, mode and mtime, not content
KEEP_ENTRIES = 64


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of every file of the three packages (sources, rule packs, knowledge base, templates)."""
    import cfcompat.analyzer as an
    import cfcompat.reports as rp
    import cfcompat.rules as ru
    h = hashlib.sha256(f"{VERSION}:{parser_fingerprint()}".encode())
    for mod in (an, ru, rp):
        base = Path(mod.__file__).resolve().parent
        for p in sorted(base.rglob("*")):
            if "__pycache__" in p.parts or not p.is_file() or p.suffix in (".pyc", ".pyo"):
                continue
            h.update(b"\0" + str(p.relative_to(base)).encode() + b"\0")
            try:
                h.update(p.read_bytes())
            except OSError:
                h.update(b"?")
    return h.hexdigest()


def _file_sig(path: str) -> str:
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return "-"
    return f"{st.st_mode}:{st.st_size}:{st.st_mtime_ns}"


def _dir_sig(path: str) -> str:
    h = hashlib.sha256()
    try:
        with os.scandir(path) as it:
            rows = []
            for e in it:
                try:
                    st = e.stat(follow_symlinks=False)
                    rows.append(f"{e.name}\0{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}")
                except OSError:
                    rows.append(f"{e.name}\0?")
    except OSError:
        return "-"
    for r in sorted(rows):
        h.update(r.encode("utf-8", "surrogateescape") + b"\n")
    return h.hexdigest()


def signature(kind: str, path: str) -> str:
    return _dir_sig(path) if kind == "dir" else _file_sig(path)


def _content_hash(path: str) -> bytes:
    d = content_digest(path)
    return d if d is not None else b"unreadable"


def repo_key(disc: Discovery, request: dict[str, Any], digests: dict[str, bytes] | None = None) -> str:
    """The key of this scan; `digests` receives each readable source's content digest (the facts cache keys
    files by the same digest, so the scan need not read them again for that)."""
    h = hashlib.sha256(code_fingerprint().encode())
    env = {k: v for k, v in os.environ.items() if k.startswith("CFCOMPAT_")
           and k not in ("CFCOMPAT_CACHE_DIR", "CFCOMPAT_BENCH_DIR")}
    h.update(json.dumps({"request": request, "env": env, "root": str(disc.root)}, sort_keys=True,
                        default=str).encode())
    h.update(json.dumps([[s.path, s.language, s.role, s.size] for s in disc.sources]).encode())
    h.update(json.dumps([[e.path, e.message] for e in disc.skipped]).encode())
    h.update(json.dumps(list(disc.vendor_dirs)).encode())
    root = str(disc.root)
    for s in disc.sources:
        d = content_digest(os.path.join(root, s.path))
        if d is not None and digests is not None:
            digests[s.path] = d
        h.update(d if d is not None else b"unreadable")
    for rel in disc.other_files:
        h.update(b"\0" + rel.encode("utf-8", "surrogateescape") + b"\0")
        path = os.path.join(root, rel)
        size = disc.other_sizes.get(rel)
        h.update(_file_sig(path).encode() if size is not None and size > BIG else _content_hash(path))
    return h.hexdigest()


class ResultCache:
    """SQLite store of rendered scan outputs keyed by `repo_key`."""

    def __init__(self, directory: Path | None = None):
        self.path = (directory or cache_dir()) / f"results-v{VERSION}.sqlite"
        self.db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = self._open()
        except (OSError, sqlite3.Error):
            self.db = None

    def _open(self) -> sqlite3.Connection:
        return open_store(self.path, "CREATE TABLE IF NOT EXISTS results "
                                     "(key TEXT PRIMARY KEY, at REAL NOT NULL, value TEXT NOT NULL)")

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored outputs for `key` when every recorded outside read is unchanged; else None."""
        if self.db is None:
            return None
        try:
            row = self.db.execute("SELECT value FROM results WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            value = json.loads(row[0])
            outputs = value["outputs"]
            worst = int(value["worst"])
            touched = value["touched"]
            if not isinstance(outputs, dict) or not all(isinstance(v, str) for v in outputs.values()):
                return None
            for kind, path, sig in touched:
                if signature(str(kind), str(path)) != sig:
                    return None
            return {"outputs": outputs, "worst": worst}
        except (sqlite3.Error, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, outputs: dict[str, str], worst: int, touched: list[tuple[str, str]]) -> None:
        if self.db is None:
            return
        sigs = [[k, p, signature(k, p)] for k, p in sorted(set(touched))]
        value = json.dumps({"outputs": outputs, "worst": worst, "touched": sigs})
        try:
            with self.db:
                self.db.execute("INSERT OR REPLACE INTO results (key, at, value) VALUES (?, ?, ?)",
                                (key, time.time(), value))
                self.db.execute("DELETE FROM results WHERE key NOT IN "
                                "(SELECT key FROM results ORDER BY at DESC LIMIT ?)", (KEEP_ENTRIES,))
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self.db is not None:
            try:
                self.db.close()
            except sqlite3.Error:
                pass
