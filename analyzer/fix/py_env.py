"""Environment reads inside FastAPI / Starlette request handlers -> reads of the Worker's env binding.

In a Python Worker, vars and secrets arrive on the Worker's `env`, not in `os.environ`. The Workers SDK's ASGI
adapter (`asgi.fetch(app, request, env)`, workerd `src/pyodide/internal/workers-api/src/asgi.py`,
`request_to_scope`) puts that env into the ASGI scope as `scope["env"]`, and Cloudflare's FastAPI example reads
it as `req.scope["env"]`. So in a handler that has a `Request` parameter:

    os.environ["NAME"]            -> request.scope["env"].NAME
    os.environ.get("NAME")        -> getattr(request.scope["env"], "NAME", None)
    os.environ.get("NAME", d)     -> getattr(request.scope["env"], "NAME", d)
    os.getenv("NAME"[, d])        -> the same as os.environ.get

A handler is a function decorated with `@<app or router>.get/post/put/patch/delete/head/options/route/
api_route/websocket(...)`. A read in a handler without a `Request` parameter, or with a computed name, is left
with a comment. Values differ in one way: a var declared as JSON in the wrangler config arrives as an object,
not a string.
"""
from __future__ import annotations

import keyword
from typing import Any

import libcst as cst

from .codemod import Codemod, CodemodResult, Invalid, Valid, dotted, imports_of, qualify, with_comment

ROUTE_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "route", "api_route", "websocket",
                 "trace"}
REQUEST_TYPES = {"fastapi.Request", "starlette.requests.Request", "fastapi.requests.Request"}


def _is_handler(fn: cst.FunctionDef) -> bool:
    for d in fn.decorators:
        dec = d.decorator
        if isinstance(dec, cst.Call) and isinstance(dec.func, cst.Attribute) and \
                dec.func.attr.value in ROUTE_METHODS and dotted(dec.func.value):
            return True
    return False


