"""JavaScript / TypeScript fixes: text edits on the entry module, located with tree-sitter.

* An Express, Koa or node:http app that calls `listen(port)` at module load gets
  `import { httpServerHandler } from "cloudflare:node"` and `export default httpServerHandler({ port })`:
  workerd registers `listen(port)` in an in-process port map and routes the Worker's requests to it only
  through that default export (cloudflare-facts "node:http server in detail"; an Express 5 app served this way
  in the oracle).
* CommonJS: `module.exports = httpServerHandler(...)` is **not** a Worker. wrangler decides the Worker's format
  from the entry's ES module exports; a CommonJS entry has none, so it would be taken as a service-worker script
  with no fetch handler. Instead a small ES module (`worker.mjs` beside the entry) imports the CommonJS entry for
  its side effects, exports the handler, and becomes `main`.
* node-cron `cron.schedule(expr, job[, options])` at module level becomes a named job (`const cronJob1 = job`)
  run by the entry's `scheduled(controller, env, ctx)` handler through a `CRON_JOBS` table keyed by the Cron
  Trigger expression, and the expression goes to `triggers.crons`. 6-field expressions (seconds first) convert
  only when the seconds field is 0; time zones other than UTC, `scheduled: false`, `runOnInit`, schedules set up
  inside functions and computed expressions are left with a comment.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

import tree_sitter as ts

from ..parsing.javascript import _parser, dialect_for
from . import cron
from .model import MARK

FUNCS = {"function_declaration", "function_expression", "function", "arrow_function", "method_definition",
         "generator_function_declaration", "class_declaration", "class"}


def parse(text: str, path: str) -> ts.Node:
    return _parser(dialect_for(path)).parse(text.encode("utf-8")).root_node


def error_count(text: str, path: str) -> int:
    root = parse(text, path)
    n = 0
    stack = [root]
    while stack:
        x = stack.pop()
        if x.type == "ERROR" or x.is_missing:
            n += 1
        stack.extend(x.children)
    return n


def _t(node: ts.Node, src: bytes) -> str:
    return src[node.start_byte:node.end_byte].decode("utf-8")


def is_esm(text: str, path: str) -> bool:
    if path.endswith((".mjs", ".mts", ".ts", ".tsx")):
        return True
    if path.endswith((".cjs", ".cts")):
        return False
    root = parse(text, path)
    for ch in root.children:
        if ch.type in ("import_statement", "export_statement"):
            return True
    if re.search(r"\brequire\s*\(|\bmodule\.exports\b|\bexports\.\w+\s*=", text):
        return False
    return True  # no module syntax either way: an ES module import is the smaller change


def _top_level(node: ts.Node) -> bool:
    p = node.parent
    while p is not None:
        if p.type in FUNCS:
            return False
        p = p.parent
    return True


def _statement(node: ts.Node) -> ts.Node | None:
    """The top-level statement holding `node` if `node` is its whole expression (`x.listen(3000);`)."""
    p = node.parent
    if p is not None and p.type == "expression_statement" and p.parent is not None and p.parent.type == "program":
        return p
    return None


def _calls_on_line(root: ts.Node, line: int, prop: str) -> list[ts.Node]:
    out = []
    stack = [root]
    while stack:
        x = stack.pop()
        if x.start_point[0] + 1 > line or x.end_point[0] + 1 < line:
            continue
        if x.type == "call_expression" and x.start_point[0] + 1 == line:
            fn = x.child_by_field_name("function")
            if fn is not None and fn.type == "member_expression":
                p = fn.child_by_field_name("property")
                if p is not None and p.text == prop.encode():
                    out.append(x)
        stack.extend(x.children)
    return sorted(out, key=lambda n: n.start_byte)


def _top_decl_init(root: ts.Node, src: bytes, name: str) -> str | None:
    """Initializer text of a top-level `const|let|var name = ...`."""
    for st in root.children:
        if st.type in ("lexical_declaration", "variable_declaration"):
            for d in st.named_children:
                if d.type == "variable_declarator":
                    n = d.child_by_field_name("name")
                    v = d.child_by_field_name("value")
                    if n is not None and n.type == "identifier" and _t(n, src) == name and v is not None:
                        return _t(v, src)
    return None


def _top_names(root: ts.Node, src: bytes) -> set[str]:
    names: set[str] = set()
    for st in root.children:
        node = st.child_by_field_name("declaration") if st.type == "export_statement" else st
        if node is None:
            continue
        if node.type in ("function_declaration", "class_declaration", "generator_function_declaration"):
            n = node.child_by_field_name("name")
            if n is not None:
                names.add(_t(n, src))
        elif node.type in ("lexical_declaration", "variable_declaration"):
            for d in node.named_children:
                n = d.child_by_field_name("name") if d.type == "variable_declarator" else None
                if n is not None and n.type == "identifier":
                    names.add(_t(n, src))
        elif node.type == "import_statement":
            for idn in re.findall(r"[A-Za-z_$][\w$]*", _t(node, src).split("from")[0].replace("import", "", 1)):
                names.add(idn)
    return names


_SAFE_PORT = re.compile(r"^[\s\d()|?+]*$")


def portable(expr: str) -> bool:
    """An expression that gives the same value wherever it is evaluated (literals, process.env, Number())."""
    rest = re.sub(r"process\.env\.[A-Za-z_]\w*|process\.env\[['\"][A-Za-z_]\w*['\"]\]", "0", expr)
    rest = re.sub(r"\b(Number|parseInt)\b|'[^']*'|\"[^\"]*\"|,\s*10\b", "", rest)
    return bool(_SAFE_PORT.match(rest))


def comment(text: str) -> str:
    return f"// {MARK} {text}"


def _insert_at_line_start(text: str, offset: int, lines: str) -> str:
    ls = text.rfind("\n", 0, offset) + 1
    indent = re.match(r"[ \t]*", text[ls:]).group(0)  # type: ignore[union-attr]
    block = "".join(indent + ln + "\n" for ln in lines.splitlines())
    return text[:ls] + block + text[ls:]


def import_position(text: str, path: str) -> int:
    """Offset just after the module's last top-level import / require declaration (or after a directive)."""
    root = parse(text, path)
    src = text.encode("utf-8")
    pos = 0
    for st in root.children:
        if st.type == "import_statement" or (st.type in ("lexical_declaration", "variable_declaration") and
                                             re.search(r"\brequire\s*\(", _t(st, src))) or \
                (st.type == "expression_statement" and _t(st, src).strip("'\";") == "use strict"):
            pos = st.end_byte
        elif st.type in ("comment", "hash_bang_line") and pos == 0 and st.start_byte == 0:
            pos = st.end_byte
    # byte offset -> str offset
    return len(src[:pos].decode("utf-8"))


