"""The import graph and the context of each file.

Edges come from the import facts (static imports, requires, dynamic `import()` with a literal, Python
imports), resolved to repository files: relative paths with extension and index lookup (and the TypeScript
`./x.js` -> `./x.ts` convention), tsconfig `baseUrl` / `paths`, workspace packages by name, Python relative
imports, packages and `src/` layouts.

A file's context is decided from the entry points the settings and manifests name:
- runtime: reachable from a runtime entry (wrangler `main`, package.json main/exports/start, Procfile web,
  Dockerfile CMD, a file that builds a web app or a Worker entrypoint);
- build: reachable only from build or dev scripts, CLI `bin` entries, migrations or bundler configs;
- test: a test file by path convention, or reachable only from tests;
- otherwise the path conventions decide (and a repository with no runtime entry point at all falls back to
  path conventions entirely, which the report says).
"""
from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence
from typing import Any, Iterable

import json5

from . import inputs
from .parsing.facts import FileFacts

JS_EXTS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
JS_SWAP = {".js": (".ts", ".tsx"), ".mjs": (".mts",), ".cjs": (".cts",), ".jsx": (".tsx",)}

# Files that are runtime entry points by what they do (web app objects, Worker entrypoints).
PY_APP_CTORS = ("fastapi.FastAPI", "flask.Flask", "starlette.applications.Starlette", "quart.Quart",
                "sanic.Sanic", "aiohttp.web.Application", "django.core.asgi.get_asgi_application",
                "django.core.wsgi.get_wsgi_application", "litestar.Litestar", "falcon.App", "falcon.asgi.App")
JS_ENTRY_CALLS = ("cloudflare:node.httpServerHandler",)
# Path conventions for framework-routed runtime files (no import reaches them).
ROUTED = re.compile(r"(^|/)(pages/api/|app/(.+/)?route\.(t|j)sx?$|functions/.+\.(t|j)s$|"
                    r"src/routes/.+\+server\.(t|j)s$|netlify/functions/|server/api/)"
                    # Vercel's api/ folder sits at a project's root, not inside a front end's src/ (client API
                    # wrappers live in src/api/)
                    r"|^([^/]+/)?api/.+\.(t|j)s$")


# A file nothing in the app imports, named like a one-off program (seed, import, deploy-commands, train_model,
# migrate...), is a script run by hand, not part of the deployed service.
SCRIPT_STEM = re.compile(r"^(seeds?|seeder|import|export|migrate|migration|deploy|register|train|training|populate|"
                         r"fixtures?|load[-_]?data|dump|backfill|bootstrap|init[-_]?db|reset[-_]?db|"
                         r"create[-_]?(db|tables|admin|superuser)|generate)([-_.].*)?$", re.I)
# Task-queue libraries: a `tasks.py` that imports one holds jobs a worker process runs (not an invoke file).
TASK_QUEUE_MODULES = ("celery", "dramatiq", "rq", "huey", "arq", "taskiq")


def refined_role(f: FileFacts) -> tuple[str, str]:
    """The role path conventions gave, corrected from the file's imports: `tasks.py` is a task queue's jobs
    (runtime) when it imports one; (role, reason)."""
    name = f.path.rsplit("/", 1)[-1]
    if f.role == "build" and name == "tasks.py" and f.language == "python" and any(
            i.module.split(".")[0] in TASK_QUEUE_MODULES for i in f.imports):
        return "runtime", "task-queue jobs (imports a task queue)"
    return f.role, ""


# A package whose dependencies are a browser UI library and no server framework is a front end (in a monorepo,
# the folder beside the server); its code runs in browsers, so nothing in it is a server blocker.
UI_PACKAGES = frozenset({"react-dom", "vue", "svelte", "@angular/core", "preact", "solid-js", "lit", "@vue/runtime-dom",
                         "react-native", "expo"})
SERVER_PACKAGES = frozenset({"express", "fastify", "koa", "@hapi/hapi", "hapi", "@nestjs/core", "next", "nuxt",
                             "@sveltejs/kit", "@remix-run/node", "@remix-run/server-runtime", "astro", "hono",
                             "socket.io", "ws", "restify", "polka", "micro", "h3", "nitropack", "@trpc/server",
                             "mongoose", "pg", "mysql2", "sequelize", "@prisma/client", "typeorm", "knex",
                             "discord.js", "telegraf", "@slack/bolt", "bull", "bullmq", "agenda"})
