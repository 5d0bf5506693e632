"""Escaping shared by the markdown outputs (the migration plan and the PR comment)."""
from __future__ import annotations

import re
from typing import Any

WJ = "\u2060"   # WORD JOINER: invisible, stops @mention and #123 autolinks

# C0 controls but tab, DEL, C1 controls, and the bidirectional embeddings, overrides and isolates (text that
# reads differently from what it is): a terminal or a CI log must show them, never act on them
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_KEEP_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def _visible(m: re.Match) -> str:
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def printable(value: Any, keep_breaks: bool = False) -> str:
    """Untrusted text (file names, snippets, messages quoting code) for a terminal or a CI log: escape
    sequences and other control characters are shown as `\\x1b`-style escapes, never sent as they are.
    KEEP_BREAKS leaves CR and LF (for a format that encodes them itself)."""
    s = str(value if value is not None else "")
    return (_CONTROL_KEEP_BREAKS if keep_breaks else _CONTROL).sub(_visible, s)


def no_workflow_commands(text: str) -> str:
    """Output where no line can be read as a GitHub Actions workflow command: the runner acts on a line whose
    first characters after leading blanks are `::`; such a line (a wrapped message, a file name) gets a
    backslash before them."""
    out = []
    for line in text.split("\n"):
        plain = _SGR.sub("", line)
        if plain.lstrip().startswith("::"):
            i = line.index("::")
            line = line[:i] + "\\" + line[i:]
        out.append(line)
    return "\n".join(out)


def code(value: Any, table: bool = False) -> str:
    """An inline code span holding any text, on one line: the delimiter is longer than any backtick run
    inside; in a table cell `|` is escaped (GFM splits cells before it parses code spans)."""
    s = " ".join(str(value if value is not None else "").split())
    if not s:
        return ""
    run = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (run + 1)
    if table:
        s = s.replace("|", "\\|")
    if s.startswith("`") or s.endswith("`"):
        s = f" {s} "          # CommonMark strips one space each side
    return f"{fence}{s}{fence}"
