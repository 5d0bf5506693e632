"""Issue 19, items 14 and 17: file names and snippets with control characters and escape sequences cannot act on a
terminal or a CI log (text and github formats), no output line can start a GitHub Actions workflow command, JUnit
XML stays well-formed, SARIF URIs are percent-encoded. The payloads are inert markers (a window title, an OSC 52
clipboard write of the word "marker", a clear screen, an `::error` / `::add-mask::` line)."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ci_helpers import run_cli

from cfcompat.reports.github import escape_data, escape_property

ESC = "\x1b"
OSC_TITLE = ESC + "]0;marker-title" + "\x07"
OSC_CLIPBOARD = ESC + "]52;c;bWFya2Vy" + "\x07"          # "marker", base64
CLEAR = ESC + "[2J" + ESC + "[H"
CALL = "const fs = require('fs');\nfs.writeFileSync('/data/{tag}' + '{payload}', 'x');\n"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    src = root / "src"
    src.mkdir()
    names = {
        "esc": f"title{OSC_TITLE}.js",
        "clip": f"clip{OSC_CLIPBOARD}.js",
        "nl": "a\n::error file=x.js::injected\n::add-mask::marker\n.js",
        "colon": "::warning::from a file name.js",
        "crlf": "b\r\n::notice::cr.js",
        "bidi": "c\u202eevil.js",
        "space": "issue #12.js",
    }
    for tag, name in names.items():
        (src / name).write_text(CALL.format(tag=tag, payload=CLEAR + OSC_CLIPBOARD + "\\n::error::in a snippet"))
    (root / "::error file=top.js::at the start of a line.js").write_text(CALL.format(tag="top", payload=""))
    return root


def _scan(root: Path, capsys, *args: str) -> str:
    code, out, err = run_cli(["scan", str(root), "--no-cache", "-j", "1", *args], capsys)
    assert code == 0, err
    return out


def _assert_inert(out: str) -> None:
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)          # colour codes cfcompat writes itself (--color)
    assert ESC not in plain and "\x07" not in plain and "\r" not in plain
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", plain)
    for line in plain.split("\n"):
        assert not line.lstrip().startswith("::"), line


@pytest.mark.parametrize("flags", [["--format", "text"], ["--format", "text", "--no-color"],
                                   ["--format", "text", "--color"]])
def test_text_output_shows_control_characters_and_starts_no_command(hostile, capsys, flags):
    out = _scan(hostile, capsys, *flags)
    _assert_inert(out)
    assert "\\x1b]52;c;bWFya2Vy\\x07" in out          # visible, not acted on
    assert "\\x0a::error file=x.js::injected" in out   # the newline in the name is shown, not obeyed
    assert "\\u202e" in out
    assert "\\::error file=top.js::at the start of a line.js" in out      # the file's header line, defused


def test_github_output_has_only_cfcompats_commands(hostile, capsys):
    out = _scan(hostile, capsys, "--format", "github")
    lines = out.rstrip("\n").split("\n")
    assert ESC not in out and "\x07" not in out and "\r" not in out
    kinds = []
    for line in lines:
        m = re.fullmatch(r"::(error|warning|notice)(?: ([^:]*))?::(.*)", line)
        assert m, line
        kinds.append(m.group(1))
        for prop in (m.group(2) or "").split(","):
            key, _, value = prop.partition("=")
            assert key in ("file", "line", "endLine", "col", "title"), prop
            assert ":" not in value and "," not in value and "\n" not in value
    assert kinds.count("notice") == 1 and kinds[-1] == "notice"
    files = [re.search(r"file=([^,:]*)", ln).group(1) for ln in lines if "file=" in ln]
    assert "src/a%0A%3A%3Aerror file=x.js%3A%3Ainjected%0A%3A%3Aadd-mask%3A%3Amarker%0A.js" in files


def test_github_escaping_rules():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert escape_data("x" + ESC + "[2J") == "x\\x1b[2J"


# ------------------------------------------------------------------------------------------------ item 17

def test_junit_is_well_formed_with_control_characters(hostile, capsys):
    out = _scan(hostile, capsys, "--format", "junit")
    root = ET.fromstring(out.encode("utf-8"))          # raises on a character XML 1.0 cannot hold
    names = {tc.get("classname") for tc in root.iter("testcase")}
    assert any("\\x1b]52;c;bWFya2Vy\\x07" in (n or "") for n in names)
    assert ESC not in out


def test_sarif_uris_are_percent_encoded(hostile, capsys):
    doc = json.loads(_scan(hostile, capsys, "--format", "sarif"))
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]]
    assert "src/issue%20%2312.js" in uris
    for u in uris:
        assert re.fullmatch(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/%]+", u), u       # RFC 3986 path characters
        assert not re.search(r"%(?![0-9A-F]{2})", u), u
    assert "src/a%0A%3A%3Aerror%20file%3Dx.js%3A%3Ainjected%0A%3A%3Aadd-mask%3A%3Amarker%0A.js" in uris
    assert "src/clip%1B%5D52%3Bc%3BbWFya2Vy%07.js" in uris
    assert "src/c%E2%80%AEevil.js" in uris


def test_sarif_uri_of_an_ordinary_path_is_unchanged(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "db-1.js").write_text(CALL.format(tag="x", payload=""))
    doc = json.loads(_scan(tmp_path, capsys, "--format", "sarif"))
    assert doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "src/db-1.js"
