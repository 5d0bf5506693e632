"""`requests` calls in `async def` code -> `httpx.AsyncClient` calls.

Python Workers document only async HTTP clients (httpx, aiohttp) or JS fetch(); a blocking `requests` call in a
coroutine is the common leftover. Simple shapes only: one `requests.get/post/put/patch/delete/head/options/
request` call in a statement, the URL positional and the common keywords (params, headers, json, dict `data`,
timeout, cookies, auth, files, allow_redirects). The statement is wrapped in
`async with httpx.AsyncClient(...) as client:` and the call becomes `await client.<method>(...)`.

Exactness: requests follows redirects (except for HEAD) and has no timeout by default; httpx does not follow
redirects and times out after 5 s, so the client is created with `follow_redirects=True` and `timeout=None` unless
the call says otherwise. Exception handlers for requests.RequestException / HTTPError / Timeout are mapped to
httpx.HTTPError / HTTPStatusError / TimeoutException. A function with anything else (other keywords, several
calls in one statement, `r.ok`, `r.iter_content`, other requests exceptions, a call in a lambda) is left as it
was, with a comment on each call saying why. Calls in plain `def` functions are reported, not changed: making
them async would change every caller.
"""
from __future__ import annotations

from typing import Any

import libcst as cst

from .codemod import (Codemod, CodemodResult, Invalid, Valid, add_import, imports_of, name_counts, qualify,
                      remove_import_names, with_comment)

METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
KEYWORDS = {"params", "headers", "json", "data", "timeout", "cookies", "auth", "files", "allow_redirects"}
NOT_IN_HTTPX = {"ok": "r.is_success", "iter_content": "r.aiter_bytes() on a stream", "raw": "a stream",
                "reason": "r.reason_phrase", "apparent_encoding": "r.encoding"}
EXCEPTIONS = {
    "requests.RequestException": "httpx.HTTPError", "requests.exceptions.RequestException": "httpx.HTTPError",
    "requests.HTTPError": "httpx.HTTPStatusError", "requests.exceptions.HTTPError": "httpx.HTTPStatusError",
    "requests.Timeout": "httpx.TimeoutException", "requests.exceptions.Timeout": "httpx.TimeoutException",
}


