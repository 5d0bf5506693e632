"""Where code runs: the functions that run while a module loads.

A Worker runs a module's top level once, when the isolate starts, and refuses I/O, timers and random values
there ("Disallowed operation called within global scope"; ORACLE 2026-11-17). Code inside a function runs at
that moment too when the function is called from top level — `connectDB()` at the bottom of server.js, where
the connect happens inside the imported function — and so does whatever that function calls in turn. This pass
follows `FileFacts.invokes` (calls of the project's own functions, recorded by the extractors before linking)
across files: it resolves each callee to the module that defines it (relative imports, workspace packages,
tsconfig paths, through the graph's Resolver and the modules' exports), and marks every call made inside a
function that runs at start-up as running at module load (`Call.top_level`), saying how (`Call.via`), so
the global-scope rules judge it as what workerd does with it.
"""
from __future__ import annotations

from collections import deque

from .graph import Resolver
from .parsing.facts import FileFacts

MAX_FUNCTIONS = 20_000     # startup functions followed per scan (a bound for pathological call graphs)

# Classes a framework instantiates once for the whole application (dependency-injection singletons).
DI_SINGLETONS = ("@nestjs/common.Injectable", "@nestjs/common.Controller", "@nestjs/bull.Processor",
                 "@nestjs/bullmq.Processor", "@nestjs/websockets.WebSocketGateway", "@nestjs/graphql.Resolver",
                 "@nestjs/microservices.Controller")


def _root(symbol: str) -> str:
    """The module-level function a symbol belongs to (`connectDB.<anonymous>` -> `connectDB`)."""
    return symbol.split(".", 1)[0]


def _defined(f: FileFacts) -> set[str]:
    """Module-level functions of a file (declarations and `const f = () => ...`; not object or class methods:
    a handler method named `fetch` is not the global fetch)."""
    return set(f.functions)


def _resolve(res: Resolver, by_path: dict[str, FileFacts], defined: dict[str, set[str]], path: str,
             q: str, depth: int = 0) -> tuple[str, str] | None:
    """(file, function) that a callee names, or None (a builtin, a package, a method, or unknown)."""
    if depth > 4:
        return None
    f = by_path.get(path)
    if f is None:
        return None
    if q in defined.get(path, ()):
        return path, q
    if f.language == "python":
        if not q.startswith("."):
            return None
        dots = len(q) - len(q.lstrip("."))
        parts = q[dots:].split(".")
        for i in range(len(parts) - 1, 0, -1):
            hits = res.resolve_py(path, "." * dots + ".".join(parts[:i]), [])
            target = next((h for h in hits if h != path and h in by_path), None)
            if target is None:
                continue
            name = parts[i]
            exp = by_path[target].exports.get(name, name)
            return _resolve(res, by_path, defined, target, exp, depth + 1) if i == len(parts) - 1 else None
        return None
    hit = res.js_module_of(path, q, by_path)
    if hit is None:
        return None
    target, rest = hit
    if "." in rest or "(" in rest:
        return None                  # a method of something the module exports: not followed
    exports = by_path[target].exports
    name = rest or "default"
    exp = exports.get(name) or (rest if rest in defined.get(target, ()) else None)
    if exp is None:
        return None
    return _resolve(res, by_path, defined, target, exp, depth + 1)


def _memo(res: Resolver, by_path: dict[str, FileFacts], defined: dict[str, set[str]]):
    """`_resolve` with its answers kept per (file, callee): a file calls the same helpers many times, and the
    passes below ask again (TypeScript's compiler: 157,000 lookups for 9,000 distinct ones)."""
    memo: dict[tuple[str, str], tuple[str, str] | None] = {}

    def resolve(path: str, q: str) -> tuple[str, str] | None:
        key = (path, q)
        if key not in memo:
            memo[key] = _resolve(res, by_path, defined, path, q)
        return memo[key]
    return resolve


def startup_functions(files: list[FileFacts], res: Resolver) -> dict[str, dict[str, str]]:
    """path -> {function: how it comes to run at start-up}, for every function that runs while a module loads."""
    by_path = {f.path: f for f in files if not f.error}
    defined = {p: _defined(f) for p, f in by_path.items()}
    resolve = _memo(res, by_path, defined)
    calls_from: dict[tuple[str, str], list[tuple[str, int]]] = {}
    out: dict[str, dict[str, str]] = {}
    queue: deque[tuple[str, str]] = deque()
    for path, f in sorted(by_path.items()):
        for inv in f.invokes:
            if inv.caller:
                # only the function's own body runs when it is called; a callback it defines runs later
                calls_from.setdefault((path, inv.caller), []).append((inv.callee, inv.line))
                continue
            hit = resolve(path, inv.callee)
            if hit is None or hit[1] in out.get(hit[0], {}):
                continue
            name = inv.callee.rsplit("/", 1)[-1]
            out.setdefault(hit[0], {})[hit[1]] = f"{name}() is called at the top level of {path} (line {inv.line})"
            queue.append(hit)
    seen = 0
    while queue and seen < MAX_FUNCTIONS:
        path, func = queue.popleft()
        seen += 1
        how = out[path][func]
        for callee, line in calls_from.get((path, func), ()):
            hit = resolve(path, callee)
            if hit is None or hit[1] in out.get(hit[0], {}):
                continue
            out.setdefault(hit[0], {})[hit[1]] = f"{func}() calls it ({path}:{line}); {how}"
            queue.append(hit)
    # a start-up function that request code also calls runs in both lifetimes: say so (`~` marks it)
    for (path, func), callees in sorted(calls_from.items()):
        if func in out.get(path, {}):
            continue
        for callee, _line in callees:
            hit = resolve(path, callee)
            if hit is not None and hit[1] in out.get(hit[0], {}) and not out[hit[0]][hit[1]].startswith("~"):
                out[hit[0]][hit[1]] = "~" + out[hit[0]][hit[1]]
    for path, f in by_path.items():     # anonymous callbacks (route handlers) calling a start-up function
        for inv in f.invokes:
            if "<anonymous>" in inv.caller:
                hit = resolve(path, inv.callee)
                if hit is not None and hit[1] in out.get(hit[0], {}) and not out[hit[0]][hit[1]].startswith("~"):
                    out[hit[0]][hit[1]] = "~" + out[hit[0]][hit[1]]
    return out


