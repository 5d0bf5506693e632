"""A small JSONC scanner for careful text edits: it finds keys and value spans (comments and trailing commas
allowed) so that a value can be replaced or a property added without touching anything else in the file.

    >>> doc = parse('{\\n  // the date\\n  "compatibility_date": "2024-01-01",\\n}')
    >>> doc.get("compatibility_date").text(doc.src)
    '"2024-01-01"'
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

_KEY = re.compile(r"[A-Za-z_$][\w$]*")        # an unquoted object key
_SCALAR = re.compile(r"-?[\w.+\-]+")         # a number, true, false, null


class JsoncError(ValueError):
    pass


@dataclass
class Node:
    kind: str                   # object | array | scalar
    start: int                  # offset of the first character of the value
    end: int                    # offset just past the value
    members: list[tuple[str, int, "Node"]] = field(default_factory=list)   # object: (key, key offset, value)
    items: list["Node"] = field(default_factory=list)                      # array
    trailing_comma: bool = False  # a comma after the last member/item (JSONC allows it)
    src: str = ""

    def text(self, src: str) -> str:
        return src[self.start:self.end]

    def get(self, key: str) -> "Node | None":
        for k, _off, v in self.members:
            if k == key:
                return v
        return None


class _Scanner:
    def __init__(self, src: str) -> None:
        self.s = src
        self.i = 0

    def ws(self) -> None:
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in " \t\r\n\ufeff":
                self.i += 1
            elif s.startswith("//", self.i):
                j = s.find("\n", self.i)
                self.i = len(s) if j < 0 else j + 1
            elif s.startswith("/*", self.i):
                j = s.find("*/", self.i + 2)
                if j < 0:
                    raise JsoncError("unterminated comment")
                self.i = j + 2
            else:
                return

    def string(self) -> str:
        s = self.s
        q = s[self.i]
        j = self.i + 1
        while j < len(s):
            if s[j] == "\\":
                j += 2
                continue
            if s[j] == q:
                raw = s[self.i:j + 1]
                self.i = j + 1
                if q == "'":
                    raw = '"' + raw[1:-1].replace('"', '\\"') + '"'
                try:
                    return json.loads(raw)
                except ValueError as exc:
                    raise JsoncError(f"bad string at {self.i}: {exc}") from None
            j += 1
        raise JsoncError("unterminated string")

    def peek(self, ch: str) -> bool:
        return self.i < len(self.s) and self.s[self.i] == ch

    def more(self, node: Node, close: str) -> bool:
        """After an object member or array item: a comma means another may follow (or, JSONC, the closer right
        away: a trailing comma); `close` ends the container. Anything else is an error."""
        node.trailing_comma = False
        self.ws()
        if self.peek(","):
            self.i += 1
            node.trailing_comma = True
            self.ws()
            if self.peek(close):
                self.i += 1
                return False
            return True
        if self.peek(close):
            self.i += 1
            return False
        raise JsoncError(f"expected ',' or '{close}' at offset {self.i}")

    def value(self) -> Node:
        self.ws()
        if self.i >= len(self.s):
            raise JsoncError("unexpected end of input")
        c = self.s[self.i]
        start = self.i
        if c == "{":
            self.i += 1
            node = Node("object", start, start)
            self.ws()
            if self.peek("}"):
                self.i += 1
            else:
                while True:
                    self.ws()
                    if self.peek("\"") or self.peek("'"):
                        koff = self.i
                        key = self.string()
                    else:
                        m = _KEY.match(self.s, self.i)
                        if not m:
                            raise JsoncError(f"expected a key at offset {self.i}")
                        koff, key = self.i, m.group(0)
                        self.i = m.end()
                    self.ws()
                    if not self.peek(":"):
                        raise JsoncError(f"expected ':' at offset {self.i}")
                    self.i += 1
                    node.members.append((key, koff, self.value()))
                    if not self.more(node, "}"):
                        break
            node.end = self.i
            return node
        if c == "[":
            self.i += 1
            node = Node("array", start, start)
            self.ws()
            if self.peek("]"):
                self.i += 1
            else:
                while True:
                    node.items.append(self.value())
                    if not self.more(node, "]"):
                        break
            node.end = self.i
            return node
        if c in "\"'":
            self.string()
            return Node("scalar", start, self.i)
        m = _SCALAR.match(self.s, self.i)
        if not m:
            raise JsoncError(f"unexpected character {c!r} at offset {self.i}")
        self.i = m.end()
        return Node("scalar", start, self.i)


def parse(src: str) -> Node:
    sc = _Scanner(src)
    node = sc.value()
    sc.ws()
    if sc.i != len(src):
        raise JsoncError(f"unexpected text after the value at offset {sc.i}")
    node.src = src
    return node


def _line_indent(src: str, offset: int) -> str:
    ls = src.rfind("\n", 0, offset) + 1
    m = re.match(r"[ \t]*", src[ls:])
    return m.group(0) if m else ""


def _after_comma(src: str, end: int) -> int:
    """Offset just past the comma that follows a value ending at `end` (comments/whitespace between allowed)."""
    sc = _Scanner(src)
    sc.i = end
    sc.ws()
    return sc.i + 1 if sc.i < len(src) and src[sc.i] == "," else end


def _line_comment_end(src: str, pos: int) -> int:
    """If a `// comment` follows on the same line after `pos`, the offset of its line end; else `pos`."""
    m = re.compile(r"[ \t]*,?[ \t]*(//[^\n]*|/\*[^\n]*?\*/[ \t]*(//[^\n]*)?)").match(src, pos)
    return m.end() if m else pos


def set_member(src: str, obj: Node, key: str, value_json: str) -> str:
    """Replace the value of `key` in object `obj`, or add `"key": value` after its last member."""
    cur = obj.get(key)
    if cur is not None:
        return src[:cur.start] + value_json + src[cur.end:]
    return add_member(src, obj, key, value_json)


def add_member(src: str, obj: Node, key: str, value_json: str) -> str:
    pair = json.dumps(key) + ": " + value_json
    if not obj.members:
        indent = _line_indent(src, obj.start) + "  "
        close = obj.end - 1
        inner = src[obj.start + 1:close]
        if inner.strip() == "" and "\n" not in inner:
            return src[:obj.start + 1] + "\n" + indent + pair + "\n" + _line_indent(src, obj.start) + src[close:]
        return src[:close].rstrip() + "\n" + indent + pair + "\n" + _line_indent(src, obj.start) + src[close:]
    _k, koff, last = obj.members[-1]
    indent = _line_indent(src, koff)
    multiline = "\n" in src[obj.start:koff]
    if obj.trailing_comma:
        pos = _after_comma(src, last.end)
        pos = _line_comment_end(src, pos)
        sep = ("\n" + indent) if multiline else " "
        return src[:pos] + sep + pair + "," + src[pos:]
    pos = last.end
    tail = _line_comment_end(src, pos)
    if tail != pos:  # keep a same-line comment after the value on its line: `"a": 1, // note`
        return src[:pos] + "," + src[pos:tail] + ("\n" + indent if multiline else " ") + pair + src[tail:]
    sep = ("\n" + indent) if multiline else " "
    return src[:pos] + "," + sep + pair + src[pos:]


def append_items(src: str, arr: Node, values_json: list[str]) -> str:
    """Append items to array `arr`, keeping its layout (one line, or one item per line)."""
    if not values_json:
        return src
    if not arr.items:
        return src[:arr.start] + "[" + ", ".join(values_json) + "]" + src[arr.end:]
    last = arr.items[-1]
    multiline = "\n" in src[arr.start:last.start]
    indent = _line_indent(src, last.start)
    if multiline:
        add = "".join(",\n" + indent + v for v in values_json)
    else:
        add = "".join(", " + v for v in values_json)
    if arr.trailing_comma:
        pos = _after_comma(src, last.end)
        pos = _line_comment_end(src, pos)
        if multiline:
            return src[:pos] + "".join("\n" + indent + v + "," for v in values_json) + src[pos:]
        return src[:pos] + " " + ", ".join(values_json) + "," + src[pos:]
    return src[:last.end] + add + src[last.end:]


def dumps_value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