def insert_after_imports(text: str, path: str, line: str) -> str:
    pos = import_position(text, path)
    if pos == 0:
        return line + "\n" + text
    eol = text.find("\n", pos)
    eol = len(text) if eol < 0 else eol
    return text[:eol] + "\n" + line + text[eol:]


# --------------------------------------------------------------------------------------------- jobs

@dataclass
class CronJob:
    module: str                 # path of the module that defines the job
    name: str                   # exported / bound name of the job in that module
    cron: str                   # Cloudflare Cron Trigger expression
    esm: bool


@dataclass
class JsEdit:
    text: str
    jobs: list[CronJob] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)


def _string_literal(node: ts.Node | None, src: bytes) -> str | None:
    if node is None:
        return None
    if node.type == "string":
        return "".join(_t(c, src) for c in node.named_children if c.type == "string_fragment")
    if node.type == "template_string" and not any(c.type == "template_substitution" for c in node.named_children):
        return _t(node, src)[1:-1]
    return None


def _options(node: ts.Node | None, src: bytes) -> tuple[Any, str | None]:
    """(timezone, problem) of a node-cron options object."""
    if node is None:
        return None, None
    if node.type != "object":
        return None, "the options are not an object literal"
    tz = None
    for p in node.named_children:
        if p.type != "pair":
            return None, "the options object has a spread or method"
        k = _t(p.child_by_field_name("key"), src).strip("'\"")
        v = p.child_by_field_name("value")
        if k == "timezone":
            tz = _string_literal(v, src)
            if tz is None:
                return None, "the time zone is not a literal"
        elif k == "name":
            continue
        elif k == "scheduled" and _t(v, src) == "true":
            continue
        elif k == "runOnInit" and _t(v, src) == "false":
            continue
        else:
            return None, f"option `{k}: {_t(v, src)}` has no Cron Trigger equivalent"
    return tz, None