# Folders whose scripts a web server sends to browsers (Express `public/`, Flask and Django `static/`).
BROWSER_DIRS = re.compile(r"(^|/)(public|static|assets|www|wwwroot)/")


def front_end_roots(dependencies: list[Any]) -> list[str]:
    """Roots of the npm packages that are front ends (a UI library, no server framework among their
    dependencies)."""
    names: dict[str, set[str]] = {}
    for d in dependencies:
        if getattr(d, "ecosystem", "") != "npm" or not d.manifest.endswith("package.json"):
            continue
        root = d.manifest[: -len("package.json")].rstrip("/")
        names.setdefault(root, set()).add(d.name)
    return sorted(r for r, deps in names.items() if deps & UI_PACKAGES and not deps & SERVER_PACKAGES)


def _starts_service(f: FileFacts) -> bool:
    return any(c.qname in PY_APP_CTORS or c.qname in JS_ENTRY_CALLS for c in f.calls)


def _script_name(path: str) -> bool:
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return bool(SCRIPT_STEM.match(stem)) or "/dev-data/" in f"/{path}"


@dataclass
class FileContext:
    context: str                      # runtime | build | test | config
    chain: list[str] = field(default_factory=list)   # entry > ... > file, for runtime files
    reason: str = ""


@dataclass
class ContextResult:
    contexts: dict[str, FileContext]
    graph: "ImportGraph"
    entries: dict[str, list[str]]     # kind -> entry files
    mode: str                         # "entry points" | "path conventions (no runtime entry point found)"


def _read_jsonc(root: Path, rel: str) -> Any:
    try:
        return json5.loads(inputs.read_text(root, rel, limit=inputs.CONFIG_LIMIT))
    except Exception:
        return None


MAX_PATH_PATTERNS = 512    # tsconfig compilerOptions.paths: every import tries every pattern and its targets
MAX_PATH_TARGETS = 32


