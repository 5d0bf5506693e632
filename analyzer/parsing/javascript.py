"""JavaScript / TypeScript facts with tree-sitter: imports, requires, aliases, calls, `new`, loops.

Queries are compiled once per process per grammar (``_queries``) and run with ``QueryCursor.matches()``.
Nodes of interest are then processed in document order so that a binding (`const w = fs.writeFileSync`) is
known before the calls that use it. Scoping is per file (flat): a name bound to a module anywhere in the file
resolves to it everywhere, which matches how real code uses module aliases.
"""
from __future__ import annotations

import re
from functools import lru_cache

import tree_sitter as ts
import tree_sitter_javascript as tsjs
import tree_sitter_typescript as tsts

from .relevance import Keep, keeper, node_builtins
from .scopes import ExtractorBase
from .facts import Arg, Call, ClassDef, FileFacts, Import, StateVar, normalise_module

FUNCTION_TYPES = {
    "function_declaration", "function_expression", "function", "arrow_function", "method_definition",
    "generator_function_declaration", "generator_function", "class_static_block",
}
CLASS_TYPES = {"class_declaration", "class", "abstract_class_declaration"}

QUERY_COMMON = """
(import_statement) @import
(export_statement source: (_)) @reexport
(call_expression) @call
(new_expression) @new
(variable_declarator name: (_) value: (_)) @decl
(assignment_expression left: (identifier) right: (_)) @assign
(for_statement) @loop
(while_statement) @loop
(do_statement) @loop
(assignment_expression left: [(subscript_expression) (member_expression)]) @massign
(augmented_assignment_expression left: [(subscript_expression) (member_expression) (identifier)]) @massign
(update_expression) @massign
(unary_expression operator: "delete") @massign
((comment) @comment (#match? @comment "cfcompat"))
(export_statement) @export
((member_expression object: (identifier) @_o property: (property_identifier) @_p) @penv
 (#eq? @_o "process") (#eq? @_p "env"))
"""
# Methods that mutate a Map / Set / array / object in place.
MUTATORS = {"set", "add", "delete", "clear", "push", "pop", "shift", "unshift", "splice", "sort", "reverse",
            "fill", "copyWithin", "assign"}
_MUTATOR_BYTES = frozenset(m.encode() for m in MUTATORS)
STATE_CTORS = {"Map": "map", "Set": "set", "WeakMap": "map", "lru-cache": "cache", "lru-cache.LRUCache": "cache",
               "node-cache": "cache", "quick-lru": "cache", "lru-cache.default": "cache", "mnemonist.LRUCache": "cache"}

# A module-level directive ('use client' / 'use server'), after comments and a hashbang.
# (each alternative begins differently and a block comment's body cannot run past its `*/`: linear, whatever the
# leading comments; a lazy `.*?` there backtracked exponentially over a file of many block comments)
_DIRECTIVE = re.compile(rb"""^(?:\s|#![^\n]*\n|//[^\n]*\n|/\*(?:[^*]|\*+[^*/])*\*+/)*['"](use client|use server)['"]""")

# Methods whose result is a promise of I/O (mail, messages, queries, writes): dropped, the work outlives the response.
_FLOAT_METHODS = frozenset(m.encode() for m in (
    "sendMail", "sendMessage", "sendPhoto", "sendDocument", "sendEachForMulticast", "sendMulticast", "query",
    "execute", "save", "insertOne", "insertMany", "updateOne", "updateMany", "deleteOne", "deleteMany",
    "findOneAndUpdate", "publish", "sendNotification"))
# Receivers whose `send` / `query`-like methods are not promises (HTTP responses, sockets, request objects).
_NOT_PROMISE_RECEIVERS = frozenset((b"res", b"response", b"reply", b"ctx", b"req", b"request", b"socket", b"ws",
                                    b"io", b"router", b"app"))

# Identifiers that are promise/compat wrappers: the result behaves like their first argument.
WRAPPERS = {"util.promisify", "promisify", "bluebird.promisify", "pify", "Promise.promisify"}


@lru_cache(maxsize=None)
def _language(dialect: str) -> ts.Language:
    if dialect == "typescript":
        return ts.Language(tsts.language_typescript())
    if dialect == "tsx":
        return ts.Language(tsts.language_tsx())
    return ts.Language(tsjs.language())


CONTAINERS = ("fn", "cls", "if", "tern", "try")


@lru_cache(maxsize=None)
def _query(dialect: str) -> ts.Query:
    lang = _language(dialect)
    fns = " ".join(f"({t})" for t in sorted(FUNCTION_TYPES) if lang.id_for_node_kind(t, True))
    classes = " ".join(f"({t})" for t in sorted(CLASS_TYPES) if lang.id_for_node_kind(t, True))
    containers = f"[{fns}] @fn\n[{classes}] @cls\n(if_statement) @if\n(ternary_expression) @tern\n(try_statement) @try\n"
    containers += ("(call_expression function: (parenthesized_expression [(arrow_function) (function_expression)] @iife))\n"
                   if lang.id_for_node_kind("function_expression", True) else
                   "(call_expression function: (parenthesized_expression [(arrow_function) (function)] @iife))\n")
    fields = " ".join(f"({t})" for t in ("field_definition", "public_field_definition") if lang.id_for_node_kind(t, True))
    if fields:
        containers += f"[{fields}] @field\n"
    return ts.Query(lang, QUERY_COMMON + containers)


