"""Python facts with tree-sitter: imports and aliases, calls resolved to qualified names, decorators, loops.

Same design as the JavaScript extractor: one query compiled per process, nodes processed in document order,
per-file flat bindings (`from os import path as p` makes `p` mean `os.path` everywhere in the file).
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache

import tree_sitter as ts
import tree_sitter_python as tspy

from .relevance import PY_STDLIB, Keep, keeper
from .scopes import ExtractorBase
from .facts import Arg, Assign, Call, ClassDef, FileFacts, Import, StateVar, prune

QUERY = """
(import_statement) @import
(import_from_statement) @importfrom
(future_import_statement) @future
(call) @call
(decorator) @decorator
(assignment left: (_) right: (_)) @assign
(with_item) @with
(while_statement) @loop
(for_statement left: (identifier) right: (_)) @for
(augmented_assignment left: (_)) @massign
(delete_statement) @massign
(global_statement) @global
((comment) @comment (#match? @comment "cfcompat"))
(subscript value: [(attribute) (identifier)]) @sub
(decorated_definition definition: (function_definition name: (identifier))) @decdef
(typed_parameter) @tparam
(typed_default_parameter) @tparam
[(function_definition) (lambda)] @fn
(class_definition) @cls
(if_statement) @if
(try_statement) @try
"""
CONTAINERS = ("fn", "cls", "if", "try")
MUTATORS = {"append", "add", "update", "pop", "popitem", "setdefault", "extend", "clear", "remove", "insert",
            "discard", "__setitem__", "appendleft", "sort", "reverse"}
_MUTATOR_BYTES = frozenset(m.encode() for m in MUTATORS)
STATE_CTORS = {"dict": "dict", "list": "list", "set": "set", "collections.defaultdict": "dict",
               "collections.OrderedDict": "dict", "collections.deque": "list", "collections.Counter": "dict",
               "cachetools.TTLCache": "cache", "cachetools.LRUCache": "cache", "cachetools.Cache": "cache",
               "weakref.WeakValueDictionary": "dict"}

FUNCTION_TYPES = {"function_definition", "lambda"}

# Module-level assignments kept as `Assign` facts (settings a rule may read): UPPER_CASE names (Django and Flask
# settings, Celery's old-style names) and the lower-case names of Celery configuration modules.
_SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
LOWER_SETTINGS = frozenset({"beat_schedule", "celerybeat_schedule", "broker_url", "result_backend"})
# Class bases a class name is not resolved to: they say nothing about what its instances do.
_PLAIN_BASES = re.compile(r"^(object|type|[\w.]*(Error|Exception|Warning)|"
                          r"(typing|typing_extensions|abc|enum|collections\.abc|dataclasses|numbers)\..*|"
                          r"typing\.Generic\[\]|Generic\[\]|Protocol|NamedTuple|TypedDict)$")
_CONTAINER_BASES = frozenset({"dict", "list", "set"})
# A function that rebinds a module global at start-up loads configuration or a model once (memoisation): not
# request-time state.
# Functions that run once when the app starts (FastAPI lifespan, startup hooks, app factories): what they store in
# module state is configuration or a loaded model read afterwards (memoisation), not state shared by requests.
_STARTUP_ONLY = re.compile(r"(?i)^_*(lifespan|startup|on_startup|startup_event|app_startup|on_start|create_app|"
                           r"init_app|initialize|init|setup|bootstrap|configure|load_models?|load_config|"
                           r"load_settings)$")
_STARTUP_DECORATOR = re.compile(rb"on_event\(\s*['\"]startup|\.on_startup\b|before_first_request")
# Decorators that say nothing about when a function runs (a wrapper, a property, a cache)
_PLAIN_DECORATOR = re.compile(rb"^@\s*(functools\.)?(wraps|property|staticmethod|classmethod|cached_property|"
                              rb"lru_cache|cache|contextmanager|asynccontextmanager|overload|abstractmethod|"
                              rb"\w+\.setter|\w+\.getter|\w+\.deleter|typing\.overload|abc\.abstractmethod)\b")
_STARTUP_FN = re.compile(r"(?i)^_*(startup|on_startup|lifespan|init\w*|setup\w*|load\w*|configure\w*|"
                         r"connect\w*|main|create_app|bootstrap\w*|before_first_request)$")

# Builtins that a rule may name; any bare name resolves to itself unless bound by an import or assignment.
WRAPPERS = {"functools.partial", "asyncio.to_thread", "loop.run_in_executor"}


@lru_cache(maxsize=None)
def _language() -> ts.Language:
    return ts.Language(tspy.language())


@lru_cache(maxsize=None)
def _query() -> ts.Query:
    return ts.Query(_language(), QUERY)


@lru_cache(maxsize=None)
def _parser() -> ts.Parser:
    return ts.Parser(_language())


@lru_cache(maxsize=None)
def _error_query() -> ts.Query:
    return ts.Query(_language(), "(ERROR) @e")


_PREFIX = re.compile(r"^[rRbBuUfF]{0,2}")
FAST_PATHS = True   # read plain dotted names from their text (off in tests/test_fastpath.py, which compares)
_DOTTED = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")   # `a.b.c`, nothing else


def _plain_chain(text: bytes, depth: int = 0) -> bool:
    """Is this callee text a plain `a.b.c` that `resolve_dotted` answers as `resolve` would (which gives up
    deeper than 40 levels)?"""
    return _DOTTED.fullmatch(text) is not None and text.count(b".") + depth <= 40


def _string_value(node: ts.Node) -> str | None:
    """Literal value of a Python string without interpolation; None for f-strings with fields."""
    if node.type == "concatenated_string":
        parts = [_string_value(c) for c in node.named_children]
        return None if any(p is None for p in parts) else "".join(parts)  # type: ignore[arg-type]
    if any(c.type == "interpolation" for c in node.named_children):
        return None
    text = node.text.decode("utf-8", "replace")
    q = text[:1]
    if (q == '"' or q == "'") and len(text) >= 2 and text[-1] == q and not text.startswith(q * 3) \
            and "\\" not in text and q not in text[1:-1] and "\n" not in text and "\r" not in text \
            and "\0" not in text:
        return text[1:-1]          # what literal_eval gives for a plain one-line literal, without compiling it
    try:
        v = ast.literal_eval(text)
        return v if isinstance(v, str) else (v.decode("latin-1") if isinstance(v, bytes) else None)
    except Exception:
        body = _PREFIX.sub("", text)
        return body.strip("'\"")


def _fstring_prefix(node: ts.Node) -> str:
    out = []
    for c in node.named_children:
        if c.type == "interpolation":
            break
        if c.type == "string_content":
            out.append(c.text.decode("utf-8", "replace"))
    return "".join(out)


_MAIN_GUARD = re.compile(r"""__name__\s*==\s*['"]__main__['"]|['"]__main__['"]\s*==\s*__name__""")
_TYPE_CHECKING = re.compile(r"^(typing\.)?TYPE_CHECKING$")


# decorators that make a function a command-line command (click, typer, Flask's app.cli)
CLI_DECORATOR = re.compile(r"(^(click|asyncclick|cloup|rich_click)\.(.*\.)?(command|group)$|\.cli\.command$|"
                           r"^typer\.Typer\(\)\.(command|callback)$|^flask\.cli\.with_appcontext$)")
# `@x.command()` / `@x.group()` on a name this file cannot resolve is a CLI command only when the file uses a CLI
# library: chat bots (`@bot.command()`, `@app.command("/cmd")`) register commands with the same names
CLI_NAMED = re.compile(r"\.(command|group)$")
CLI_LIBRARIES = frozenset({"click", "asyncclick", "cloup", "rich_click", "typer"})
NOT_CLI_ROOTS = frozenset({"discord", "disnake", "nextcord", "interactions", "hikari", "lightbulb", "slack_bolt",
                           "telegram", "aiogram", "telebot", "pyrogram", "twitchio"})


def python_guard(cond: str) -> str:
    c = cond.strip()
    if _MAIN_GUARD.search(c):
        return "runs only when the file is executed as a script (`if __name__ == \"__main__\"`), never when imported by a Worker"
    if _TYPE_CHECKING.match(c):
        return "type-checking only (`if TYPE_CHECKING`), never runs"
    return ""


class _Extractor(ExtractorBase):
    FUNCTION_TYPES = frozenset(FUNCTION_TYPES)
    CONTAINERS = CONTAINERS
    ENV_ROOTS = ("environ",)
    ENV_QNAMES = ("os.environ",)

    def __init__(self, src: bytes, facts: FileFacts, keep: Keep | None = None):
        self.src = src
        self.facts = facts
        self.keep = keep if keep is not None and not keep.all else None   # None: keep every call
        self.import_roots: set[str] = set()   # top-level names of non-stdlib absolute imports
        self.bindings: dict[str, str] = {}
        self.values: dict = {}
        self.state_names: dict[str, StateVar] = {}
        self.global_decls: dict[int, set[str]] = {}
        self.param_types: dict[tuple[int, str], str] = {}   # (function start byte, name) -> qname
        self.decorator_calls: set[tuple[int, int]] = set()   # byte ranges of `@deco(...)` calls
        self.class_bases: dict[int, ClassDef] = {}        # class start byte -> the class and its bases
        self.local_classes: set[str] = set()              # classes defined in this file (symbols)
        self.class_containers: set[str] = set()           # attributes some class body sets to a container
        self.self_assigned: set[tuple[str, str]] = set()  # (class, attr) assigned through `self.` in a method
        self.module_plain: dict[str, tuple[ts.Node, ts.Node]] = {}   # module-level `name = <not a container>`
        self.startup_frames: dict[int, bool] = {}         # function start byte -> runs once at start-up
        self.instance_containers: set[tuple[str, str]] = set()   # (class, attr): `self.attr = {}` in a method
        self.singletons: dict[str, str] = {}              # local class -> the module-level name of its one instance
        self.singleton_at: dict[str, int] = {}            # local class -> end byte of that instantiation
        self.recording = False    # True in the facts pass
        self.clean = True         # no syntax errors: a plain `a.b.c` text is an attribute chain (resolve_dotted)
        self.reset_stack()

    # ----------------------------------------------------------------- containers
    def push_container(self, cap: str, node: ts.Node) -> None:
        """A function, lambda, class, `if` or `try` starts: it encloses what follows until its end byte."""
        if cap == "fn":
            nm = node.child_by_field_name("name")
            self.push_frame(node, True, nm.text.decode() if nm is not None else "<lambda>")
            if self.recording and node.type == "function_definition":
                self.push_guard(node, self._cli_guard(node))
        elif cap == "cls":
            nm = node.child_by_field_name("name")
            top = not self.frames
            self.push_frame(node, False, nm.text.decode() if nm is not None else "<class>")
            if not self.recording:
                self.learn_class(node, nm, top)
            else:
                cd = self.class_bases.get(node.start_byte)
                if cd is not None:
                    self.facts.classes.append(cd)
        elif not self.recording:
            if cap == "if" and not self.frames:
                # the bindings pass needs module-level guards only to tell a module's own singletons from an
                # instance made by its `if __name__ == "__main__"` block
                cond = node.child_by_field_name("condition")
                cons = node.child_by_field_name("consequence")
                if cond is not None and cons is not None:
                    self.push_guard(cons, python_guard(cond.text.decode("utf-8", "replace")))
            return   # other guards only matter to the facts pass
        elif cap == "if":
            cond = node.child_by_field_name("condition")
            cons = node.child_by_field_name("consequence")
            if cond is not None and cons is not None:
                self.push_guard(cons, python_guard(cond.text.decode("utf-8", "replace")))
        elif cap == "try":
            body = node.child_by_field_name("body")
            if body is not None and self._catches_import_error(node):
                self.push_guard(body, "optional import inside `try/except ImportError`: the code has a fallback "
                                      "when it is missing")

    def learn_class(self, node: ts.Node, nm: ts.Node | None, top: bool) -> None:
        """Bindings pass: a class and its bases (qualified names; a base defined earlier in this file by its own
        name). A module-level class whose first telling base is a library class (or a dict/list/set) is bound to
        it, so `MyBot(...).run()` resolves like `commands.Bot(...).run()` does, here and, through the exports, in
        the modules that import it."""
        if nm is None:
            return
        symbol = self.frames[-1].symbol
        bases: list[str] = []
        chosen = None
        sup = node.child_by_field_name("superclasses")
        for b in (sup.named_children if sup is not None else ()):
            if b.type not in ("identifier", "attribute", "subscript", "call"):
                continue
            text = b.text.decode("utf-8", "replace")
            q = self.resolve(b)
            if q is None:
                continue
            bases.append(text if text in self.local_classes else q)
            if chosen is None and not q.startswith("~") and not _PLAIN_BASES.match(q) and \
                    ("." in q or q in _CONTAINER_BASES):
                chosen = q
        self.local_classes.add(symbol)
        self.class_bases[node.start_byte] = ClassDef(symbol, node.start_point[0] + 1, bases)
        if top and chosen is not None:
            self.bindings[nm.text.decode()] = chosen

    def _cli_guard(self, fn: ts.Node) -> str:
        """A function decorated as a command-line command (click, typer, app.cli) never runs in the Worker."""
        parent = fn.parent
        if parent is None or parent.type != "decorated_definition":
            return ""
        for dec in parent.named_children:
            if dec.type != "decorator" or not dec.named_children:
                continue
            expr = dec.named_children[0]
            target = expr.child_by_field_name("function") if expr.type == "call" else expr
            q = self.resolve(target) or ""
            if CLI_DECORATOR.search(q) or (CLI_NAMED.search(q) and self.import_roots & CLI_LIBRARIES and
                                           q.split(".", 1)[0] not in NOT_CLI_ROOTS):
                return (f"inside a command-line command (`@{q.split('.')[-1]}`), which runs from a "
                        "terminal, not in the deployed Worker")
        return ""

    @staticmethod
    def _catches_import_error(try_node: ts.Node) -> bool:
        for clause in try_node.named_children:
            if clause.type == "except_clause":
                text = clause.text.split(b":", 1)[0]
                if b"ImportError" in text or b"ModuleNotFoundError" in text:
                    return True
        return False

    def resolve(self, node: ts.Node | None, depth: int = 0) -> str | None:
        if node is None or depth > 40:
            return None
        t = node.type
        if t == "identifier":
            return self.resolve_name(node.text.decode("utf-8", "replace"))
        if t == "attribute":
            if self.clean:
                text = node.text
                if _plain_chain(text, depth):
                    return self.resolve_dotted(text)
            objn = node.child_by_field_name("object")
            attr = node.child_by_field_name("attribute")
            if objn is not None and attr is not None and objn.type == "identifier" and objn.text in (b"self", b"cls"):
                key = f"self.{attr.text.decode()}"      # an instance attribute assigned in the class
                if key in self.bindings:
                    return self.bindings[key]
            obj = self.resolve(objn, depth + 1)
            if obj is None or attr is None:
                return None
            return f"{obj}.{attr.text.decode()}"
        if t == "call":
            fn = node.child_by_field_name("function")
            q = self.resolve(fn, depth + 1)
            if q is None:
                return None
            return q + "()"
        if t in ("await", "parenthesized_expression"):
            for ch in node.named_children:
                return self.resolve(ch, depth + 1)
        if t == "subscript":
            obj = self.resolve(node.child_by_field_name("value"), depth + 1)
            return None if obj is None else obj + "[]"
        if t == "binary_operator":
            # pathlib: Path(base) / "name" is still a Path
            op = node.child_by_field_name("operator")
            left = self.resolve(node.child_by_field_name("left"), depth + 1)
            if op is not None and op.type == "/" and left and left.startswith("pathlib.") and "Path" in left:
                return left
        return None

    def resolve_name(self, name: str) -> str:
        """A bare name: a typed parameter of an enclosing function, else what the file bound it to, else itself."""
        if self.param_types:
            for fr in reversed(self.fns):
                if fr.node.type == "function_definition":
                    typed = self.param_types.get((fr.start, name))
                    if typed is not None:
                        return typed
        return self.bindings.get(name, name)

    def resolve_dotted(self, text: bytes) -> str:
        """`resolve` of an attribute chain whose text is plain `a.b.c` (most calls), from its text alone: the
        same answer as walking its nodes (tests/test_fastpath.py), without making a Node object per level."""
        parts = text.decode().split(".")
        head = parts[0]
        q = self.resolve_name(head)
        if head == "self" or head == "cls":
            key = "self." + parts[1]         # an instance attribute assigned in the class
            if key in self.bindings:
                q = self.bindings[key]
            else:
                q = q + "." + parts[1]
            del parts[1]
        if len(parts) > 1:
            parts[0] = q
            q = ".".join(parts)
        return q

    def arg(self, node: ts.Node, depth: int = 0) -> Arg:
        t = node.type
        text = node.text.decode("utf-8", "replace")
        short = text if len(text) <= 200 else text[:197] + "..."
        if t in ("string", "concatenated_string"):
            v = _string_value(node)
            if v is None:
                return Arg("template", _fstring_prefix(node), short)
            return Arg("string", v, short)
        if t in ("integer", "float"):
            return Arg("number", text, short)
        if t in ("true", "false"):
            return Arg("bool", text, short)
        if t == "none":
            return Arg("none", None, short)
        if t == "identifier":
            return Arg("identifier", self.resolve(node), short, bound=self.value_of(node, text))
        if t in ("attribute", "subscript"):
            obj = node.child_by_field_name("object" if t == "attribute" else "value")
            if t == "attribute" and obj is not None and obj.type == "identifier" and obj.text == b"self":
                attr = node.child_by_field_name("attribute")
                known = self.value((-1, f"self.{attr.text.decode()}")) if attr is not None else None
                if known is not None:
                    return Arg("identifier", self.resolve(node), short, bound=known)
            bound = self.arg(obj, depth + 1) if obj is not None and depth < 8 else None
            return Arg("member", self.resolve(node), short, bound=bound)
        if t == "call":
            fn = node.child_by_field_name("function")
            inner: list[Arg] = []
            props: dict[str, Arg] = {}
            argl = node.child_by_field_name("arguments")
            if argl is not None and depth < 4:
                for c in argl.named_children:
                    if c.type == "keyword_argument":
                        k = c.child_by_field_name("name")
                        v = c.child_by_field_name("value")
                        if k is not None and v is not None:
                            props[k.text.decode()] = self.arg(v, depth + 1)
                    elif c.type != "comment":
                        inner.append(self.arg(c, depth + 1))
            bound = None
            if fn is not None and fn.type == "attribute" and depth < 8:
                obj = fn.child_by_field_name("object")
                bound = self.arg(obj, depth + 1) if obj is not None else None
            return Arg("call", self.resolve(fn), short, inner=inner, props=props, bound=bound)
        if t == "binary_operator":
            return Arg("concat", None, short, inner=[self.arg(c, depth + 1) for c in node.named_children if depth < 4])
        if t == "boolean_operator":
            return Arg("either", None, short, inner=[self.arg(c, depth + 1) for c in node.named_children if depth < 4])
        if t == "dictionary":
            props = {}
            if depth < 3:
                for p in node.named_children:
                    if p.type == "pair":
                        k = p.child_by_field_name("key")
                        v = p.child_by_field_name("value")
                        if k is not None and v is not None and k.type == "string":
                            props[_string_value(k) or ""] = self.arg(v, depth + 1)
            return Arg("object", None, short, props=props)
        if t in ("list", "tuple"):
            return Arg("array", None, short, inner=[self.arg(c, depth + 1) for c in node.named_children][:20] if depth < 3 else [])
        if t == "lambda":
            return Arg("lambda", None, short)
        if t == "await" and node.named_children:
            return self.arg(node.named_children[0], depth + 1)
        return Arg("other", None, short)

    def add_import(self, node: ts.Node, module: str, kind: str, names: list[str]) -> None:
        top, _ = self.enclosing(node)
        row = node.start_point[0]
        self.facts.imports.append(Import(module=module, kind=kind, line=row + 1, column=node.start_point[1] + 1,
                                         snippet=self.line_text(row), names=names, top_level=top,
                                         guard=self.guard_of(node)))

    def add_call(self, node: ts.Node, qname: str, kind: str, args: list[Arg], kwargs: dict[str, Arg]) -> None:
        top, symbol = self.enclosing(node)
        row = node.start_point[0]
        self.facts.calls.append(Call(qname=qname, kind=kind, line=row + 1, column=node.start_point[1] + 1,
                                     end_line=node.end_point[0] + 1, snippet=self.line_text(row), args=args,
                                     kwargs=kwargs, top_level=top, symbol=symbol, guard=self.guard_of(node)))
        self.note_span(node, symbol)

    def linkable(self, q: str) -> bool:
        """Could cross-module linking still rename this call (a name from a relative or non-stdlib import)?"""
        return q.startswith(".") or q.split(".", 1)[0] in self.import_roots

    def note_module(self, mod: str) -> None:
        root = mod.split(".", 1)[0]
        if root and root not in PY_STDLIB:
            self.import_roots.add(root)

    # ----------------------------------------------------------------- handlers
    def on_import(self, node: ts.Node, record: bool) -> None:
        for ch in node.named_children:
            if ch.type == "dotted_name":
                mod = ch.text.decode()
                self.note_module(mod)
                self.bindings[mod.split(".")[0]] = mod.split(".")[0]
                if record:
                    self.add_import(node, mod, "import", [])
            elif ch.type == "aliased_import":
                name = ch.child_by_field_name("name")
                alias = ch.child_by_field_name("alias")
                if name is None or alias is None:
                    continue
                mod = name.text.decode()
                self.note_module(mod)
                self.bindings[alias.text.decode()] = mod
                if record:
                    self.add_import(node, mod, "import", [])

    def on_import_from(self, node: ts.Node, record: bool) -> None:
        modnode = node.child_by_field_name("module_name")
        if modnode is None:
            return
        mod = modnode.text.decode()
        self.note_module(mod)
        names: list[str] = []
        for ch in node.children_by_field_name("name"):
            if ch.type == "dotted_name":
                nm = ch.text.decode()
                self.bindings[nm.split(".")[0]] = f"{mod}.{nm}"
                names.append(nm)
            elif ch.type == "aliased_import":
                name = ch.child_by_field_name("name")
                alias = ch.child_by_field_name("alias")
                if name is not None and alias is not None:
                    self.bindings[alias.text.decode()] = f"{mod}.{name.text.decode()}"
                    names.append(name.text.decode())
        if any(c.type == "wildcard_import" for c in node.named_children):
            names.append("*")
        if record:
            self.add_import(node, mod, "from", names)

    def record_state(self, node: ts.Node, left: ts.Node, right: ts.Node) -> None:
        top, symbol = self.enclosing(node)
        if not top or symbol:   # module level only (not class bodies)
            return
        kind, ctor = None, ""
        if right.type == "dictionary" and right.named_child_count == 0:
            kind = "dict"
        elif right.type == "list" and right.named_child_count == 0:
            kind = "list"
        elif right.type == "call":
            q = self.resolve(right.child_by_field_name("function")) or ""
            kind, ctor = STATE_CTORS.get(q), q
        elif right.type == "integer" and right.text in (b"0", b"1"):
            kind = "counter"
        if kind is None:
            name = left.text.decode()
            if name not in self.module_plain:
                self.module_plain[name] = (node, left)
            return
        row = node.start_point[0]
        sv = StateVar(left.text.decode(), kind, row + 1, node.start_point[1] + 1, self.line_text(row), ctor)
        self.facts.state.append(sv)
        self.state_names[sv.name] = sv

    def note_write(self, ident: ts.Node | None, node: ts.Node) -> None:
        if self.recording and (self.class_containers or self.singletons):
            self.note_class_write(ident, node)
        while ident is not None and ident.type in ("subscript", "attribute"):
            ident = ident.child_by_field_name("value" if ident.type == "subscript" else "object")
        self.record_write(ident, node)

    def on_massign(self, node: ts.Node) -> None:
        if node.type == "delete_statement":
            for ch in node.named_children:
                self.note_write(ch.named_children[0] if ch.type == "expression_list" and ch.named_children else ch, node)
            return
        left = node.child_by_field_name("left")
        if left is not None and left.type == "identifier":
            # `counter += 1` writes a module global only with a `global` statement in the function
            if left.text.decode() in self.globals_in(node):
                self.note_write(left, node)
            return
        self.note_write(left, node)

    def enclosing_class(self) -> str:
        """The symbol of the innermost class around the node being handled ('' outside classes)."""
        for fr in reversed(self.frames):
            if not fr.is_fn:
                return fr.symbol
        return ""

    def is_container(self, right: ts.Node) -> bool:
        t = right.type
        if t in ("dictionary", "list", "set"):
            return True
        if t == "call":
            return (self.resolve(right.child_by_field_name("function")) or "") in STATE_CTORS
        return False

    def learn_env_aliases(self) -> None:
        super().learn_env_aliases()
        self.check_singletons()

    def check_singletons(self) -> None:
        """Between the passes: keep a module-level instance as the class's one process-wide object only when the
        file makes no other instance of the class and uses the instance inside functions (`manager.connect(ws)`
        in a handler); a module constant of a class the file also instantiates per call is not one."""
        src = self.src
        keep = {}
        for cls, name in self.singletons.items():
            c, n = re.escape(cls.encode()), re.escape(name.encode())
            made = len(re.findall(rb"(?<![\w.])" + c + rb"\s*\(", src)) - \
                len(re.findall(rb"\bclass\s+" + c + rb"\s*\(", src))
            if made != 1:
                continue
            if re.search(rb"\n[ \t]+[^\n#]*(?<![\w.])" + n + rb"\.", src[self.singleton_at[cls]:]) is None:
                continue
            keep[cls] = name
        self.singletons = keep

    def record_write_name(self, name: str, node: ts.Node) -> None:
        """A write to module state, unless it is made by a start-up function (see _STARTUP_ONLY)."""
        if name in self.state_names and self.fns and self.in_startup():
            return
        super().record_write_name(name, node)

    def in_startup(self) -> bool:
        fr = next((f for f in reversed(self.fns) if f.node.type == "function_definition"), None)
        if fr is None:
            return False
        known = self.startup_frames.get(fr.start)
        if known is None:
            known = bool(_STARTUP_ONLY.match(fr.symbol.rsplit(".", 1)[-1]))
            if not known:
                parent = fr.node.parent     # once per function that writes module state: rare
                if parent is not None and parent.type == "decorated_definition":
                    known = any(d.type == "decorator" and _STARTUP_DECORATOR.search(d.text)
                                for d in parent.named_children)
            self.startup_frames[fr.start] = known
        return known

    def note_rebinding(self, name: str, node: ts.Node) -> None:
        """Bindings pass: `global X; X = ...` in a function that runs per request or per job (an async function,
        or one registered by a decorator), not a start-up loader: the module-level X is process state."""
        fr = self.fns[-1]
        fn = fr.node
        if fn.type != "function_definition" or _STARTUP_FN.match(fr.symbol.rsplit(".", 1)[-1]):
            return
        is_async = fn.children[0].type == "async" if fn.children else False
        parent = fn.parent      # once per rebinding of a declared global: rare, so the walk up is fine
        decos = [d.text for d in parent.named_children if d.type == "decorator" and
                 not _PLAIN_DECORATOR.search(d.text)] \
            if parent is not None and parent.type == "decorated_definition" else []
        if not (is_async or decos) or any(b"startup" in d or b"on_event" in d for d in decos):
            return
        if name in self.state_names or name not in self.module_plain:
            return
        stmt, left = self.module_plain[name]
        row = stmt.start_point[0]
        sv = StateVar(name, "global", row + 1, stmt.start_point[1] + 1, self.line_text(row))
        self.facts.state.append(sv)
        self.state_names[name] = sv
        self.record_write_name(name, node)

    def on_assign_facts(self, node: ts.Node) -> None:
        """Facts pass: settings and class attributes (`Assign`), and writes to class-level containers."""
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is None or right is None:
            return
        lt = left.type
        if self.fns:
            if lt == "attribute" and self.singletons:
                objn = left.child_by_field_name("object")
                attr = left.child_by_field_name("attribute")
                cls = self.enclosing_class()
                if objn is not None and attr is not None and objn.text == b"self" and cls in self.singletons and \
                        self.is_container(right):
                    # `self.rooms = {}` in a class whose one instance lives at module level: process state
                    target = f"{cls}.{attr.text.decode()}"
                    self.add_call(node, "@singleton-container", "pattern",
                                  [Arg("string", target, target), Arg("string", self.singletons[cls],
                                                                      self.singletons[cls])], {})
            if lt == "subscript" or lt == "attribute":
                self.note_class_write(left, node)
            return
        scope = self.frames[-1].symbol if self.frames else ""
        if lt == "identifier":
            name = left.text.decode("utf-8", "replace")
            if scope:
                # class attributes: containers (registries), and UPPER_CASE settings of config classes
                if not (self.is_container(right) or _SETTING_NAME.match(name)):
                    return
                target = f"{scope}.{name}"
            elif _SETTING_NAME.match(name) or name in LOWER_SETTINGS:
                target = name
            else:
                return
        elif scope:
            return
        elif lt == "attribute" and _DOTTED.fullmatch(left.text):
            target = left.text.decode()
        elif lt == "subscript":
            val = left.child_by_field_name("value")
            key = left.child_by_field_name("subscript")
            if val is None or key is None or key.type != "string" or not _DOTTED.fullmatch(val.text):
                return
            kv = _string_value(key)
            if kv is None:
                return
            target = f'{val.text.decode()}["{kv}"]'
        else:
            return
        saved = self.horizon
        self.horizon = node.start_byte        # the value as it stands here, not as later assignments leave it
        try:
            value = prune(self.arg(right))
        finally:
            self.horizon = saved
        row = node.start_point[0]
        self.facts.assigns.append(Assign(target, row + 1, node.start_point[1] + 1, self.line_text(row), value,
                                         scope))

    def note_class_write(self, target: ts.Node | None, node: ts.Node) -> None:
        """Facts pass: a write inside a function to a class-level container (`cls._instances[k] = v`,
        `Registry.items.append(x)`, `self._seen.add(x)` when no method assigns `self._seen`): a pattern fact
        `@class-attr-write` with the class attribute, how it was reached and the key written."""
        key = None
        cur = target
        while cur is not None and (cur.type == "subscript" or cur.type == "attribute"):
            if cur.type == "subscript":
                key = cur.child_by_field_name("subscript")
                cur = cur.child_by_field_name("value")
                continue
            obj = cur.child_by_field_name("object")
            if obj is not None and obj.type == "identifier":
                attr = cur.child_by_field_name("attribute")
                if attr is not None:
                    self.class_write(obj.text.decode("utf-8", "replace"), attr.text.decode("utf-8", "replace"),
                                     key.text.decode("utf-8", "replace") if key is not None else "", node)
                return
            key = None
            cur = obj

    def class_write(self, head: str, attr: str, key: str, node: ts.Node) -> None:
        if not self.fns:
            return
        if head == "self" and self.singletons:
            cls = self.enclosing_class()
            if cls in self.singletons and (cls, attr) in self.instance_containers:
                self.add_call(node, "@instance-attr-write", "pattern",
                              [Arg("string", f"{cls}.{attr}", f"{cls}.{attr}")], {})
        if attr not in self.class_containers:
            return
        if head == "self" or head == "cls":
            cls = self.enclosing_class()
            if not cls or (head == "self" and (cls, attr) in self.self_assigned):
                return
            via = head
        elif head in self.local_classes:
            cls, via = head, "class"
        else:
            return
        self.add_call(node, "@class-attr-write", "pattern",
                      [Arg("string", f"{cls}.{attr}", f"{cls}.{attr}"), Arg("string", via, via),
                       Arg("other", None, key[:200])], {})

    def globals_in(self, node: ts.Node) -> set[str]:
        if not self.fns:
            return set()
        return self.global_decls.get(self.fns[-1].start, set())

    def on_global(self, node: ts.Node) -> None:
        if not self.fns:
            return
        names = {c.text.decode() for c in node.named_children if c.type == "identifier"}
        self.global_decls.setdefault(self.fns[-1].start, set()).update(names)

    def on_assign(self, node: ts.Node) -> None:
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is not None and left.type == "attribute" and right is not None:
            objn = left.child_by_field_name("object")
            attr = left.child_by_field_name("attribute")
            if objn is not None and attr is not None and objn.type == "identifier" and objn.text == b"self":
                # `self.root = Path(root)`: later `self.root.mkdir()` is a pathlib call (flat per file)
                key = f"self.{attr.text.decode()}"
                q = self.resolve(right)
                if q and not q.startswith(("~", "self.")):
                    self.bindings[key] = q
                self.assign((-1, key), right)
                cls = self.enclosing_class()
                if cls and self.fns:
                    self.self_assigned.add((cls, attr.text.decode()))
                    if self.is_container(right):
                        self.instance_containers.add((cls, attr.text.decode()))
        if left is not None and left.type in ("subscript", "attribute"):
            self.note_write(left, node)
            return
        if left is not None and left.type == "identifier" and left.text.decode() in self.globals_in(node):
            self.note_write(left, node)
            self.note_rebinding(left.text.decode(), node)
        if left is None or right is None or left.type != "identifier":
            return
        if not self.fns and self.frames and self.is_container(right):
            self.class_containers.add(left.text.decode())   # a class attribute holding a dict/list/set
        if not self.frames and not self.guards and right.type == "call":
            fn = right.child_by_field_name("function")
            if fn is not None and fn.type == "identifier" and fn.text.decode() in self.local_classes:
                # `manager = Manager()`: a candidate, checked when the facts pass starts (`learn_env_aliases`)
                self.singletons.setdefault(fn.text.decode(), left.text.decode())
                self.singleton_at.setdefault(fn.text.decode(), node.end_byte)
        self.record_state(node, left, right)
        q = self.resolve(right)
        name = left.text.decode()
        self.assign((self.scope_key(node), name), right)
        if q is None:
            self.bindings.pop(name, None)
        else:
            self.bindings[name] = q

    def on_with(self, node: ts.Node) -> None:
        val = node.child_by_field_name("value")
        if val is None or val.type != "as_pattern":
            return
        expr = val.named_children[0] if val.named_children else None
        alias = val.child_by_field_name("alias")
        target = alias.named_children[0] if alias is not None and alias.named_children else None
        if expr is None or target is None or target.type != "identifier":
            return
        q = self.resolve(expr)
        if q is not None:
            self.bindings[target.text.decode()] = q

    def call_args(self, node: ts.Node) -> tuple[list[Arg], dict[str, Arg]]:
        args: list[Arg] = []
        kwargs: dict[str, Arg] = {}
        argl = node.child_by_field_name("arguments")
        if argl is None:
            return args, kwargs
        if argl.type == "generator_expression":
            return [Arg("other", None, argl.text.decode("utf-8", "replace")[:200])], kwargs
        for c in argl.named_children:
            if c.type == "keyword_argument":
                k = c.child_by_field_name("name")
                v = c.child_by_field_name("value")
                if k is not None and v is not None:
                    kwargs[k.text.decode()] = self.arg(v)
            elif c.type not in ("comment", "list_splat", "dictionary_splat"):
                args.append(self.arg(c))
        return args, kwargs

    def on_call(self, node: ts.Node) -> None:
        if self.decorator_calls and (node.start_byte, node.end_byte) in self.decorator_calls:
            return  # recorded once, as the decorator
        fn = node.child_by_field_name("function")
        if fn is None:
            return
        ftype = fn.type
        if self.clean and self.keep is not None and (ftype == "attribute" or ftype == "identifier"):
            text = fn.text
            if _plain_chain(text) and self.skip_plain(node, fn, text):
                return
        q = self.resolve(fn)
        if q is None:
            return
        if ftype == "identifier" and q == "__import__":
            args, _ = self.call_args(node)
            if args and args[0].kind == "string" and args[0].value:
                self.add_import(node, args[0].value, "dynamic", [])
            return
        if q == "importlib.import_module":
            args, _ = self.call_args(node)
            if args and args[0].kind == "string" and args[0].value:
                self.add_import(node, args[0].value, "dynamic", [])
        if ftype == "attribute" and q.startswith("self."):
            root = fn
            while root.type == "attribute":
                root = root.child_by_field_name("object")
                if root is None:
                    break
            if root is not None and root.type == "identifier" and root.text == b"self":
                q = "~" + q
        if self.keep is not None and not self.keep(q) and not self.mentions_env(node.child_by_field_name("arguments")):
            self.skip_call(node, q, self.linkable(q))
            if ftype == "attribute":
                self.note_mutation(fn, node)
            return
        args, kwargs = self.call_args(node)
        self.add_call(node, q, "call", args, kwargs)
        if ftype == "attribute":
            self.note_mutation(fn, node)
            obj = fn.child_by_field_name("object")
            if obj is not None:
                self.facts.calls[-1].receiver = self.arg(obj)

    def skip_plain(self, node: ts.Node, fn: ts.Node, text: bytes) -> bool:
        """The common case of `on_call`, read from the callee's text: a plain `name(...)` or `a.b.c(...)` call that
        no rule can match and whose arguments do not mention the environment. Does what `on_call` does for such
        a call (span, linkable name, write to module state) with a few Node reads, and says True; says False
        when the call needs the full path (kept, environment, dynamic import), which then does it all again."""
        if b"." in text:
            q = self.resolve_dotted(text)
            if q.startswith("self.") and text.startswith(b"self."):
                q = "~" + q
        else:
            q = self.resolve_name(text.decode())
            if q == "__import__":
                return False
        if q == "importlib.import_module" or self.keep(q):  # type: ignore[misc]
            return False
        env = self.env_words
        if env is not None and env.search(self.src, fn.end_byte, node.end_byte) is not None:
            return False      # (a superset of the argument list's bytes: the full path looks closer)
        self.skip_call(node, q, self.linkable(q))
        if b"." in text and text.rpartition(b".")[2] in _MUTATOR_BYTES:
            if self.state_names:
                # `head.x.append(...)`: a write to `head` when it is module state
                self.record_write_name(text.partition(b".")[0].decode(), node)
            if (self.class_containers or self.singletons) and text.count(b".") >= 2:
                # `cls.items.append(...)`: a write to a class-level container
                head, attr = text.split(b".", 2)[:2]
                self.class_write(head.decode(), attr.decode(), "", node)
        return True

    def note_mutation(self, fn: ts.Node, node: ts.Node) -> None:
        attr = fn.child_by_field_name("attribute")
        if attr is not None and attr.text in _MUTATOR_BYTES:
            self.note_write(fn.child_by_field_name("object"), node)

    def on_decorator(self, node: ts.Node) -> None:
        expr = node.named_children[0] if node.named_children else None
        if expr is None:
            return
        if expr.type == "call":
            self.decorator_calls.add((expr.start_byte, expr.end_byte))
            q = self.resolve(expr.child_by_field_name("function"))
        else:
            q = self.resolve(expr)
        if q is None:
            return
        if self.keep is not None and not self.keep(q) and \
                not (expr.type == "call" and self.mentions_env(expr.child_by_field_name("arguments"))):
            self.skip_call(node, q, self.linkable(q))
            return
        args, kwargs = self.call_args(expr) if expr.type == "call" else ([], {})
        self.add_call(node, q, "decorator", args, kwargs)

    def on_for(self, node: ts.Node) -> None:
        """`for p in BASE.rglob("*.md")`: p is a pathlib.Path derived from BASE."""
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is None or right is None or left.type != "identifier":
            return
        while right.type == "call":
            fn = right.child_by_field_name("function")
            argl = right.child_by_field_name("arguments")
            if fn is not None and fn.type == "identifier" and fn.text in (b"sorted", b"list", b"reversed", b"tuple",
                                                                          b"set") and argl is not None \
                    and argl.named_children:
                right = argl.named_children[0]
            else:
                break
        q = self.resolve(right) or ""
        if re.match(r"^pathlib\..*Path.*\.(glob|rglob|iterdir|walk)\(\)$", q) or \
                re.match(r"^(os\.listdir|os\.scandir|glob\.glob|glob\.iglob)\(\)$", q):
            name = left.text.decode()
            if q.startswith("pathlib"):
                self.bindings[name] = "pathlib.Path()"
            self.assign((self.scope_key(node), name), right)

    def on_loop(self, node: ts.Node) -> None:
        cond = node.child_by_field_name("condition")
        if cond is None:
            return
        ctext = cond.text.strip()
        # `while True`, or a stop flag: `while not stop.is_set()`, `while self.running`, `while running`
        if ctext not in (b"True", b"1") and \
                not re.fullmatch(rb"(not\s+)?[\w.]+(\.(is_set|is_closed|is_running)\(\))?", ctext):
            return
        body = node.child_by_field_name("body")
        if body is not None and re.search(rb"\b(sleep|wait)\s*\(", body.text):
            self.add_call(node, "@forever-loop-with-sleep", "pattern", [], {})

    def on_typed_param(self, node: ts.Node) -> None:
        """`def save(self, dest: Path)`: `dest` is a pathlib.Path inside that function (and `Path | None`,
        `Optional[Path]`). Only pathlib types: they decide the filesystem rules."""
        name = node.child_by_field_name("name") if node.type == "typed_default_parameter" else \
            next((c for c in node.named_children if c.type == "identifier"), None)
        typ = node.child_by_field_name("type")
        if name is None or typ is None:
            return
        for m in re.finditer(rb"[A-Za-z_][\w.]*", typ.text):
            q = self.bindings.get(m.group().decode(), m.group().decode())
            if q in ("pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"):
                fn = node.parent.parent if node.parent is not None else None
                key = fn.start_byte if fn is not None and fn.type == "function_definition" else -1
                self.values[(key, name.text.decode())] = Arg("call", "pathlib.Path", name.text.decode())
                self.param_types[(key, name.text.decode())] = "pathlib.Path()"
                return

    def on_decorated_def(self, node: ts.Node) -> None:
        """A module-level `@app.task(...) def f` makes `f` an instance of its decorator: `f.delay()` resolves to
        `celery.Celery().task().delay`."""
        top, symbol = self.enclosing(node)
        if not top or symbol:
            return
        fn = node.child_by_field_name("definition")
        name = fn.child_by_field_name("name") if fn is not None else None
        decs = [d for d in node.named_children if d.type == "decorator" and d.named_children]
        if name is None or not decs:
            return
        expr = decs[0].named_children[0]          # the outermost decorator wraps the result
        target = expr.child_by_field_name("function") if expr.type == "call" else expr
        q = self.resolve(target)
        if q and not q.startswith("~") and q.split(".")[-1] not in ("setter", "getter", "deleter") and \
                q not in ("property", "staticmethod", "classmethod", "functools.wraps", "dataclasses.dataclass"):
            self.bindings[name.text.decode()] = q + "()"

    def on_subscript(self, node: ts.Node) -> None:
        """`os.environ["X"]` (and `environ["X"]` after `from os import environ`): a `read` fact."""
        q = self.resolve(node.child_by_field_name("value"))
        if q != "os.environ":
            return
        key = node.child_by_field_name("subscript")
        args = [self.arg(key)] if key is not None else []
        self.add_call(node, "os.environ[]", "read", args, {})

    def run(self, root: ts.Node) -> None:
        items = self.collect(root, _query())
        # `global x` must precede every use of x in its function (a SyntaxError otherwise), so document order
        # sees it before the assignments it governs
        self.run_passes(items, {
            "global": self.on_global,
            "import": lambda n: self.on_import(n, False),
            "importfrom": lambda n: self.on_import_from(n, False),
            "assign": self.on_assign, "with": self.on_with, "for": self.on_for,
            "decdef": self.on_decorated_def, "tparam": self.on_typed_param,
        }, {
            "import": lambda n: self.on_import(n, True),
            "importfrom": lambda n: self.on_import_from(n, True),
            "call": self.on_call, "decorator": self.on_decorator, "loop": self.on_loop,
            "massign": self.on_massign, "comment": self.on_comment, "sub": self.on_subscript,
            "assign": self.on_assign_facts,
        })


def extract_python(src: bytes, facts: FileFacts, keep: tuple[str, ...] | None = None) -> FileFacts:
    """Facts of one Python file; `keep`: the call-name patterns that matter (None: all)."""
    tree = _parser().parse(src)
    root = tree.root_node
    if root.has_error:
        cur = ts.QueryCursor(_error_query())
        facts.parse_errors = sum(len(c.get("e", [])) for _, c in cur.matches(root))
    ex = _Extractor(src, facts, keeper(keep))
    ex.clean = FAST_PATHS and not root.has_error
    ex.run(root)
    # what other modules get when they import a name from this one: instances, aliases of modules and of
    # library names (`app = Celery(...)`, `from redis import Redis as R`), decorated functions
    facts.exports = {k: v for k, v in sorted(ex.bindings.items()) if v != k and not v.startswith("~")}
    return facts
