"""What the JavaScript and Python extractors share: source lines for snippets, suppression comments, values
assigned per function scope, the lines that write to module-level state, and the stack of enclosing
functions, classes and guards. Each extractor sets FUNCTION_TYPES, PARAM_FIELDS and IDENT_CHARS, and provides
`lines` and `facts`.

Why a stack: in tree-sitter >= 0.21 `Node.parent` walks down from the root, so every ancestor walk is
O(depth^2). The extractors visit captured nodes in document order (start byte, then outermost first) and the
query also captures the containers (functions, classes, `if`/`try`); `enter(pos)` pops the containers that end
before `pos`, so the stack always holds exactly the containers enclosing the node being handled."""
from __future__ import annotations

import re
from functools import lru_cache
from operator import itemgetter
from typing import Callable

import tree_sitter as ts

from .facts import Arg, FileFacts, Invoke, StateVar, parse_suppression, prune


_UNSET = object()


# Symbol paths name at most this many nested functions and classes (`a.b.<anonymous>...`): code nested deeper
# is attributed to the innermost named level. Without the bound, 10,000 nested arrow functions held 600 MB of
# names and 30,000 nested lambdas 4 GB (each frame's name repeats every frame above it).
MAX_SYMBOL_DEPTH = 32


class Frame:
    """An enclosing function or class: its byte range, whether code in it runs at module load (`top`), the
    dotted symbol path of code inside it, and (functions) its parameter list's text, read once when needed."""
    __slots__ = ("node", "start", "end", "is_fn", "top", "symbol", "_params")

    def __init__(self, node: ts.Node, is_fn: bool, top: bool, symbol: str):
        self.node = node
        self.start = node.start_byte
        self.end = node.end_byte
        self.is_fn = is_fn
        self.top = top
        self.symbol = symbol
        self._params: object = _UNSET

    def params(self, fields: tuple[str, ...]) -> bytes | None:
        if self._params is _UNSET:
            p = next((x for x in (self.node.child_by_field_name(f) for f in fields) if x is not None), None)
            self._params = p.text if p is not None else None
        return self._params  # type: ignore[return-value]


class Value:
    """What `name = <node>` assigned, turned into an `Arg` only when a kept call's argument asks for it (most
    assignments never are). It remembers the enclosing functions of the assignment, and the value the name had
    before, which is what the right-hand side sees when it mentions the name itself (`p = p / "data"`): while a
    value is converted, every lookup sees the values assigned before it, as if converted where it stands."""
    __slots__ = ("node", "pos", "fns", "prev", "arg", "busy")

    def __init__(self, node: ts.Node, fns: tuple[Frame, ...], prev: "Value | Arg | None"):
        self.node = node
        self.pos = node.start_byte
        self.fns = fns
        self.prev = prev
        self.arg: object = _UNSET
        self.busy = False


_ORDER = itemgetter(0, 1, 2, 3)    # captures sort by position, outermost first, containers first; never by node
MAX_FORCE = 24     # values within values converted at most this deep (the depth `prune` keeps)