def convert_node_cron(text: str, path: str, lines: list[int], esm: bool, is_entry: bool) -> JsEdit:
    """Rewrite the node-cron `schedule()` calls on `lines` of the module at `path`."""
    out = JsEdit(text)
    edits: list[tuple[int, int, str]] = []
    exports: list[str] = []
    src = text.encode("utf-8")
    root = parse(text, path)
    top = _top_names(root, src)
    used = set(re.findall(r"\bcronJob\d+\b", text))
    n = 0
    for line in sorted(set(lines)):
        for call in _calls_on_line(root, line, "schedule"):
            stmt = _statement(call)
            args = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
            code = " ".join(_t(call, src).split())[:90]
            why = None
            expr = cfexpr = None
            if stmt is None or not _top_level(call):
                why = ("the schedule is set up inside a function or its result is kept; move the job into the "
                       "entry's scheduled handler by hand")
            elif len(args) < 2 or len(args) > 3:
                why = "unexpected arguments"
            else:
                expr = _string_literal(args[0], src)
                if expr is None:
                    why = "the cron expression is not a literal"
                else:
                    tz, why = _options(args[2] if len(args) == 3 else None, src)
                    if why is None:
                        cfexpr, why = cron.node_cron(expr, tz)
                job = args[1]
                if why is None and job.type == "identifier" and _t(job, src) not in top:
                    why = "the job is not a module-level function"
                elif why is None and job.type not in ("identifier", "arrow_function", "function_expression",
                                                      "function"):
                    why = "the job is not a function or a function name"
            target = stmt if stmt is not None else call
            if why:
                c = comment(f"not converted to a Cron Trigger: {why}")
                if c not in text:
                    edits.append((target.start_byte, target.start_byte, "\x00" + c))
                out.left.append(f"{path}:{line} `{code}` left as is: {why}")
                continue
            job = args[1]
            if job.type == "identifier":
                name = _t(job, src)
                repl = comment(f"node-cron \"{expr}\" -> Cron Trigger \"{cfexpr}\" runs {name}() from the "
                               "Worker's scheduled handler")
            else:
                n += 1
                while f"cronJob{n}" in used:
                    n += 1
                name = f"cronJob{n}"
                used.add(name)
                decl = f"const {name} = {_t(job, src)};"
                if esm and not is_entry:
                    decl = "export " + decl
                repl = comment(f"node-cron \"{expr}\" -> Cron Trigger \"{cfexpr}\", run from the Worker's "
                               "scheduled handler") + "\n" + decl
            if job.type == "identifier" and not is_entry:
                if esm and not re.search(r"export\s+(async\s+)?(function\*?|const|let|var|class)\s+" + re.escape(name)
                                         + r"\b|export\s*\{[^}]*\b" + re.escape(name) + r"\b", text):
                    exports.append(f"export {{ {name} }};")
            if not esm:  # the ES module entry (or wrapper) imports it
                line_exp = f"module.exports.{name} = {name};"
                if line_exp not in text:
                    exports.append(line_exp)
            edits.append((stmt.start_byte, stmt.end_byte, repl))  # type: ignore[union-attr]
            out.jobs.append(CronJob(path, name, cfexpr, esm))  # type: ignore[arg-type]
            out.changed.append(f"{path}:{line} `{code}` -> Cron Trigger \"{cfexpr}\" ({name})")
    if not edits:
        return out
    b = bytearray(src)
    for start, end, repl in sorted(edits, reverse=True):
        if repl.startswith("\x00"):  # a comment line above the statement
            ls = b.rfind(b"\n", 0, start) + 1
            indent = re.match(rb"[ \t]*", bytes(b[ls:])).group(0)  # type: ignore[union-attr]
            b[ls:ls] = indent + repl[1:].encode() + b"\n"
        else:
            b[start:end] = repl.encode()
    new = b.decode("utf-8")
    if exports:
        new = new.rstrip("\n") + "\n" + "\n".join(dict.fromkeys(exports)) + "\n"
    if out.jobs:
        new = _drop_unused_import(new, path, "node-cron", out)
    out.text = new
    return out


