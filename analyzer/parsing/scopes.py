"""What the JavaScript and Python extractors share: source lines for snippets, suppression comments, values
assigned per function scope, and the lines that write to module-level state. Each extractor sets
FUNCTION_TYPES, PARAM_FIELDS and IDENT_CHARS, and provides `lines` and `facts`."""
from __future__ import annotations

import re
from functools import lru_cache

import tree_sitter as ts

from .facts import Arg, FileFacts, StateVar, parse_suppression


class ExtractorBase:
    FUNCTION_TYPES: frozenset[str] = frozenset()
    PARAM_FIELDS: tuple[str, ...] = ("parameters",)
    IDENT_CHARS: bytes = rb"\w"          # characters that continue an identifier ($ too in JavaScript)

    values: dict[tuple[int, str], Arg]
    state_names: dict[str, StateVar]
    lines: list[str]
    facts: FileFacts

    def line_text(self, row: int) -> str:
        """The source line at `row` (0-based), stripped and cut to 240 characters: the finding's snippet."""
        if 0 <= row < len(self.lines):
            t = self.lines[row].strip()
            return t if len(t) <= 240 else t[:237] + "..."
        return ""

    def on_comment(self, node: ts.Node) -> None:
        """A `cfcompat-ignore` comment becomes a suppression (own line: it covers the next line too)."""
        text = node.text.decode("utf-8", "replace")
        if "cfcompat" not in text:
            return
        row = node.start_point[0]
        line = self.lines[row] if row < len(self.lines) else ""
        own = line[: node.start_point[1]].strip() == ""
        sup = parse_suppression(text, row + 1, own)
        if sup is not None:
            self.facts.suppressions.append(sup)

    def scope_key(self, node: ts.Node) -> int:
        """The enclosing function's start byte, or -1 at module level."""
        n = node.parent
        while n is not None:
            if n.type in self.FUNCTION_TYPES:
                return n.start_byte
            n = n.parent
        return -1

    def value_of(self, node: ts.Node, name: str) -> Arg | None:
        """The value last assigned to `name` in the nearest enclosing scope that assigns it; None when a
        function parameter of that name shadows it."""
        word = _word(name, self.IDENT_CHARS)
        n = node.parent
        while n is not None:
            if n.type in self.FUNCTION_TYPES:
                v = self.values.get((n.start_byte, name))
                if v is not None:
                    return v
                params = next((p for p in (n.child_by_field_name(f) for f in self.PARAM_FIELDS) if p is not None),
                              None)
                if params is not None and word.search(params.text):
                    return None
            n = n.parent
        return self.values.get((-1, name))

    def record_write(self, ident: ts.Node | None, node: ts.Node) -> None:
        """`ident` (a module-level state variable) is written at `node`: remember the line when it is inside
        a function (request code), not at import time."""
        if ident is None or ident.type != "identifier":
            return
        sv = self.state_names.get(ident.text.decode("utf-8", "replace"))
        if sv is None or self.scope_key(node) == -1:
            return
        line = node.start_point[0] + 1
        if line not in sv.writes:
            sv.writes.append(line)


@lru_cache(maxsize=4096)
def _word(name: str, ident_chars: bytes) -> "re.Pattern[bytes]":
    """`name` as a whole word (compiled once per name, not per identifier argument)."""
    return re.compile(rb"(?<![" + ident_chars + rb"])" + re.escape(name.encode()) + rb"(?![" + ident_chars + rb"])")
