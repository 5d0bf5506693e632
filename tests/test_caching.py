"""Caching (analyzer/caching/, analyzer/inputs.py): a scan's outputs are stored with the checks of everything it
read, and served again only while every check holds. The console script answers an unchanged rescan without
loading the analyzer; the CLI answers from the same record; anything the scan read changing, or anything around
the command changing, runs the full scan, whose outputs equal a scan without any cache."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cache_helpers import change_installed_package, change_manifest, copy_repo, exit_and_stdout
from cfcompat.analyzer import cli, console, engine, extract, inputs
from cfcompat.analyzer.caching import records


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.delenv("CFCOMPAT_NO_CACHE", raising=False)
    monkeypatch.setenv("CFCOMPAT_CACHE_DIR", str(tmp_path / "cache"))
    calls = {"cli": 0, "scan": 0}
    real_main, real_scan = cli.main, engine.scan

    def counting_main(*a, **k):
        calls["cli"] += 1
        return real_main(*a, **k)

    def counting_scan(*a, **k):
        calls["scan"] += 1
        return real_scan(*a, **k)

    monkeypatch.setattr(cli, "main", counting_main)
    monkeypatch.setattr(engine, "scan", counting_scan)
    return calls


def run(capsys, monkeypatch, *args: str) -> tuple[int, str]:
    """The console script (replay first, then the CLI)."""
    monkeypatch.setattr(sys, "argv", ["cfcompat", "scan", *args])
    return exit_and_stdout(capsys, console.main)


def run_cli(capsys, *args: str) -> tuple[int, str]:
    """The CLI alone (no replay before it): `cli.main` answers from the record itself."""
    return exit_and_stdout(capsys, lambda: cli.main(["scan", *args]))


def fresh(capsys, monkeypatch, *args: str) -> str:
    return run(capsys, monkeypatch, *args, "--no-cache")[1]


def repo(tmp_path: Path) -> Path:
    r = copy_repo(tmp_path)
    (r / "node_modules" / "left-pad").mkdir(parents=True)
    (r / "node_modules" / "left-pad" / "package.json").write_text('{"name": "left-pad", "version": "1.3.0"}')
    (r / ".gitignore").write_text("generated/\n")
    (r / "generated").mkdir()
    (r / "generated" / "out.js").write_text("require('child_process').execSync('make');\n")
    return r


def stored(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / f"records-v{records.VERSION}").glob("*.json"))


def same_size_and_mtime(p: Path, new: bytes) -> None:
    """Rewrite `p` with bytes of the same length and put its modification time back (what `cp -p`, a
    checkout or an editor restoring times can do): only the content and the change time move."""
    st = p.stat()
    assert len(new) == st.st_size
    time.sleep(0.02)          # past the file system's clock tick, so the change time can move
    p.write_bytes(new)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_same_command_on_unchanged_repository_is_replayed(env, tmp_path, capsys, monkeypatch):
    r = repo(tmp_path)
    sarif = tmp_path / "reports" / "out.sarif"
    args = [str(r), "--format", "json", "-o", f"sarif:{sarif}", "--fail-on", "blocker"]
    c1, out1 = run(capsys, monkeypatch, *args)
    first = sarif.read_text()
    assert env == {"cli": 1, "scan": 1} and len(stored(tmp_path)) == 1
    shutil.rmtree(sarif.parent)
    c2, out2 = run(capsys, monkeypatch, *args)
    assert env == {"cli": 1, "scan": 1}                          # the second run never reached the CLI
    assert out2 == out1 and sarif.read_text() == first and c1 == c2 == 1   # outputs, files, exit status
    c3, out3 = run(capsys, monkeypatch, str(r), "--format", "json", "--no-cache", "--fail-on", "blocker")
    assert env["scan"] == 2 and out3 == out1 and c3 == 1         # and they equal a scan without any cache


def test_the_cli_answers_from_the_same_record(env, tmp_path, capsys):
    """Started without the console script (an embedding program, `python -m`), the one caching call in the
    CLI looks the record up itself."""
    r = repo(tmp_path)
    c1, out1 = run_cli(capsys, str(r), "--format", "json", "--fail-on", "blocker")
    c2, out2 = run_cli(capsys, str(r), "--format", "json", "--fail-on", "blocker")
    assert env["scan"] == 1 and out1 == out2 and c1 == c2 == 1


CHANGES = ["source", "new-file", "removed-file", "gitignore", "config-created", "manifest", "installed",
           "big-asset-size", "symlink", "ignored-wrangler", "argument", "environment", "code"]


@pytest.mark.parametrize("change", CHANGES)
def test_any_change_runs_the_full_scan(env, tmp_path, capsys, monkeypatch, change):
    r = repo(tmp_path)
    big = r / "public" / "video.bin"
    big.parent.mkdir(exist_ok=True)
    big.write_bytes(b"\0" * (2 * 1024 * 1024))
    (r / "lib").mkdir(exist_ok=True)
    (r / "lib" / "a.js").write_text("module.exports = 1;\n")
    (r / "lib" / "b.js").write_text("require('fs').writeFileSync('/tmp/x', '1');\n")
    (r / "lib" / "current.js").symlink_to("a.js")
    with open(r / ".gitignore", "a") as fh:
        fh.write("wrangler.toml\n")   # hidden from discovery, still read by the settings
    args = [str(r), "--format", "json"]
    run(capsys, monkeypatch, *args)
    run(capsys, monkeypatch, *args)
    assert env["cli"] == 1                                        # replayed while nothing changed
    if change == "source":
        src = r / "lib" / "a.js"
        src.write_text(src.read_text() + "require('child_process').execSync('ls');\n")
    elif change == "new-file":
        (r / "lib" / "c.js").write_text("require('net').createServer().listen(80);\n")
    elif change == "removed-file":
        (r / "lib" / "b.js").unlink()
    elif change == "gitignore":
        (r / ".gitignore").write_text("# nothing ignored now\n")
    elif change == "config-created":
        (r / "cfcompat.toml").write_text('plan = "free"\n')
    elif change == "manifest":
        change_manifest(r)
    elif change == "installed":
        change_installed_package(r)
    elif change == "big-asset-size":
        big.write_bytes(b"\0" * (70 * 1024 * 1024))   # over the 64 MiB Worker limit: a new finding
    elif change == "symlink":
        (r / "lib" / "current.js").unlink()
        (r / "lib" / "current.js").symlink_to("b.js")
    elif change == "ignored-wrangler":
        (r / "wrangler.toml").write_text('name = "x"\nmain = "server.js"\ncompatibility_date = "2024-01-01"\n')
    elif change == "argument":
        args += ["--compat-date", "2024-01-01"]
    elif change == "environment":
        monkeypatch.setenv("CFCOMPAT_SOMETHING_NEW", "1")
    elif change == "code":
        monkeypatch.setattr(records, "_CODE", ["another cfcompat"])
    _, after = run(capsys, monkeypatch, *args)
    assert env["cli"] == 2                                        # the full CLI ran
    assert after == fresh(capsys, monkeypatch, *args)             # and gave what a scan without caches gives
    if change in ("source", "new-file", "manifest"):
        # every unchanged file's facts came from the facts cache
        run(capsys, monkeypatch, *args, "--format", "sarif")
        assert extract.LAST_CACHE_STATS["misses"] == 0


def test_an_unread_file_is_checked_by_size_and_never_read(env, tmp_path, capsys, monkeypatch):
    """A big asset the scan only sizes (model weights, videos) is neither read by the scan nor by the replay:
    touching it changes nothing the report depends on; a new size does."""
    r = repo(tmp_path)
    big = r / "public" / "video.bin"
    big.parent.mkdir(exist_ok=True)
    big.write_bytes(b"\0" * (2 * 1024 * 1024))
    opened: list[str] = []
    real_open = os.open

    def spying(path, *a, **k):
        opened.append(str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(os, "open", spying)
    args = [str(r), "--format", "json"]
    run(capsys, monkeypatch, *args)
    same_size_and_mtime(big, b"\1" * (2 * 1024 * 1024))
    os.utime(big, ns=(big.stat().st_atime_ns, big.stat().st_mtime_ns + 10_000_000))
    run(capsys, monkeypatch, *args)
    assert env["cli"] == 1 and not any(p.endswith("video.bin") for p in opened)


def test_files_the_scan_never_sees_do_not_stop_a_replay(env, tmp_path, capsys, monkeypatch):
    """A folder ignored by .gitignore, or one discovery never enters (.git), can change without a rescan."""
    r = repo(tmp_path)
    (r / ".git").mkdir()
    (r / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    args = [str(r), "--format", "json"]
    _, first = run(capsys, monkeypatch, *args)
    (r / "generated" / "more.js").write_text("require('vm').runInNewContext('1');\n")
    (r / ".git" / "ORIG_HEAD").write_text("0" * 40 + "\n")
    _, again = run(capsys, monkeypatch, *args)
    assert env["cli"] == 1 and again == first
    assert fresh(capsys, monkeypatch, *args) == first


# -- issue 19, item 7: a cache trades speed for staleness nowhere ------------------------------------------------

def _stale_case(r: Path, case: str) -> tuple[list[str], "callable"]:
    """A repository set up for `case` and the edit to make after the first scan."""
    if case == "ignored-requirements-include":
        (r / "requirements.txt").write_text("-r reqs/base.txt\nflask==3.0.0\n")
        (r / "reqs").mkdir()
        (r / "reqs" / "base.txt").write_text("psycopg2==2.9.9\n")
        (r / ".gitignore").write_text("reqs/\n")
        return [], lambda: (r / "reqs" / "base.txt").write_text("requests==2.32.3\n")
    if case == "ignored-sub-wrangler-jsonc":
        (r / "sub").mkdir()
        (r / "sub" / "index.js").write_text("export default { fetch() { return new Response(process.env.X) } }\n")
        (r / "sub" / "wrangler.toml").write_text('name = "s"\nmain = "index.js"\ncompatibility_date = "2024-01-01"\n')
        (r / "sub" / "wrangler.jsonc").write_text('{"name": "s", "main": "index.js", "compatibility_date": "2024-02-01"}')
        (r / ".gitignore").write_text("sub/wrangler.jsonc\n")
        return [], lambda: (r / "sub" / "wrangler.jsonc").write_text(
            '{"name": "s", "main": "index.js", "compatibility_date": "2025-06-01"}')
    if case == "big-manifest-same-size-and-mtime":
        text = "# " + "padding " * 140_000 + "\npsycopg2==2.9.9\n"        # over 1 MiB
        (r / "requirements.txt").write_text(text)
        return [], lambda: same_size_and_mtime(r / "requirements.txt",
                                               text.replace("psycopg2", "requests").encode())
    if case == "installed-same-size-and-mtime":
        change_manifest(r, "left-pad", "^1.3.0")
        pkg = r / "node_modules" / "left-pad" / "package.json"
        pkg.write_bytes(b'{"name": "left-pad", "gypfile": false}')
        return [], lambda: same_size_and_mtime(pkg, b'{"name": "left-pad", "gypfile": true }')
    if case == "source-same-size-and-mtime":
        src = r / "src" / "logger.js"
        data = src.read_bytes()
        return [], lambda: same_size_and_mtime(src, data.replace(b"new transports.File(", b"new transports.Xxxx(", 1))
    raise AssertionError(case)


STALE = ["ignored-requirements-include", "ignored-sub-wrangler-jsonc", "big-manifest-same-size-and-mtime",
         "installed-same-size-and-mtime", "source-same-size-and-mtime"]


@pytest.mark.parametrize("case", STALE)
def test_a_changed_input_is_never_served_stale(env, tmp_path, capsys, monkeypatch, case):
    r = repo(tmp_path)
    extra, edit = _stale_case(r, case)
    args = [str(r), "--format", "json", *extra]
    _, before = run(capsys, monkeypatch, *args)
    assert run(capsys, monkeypatch, *args)[1] == before and env["cli"] == 1
    edit()
    _, after = run(capsys, monkeypatch, *args)
    assert after == fresh(capsys, monkeypatch, *args)            # same answer as --no-cache, always
    assert after != before
    _, cli_after = run_cli(capsys, *args)                         # and the CLI's own lookup agrees
    assert cli_after == after


def test_an_edited_cfcompat_file_that_keeps_size_and_mtime_is_a_change(tmp_path, monkeypatch):
    """The code fingerprint's memo is keyed by size, modification time, change time and inode: putting the
    size and the modification time back still moves the change time."""
    monkeypatch.setenv("CFCOMPAT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(records, "RACY_SECONDS", 0)
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "rules.yaml").write_text("- id: one\n")
    monkeypatch.setattr(records, "package_dirs", lambda: [str(pkg)])

    def fingerprint() -> str:
        monkeypatch.setattr(records, "_CODE", [])
        return records.code_fingerprint()

    first = fingerprint()
    assert fingerprint() == first
    same_size_and_mtime(pkg / "rules.yaml", b"- id: two\n")
    assert fingerprint() != first


def test_an_upgraded_dependency_is_a_change(env, tmp_path, capsys, monkeypatch):
    """A dependency of cfcompat upgraded (its .dist-info renamed) names another record."""
    site = tmp_path / "site"
    (site / "json5-0.9.25.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    r = repo(tmp_path)
    args = [str(r), "--format", "json"]
    run(capsys, monkeypatch, *args)
    run(capsys, monkeypatch, *args)
    assert env["cli"] == 1
    (site / "json5-0.9.25.dist-info").rename(site / "json5-0.10.0.dist-info")
    run(capsys, monkeypatch, *args)
    assert env["cli"] == 2


def test_a_recently_changed_cfcompat_file_is_never_memoised(tmp_path, monkeypatch):
    """Racy: a file changed within the clock tick of the memo could change again unseen, so no memo then."""
    monkeypatch.setenv("CFCOMPAT_CACHE_DIR", str(tmp_path / "cache"))
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("A = 1\n")
    monkeypatch.setattr(records, "package_dirs", lambda: [str(pkg)])
    monkeypatch.setattr(records, "_CODE", [])
    records.code_fingerprint()
    assert not list((tmp_path / "cache").rglob("code-*"))


def test_code_fingerprint_is_memoised_by_file_stats(tmp_path, monkeypatch):
    """The memo gives the same hash as reading every file, and any change to a file's stats makes it read them
    all again; content, not stats, is what is hashed."""
    monkeypatch.setenv("CFCOMPAT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(records, "RACY_SECONDS", 0)
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("A = 1\n")
    (pkg / "rules.yaml").write_text("- id: x\n")
    monkeypatch.setattr(records, "package_dirs", lambda: [str(pkg)])
    reads: list[str] = []
    real_open = open

    def counting_open(file, mode="r", *a, **k):
        if "b" in mode and str(file).startswith(str(pkg)):
            reads.append(str(file))
        return real_open(file, mode, *a, **k)

    def again() -> str:
        monkeypatch.setattr(records, "_CODE", [])
        return records.code_fingerprint()

    monkeypatch.setattr("builtins.open", counting_open)
    first = again()
    assert len(reads) == 2
    assert again() == first and len(reads) == 2                 # from the memo: no file read
    time.sleep(0.02)
    (pkg / "a.py").write_text("A = 2\n")
    second = again()
    assert second != first and len(reads) == 4                  # read again, new hash
    time.sleep(0.02)
    (pkg / "a.py").write_text("A = 1\n")
    assert again() == first                                     # content, not stats, is what is hashed


# -- records ------------------------------------------------------------------------------------------------------

def test_a_damaged_or_foreign_record_is_ignored_and_rewritten(env, tmp_path, capsys, monkeypatch):
    r = repo(tmp_path)
    args = [str(r), "--format", "json"]
    _, first = run(capsys, monkeypatch, *args)
    [rec] = stored(tmp_path)
    good = json.loads(rec.read_text())
    for damaged in ("{not json", json.dumps({**good, "key": "0" * 64}), json.dumps({**good, "exit": "rm -rf"}),
                    json.dumps({**good, "checks": [["exec", -1, "/bin/sh", "x"]]}),
                    json.dumps({**good, "checks": [["sha", 7, "a", "x"]]}),
                    "\udcff".encode("utf-8", "surrogateescape")):
        if isinstance(damaged, bytes):
            rec.write_bytes(damaged)
        else:
            rec.write_text(damaged)
        n = env["cli"]
        code, out = run(capsys, monkeypatch, *args)
        assert env["cli"] == n + 1 and out == first and code == 0   # a full run, same outputs, no traceback
        assert json.loads(rec.read_text())["key"] == good["key"]     # and a sound record again
    run(capsys, monkeypatch, *args)
    assert env["cli"] == 7


@pytest.mark.parametrize("extra", [["--no-cache"], ["--max-seconds", "60"], ["--format", "text", "--color"]])
def test_runs_that_are_not_cached_leave_no_record(env, tmp_path, capsys, monkeypatch, extra):
    r = repo(tmp_path)
    run(capsys, monkeypatch, str(r), *extra)
    run(capsys, monkeypatch, str(r), *extra)
    assert env["cli"] == 2 and stored(tmp_path) == []


def test_a_failed_check_writes_nothing_before_the_scan(env, tmp_path, capsys, monkeypatch):
    """Outputs are written only after every check held: a stale record never touches the report files."""
    r = repo(tmp_path)
    out = tmp_path / "out.json"
    args = [str(r), "--format", "text", "-o", f"json:{out}"]
    run(capsys, monkeypatch, *args)
    (r / "lib").mkdir(exist_ok=True)
    (r / "lib" / "new.js").write_text("require('child_process').execSync('ls');\n")
    writes: list[str] = []
    real = records.write_output

    def spying(path, text):
        writes.append("scanned" if env["scan"] == 2 else "before the scan")
        return real(path, text)

    monkeypatch.setattr(records, "write_output", spying)
    run(capsys, monkeypatch, *args)
    assert env["cli"] == 2 and writes == ["scanned"]
    assert "lib/new.js" in out.read_text()


def test_a_stdout_that_cannot_take_the_text_is_left_to_the_cli(env, tmp_path, capsys, monkeypatch):
    import io
    r = repo(tmp_path)
    (r / "src" / "données.js").write_text("require('fs').writeFileSync('/data/état.json', '{}');\n")
    run(capsys, monkeypatch, str(r), "--format", "text")        # the text report has non-ASCII (a path, a snippet)
    [rec] = stored(tmp_path)
    assert not json.loads(rec.read_text())["stdout"].isascii()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    assert records.replay(["scan", str(r), "--format", "text"]) is None
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
    assert records.replay(["scan", str(r), "--format", "text"]) == 0


def test_digest_is_sha256_before_and_after_it_switches_to_openssl(monkeypatch):
    import hashlib
    monkeypatch.setattr(inputs, "_OPENSSL", [])
    monkeypatch.setattr(inputs, "_HASHED", [0])
    blobs = [b"", b"a", b"x" * 1000, os.urandom(inputs._SWITCH), b"tail", os.urandom(70_000)]
    got = [inputs.digest_bytes(b) for b in blobs]
    assert got == [hashlib.sha256(b).digest() for b in blobs]
    assert inputs._OPENSSL                       # it switched once the run had hashed 512 KiB


def test_replay_loads_only_the_standard_library(tmp_path):
    """The point of the replay is start-up time: a replayed run must not import click, rich, tree-sitter, the
    rule packs or the rest of the analyzer."""
    r = repo(tmp_path)
    (tmp_path / "cache").mkdir()      # before the first run: `python -c` lists the working folder (sys.path[0])
    envv = {**os.environ, "CFCOMPAT_CACHE_DIR": str(tmp_path / "cache")}
    envv.pop("CFCOMPAT_NO_CACHE", None)
    prog = ("import atexit, sys\n"
            "atexit.register(lambda: sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules)) + '\\n'))\n"
            "sys.argv = ['cfcompat', 'scan', sys.argv[1], '--format', 'json']\n"
            "from cfcompat.analyzer.console import main\n"
            "main()\n")
    runs = [subprocess.run([sys.executable, "-c", prog, str(r)], env=envv, capture_output=True, text=True,
                           timeout=300, cwd=tmp_path) for _ in range(2)]
    assert [p.returncode for p in runs] == [0, 0] and runs[0].stdout == runs[1].stdout, runs[1].stderr
    first, second = (set(p.stderr.split("MODULES ", 1)[1].split()) for p in runs)
    heavy = {"click", "tree_sitter", "yaml", "pathspec", "cfcompat.analyzer.engine", "cfcompat.rules", "typing"}
    assert heavy - {"typing"} <= first            # the first run scanned
    assert not heavy & second                     # the second only replayed
    assert {m for m in second if m.startswith("cfcompat")} == {
        "cfcompat", "cfcompat.analyzer", "cfcompat.analyzer.console", "cfcompat.analyzer.caching",
        "cfcompat.analyzer.caching.records", "cfcompat.analyzer.inputs"}