class _Reads(cst.CSTTransformer):
    def __init__(self, names: dict[str, str], param: str | None, module: cst.Module, res: CodemodResult,
                 fn: str) -> None:
        self.names = names
        self.param = param
        self.module = module
        self.res = res
        self.fn = fn
        self.problem_stmts: dict[cst.CSTNode, str] = {}
        self.stmt: cst.CSTNode | None = None
        self.changed = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.stmt = node

    def _env(self) -> cst.BaseExpression:
        return cst.parse_expression(f'{self.param}.scope["env"]')

    def _name(self, arg: cst.BaseExpression) -> str | None:
        if isinstance(arg, cst.SimpleString):
            v = arg.evaluated_value
            return v if isinstance(v, str) else None
        return None

    def _problem(self, what: str, why: str) -> None:
        if self.stmt is not None:
            self.problem_stmts[self.stmt] = why
        self.res.left.append(f"`{what}` in handler `{self.fn}` left as is: {why}")

    def leave_Subscript(self, original: cst.Subscript, updated: cst.Subscript) -> cst.BaseExpression:
        if qualify(original.value, self.names) != "os.environ" or len(original.slice) != 1:
            return updated
        idx = original.slice[0].slice
        if not isinstance(idx, cst.Index):
            return updated
        code = self.module.code_for_node(original)
        name = self._name(idx.value)
        if self.param is None:
            self._problem(code, "the handler has no `request: Request` parameter to reach the Worker's env")
            return updated
        if name is None:
            self._problem(code, "the variable name is computed")
            return updated
        self.changed += 1
        self.res.changed.append(f"`{code}` in handler `{self.fn}` -> env binding via `{self.param}.scope[\"env\"]`")
        if name.isidentifier() and not keyword.iskeyword(name):
            return cst.Attribute(value=self._env(), attr=cst.Name(name))
        return cst.Call(func=cst.Name("getattr"), args=[cst.Arg(self._env()), cst.Arg(idx.value)])

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        q = qualify(original.func, self.names)
        if q not in ("os.environ.get", "os.getenv"):
            return updated
        code = self.module.code_for_node(original)
        args = [a for a in original.args if a.keyword is None and not a.star]
        if self.param is None:
            self._problem(code, "the handler has no `request: Request` parameter to reach the Worker's env")
            return updated
        if not args or len(args) != len(original.args) or len(args) > 2 or self._name(args[0].value) is None:
            self._problem(code, "the variable name is computed or the call has keywords")
            return updated
        default = args[1].value if len(args) == 2 else cst.Name("None")
        self.changed += 1
        self.res.changed.append(f"`{code}` in handler `{self.fn}` -> env binding via `{self.param}.scope[\"env\"]`")
        return cst.Call(func=cst.Name("getattr"), args=[
            cst.Arg(self._env(), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            cst.Arg(args[0].value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            cst.Arg(default)])


class _Swap(cst.CSTTransformer):
    def __init__(self, mapping: dict[cst.CSTNode, str]) -> None:
        self.mapping = mapping

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        why = self.mapping.get(original)
        return with_comment(updated, f"env read not converted: {why}") if why else updated


class _Handlers(cst.CSTTransformer):
    def __init__(self, module: cst.Module, names: dict[str, str], res: CodemodResult) -> None:
        self.module = module
        self.names = names
        self.res = res

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        if not _is_handler(original):
            return updated
        param = None
        for p in [*original.params.posonly_params, *original.params.params, *original.params.kwonly_params]:
            if p.annotation is not None and qualify(p.annotation.annotation, self.names) in REQUEST_TYPES:
                param = p.name.value
                break
        t = _Reads(self.names, param, self.module, self.res, original.name.value)
        body = original.body.visit(t)
        if t.problem_stmts:
            # comments go on the original statements, so map by the statements of the rewritten body
            body = original.body.visit(_Swap(t.problem_stmts))
            if t.changed:  # some reads converted and some not: convert again on the commented body
                t2 = _Reads(self.names, param, self.module, CodemodResult(""), original.name.value)
                body = body.visit(t2)
        return updated.with_changes(body=body)


class EnvToWorkerEnv(Codemod):
    NAME = "py-env-binding"
    MESSAGE = "os.environ reads in request handlers read the Worker's env binding from the ASGI scope"

    VALID = [
        Valid("import os\nfrom fastapi import FastAPI\napp = FastAPI()\nLEVEL = os.environ.get('LEVEL')\n\n"
              "def helper():\n    return os.getenv('X')\n"),
        Valid("from fastapi import FastAPI, Request\napp = FastAPI()\n\n@app.get('/')\n"
              "async def root(request: Request):\n    return {'msg': request.scope['env'].MESSAGE}\n"),
    ]
    INVALID = [
        Invalid(
            "import os\nfrom fastapi import FastAPI, Request\napp = FastAPI()\n\n@app.get('/hello')\n"
            "async def hello(request: Request):\n    greeting = os.environ.get('GREETING', 'hi')\n"
            "    token = os.environ['API_TOKEN']\n    return {'g': greeting, 'debug': os.getenv('DEBUG')}\n",
            "import os\nfrom fastapi import FastAPI, Request\napp = FastAPI()\n\n@app.get('/hello')\n"
            "async def hello(request: Request):\n    greeting = getattr(request.scope[\"env\"], 'GREETING', 'hi')\n"
            "    token = request.scope[\"env\"].API_TOKEN\n"
            "    return {'g': greeting, 'debug': getattr(request.scope[\"env\"], 'DEBUG', None)}\n"),
        Invalid(
            "import os\nfrom fastapi import APIRouter\nrouter = APIRouter()\n\n@router.post('/x')\n"
            "def x():\n    return os.environ['SECRET']\n",
            "import os\nfrom fastapi import APIRouter\nrouter = APIRouter()\n\n@router.post('/x')\n"
            "def x():\n    # cfcompat-fix: env read not converted: the handler has no `request: Request` parameter "
            "to reach the Worker's env\n    return os.environ['SECRET']\n"),
    ]

    def transform(self, source: str, path: str = "<string>", **ctx: Any) -> CodemodResult:
        module = cst.parse_module(source)
        names = imports_of(module)
        res = CodemodResult(source)
        if not any(v == "os" or v.startswith("os.") for v in names.values()):
            return res
        res.code = module.visit(_Handlers(module, names, res)).code
        return res
