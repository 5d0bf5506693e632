"""Whole-scan result cache: an unchanged repository gets the last outputs back without scanning; any change
the scan could see (a source file, a manifest, an installed package, an option, cfcompat itself) is a miss."""
from __future__ import annotations

from pathlib import Path

import pytest

from cache_helpers import change_installed_package, change_manifest, copy_repo, exit_and_stdout
from cfcompat.analyzer import cli, engine, extract, resultcache


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.delenv("CFCOMPAT_NO_CACHE", raising=False)
    monkeypatch.setenv("CFCOMPAT_CACHE_DIR", str(tmp_path / "cache"))
    calls = {"n": 0}
    real = engine.scan

    def counting(*a, **k):
        calls["n"] += 1
        return real(*a, **k)

    monkeypatch.setattr(engine, "scan", counting)
    return calls


def run(capsys, *args: str) -> tuple[int, str]:
    return exit_and_stdout(capsys, lambda: cli.main(["scan", *args]))


def repo(tmp_path: Path) -> Path:
    return copy_repo(tmp_path)


def test_unchanged_repository_is_not_scanned_again(env, tmp_path, capsys):
    r = repo(tmp_path)
    sarif = tmp_path / "out.sarif"
    c1, out1 = run(capsys, str(r), "--format", "json", "-o", f"sarif:{sarif}", "--fail-on", "blocker")
    first_sarif = sarif.read_text()
    sarif.unlink()
    c2, out2 = run(capsys, str(r), "--format", "json", "-o", f"sarif:{sarif}", "--fail-on", "blocker")
    assert env["n"] == 1                                   # the second run read the stored outputs
    assert out1 == out2 and sarif.read_text() == first_sarif and c1 == c2 == 1   # same exit status too
    c3, out3 = run(capsys, str(r), "--format", "json", "--no-cache", "--fail-on", "blocker")
    assert env["n"] == 2 and out3 == out1                  # and it equals a scan without any cache


@pytest.mark.parametrize("change", ["source", "new-source", "manifest", "installed", "option", "code"])
def test_any_input_change_is_a_miss(env, tmp_path, capsys, monkeypatch, change):
    r = repo(tmp_path)
    (r / "node_modules" / "left-pad").mkdir(parents=True)
    (r / "node_modules" / "left-pad" / "package.json").write_text('{"name": "left-pad", "version": "1.3.0"}')
    args = [str(r), "--format", "json"]
    _, before = run(capsys, *args)
    assert env["n"] == 1
    if change == "source":
        src = next(p for p in sorted(r.rglob("*.js")) if "node_modules" not in p.parts)
        src.write_text(src.read_text() + "\nrequire('fs').writeFileSync('data/extra.json', '{}');\n")
    elif change == "new-source":
        (r / "extra.js").write_text("require('child_process').execSync('ls');\n")
    elif change == "manifest":
        change_manifest(r)
    elif change == "installed":
        change_installed_package(r)
    elif change == "option":
        args += ["--compat-date", "2024-01-01"]
    elif change == "code":
        monkeypatch.setattr(resultcache, "code_fingerprint", lambda: "another cfcompat")
    _, after = run(capsys, *args)
    assert env["n"] == 2                                   # scanned again
    if change in ("source", "new-source", "manifest", "installed"):
        # ... but every unchanged file's facts came from the facts cache, keyed by the digest the
        # result-cache key already took (one read per file)
        assert extract.LAST_CACHE_STATS["misses"] == (1 if change in ("source", "new-source") else 0)
    monkeypatch.setenv("CFCOMPAT_NO_CACHE", "1")
    _, fresh = run(capsys, *args)
    assert after == fresh                                  # and what it printed is the fresh result
    if change in ("source", "new-source", "manifest", "option"):
        assert after != before


def test_corrupt_store_is_rebuilt(env, tmp_path, capsys):
    r = repo(tmp_path)
    _, out1 = run(capsys, str(r), "--format", "json")
    db = next((tmp_path / "cache").glob("results-v*.sqlite"))
    db.write_bytes(b"not a database" * 50)
    _, out2 = run(capsys, str(r), "--format", "json")
    _, out3 = run(capsys, str(r), "--format", "json")
    assert out1 == out2 == out3 and env["n"] == 2          # rebuilt once, then hit again


def test_ci_modes_and_time_bounds_are_not_cached(env, tmp_path, capsys):
    r = repo(tmp_path)
    for _ in range(2):
        run(capsys, str(r), "--format", "json", "--max-seconds", "60")
    assert env["n"] == 2


def test_big_other_files_are_compared_by_stat_not_read(env, tmp_path, capsys, monkeypatch):
    """A repository full of large assets must not be read through on every scan just to build the key."""
    r = repo(tmp_path)
    big = r / "public" / "video.bin"
    big.parent.mkdir(exist_ok=True)
    big.write_bytes(b"\0" * (resultcache.BIG + 1))
    read: list[str] = []
    real = resultcache._content_hash
    monkeypatch.setattr(resultcache, "_content_hash", lambda p: (read.append(p), real(p))[1])
    run(capsys, str(r), "--format", "json")
    assert read and not any(p.endswith("video.bin") for p in read)
    import os
    os.utime(big, ns=(big.stat().st_atime_ns, big.stat().st_mtime_ns + 10_000_000))
    run(capsys, str(r), "--format", "json")
    assert env["n"] == 2            # a touched asset is still a change
