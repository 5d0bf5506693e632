"""Escaping shared by the markdown outputs (the migration plan, the PR comment, the job summary).

Text from the scanned repository must render inert (no HTML, no links it did not ask for, no @mention
notifications, no #123 references) and still read and search as itself once pasted: no invisible characters,
and as few backslashes as the rendering needs.

- Tokens GitHub would turn into a mention, a reference or a link (`@scope/pkg`, `@user`, `#123`, `GH-12`,
  `owner/repo#1`, `https://...`, `www.`, e-mail addresses) and identifiers that start or end with `_`
  (`__dirname`, `__init__.py`) become code spans: GitHub neither links nor mentions inside code, and the text is
  exactly the original.
- Other markdown punctuation is backslash-escaped only where it could change the rendering: `*` and `_` that
  could open or close emphasis, `[`, `]`, `` ` ``, `~`, `|`, `\\` before punctuation, `#`/`>`/list markers at the
  start; `<` only before a tag name and `&` only before an entity (as `&lt;`, `&amp;`).
"""
from __future__ import annotations

import re
from typing import Any

# tokens that would link, mention or reference something, or that read as code
_TOKEN = re.compile(
    r"(?P<url>(?i:\b(?:[a-z][a-z0-9+.-]*://|www\.))[^\s<>()\[\]{}\"'`|]*[^\s<>()\[\]{}\"'`|.,;:!?*])"
    r"|(?P<email>\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?P<mention>(?<![\w`@])@[A-Za-z0-9][\w.-]*(?:/[\w.-]+)*(?<![.-]))"
    r"|(?P<ref>(?:\b[\w.-]+/[\w.-]+)?(?<![\w&])#\d+\b|(?i:\bGH-\d+\b))"
    r"|(?P<ident>(?<![\w`])(?:_+\w+|\w*[A-Za-z0-9]_+)(?:\.\w+)*(?![\w`]))"
)
_IDENT_EDGE = re.compile(r"(^|[^\w])_|_($|[^\w])")

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


def _escape_plain(s: str, at_start: bool) -> str:
    """Backslash-escape what could change the rendering of plain inline text (no tokens inside)."""
    out = []
    n = len(s)
    for i, ch in enumerate(s):
        prev = s[i - 1] if i else " "
        nxt = s[i + 1] if i + 1 < n else " "
        if ch == "\\":
            # before punctuation, or last (a code span may follow): escaped; elsewhere a backslash is literal
            out.append("\\\\" if (i == n - 1 or nxt in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") else ch)
        elif ch in "*_":
            # a delimiter needs a non-space neighbour; `_` between two alphanumerics never is one
            if (prev.isspace() and nxt.isspace()) or (ch == "_" and prev.isalnum() and nxt.isalnum()):
                out.append(ch)
            else:
                out.append("\\" + ch)
        elif ch in "[]`|~":
            out.append("\\" + ch)
        elif ch == "<":
            out.append("&lt;" if (nxt.isalpha() or nxt in "/!?") else ch)
        elif ch == "&":
            out.append("&amp;" if re.match(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);", s[i:]) else ch)
        else:
            out.append(ch)
    text = "".join(out)
    if at_start:
        text = re.sub(r"^(\s*)([#>=+*-])", r"\1\\\2", text)            # heading, quote, setext, list marker
        text = re.sub(r"^(\s*\d+)([.)])(?=\s|$)", r"\1\\\2", text)    # ordered-list marker
    return text


def inline(value: Any, table: bool = False, at_start: bool = True) -> str:
    """Untrusted prose as inert inline markdown on one line (whitespace runs become one space)."""
    s = re.sub(r"\s+", " ", str(value if value is not None else ""))
    out = []
    pos = 0
    for m in _TOKEN.finditer(s):
        if m.lastgroup == "ident" and not _IDENT_EDGE.search(m.group(0)):
            continue          # an ordinary word or snake_case name: nothing to protect
        out.append(_escape_plain(s[pos:m.start()], at_start and pos == 0))
        out.append(code(m.group(0), table=table))
        pos = m.end()
    out.append(_escape_plain(s[pos:], at_start and pos == 0))
    return "".join(out)


def prose(value: Any, table: bool = False, limit: int = 0) -> str:
    """Text that may quote code in `backticks` (rule messages): quoted parts become code spans holding exactly
    what was quoted, the rest `inline`."""
    s = " ".join(str(value if value is not None else "").split())
    if limit and len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    parts = re.split(r"(`[^`]+`)", s)
    out = []
    for i, p in enumerate(parts):
        if i % 2 == 1:
            out.append(code(p[1:-1], table=table))
        elif p:
            out.append(inline(p, table=table, at_start=(i == 0)))
    return "".join(out)
