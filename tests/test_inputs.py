"""The one reading module (analyzer/inputs.py): every read of a scan input goes through it, so every read is
recorded for the caches; only regular files inside the root are read; every refusal has a kind."""
from __future__ import annotations

import ast
import os
import socket
from pathlib import Path

import pytest

from cfcompat.analyzer import inputs

ROOT = Path(__file__).resolve().parents[1]

# Modules that may touch the file system themselves: the reading module; the caches (their own store and
# records; cfcompat's own code for the fingerprint); writers of outputs and of fixes; git; the workerd
# verification and oracle (temporary folders, node); the GitHub client (the Actions event file).
ALLOWED = {
    "analyzer/inputs.py", "analyzer/caching/__init__.py", "analyzer/caching/records.py",
    "analyzer/caching/facts.py", "analyzer/gitdiff.py", "analyzer/verify.py", "analyzer/pyverify.py",
    "analyzer/oracle.py",
    "analyzer/github_api.py",
}
ALLOWED_DIRS = ("analyzer/fix/",)
# what reads or probes files: functions, and methods whatever their receiver (pathlib, DirEntry)
FUNCTIONS = {"open", "os.open", "os.listdir", "os.scandir", "os.walk", "os.stat", "os.lstat", "os.path.exists",
             "os.path.isfile", "os.path.isdir", "os.path.islink", "os.path.getsize", "os.path.realpath",
             "os.path.lexists", "io.open", "glob.glob", "glob.iglob"}
METHODS = {"read_text", "read_bytes", "iterdir", "exists", "is_file", "is_dir", "is_symlink", "glob", "rglob",
           "stat", "lstat", "open", "resolve", "readlink", "samefile"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return _dotted(node.value) + "." + node.attr
    return "?"


def offenders(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        if name in FUNCTIONS:
            out.append(f"{node.lineno}: {name}()")
        elif isinstance(node.func, ast.Attribute) and node.func.attr in METHODS:
            receiver = _dotted(node.func.value)
            if receiver in ("inputs", "self", "Repo") or receiver.endswith(".inputs"):
                continue   # the reading module itself, an object's own method of that name, git (gitdiff.Repo)
            out.append(f"{node.lineno}: {name}()")
    return out


def _sources() -> list[Path]:
    return sorted([*ROOT.joinpath("analyzer").rglob("*.py"), *ROOT.joinpath("rules", "classes").rglob("*.py")])


def test_no_module_reads_files_on_its_own():
    """A new reader cannot forget to record what it read (a stale report would follow): outside the allowlist,
    nothing in analyzer/ or rules/classes/ opens, lists, stats or probes a path itself."""
    found = {}
    for p in _sources():
        rel = p.relative_to(ROOT).as_posix()
        if rel in ALLOWED or rel.startswith(ALLOWED_DIRS):
            continue
        bad = offenders(p)
        if bad:
            found[rel] = bad
    assert found == {}, "read through analyzer/inputs.py instead:\n" + "\n".join(
        f"  {k}: {', '.join(v)}" for k, v in found.items())


def test_the_check_finds_what_it_is_meant_to_find(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("import os\nfrom pathlib import Path\nopen('x')\nPath('a').read_text()\nos.scandir('.')\n"
                 "os.path.exists('b')\nPath('c').is_file()\ninputs.read_text(root, 'a')\n")
    assert [o.split(":")[0] for o in offenders(p)] == ["3", "4", "5", "6", "7"]


# -- the file-system rule -----------------------------------------------------------------------------------------

def test_only_regular_files_inside_the_root_are_read(tmp_path):
    root = tmp_path / "repo"
    (root / "sub").mkdir(parents=True)
    (root / "ok.txt").write_text("ok")
    (root / "sub" / "inner.txt").write_text("inner")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (root / "out.txt").symlink_to(outside)
    (root / "in.txt").symlink_to(root / "sub" / "inner.txt")
    (root / "zero").symlink_to("/dev/zero")
    (root / "dangling").symlink_to(root / "missing")
    (root / "outdir").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(root / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock"))
    try:
        assert inputs.read_text(root, "ok.txt") == "ok"
        assert inputs.read_text(root, "in.txt") == "inner"
        for rel, kind in [("out.txt", "outside"), ("zero", "outside"), ("dangling", "broken"), ("fifo", "special"),
                          ("sock", "special"), ("sub", "dir"), ("missing", "absent"), ("../secret.txt", "outside"),
                          ("/etc/passwd", "outside"), ("outdir/secret.txt", "outside"), ("ok.txt/x", "absent")]:
            with pytest.raises(inputs.InputError) as exc:
                inputs.read_bytes(root, rel)
            assert exc.value.kind == kind, rel
        with pytest.raises(inputs.InputError) as exc:
            inputs.read_bytes(root, "ok.txt", limit=1)
        assert exc.value.kind == "too-large" and exc.value.size == 2
    finally:
        sock.close()


def test_a_fifo_swapped_in_after_the_type_check_cannot_block(tmp_path, monkeypatch):
    """Opened non-blocking and checked on the descriptor: a file replaced by a FIFO between the check and the
    open is refused, not waited on."""
    os.mkfifo(tmp_path / "f")
    st = os.stat(tmp_path / "f")
    fake = os.stat_result((0o100644, *tuple(st)[1:]))   # looks like a regular file
    with pytest.raises(inputs.InputError) as exc:
        inputs._read_located(str(tmp_path / "f"), fake, 100)
    assert exc.value.kind == "special"


def test_every_read_is_recorded_and_checks_again(tmp_path):
    root = tmp_path / "repo"
    (root / "d").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "d" / "b.txt").write_text("bb")
    rec = inputs.Recorder()
    with inputs.recording(rec):
        inputs.read_text(root, "a.txt")
        inputs.is_file(root, "nope.toml")
        entries = inputs.scandir(root, "d")
        assert [e.size for e in entries] == [2]
        inputs.resolve(root)
    checks = rec.items()
    assert {c[0] for c in checks} == {"sha", "kind", "list", "size", "real"}
    assert all(inputs.signature(k, r, p, s) == s for k, r, p, s in checks)
    (root / "nope.toml").write_text("")
    (root / "d" / "b.txt").write_text("bbb")
    (root / "a.txt").write_text("A")
    assert [c[0] for c in checks if inputs.signature(*c) != c[3]] == ["kind", "sha", "size"]


def test_an_input_that_changes_during_the_scan_makes_it_unstable(tmp_path):
    (tmp_path / "a").write_text("1")
    rec = inputs.Recorder()
    with inputs.recording(rec):
        inputs.read_bytes(tmp_path, "a")
        (tmp_path / "a").write_text("2")
        inputs.read_bytes(tmp_path, "a")
    assert rec.unstable


def test_two_caps_on_one_file_are_not_a_change(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * 100)
    rec = inputs.Recorder()
    with inputs.recording(rec):
        inputs.read_bytes(tmp_path, "big")
        with pytest.raises(inputs.InputError):
            inputs.read_bytes(tmp_path, "big", limit=10)
    assert not rec.unstable and rec.items()[0][3].startswith("100:")
