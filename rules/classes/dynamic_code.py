"""Code generated at run time: eval / new Function, WebAssembly compiled from bytes, template engines that
compile templates with new Function.

What workerd does (oracle, runtime 2026-11-17):
- inside a handler, eval() and new Function() throw `EvalError: Code generation from strings disallowed for this
  context`, and WebAssembly.compile/instantiate(bytes) throw `CompileError: WebAssembly.compile(): Wasm code
  generation disallowed by embedder`, at every compatibility date;
- at global scope (while the Worker starts) they are allowed from compatibility date 2025-06-01 (flag
  `allow_eval_during_startup`; `disallow_eval_during_startup` turns it off) and throw the same errors before;
- `import mod from './x.wasm'` then `WebAssembly.instantiate(mod)` works: the module is compiled at upload.

Valid:
    import mod from './add.wasm'; const { exports } = await WebAssembly.instantiate(mod)
    const render = Handlebars.template(precompiledSpec)          # precompiled at build time
    eval('1 + 1')   # at global scope, compatibility date >= 2025-06-01
Invalid:
    export default { fetch() { return new Response(eval(body)) } }           -> eval-in-handler
    const add = new Function('a', 'b', 'return a + b')   # date 2025-01-01   -> dynamic-code-global-scope
    async function load(bytes) { await WebAssembly.instantiate(bytes) }      -> wasm-compile-in-handler
    app.get('/', (req, res) => res.send(_.template(src)(data)))              -> template-engine-codegen
"""
from __future__ import annotations

import re
from typing import Any

from ..model import Hit, RuleContext
from ...analyzer.parsing.facts import Arg, Call, FileFacts

EVAL_CALLS = {"eval", "globalThis.eval", "window.eval", "global.eval", "self.eval",
              "Function", "globalThis.Function", "window.Function", "global.Function"}
WASM_CALLS = {"WebAssembly.compile", "WebAssembly.instantiate", "WebAssembly.Module", "WebAssembly.compileStreaming",
              "WebAssembly.instantiateStreaming", "globalThis.WebAssembly.compile",
              "globalThis.WebAssembly.instantiate", "globalThis.WebAssembly.Module"}
# Template engines that turn template source into a function with new Function when compiling.
TEMPLATE_EAGER = {
    "lodash.template": "lodash", "lodash.default.template": "lodash", "lodash/template": "lodash",
    "lodash.template.default": "lodash", "lodash-es.template": "lodash", "underscore.template": "underscore",
    "underscore.default.template": "underscore",
    "ejs.compile": "EJS", "ejs.render": "EJS", "ejs.renderFile": "EJS", "ejs.default.compile": "EJS",
    "ejs.default.render": "EJS",
    "pug.compile": "Pug", "pug.render": "Pug", "pug.renderFile": "Pug", "pug.compileFile": "Pug",
    "jade.compile": "Jade", "jade.render": "Jade",
    "dot.template": "doT", "dot.compile": "doT",
    "eta.Eta().renderString": "Eta", "eta.Eta().renderStringAsync": "Eta", "eta.Eta().compile": "Eta",
    "eta.renderString": "Eta", "eta.compile": "Eta",
    "nunjucks.renderString": "Nunjucks", "nunjucks.compile": "Nunjucks",
    "nunjucks.Environment().renderString": "Nunjucks", "nunjucks.configure().renderString": "Nunjucks",
    "art-template.compile": "art-template", "art-template.render": "art-template",
}
# Handlebars compiles lazily: compile() returns a function that generates code on its first call, which is
# normally inside a handler, so it fails at every date.
TEMPLATE_LAZY = {"handlebars.compile": "Handlebars", "handlebars.default.compile": "Handlebars",
                 "handlebars.create().compile": "Handlebars", "hbs.handlebars.compile": "Handlebars"}
# Globs (fnmatchcase) over the calls the three classes react to (exact names).
CALLS: tuple[str, ...] = tuple(sorted(EVAL_CALLS | WASM_CALLS)) + tuple(TEMPLATE_EAGER) + tuple(TEMPLATE_LAZY)

EVAL_STARTUP_DATE = "2025-06-01"
_WASM_MODULE = re.compile(r"\.wasm(\?[\w=&-]*)?(\.default)?$")


