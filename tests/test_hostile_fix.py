"""Issue 19, items 10-12: `cfcompat fix --write` writes only regular files inside the repository (never through a
link, never a file outside), runs git without anything the repository configures (fsmonitor, filters), writes
atomically (a failed write leaves every file as it was), and keeps CRLF line breaks and a byte-order mark, with a
diff that shows exactly the bytes that change."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.analyzer.fix import plan_fixes
from cfcompat.analyzer.fix.model import Workspace

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "fix"
GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _copy(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / "repo"
    shutil.copytree(FIX / name / "before", dest)
    return dest


def _cli(*args: str, env: dict[str, str] | None = None, pre: str = "") -> subprocess.CompletedProcess:
    code = pre + "from cfcompat.analyzer.cli import main; import sys; main(sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CFCOMPAT_NO_CACHE": "1", **(env or {})})


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


# ------------------------------------------------------------------------------------- item 10: links

def test_dangling_config_link_is_not_written_through(tmp_path: Path):
    root = _copy("js-express-listen", tmp_path)       # the fix creates wrangler.jsonc here
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "wrangler.jsonc").symlink_to(outside / "created.jsonc")
    p = _cli("fix", str(root), "--write")
    assert p.returncode == 0, p.stderr
    assert list(outside.iterdir()) == []                      # nothing created outside
    assert (root / "wrangler.jsonc").is_symlink()
    assert "wrangler.jsonc was not written: it is a symbolic link" in p.stderr
    assert "httpServerHandler" in (root / "src" / "server.js").read_text()   # the regular file was fixed


def test_config_link_to_an_outside_file_is_neither_edited_nor_read(tmp_path: Path):
    root = _copy("settings-toml", tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "wrangler.toml").rename(outside / "wrangler.toml")
    (root / "wrangler.toml").symlink_to(outside / "wrangler.toml")
    before = _snapshot(outside)
    # the scan does not take the outside file as the project's settings (discovery says it was not followed)
    result = scan(root, ScanOptions(use_cache=False, jobs=1))
    assert result.settings.compatibility_date != "2025-01-01"
    assert result.settings.wrangler is None
    assert any(e.path == "wrangler.toml" and "outside" in e.message for e in result.errors)
    p = _cli("fix", str(root), "--write")
    assert p.returncode == 0, p.stderr
    assert _snapshot(outside) == before
    assert (root / "wrangler.toml").is_symlink()


def test_dangling_wrapper_link_is_not_created_through(tmp_path: Path):
    root = _copy("js-http-cjs", tmp_path)       # CommonJS entry: the fix creates src/worker.mjs
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "src" / "worker.mjs").symlink_to(outside / "wrapper.mjs")
    p = _cli("fix", str(root), "--write")
    assert p.returncode == 0, p.stderr
    assert list(outside.iterdir()) == []
    assert (root / "src" / "worker.mjs").is_symlink()
    assert (root / "src" / "cf-worker.mjs").is_file()           # the next free name, a regular file
    assert 'main = "src/cf-worker.mjs"' in (root / "wrangler.toml").read_text()


def test_workspace_never_reads_or_writes_through_links_or_special_files(tmp_path: Path):
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.js").write_text("outside\n")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "inner").symlink_to(root / "real", target_is_directory=True)
    (root / "file.js").symlink_to(outside / "secret.js")
    os.mkfifo(root / "fifo.toml")
    ws = Workspace(root)
    for rel in ("linked/secret.js", "linked/new.js", "inner/a.js", "file.js", "fifo.toml", "../outside/x.js"):
        assert ws.read(rel) is None, rel
        assert ws.exists(rel), rel            # present (or outside): no fix creates a file in its place
        ws.write(rel, "written\n")
        assert rel in ws.refused, rel
    ws.write("real/ok.js", "ok\n")
    assert ws.commit() == ["real/ok.js"]
    assert (root / "real" / "ok.js").read_text() == "ok\n"
    assert _snapshot(outside) == {"secret.js": b"outside\n"}
    assert not (root / "real" / "a.js").exists()


# ------------------------------------------------------------------------------------- item 11: git hardening

def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env={**os.environ, **GIT_ENV})


@needs_git
@pytest.mark.parametrize("setting", ["core.fsmonitor", "filter.mark.clean", "filter.mark.process"])
def test_fix_write_runs_nothing_the_repository_configures(tmp_path: Path, setting: str):
    root = _copy("settings-toml", tmp_path)
    marker = tmp_path / "MARKER"
    script = tmp_path / "mark.sh"
    script.write_text(f"#!/bin/sh\ntouch '{marker}'\ncat\n")
    script.chmod(0o755)
    (root / ".gitattributes").write_text("* filter=mark\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "init")
    _git(root, "config", setting, str(script))
    for p in root.rglob("*"):      # stat data no longer matches the index: status would consult filters
        if p.is_file() and ".git" not in p.parts:
            os.utime(p, (1_900_000_000, 1_900_000_000))
    p = _cli("fix", str(root), "--write")
    assert p.returncode == 0, p.stderr
    assert not marker.exists(), f"{setting} ran"
    assert "2025-09-15" in (root / "wrangler.toml").read_text()
    # the check still sees a real change (and still runs nothing)
    (root / "src" / "index.js").write_text("// local edit\n")
    p = _cli("fix", str(root), "--write")
    assert p.returncode == 2 and "uncommitted" in p.stderr and p.stderr.count("\n") == 1
    assert not marker.exists()


# ------------------------------------------------------------------------------------- item 12: atomic, CRLF, BOM

def test_a_failed_write_leaves_every_file_as_it_was(tmp_path: Path):
    root = _copy("js-express-listen", tmp_path)
    server = root / "src" / "server.js"
    server.write_text(server.read_text() + "".join(f"// padding line {i:05d}\n" for i in range(2000)))
    before = _snapshot(root)
    # a file size limit stands in for a full disk: writes past 20,000 bytes fail (EFBIG)
    pre = ("import resource, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
           "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000)); ")
    p = _cli("fix", str(root), "--write", pre=pre)
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("cfcompat: error: src/server.js: cannot write") and p.stderr.count("\n") == 1
    assert _snapshot(root) == before                    # nothing cut, no config half-created
    assert not list(root.rglob(".cfcompat-*"))          # no temporary file left


def _apply(diff: str, folder: Path) -> None:
    proc = subprocess.run(["git", "apply", "--unidiff-zero", "-"], input=diff.encode(), cwd=folder,
                          capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()


@needs_git
@pytest.mark.parametrize("bom", [False, True])
def test_crlf_and_bom_are_kept_and_the_diff_is_exact(tmp_path: Path, bom: bool):
    root = _copy("settings-toml", tmp_path)
    for rel in ("wrangler.toml", "src/index.js"):
        p = root / rel
        p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + p.read_bytes().replace(b"\n", b"\r\n"))
    plan = plan_fixes(root)
    diff = plan.diff()
    assert plan.changed_files() == ["wrangler.toml"]
    # exactly the date line changes, in the file's own line breaks
    changed = [ln for ln in diff.split("\n") if ln.startswith(("+", "-")) and not ln.startswith(("+++", "---"))]
    assert changed == ['-compatibility_date = "2025-01-01" # pinned when the project started\r',
                       '+compatibility_date = "2025-09-15" # pinned when the project started\r',
                       '+compatibility_flags = ["nodejs_compat"]\r']
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    _apply(diff, copy)                      # the printed diff turns the bytes before into the bytes written
    plan.workspace.commit()
    assert (copy / "wrangler.toml").read_bytes() == (root / "wrangler.toml").read_bytes()
    data = (root / "wrangler.toml").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") == bom
    assert b"2025-09-15" in data and data.count(b"\n") == data.count(b"\r\n")


def test_mixed_line_breaks_stay_line_by_line(tmp_path: Path):
    root = _copy("js-express-listen", tmp_path)
    server = root / "src" / "server.js"
    lines = server.read_bytes().split(b"\n")
    mixed = b"".join(ln + (b"\r\n" if i % 3 == 0 else b"\n") for i, ln in enumerate(lines[:-1]))
    server.write_bytes(mixed)
    plan = plan_fixes(root)
    plan.workspace.commit()
    after = server.read_bytes()
    for original in mixed.splitlines(keepends=True):     # every original line is still there, break and all
        assert original in after
    assert b"httpServerHandler" in after


def test_fix_json_lists_refused_files(tmp_path: Path):
    root = _copy("js-express-listen", tmp_path)
    (root / "wrangler.jsonc").symlink_to(tmp_path / "nowhere.jsonc")
    p = _cli("fix", str(root), "--format", "json")
    doc = json.loads(p.stdout)
    refused = [f for f in doc["fixes"] if f["fix"] == "file-system"]
    assert refused and refused[0]["path"] == "wrangler.jsonc"
    config = [f for f in doc["fixes"] if f["fix"] == "config"]
    assert config == [] or all(not f["changed"] for f in config)
