"""Incremental cache: warm scans reuse facts, results are identical, a corrupt cache is rebuilt."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cfcompat.analyzer import engine
from cfcompat.analyzer.cache import FactCache, decode, encode
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