def startup_codegen_allowed(ctx: RuleContext) -> bool:
    """Whether eval / new Function / Wasm from bytes may run at global scope for these settings."""
    flags = set(ctx.settings.compatibility_flags)
    if "disallow_eval_during_startup" in flags:
        return False
    if "allow_eval_during_startup" in flags:
        return True
    return ctx.settings.compatibility_date >= EVAL_STARTUP_DATE


def is_imported_wasm(a: Arg | None, depth: int = 0) -> bool:
    """An argument that is a WebAssembly.Module imported from a .wasm file (compiled at upload: allowed)."""
    if a is None or depth > 8:
        return False
    if a.kind in ("identifier", "member"):
        if _WASM_MODULE.search(a.value or ""):
            return True
        return a.kind == "identifier" and is_imported_wasm(a.bound, depth + 1)
    return False


def _hit(c: Call, msg: str | None = None, severity: str | None = None) -> Hit:
    return Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, message=msg, guard=c.guard, top_level=c.top_level,
               severity=severity)


def _what(c: Call) -> str:
    if c.qname.endswith("Function"):
        return "new Function()" if c.kind == "new" else "Function()"
    if c.qname.endswith("eval"):
        return "eval()"
    name = c.qname.replace("globalThis.", "")
    return f"new {name}()" if c.kind == "new" else f"{name}()"


class WasmFromBytesInHandler:
    """`wasm-compile-in-handler`: WebAssembly compiled from bytes inside a function."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        for c in facts.calls:
            if c.qname not in WASM_CALLS or c.top_level:
                continue
            if c.args and is_imported_wasm(c.args[0]):
                continue
            hits.append(_hit(c))
        return hits


class CodegenAtStartup:
    """`dynamic-code-global-scope`: eval / new Function / Wasm from bytes while the Worker starts."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        allowed = startup_codegen_allowed(ctx)
        date = ctx.settings.compatibility_date
        for c in facts.calls:
            if not c.top_level or c.kind not in ("call", "new"):
                continue
            wasm = c.qname in WASM_CALLS
            if not wasm and c.qname not in EVAL_CALLS:
                continue
            if wasm and c.args and is_imported_wasm(c.args[0]):
                continue
            what = _what(c)
            sev = None
            if allowed:
                sev = "info"
                msg = (f"Runs {what} at global scope; workerd allows code generation while the Worker "
                       f"starts from compatibility date {EVAL_STARTUP_DATE} (this project: {date}), but the same "
                       "call inside a handler would throw.")
            elif wasm:
                msg = (f"Compiles WebAssembly from bytes with {what} at global scope; at compatibility date {date} "
                       f"(before {EVAL_STARTUP_DATE}) the Worker fails at startup with `CompileError: "
                       f"{'WebAssembly.Module()' if c.kind == 'new' else what}: Wasm code generation disallowed by "
                       "embedder`.")
            else:
                msg = (f"Runs {what} at global scope; at compatibility date {date} (before {EVAL_STARTUP_DATE}) the "
                       "Worker fails at startup with `EvalError: Code generation from strings disallowed for this "
                       "context`.")
            hits.append(_hit(c, msg, sev))
        return hits


class TemplateEngineCodegen:
    """`template-engine-codegen`: template engines that compile templates with new Function."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        allowed = startup_codegen_allowed(ctx)
        for c in facts.calls:
            if c.kind != "call":
                continue
            lazy = TEMPLATE_LAZY.get(c.qname)
            eager = TEMPLATE_EAGER.get(c.qname)
            if lazy is None and eager is None:
                continue
            fn = c.qname.rsplit(".", 1)[-1]
            if lazy is not None:
                msg = (f"{lazy}.compile() generates the template function with new Function on its first call, "
                       "which happens inside a handler, where Workers throw `EvalError: Code generation from "
                       "strings disallowed for this context`.")
            elif c.top_level:
                if allowed:
                    continue  # compiled while the Worker starts: allowed from 2025-06-01
                msg = (f"{eager} {fn}() compiles the template with new Function at global scope; at compatibility "
                       f"date {ctx.settings.compatibility_date} (before {EVAL_STARTUP_DATE}) the Worker fails at "
                       "startup with `EvalError: Code generation from strings disallowed for this context`.")
            else:
                msg = (f"{eager} {fn}() compiles the template with new Function inside a handler, where Workers throw "
                       "`EvalError: Code generation from strings disallowed for this context`.")
            hits.append(_hit(c, msg))
        return hits
