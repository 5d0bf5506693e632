"""The condition vocabulary of the rule language: what a `where:` / `unless:` entry of a rule pack can say about a
call's arguments (`{arg: 0, is: not-tmp}`, `{kw: mode, is: write-mode}`, `{arg: 0, prop: store, is: absent}`,
`{arg: 0, regex: "..."}`), and the argument tests behind it, which rule classes use too (`is_tmp`,
`is_project_path`, `is_sqlite_file`, `is_in_memory`). Every test reads the argument trees the facts layer built
(`Arg`); none reads source text.
"""
from __future__ import annotations

import fnmatch
import re
from typing import Any

from ..analyzer.parsing.facts import Arg, Call

_TMP_NAME = re.compile(r"(^|[._])(tmp|temp)", re.I)
_TMP_FUNCS = ("os.tmpdir", "tmpdir", "tempfile.gettempdir", "tempfile.mkdtemp", "fs.mkdtempSync",
              "fs/promises.mkdtemp", "fs.mkdtemp", "tempfile.NamedTemporaryFile().name")
_PATH_FUNCS = ("path.join", "path.resolve", "os.path.join", "pathlib.Path", "pathlib.PurePath", "path.posix.join",
               "path.dirname", "os.path.dirname", "os.path.abspath", "os.path.realpath", "URL", "url.URL",
               "os.path.normpath", "path.normalize")
# methods that derive a path from their receiver (Path(...).parent.resolve(), base.joinpath("x"))
_PATH_METHODS = (".resolve", ".absolute", ".parent", ".joinpath", ".with_suffix", ".with_name", ".expanduser",
                 ".parents", ".glob", ".rglob", ".iterdir")
MAX_DEPTH = 48
# calls that pass a path through unchanged: str(p), os.fspath(p), String(p)
_TRANSPARENT = ("str", "os.fspath", "String", "os.path.expanduser", "path.normalize", "os.path.normpath")
# environment lookups with a default: the default is the path used when the variable is unset
_ENV_DEFAULT = ("os.environ.get", "os.getenv", "os.environ.setdefault")


def _passthrough(a: Arg) -> Arg | None:
    q = a.value or ""
    if q in _TRANSPARENT and a.inner:
        return a.inner[0]
    if q.endswith(_ENV_DEFAULT) and len(a.inner) >= 2:
        return a.inner[1]
    return None


def _derived_from(a: Arg) -> Arg | None:
    """For a call or `new` that passes a path through (`str(p)`, an env lookup's default) or builds one from an
    argument (`path.join(base, ...)`) or from its receiver (`base.joinpath(...)`): the value the path comes from."""
    inner = _passthrough(a)
    if inner is not None:
        return inner
    q = a.value or ""
    if q.endswith(_PATH_FUNCS) and a.inner:
        return a.inner[0]
    if q.endswith(_PATH_METHODS) and a.bound is not None:
        return a.bound
    return None


def is_tmp(a: Arg | None, depth: int = 0) -> bool:
    """A path under the system temp folder (literal, os.tmpdir()/tempfile, or a value built from one)."""
    if a is None or depth > MAX_DEPTH:
        return False
    if a.kind in ("string", "template"):
        v = a.value or ""
        if v.startswith(("/tmp", "/var/tmp")):
            return True
        if a.kind == "template" and not v and a.inner:
            return is_tmp(a.inner[0], depth + 1)
        return False
    if a.kind == "either":
        return any(is_tmp(x, depth + 1) for x in a.inner)
    if a.kind in ("call", "new"):
        q = a.value or ""
        if q.endswith(_TMP_FUNCS):
            return True
        src = _derived_from(a)
        return src is not None and is_tmp(src, depth + 1)
    if a.kind in ("identifier", "member"):
        name = (a.value or "").split(".")[-1]
        if a.bound is not None and a.kind == "identifier":
            return is_tmp(a.bound, depth + 1)     # a known value beats what the name suggests
        if a.kind == "member" and (a.value or "").endswith(".name") and a.bound is not None:
            return is_tmp(a.bound, depth + 1)
        return bool(_TMP_NAME.search(name))
    if a.kind == "concat":
        return bool(a.inner) and is_tmp(a.inner[0], depth + 1)
    return False


_PROJECT_ROOTS = ("__dirname", "__filename", "process.cwd()", "__file__", "os.getcwd()", "pathlib.Path.cwd()",
                  "import.meta.dirname", "import.meta.url", "import.meta.filename",
                  "django.conf.settings.BASE_DIR")     # Django's project folder, read through settings


def is_project_path(a: Arg | None, depth: int = 0) -> bool:
    """A path into the project tree: a relative literal, or one built from __dirname / __file__ / cwd."""
    if a is None or depth > MAX_DEPTH:
        return False
    if a.kind in ("string", "template"):
        v = a.value or ""
        if a.kind == "template" and not v:
            return bool(a.inner) and is_project_path(a.inner[0], depth + 1)
        if not v or v.startswith(("/", "http:", "https:", "data:", "file:", "s3:", "gs:", "~", "-")) or "://" in v:
            return False
        if " " in v.strip() or "\n" in v:
            return False  # not a path (a message, a query)
        return v.startswith(("./", "../")) or "/" in v or "." in v
    if a.kind in ("identifier", "member"):
        if (a.value or "") in _PROJECT_ROOTS:
            return True
        return a.bound is not None and is_project_path(a.bound, depth + 1)
    if a.kind == "either":
        return any(is_project_path(x, depth + 1) for x in a.inner)
    if a.kind in ("call", "new"):
        q = a.value or ""
        if q in ("process.cwd", "os.getcwd", "pathlib.Path.cwd", "fileURLToPath", "url.fileURLToPath"):
            return True
        src = _derived_from(a)
        return src is not None and is_project_path(src, depth + 1)
    if a.kind == "concat":
        return bool(a.inner) and is_project_path(a.inner[0], depth + 1)
    return False


