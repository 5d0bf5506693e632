"""Replay (analyzer/quick.py): the same command on an unchanged repository prints the last outputs without
loading the analyzer; anything the scan could see changing, or anything around the command changing, runs
the full scan, whose outputs equal a scan without any cache."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cache_helpers import change_installed_package, change_manifest, copy_repo, exit_and_stdout
from cfcompat.analyzer import cli, engine, quick


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
    monkeypatch.setattr(sys, "argv", ["cfcompat", "scan", *args])
    return exit_and_stdout(capsys, quick.main)


def repo(tmp_path: Path) -> Path:
    r = copy_repo(tmp_path)
    (r / "node_modules" / "left-pad").mkdir(parents=True)
    (r / "node_modules" / "left-pad" / "package.json").write_text('{"name": "left-pad", "version": "1.3.0"}')
    (r / ".gitignore").write_text("generated/\n")
    (r / "generated").mkdir()
    (r / "generated" / "out.js").write_text("require('child_process').execSync('make');\n")
    return r


def records(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / f"replay-v{quick.VERSION}").glob("*.json"))


def test_same_command_on_unchanged_repository_is_replayed(env, tmp_path, capsys, monkeypatch):
    r = repo(tmp_path)
    sarif = tmp_path / "reports" / "out.sarif"
    args = [str(r), "--format", "json", "-o", f"sarif:{sarif}", "--fail-on", "blocker"]
    c1, out1 = run(capsys, monkeypatch, *args)
    first = sarif.read_text()
    assert env == {"cli": 1, "scan": 1} and len(records(tmp_path)) == 1
    shutil.rmtree(sarif.parent)
    c2, out2 = run(capsys, monkeypatch, *args)
    assert env == {"cli": 1, "scan": 1}                          # the second run never reached the CLI
    assert out2 == out1 and sarif.read_text() == first and c1 == c2 == 1   # outputs, files, exit status
    c3, out3 = run(capsys, monkeypatch, str(r), "--format", "json", "--no-cache", "--fail-on", "blocker")
    assert env["scan"] == 2 and out3 == out1 and c3 == 1         # and they equal a scan without any cache


CHANGES = ["source", "new-file", "removed-file", "gitignore", "config-created", "manifest", "installed",
           "big-asset", "symlink", "ignored-wrangler", "argument", "environment", "code"]


@pytest.mark.parametrize("change", CHANGES)
def test_any_change_runs_the_full_scan(env, tmp_path, capsys, monkeypatch, change):
    r = repo(tmp_path)
    big = r / "public" / "video.bin"
    big.parent.mkdir(exist_ok=True)
    big.write_bytes(b"\0" * (quick.BIG + 1))
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
    elif change == "big-asset":
        st = big.stat()
        os.utime(big, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
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
        monkeypatch.setattr(quick, "_CODE", ["another cfcompat"])
    _, after = run(capsys, monkeypatch, *args)
    assert env["cli"] == 2                                        # the full CLI ran
    _, fresh = run(capsys, monkeypatch, *args, "--no-cache")
    assert after == fresh                                         # and gave what a scan without caches gives


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
    _, fresh = run(capsys, monkeypatch, *args, "--no-cache")
    assert fresh == first


def test_a_damaged_or_foreign_record_is_ignored_and_rewritten(env, tmp_path, capsys, monkeypatch):
    r = repo(tmp_path)
    args = [str(r), "--format", "json"]
    _, first = run(capsys, monkeypatch, *args)
    [rec] = records(tmp_path)
    good = json.loads(rec.read_text())
    for damaged in ("{not json", json.dumps({**good, "key": "0" * 64}), json.dumps({**good, "exit": "rm -rf"}),
                    json.dumps({**good, "checks": [["exec", "/bin/sh", "x"]]}), "\udcff".encode("utf-8",
                                                                                          "surrogateescape")):
        if isinstance(damaged, bytes):
            rec.write_bytes(damaged)
        else:
            rec.write_text(damaged)
        n = env["cli"]
        code, out = run(capsys, monkeypatch, *args)
        assert env["cli"] == n + 1 and out == first and code == 0   # a full run, same outputs, no traceback
        assert json.loads(rec.read_text())["key"] == good["key"]     # and a sound record again
    run(capsys, monkeypatch, *args)
    assert env["cli"] == 6


@pytest.mark.parametrize("extra", [["--no-cache"], ["--max-seconds", "60"], ["--format", "text", "--color"]])
def test_runs_the_result_cache_skips_leave_no_record(env, tmp_path, capsys, monkeypatch, extra):
    r = repo(tmp_path)
    run(capsys, monkeypatch, str(r), *extra)
    run(capsys, monkeypatch, str(r), *extra)
    assert env["cli"] == 2 and records(tmp_path) == []


def test_a_failed_check_writes_nothing_before_the_scan(env, tmp_path, capsys, monkeypatch):
    """Outputs are written only after every check held: a stale record never touches the report files."""
    r = repo(tmp_path)
    out = tmp_path / "out.json"
    args = [str(r), "--format", "text", "-o", f"json:{out}"]
    run(capsys, monkeypatch, *args)
    (r / "lib").mkdir(exist_ok=True)
    (r / "lib" / "new.js").write_text("require('child_process').execSync('ls');\n")
    writes: list[str] = []
    real_open = open

    def spying_open(file, mode="r", *a, **k):
        if "w" in mode and str(file) == str(out):
            writes.append(sys._getframe(1).f_code.co_filename)
        return real_open(file, mode, *a, **k)

    monkeypatch.setattr("builtins.open", spying_open)
    run(capsys, monkeypatch, *args)
    assert env["cli"] == 2 and not any(f.endswith("quick.py") for f in writes)
    assert "lib/new.js" in out.read_text()


def test_a_stdout_that_cannot_take_the_text_is_left_to_the_cli(env, tmp_path, capsys, monkeypatch):
    import io
    r = repo(tmp_path)
    (r / "src" / "données.js").write_text("require('fs').writeFileSync('/data/état.json', '{}');\n")
    run(capsys, monkeypatch, str(r), "--format", "text")        # the text report has non-ASCII (a path, a snippet)
    [rec] = records(tmp_path)
    assert not json.loads(rec.read_text())["stdout"].isascii()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    assert quick.replay(["scan", str(r), "--format", "text"]) is None
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
    assert quick.replay(["scan", str(r), "--format", "text"]) == 0


def test_digest_is_sha256_before_and_after_it_switches_to_openssl(monkeypatch):
    import hashlib
    monkeypatch.setattr(quick, "_OPENSSL", [])
    monkeypatch.setattr(quick, "_HASHED", [0])
    blobs = [b"", b"a", b"x" * 1000, os.urandom(quick._SWITCH), b"tail", os.urandom(70_000)]
    got = [quick.digest(b) for b in blobs]
    assert got == [hashlib.sha256(b).digest() for b in blobs]
    assert quick._OPENSSL                       # it switched once the run had hashed 512 KiB


def test_code_fingerprint_is_memoised_by_file_stats(tmp_path, monkeypatch):
    """The memo gives the same hash as reading every file, and any change to a file's size or mtime (what an
    install or an edit changes) makes it read them all again."""
    monkeypatch.setenv("CFCOMPAT_CACHE_DIR", str(tmp_path / "cache"))
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("A = 1\n")
    (pkg / "rules.yaml").write_text("- id: x\n")
    monkeypatch.setattr(quick, "package_dirs", lambda: [str(pkg)])
    reads: list[str] = []
    real_open = open

    def counting_open(file, mode="r", *a, **k):
        if "b" in mode and str(file).startswith(str(pkg)):
            reads.append(str(file))
        return real_open(file, mode, *a, **k)

    def fresh() -> str:
        monkeypatch.setattr(quick, "_CODE", [])
        return quick.code_fingerprint()

    monkeypatch.setattr("builtins.open", counting_open)
    first = fresh()
    assert len(reads) == 2
    assert fresh() == first and len(reads) == 2                 # from the memo: no file read
    (pkg / "a.py").write_text("A = 2\n")                        # same size, new mtime
    st = (pkg / "a.py").stat()
    os.utime(pkg / "a.py", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    second = fresh()
    assert second != first and len(reads) == 4                  # read again, new hash
    (pkg / "a.py").write_text("A = 1\n")
    os.utime(pkg / "a.py", ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000))
    assert fresh() == first                                     # content, not stats, is what is hashed


def test_replay_loads_only_the_standard_library(tmp_path):
    """The point of replay is start-up time: a replayed run must not import click, rich, tree-sitter, the
    rule packs or the rest of the analyzer."""
    r = repo(tmp_path)
    envv = {**os.environ, "CFCOMPAT_CACHE_DIR": str(tmp_path / "cache")}
    envv.pop("CFCOMPAT_NO_CACHE", None)
    prog = ("import atexit, sys\n"
            "atexit.register(lambda: sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules)) + '\\n'))\n"
            "sys.argv = ['cfcompat', 'scan', sys.argv[1], '--format', 'json']\n"
            "from cfcompat.analyzer.quick import main\n"
            "main()\n")
    runs = [subprocess.run([sys.executable, "-c", prog, str(r)], env=envv, capture_output=True, text=True,
                           timeout=300) for _ in range(2)]
    assert [p.returncode for p in runs] == [0, 0] and runs[0].stdout == runs[1].stdout
    first, second = (set(p.stderr.split("MODULES ", 1)[1].split()) for p in runs)
    heavy = {"click", "tree_sitter", "yaml", "pathspec", "cfcompat.analyzer.engine", "cfcompat.rules"}
    assert heavy <= first                         # the first run scanned
    assert not heavy & second                     # the second only replayed
    assert {m for m in second if m.startswith("cfcompat")} == {"cfcompat", "cfcompat.analyzer",
                                                               "cfcompat.analyzer.quick"}