class Resolver:
    def __init__(self, root: Path, paths: Iterable[str], projects: list[Any], other_files: list[str]):
        self.root = root
        self.known = set(paths)
        self.notes: list[tuple[str, str]] = []    # (file, what was cut)
        self.tsconfigs = self._tsconfigs(other_files)
        self.workspaces: dict[str, str] = {}
        for p in projects or []:
            if getattr(p, "ecosystem", "") == "npm" and getattr(p, "name", None):
                self.workspaces[p.name] = p.root
        self.py_roots = [""]
        for cand in ["src"] + [getattr(p, "root", "") for p in projects or [] if getattr(p, "ecosystem", "") == "pypi"]:
            for r in (cand, posixpath.join(cand, "src") if cand else "src"):
                if r not in self.py_roots:
                    self.py_roots.append(r)
        self.py_modules: dict[str, str] = {}
        for path in self.known:
            if path.endswith(".py"):
                for r in self.py_roots:
                    if r and not path.startswith(r + "/"):
                        continue
                    rel = path[len(r) + 1:] if r else path
                    mod = rel[:-3].replace("/", ".")
                    if mod.endswith(".__init__"):
                        mod = mod[: -len(".__init__")]
                    self.py_modules.setdefault(mod, path)

    def _tsconfigs(self, other_files: list[str]) -> list[tuple[str, str | None, dict[str, list[str]]]]:
        out = []
        for rel in other_files:
            name = rel.rsplit("/", 1)[-1]
            if not (name == "tsconfig.json" or name == "jsconfig.json"):
                continue
            data = _read_jsonc(self.root, rel)
            if not isinstance(data, dict):
                continue
            opts = data.get("compilerOptions") or {}
            base_dir = posixpath.dirname(rel)
            base_url = opts.get("baseUrl")
            paths = opts.get("paths") or {}
            if base_url is None and not paths:
                continue
            bu = posixpath.normpath(posixpath.join(base_dir, base_url)) if base_url else base_dir
            paths = paths if isinstance(paths, dict) else {}
            capped = {k: v[:MAX_PATH_TARGETS] if isinstance(v, list) else v
                      for k, v in list(paths.items())[:MAX_PATH_PATTERNS]}
            if len(paths) > MAX_PATH_PATTERNS or any(isinstance(v, list) and len(v) > MAX_PATH_TARGETS
                                                     for v in paths.values()):
                self.notes.append((rel, f"compilerOptions.paths cut to its first {MAX_PATH_PATTERNS} patterns and "
                                        f"{MAX_PATH_TARGETS} targets each (imports through the rest are not resolved)"))
            out.append((base_dir, "" if bu == "." else bu, capped))
        out.sort(key=lambda t: -len(t[0]))
        return out

    def _file(self, cand: str) -> str | None:
        cand = posixpath.normpath(cand)
        if cand.startswith("../") or cand == "..":
            return None
        if cand in self.known:
            return cand
        stem, ext = posixpath.splitext(cand)
        for alt in JS_SWAP.get(ext, ()):
            if stem + alt in self.known:
                return stem + alt
        for e in JS_EXTS:
            if cand + e in self.known:
                return cand + e
        for e in JS_EXTS:
            if f"{cand}/index{e}" in self.known:
                return f"{cand}/index{e}"
        return None

    def js_module_of(self, path: str, q: str, known: Any) -> tuple[str, str] | None:
        """The project module a dotted JavaScript name starts with, and the rest of the name: the longest prefix
        of `q` that resolves from `path` to another file in `known` (`./db.connect` -> ('src/db.js',
        'connect')); None when no prefix does, or `q` is a package name without tsconfig paths or workspaces."""
        if not q.startswith((".", "/", "@")) and not self.tsconfigs and not self.workspaces:
            return None
        cuts = [i for i, ch in enumerate(q) if ch == "."] + [len(q)]
        for i in sorted(cuts, reverse=True):
            spec = q[:i]
            if not spec or spec in (".", ".."):
                continue
            target = self.resolve_js(path, spec)
            if target is None or target == path or target not in known:
                continue
            return target, (q[i + 1:] if i < len(q) else "")
        return None

    def resolve_js(self, importer: str, spec: str) -> str | None:
        """Memoised per (importer folder, specifier): big repositories ask the same questions many times."""
        key = (posixpath.dirname(importer), spec, importer if not spec.startswith(".") else "")
        memo = self.__dict__.setdefault("_js_memo", {})
        if key not in memo:
            memo[key] = self._resolve_js(importer, spec)
        return memo[key]

    def _resolve_js(self, importer: str, spec: str) -> str | None:
        if spec.startswith("."):
            return self._file(posixpath.join(posixpath.dirname(importer), spec))
        if spec.startswith("/"):
            return self._file(spec.lstrip("/"))
        for base_dir, base_url, paths in self.tsconfigs:
            if base_dir and not importer.startswith(base_dir + "/"):
                continue
            for pattern, targets in paths.items():
                if not isinstance(targets, list):
                    continue
                if pattern.endswith("*"):
                    pre = pattern[:-1]
                    if not spec.startswith(pre):
                        continue
                    rest = spec[len(pre):]
                    for t in targets:
                        hit = self._file(posixpath.join(base_url or "", str(t).replace("*", rest)))
                        if hit:
                            return hit
                elif spec == pattern:
                    for t in targets:
                        hit = self._file(posixpath.join(base_url or "", str(t)))
                        if hit:
                            return hit
            if base_url is not None and base_url != base_dir or base_url:
                hit = self._file(posixpath.join(base_url, spec))
                if hit:
                    return hit
        for name, proot in self.workspaces.items():
            if spec == name or spec.startswith(name + "/"):
                sub = spec[len(name):].lstrip("/")
                base = posixpath.join(proot, sub) if sub else proot
                hit = self._file(base) or self._file(posixpath.join(base, "src")) or \
                    self._file(posixpath.join(proot, "src", sub or "index"))
                if hit:
                    return hit
        return None

    def resolve_py(self, importer: str, module: str, names: list[str]) -> list[str]:
        """Memoised per (importer folder for relative modules, module, names)."""
        key = (posixpath.dirname(importer) if module.startswith(".") else "", module, tuple(names))
        memo = self.__dict__.setdefault("_py_memo", {})
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = self._resolve_py(importer, module, names)
        return list(hit)

    def _resolve_py(self, importer: str, module: str, names: list[str]) -> list[str]:
        out: list[str] = []
        if module.startswith("."):
            dots = len(module) - len(module.lstrip("."))
            rest = module[dots:]
            pkg = posixpath.dirname(importer)
            for _ in range(dots - 1):
                pkg = posixpath.dirname(pkg)
            base = posixpath.join(pkg, rest.replace(".", "/")) if rest else pkg
            bases = [base]
        else:
            bases = [posixpath.join(r, module.replace(".", "/")) if r else module.replace(".", "/")
                     for r in self.py_roots]
        for base in bases:
            found = None
            for cand in (base + ".py", base + "/__init__.py"):
                if cand in self.known:
                    found = cand
                    break
            for n in names:
                if n == "*":
                    continue
                sub = f"{base}/{n}.py"
                if sub in self.known:
                    out.append(sub)
                elif f"{base}/{n}/__init__.py" in self.known:
                    out.append(f"{base}/{n}/__init__.py")
            if found:
                out.append(found)
            if out:
                break
        return sorted(set(out))


