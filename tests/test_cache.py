"""Incremental cache: warm scans reuse facts, results are identical, a corrupt cache is rebuilt."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfcompat.analyzer import extract as engine
from cfcompat.analyzer.caching.facts import FactCache, decode, encode
from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.reports.json_report import render

FIX = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def cache_env(tmp_path, monkeypatch):
    monkeypatch.delenv("CFCOMPAT_NO_CACHE", raising=False)
    monkeypatch.setenv("CFCOMPAT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_warm_scan_hits_cache_and_is_byte_identical(cache_env):
    fx = FIX / "express-multer-sqlite-cron"
    cold = render(scan(fx, ScanOptions(jobs=1)))
    assert engine.LAST_CACHE_STATS["misses"] > 0
    warm = render(scan(fx, ScanOptions(jobs=1)))
    assert engine.LAST_CACHE_STATS["misses"] == 0 and engine.LAST_CACHE_STATS["hits"] > 0
    nocache = render(scan(fx, ScanOptions(jobs=1, use_cache=False)))
    assert cold == warm == nocache


def test_changed_file_is_reparsed(cache_env, tmp_path):
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "a.js").write_text("require('fs').writeFileSync('x', 'y')\n")
    scan(repo, ScanOptions(jobs=1))
    (repo / "a.js").write_text("require('fs').rmSync('x')\n")
    doc = json.loads(render(scan(repo, ScanOptions(jobs=1))))
    assert engine.LAST_CACHE_STATS["misses"] == 1
    assert doc["findings"][0]["snippet"].startswith("require('fs').rmSync")


def test_corrupt_cache_is_rebuilt(cache_env):
    cache_env.mkdir(parents=True)
    FactCache(cache_env).close()
    db = next(cache_env.glob("facts-v*.sqlite"))
    db.write_bytes(b"this is not a sqlite database" * 100)
    fx = FIX / "rules-state"
    out = render(scan(fx, ScanOptions(jobs=1)))
    assert out == render(scan(fx, ScanOptions(jobs=1, use_cache=False)))


def test_foreign_entries_are_misses_not_trusted(cache_env):
    fx = FIX / "rules-state"
    scan(fx, ScanOptions(jobs=1))
    import sqlite3
    db = sqlite3.connect(next(cache_env.glob("facts-v*.sqlite")))
    db.execute("UPDATE facts SET value = '{\"evil\": 1}'")
    db.commit()
    db.close()
    out = render(scan(fx, ScanOptions(jobs=1)))
    assert engine.LAST_CACHE_STATS["hits"] == 0
    assert out == render(scan(fx, ScanOptions(jobs=1, use_cache=False)))


def test_encode_decode_round_trip():
    from cfcompat.analyzer.parsing.facts import FileFacts
    from cfcompat.analyzer.parsing.javascript import extract_js
    src = (FIX / "express-multer-sqlite-cron" / "src" / "server.js").read_bytes()
    f = extract_js(src, FileFacts("src/server.js", "javascript", "runtime"))
    assert decode(encode(f)) == f


def test_old_formats_go_and_unused_entries_age_out(cache_env, tmp_path, monkeypatch):
    """The cache does not grow for ever: other formats' stores are deleted, entries unused for MAX_AGE_DAYS go,
    and the oldest beyond MAX_ENTRIES go."""
    import sqlite3
    import time

    cache_env.mkdir(parents=True)
    stale = cache_env / "facts-v1.sqlite"
    stale.write_bytes(b"old")
    keep_other = cache_env / "results-v1.sqlite"
    keep_other.write_bytes(b"")
    repo = tmp_path / "r"
    repo.mkdir()
    for i in range(3):
        (repo / f"m{i}.js").write_text(f"require('fs').writeFileSync('x{i}', 'y')\n")
    scan(repo, ScanOptions(jobs=1))
    assert not stale.exists() and keep_other.exists()
    db_path = next(cache_env.glob("facts-v*.sqlite"))
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT count(*) FROM facts").fetchone()[0] == 3
    # an entry nobody used for 31 days disappears at the next close; the used ones are refreshed
    db.execute("INSERT INTO facts (key, at, value) VALUES ('gone', ?, '{}')", (time.time() - 31 * 86400,))
    db.commit()
    scan(repo, ScanOptions(jobs=1))
    keys = {k for (k,) in db.execute("SELECT key FROM facts")}
    assert "gone" not in keys and len(keys) == 3
    # a cap on entries: the least recently used go first
    monkeypatch.setattr(FactCache, "MAX_ENTRIES", 2)
    (repo / "m3.js").write_text("require('fs').rmSync('z')\n")
    scan(repo, ScanOptions(jobs=1))
    assert db.execute("SELECT count(*) FROM facts").fetchone()[0] == 2
    db.close()