@lru_cache(maxsize=None)
def _parser(dialect: str) -> ts.Parser:
    return ts.Parser(_language(dialect))


def dialect_for(path: str) -> str:
    p = path.lower()
    if p.endswith(".tsx"):
        return "tsx"
    if p.endswith((".ts", ".mts", ".cts")):
        return "typescript"
    return "javascript"  # the JS grammar parses JSX too


_ESCAPES = re.compile(r"\\(.)")


def _string_value(node: ts.Node) -> str:
    parts = []
    for ch in node.named_children:
        if ch.type == "string_fragment":
            parts.append(ch.text.decode("utf-8", "replace"))
        elif ch.type == "escape_sequence":
            parts.append(_ESCAPES.sub(r"\1", ch.text.decode("utf-8", "replace")))
    return "".join(parts)


_NOT_PROD = re.compile(r"""process\.env\.NODE_ENV\s*(===?\s*['"](development|dev|test)['"]|!==?\s*['"]production['"])""")
_IS_PROD = re.compile(r"""process\.env\.NODE_ENV\s*===?\s*['"]production['"]""")
_SCRIPT_MAIN = re.compile(r"""require\.main\s*===?\s*module|import\.meta\.main\b|process\.argv\[1\]\s*===?""")
_BROWSER = re.compile(r"""typeof\s+window\s*!==?\s*['"]undefined['"]|typeof\s+document\s*!==?\s*['"]undefined['"]""")
_ON_WORKERS = re.compile(r"""navigator\.userAgent\s*===?\s*['"]Cloudflare-Workers['"]""")
_NOT_WORKERS = re.compile(r"""navigator\.userAgent\s*!==?\s*['"]Cloudflare-Workers['"]""")


def js_guard(cond: str, in_consequence: bool) -> str:
    """Reason why code under `if (cond)` does not run in a production Worker, or ''."""
    c = cond.strip()
    if in_consequence:
        if _SCRIPT_MAIN.search(c):
            return "runs only when the file is executed directly (`require.main === module`), not in a Worker"
        if _NOT_PROD.search(c):
            return "development-only branch (`process.env.NODE_ENV` check)"
        if _BROWSER.search(c):
            return "browser-only branch (`typeof window` check)"
        if _NOT_WORKERS.search(c):
            return "branch skipped on Workers (checks `navigator.userAgent === \"Cloudflare-Workers\"`)"
    else:
        if _IS_PROD.search(c) and "!" not in c.split("NODE_ENV")[0][-3:]:
            return "development-only branch (else of a `NODE_ENV === \"production\"` check)"
        if _ON_WORKERS.search(c):
            return "branch skipped on Workers (else of a `navigator.userAgent === \"Cloudflare-Workers\"` check)"
    return ""