class ImportGraph:
    """Files and their local import edges. The scan walks the adjacency map directly; `.nx` is the same graph
    as a networkx DiGraph, built on first use (and any other attribute is looked up there), because importing
    networkx costs ~0.2 s, a third of a small repository's whole scan, and the scan only needs reachability."""

    def __init__(self) -> None:
        self.succ: dict[str, dict[str, None]] = {}     # insertion-ordered successor sets

    def add_node(self, n: str) -> None:
        self.succ.setdefault(n, {})

    def add_edge(self, a: str, b: str) -> None:
        self.succ.setdefault(a, {})[b] = None
        self.succ.setdefault(b, {})

    def __contains__(self, n: object) -> bool:
        return n in self.succ

    def successors(self, n: str) -> list[str]:
        return list(self.succ.get(n, ()))

    def has_edge(self, a: str, b: str) -> bool:
        return b in self.succ.get(a, ())

    def descendants(self, n: str) -> set[str]:
        """Every file reachable from `n` (not `n` itself unless on a cycle), like networkx.descendants."""
        seen: set[str] = set()
        stack = list(self.succ.get(n, ()))
        while stack:
            x = stack.pop()
            if x not in seen:
                seen.add(x)
                stack.extend(self.succ.get(x, ()))
        seen.discard(n)
        return seen

    @property
    def nx(self) -> Any:
        g = self.__dict__.get("_nx")
        if g is None:
            import networkx as nx
            g = nx.DiGraph()
            g.add_nodes_from(self.succ)
            g.add_edges_from((a, b) for a, bs in self.succ.items() for b in bs)
            self.__dict__["_nx"] = g
        return g

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.nx, name)


def build_graph(files: list[FileFacts], root: Path, projects: list[Any], other_files: list[str],
                resolver: Resolver | None = None) -> ImportGraph:
    """`resolver`: the one module linking used (same files and projects), with its memoised answers."""
    g = ImportGraph()
    paths = [f.path for f in files]
    for p in paths:
        g.add_node(p)
    res = resolver or Resolver(root, paths, projects, other_files)
    for f in files:
        for imp in f.imports:
            if imp.type_only:
                continue
            if f.language == "python":
                targets = res.resolve_py(f.path, imp.module, imp.names)
            else:
                t = res.resolve_js(f.path, imp.module)
                targets = [t] if t else []
            for t in targets:
                if t != f.path:
                    g.add_edge(f.path, t)
    return g


def _bin_paths(root: Path, other_files: list[str]) -> set[str]:
    out: set[str] = set()
    for rel in other_files:
        if rel.rsplit("/", 1)[-1] != "package.json" or "node_modules/" in rel:
            continue
        try:
            data = json.loads(inputs.read_text(root, rel, limit=inputs.MANIFEST_LIMIT))
        except Exception:
            continue
        b = data.get("bin") if isinstance(data, dict) else None
        vals = [b] if isinstance(b, str) else list(b.values()) if isinstance(b, dict) else []
        base = posixpath.dirname(rel)
        for v in vals:
            if isinstance(v, str):
                out.add(posixpath.normpath(posixpath.join(base, v)))
    return out


def _package_dir(path: str, roots: list[str]) -> str:
    """The innermost project root (folder with a manifest) containing PATH, '' for the repository root."""
    best = ""
    for r in roots:
        if r and (path.startswith(r + "/")) and len(r) > len(best):
            best = r
    return best