def mark_startup_state(files: list[FileFacts], startup: dict[str, dict[str, str]]) -> None:  # noqa: C901
    """A module-level container filled only by functions that run while the module loads (a command registry
    built from a folder, a table loaded at start-up) is read-only afterwards: per-isolate copies are the same
    data, so it is not shared state. `StateVar.lifetime` says so ('startup-only: ...')."""
    for f in files:
        funcs = startup.get(f.path, {})
        for sv in f.state:
            if sv.owner or not sv.writers:
                continue
            roots = set(sv.writers)
            if all(r in funcs and not funcs[r].startswith("~") for r in roots if r):
                first = sorted(r for r in roots if r)
                if first:
                    sv.lifetime = f"startup-only: filled by {', '.join(x + '()' for x in first)} while the module loads"


def mark_startup_calls(files: list[FileFacts], startup: dict[str, dict[str, str]]) -> int:
    """Calls made inside start-up functions run at module load: `top_level` and `via` say so. Returns how many."""
    n = 0
    for f in files:
        funcs = startup.get(f.path)
        if not funcs:
            continue
        for c in f.calls:
            if c.top_level or not c.symbol:
                continue
            how = funcs.get(c.symbol)        # the function's own body, not the callbacks it defines
            if how is None:
                continue
            if how.startswith("~"):
                # also called from request code: it stays request code for the rules that judge handlers, and
                # the global-scope rules see it through `via`
                c.via = (f"it runs inside {c.symbol}(), which runs while the module loads (and in requests): "
                         f"{how[1:]}")
            else:
                c.top_level = True
                c.via = f"it runs inside {c.symbol}(), which runs while the module loads: {how}"
            n += 1
    return n


def _state_owners(f: FileFacts) -> set[str]:
    return {sv.owner for sv in f.state if sv.owner}


def process_wide_instances(files: list[FileFacts], res: Resolver) -> dict[str, dict[str, str]]:
    """path -> {class: why one instance of it serves every request}: classes instantiated while a module loads
    (`module.exports = new JobQueue()`, `export const store = new Store()`, in this file or imported), and
    framework singletons (NestJS providers and controllers). Only classes that hold state are considered."""
    by_path = {f.path: f for f in files if not f.error}
    owners = {p: _state_owners(f) for p, f in by_path.items()}
    resolve = _memo(res, by_path, owners)
    out: dict[str, dict[str, str]] = {}
    for path, f in sorted(by_path.items()):
        if not owners[path]:
            continue
        starts = sorted((cd.line, cd.name) for cd in f.classes)
        for c in f.calls:
            if c.qname not in DI_SINGLETONS:
                continue
            # the class the decorator stands on: its own frame, or the next class a few lines below
            cls = c.symbol if c.symbol in owners[path] else next(
                (name for line, name in starts if c.line <= line <= c.line + 12), "")
            if cls in owners[path]:
                deco = c.qname.rsplit(".", 1)[-1]
                out.setdefault(path, {}).setdefault(
                    cls, f"{cls} is a NestJS @{deco}: the framework creates one instance for the application "
                         f"({path}:{c.line})")
    for path, f in sorted(by_path.items()):
        for inv in f.invokes:
            if inv.caller:
                continue
            hit = resolve(path, inv.callee)
            if hit is None or hit[1] in out.get(hit[0], {}):
                continue
            out.setdefault(hit[0], {})[hit[1]] = (f"one {hit[1]} is created while {path} loads (line {inv.line}) "
                                                  "and serves every request")
    return out


def mark_process_state(files: list[FileFacts], instances: dict[str, dict[str, str]]) -> None:
    """Instance fields of process-wide objects are process state: `StateVar.lifetime` says why."""
    for f in files:
        owned = instances.get(f.path)
        if not owned:
            continue
        for sv in f.state:
            if sv.owner and sv.owner in owned:
                sv.lifetime = owned[sv.owner]