_SQLITE_LITERAL = re.compile(r"^(sqlite(\+\w+)?:///(?!:memory:).+|[^:]*\.(db|sqlite|sqlite3|db3)$|[^:]+$)")


def is_sqlite_file(a: Arg | None, depth: int = 0) -> bool:
    """A SQLite database stored in a file: a literal path or sqlite:/// URL (not ':memory:'), or a path built
    from the project tree or a folder; a value known only at run time (settings.DATABASE_URL) is not."""
    if a is None or depth > MAX_DEPTH:
        return False
    if a.kind == "string":
        v = (a.value or "").strip()
        return bool(v) and v != ":memory:" and "mode=memory" not in v and _SQLITE_LITERAL.match(v) is not None
    if a.kind == "template":
        v = a.value or ""
        return v.startswith("sqlite:///") or ("://" not in v and bool(v) and ":memory:" not in v)
    if a.kind in ("call", "new"):
        q = a.value or ""
        inner = _passthrough(a)
        if inner is not None:
            return is_sqlite_file(inner, depth + 1)
        return q.endswith(_PATH_FUNCS) or is_project_path(a, depth + 1)
    if a.kind in ("identifier", "member"):
        return a.bound is not None and is_sqlite_file(a.bound, depth + 1)
    if a.kind in ("concat", "either"):
        return any(is_sqlite_file(x, depth + 1) for x in a.inner[:1] if x.kind in ("string", "template")) or \
            is_project_path(a, depth + 1)
    return False


def is_in_memory(a: Arg | None, depth: int = 0) -> bool:
    """An in-memory file object (io.BytesIO / StringIO, or a name bound to one): never touches disk."""
    if a is None or depth > MAX_DEPTH:
        return False
    if a.kind in ("call", "new"):
        return (a.value or "").endswith(("BytesIO", "StringIO", "SpooledTemporaryFile"))
    if a.kind == "identifier" and a.bound is not None:
        return is_in_memory(a.bound, depth + 1)
    return False


def arg_for(call: Call, cond: dict[str, Any]) -> Arg | None:
    if cond.get("recv"):
        return call.receiver
    kw = cond.get("kw")
    if kw and kw in call.kwargs:
        return call.kwargs[kw]
    idx = cond.get("arg")
    if idx is not None and idx < len(call.args):
        a = call.args[idx]
        if a.kind == "other" and a.text.startswith("..."):
            return None
        return a
    if kw and idx is None and call.args and call.args[0].kind == "object":
        return call.args[0].props.get(kw)
    return None


def applies(call: Call, cond: dict[str, Any]) -> bool:
    """A condition with `for: [patterns]` only concerns calls with those qualified names; one with `not_for`
    concerns every call but those."""
    pats = cond.get("for")
    if pats and not any(fnmatch.fnmatchcase(call.qname, p) for p in pats):
        return False
    skip = cond.get("not_for")
    return not (skip and any(fnmatch.fnmatchcase(call.qname, p) for p in skip))


def holds(call: Call, cond: dict[str, Any]) -> bool:
    a = arg_for(call, cond)
    if "prop" in cond:
        if a is None and cond.get("is") == "absent":
            return True         # no options at all: the property is certainly absent (`session()`)
        if a is None or a.kind != "object":
            return False
        a = a.props.get(cond["prop"])
    test = cond.get("is")
    if test == "present":
        return a is not None
    if test == "absent":
        return a is None
    if test == "tmp":
        return is_tmp(a)
    if test == "not-tmp":
        return a is not None and a.kind not in ("object", "lambda") and not is_tmp(a)
    if test == "project-path":
        return is_project_path(a)
    if test == "literal":
        return a is not None and a.kind == "string"
    if test == "write-mode":
        if a is None or a.kind != "string":
            return False
        return any(ch in (a.value or "") for ch in "wax+")
    if test == "number-gt":
        if a is None or a.kind != "number":
            return False
        try:
            return float(a.value or "0") > float(cond.get("value", 0))
        except ValueError:
            return False
    if test == "sqlite-file":
        return is_sqlite_file(a)
    if test == "in-memory":
        return is_in_memory(a)
    if "name" in cond:
        # the qualified name an identifier, member or call argument resolves to (`autoload` -> @fastify/autoload)
        if a is None or a.kind not in ("identifier", "member", "call", "new") or not a.value:
            return False
        return any(fnmatch.fnmatchcase(a.value, g) for g in cond["name"])
    if "regex" in cond:
        # a regex tests literal text only: never the qualified name of a variable or call
        if a is None or a.value is None or a.kind not in ("string", "template", "number", "bool"):
            return False
        return re.search(cond["regex"], a.value) is not None
    return a is not None