def find_entries(files: list[FileFacts], root: Path, entry_points: list[Any], mains: list[str],
                 other_files: list[str], projects: list[Any] | None = None,
                 routed: set[str] | None = None) -> dict[str, list[str]]:
    """Runtime, build and test entry points: declared (manifests, wrangler main), framework-routed files
    (`routed`: what the detected frameworks load by name, frameworks.py), and files that build an app."""
    projects_roots = sorted({getattr(p, "root", "") for p in projects or []})
    known = {f.path: f for f in files}
    res = Resolver(root, known, [], [])
    entries: dict[str, set[str]] = {"runtime": set(), "build": set(), "test": set()}
    bins = _bin_paths(root, other_files)

    def add(kind: str, path: str | None) -> None:
        if not path:
            return
        hit = path if path in known else res._file(path)
        if hit is None and path.endswith(".py"):
            hit = None
        if hit:
            entries[kind].add(hit)

    for m in mains:
        add("runtime", m)
    dev: set[str] = set()
    for ep in entry_points or []:
        kind = getattr(ep, "kind", "runtime")
        path = getattr(ep, "path", None)
        if not path:
            continue
        if path in bins or (res._file(path) or "") in bins:
            add("build", path)
        elif kind == "runtime":
            add("runtime", path)
        elif kind == "dev":
            dev.add(path)
        elif kind == "test":
            add("test", path)
        else:
            add("build", path)
    for f in files:
        if f.language == "python":
            if any(c.qname in PY_APP_CTORS and c.top_level for c in f.calls) or \
                    any(i.module == "workers" and "WorkerEntrypoint" in i.names for i in f.imports):
                entries["runtime"].add(f.path)
        else:
            if any(c.qname in JS_ENTRY_CALLS for c in f.calls) or ROUTED.search(f.path):
                entries["runtime"].add(f.path)
        if routed and f.path in routed:
            entries["runtime"].add(f.path)
    declared_runtime = {p for p in entries["runtime"] if p in mains or any(
        getattr(ep, "path", None) == p and getattr(ep, "kind", "") == "runtime" for ep in entry_points or [])}
    for d in dev:
        hit = d if d in known else res._file(d)
        if hit and hit not in entries["runtime"]:
            # a dev script is the app's own entry unless its package declares a runtime one (start, main)
            pkg = _package_dir(hit, projects_roots)
            own = any(_package_dir(r, projects_roots) == pkg for r in declared_runtime)
            entries["build" if own else "runtime"].add(hit)
    return {k: sorted(v) for k, v in entries.items()}


def _browser_reason(f: FileFacts, front_ends: list[str]) -> str:
    if f.language == "python":
        return ""
    for r in front_ends:
        if not r or f.path.startswith(r + "/"):
            return f"front-end package {r or '(root)'}: a UI library and no server framework among its dependencies"
    if BROWSER_DIRS.search(f.path):
        return "a script in a folder the server sends to browsers"
    return ""


class _Chain(Sequence):
    """An import chain (entry > ... > file) made when first read: making every reachable file's chain up front
    holds n^2/2 names for a linear chain of n modules (20,000 modules: 3.2 GB); only files with findings read
    theirs."""
    __slots__ = ("_parent", "_node", "_list")

    def __init__(self, parent: dict[str, str | None], node: str):
        self._parent, self._node, self._list = parent, node, None

    def _get(self) -> list[str]:
        if self._list is None:
            out = [self._node]
            while self._parent.get(out[-1]) is not None:
                out.append(self._parent[out[-1]])  # type: ignore[arg-type]
            self._list = list(reversed(out))
        return self._list

    def __getitem__(self, i):  # type: ignore[override]
        return self._get()[i]

    def __len__(self) -> int:
        return len(self._get())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return repr(self._get())


