"""`cfcompat verify` for a Python Worker: check the entry the way the Python Workers runtime loads it.

workerd cannot start a Python Worker offline (it downloads the Pyodide bundle from Cloudflare at start), so this
check does what the runtime does before the first request, from the knowledge base, without running the code:

* the Python of the Pyodide bundle the compatibility date selects (rules/kb/pyodide/index.json) must parse every
  module the entry imports (ast with that feature version);
* the entry must export a handler the runtime finds: `Default` at module level (a `WorkerEntrypoint` subclass, or
  `wsgi.entrypoint(app)` / `asgi.entrypoint(app)`); from compatibility date 2025-08-14 module-level `on_fetch`
  handlers are not called (python_no_global_handlers);
* `from workers import wsgi` needs compatibility date 2026-09-02 or later in cfcompat's knowledge base
  (platform_changes.yaml python-wsgi-frameworks);
* every import in the entry's import closure must resolve: a project module, a standard-library module Pyodide
  has (not one of the stdlib modules Python Workers lack), the runtime's own modules (workers, js, pyodide,
  asgi), or a declared dependency that Pyodide ships for that date or that is not known to need compiled code;
* no app.run() / uvicorn.run() left at module level (a server would start at import).
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

RUNTIME_MODULES = {"workers", "js", "pyodide", "asgi", "_cloudflare", "cloudflare"}
NO_GLOBAL_HANDLERS_FROM = "2025-08-14"
WSGI_FROM = "2026-09-02"


def _pyodide(date: str) -> dict[str, Any]:
    from ..rules.classes.native import pyodide_for_date
    return pyodide_for_date(date)


def _python_version(date: str) -> tuple[int, int]:
    from ..rules import load_kb
    for r in load_kb("pyodide/index.json")["ranges"]:
        if (r["from"] is None or date >= r["from"]) and (r["before"] is None or date < r["before"]):
            major, minor = r["python"].split(".")[:2]
            return int(major), int(minor)
    return 3, 13


def _stdlib_missing() -> set[str]:
    """Standard-library modules Python Workers lack (the knowledge the rule on missing stdlib modules uses)."""
    from ..rules.classes.runtime import PY_MISSING
    return set(PY_MISSING)


def _declared(root: Path) -> set[str]:
    from .manifests import scan_manifests
    try:
        rels = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name in (
            "pyproject.toml", "requirements.txt", "Pipfile", "setup.cfg")]
        return {d.name for d in scan_manifests(root, rels).dependencies if d.ecosystem == "pypi"}
    except Exception:   # a manifest that cannot be read is reported by scan, not here
        return set()


def _module_file(root: Path, entry_dir: Path, name: str) -> Path | None:
    parts = name.split(".")
    for base in (entry_dir, root / "src", root):
        p = base.joinpath(*parts)
        if p.with_suffix(".py").is_file():
            return p.with_suffix(".py")
        if (p / "__init__.py").is_file():
            return p / "__init__.py"
    return None


def verify_python(root: Path, entry: Path, res: Any) -> Any:
    from ..rules.classes.native import pep503
    res.language = "python"
    date = res.date
    pyo = _pyodide(date)
    pkgs = set(pyo.get("packages", {}))
    version = _python_version(date)
    missing_std = _stdlib_missing()
    declared = {pep503(n) for n in _declared(root)}
    import_names = _import_names()
    checks: list[dict[str, Any]] = []
    problems: list[str] = []

    def check(ok: bool, what: str, detail: str = "") -> None:
        checks.append({"ok": ok, "check": what, "detail": detail})
        if not ok:
            problems.append(f"{what}: {detail}" if detail else what)

    stdlib = set(getattr(sys, "stdlib_module_names", ()))
    seen: set[Path] = set()
    queue = [entry]
    entry_tree = None
    while queue:
        f = queue.pop()
        if f in seen:
            continue
        seen.add(f)
        rel = f.relative_to(root).as_posix()
        try:
            tree = ast.parse(f.read_text(encoding="utf-8"), filename=rel, feature_version=version)
        except SyntaxError as e:
            check(False, f"{rel} parses as Python {version[0]}.{version[1]}", f"line {e.lineno}: {e.msg}")
            continue
        if f == entry:
            entry_tree = tree
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = f.parent
                    for _ in range(node.level - 1):
                        base = base.parent
                    target = base.joinpath(*(node.module or "").split(".")) if node.module else base
                    for cand in (target.with_suffix(".py"), target / "__init__.py"):
                        if cand.is_file():
                            queue.append(cand)
                    continue
                names = [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                local = _module_file(root, entry.parent, name)
                if local is not None:
                    queue.append(local)
                    continue
                if top in RUNTIME_MODULES:
                    continue
                if top in missing_std:
                    check(False, f"{rel}:{node.lineno} imports {name}", "not in the Python Workers standard library")
                    continue
                if top in stdlib:
                    continue
                dist = pep503(import_names.get(top, top))
                if dist in pkgs or top.lower() in pkgs:
                    continue
                if dist in declared or top.lower().replace("_", "-") in declared:
                    continue
                check(False, f"{rel}:{node.lineno} imports {name}",
                      f"neither a project module, nor in Pyodide {pyo.get('pyodide_version')}, nor a declared dependency")
    if entry_tree is not None:
        top_names = {t.id for n in entry_tree.body if isinstance(n, ast.Assign) for t in n.targets
                     if isinstance(t, ast.Name)}
        top_names |= {n.name for n in entry_tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef,
                                                                            ast.AsyncFunctionDef))}
        has_default = "Default" in top_names
        check(has_default or (date < NO_GLOBAL_HANDLERS_FROM and "on_fetch" in top_names),
              "the entry exports a handler the runtime calls",
              "define `Default` (a WorkerEntrypoint subclass, or wsgi.entrypoint(app) / asgi.entrypoint(app))"
              + (f"; module-level on_fetch is not called from compatibility date {NO_GLOBAL_HANDLERS_FROM}"
                 if "on_fetch" in top_names else ""))
        uses_wsgi = any(isinstance(n, ast.ImportFrom) and n.module == "workers" and
                        any(a.name == "wsgi" for a in n.names) for n in ast.walk(entry_tree))
        if uses_wsgi:
            check(date >= WSGI_FROM, "workers.wsgi is available at this compatibility date",
                  f"the SDK serves WSGI apps from {WSGI_FROM} (workers-runtime-sdk 1.6.0); this project is at {date}")
        for n in entry_tree.body:
            if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call):
                fn = ast.unparse(n.value.func)
                if fn.endswith((".run", "uvicorn.run", "serve_forever", "run_app")):
                    check(False, f"{entry.relative_to(root).as_posix()}:{n.lineno} starts a server at import",
                          f"`{fn}()` runs when the module loads")
    res.checks = checks
    res.node_compat = None
    if problems:
        res.stage, res.error = "startup-failed", "; ".join(problems[:8])
    else:
        res.stage, res.handler = "started", "Default"
        res.error = None
    return res


def _import_names() -> dict[str, str]:
    """import name -> distribution name, from the knowledge base (python_import_names.yaml)."""
    from ..rules import load_kb
    data = load_kb("python_import_names.yaml") or {}
    out: dict[str, str] = {}
    entries = data.get("names") or data.get("imports") or data
    if isinstance(entries, dict):
        for k, v in entries.items():
            if isinstance(v, str):
                out[k] = v
    return out


def render_python(res: Any) -> str:
    lines = [f"Python Worker, compatibility date {res.date}, flags {res.flags or 'none'}; entry {res.entry}; "
             "checked the way the runtime loads it (workerd cannot start Python Workers offline: the Pyodide bundle "
             "is downloaded at start)"]
    for c in res.checks:
        lines.append(f"  {'ok  ' if c['ok'] else 'FAIL'} {c['check']}" + (f": {c['detail']}" if not c["ok"] and c["detail"] else ""))
    lines.append("loads (handler: Default)" if res.stage == "started" else f"would not load: {res.error}")
    if res.blockers:
        lines.append(f"static blockers ({len(res.blockers)}):")
        lines += [f"  {b['where']}  {b['rule']}: {b['message'][:160]}" for b in res.blockers[:40]]
    return "\n".join(lines) + "\n"