class _Extractor(ExtractorBase):
    FUNCTION_TYPES = frozenset(FUNCTION_TYPES)
    CONTAINERS = CONTAINERS
    PARAM_FIELDS = ("parameters", "parameter")
    IDENT_CHARS = rb"\w$"
    ENV_ROOTS = ("process",)
    ENV_QNAMES = ("process",)

    def __init__(self, src: bytes, facts: FileFacts, keep: Keep | None = None):
        self.src = src
        self.facts = facts
        self.keep = keep if keep is not None and not keep.all else None   # None: keep every call
        self.link_specs: set[str] = set()   # imported package specifiers a workspace / tsconfig could map locally
        self.spec_heads: set[str] = set()   # their first dotted segments (a quick pre-check)
        self.bindings: dict[str, str] = {}
        # const NAME = <value>, per function scope: what a later argument `NAME` stands for
        self.values: dict = {}
        self.state_names: dict[str, StateVar] = {}
        self.recording = False    # False in the bindings pass, True in the facts pass
        self.async_names: set[str] = set()    # the module's own async functions (for work left unawaited)
        self.reset_stack()

    # ----------------------------------------------------------------- containers
    def push_container(self, cap: str, node: ts.Node) -> None:
        """A function, class, `if`, `?:` or `try` starts: it encloses what follows until its end byte."""
        if cap == "fn":
            nm = node.child_by_field_name("name")
            module_level = False
            if nm is None:
                parent = node.parent
                if parent is not None and parent.type == "variable_declarator":
                    nm = parent.child_by_field_name("name")
                    module_level = True
                elif parent is not None and parent.type == "pair":
                    nm = parent.child_by_field_name("key")
            else:
                module_level = node.type in ("function_declaration", "generator_function_declaration")
            if module_level and nm is not None and not self.fns:
                if self.recording:
                    self.facts.functions.add(nm.text.decode("utf-8", "replace"))
                if node.children and node.children[0].type == "async":
                    self.async_names.add(nm.text.decode("utf-8", "replace"))
            self.push_frame(node, True, nm.text.decode("utf-8", "replace") if nm is not None else "<anonymous>")
        elif cap == "cls":
            nm = node.child_by_field_name("name")
            if nm is not None and self.recording:
                bases = []
                for ch in node.named_children:
                    if ch.type == "class_heritage":
                        for b in ch.named_children:
                            target = b.named_children[0] if b.type == "extends_clause" and b.named_children else b
                            q = self.resolve(target) if target.type in ("identifier", "member_expression") else None
                            if q:
                                bases.append(q)
                self.facts.classes.append(ClassDef(nm.text.decode("utf-8", "replace"), node.start_point[0] + 1, bases))
            self.push_frame(node, False, nm.text.decode("utf-8", "replace") if nm is not None else "<class>")
        elif not self.recording:
            return   # guards only matter to the facts pass
        elif cap == "if":
            cond = node.child_by_field_name("condition")
            if cond is not None:
                ctext = cond.text.decode("utf-8", "replace")
                cons = node.child_by_field_name("consequence")
                if cons is not None:
                    self.push_guard(cons, js_guard(ctext, True))
                alt = node.child_by_field_name("alternative")
                if alt is not None:
                    self.push_guard(alt, js_guard(ctext, False))
        elif cap == "tern":
            cond = node.child_by_field_name("condition")
            cons = node.child_by_field_name("consequence")
            if cond is not None and cons is not None:
                self.push_guard(cons, js_guard(cond.text.decode("utf-8", "replace"), True))
        elif cap == "try":
            body = node.child_by_field_name("body")
            if body is not None and node.child_by_field_name("handler") is not None:
                self.push_guard(body, "optional require inside try/catch: the code has a fallback when the module "
                                      "is missing", imports_only=True)

    @staticmethod
    def normalise(q: str) -> str:
        if q.startswith("fs.promises"):
            q = "fs/promises" + q[len("fs.promises"):]
        elif q.startswith("dns.promises"):
            q = "dns/promises" + q[len("dns.promises"):]
        return q

    def resolve(self, node: ts.Node | None, depth: int = 0) -> str | None:
        """Qualified name of an expression, or None when it is not a name-like expression."""
        if node is None or depth > 40:
            return None
        t = node.type
        if t in ("identifier", "shorthand_property_identifier"):
            name = node.text.decode("utf-8", "replace")
            return self.bindings.get(name, name)
        if t == "this":
            return "~this"
        if t in ("member_expression", "optional_chain"):
            objn = node.child_by_field_name("object")
            propn = node.child_by_field_name("property")
            if objn is not None and objn.type == "this" and propn is not None:
                key = f"this.{propn.text.decode()}"     # a field assigned in the class: this.db = new Database()
                if key in self.bindings:
                    return self.bindings[key]
            obj = self.resolve(objn, depth + 1)
            if obj is None or propn is None:
                return None
            q = f"{obj}.{propn.text.decode('utf-8', 'replace')}"
            return self.normalise(self._rebind(q))
        if t == "subscript_expression":
            obj = self.resolve(node.child_by_field_name("object"), depth + 1)
            idx = node.child_by_field_name("index")
            if obj is None or idx is None or idx.type != "string":
                return None
            return self.normalise(f"{obj}.{_string_value(idx)}")
        if t in ("call_expression", "new_expression"):
            fn = node.child_by_field_name("function") if t == "call_expression" else node.child_by_field_name("constructor")
            if fn is not None and fn.type == "identifier" and fn.text == b"require":
                mod = self._require_arg(node)
                return mod
            if fn is not None and fn.type == "import":
                return self._require_arg(node)
            q = self.resolve(fn, depth + 1)
            if q is None:
                return None
            if q in WRAPPERS:
                args = node.child_by_field_name("arguments")
                if args is not None and args.named_children:
                    inner = self.resolve(args.named_children[0], depth + 1)
                    if inner:
                        return inner
            return q + "()"
        if t in ("await_expression", "parenthesized_expression", "non_null_expression", "as_expression",
                 "satisfies_expression", "type_assertion"):
            for ch in node.named_children:
                if ch.type not in ("type_annotation", "type_identifier", "predefined_type", "generic_type"):
                    return self.resolve(ch, depth + 1)
            return None
        return None

    def _rebind(self, q: str) -> str:
        # `~x.y` where a later binding exists for "x.y" (rare) stays as is
        return q

    def _require_arg(self, call: ts.Node) -> str | None:
        args = call.child_by_field_name("arguments")
        if args is None or not args.named_children:
            return None
        a = args.named_children[0]
        mod = None
        if a.type == "string":
            mod = normalise_module(_string_value(a))
        elif a.type == "template_string" and not any(c.type == "template_substitution" for c in a.named_children):
            mod = normalise_module(a.text.decode("utf-8", "replace").strip("`"))
        if mod is not None:
            self.note_spec(mod)
        return mod

    def arg(self, node: ts.Node, depth: int = 0) -> Arg:
        t = node.type
        text = node.text.decode("utf-8", "replace")
        short = text if len(text) <= 200 else text[:197] + "..."
        if t == "string":
            return Arg("string", _string_value(node), short)
        if t == "template_string":
            subs = [c for c in node.named_children if c.type == "template_substitution"]
            if not subs:
                return Arg("string", text.strip("`"), short)
            prefix = self.src[node.start_byte + 1: subs[0].start_byte].decode("utf-8", "replace")
            inner = [self.arg(s.named_children[0], depth + 1) for s in subs if s.named_children and depth < 3]
            return Arg("template", prefix, short, inner=inner)
        if t == "number":
            return Arg("number", text, short)
        if t in ("true", "false"):
            return Arg("bool", text, short)
        if t in ("null", "undefined"):
            return Arg("none", None, short)
        if t == "identifier":
            return Arg("identifier", self.resolve(node), short, bound=self.value_of(node, text))
        if t in ("member_expression", "subscript_expression"):
            obj = node.child_by_field_name("object")
            bound = self.arg(obj, depth + 1) if obj is not None and depth < 6 else None
            return Arg("member", self.resolve(node), short, bound=bound)
        if t in ("call_expression", "new_expression", "await_expression"):
            inner_node = node
            if t == "await_expression" and node.named_children:
                inner_node = node.named_children[0]
                if inner_node.type not in ("call_expression", "new_expression"):
                    return self.arg(inner_node, depth + 1)
            fn = inner_node.child_by_field_name("function") or inner_node.child_by_field_name("constructor")
            q = self.resolve(fn) if fn is not None else None
            inner: list[Arg] = []
            args = inner_node.child_by_field_name("arguments")
            if args is not None and depth < 3:
                inner = [self.arg(c, depth + 1) for c in args.named_children if c.type != "comment"]
            bound = None
            if fn is not None and fn.type == "member_expression" and depth < 6:
                obj = fn.child_by_field_name("object")
                bound = self.arg(obj, depth + 1) if obj is not None else None
            return Arg("call" if inner_node.type == "call_expression" else "new", q, short, inner=inner, bound=bound)
        if t == "binary_expression":
            ops = [self.arg(c, depth + 1) for c in node.named_children if depth < 4]
            op = node.child_by_field_name("operator")
            if op is not None and op.type in ("||", "??"):
                return Arg("either", None, short, inner=ops)   # process.env.DIR || path.join(__dirname, ...)
            return Arg("concat", None, short, inner=ops)
        if t == "object":
            props: dict[str, Arg] = {}
            if depth < 3:
                for p in node.named_children:
                    if p.type == "pair":
                        k = p.child_by_field_name("key")
                        v = p.child_by_field_name("value")
                        if k is not None and v is not None:
                            key = _string_value(k) if k.type == "string" else k.text.decode("utf-8", "replace")
                            props[key] = self.arg(v, depth + 1)
                    elif p.type == "shorthand_property_identifier":
                        key = p.text.decode("utf-8", "replace")
                        props[key] = Arg("identifier", self.bindings.get(key, key), key)
            return Arg("object", None, short, props=props)
        if t == "array":
            return Arg("array", None, short, inner=[self.arg(c, depth + 1) for c in node.named_children][:20] if depth < 3 else [])
        if t in ("arrow_function", "function_expression", "function"):
            return Arg("lambda", None, short)
        if t == "parenthesized_expression" and node.named_children:
            return self.arg(node.named_children[0], depth + 1)
        return Arg("other", None, short)

    def add_import(self, node: ts.Node, module: str, kind: str, names: list[str], type_only: bool = False) -> None:
        self.note_spec(module)
        if not self.recording:
            return
        top, _ = self.enclosing(node)
        row = node.start_point[0]
        self.facts.imports.append(Import(
            module=module, kind=kind, line=row + 1, column=node.start_point[1] + 1,
            snippet=self.line_text(row), names=names, top_level=top, type_only=type_only,
            guard=self.guard_of(node, is_import=True)))

    def add_call(self, node: ts.Node, qname: str, kind: str, args: list[Arg], at: ts.Node | None = None) -> None:
        """A call at `at` (the method name of a call in a multi-line chain, `sharp(x)\n  .toFile(p)`: the line
        where that call is made, not where the chain starts), else at the call's start."""
        top, symbol = self.enclosing(node)
        pos = (at or node).start_point
        row = pos[0]
        self.facts.calls.append(Call(
            qname=qname, kind=kind, line=row + 1, column=pos[1] + 1, end_line=node.end_point[0] + 1,
            snippet=self.line_text(row), args=args, top_level=top, symbol=symbol, guard=self.guard_of(node)))
        self.note_span(node, symbol)

    def linkable(self, q: str) -> bool:
        """Could cross-module linking still rename this call (a name from a local or workspace module)?"""
        if q.startswith((".", "/", "@")):
            return True
        if not self.link_specs:
            return False
        head = q.split(".", 1)[0].split("(", 1)[0]
        if head not in self.spec_heads:
            return False
        i = 0
        while True:
            j = min((k for k in (q.find(".", i), q.find("(", i)) if k >= 0), default=-1)
            if j < 0:
                return q in self.link_specs
            if q[:j] in self.link_specs:
                return True
            i = j + 1

    def note_spec(self, mod: str) -> None:
        if not mod.startswith((".", "/")) and mod not in node_builtins():
            self.link_specs.add(mod)
            self.spec_heads.add(mod.split(".", 1)[0].split("(", 1)[0])

    # ----------------------------------------------------------------- node handlers
    def on_import(self, node: ts.Node) -> None:
        src = node.child_by_field_name("source")
        type_only = any(c.type == "type" for c in node.children)
        if src is None:
            # TypeScript: import fs = require("fs")
            for ch in node.named_children:
                if ch.type == "import_require_clause":
                    name = ch.named_children[0] if ch.named_children else None
                    s = ch.child_by_field_name("source")
                    if s is None:
                        s = next((c for c in ch.named_children if c.type == "string"), None)
                    if name is not None and s is not None:
                        mod = normalise_module(_string_value(s))
                        self.bindings[name.text.decode()] = mod
                        self.add_import(node, mod, "import", ["*"], type_only)
            return
        mod = normalise_module(_string_value(src))
        names: list[str] = []
        for ch in node.named_children:
            if ch.type != "import_clause":
                continue
            for c in ch.named_children:
                if c.type == "identifier":  # default import
                    self.bindings[c.text.decode()] = mod
                    names.append("default")
                elif c.type == "namespace_import":
                    ident = next((x for x in c.named_children if x.type == "identifier"), None)
                    if ident is not None:
                        self.bindings[ident.text.decode()] = mod
                    names.append("*")
                elif c.type == "named_imports":
                    for spec in c.named_children:
                        if spec.type != "import_specifier":
                            continue
                        nm = spec.child_by_field_name("name")
                        alias = spec.child_by_field_name("alias")
                        if nm is None:
                            continue
                        imported = _string_value(nm) if nm.type == "string" else nm.text.decode()
                        local = alias.text.decode() if alias is not None else imported
                        spec_type_only = any(x.type == "type" for x in spec.children)
                        if not spec_type_only:
                            self.bindings[local] = self.normalise(
                                mod + "." + imported if imported != "default" else mod)
                        names.append(imported)
        self.add_import(node, mod, "import", names, type_only)

    def on_reexport(self, node: ts.Node) -> None:
        src = node.child_by_field_name("source")
        if src is not None and src.type == "string":
            type_only = any(c.type == "type" for c in node.children)
            self.add_import(node, normalise_module(_string_value(src)), "reexport", [], type_only)

    def bind_pattern(self, pattern: ts.Node, value_q: str) -> None:
        if pattern.type == "identifier":
            self.bindings[pattern.text.decode()] = self.normalise(value_q)
        elif pattern.type == "object_pattern":
            for p in pattern.named_children:
                if p.type == "shorthand_property_identifier_pattern":
                    nm = p.text.decode()
                    self.bindings[nm] = self.normalise(f"{value_q}.{nm}")
                elif p.type == "pair_pattern":
                    k = p.child_by_field_name("key")
                    v = p.child_by_field_name("value")
                    if k is None or v is None:
                        continue
                    key = _string_value(k) if k.type == "string" else k.text.decode()
                    if v.type == "assignment_pattern":
                        v = v.child_by_field_name("left") or v
                    self.bind_pattern(v, f"{value_q}.{key}")
                elif p.type == "object_assignment_pattern":
                    left = p.child_by_field_name("left")
                    if left is not None and left.type == "shorthand_property_identifier_pattern":
                        nm = left.text.decode()
                        self.bindings[nm] = self.normalise(f"{value_q}.{nm}")

    def record_state(self, node: ts.Node, name: ts.Node, value: ts.Node) -> None:
        """A module-level `const x = new Map()` / `{}` / `[]` / `new LRUCache()` / `let n = 0`."""
        if name.type != "identifier" or node.type != "variable_declarator":
            return
        top, _ = self.enclosing(node)
        if not top:
            return
        kind, ctor = None, ""
        t = value.type
        if t == "object" and value.named_child_count == 0:
            kind = "object"
        elif t == "array" and value.named_child_count == 0:
            kind = "array"
        elif t == "new_expression":
            q = self.resolve(value.child_by_field_name("constructor")) or ""
            kind = STATE_CTORS.get(q)
            ctor = q
        elif t == "number" and node.parent is not None and node.parent.type == "lexical_declaration" and \
                node.parent.children and node.parent.children[0].type == "let":
            kind = "counter"
        if kind is None:
            return
        row = node.start_point[0]
        self.facts.state.append(StateVar(name.text.decode(), kind, row + 1, node.start_point[1] + 1,
                                         self.line_text(row), ctor))
        self.state_names[name.text.decode()] = self.facts.state[-1]

    def note_write(self, ident: ts.Node | None, node: ts.Node) -> None:
        self.record_write(ident, node)

    def on_iife(self, node: ts.Node) -> None:
        """`(async () => { ... })()` at module level: its body runs while the module loads."""
        frames = self.frames
        if frames and frames[-1].node.start_byte == node.start_byte and frames[-1].node.end_byte == node.end_byte:
            outer = frames[-2] if len(frames) > 1 else None
            frames[-1].top = outer.top if outer is not None else True

    def current_class(self) -> str:
        """The class whose body the node being handled is in ('' outside classes)."""
        for fr in reversed(self.frames):
            if fr.node.type in CLASS_TYPES:
                return fr.symbol.rsplit(".", 1)[-1]
        return ""

    def container_kind(self, value: ts.Node) -> tuple[str | None, str]:
        """(kind, constructor) of a value that creates a mutable container: `new Map()`, `{}`, `[]`, a cache."""
        t = value.type
        if t == "object" and value.named_child_count == 0:
            return "object", ""
        if t == "array" and value.named_child_count == 0:
            return "array", ""
        if t == "new_expression":
            q = self.resolve(value.child_by_field_name("constructor")) or ""
            return STATE_CTORS.get(q), q
        if t == "number":
            return "counter", ""
        return None, ""

    def record_instance_state(self, cls: str, prop: str, value: ts.Node, node: ts.Node) -> None:
        """An instance field that holds a container (`this.jobs = new Map()`, `private cache = new Map()`)."""
        kind, ctor = self.container_kind(value)
        name = f"{cls}.{prop}"
        if kind is None or name in self.state_names:
            return
        row = node.start_point[0]
        sv = StateVar(name, kind, row + 1, node.start_point[1] + 1, self.line_text(row), ctor, owner=cls)
        self.facts.state.append(sv)
        self.state_names[name] = sv

    def on_field(self, node: ts.Node) -> None:
        cls = self.current_class()
        prop = node.child_by_field_name("property") or node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        if not cls or prop is None or value is None:
            return
        static = any(ch.type == "static" for ch in node.children)
        self.record_instance_state(cls, prop.text.decode("utf-8", "replace"), value, node)
        if static and f"{cls}.{prop.text.decode('utf-8', 'replace')}" in self.state_names:
            self.state_names[f"{cls}.{prop.text.decode('utf-8', 'replace')}"].owner = ""   # a static: module state

    def this_member(self, target: ts.Node | None) -> str:
        """`Class.prop` for a `this.prop` (or `this.prop[...]`, `this.prop.x`) target inside a class, else ''."""
        while target is not None and target.type in ("subscript_expression", "member_expression"):
            obj = target.child_by_field_name("object")
            if obj is not None and obj.type == "this":
                prop = target.child_by_field_name("property")
                cls = self.current_class()
                return f"{cls}.{prop.text.decode('utf-8', 'replace')}" if prop is not None and cls else ""
            target = obj
        return ""

    def on_this_assign(self, node: ts.Node) -> None:
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is None or right is None or left.type != "member_expression":
            return
        objn = left.child_by_field_name("object")
        propn = left.child_by_field_name("property")
        if objn is None or propn is None or objn.type != "this":
            return
        key = f"this.{propn.text.decode()}"
        q = self.resolve(right)
        if q and not q.startswith("~"):
            self.bindings[key] = q

    def on_massign(self, node: ts.Node) -> None:
        t = node.type
        if t == "assignment_expression":
            left = node.child_by_field_name("left")
            ltext = left.text.decode("utf-8", "replace") if left is not None else ""
            if ltext == "module.exports":
                self.export_value("default", node.child_by_field_name("right"))
                v = node.child_by_field_name("right")
                if v is not None and v.type == "object":
                    self.facts.exports.pop("default", None)
            elif ltext.startswith(("module.exports.", "exports.")) and ltext.count(".") <= 2:
                self.export_value(ltext.rsplit(".", 1)[1], node.child_by_field_name("right"))
        if t == "unary_expression" or t == "update_expression":
            target = node.named_children[0] if node.named_children else None
        else:
            target = node.child_by_field_name("left")
        member = self.this_member(target)
        if member:
            if t == "assignment_expression" and target is not None and target.type == "member_expression" \
                    and self.fns and self.fns[-1].symbol.endswith(".constructor"):
                right = node.child_by_field_name("right")
                if right is not None:
                    cls, _, prop = member.partition(".")
                    self.record_instance_state(cls, prop, right, node)
            elif member in self.state_names:
                self.record_write_name(member, node)
        while target is not None and target.type in ("subscript_expression", "member_expression"):
            target = target.child_by_field_name("object")
        self.note_write(target, node)

    def on_decl(self, node: ts.Node, name_field: str, value_field: str) -> None:
        name = node.child_by_field_name(name_field)
        value = node.child_by_field_name(value_field)
        if name is None or value is None:
            return
        self.record_state(node, name, value)
        if name.type == "identifier":
            self.assign((self.scope_key(node), name.text.decode()), value)
        q = self.resolve(value)
        if q is None or q.startswith("~"):
            if name.type == "identifier":
                self.bindings.pop(name.text.decode(), None)
            return
        self.bind_pattern(name, q)

    def on_call(self, node: ts.Node) -> None:
        fn = node.child_by_field_name("function")
        if fn is None:
            return
        args_node = node.child_by_field_name("arguments")
        if fn.type == "identifier" and fn.text == b"require" or fn.type == "import":
            mod = self._require_arg(node)
            if mod is not None:
                self.add_import(node, mod, "require" if fn.type == "identifier" else "dynamic", [])
            elif self.recording and args_node is not None and args_node.named_children and \
                    self.bindings.get("require", "require") == "require":
                # a module path computed at run time: `require(path.join(dir, file))`, `import(name)`
                first = args_node.named_children[0]
                self.add_call(node, "@computed-module-path", "pattern", [self.arg(first)])
            return
        if args_node is not None and args_node.type == "template_string":
            return  # tagged template (sql`...`, html`...`): not a call we judge
        q = self.resolve(fn)
        if q is None:
            return
        if fn.type == "identifier" or q.startswith((".", "/")):
            self.note_invoke(node, q)
        if self.recording and self.fns:
            self.note_unawaited(node, fn, q, args_node)
        if self.keep is not None and not self.keep(q) and not self.mentions_env(args_node):
            self.skip_call(node, q, self.linkable(q))
            if fn.type == "member_expression":
                self.note_mutation(fn, q, args_node, node)
            return
        args = [self.arg(c) for c in (args_node.named_children if args_node is not None else []) if c.type != "comment"]
        at = None
        if fn.type == "member_expression":
            prop = fn.child_by_field_name("property")
            if prop is not None and prop.start_point[0] != node.start_point[0]:
                at = prop
        self.add_call(node, q, "call", args, at)
        if fn.type == "member_expression":
            self.note_mutation(fn, q, args_node, node)
            obj = fn.child_by_field_name("object")
            if obj is not None:
                self.facts.calls[-1].receiver = self.arg(obj)

    def note_unawaited(self, node: ts.Node, fn: ts.Node, q: str, args_node: ts.Node | None) -> None:
        """Asynchronous work started as a statement of its own inside a function (not awaited, returned or kept):
        a project async function, or a known I/O call (sendMail, query, save...) whose promise is dropped. A
        callback-style call (last argument a function) finishes inside its callback and is not counted."""
        name = q.rsplit(".", 1)[-1]
        if fn.type == "member_expression":
            prop = fn.child_by_field_name("property")
            obj = fn.child_by_field_name("object")
            if prop is None or prop.text not in _FLOAT_METHODS:
                return
            if obj is not None and obj.type == "identifier" and obj.text in _NOT_PROMISE_RECEIVERS:
                return
        elif not (fn.type == "identifier" and fn.text.decode("utf-8", "replace") in self.async_names):
            return
        if args_node is not None and args_node.named_children and \
                args_node.named_children[-1].type in ("arrow_function", "function_expression", "function"):
            return
        parent = node.parent
        if parent is None or parent.type != "expression_statement":
            return
        callee = fn.text.decode("utf-8", "replace")
        self.add_call(node, "@unawaited", "pattern", [Arg("string", callee if len(callee) <= 80 else name, callee)])

    def note_mutation(self, fn: ts.Node, q: str, args_node: ts.Node | None, node: ts.Node) -> None:
        """`cache.set(k, v)`, `list.push(x)`, `Object.assign(state, ...)`: a write to module state."""
        prop = fn.child_by_field_name("property")
        if prop is not None and prop.text in _MUTATOR_BYTES:
            obj = fn.child_by_field_name("object")
            if obj is not None and obj.type == "identifier":
                self.note_write(obj, node)
            elif obj is not None and obj.type == "member_expression":
                member = self.this_member(obj)
                if member in self.state_names:
                    self.record_write_name(member, node)
        if q.startswith("Object.assign") and args_node is not None and args_node.named_children:
            self.note_write(args_node.named_children[0], node)

    def on_new(self, node: ts.Node) -> None:
        ctor = node.child_by_field_name("constructor")
        q = self.resolve(ctor)
        if q is None:
            return
        if ctor is not None and (ctor.type == "identifier" or q.startswith((".", "/"))):
            self.note_invoke(node, q)
        args_node = node.child_by_field_name("arguments")
        if self.keep is not None and not self.keep(q) and not self.mentions_env(args_node):
            self.skip_call(node, q, self.linkable(q))
            return
        args = [self.arg(c) for c in (args_node.named_children if args_node is not None else []) if c.type != "comment"]
        self.add_call(node, q, "new", args)

    def on_loop(self, node: ts.Node) -> None:
        """`while (true)` / `for (;;)` whose body waits (sleep, setTimeout promise, await delay): a poller."""
        t = node.type
        forever = False
        if t == "for_statement":
            cond = node.child_by_field_name("condition")
            forever = cond is None or cond.text.strip() in (b";", b"", b"true;", b"true")
        elif t in ("while_statement", "do_statement"):
            cond = node.child_by_field_name("condition")
            if cond is not None:
                txt = cond.text.strip(b"() \t\n")
                # `while (true)`, or a stop flag: `while (!stopped)`, `while (this.running)`
                forever = txt in (b"true", b"1", b"!0") or re.fullmatch(rb"!?\s*[\w$.]+", txt) is not None
        if not forever:
            return
        body = node.child_by_field_name("body")
        if body is None:
            return
        btxt = body.text
        if re.search(rb"\b(sleep|delay|setTimeout|wait|setInterval)\s*\(", btxt) and b"await" in btxt:
            self.add_call(node, "@forever-loop-with-sleep", "pattern", [])

    def export_value(self, name: str, value: ts.Node | None) -> None:
        if value is None:
            return
        if value.type == "object":
            for p in value.named_children:
                if p.type == "shorthand_property_identifier":
                    nm = p.text.decode()
                    if nm in self.bindings:
                        self.facts.exports[nm] = self.bindings[nm]
                elif p.type == "pair":
                    k, v = p.child_by_field_name("key"), p.child_by_field_name("value")
                    q = self.resolve(v) if v is not None else None
                    if k is not None and q and not q.startswith("~"):
                        self.facts.exports[k.text.decode().strip("'\"")] = q
            return
        q = self.resolve(value)
        if q and not q.startswith("~") and q != name:
            self.facts.exports[name] = q

    def on_export(self, node: ts.Node) -> None:
        """`export default X`, `export const a = ...`, `export { a as b }` (ES modules)."""
        if node.child_by_field_name("source") is not None:
            return
        value = node.child_by_field_name("value")
        if value is not None:
            self.export_value("default", value)
        decl = node.child_by_field_name("declaration")
        if decl is not None and decl.type in ("lexical_declaration", "variable_declaration"):
            for d in decl.named_children:
                nm = d.child_by_field_name("name") if d.type == "variable_declarator" else None
                if nm is not None and nm.type == "identifier" and nm.text.decode() in self.bindings:
                    self.facts.exports[nm.text.decode()] = self.bindings[nm.text.decode()]
        for ch in node.named_children:
            if ch.type == "export_clause":
                for spec in ch.named_children:
                    nm = spec.child_by_field_name("name")
                    alias = spec.child_by_field_name("alias")
                    if nm is not None and nm.text.decode() in self.bindings:
                        self.facts.exports[(alias or nm).text.decode()] = self.bindings[nm.text.decode()]

    def on_process_env(self, node: ts.Node) -> None:
        """`process.env.X`, `process.env["X"]`, `const { X } = process.env`: a `read` fact per use."""
        if self.bindings.get("process", "process") != "process":
            return
        parent = node.parent
        names: list[str] = []
        if parent is not None and parent.type == "member_expression" and parent.child_by_field_name("object") == node:
            prop = parent.child_by_field_name("property")
            names = [prop.text.decode()] if prop is not None else []
        elif parent is not None and parent.type == "subscript_expression":
            idx = parent.child_by_field_name("index")
            names = [_string_value(idx)] if idx is not None and idx.type == "string" else [""]
        elif parent is not None and parent.type == "variable_declarator":
            pat = parent.child_by_field_name("name")
            if pat is not None and pat.type == "object_pattern":
                for p in pat.named_children:
                    key = p if p.type == "shorthand_property_identifier_pattern" else p.child_by_field_name("key")
                    if key is not None:
                        names.append(key.text.decode())
        for nm in names or [""]:
            self.add_call(node, "process.env" + (f".{nm}" if nm else ""), "read", [])

    def run(self, root: ts.Node, query: ts.Query) -> None:
        items = self.collect(root, query)
        # bindings first (in document order), then facts: a module alias declared below its first use in a
        # hoisted function still resolves.
        self.run_passes(items, {
            "import": self.on_import,
            "decl": lambda n: self.on_decl(n, "name", "value"),
            "assign": lambda n: self.on_decl(n, "left", "right"),
            "massign": lambda n: self.on_this_assign(n) if n.type == "assignment_expression" else None,
            "iife": self.on_iife,
        }, {
            "import": self.on_import, "reexport": self.on_reexport, "call": self.on_call, "new": self.on_new,
            "loop": self.on_loop, "massign": self.on_massign, "comment": self.on_comment,
            "penv": self.on_process_env, "export": self.on_export, "field": self.on_field, "iife": self.on_iife,
        })


def extract_js(src: bytes, facts: FileFacts, keep: tuple[str, ...] | None = None) -> FileFacts:
    """Facts of one JavaScript / TypeScript file; `keep`: the call-name patterns that matter (None: all)."""
    m = _DIRECTIVE.match(src[:4096])
    if m:
        facts.directives.add(m.group(1).decode())
    dialect = dialect_for(facts.path)
    tree = _parser(dialect).parse(src)
    root = tree.root_node
    if root.has_error:
        facts.parse_errors = _count_errors(root, dialect)
    ex = _Extractor(src, facts, keeper(keep))
    ex.run(root, _query(dialect))
    return facts


def _count_errors(root: ts.Node, dialect: str) -> int:
    cur = ts.QueryCursor(_error_query(dialect))
    return sum(len(c.get("e", [])) for _, c in cur.matches(root))


@lru_cache(maxsize=None)
def _error_query(dialect: str) -> ts.Query:
    return ts.Query(_language(dialect), "(ERROR) @e")
