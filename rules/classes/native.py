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


# Packages whose problem another rule reports where the code uses them (database drivers: the connection or the
# file it opens; ML runtimes: the model load): their native code is reported at the import only.
IMPORT_ONLY = frozenset({
    "better-sqlite3", "sqlite3", "@vscode/sqlite3", "duckdb", "@duckdb/node-api", "pg-native", "@libsql/client",
    "libsql", "onnxruntime-node", "@tensorflow/tfjs-node", "@tensorflow/tfjs-node-gpu", "@xenova/transformers",
    "@huggingface/transformers", "node-llama-cpp", "faiss-node", "hnswlib-node",
    "torch", "torchvision", "torchaudio", "tensorflow", "tensorflow-cpu", "keras", "jax", "jaxlib", "onnxruntime",
    "onnxruntime-gpu", "transformers", "sentence-transformers", "tokenizers", "llama-cpp-python", "ctranslate2",
    "faster-whisper", "openai-whisper", "xgboost", "lightgbm", "catboost", "faiss-cpu", "faiss-gpu",
    "psycopg2", "psycopg2-binary", "psycopg", "psycopg-binary", "asyncpg", "mysqlclient", "pymssql", "cx-oracle",
    "oracledb", "duckdb", "playwright", "puppeteer", "selenium",
})
MAX_USE_SITES = 10     # per package and file: the first ones, the rest are the same change


@lru_cache(maxsize=1)
def _native_py_imports() -> tuple[str, ...]:
    """Top-level Python import names whose distribution is a known native package."""
    natives = pypi_natives()
    names = {imp for imp, dist in import_names().items() if pep503(dist) in natives}
    names |= {name.replace("-", "_") for name in natives}
    return tuple(sorted(names))


def native_call_globs() -> tuple[str, ...]:
    """The call names NativeImports reads: any call through a native package's binding."""
    names = set(npm_natives()) | set(_native_py_imports())
    return tuple(sorted({g for n in names for g in (n, n + ".*", n + "/*")}))


def _uses(facts: FileFacts, module: str) -> list:
    """Calls made directly through an import of MODULE (`bcrypt.hash(...)`, `sharp(buf)`, `new Canvas()`,
    `cv2.resize(...)`): the first call of each chain, and the first such call in each function (the place
    that function's code changes), in line order."""
    out = []
    seen_lines: set[int] = set()
    seen_symbols: set[str] = set()
    for c in facts.calls:
        q = c.qname
        if c.kind not in ("call", "new"):
            continue
        if not (q == module or q.startswith(module + ".") or q.startswith(module + "/")):
            continue
        if "(" in q[len(module):]:
            continue          # a method of a value the package returned: the chain's first call is the use
        named = c.symbol and "<anonymous>" not in c.symbol    # anonymous callbacks (route handlers) are each a place
        if c.line in seen_lines or (named and c.symbol in seen_symbols):
            continue
        seen_lines.add(c.line)
        if named:
            seen_symbols.add(c.symbol)
        out.append(c)
    return out


class NativeImports:
    """A package with compiled code, reported where the code uses it (each call through its import, up to
    MAX_USE_SITES per file), or at the import when the file makes no direct call (it passes the module on)."""

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
                reason = entry["reason"].rstrip(".")
                root = imp.module.split(".")[0]
                uses = [] if dist in IMPORT_ONLY else _uses(facts, root)
                if uses:
                    for c in uses[:MAX_USE_SITES]:
                        hits.append(Hit(c.line, c.column, c.end_line, c.snippet, symbol=dist, guard=c.guard or imp.guard,
                                        severity=sev, top_level=c.top_level, extra_docs=tuple(entry.get("docs") or ()),
                                        remediation=_remedy(entry),
                                        message=(f"Calls `{c.qname}` from `{entry['name']}` (imported at line "
                                                 f"{imp.line}), which has compiled C extensions{version_note}: "
                                                 f"{reason}.")))
                    continue
                msg = (f"Imports {imp.module} from `{entry['name']}`, which has compiled C extensions"
                       f"{version_note}: {reason}.")
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
                reason = entry["reason"].rstrip(".")
                uses = [] if pkg in IMPORT_ONLY else _uses(facts, imp.module)
                if uses:
                    for c in uses[:MAX_USE_SITES]:
                        hits.append(Hit(c.line, c.column, c.end_line, c.snippet, symbol=pkg, guard=c.guard or imp.guard,
                                        severity=sev, top_level=c.top_level, extra_docs=tuple(entry.get("docs") or ()),
                                        remediation=_remedy(entry),
                                        message=(f"Calls `{c.qname}` from `{pkg}` (imported at line {imp.line}), a "
                                                 f"package with a compiled native addon: {reason}.")))
                    continue
                msg = f"Imports `{pkg}`, a package with a compiled native addon: {reason}."
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
CALLS: tuple[str, ...] = tuple(sorted(JS_LOADERS)) + PY_LOADERS + ("ctypes.cdll.*",) + native_call_globs()


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