def _code_only(root: ts.Node, src: bytes, skip: ts.Node) -> bytes:
    """The module's text without `skip`, comments and string contents (a comment that mentions node-cron is no
    use of the `cron` binding)."""
    holes = [(skip.start_byte, skip.end_byte)]
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type in ("comment", "string_fragment", "template_string", "regex"):
            holes.append((n.start_byte, n.end_byte))
            continue
        stack.extend(n.children)
    out = bytearray()
    pos = 0
    for a, b in sorted(holes):
        if a >= pos:
            out += src[pos:a] + b" "
            pos = b
    out += src[pos:]
    return bytes(out)


def _drop_unused_import(text: str, path: str, module: str, out: JsEdit) -> str:
    root = parse(text, path)
    src = text.encode("utf-8")
    for st in root.children:
        t = _t(st, src)
        if not re.search(r"""['"]""" + re.escape(module) + r"""['"]""", t):
            continue
        if st.type == "import_statement" or (st.type in ("lexical_declaration", "variable_declaration")
                                             and "require" in t):
            names = re.findall(r"[A-Za-z_$][\w$]*", re.split(r"\bfrom\b|=", t)[0])
            names = [x for x in names if x not in ("import", "const", "let", "var", "as", "type")]
            rest = _code_only(root, src, st)
            if all(not re.search(rb"(?<![\w$.-])" + re.escape(x.encode()) + rb"(?![\w$-])", rest) for x in names):
                end = st.end_byte + (1 if src[st.end_byte:st.end_byte + 1] == b"\n" else 0)
                if st.start_byte == 0 and src[end:end + 1] == b"\n":
                    end += 1     # no blank first line where the import was
                out.changed.append(f"{path}: removed the now unused {module} import")
                return (src[:st.start_byte] + src[end:]).decode("utf-8")
    return text


# --------------------------------------------------------------------------------------------- the entry

def relative_spec(from_path: str, to_path: str) -> str:
    rel = posixpath.relpath(to_path, posixpath.dirname(from_path) or ".")
    if not rel.startswith("."):
        rel = "./" + rel
    if rel.endswith((".ts", ".tsx", ".mts", ".cts")):
        rel = rel.rsplit(".", 1)[0]
    return rel


def _alias(path: str) -> str:
    stem = posixpath.basename(path).split(".")[0]
    return "jobs_" + re.sub(r"\W", "_", stem)


def _default_export(server: str | None, jobs: list[CronJob], entry: str) -> tuple[list[str], list[str]]:
    """(imports, body lines) of the default export for the entry at `entry`."""
    named: dict[str, list[str]] = {}
    defaults: dict[str, str] = {}
    refs: dict[str, list[str]] = {}
    for j in jobs:
        if j.module == entry:
            ref = j.name
        elif j.esm:
            names = named.setdefault(relative_spec(entry, j.module), [])
            if j.name not in names:
                names.append(j.name)
            ref = j.name
        else:
            defaults[relative_spec(entry, j.module)] = _alias(j.module)
            ref = f"{_alias(j.module)}.{j.name}"
        refs.setdefault(j.cron, [])
        if ref not in refs[j.cron]:
            refs[j.cron].append(ref)
    imports = [f'import {{ {", ".join(sorted(n))} }} from "{spec}";' for spec, n in named.items()]
    imports += [f'import {alias} from "{spec}";' for spec, alias in defaults.items()]
    body: list[str] = []
    if jobs:
        body += [comment("Cron Trigger expression -> the jobs it runs (also under triggers.crons in the wrangler "
                         "config)"), "const CRON_JOBS = {"]
        body += [f'  "{e}": [{", ".join(r)}],' for e, r in refs.items()]
        body += ["};", ""]
        body += ["export default {"]
        if server:
            body.append(f"  ...httpServerHandler({{ port: {server} }}),")
        body += ["  async scheduled(controller, env, ctx) {",
                 "    for (const job of CRON_JOBS[controller.cron] ?? []) {",
                 "      await job();",
                 "    }",
                 "  },",
                 "};"]
    elif server:
        body.append(f"export default httpServerHandler({{ port: {server} }});")
    return imports, body