class ExtractorBase:
    recording = False   # False in the bindings pass, True in the facts pass
    forcing = 0
    horizon: int | None = None
    FUNCTION_TYPES: frozenset[str] = frozenset()
    PARAM_FIELDS: tuple[str, ...] = ("parameters",)
    IDENT_CHARS: bytes = rb"\w"          # characters that continue an identifier ($ too in JavaScript)

    values: dict[tuple[int, str], "Value | Arg"]
    state_names: dict[str, StateVar]
    facts: FileFacts
    frames: list[Frame]                  # enclosing functions and classes, outermost first
    fns: list[Frame]                     # the function frames among them
    guards: list[tuple[int, int, str, bool]]   # (start, end, why, imports only): ranges under a guard

    CONTAINERS: tuple[str, ...] = ()    # capture names that open a scope (functions, classes, if/try...)

    def collect(self, root: ts.Node, query: ts.Query) -> list[tuple[int, int, int, str, ts.Node]]:
        """Every capture as (start, -end, rank, name, node), in document order, outermost first, containers
        before other captures of the same range (rank 0): the order the handlers and the stack rely on."""
        items: list[tuple[int, int, int, str, ts.Node]] = []
        add = items.append
        containers = self.CONTAINERS
        for _, caps in ts.QueryCursor(query).matches(root):
            for cap, nodes in caps.items():
                rank = 0 if cap in containers else 1
                for n in nodes:
                    add((n.start_byte, -n.end_byte, rank, cap, n))
        items.sort(key=_ORDER)
        return items

    def run_passes(self, items: list[tuple[int, int, int, str, ts.Node]],
                   bindings: dict[str, Callable[[ts.Node], None]], facts: dict[str, Callable[[ts.Node], None]]) -> None:
        """Two walks over the captures in document order, both keeping the container stack: the bindings pass
        (names and values only), then the facts pass (imports, calls, guards) with every binding known."""
        for start, _, rank, cap, n in items:
            if rank and cap not in bindings:
                continue
            self.enter(start)
            if rank == 0:
                self.push_container(cap, n)  # type: ignore[attr-defined]
            else:
                bindings[cap](n)
        self.reset_stack()
        self.recording = True
        self.learn_env_aliases()
        for start, _, rank, cap, n in items:
            self.enter(start)
            if rank == 0:
                self.push_container(cap, n)  # type: ignore[attr-defined]
            else:
                handler = facts.get(cap)
                if handler is not None:
                    handler(n)

    def reset_stack(self) -> None:
        self.frames, self.fns, self.guards = [], [], []

    def enter(self, pos: int) -> None:
        """Move to byte `pos` (document order): drop the containers that end at or before it."""
        frames = self.frames
        while frames and frames[-1].end <= pos:
            if frames.pop().is_fn:
                self.fns.pop()
        guards = self.guards
        while guards and guards[-1][1] <= pos:
            guards.pop()

    def push_frame(self, node: ts.Node, is_fn: bool, name: str) -> None:
        outer = self.frames[-1] if self.frames else None
        if outer is None or not outer.symbol:
            symbol = name
        elif len(self.frames) >= MAX_SYMBOL_DEPTH:
            symbol = outer.symbol      # deeper frames share the outer path: names stay bounded, not quadratic
        else:
            symbol = f"{outer.symbol}.{name}"
        fr = Frame(node, is_fn, (outer.top if outer is not None else True) and not is_fn, symbol)
        self.frames.append(fr)
        if is_fn:
            self.fns.append(fr)

    def push_guard(self, node: ts.Node | None, why: str, imports_only: bool = False) -> None:
        if node is not None and why:
            self.guards.append((node.start_byte, node.end_byte, why, imports_only))

    def enclosing(self, node: ts.Node) -> tuple[bool, str]:
        """(runs at module load, symbol path) of the node being handled."""
        if not self.frames:
            return True, ""
        fr = self.frames[-1]
        return fr.top, fr.symbol

    def guard_of(self, node: ts.Node, is_import: bool = False) -> str:
        """Why the node being handled may not run on the target: the innermost guard range holding it."""
        pos = node.start_byte
        for start, end, why, imports_only in reversed(self.guards):
            if start <= pos < end and (is_import or not imports_only):
                return why
        return ""

    ENV_ROOTS: tuple[str, ...] = ()     # names whose mention in an argument may be an environment read
    env_words: "re.Pattern[bytes] | None" = None

    def learn_env_aliases(self) -> None:
        """After the bindings pass: the words that can start an environment read inside an argument
        (`process`, `environ`, and local aliases such as `const env = process.env`)."""
        names = set(self.ENV_ROOTS)
        for name, q in self.bindings.items():  # type: ignore[attr-defined]
            if any(q == r or q.startswith(r + ".") or q.startswith(r + "[") for r in self.ENV_QNAMES):
                names.add(name)
        src = self.src  # type: ignore[attr-defined]
        present = tuple(n for n in sorted(names) if n.encode() in src)   # a name absent from the file never matches
        self.env_words = _words(present, self.IDENT_CHARS) if present else None

    ENV_QNAMES: tuple[str, ...] = ()

    def mentions_env(self, node: ts.Node | None) -> bool:
        """Does this argument list mention the environment? (the env-var rule looks inside every call's
        arguments, so such a call is kept whatever its name)."""
        return node is not None and self.env_words is not None and \
            self.env_words.search(self.src, node.start_byte, node.end_byte) is not None  # type: ignore[attr-defined]

    def note_span(self, node: ts.Node, symbol: str) -> None:
        """Every call, kept or not, widens the visible span of its function (the rewrite-scope estimate)."""
        if symbol:
            lo, hi = node.start_point[0] + 1, node.end_point[0] + 1
            old = self.facts.spans.get(symbol)
            self.facts.spans[symbol] = (lo, hi) if old is None else (min(old[0], lo), max(old[1], hi))

    def note_invoke(self, node: ts.Node, qname: str) -> None:
        """A call of what may be one of the project's own functions (lifetime.py follows them)."""
        top, symbol = self.enclosing(node)
        self.facts.invokes.append(Invoke("" if top else symbol, qname, node.start_point[0] + 1))

    def skip_call(self, node: ts.Node, qname: str, linkable: bool) -> None:
        """A call that no rule can match: only its span, and (when linking may rename it) its name."""
        if self.frames:
            self.note_span(node, self.frames[-1].symbol)
        if linkable:
            self.facts.linkable.add(qname)

    _lines: list[str] | None = None

    @property
    def lines(self) -> list[str]:
        """The source's lines, split on first need (for snippets: most files have no finding)."""
        if self._lines is None:
            self._lines = self.src.decode("utf-8", "replace").splitlines()  # type: ignore[attr-defined]
        return self._lines

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

    def assign(self, key: tuple[int, str], node: ts.Node) -> None:
        """Remember `key`'s value (an expression node), converted on first use."""
        self.values[key] = Value(node, tuple(self.fns), self.values.get(key))

    def value(self, key: tuple[int, str]) -> Arg | None:
        return self.force(self.values.get(key))

    def force(self, v: "Value | Arg | None") -> Arg | None:
        horizon = self.horizon
        if horizon is not None:             # converting a value: only what was assigned before it counts
            while isinstance(v, Value) and v.pos >= horizon:
                v = v.prev
        if v is None or isinstance(v, Arg):
            return v
        if v.arg is _UNSET:
            if v.busy:                      # the right-hand side mentions the name: it sees the older value
                return self.force(v.prev)
            if self.forcing >= MAX_FORCE:   # a chain of assignments thousands deep: stop where prune would
                return None
            v.busy = True
            saved = self.fns
            self.fns = list(v.fns)
            self.forcing += 1
            self.horizon = v.pos
            try:
                v.arg = prune(self.arg(v.node))  # type: ignore[attr-defined]
            finally:
                self.fns = saved
                self.forcing -= 1
                self.horizon = horizon
                v.busy = False
        return v.arg  # type: ignore[return-value]

    def scope_key(self, node: ts.Node) -> int:
        """The enclosing function's start byte, or -1 at module level."""
        return self.fns[-1].start if self.fns else -1

    def value_of(self, node: ts.Node, name: str) -> Arg | None:
        """The value last assigned to `name` in the nearest enclosing scope that assigns it; None when a
        function parameter of that name shadows it."""
        word = None
        for fr in reversed(self.fns):
            v = self.force(self.values.get((fr.start, name)))
            if v is not None:
                return v
            params = fr.params(self.PARAM_FIELDS)
            if params is not None:
                if word is None:
                    word = _word(name, self.IDENT_CHARS)
                if word.search(params):
                    return None
        return self.force(self.values.get((-1, name)))

    def record_write(self, ident: ts.Node | None, node: ts.Node) -> None:
        """`ident` (a module-level state variable) is written at `node`: remember the line when it is inside
        a function (request code), not at import time."""
        if ident is None or ident.type != "identifier":
            return
        self.record_write_name(ident.text.decode("utf-8", "replace"), node)

    def record_write_name(self, name: str, node: ts.Node) -> None:
        sv = self.state_names.get(name)
        if sv is None or self.scope_key(node) == -1:
            return
        line = node.start_point[0] + 1
        if line not in sv.writes:
            sv.writes.append(line)
        writer = self.frames[-1].symbol if self.frames else ""
        if writer not in sv.writers:
            sv.writers.append(writer)


@lru_cache(maxsize=256)
def _words(names: tuple[str, ...], ident_chars: bytes) -> "re.Pattern[bytes]":
    alts = b"|".join(re.escape(n.encode()) for n in names) or rb"(?!x)x"
    return re.compile(rb"(?<![" + ident_chars + rb"])(?:" + alts + rb")(?![" + ident_chars + rb"])")


@lru_cache(maxsize=65536)
def _word(name: str, ident_chars: bytes) -> "re.Pattern[bytes]":
    """`name` as a whole word (compiled once per name, not per identifier argument)."""
    return re.compile(rb"(?<![" + ident_chars + rb"])" + re.escape(name.encode()) + rb"(?![" + ident_chars + rb"])")
