"""Escaping shared by the markdown outputs (the migration plan and the PR comment)."""
from __future__ import annotations

import re
from typing import Any

WJ = "\u2060"   # WORD JOINER: invisible, stops @mention and #123 autolinks


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