class _Calls(cst.CSTVisitor):
    """requests calls in a function body (not in nested functions or classes), with their statements."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.stmt: cst.SimpleStatementLine | None = None
        self.lambdas = 0
        self.found: list[tuple[cst.SimpleStatementLine | None, cst.Call, bool]] = []
        self.handlers: list[cst.ExceptHandler] = []
        self.attrs: list[tuple[str, str]] = []
        self.all_names: set[str] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.lambdas += 1

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.lambdas -= 1

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.stmt = node

    def leave_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.stmt = None

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self.handlers.append(node)

    def visit_Name(self, node: cst.Name) -> None:
        self.all_names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name):
            self.attrs.append((node.value.value, node.attr.value))

    def visit_Call(self, node: cst.Call) -> None:
        q = qualify(node.func, self.names)
        if q and q.startswith("requests.") and q.split(".", 1)[1] in METHODS:
            self.found.append((self.stmt, node, self.lambdas > 0))


class _Swap(cst.CSTTransformer):
    def __init__(self, mapping: dict[cst.CSTNode, cst.CSTNode]) -> None:
        self.mapping = mapping

    def on_leave(self, original: Any, updated: Any) -> Any:
        return self.mapping.get(original, updated)


class _Transformer(cst.CSTTransformer):
    def __init__(self, module: cst.Module, names: dict[str, str], res: CodemodResult) -> None:
        self.module = module
        self.names = names
        self.res = res
        self.converted = 0

    def _line(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node).strip().splitlines()[0][:80]

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        v = _Calls(self.names)
        updated.body.visit(v)
        if not v.found:
            return updated
        if updated.asynchronous is None:
            for _stmt, call, _lam in v.found:
                self.res.left.append(f"`{self._line(call)}` in `def {updated.name.value}` is synchronous code; "
                                     "not converted (making it async changes its callers)")
            return updated
        problems: dict[cst.SimpleStatementLine, str] = {}
        plans: list[tuple[cst.SimpleStatementLine, cst.Call]] = []
        per_stmt: dict[cst.SimpleStatementLine | None, int] = {}
        for stmt, _call, _lam in v.found:
            per_stmt[stmt] = per_stmt.get(stmt, 0) + 1
        for stmt, call, in_lambda in v.found:
            why = None
            if stmt is None:
                why = "the call is not in a simple statement (a condition or loop header)"
            elif in_lambda:
                why = "the call is inside a lambda, which cannot await"
            elif per_stmt[stmt] > 1:
                why = "more than one requests call in one statement"
            elif len(stmt.body) != 1:
                why = "several statements on one line"
            else:
                why = self._check_call(call) or self._check_response(stmt, v)
            if why:
                if stmt is not None:
                    problems[stmt] = why
                else:
                    self.res.left.append(f"`{self._line(call)}` not converted: {why}")
            else:
                plans.append((stmt, call))  # type: ignore[arg-type]
        exc_map: dict[cst.CSTNode, cst.CSTNode] = {}
        for h in v.handlers:
            for t in ([e.value for e in h.type.elements] if isinstance(h.type, cst.Tuple) else [h.type]):
                q = qualify(t, self.names) if t is not None else None
                if q and q.startswith("requests."):
                    if q in EXCEPTIONS:
                        exc_map[t] = cst.parse_expression(EXCEPTIONS[q])
                    elif v.found:
                        first = v.found[0][0]
                        if first is not None:
                            problems.setdefault(first, f"`except {q}` has no exact httpx counterpart here")
        if problems:
            mapping: dict[cst.CSTNode, cst.CSTNode] = {}
            for stmt, why in problems.items():
                mapping[stmt] = with_comment(stmt, f"not converted to httpx: {why}")
                self.res.left.append(f"`{self._line(stmt)}` in `async def {updated.name.value}` left as is: {why}")
            return updated.with_changes(body=updated.body.visit(_Swap(mapping)))
        client = "client"
        n = 1
        while client in v.all_names:
            n += 1
            client = "http_client" if n == 2 else f"http_client{n - 1}"
        mapping = dict(exc_map)
        for stmt, call in plans:
            mapping[stmt] = self._wrap(stmt, call, client)
            self.res.changed.append(f"`{self._line(call)}` in `async def {updated.name.value}` -> "
                                    f"`await {client}.{qualify(call.func, self.names).split('.')[1]}(...)` in "
                                    "`async with httpx.AsyncClient()`")
            self.converted += 1
        for old, new in exc_map.items():
            self.res.changed.append(f"`except {self.module.code_for_node(old)}` -> "
                                    f"`except {self.module.code_for_node(new)}`")
        return updated.with_changes(body=updated.body.visit(_Swap(mapping)))

    def _check_call(self, call: cst.Call) -> str | None:
        method = qualify(call.func, self.names).split(".", 1)[1]  # type: ignore[union-attr]
        npos = 2 if method == "request" else 1
        pos = [a for a in call.args if a.keyword is None]
        if any(a.star for a in call.args):
            return "*args / **kwargs in the call"
        if len(pos) != npos:
            return "positional arguments besides the URL"
        for a in call.args:
            if a.keyword is None:
                continue
            k = a.keyword.value
            if k not in KEYWORDS:
                return f"keyword `{k}=` has no simple httpx counterpart"
            if k == "data" and not isinstance(a.value, cst.Dict):
                return "`data=` that is not a dict (httpx takes bytes and text as `content=`)"
            if k == "timeout" and isinstance(a.value, cst.Tuple):
                return "a (connect, read) timeout tuple (use httpx.Timeout)"
        return None

    def _check_response(self, stmt: cst.SimpleStatementLine, v: _Calls) -> str | None:
        small = stmt.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target,
                                                                                    cst.Name):
            var = small.targets[0].target.value
            for name, attr in v.attrs:
                if name == var and attr in NOT_IN_HTTPX:
                    return f"`{var}.{attr}` does not exist on an httpx response (use {NOT_IN_HTTPX[attr]})"
        return None

    def _wrap(self, stmt: cst.SimpleStatementLine, call: cst.Call, client: str) -> cst.With:
        method = qualify(call.func, self.names).split(".", 1)[1]  # type: ignore[union-attr]
        args = []
        has_timeout = False
        redirects = False
        for a in call.args:
            if a.keyword is not None and a.keyword.value == "allow_redirects":
                a = a.with_changes(keyword=cst.Name("follow_redirects"))
                redirects = True
            if a.keyword is not None and a.keyword.value == "timeout":
                has_timeout = True
            args.append(a)
        new_call = cst.Call(func=cst.Attribute(cst.Name(client), cst.Name(method)), args=args)
        small = stmt.body[0]
        direct = (isinstance(small, (cst.Assign, cst.AnnAssign, cst.Return, cst.Expr)) and
                  getattr(small, "value", None) is call)
        aw = cst.Await(expression=new_call)
        if not direct:
            aw = aw.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        inner = stmt.visit(_Swap({call: aw}))
        ctor_args = []
        if method != "head" and not redirects:
            ctor_args.append(cst.Arg(keyword=cst.Name("follow_redirects"), value=cst.Name("True"),
                                     equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
        if not has_timeout:
            ctor_args.append(cst.Arg(keyword=cst.Name("timeout"), value=cst.Name("None"),
                                     equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
        ctor = cst.parse_expression("httpx.AsyncClient()").with_changes(args=ctor_args)
        if ctor_args:
            fixed = [a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                     for a in ctor_args[:-1]] + [ctor_args[-1]]
            ctor = ctor.with_changes(args=fixed)
        return cst.With(
            items=[cst.WithItem(item=ctor, asname=cst.AsName(name=cst.Name(client)))],
            body=cst.IndentedBlock(body=[inner.with_changes(leading_lines=[])]),
            asynchronous=cst.Asynchronous(),
            leading_lines=stmt.leading_lines,
        )


class RequestsToHttpx(Codemod):
    NAME = "py-requests-httpx"
    MESSAGE = "requests calls in async code become httpx.AsyncClient calls"

    VALID = [
        Valid("import httpx\n\nasync def f(url):\n    async with httpx.AsyncClient() as c:\n"
              "        return await c.get(url)\n"),
        Valid("def get(url):\n    return url\n\nasync def f(url):\n    return get(url)\n"),
        # requests in synchronous code is reported, never rewritten
        Valid("import requests\n\ndef f(url):\n    return requests.get(url, timeout=5).json()\n"),
    ]
    INVALID = [
        Invalid(
            "import requests\n\n\nasync def rates(url, base):\n"
            "    r = requests.get(url, params={'base': base}, timeout=10)\n    r.raise_for_status()\n"
            "    return r.json()\n",
            "import httpx\n\n\nasync def rates(url, base):\n"
            "    async with httpx.AsyncClient(follow_redirects=True) as client:\n"
            "        r = await client.get(url, params={'base': base}, timeout=10)\n    r.raise_for_status()\n"
            "    return r.json()\n"),
        Invalid(
            "import requests\n\nasync def send(url, body):\n"
            "    try:\n        requests.post(url, json=body, timeout=5).raise_for_status()\n"
            "    except requests.RequestException:\n        return False\n    return True\n",
            "import httpx\n\nasync def send(url, body):\n"
            "    try:\n        async with httpx.AsyncClient(follow_redirects=True) as client:\n"
            "            (await client.post(url, json=body, timeout=5)).raise_for_status()\n"
            "    except httpx.HTTPError:\n        return False\n    return True\n"),
        Invalid(
            "import requests\n\nasync def head(url):\n    return requests.head(url).status_code\n\n"
            "def sync(url):\n    return requests.get(url)\n",
            "import requests\nimport httpx\n\nasync def head(url):\n"
            "    async with httpx.AsyncClient(timeout=None) as client:\n"
            "        return (await client.head(url)).status_code\n\n"
            "def sync(url):\n    return requests.get(url)\n"),
        Invalid(
            "import requests\n\nasync def f(url):\n    r = requests.get(url, stream=True)\n"
            "    return r.ok\n",
            "import requests\n\nasync def f(url):\n"
            "    # cfcompat-fix: not converted to httpx: keyword `stream=` has no simple httpx counterpart\n"
            "    r = requests.get(url, stream=True)\n    return r.ok\n"),
    ]

    def transform(self, source: str, path: str = "<string>", **ctx: Any) -> CodemodResult:
        module = cst.parse_module(source)
        names = imports_of(module)
        req_locals = {k for k, v in names.items() if v == "requests" or v.startswith("requests.")}
        res = CodemodResult(source)
        if not req_locals:
            return res
        t = _Transformer(module, names, res)
        new = module.visit(t)
        if t.converted:
            if names.get("httpx") != "httpx":
                new = add_import(new, "import httpx")
            counts = name_counts(new)
            unused = {n for n in req_locals if not counts.get(n)}
            if unused:
                new = remove_import_names(new, unused)
                res.changed.append("removed the now unused `requests` import")
            res.left.append("add httpx to the project's dependencies (it is in Pyodide); drop requests if nothing "
                            "else uses it")
        res.code = new.code
        return res
