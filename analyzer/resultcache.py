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
  vendor folders; and the root's wrangler config files, which the settings read even when an ignore file
  hides them from discovery.

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

from . import quick
from .cache import cache_dir, content_digest, open_store, parser_fingerprint
from .discovery import Discovery

VERSION = 1
BIG = quick.BIG       # other files above this are compared by size, mode and mtime, not content
KEEP_ENTRIES = 64


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """cfcompat's own files (quick.code_fingerprint: every file of the three packages) and the parser
    fingerprint (tree-sitter and grammar versions)."""
    return hashlib.sha256(f"{VERSION}:{parser_fingerprint()}:{quick.code_fingerprint()}".encode()).hexdigest()


def _content_hash(path: str) -> bytes | None:
    """The one place the key reads a file's content (None: unreadable)."""
    return content_digest(path)


def repo_key(disc: Discovery, request: dict[str, Any], digests: dict[str, bytes] | None = None,
             checks: list[tuple[str, str, str]] | None = None) -> str:
    """The key of this scan; `digests` receives each readable source's content digest (the facts cache keys
    files by the same digest, so the scan need not read them again for that); `checks` receives the replay
    checks (quick.py) of every file read here."""
    h = hashlib.sha256(code_fingerprint().encode())
    env = {k: v for k, v in os.environ.items() if k.startswith("CFCOMPAT_")
           and k not in ("CFCOMPAT_CACHE_DIR", "CFCOMPAT_BENCH_DIR")}
    h.update(json.dumps({"request": request, "env": env, "root": str(disc.root)}, sort_keys=True,
                        default=str).encode())
    h.update(json.dumps([[s.path, s.language, s.role, s.size] for s in disc.sources]).encode())
    h.update(json.dumps([[e.path, e.message] for e in disc.skipped]).encode())
    h.update(json.dumps(list(disc.vendor_dirs)).encode())
    root = str(disc.root)

    def hashed(path: str) -> bytes | None:
        d = _content_hash(path)
        h.update(d if d is not None else b"unreadable")
        if checks is not None:
            checks.append(("sha", path, quick.sha_text(d)))
        return d

    for s in disc.sources:
        d = hashed(os.path.join(root, s.path))
        if d is not None and digests is not None:
            digests[s.path] = d
    for rel in disc.other_files:
        h.update(b"\0" + rel.encode("utf-8", "surrogateescape") + b"\0")
        path = os.path.join(root, rel)
        size = disc.other_sizes.get(rel)
        if size is not None and size > BIG:
            sig = quick.file_sig(path)
            h.update(sig.encode())
            if checks is not None:
                checks.append(("stat", path, sig))
        else:
            hashed(path)
    from .settings import WRANGLER_NAMES
    for name in WRANGLER_NAMES:   # settings.read_wrangler reads these at the root even when an ignore file hides them
        h.update(b"\0wrangler:" + name.encode() + b"\0")
        hashed(os.path.join(root, name))
    return h.hexdigest()


def discovery_checks(disc: Discovery, given: Path, config_file: Path | None) -> list[tuple[str, str, str]]:
    """The replay checks that discovery would see the same files: the root it resolves to, each walked
    folder's entries, the ignore files it loaded, the venv markers of the folders it pruned, and the config
    files `load_config` may read (also when absent)."""
    root = str(disc.root)
    out = [("real", os.path.abspath(given), root)]
    out += [("list", os.path.join(root, rel) if rel else root, sig) for rel, sig in disc.walked]
    for rel in disc.ignore_files:
        p = os.path.join(root, rel)
        out.append(("sha", p, quick.signature("sha", p)))
    for rel in disc.vendor_dirs:
        p = os.path.join(root, rel, "pyvenv.cfg")
        out.append(("exists", p, quick.signature("exists", p)))
    for p in [os.path.join(root, "cfcompat.toml"), os.path.join(root, "pyproject.toml")] + \
            ([os.path.abspath(config_file)] if config_file is not None else []):
        out.append(("sha", p, quick.signature("sha", p)))
    return out


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
        """The stored outputs for `key` when every recorded outside read is unchanged, with those reads'
        checks; else None."""
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
                if quick.signature(str(kind), str(path)) != sig:
                    return None
            return {"outputs": outputs, "worst": worst, "touched": [tuple(map(str, t)) for t in touched]}
        except (sqlite3.Error, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, outputs: dict[str, str], worst: int,
            touched: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
        """Store; returns the checks of the outside reads (also when nothing could be stored)."""
        sigs = [(k, p, quick.signature(k, p)) for k, p in sorted(set(touched))]
        if self.db is None:
            return sigs
        value = json.dumps({"outputs": outputs, "worst": worst, "touched": sigs})
        try:
            with self.db:
                self.db.execute("INSERT OR REPLACE INTO results (key, at, value) VALUES (?, ?, ?)",
                                (key, time.time(), value))
                self.db.execute("DELETE FROM results WHERE key NOT IN "
                                "(SELECT key FROM results ORDER BY at DESC LIMIT ?)", (KEEP_ENTRIES,))
        except sqlite3.Error:
            pass
        return sigs

    def close(self) -> None:
        if self.db is not None:
            try:
                self.db.close()
            except sqlite3.Error:
                pass
