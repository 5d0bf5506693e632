"""The text report fits where it is read: wrapped at the terminal's width (or COLUMNS), plain and unwrapped when
piped, the most severe findings first, the verdict at the top and the end, --min-severity, counts that match
what is printed."""
from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cfcompat.analyzer.assessment import scan_and_assess
from cfcompat.reports import render
from cfcompat.reports.options import RenderOptions

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FINDING = re.compile(r"^  \d+:\d+ (blocker|warning) [a-z0-9-]+ \([a-z-]+\)$")


@pytest.fixture(scope="module")
def express():
    return scan_and_assess(FIXTURES / "express-multer-sqlite-cron")


def test_piped_text_is_one_line_per_item(express):
    out = render("text", express, RenderOptions(width=None))
    assert "\x1b[" not in out
    lines = out.splitlines()
    for f in express.findings:
        if f.severity != "info":
            msg = " ".join(f.message.split())
            assert ("    " + msg) in lines, msg            # the whole message on one line
    assert not any(ln.strip() in ("...", "…") for ln in lines)


@pytest.mark.parametrize("width", [60, 80, 100, 160])
def test_wrapped_text_fits_the_width(express, width):
    out = render("text", express, RenderOptions(width=width))
    for ln in out.splitlines():
        if len(ln) > width:    # only a single unbreakable token (a long URL) may overflow
            assert len(ln.strip().split()) <= 2, ln
        assert ln.strip() not in ("...", "…")
    # a wrapped paragraph continues under its own indent, never at column 0
    lines = out.splitlines()
    for a, b in zip(lines, lines[1:]):
        if a.startswith("    ") and b and not b.startswith(" ") and not b.startswith(("Verdict", "Blockers",
                                                                                        "Warnings", "Info")):
            assert "/" in b or "." in b, (a, b)     # a file path header


def test_most_severe_first_and_verdict_at_both_ends(express):
    out = render("text", express, RenderOptions(width=None))
    lines = out.splitlines()
    sev_lines = [m.group(1) for m in (FINDING.match(ln) for ln in lines) if m]
    assert sev_lines == sorted(sev_lines, key=["blocker", "warning"].index)
    b, w, i = (out.index(h) for h in ("\nBlockers: ", "\nWarnings: ", "\nInfo: "))
    assert b < w < i
    verdicts = [ln for ln in lines if ln.startswith("Verdict: ")]
    assert len(verdicts) == 2 and verdicts[0] == verdicts[1]
    assert lines[-1].startswith("Verdict: ") or lines[-2].startswith("Verdict: ") or \
        any(ln.startswith("Verdict: ") for ln in lines[-4:])


def test_counts_match_what_is_printed(express):
    out = render("text", express, RenderOptions(width=None))
    n = express.summary["findings"]
    listed = {s: sum(1 for ln in out.splitlines() if (m := FINDING.match(ln)) and m.group(1) == s)
              for s in ("blocker", "warning")}
    linked = {s: sum(1 for f in express.findings if f.related and f.severity == s) for s in ("blocker", "warning")}
    for s in ("blocker", "warning"):
        assert listed[s] == n[s] + linked[s]
    if linked["blocker"]:
        assert f"Blockers: {listed['blocker']} listed, {n['blocker']} counted ({linked['blocker']} linked" in out
        assert out.count("linked: same problem as ") == sum(1 for f in express.findings if f.related
                                                            and f.severity != "info")
    else:
        assert f"Blockers: {n['blocker']}\n" in out


def test_min_severity_hides_info_but_says_so(express):
    out = render("text", express, RenderOptions(width=None, min_severity="warning"))
    infos = sum(1 for f in express.findings if f.severity == "info")
    assert f"Info: {infos} hidden (--min-severity warning; --min-severity info lists them)" in out
    assert " info " not in "\n".join(ln for ln in out.splitlines() if ln.startswith("  "))
    out = render("text", express, RenderOptions(width=None, min_severity="blocker"))
    assert "Warnings: " in out and "hidden" in out and FINDING.pattern


def _run_cli(args: list[str], tty: bool, columns: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["CFCOMPAT_NO_CACHE"] = "1"
    if columns:
        env["COLUMNS"] = columns
    cmd = [sys.executable, "-c", "from cfcompat.analyzer.console import main; main()", *args]
    if not tty:
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120).stdout
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(cmd, stdout=slave, stderr=subprocess.DEVNULL, env=env)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=120)
    finally:
        os.close(master)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_cli_width_from_the_terminal_and_unwrapped_when_piped():
    fixture = str(FIXTURES / "express-multer-sqlite-cron")
    on_80 = _run_cli(["scan", fixture, "--no-color"], tty=True, columns="80")
    on_160 = _run_cli(["scan", fixture, "--no-color"], tty=True, columns="160")
    piped_80 = _run_cli(["scan", fixture], tty=False, columns="80")
    piped_160 = _run_cli(["scan", fixture], tty=False, columns="160")
    assert max(len(ln) for ln in on_80.splitlines() if len(ln.split()) > 2) <= 80
    assert max(len(ln) for ln in on_160.splitlines() if len(ln.split()) > 2) <= 160
    assert max(len(ln) for ln in on_160.splitlines()) > 80
    assert piped_80 == piped_160 and max(len(ln) for ln in piped_80.splitlines()) > 160
    assert "\x1b[" not in on_80 + piped_80
    coloured = _run_cli(["scan", fixture], tty=True, columns="100")
    assert "\x1b[1;31mblocker\x1b[0m" in coloured
    assert _run_cli(["scan", fixture, "--width", "70"], tty=False, columns=None).count("\n") > \
        piped_80.count("\n")