def has_default_export(text: str, path: str) -> bool:
    root = parse(text, path)
    src = text.encode("utf-8")
    return any(st.type == "export_statement" and re.match(r"export\s+default\b", _t(st, src))
               for st in root.children)


def listen_port(text: str, path: str, line: int, esm: bool) -> tuple[str | None, str | None]:
    """(port expression usable in the entry, problem) of the listen() call on `line`."""
    root = parse(text, path)
    src = text.encode("utf-8")
    calls = _calls_on_line(root, line, "listen")
    if not calls:
        return None, "no listen() call found on that line"
    call = calls[0]
    if not _top_level(call):
        return None, ("listen() runs inside a function or callback; the port must be registered when the module "
                      "loads")
    args = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
    if not args:
        return None, "listen() has no port"
    a = args[0]
    t = _t(a, src)
    if a.type == "number":
        return t, None
    if a.type == "identifier":
        init = _top_decl_init(root, src, t)
        if init is None:
            return None, f"port `{t}` is not a module-level constant"
        if esm:
            return t, None
        return (init, None) if portable(init) else (None, f"port `{t}` = `{init}` cannot be repeated in the entry")
    if portable(t):
        return t, None
    if esm and a.type == "member_expression":
        head = re.match(r"[A-Za-z_$][\w$]*", t)
        if head and head.group(0) in _top_names(root, src) and "(" not in t:
            return t, None  # `config.port` of a module-level binding: the entry's export sees the same value
    return None, f"the port `{t}` is not a literal or a module-level constant"


def build_entry(text: str, path: str, server: str | None, jobs: list[CronJob]) -> JsEdit:
    """Add the imports and the default export to an ES module entry."""
    out = JsEdit(text)
    if has_default_export(text, path):
        out.left.append(f"{path} already has a default export: merge httpServerHandler / scheduled into it by hand")
        return out
    imports, body = _default_export(server, jobs, path)
    if server:
        imports.insert(0, 'import { httpServerHandler } from "cloudflare:node";')
    new = text
    for imp in reversed(imports):
        if imp not in new:
            new = insert_after_imports(new, path, imp)
    lead = comment("requests reach the app through httpServerHandler; Workers bind no port") if server else ""
    new = new.rstrip("\n") + "\n\n" + (lead + "\n" if lead else "") + "\n".join(body) + "\n"
    out.text = new
    if server:
        out.changed.append(f"{path}: import httpServerHandler from cloudflare:node and export default "
                           f"httpServerHandler({{ port: {server} }})")
    if jobs:
        out.changed.append(f"{path}: scheduled() handler running CRON_JOBS[controller.cron] "
                           f"({len(jobs)} job(s))")
    return out


def wrapper_source(entry: str, wrapper: str, server: str | None, jobs: list[CronJob]) -> str:
    """An ES module entry for a CommonJS app (see the module docstring)."""
    imports, body = _default_export(server, [j for j in jobs], wrapper)
    head = [comment(f"Worker entry: {posixpath.basename(entry)} is CommonJS, and wrangler needs an ES module "
                    "with a default export;"),
            comment("this one loads the app for its side effects (listen) and exports the handler.")]
    if server:
        head.append('import { httpServerHandler } from "cloudflare:node";')
    spec = relative_spec(wrapper, entry)
    if not any(j.module == entry for j in jobs) and not any(spec in i for i in imports):
        head.append(f'import "{spec}";')
    return "\n".join(head + imports) + "\n\n" + "\n".join(body) + "\n"
