"""Hostile and messy repositories: the scan completes, says what it skipped and why, exits 0, never runs or
imports anything from the repository, opens no network connection, and keeps every path inside the root."""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from cfcompat.analyzer import extract as engine
from cfcompat.analyzer.cli import main
from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.reports.json_report import document, render


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return exc.value.code or 0, out.out, out.err


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "ok.js").write_text("const fs = require('fs');\nfs.writeFileSync('data/x.json', '{}');\n")
    (root / "src" / "image.js").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (root / "src" / "latin1.py").write_bytes(b"nom = 'caf\xe9'\nopen('x.txt', 'w')\n")
    (root / "src" / "utf16.js").write_bytes("\ufeffrequire('fs').rmSync('cache')\n".encode("utf-16"))
    (root / "src" / "crlf.py").write_bytes(b"import shutil\r\n\r\nshutil.rmtree('build')\r\n")
    (root / "src" / "bundle.js").write_bytes(b"var a=1;" * (50 * 1024 * 1024 // 8))      # 50 MB, one line
    (root / "src" / "deep.js").write_text("x = " + "[" * 10000 + "]" * 10000 + ";\n")
    (root / "src" / "deep.py").write_text("x = " + "(" * 5000 + ")" * 5000 + "\n")
    (root / "src" / "garbage.ts").write_text("export const = ;;; {{{ ))) <<<\n")
    (root / "loop").symlink_to(root, target_is_directory=True)
    outside = tmp_path / "outside.js"
    outside.write_text("require('fs').writeFileSync('pwned', '1')\n")
    (root / "src" / "escape.js").symlink_to(outside)
    (root / "src" / "dangling.js").symlink_to(root / "src" / "missing.js")
    (root / "dir with spaces").mkdir()
    (root / "dir with spaces" / "naïve file.js").write_text("require('fs').mkdirSync('d')\n")
    (root / "src" / "empty.py").write_text("")
    (root / "package.json").write_text('{"name": "x", "dependencies": {')        # truncated manifest
    return root


def test_hostile_repository_completes_and_reports(hostile: Path, capsys, tmp_path: Path):
    code, out, err = run_cli(["scan", str(hostile), "--format", "json", "--no-cache"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    errs = {e["path"]: e["message"] for e in doc["errors"]}
    assert "binary" in errs["src/image.js"]
    assert "UTF-8" in errs["src/latin1.py"]
    assert "MiB" in errs["src/bundle.js"]
    assert "outside" in errs["src/escape.js"]
    assert "broken symlink" in errs["src/dangling.js"]
    assert "symlink loop" in errs.get("loop", "") or not any(p.startswith("loop/") for p in errs)
    assert "package.json" in errs
    found = {(f["path"], f["rule_id"]) for f in doc["findings"]}
    assert ("src/ok.js", "fs-persistent-write") in found
    assert ("src/utf16.js", "fs-persistent-write") in found          # UTF-16 with BOM is decoded
    assert ("src/crlf.py", "py-persistent-write") in found           # CRLF line endings
    assert ("dir with spaces/naïve file.js", "fs-persistent-write") in found
    assert str(tmp_path) not in out and "outside.js" not in out      # no path outside the root


def test_unreadable_and_vanishing_files(tmp_path: Path, monkeypatch):
    (tmp_path / "a.js").write_text("require('fs').rmSync('x')\n")
    (tmp_path / "b.js").write_text("require('fs').rmSync('y')\n")
    (tmp_path / "c.js").write_text("require('fs').rmSync('z')\n")
    real = os.open

    def fake(path, *a, **k):   # the one place a scan opens a file (analyzer/inputs.py)
        if str(path).endswith("b.js"):
            raise PermissionError(13, "Permission denied")
        if str(path).endswith("c.js"):
            raise FileNotFoundError(2, "gone")
        return real(path, *a, **k)

    monkeypatch.setattr(os, "open", fake)
    doc = document(scan(tmp_path, ScanOptions(jobs=1, use_cache=False)))
    errs = {e["path"]: e["message"] for e in doc["errors"]}
    assert "Permission denied" in errs["b.js"] and "disappeared" in errs["c.js"]
    assert [f["path"] for f in doc["findings"]] == ["a.js"]


@pytest.mark.parametrize("files", [{}, {"index.js": "export default { fetch() { return new Response('ok') } }\n"}])
def test_empty_and_one_file_repositories(tmp_path: Path, files: dict[str, str], capsys):
    for k, v in files.items():
        (tmp_path / k).write_text(v)
    code, out, _ = run_cli(["scan", str(tmp_path), "--format", "json", "--no-cache"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["summary"]["verdict"] == "ready" and doc["findings"] == []


def test_scanned_code_is_never_run(tmp_path: Path, monkeypatch):
    """Every file here would create a marker if anything executed or imported it."""
    marker = tmp_path / "MARKER"
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    boom = f"open({str(marker)!r}, 'w').write('ran')\n"
    (repo / "setup.py").write_text(boom + "from setuptools import setup\nsetup(name='x', install_requires=['requests'])\n")
    (repo / "conftest.py").write_text(boom)
    (repo / "pkg" / "__init__.py").write_text(boom)
    (repo / "evil.pth").write_text(f"import os; {boom}")
    (repo / "sitecustomize.py").write_text(boom)
    js = f"require('fs').writeFileSync({json.dumps(str(marker))}, 'ran')"
    (repo / "package.json").write_text(json.dumps({
        "name": "x", "scripts": {"preinstall": js, "install": js, "prepare": js, "postinstall": js,
                                 "build": f"node -e \"{js}\""}}))
    (repo / "wrangler.toml").write_text(f'main = "index.js"\ncompatibility_date = "2026-10-01"\n'
                                        f'[build]\ncommand = "touch {marker}"\n')
    (repo / "index.js").write_text(js + "\n")
    connects: list = []
    real_connect = socket.socket.connect

    def no_network(self, addr):   # a scan makes no network connection
        connects.append(addr)
        return real_connect(self, addr)

    monkeypatch.setattr(socket.socket, "connect", no_network)
    doc = document(scan(repo, ScanOptions(jobs=1, use_cache=False)))
    assert not marker.exists()
    assert connects == []
    assert doc["findings"]   # it did read the code


def test_overall_time_bound_gives_partial_results(tmp_path: Path, monkeypatch):
    for i in range(5):
        (tmp_path / f"m{i}.js").write_text("require('fs').rmSync('x')\n")
    import time
    real = engine.parse_file

    def slow(root, src, keep=None):
        time.sleep(0.6)
        return real(root, src, keep)

    monkeypatch.setattr(engine, "parse_file", slow)
    # reading (discovery and parsing) stops at 3/4 of the bound, the rest turns what was read into findings
    doc = document(scan(tmp_path, ScanOptions(jobs=1, use_cache=False, max_seconds=2)))
    assert doc["summary"]["partial"] is True
    skipped = [e for e in doc["errors"] if "time limit" in e["message"]]
    assert 1 <= len(skipped) <= 4 and doc["findings"]


def test_per_file_time_bound(tmp_path: Path, monkeypatch):
    (tmp_path / "a.js").write_text("require('fs').rmSync('x')\n")
    (tmp_path / "b.js").write_text("require('fs').rmSync('y')\n")
    from cfcompat.analyzer.parsing import javascript
    real = javascript.extract_js

    def stuck(src, facts, keep=None):
        if facts.path == "b.js":
            while True:
                pass
        return real(src, facts, keep)

    monkeypatch.setattr(javascript, "extract_js", stuck)
    monkeypatch.setattr(engine, "FILE_SECONDS", 0.5)
    doc = document(scan(tmp_path, ScanOptions(jobs=1, use_cache=False)))
    errs = {e["path"]: e["message"] for e in doc["errors"]}
    assert "longer than 0.5 s" in errs["b.js"]
    assert [f["path"] for f in doc["findings"]] == ["a.js"]


def test_deep_assignment_chains_stay_bounded(tmp_path: Path):
    lines = [f"const a{i} = a{i - 1} + '/x';" for i in range(1, 3000)]
    (tmp_path / "chain.js").write_text("const a0 = '/tmp';\n" + "\n".join(lines) +
                                       "\nrequire('fs').writeFileSync(a2999, 'x');\n")
    doc = json.loads(render(scan(tmp_path, ScanOptions(jobs=1))))
    assert doc["errors"] == []
