"""Issue 19: a hostile or unlucky repository must not hang, crash or mislead. Each test reproduces one item with
a generated tree (no real payloads) and runs the CLI in a subprocess with a deadline, so a regression fails
instead of hanging the suite."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cfcompat.analyzer import extract
from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.reports.json_report import document

FORMATS = ["text", "json", "sarif", "markdown", "html", "github", "junit"]


def cli(root: Path, *args: str, cache: Path | None = None, timeout: float = 120,
        env: dict | None = None) -> subprocess.CompletedProcess:
    e = {**os.environ, **(env or {})}
    e.pop("CFCOMPAT_NO_CACHE", None)
    if cache is not None:
        e["CFCOMPAT_CACHE_DIR"] = str(cache)
    return subprocess.run([sys.executable, "-m", "cfcompat.analyzer.console", "scan", str(root), *args],
                          capture_output=True, timeout=timeout, env=e)


def errors_of(p: subprocess.CompletedProcess) -> dict[str, str]:
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return {e["path"]: e["message"] for e in json.loads(p.stdout)["errors"]}


def small_repo(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "index.js").write_text("require('fs').writeFileSync('data.json', '{}');\n")
    (root / "package.json").write_text('{"name": "x", "main": "src/index.js"}')
    return root


# -- item 1: FIFOs, sockets, devices, links to /dev/zero or to huge files outside ------------------------------

@pytest.mark.parametrize("name", ["wrangler.toml", "wrangler.jsonc", "cfcompat.toml", "pyproject.toml"])
def test_item1_a_fifo_named_like_a_config_file_does_not_hang_a_cached_scan(tmp_path, name):
    root = small_repo(tmp_path / "repo")
    os.mkfifo(root / name)
    for args in ([], ["--no-cache"]):
        p = cli(root, "--format", "json", *args, cache=tmp_path / "cache", timeout=60)
        errs = errors_of(p)
        assert "not a regular file" in errs[name], errs
        assert "src/index.js" in p.stdout.decode()


def test_item1_fifos_in_installed_packages_and_venvs_do_not_hang(tmp_path):
    root = small_repo(tmp_path / "repo")
    (root / "node_modules" / "x").mkdir(parents=True)
    os.mkfifo(root / "node_modules" / "x" / "package.json")
    dist = root / ".venv" / "lib" / "python3.11" / "site-packages" / "y-1.0.dist-info"
    dist.mkdir(parents=True)
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr\n")
    os.mkfifo(dist / "METADATA")
    errs = errors_of(cli(root, "--format", "json", "--no-cache", timeout=60))
    assert "not a regular file" in errs["node_modules/x/package.json"]
    assert "not a regular file" in errs[".venv/lib/python3.11/site-packages/y-1.0.dist-info/METADATA"]


def test_item1_links_to_devices_and_to_huge_files_outside_are_not_read(tmp_path):
    root = small_repo(tmp_path / "repo")
    huge = tmp_path / "huge.bin"
    with open(huge, "wb") as fh:           # 3 GB, sparse: no disk used
        fh.truncate(3 * 1024 ** 3)
    (root / "wrangler.toml").symlink_to("/dev/zero")
    (root / "src" / "big.js").symlink_to(huge)
    (root / "requirements.txt").symlink_to(huge)
    for args in ([], ["--no-cache"]):
        errs = errors_of(cli(root, "--format", "json", *args, cache=tmp_path / "cache", timeout=60))
        for name in ("wrangler.toml", "src/big.js", "requirements.txt"):
            assert "outside" in errs[name], (name, errs)


def test_item1_special_files_in_the_tree_are_reported(tmp_path):
    root = small_repo(tmp_path / "repo")
    os.mkfifo(root / "src" / "pipe.js")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "src" / "server.sock"))
    try:
        errs = errors_of(cli(root, "--format", "json", "--no-cache", timeout=60))
    finally:
        sock.close()
    assert "not a regular file" in errs["src/pipe.js"] and "not a regular file" in errs["src/server.sock"]


# -- item 2: a file name that is not UTF-8 ------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_item2_a_name_that_is_not_utf8_stops_no_format(tmp_path, fmt):
    root = small_repo(tmp_path / "repo")
    bad = os.fsencode(root / "src") + b"/bad\xff\xfename.js"
    with open(bad, "wb") as fh:
        fh.write(b"require('child_process').execSync('ls');\n")
    os.mkdir(os.fsencode(root) + b"/dir\xff")
    p = cli(root, "--format", fmt, "--no-cache", timeout=60)
    assert p.returncode == 0 and not p.stderr, p.stderr.decode(errors="replace")
    p.stdout.decode("utf-8")                                  # every format stays valid UTF-8
    if fmt == "json":
        errs = errors_of(p)
        assert "not valid UTF-8" in errs["src/bad\\xff\\xfename.js"] and "not valid UTF-8" in errs["dir\\xff"]
    cached = cli(root, "--format", fmt, cache=tmp_path / "cache", timeout=60)
    assert cached.returncode == 0 and cached.stdout == p.stdout


# -- item 9: one invalid UTF-8 byte ---------------------------------------------------------------------------------

def test_item9_one_invalid_byte_does_not_leave_a_source_unscanned(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.py").write_bytes(b"# caf\xe9 menu\nopen('orders.txt', 'w').write('1')\n")
    (root / "server.js").write_bytes(b"// \xff\nrequire('fs').writeFileSync('data.json', '{}');\n")
    doc = document(scan(root, ScanOptions(jobs=1, use_cache=False)))
    found = {(f["path"], f["rule_id"]) for f in doc["findings"]}
    assert ("app.py", "py-open-write") in found and ("server.js", "fs-persistent-write") in found
    errs = {e["path"]: e["message"] for e in doc["errors"]}
    assert errs["app.py"] == "not valid UTF-8 (byte 0xe9 at line 1); scanned with replacement characters"


# -- item 6: under load, timeouts are retried serially; degraded results are never cached; a dead worker ---------

SLOW = "require('fs').writeFileSync('slow.json', '{}');\n"


def _many(root: Path, n: int = 6) -> Path:
    root.mkdir(parents=True)
    for i in range(n):
        (root / f"f{i}.js").write_text(SLOW if i == 0 else f"require('fs').rmSync('d{i}');\n")
    return root


def test_item6_a_file_that_times_out_in_a_worker_is_retried_alone(tmp_path, monkeypatch):
    """A file that only a loaded worker fails to finish in time gives the same report as -j1."""
    root = _many(tmp_path / "repo")
    main = os.getpid()
    real = extract.parse_file

    def loaded(r, s, keep=None):
        if s.path == "f0.js" and os.getpid() != main:    # slow only in the workers (the machine is busy)
            import time
            time.sleep(5)
        return real(r, s, keep)

    monkeypatch.setattr(extract, "parse_file", loaded)
    monkeypatch.setattr(extract, "FILE_SECONDS", 1.0)
    monkeypatch.setattr(extract, "PARALLEL_MIN_FILES", 2)
    parallel = document(scan(root, ScanOptions(jobs=2, use_cache=False)))
    serial = document(scan(root, ScanOptions(jobs=1, use_cache=False)))
    assert parallel == serial and not parallel["errors"]


def test_item6_a_degraded_result_is_never_cached(tmp_path, monkeypatch):
    """A file given up on (the timer) is never stored: not its facts, not the scan's outputs."""
    root = _many(tmp_path / "repo", 2)
    env = {"CFCOMPAT_FILE_SECONDS": "0.000001"}
    first = cli(root, "--format", "json", cache=tmp_path / "cache", env=env)
    assert "analysis took longer" in first.stdout.decode()
    assert not list((tmp_path / "cache").rglob("records-v*/*.json"))
    again = cli(root, "--format", "json", cache=tmp_path / "cache")
    fresh = cli(root, "--format", "json", "--no-cache")
    assert again.stdout == fresh.stdout and b"analysis took longer" not in again.stdout


def test_item6_a_worker_that_dies_does_not_lose_the_timer(tmp_path, monkeypatch):
    root = _many(tmp_path / "repo")
    main = os.getpid()
    real = extract.parse_file

    def dying(r, s, keep=None):
        if os.getpid() != main:
            os._exit(1)                                   # the worker is killed
        if s.path == "f0.js":
            import time
            time.sleep(5)                                 # and this file hangs in the main process too
        return real(r, s, keep)

    monkeypatch.setattr(extract, "parse_file", dying)
    monkeypatch.setattr(extract, "FILE_SECONDS", 1.0)
    monkeypatch.setattr(extract, "PARALLEL_MIN_FILES", 2)
    doc = document(scan(root, ScanOptions(jobs=2, use_cache=False)))
    errs = {e["path"]: e["message"] for e in doc["errors"]}
    assert errs == {"f0.js": "analysis took longer than 1 s; skipped"}
    assert {f["path"] for f in doc["findings"]} == {f"f{i}.js" for i in range(1, 6)}
