"""Runtime-API rules: Node.js built-ins judged by the project's compatibility date and flags, Node APIs that are
stubs on Workers, and Python standard-library modules that Pyodide lacks.

The date logic lives in `module_status()` and reads `rules/kb/node_modules.yaml`; the rule classes only decide
what to report. Cases (each is a test in tests/test_node_module_table.py):

    module_status("fs", "2025-01-01", [])                    -> ("missing", ...)     no nodejs_compat
    module_status("fs", "2025-01-01", ["nodejs_compat"])     -> ("unenv-stub", ...)  before 2025-09-15
    module_status("fs", "2025-09-15", ["nodejs_compat"])     -> ("native", ...)
    module_status("fs", "2026-08-04", [])                    -> ("native", ...)      nodejs_compat on by default
    module_status("sea", "2026-11-17", [])                   -> ("absent", ...)
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from ..kb import load_kb

from ..model import Hit, RuleContext
from ...analyzer import inputs
from ...analyzer.parsing.facts import FileFacts, Import

# statuses returned by module_status()
WORKS = frozenset({"native", "partial", "stub", "hybrid"})   # the import succeeds
FAILS = frozenset({"missing", "absent"})                     # the import fails
UNENV = "unenv-stub"                                         # imports, every function throws "[unenv] ..."


# --------------------------------------------------------------------------------------------- the table

@dataclass(frozen=True)
class NodeModule:
    name: str
    status: str
    requires: str | None
    enable_flag: str | None
    disable_flag: str | None
    default_date: str | None
    before: str
    prefix_only: bool = False
    also_enabled_by: tuple[str, ...] = ()
    throws: tuple[dict[str, Any], ...] = ()
    features: dict[str, dict[str, Any]] = field(default_factory=dict)
    note: str = ""
    docs_default_date: str | None = None
    workerd_before: str | None = None        # what workerd alone serves where wrangler substitutes a polyfill
    workerd_note: str = ""
    without_nodejs_compat: str | None = None  # status of an import when nodejs_compat is off (node:process)
    note_without: str = ""


@dataclass(frozen=True)
class NodeTable:
    modules: dict[str, NodeModule]
    globals: dict[str, Any]
    as_of: str

    @property
    def default_on_from(self) -> str:
        return self.globals["nodejs_compat"]["default_on_from"]

    @property
    def v2_date(self) -> str:
        return self.globals["nodejs_compat"]["v2_date"]

    @property
    def process_env_from(self) -> str:
        return self.globals["process_env"]["populated_from"]


@lru_cache(maxsize=1)
def node_table() -> NodeTable:
    data = load_kb("node_modules.yaml")
    mods: dict[str, NodeModule] = {}
    for e in data["modules"]:
        mods[e["name"]] = NodeModule(
            name=e["name"], status=e["status"], requires=e.get("requires"), enable_flag=e.get("enable_flag"),
            disable_flag=e.get("disable_flag"), default_date=e.get("default_date"), before=e.get("before", "missing"),
            prefix_only=bool(e.get("prefix_only")), also_enabled_by=tuple(e.get("also_enabled_by") or ()),
            throws=tuple(e.get("throws") or ()), features=dict(e.get("features") or {}), note=e.get("note", ""),
            docs_default_date=e.get("docs_default_date"), workerd_before=e.get("workerd_before"),
            workerd_note=e.get("workerd_note", ""), without_nodejs_compat=e.get("without_nodejs_compat"),
            note_without=e.get("note_without", ""))
    return NodeTable(mods, data["globals"], data["as_of"])


def nodejs_compat_on(date: str, flags: Iterable[str]) -> bool:
    """Same rule as `Settings.nodejs_compat()`: explicit flags first, then on by default from 2026-08-04."""
    fl = set(flags)
    if "no_nodejs_compat" in fl:
        return False
    if "nodejs_compat" in fl or "nodejs_compat_v2" in fl:
        return True
    return date >= node_table().default_on_from


def only_v2_left(date: str, flags: Iterable[str]) -> bool:
    """`no_nodejs_compat` alone at a date where nodejs_compat_v2 is on by default: v2 stays on (wrangler's
    resolveNodejsCompat keeps its v2 mode; workerd still serves the modules that need no dated flag, and not the
    dated ones). Both `no_nodejs_compat` and `no_nodejs_compat_v2` turn everything off. (Oracle, workerd
    1.20261123.1: assert, buffer, crypto, path, stream ... import; fs, http ... do not.)"""
    fl = set(flags)
    return ("no_nodejs_compat" in fl and "no_nodejs_compat_v2" not in fl
            and ("nodejs_compat_v2" in fl or date >= node_table().default_on_from))


def v2_semantics(date: str, flags: Iterable[str]) -> bool:
    """nodejs_compat with v2 behaviour: unenv polyfills for missing modules, `node:` prefix optional."""
    fl = set(flags)
    return nodejs_compat_on(date, fl) and ("nodejs_compat_v2" in fl or date >= node_table().v2_date)


def _flag_on(default_date: str | None, enable: str | None, disable: str | None, date: str, fl: set[str]) -> bool:
    if disable and disable in fl:
        return False
    if enable and enable in fl:
        return True
    return default_date is None or date >= default_date


def module_status(name: str, date: str, flags: Iterable[str], path: str = "wrangler") -> tuple[str, str]:
    """(status, reason) of `node:<name>` at a compatibility date with these flags.

    path: "wrangler" (default) is what a Worker deployed with wrangler gets: wrangler's Node.js preset stands
    between the code and workerd and substitutes polyfills (hybrid) or throwing stubs (unenv-stub) for modules
    workerd does not serve at that date. "workerd" is what the runtime alone serves (a Worker uploaded without
    wrangler's bundling, `no_bundle`, or the oracle's plain probes); the table's `workerd_before` /
    `workerd_default_date` say where the two differ.

    status: native | partial | stub (imports, as at the newest runtime) | hybrid (wrangler's working polyfill) |
    unenv-stub (imports, every call throws) | missing (import fails) | absent (no such module at any date) |
    unknown (not a Node.js built-in)."""
    st, why = _module_status(name, date, flags)
    if path == "workerd":
        m = node_table().modules.get(name)
        if m is not None and st in ("hybrid", "unenv-stub", "missing") and m.workerd_before and \
                not (st == "missing" and "need nodejs_compat" in why):
            return m.workerd_before, (f"workerd alone: {m.workerd_before} (wrangler's verdict: {st}; "
                                      f"{m.workerd_note or why})")
    return st, why


def _module_status(name: str, date: str, flags: Iterable[str]) -> tuple[str, str]:
    table = node_table()
    fl = set(flags)
    m = table.modules.get(name)
    if m is None:
        return "unknown", f"`{name}` is not a Node.js built-in module"
    if m.status == "absent":
        return "absent", f"workerd has no `node:{name}` at any date (\"Module not found: node:{name}\")"
    if only_v2_left(date, fl):
        if m.default_date is None or m.default_date <= table.v2_date or m.without_nodejs_compat:
            return m.status, (f"node:{name} is {m.status} at {date}: `no_nodejs_compat` alone leaves nodejs_compat_v2 "
                              "on, which serves the modules that need no dated flag")
        return "missing", (f"`no_nodejs_compat` turns off the dated Node.js modules (node:{name} needs its "
                           f"{m.default_date} default with nodejs_compat); the import fails")
    if not nodejs_compat_on(date, fl) and m.without_nodejs_compat:
        return m.without_nodejs_compat, (f"node:{name} imports without nodejs_compat too ({m.note_without or 'a reduced module'}); "
                                         "the global needs nodejs_compat")
    if not nodejs_compat_on(date, fl):
        if any(f in fl for f in m.also_enabled_by):
            return m.status, f"`{'`/`'.join(m.also_enabled_by)}` enables node:{name} (AsyncLocalStorage only)"
        why = ("the `no_nodejs_compat` flag turns it off" if "no_nodejs_compat" in fl else
               f"it is on by default only from {table.default_on_from} and this project neither has that date nor "
               "lists the `nodejs_compat` flag")
        return "missing", (f"node:* modules need nodejs_compat at compatibility date {date}: {why}; without it the "
                           f"import fails (`No such module \"node:{name}\"`)")
    if _flag_on(m.default_date, m.enable_flag, m.disable_flag, date, fl):
        if m.default_date is None:
            how = "on whenever nodejs_compat is on"
            if not v2_semantics(date, fl):
                how += (f" (before {table.v2_date} nodejs_compat has v1 semantics: import it as `node:{name}`; "
                        "wrangler injects no polyfills)")
        elif m.enable_flag and m.enable_flag in fl and date < m.default_date:
            how = f"turned on by the `{m.enable_flag}` flag (default from {m.default_date})"
        else:
            how = f"on by default with nodejs_compat from {m.default_date}"
        return m.status, f"node:{name} is {m.status} at {date}: {how}"
    # before its default date, or turned off by its disable flag
    if m.disable_flag and m.disable_flag in fl and (m.default_date is None or date >= m.default_date):
        cause = f"the `{m.disable_flag}` flag turns it off"
    else:
        flag = f" (or the `{m.enable_flag}` flag)" if m.enable_flag else ""
        cause = f"workerd provides it from compatibility date {m.default_date}{flag}; this project is at {date}"
    if m.before == UNENV and v2_semantics(date, fl):
        return UNENV, (f"{cause}, so wrangler substitutes unenv's polyfill: the import succeeds but its functions "
                       f"throw `[unenv] {name}.<fn> is not implemented yet!`")
    if m.before == "hybrid" and v2_semantics(date, fl):
        return "hybrid", f"{cause}; wrangler injects a working polyfill from @cloudflare/unenv-preset"
    if m.workerd_before and not v2_semantics(date, fl):
        # v1 nodejs_compat: wrangler injects no polyfill and leaves node: imports to workerd
        return m.workerd_before, (f"{cause}; with v1 nodejs_compat wrangler passes node:{name} through and workerd "
                                  f"serves it ({m.workerd_before})")
    return "missing", f"{cause}, and no polyfill is injected, so the import fails (`No such module \"node:{name}\"`)"


def feature_on(name: str, feature: str, date: str, flags: Iterable[str]) -> tuple[bool, dict[str, Any]]:
    """Whether a dated sub-feature of a module (node:http's server half) is on."""
    m = node_table().modules[name]
    f = m.features[feature]
    return _flag_on(f.get("default_date"), f.get("enable_flag"), f.get("disable_flag"), date, set(flags)), f


# --------------------------------------------------------------------------------------------- source text helpers

class _SourceLines:
    """The lines of the file being checked, read once (rules only need them for a few imports)."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.lines: list[str] = []

    def get(self, ctx: RuleContext, facts: FileFacts) -> list[str]:
        p = Path(ctx.discovery.root) / facts.path
        key = str(p)
        if key != self.key:
            try:
                self.lines = inputs.read_text(ctx.discovery.root, facts.path, errors="replace").splitlines()
            except inputs.InputError:
                self.lines = []
            self.key = key
        return self.lines


def import_text(lines: list[str], imp: Import) -> str:
    """The text of an import statement from its first line up to the line that names the module."""
    out = []
    for i in range(imp.line - 1, min(len(lines), imp.line + 40)):
        out.append(lines[i])
        if re.search(r"""['"`](node:)?""" + re.escape(imp.module) + r"""['"`]""", lines[i]):
            break
    return "\n".join(out)


def is_prefixed(imp: Import, lines_of: Any) -> bool:
    """Whether the import names the module with the `node:` prefix (the Import fact has it dropped)."""
    pat = re.compile(r"""['"`]node:""" + re.escape(imp.module) + r"""['"`]""")
    if pat.search(imp.snippet or ""):
        return True
    bare = re.compile(r"""['"`]""" + re.escape(imp.module) + r"""['"`]""")
    if bare.search(imp.snippet or ""):
        return False
    return bool(pat.search(import_text(lines_of(), imp)))


# --------------------------------------------------------------------------------------------- node-module-unavailable

def _npm_names(ctx: RuleContext) -> set[str]:
    return {d.name for d in ctx.dependencies if d.ecosystem == "npm"}


class NodeModuleUnavailable:
    """An import of a Node.js built-in that is missing (or only an unenv stub) at the configured date/flags."""

    def __init__(self) -> None:
        self._src = _SourceLines()

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        if facts.language == "python":
            return []
        table = node_table()
        date = ctx.settings.compatibility_date
        flags = list(ctx.settings.compatibility_flags)
        compat = nodejs_compat_on(date, flags)
        npm = _npm_names(ctx)
        hits: list[Hit] = []
        for imp in facts.imports:
            if imp.type_only or imp.module.startswith((".", "/")) or ":" in imp.module:
                continue
            m = table.modules.get(imp.module)
            if m is None:
                if re.search(r"""['"`]node:""" + re.escape(imp.module) + r"""['"`]""", imp.snippet or ""):
                    hits.append(self._hit(imp, "blocker", f"Imports `node:{imp.module}`, which is not a Node.js "
                                          "module workerd provides; the import fails (`No such module`).",
                                          None))
                continue
            prefixed = is_prefixed(imp, lambda: self._src.get(ctx, facts))
            if m.prefix_only and not prefixed:
                continue  # `test`, `sqlite`: a bare specifier is an npm package
            if not compat and not prefixed and imp.module.split("/")[0] in npm:
                continue  # bundled from node_modules (the npm package of that name) when nodejs_compat is off
            status, reason = module_status(imp.module, date, flags)
            if status in WORKS:
                continue
            spec = f"node:{imp.module}" if prefixed else imp.module
            if status == UNENV:
                msg = (f"Imports `{spec}`, which is only an unenv stub at compatibility date {date}: {reason}.")
                remedy = (f"Move the compatibility date to {m.default_date} or later (or add the "
                          f"`{m.enable_flag}` flag), or replace the {imp.module} calls with Workers APIs.")
            elif status == "absent":
                msg = f"Imports `{spec}`: {reason}; the Worker fails to load."
                remedy = None
            elif not compat:
                build = (f"wrangler fails the build (`Could not resolve \"{imp.module}\"` ... Add the "
                         "nodejs_compat compatibility flag to your project)" if not prefixed else
                         f"the Worker fails at run time with `No such module \"node:{imp.module}\"`")
                msg = (f"Imports `{spec}` but nodejs_compat is off at compatibility date {date} (it is on by "
                       f"default only from {table.default_on_from}): {build}.")
                remedy = ("Add `\"compatibility_flags\": [\"nodejs_compat\"]` to the wrangler config, or move "
                          f"the compatibility date to {table.default_on_from} or later"
                          + (f" (node:{imp.module} itself needs {m.default_date} or the `{m.enable_flag}` flag)"
                             if m.default_date and m.default_date > table.v2_date else "") + ".")
            else:
                msg = f"Imports `{spec}`, which is missing at compatibility date {date}: {reason}."
                remedy = (f"Move the compatibility date to {m.default_date} or later (or add the "
                          f"`{m.enable_flag}` flag)." if m.default_date and m.enable_flag else None)
            hits.append(self._hit(imp, "blocker", msg, remedy))
        return hits

    @staticmethod
    def _hit(imp: Import, sev: str, msg: str, remedy: str | None) -> Hit:
        return Hit(imp.line, imp.column, imp.line, imp.snippet, guard=imp.guard, severity=sev, message=msg,
                   top_level=imp.top_level, remediation=remedy)


# --------------------------------------------------------------------------------------------- node-api-stub

GLOBAL_MODULES = ("process", "console")   # usable without an import


@lru_cache(maxsize=1)
def stub_calls() -> dict[str, tuple[str, dict[str, Any]]]:
    """qualified call name -> (module, throws entry) for every non-functional call in the table."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for m in node_table().modules.values():
        for t in m.throws:
            q = m.name if t["name"] == "default" else f"{m.name}.{t['name']}"
            out[q] = (m.name, t)
    return out


@lru_cache(maxsize=1)
def feature_calls() -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for m in node_table().modules.values():
        for fname, f in m.features.items():
            for c in f.get("calls") or ():
                out[f"{m.name}.{c}"] = (m.name, fname)
    return out


# Globs (fnmatchcase) over the calls this module reacts to: NodeApiStub looks names up exactly in stub_calls() and
# feature_calls() (rules/kb/node_modules.yaml); the other classes read imports only. Names are escaped for fnmatch.
CALLS: tuple[str, ...] = tuple(re.sub(r"([*?[])", r"[\1]", q)
                               for q in sorted(set(stub_calls()) | set(feature_calls())))


class NodeApiStub:
    """Calls of Node APIs that throw (or silently do nothing) on Workers although their module imports."""

    def __init__(self) -> None:
        self._src = _SourceLines()

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        if facts.language == "python":
            return []
        date = ctx.settings.compatibility_date
        flags = list(ctx.settings.compatibility_flags)
        imported: dict[str, list[Import]] = {}
        for imp in facts.imports:
            if not imp.type_only:
                imported.setdefault(imp.module.split("/")[0], []).append(imp)
        stubs = stub_calls()
        features = feature_calls()
        hits: list[Hit] = []
        for c in facts.calls:
            q = c.qname
            hit = stubs.get(q)
            feat = features.get(q)
            if hit is None and feat is None:
                continue
            mod = hit[0] if hit else feat[0]  # type: ignore[index]
            root = mod.split("/")[0]
            if root not in GLOBAL_MODULES:
                imps = imported.get(root)
                if not imps:
                    continue  # a local object that happens to share the module's name
                if node_table().modules[mod].prefix_only and \
                        not any(is_prefixed(i, lambda: self._src.get(ctx, facts)) for i in imps
                                if i.module.split("/")[0] == root):
                    continue
            if root in GLOBAL_MODULES and not imported.get(root) and not nodejs_compat_on(date, flags):
                continue  # the `process` / `Buffer` global needs nodejs_compat (node:process imports without it)
            status, _ = module_status(mod, date, flags)
            if status not in ("native", "partial", "stub"):
                continue  # the import itself is reported by node-module-unavailable
            if hit is not None:
                t = hit[1]
                if t.get("covered_by"):
                    continue
                effect = t.get("effect", "throws")
                err = t.get("error") or "throws"
                if effect == "throws":
                    sev = "blocker"
                    msg = f"Calls {q}(), which throws on Workers even though node:{mod} imports: {err}."
                elif effect == "noop":
                    sev = "warning"
                    msg = f"Calls {q}(), which does nothing on Workers (node:{mod} is a stub): {err}."
                else:
                    sev = "warning"
                    msg = f"Calls {q}(), which returns placeholder values on Workers: {err}."
                sev = t.get("severity", sev)
            else:
                on, f = feature_on(mod, feat[1], date, flags)  # type: ignore[index]
                if on:
                    continue
                sev = "blocker"
                msg = (f"Calls {q}(); node:{mod} imports at {date} but its server half is on only from "
                       f"{f.get('default_date')} (flag `{f.get('enable_flag')}`), so the call fails.")
            hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, guard=c.guard,
                            severity=sev, message=msg, top_level=c.top_level))
        return hits


# --------------------------------------------------------------------------------------------- Python stdlib

# Standard-library modules that do not work in Python Workers (Pyodide). PY-STD unless marked ORACLE.
PY_MISSING: dict[str, str] = {
    "curses": "not included in Pyodide",
    "_curses": "not included in Pyodide",
    "dbm": "not included in Pyodide",
    "ensurepip": "not included in Pyodide",
    "fcntl": "not included in Pyodide",
    "grp": "not included in Pyodide",
    "idlelib": "not included in Pyodide",
    "lib2to3": "not included in Pyodide",
    "pwd": "not included in Pyodide",
    "resource": "not included in Pyodide",
    "syslog": "not included in Pyodide",
    "termios": "not included in Pyodide",
    "tkinter": "not included in Pyodide (ModuleNotFoundError in Pyodide 314.0.6)",
    "_tkinter": "not included in Pyodide",
    "turtle": "not included in Pyodide",
    "turtledemo": "not included in Pyodide",
    "venv": "not included in Pyodide (ModuleNotFoundError in Pyodide 314.0.6)",
    "readline": "not included in Pyodide (ModuleNotFoundError in Pyodide 314.0.6)",
    "pty": "present in Pyodide but fails to import",
    "tty": "present in Pyodide but fails to import",
}
# Windows-only modules (msvcrt, winreg, winsound) are also missing, but code that runs on Linux already guards
# them, so they are not reported.

_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    t = handler.type
    if t is None:
        return True
    names = t.elts if isinstance(t, ast.Tuple) else [t]
    for n in names:
        nm = n.attr if isinstance(n, ast.Attribute) else getattr(n, "id", "")
        if nm in _IMPORT_ERRORS:
            return True
    return False


def optional_import_lines(source: str) -> set[int]:
    """Lines of imports inside `try:` blocks that catch ImportError (or `with suppress(ImportError)`)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    out: set[int] = set()

    def mark(body: list[ast.stmt]) -> None:
        for stmt in body:
            for n in ast.walk(stmt):
                if isinstance(n, (ast.Import, ast.ImportFrom)):
                    out.add(n.lineno)

    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
            mark(node.body)
        elif isinstance(node, ast.With):
            for item in node.items:
                e = item.context_expr
                if isinstance(e, ast.Call) and getattr(e.func, "attr", getattr(e.func, "id", "")) == "suppress" \
                        and any(getattr(a, "id", getattr(a, "attr", "")) in _IMPORT_ERRORS for a in e.args):
                    mark(node.body)
    return out


class PyStdlibUnavailable:
    """Imports of standard-library modules that Pyodide (Python Workers) does not have."""

    def __init__(self) -> None:
        self._src = _SourceLines()

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        if facts.language != "python":
            return []
        hits: list[Hit] = []
        optional: set[int] | None = None
        for imp in facts.imports:
            top = imp.module.split(".")[0]
            reason = PY_MISSING.get(top)
            if reason is None:
                continue
            if optional is None:
                optional = optional_import_lines("\n".join(self._src.get(ctx, facts)))
            guard = imp.guard
            if not guard and imp.line in optional:
                guard = "optional import inside try/except ImportError: the code has a fallback when it is missing"
            hits.append(Hit(imp.line, imp.column, imp.line, imp.snippet, guard=guard, top_level=imp.top_level,
                            message=f"Imports the standard-library module `{imp.module}`, which does not work in "
                                    f"Python Workers: {reason} (import raises ModuleNotFoundError/ImportError)."))
        return hits