def classify(files: list[FileFacts], graph: ImportGraph, entries: dict[str, list[str]],
             front_ends: list[str] | None = None, browser: dict[str, str] | None = None) -> ContextResult:
    """Each file's context. `browser`: files a detected framework runs only in browsers (client components),
    with why; they are browser code even when a server file imports them (a page imports its components)."""
    contexts: dict[str, FileContext] = {}
    front_ends = front_ends or []
    browser = browser or {}
    runtime_entries = [e for e in entries.get("runtime", []) if e in graph]
    if not runtime_entries:
        for f in files:
            role, why = refined_role(f)
            in_browser = (browser.get(f.path) or _browser_reason(f, front_ends)) if role == "runtime" else ""
            contexts[f.path] = FileContext("browser" if in_browser else role, [],
                                           in_browser or why or "path conventions (no runtime entry point found)")
        return ContextResult(contexts, graph, entries, "path conventions (no runtime entry point found)")
    # shortest import chain from any runtime entry (multi-source BFS, deterministic order)
    chain_parent: dict[str, str | None] = {}
    queue: list[str] = []
    for e in sorted(runtime_entries):
        chain_parent[e] = None
        queue.append(e)
    i = 0
    while i < len(queue):
        node = queue[i]
        i += 1
        for nxt in sorted(graph.successors(node)):
            if nxt not in chain_parent:
                chain_parent[nxt] = node
                queue.append(nxt)

    build_reach: set[str] = set()
    reach_of: dict[str, set[str]] = {}
    for e in entries.get("build", []):
        if e in graph:
            reach_of[e] = {e} | graph.descendants(e)
            build_reach |= reach_of[e]
    for f in files:
        p = f.path
        role, why = refined_role(f)
        if p in browser and role == "runtime":
            contexts[p] = FileContext("browser", [], browser[p])
        elif p in chain_parent:
            # reachability beats path conventions: a file the deployed app imports runs in production
            contexts[p] = FileContext("runtime", _Chain(chain_parent, p),  # type: ignore[arg-type]
                                      "reachable from a runtime entry point")
        elif role == "runtime" and why:
            contexts[p] = FileContext("runtime", [], why)
        elif role == "runtime" and _browser_reason(f, front_ends):
            contexts[p] = FileContext("browser", [], _browser_reason(f, front_ends))
        elif f.role == "test":
            contexts[p] = FileContext("test", [], "test file (path conventions)")
        elif p in build_reach:
            src = next((e for e in entries.get("build", []) if e == p or p in reach_of.get(e, ())), "")
            contexts[p] = FileContext("build", [], f"reachable only from the build/CLI entry point {src}")
        elif role == "runtime" and _script_name(p) and not _starts_service(f):
            contexts[p] = FileContext("build", [], "a one-off script: named like one and not imported by the app")
        else:
            # Not reached by a static import: frameworks load such files by name (Celery autodiscovery,
            # Django apps, command folders read with readdir), so a file merely also imported by tests is
            # still judged by its path rather than hidden as test code.
            contexts[p] = FileContext(role, [], "not imported from any entry point; judged by its path")
    return ContextResult(contexts, graph, entries, "entry points")


def link_modules(files: list[FileFacts], root: Path, projects: list[Any], other_files: list[str],
                 only: set[str] | None = None, resolver: Resolver | None = None,
                 renamed: dict[str, dict[str, str]] | None = None) -> int:
    """Cross-module names: a call made through a name imported from a local module gets the qualified name
    that name has in its module (`from .celery_app import app; @app.task` -> `celery.Celery().task`;
    `const app = require('./app'); app.listen()` -> `express().listen`). Returns how many calls changed.
    `renamed` receives, per file, what each name in `FileFacts.linkable` (calls not extracted) became."""
    by_path = {f.path: f for f in files}
    res = resolver or Resolver(root, by_path, projects, other_files)
    local_tops = {m.split(".")[0] for m in res.py_modules}
    changed = 0

    def rewrite(path: str, q: str, depth: int) -> str:
        if depth > 4:
            return q
        f = by_path.get(path)
        if f is None:
            return q
        if f.language == "python":
            if not (q.startswith(".") or q.split(".")[0] in local_tops):
                return q
            dots = len(q) - len(q.lstrip("."))
            parts = q[dots:].split(".")
            for i in range(len(parts) - 1, 0, -1):
                mod = "." * dots + ".".join(parts[:i])
                hits = res.resolve_py(path, mod, [])
                target = next((h for h in hits if h != path), None)
                if target is None:
                    continue
                name = parts[i]
                bare = name[:-2] if name.endswith("()") else name
                exp = by_path[target].exports.get(bare) if target in by_path else None
                if exp is None:
                    return q
                rest = ".".join(parts[i + 1:])
                new = exp + ("()" if name.endswith("()") else "") + (f".{rest}" if rest else "")
                return rewrite(target, new, depth + 1)
            return q
        hit = res.js_module_of(path, q, by_path)
        if hit is None:
            return q
        target, rest = hit
        exports = by_path[target].exports
        first = rest.split(".")[0] if rest else ""
        bare = first.split("(")[0]
        if bare and bare in exports:
            new = exports[bare] + rest[len(bare):]
        elif "default" in exports:
            new = exports["default"] + (("." + rest) if rest and not rest.startswith("(") else rest)
        else:
            return q
        return rewrite(target, new, depth + 1)

    for f in files:
        if only is not None and f.path not in only:
            continue
        seen: dict[str, str] = {}
        for c in f.calls:
            if c.kind in ("pattern", "read"):
                continue
            new = seen.get(c.qname)
            if new is None:
                new = seen[c.qname] = rewrite(f.path, c.qname, 0)
            if new != c.qname:
                c.qname = new
                changed += 1
        if f.linkable and renamed is not None:   # calls not extracted: the engine checks what they became
            got = renamed.setdefault(f.path, {})
            for q in f.linkable:
                new = seen.get(q)
                got[q] = new if new is not None else rewrite(f.path, q, 0)
    return changed
