"""Facts extracted from one source file: the only thing rules look at (syntax trees are not kept)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Arg:
    """One argument (or object property value) of a call, reduced to what rules need."""
    kind: str                   # string | template | number | bool | none | identifier | member | call | new |
    #                             object | array | concat | lambda | other
    value: str | None = None    # literal text, or the qualified name for identifier/member/call/new
    text: str = ""              # source text, trimmed
    inner: list["Arg"] = field(default_factory=list)        # call/new arguments, concat operands
    props: dict[str, "Arg"] = field(default_factory=dict)   # object literal / Python keyword arguments
    bound: "Arg | None" = None  # identifier: the value it was assigned; member/method call: the receiver


@dataclass
class Call:
    """A call, `new`, decorator or synthetic pattern, with its callee resolved to a qualified name."""
    qname: str
    kind: str                   # call | new | decorator | pattern | read (process.env.X, os.environ["X"])
    line: int
    column: int
    end_line: int
    snippet: str
    args: list[Arg] = field(default_factory=list)
    kwargs: dict[str, Arg] = field(default_factory=dict)
    top_level: bool = True      # runs at module load (not inside any function)
    symbol: str = ""            # enclosing function / class path, e.g. "Store.save"
    guard: str = ""             # why this code may not run on the target (filled by the guard pass)
    receiver: Arg | None = None  # for `obj.method(...)`: the object, reduced like an argument
    via: str = ""               # runs while the module loads although inside a function: how (lifetime.py)


@dataclass
class Import:
    module: str                 # normalised specifier: 'fs', 'fs/promises', 'better-sqlite3', 'os.path'
    kind: str                   # import | require | dynamic | from | reexport
    line: int
    column: int
    snippet: str
    names: list[str] = field(default_factory=list)   # imported names ('*' for namespace, 'default')
    top_level: bool = True
    type_only: bool = False     # TypeScript `import type`: erased at build time
    guard: str = ""


@dataclass
class Suppression:
    """`// cfcompat-ignore RULE -- reason` / `# cfcompat: ignore[RULE] reason` (and the -file forms)."""
    line: int                   # the comment's line
    rules: list[str]
    reason: str
    own_line: bool              # the comment stands alone on its line: it covers the next line too
    file_level: bool = False


SUPPRESS_JS = re.compile(r"cfcompat-ignore(-file)?\s+([a-z0-9][a-z0-9,\s\-]*?)(?:\s+--\s*(.*?))?\s*(?:\*/)?\s*$")
SUPPRESS_PY = re.compile(r"cfcompat:\s*ignore(-file)?\[([a-z0-9,\s\-]+)\]\s*(.*?)\s*$")


def parse_suppression(comment: str, line: int, own_line: bool) -> Suppression | None:
    """A suppression comment, or None. A suppression without a reason has reason ''."""
    m = SUPPRESS_PY.search(comment) or SUPPRESS_JS.search(comment)
    if m is None:
        return None
    rules = [r.strip() for r in re.split(r"[,\s]+", m.group(2)) if r.strip()]
    reason = (m.group(3) or "").strip().rstrip("*/").strip()
    return Suppression(line, rules, reason, own_line, bool(m.group(1)))


@dataclass
class StateVar:
    """A module-level mutable container (Map, Set, object, array, dict, list, cache instance) and the lines
    inside functions that write to it."""
    name: str
    kind: str                   # map | set | object | array | dict | list | cache | counter
    line: int
    column: int
    snippet: str
    ctor: str = ""              # qualified constructor when created with `new X()` / `X()`
    writes: list[int] = field(default_factory=list)   # lines inside functions that mutate it
    owner: str = ""             # the class whose instances hold it (`this.jobs = new Map()`), '' at module level
    writers: list[str] = field(default_factory=list)  # the functions the writes are made in (symbols)
    lifetime: str = ""          # for an instance field: why that instance lives for the process (lifetime.py)


@dataclass
class Assign:
    """A module-level or class-level assignment whose value a rule may read: settings modules (`DATABASES =
    {...}`, `MEDIA_ROOT = ...`), configuration attributes (`app.conf.beat_schedule = {...}`) and class
    attributes (`_instances = {}` in a class body)."""
    target: str                 # 'DATABASES', 'app.conf.beat_schedule', 'Store._instances'
    line: int
    column: int
    snippet: str
    value: Arg | None = None
    scope: str = ""             # '' at module level, else the class name


@dataclass
class Invoke:
    """A call of a function that may be the project's own (a bare name, or one imported from a local module),
    with the function it is made from: what the lifetime pass follows to find the functions that run while a
    module loads (a function called at top level, and what it calls in turn)."""
    caller: str                 # enclosing function symbol, '' at module top level
    callee: str                 # qualified name before linking: 'start', './db.connect', './config/db'
    line: int


@dataclass
class ClassDef:
    """A class and what it derives from (qualified names), so `MyBot().run` is known to be a `Bot().run`."""
    name: str                   # as written in the file ('MyBot'); nested: 'Outer.Inner'
    line: int
    bases: list[str] = field(default_factory=list)


@dataclass
class FileFacts:
    path: str
    language: str
    role: str
    lines: int = 0
    imports: list[Import] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    error: str | None = None    # set when the file could not be read or parsed at all
    warning: str | None = None  # read with a problem that did not stop the scan (bytes replaced)
    parse_errors: int = 0       # syntax error nodes tree-sitter recovered from
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)   # function -> (first, last) line of its calls
    # names of calls the extraction did not keep that cross-module linking may still rename (see
    # parsing/relevance.py); emptied once linking is done
    linkable: set[str] = field(default_factory=set)
    suppressions: list[Suppression] = field(default_factory=list)
    state: list[StateVar] = field(default_factory=list)
    exports: dict[str, str] = field(default_factory=dict)   # exported name -> qualified name ('default')
    assigns: list[Assign] = field(default_factory=list)
    classes: list[ClassDef] = field(default_factory=list)
    invokes: list[Invoke] = field(default_factory=list)
    functions: set[str] = field(default_factory=set)   # module-level functions defined here (by name)
    directives: set[str] = field(default_factory=set)  # 'use client' / 'use server' at the top of a JS module


def normalise_module(spec: str) -> str:
    """`node:fs` -> `fs`; `fs.promises` stays for the resolver; strips query/hash of bundler specifiers."""
    s = spec.strip()
    if s.startswith("node:"):
        s = s[5:]
    return s


def package_of(spec: str) -> str:
    """npm package name of an import specifier: '@scope/pkg/sub' -> '@scope/pkg', 'pkg/sub' -> 'pkg'."""
    if spec.startswith((".", "/")):
        return spec
    parts = spec.split("/")
    if spec.startswith("@") and len(parts) >= 2:
        return "/".join(parts[:2])
    return parts[0]


def prune(a: "Arg | None", depth: int = 24) -> "Arg | None":
    """A copy of an argument tree cut at `depth` levels, so chains of assignments (`a2 = a1 + 1; a3 = a2 + 1`
    ... thousands deep) cannot make facts unboundedly deep (recursion in checks, caching, pickling)."""
    if a is None:
        return None
    if depth <= 0:
        return Arg(a.kind, a.value, a.text)
    return Arg(a.kind, a.value, a.text, inner=[prune(x, depth - 1) for x in a.inner[:20]],  # type: ignore[misc]
               props={k: prune(v, depth - 1) for k, v in list(a.props.items())[:40]},  # type: ignore[misc]
               bound=prune(a.bound, depth - 1))
