"""Native-code rules: imports of packages with compiled code, and direct loading of shared libraries."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..kb import load_kb

from ..model import Hit, RuleContext
from ...analyzer.parsing.facts import FileFacts, package_of


def pep503(name: str) -> str:
    import re
    return re.sub(r"[-_.]+", "-", name).lower()


@lru_cache(maxsize=1)
def npm_natives() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for e in load_kb("native_npm.yaml")["packages"]:
        out[e["name"]] = e
        for a in e.get("aliases") or []:
            out.setdefault(a, e)
    return out


@lru_cache(maxsize=1)
def pypi_natives() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for e in load_kb("native_pypi.yaml")["packages"]:
        out[pep503(e["name"])] = e
        for a in e.get("aliases") or []:
            out.setdefault(pep503(a), e)
    return out


@lru_cache(maxsize=1)
def import_names() -> dict[str, str]:
    return dict(load_kb("python_import_names.yaml")["imports"])


def distribution_for_import(module: str) -> str:
    """PyPI distribution that provides a Python import (`cv2` -> `opencv-python`)."""
    names = import_names()
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        if key in names:
            return names[key]
    return pep503(parts[0])


@lru_cache(maxsize=None)
def pyodide_for_date(date: str) -> dict[str, Any]:
    """The Pyodide package list that Python Workers use at a compatibility date."""
    index = load_kb("pyodide/index.json")
    chosen = None
    for r in index["ranges"]:
        lo = r.get("from") or "0000-00-00"
        hi = r.get("before")   # exclusive
        if date >= lo and (hi is None or date < hi):
            chosen = r
    if chosen is None or not chosen.get("data"):
        # No package list for that era (Cloudflare's Pyodide 0.26.0a2 build is not published): approximate it
        # with the oldest list we have, and say so in the version label.
        oldest = next(r for r in index["ranges"] if r.get("data"))
        data = dict(load_kb("pyodide/" + oldest["data"]))
        data["pyodide_version"] = f"{(chosen or {}).get('pyodide')} (package list approximated by {oldest['pyodide']})"
        return data
    return load_kb("pyodide/" + chosen["data"])


def _remedy(entry: dict[str, Any]) -> str:
    r = entry["replacement"].strip().rstrip(".")
    if "container" not in r.lower():
        r += "; or run this part in a Container"
    return r[0].upper() + r[1:] + "."


class NativeImports:
    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits: list[Hit] = []
        if facts.language == "python":
            natives = pypi_natives()
            pyo = pyodide_for_date(ctx.settings.compatibility_date) if ctx.target == "python-workers" else None
            for imp in facts.imports:
                if imp.module.startswith("."):
                    continue
                dist = distribution_for_import(imp.module)
                entry = natives.get(dist)
                if entry is None:
                    continue
                if pyo is not None and dist in pyo.get("packages", {}):
                    continue  # Pyodide ships a WebAssembly build for this compatibility date
                sev = entry.get("severity", "blocker")
                if sev in ("ok", "info") and pyo is None:
                    sev = "blocker" if entry.get("pyodide") is False else sev
                if sev == "ok":
                    continue
                version_note = ""
                if pyo is not None and pyo.get("pyodide_version"):
                    version_note = f" (not in Pyodide {pyo['pyodide_version']}, used at compatibility date " \
                                   f"{ctx.settings.compatibility_date})"
                msg = (f"Imports {imp.module} from `{entry['name']}`, which has compiled C extensions"
                       f"{version_note}: {entry['reason'].rstrip('.')}.")
                hits.append(Hit(imp.line, imp.column, imp.line, imp.snippet, symbol=dist, guard=imp.guard,
                                severity=sev, message=msg, top_level=imp.top_level,
                                extra_docs=tuple(entry.get("docs") or ()),
                                remediation=_remedy(entry)))
        else:
            natives = npm_natives()
            for imp in facts.imports:
                if imp.type_only or imp.module.startswith((".", "/")):
                    continue
                pkg = package_of(imp.module)
                entry = natives.get(pkg)
                if entry is None:
                    continue
                sev = entry.get("severity", "blocker")
                if sev == "ok":
                    continue
                msg = f"Imports `{pkg}`, a package with a compiled native addon: {entry['reason'].rstrip('.')}." 
                hits.append(Hit(imp.line, imp.column, imp.line, imp.snippet, symbol=pkg, guard=imp.guard,
                                severity=sev, message=msg, top_level=imp.top_level,
                                extra_docs=tuple(entry.get("docs") or ()),
                                remediation=_remedy(entry)))
        return hits


JS_LOADERS = {"process.dlopen", "bindings", "node-gyp-build", "node-gyp-build.default", "ffi-napi.Library",
              "ffi-napi.DynamicLibrary", "koffi.load", "node-ffi.Library"}
PY_LOADERS = ("ctypes.CDLL", "ctypes.PyDLL", "ctypes.WinDLL", "ctypes.OleDLL", "ctypes.cdll.LoadLibrary",
              "ctypes.windll.LoadLibrary", "ctypes.pydll.LoadLibrary", "cffi.FFI().dlopen", "ctypes.util.find_library",
              "ctypes.cdll.")
# Globs (fnmatchcase) over the calls NativeBinaryLoad reacts to (NativeImports reads imports only): the exact
# loaders, and `ctypes.cdll.<name>` (the test is a prefix plus conditions, so the glob is the broader prefix).
CALLS: tuple[str, ...] = tuple(sorted(JS_LOADERS)) + PY_LOADERS + ("ctypes.cdll.*",)


class NativeBinaryLoad:
    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits: list[Hit] = []
        if facts.language != "python":
            for imp in facts.imports:
                if imp.module.endswith(".node"):
                    hits.append(Hit(imp.line, imp.column, imp.line, imp.snippet, guard=imp.guard,
                                    message=f"Loads the native addon `{imp.module}` directly; a Worker cannot "
                                            "load .node files (wrangler fails: \"No loader is configured for "
                                            "'.node' files\")."))
            for c in facts.calls:
                if c.qname in JS_LOADERS:
                    hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, guard=c.guard))
        else:
            for c in facts.calls:
                # the loader call itself, not calls on the library it returns (`lib.func()`)
                q = c.qname
                if q in PY_LOADERS or (q.startswith("ctypes.cdll.") and q.count(".") == 2 and "(" not in q):
                    hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, guard=c.guard))
        return hits
