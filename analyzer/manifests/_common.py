"""Shared helpers for the manifest readers: safe file reading, parsers that report lines, name rules.

Nothing here imports, runs or installs anything from the scanned repository: files are read as text
and parsed as data (JSON, TOML, YAML, INI, Python syntax trees).
"""
from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

try:  # Python 3.11+
    import tomllib as _toml
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as _toml  # type: ignore[no-redef]

import yaml

from .. import inputs
from ..model import Dependency, ScanError  # noqa: F401  (re-exported for the readers)
from ._model import EntryPoint, LockEvidence, Note

MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 400  # nesting limit for YAML conversion


class ReadError(Exception):
    """A file could not be read as text; the message is ready for a ScanError."""


@dataclass
class Parsed:
    """What one reader produced from one file (plus files it included, e.g. requirements `-r`)."""
    path: str
    kind: str
    dependencies: list[Dependency] = field(default_factory=list)
    locked: list[LockEvidence] = field(default_factory=list)
    entry_points: list[EntryPoint] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    name: str | None = None
    workspaces: list[str] = field(default_factory=list)
    extra_files: list[str] = field(default_factory=list)   # other files read through this one
    built_dependencies: list[str] = field(default_factory=list)  # pnpm onlyBuiltDependencies

    def error(self, message: str, path: str | None = None) -> None:
        self.errors.append(ScanError(path or self.path, message))

    def note(self, line: int, message: str, path: str | None = None) -> None:
        self.notes.append(Note(path or self.path, line, message))


# --------------------------------------------------------------------------------------------- reading

def _describe_size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


_READ_MESSAGES = {
    "absent": "file not found",
    "outside": "symbolic link points outside the scanned repository; not read",
    "broken": "broken symbolic link (No such file or directory); not read",
    "loop": "symbolic link loop; not read",
    "dir": "is a directory, not a file",
    "special": "not a regular file; not read",
}


def read_text(root: Path, rel: str, max_bytes: int = MAX_BYTES) -> str:
    """Read a repository file as text, refusing anything that is not a plain, reasonable text file.

    Raises ReadError with a human message (the caller wraps it in a ScanError naming the file).
    Symbolic links are followed only when they stay inside the repository (inputs.py reads it).
    """
    if rel.startswith("/") or ".." in rel.split("/"):
        raise ReadError("path leaves the scanned repository; not read")
    try:
        data = inputs.read_bytes(root, rel, limit=max_bytes)
    except inputs.InputError as exc:
        if exc.kind == "too-large":
            raise ReadError(f"file too large ({_describe_size(exc.size)} > {_describe_size(max_bytes)} limit); "
                            "skipped") from None
        if exc.kind == "error":
            raise ReadError(f"cannot read: {exc.detail}") from None
        raise ReadError(_READ_MESSAGES.get(exc.kind, exc.message)) from None
    return decode_text(data)


def decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        enc = "utf-8"
    elif data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        enc = "utf-16"
    else:
        enc = "utf-8"
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start:exc.start + 1].hex()
        raise ReadError(f"not UTF-8 text (invalid byte 0x{bad} at line {line}); binary file?") from None
    nul = text.find("\x00")
    if nul >= 0:
        raise ReadError(f"binary content (NUL byte at line {text.count(chr(10), 0, nul) + 1}); not read")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


# ------------------------------------------------------------------------------------------------ names

_PEP503 = re.compile(r"[-_.]+")


def normalize_pypi(name: str) -> str:
    return _PEP503.sub("-", name).lower().strip("-")


_DEV_WORDS = frozenset({
    "dev", "devel", "develop", "development", "test", "tests", "testing", "lint", "linting", "linter",
    "linters", "docs", "doc", "documentation", "typing", "types", "mypy", "style", "check", "checks", "qa",
    "ci", "bench", "benchmark", "benchmarks", "coverage", "cov", "format", "formatting", "fmt", "pytest",
    "tox", "nox", "debug", "local", "e2e", "unittest", "unittests", "precommit", "pre-commit", "notebook",
})


def is_dev_name(name: str) -> bool:
    """True if a group/file name says development-only (dev, test, lint, docs, typing...)."""
    words = [w for w in re.split(r"[-_.\s/]+", name.lower()) if w]
    return any(w in _DEV_WORDS for w in words)


def join_rel(base: str, rel: str) -> str | None:
    """Join a path written in a manifest (relative to `base`, a repo-relative dir) -> repo-relative path.

    Returns None when the result would leave the repository or the input is not a usable path.
    """
    rel = rel.strip()
    if not rel or "\x00" in rel:
        return None
    if rel.startswith("file:"):
        rel = rel[5:]
    if rel.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", rel):
        return None
    rel = rel.replace("\\", "/")
    joined = posixpath.normpath(posixpath.join(base, rel)) if base else posixpath.normpath(rel)
    if joined == ".":
        return ""
    if joined.startswith("../") or joined == "..":
        return None
    return joined


def dirname(rel: str) -> str:
    d = posixpath.dirname(rel)
    return d


# ------------------------------------------------------------------------------------------------- JSON

def load_json(text: str, rel: str) -> tuple[Any, ScanError | None]:
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        line, hint = exc.lineno, ""
        stripped = text.rstrip()
        if exc.pos >= len(stripped):   # truncated: name the last line that has content
            line, hint = stripped.count("\n") + 1, " (the file ends early: truncated?)"
        return None, ScanError(rel, f"invalid JSON at line {line}: {exc.msg}{hint}")
    except RecursionError:
        return None, ScanError(rel, "invalid JSON: nested too deeply to read")
    except ValueError as exc:  # pragma: no cover - e.g. huge int strings
        return None, ScanError(rel, f"invalid JSON: {exc}")


# strings as an unrolled loop: `"(?:[^"\\]|\\.)*"` keeps a backtracking frame per character (a 19 MB string: 2.8 GB)
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def json_key_lines(text: str, want: Callable[[tuple], bool] | None = None) -> dict[tuple, int]:
    """Line (1-based) of every object key, by path of keys (array items are int indexes).

    Only for text that json.loads already accepted. Duplicate keys: the last one wins, as with json.loads.
    Iterative, so deep nesting does not overflow the stack.
    """
    result: dict[tuple, int] = {}
    kinds: list[str] = []      # 'o' or 'a' per open container
    path: list[Any] = []       # current key / index per open container
    expect_key: list[bool] = []
    line = 1
    last = 0
    for m in _JSON_TOKEN.finditer(text):
        tok = m.group()
        c = tok[0]
        if c == '"':
            if kinds and kinds[-1] == "o" and expect_key[-1]:
                key = tok[1:-1] if "\\" not in tok else json.loads(tok)
                path[-1] = key
                expect_key[-1] = False
                full = tuple(path)
                if want is None or want(full):
                    start = m.start()
                    line += text.count("\n", last, start)
                    last = start
                    result[full] = line
            continue
        if c == "{":
            kinds.append("o")
            path.append(None)
            expect_key.append(True)
        elif c == "[":
            kinds.append("a")
            path.append(0)
            expect_key.append(False)
        elif c in "}]":
            if kinds:
                kinds.pop()
                path.pop()
                expect_key.pop()
        elif c == ",":
            if kinds:
                if kinds[-1] == "o":
                    expect_key[-1] = True
                else:
                    path[-1] += 1
    return result


# ------------------------------------------------------------------------------------------------- TOML

_TOML_POS = re.compile(r"(?<!\s)\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"(?<!\s)\s*\(at end of document\)\s*$")


def load_toml(text: str, rel: str) -> tuple[dict | None, ScanError | None]:
    try:
        return _toml.loads(text), None
    except _toml.TOMLDecodeError as exc:
        msg = str(getattr(exc, "msg", None) or exc)
        line = getattr(exc, "lineno", None)
        m = _TOML_POS.search(msg)
        if m:
            line = line or int(m.group(1))
            msg = msg[:m.start()]
        elif _TOML_END.search(msg):
            msg = msg[:_TOML_END.search(msg).start()] + " (unexpected end of file)"
            line = line or (text.count("\n") + (0 if text.endswith("\n") else 1))
        where = f" at line {line}" if line else ""
        return None, ScanError(rel, f"invalid TOML{where}: {msg}")
    except RecursionError:
        return None, ScanError(rel, "invalid TOML: nested too deeply to read")
    except ValueError as exc:  # pragma: no cover
        return None, ScanError(rel, f"invalid TOML: {exc}")


_BARE = re.compile(r"[A-Za-z0-9_-]+")


def split_dotted(s: str) -> tuple[str, ...] | None:
    """Split a TOML dotted key ('tool.poetry."group".x') into parts; None if it is not a key."""
    parts: list[str] = []
    i, n = 0, len(s)
    while True:
        while i < n and s[i] in " \t":
            i += 1
        if i >= n:
            return None
        if s[i] == '"':
            j = i + 1
            buf = []
            while j < n and s[j] != '"':
                if s[j] == "\\" and j + 1 < n:
                    buf.append(s[j + 1])
                    j += 2
                    continue
                buf.append(s[j])
                j += 1
            if j >= n:
                return None
            parts.append("".join(buf))
            i = j + 1
        elif s[i] == "'":
            j = s.find("'", i + 1)
            if j < 0:
                return None
            parts.append(s[i + 1:j])
            i = j + 1
        else:
            m = _BARE.match(s, i)
            if not m:
                return None
            parts.append(m.group())
            i = m.end()
        while i < n and s[i] in " \t":
            i += 1
        if i >= n:
            return tuple(parts)
        if s[i] != ".":
            return None
        i += 1


_WS_RUN = re.compile(r"\s+")
_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*(\]\]?)\s*(?:#.*)?$")


class TomlIndex:
    """Where tables start and end in TOML text, to give 1-based lines for keys and values."""

    def __init__(self, text: str):
        self.lines = text.split("\n")
        self.headers: list[tuple[int, tuple[str, ...], bool]] = []  # (0-based line, path, is_array)
        in_ml: str | None = None
        for i, raw in enumerate(self.lines):
            if in_ml:
                if raw.count(in_ml) % 2 == 1:
                    in_ml = None
                continue
            for q in ('"""', "'''"):
                if raw.count(q) % 2 == 1:
                    in_ml = q
                    break
            if in_ml:
                continue
            m = _HEADER.match(raw if len(raw) <= 512 else _WS_RUN.sub(" ", raw))   # long lines: linear
            if not m:
                continue
            is_array = m.group(1) == "[[" and m.group(3) == "]]"
            if (m.group(1) == "[[") != (m.group(3) == "]]"):
                continue
            parts = split_dotted(m.group(2))
            if parts is None:
                continue
            self.headers.append((i, parts, is_array))

    def _end_of(self, idx: int) -> int:
        return self.headers[idx + 1][0] if idx + 1 < len(self.headers) else len(self.lines)

    def spans(self, table: tuple[str, ...]) -> list[tuple[int, int]]:
        """0-based [start, end) line spans of the table's body (root table: before the first header)."""
        if not table:
            return [(0, self.headers[0][0] if self.headers else len(self.lines))]
        return [(h[0] + 1, self._end_of(k)) for k, h in enumerate(self.headers) if h[1] == table]

    def array_spans(self, table: tuple[str, ...]) -> list[tuple[int, int]]:
        """Spans of each [[table]] element, extended over its sub-tables ([table.sub])."""
        out = []
        n = len(table)
        for k, (line, path, is_array) in enumerate(self.headers):
            if is_array and path == table:
                end = len(self.lines)
                for k2 in range(k + 1, len(self.headers)):
                    p2 = self.headers[k2][1]
                    if not (len(p2) > n and p2[:n] == table):
                        end = self.headers[k2][0]
                        break
                out.append((line, end))
        return out

    def header_line(self, table: tuple[str, ...]) -> int | None:
        for line, path, _ in self.headers:
            if path == table:
                return line + 1
        return None

    def key_line(self, span: tuple[int, int], key: str) -> int | None:
        """0-based line of `key = ...` (bare, quoted or first part of a dotted key) inside span."""
        pat = re.compile(r'^\s*(?:' + re.escape(key) + r'|"' + re.escape(key) + r'"|\'' + re.escape(key)
                         + r'\')\s*[=.]')
        for i in range(span[0], min(span[1], len(self.lines))):
            if pat.match(self.lines[i]):
                return i
        return None

    def value_line(self, start: int, end: int, raw: str, used: set | None = None) -> int | None:
        """0-based first line in [start, end) that holds the string literal `raw` (quoted), skipping lines
        already given to the same string (`used` holds (line, raw) pairs: duplicates get their own line)."""
        needles = ['"' + raw + '"', "'" + raw + "'", '"' + raw.replace('"', '\\"') + '"']
        for i in range(start, min(end, len(self.lines))):
            if used is not None and (i, raw) in used:
                continue
            line = self.lines[i]
            if any(nd in line for nd in needles):
                return i
        return None

    def locate(self, path: tuple[str, ...], raw: str | None = None, used: set | None = None) -> int:
        """1-based line for the value at `path` (keys) — or for the string `raw` inside the array there.

        Tries the longest table header that is a prefix of `path`, then looks up the remaining keys as
        `key =` lines, then (if raw is given) the quoted string after that. Falls back to shorter prefixes,
        then to a search of the whole file, then to 1.
        """
        for k in range(len(path), -1, -1):
            table, rest = path[:k], path[k:]
            for span in self.spans(table):
                start, end = span
                found_key = start - 1 if table else -1
                ok = True
                if rest:
                    kl = self.key_line(span, rest[0])
                    if kl is None:
                        ok = False
                    else:
                        found_key = kl
                        # a later key in the same (inline) table
                        for sub in rest[1:]:
                            nxt = self.key_line((found_key, end), sub)
                            if nxt is None:
                                pat = re.compile(r'(?:^|[{,\s])(?:' + re.escape(sub) + r'|"' + re.escape(sub)
                                                 + r'")\s*=')
                                hit = next((i for i in range(found_key, min(end, len(self.lines)))
                                            if pat.search(self.lines[i])), None)
                                if hit is None:
                                    break
                                found_key = hit
                            else:
                                found_key = nxt
                if not ok:
                    continue
                if raw is None:
                    if found_key >= 0:
                        return found_key + 1
                    continue
                hit = self.value_line(max(found_key, 0), end, raw, used)
                if hit is not None:
                    if used is not None:
                        used.add((hit, raw))
                    return hit + 1
        if raw is not None:
            hit = self.value_line(0, len(self.lines), raw, used)
            if hit is not None:
                if used is not None:
                    used.add((hit, raw))
                return hit + 1
        return 1


# ------------------------------------------------------------------------------------------------- YAML

_YAML_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_YAML_BASE):  # type: ignore[misc, valid-type]
    """Safe loader that keeps every scalar a string except true/false/null (versions stay '1.10')."""


_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool",
                              re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                              ["~", "n", "N", ""])
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _scalar(node: yaml.ScalarNode) -> Any:
    tag = node.tag
    v = node.value
    if tag == "tag:yaml.org,2002:bool":
        return v.lower() == "true"
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:int":
        try:
            return int(v.replace("_", ""), 0)
        except ValueError:
            return v
    if tag == "tag:yaml.org,2002:float":
        try:
            return float(v)
        except ValueError:
            return v
    return v


def load_yaml(text: str, rel: str, line_depth: int = 3) -> tuple[Any, dict[tuple, int], ScanError | None]:
    """Parse one YAML document safely (no Python object tags; aliases are shared, never expanded).

    Returns (data, lines, error). Scalars stay strings except true/false/null (and explicitly tagged
    numbers), so versions such as 1.10 are not turned into floats. `lines` maps a path (mapping keys as
    their text, sequence items as int) to the 1-based line of the key (mapping entries) or of the item
    (sequence items), for paths up to `line_depth` long.
    """
    lines: dict[tuple, int] = {}
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "syntax error"
        return None, lines, ScanError(rel, f"invalid YAML{where}: {problem}")
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "error"
        return None, lines, ScanError(rel, f"invalid YAML: {first}")
    except RecursionError:
        return None, lines, ScanError(rel, "invalid YAML: nested too deeply to read")
    except (ValueError, TypeError) as exc:
        return None, lines, ScanError(rel, f"invalid YAML: {exc}")
    if node is None:
        return None, lines, None
    # One iterative pass: build Python values and record lines. Each node is converted once (aliases
    # share the converted object), so an alias "bomb" costs nothing.
    done: dict[int, Any] = {}

    def shell(n: yaml.Node) -> Any:
        if isinstance(n, yaml.ScalarNode):
            return _scalar(n)
        return {} if isinstance(n, yaml.MappingNode) else []

    root = shell(node)
    done[id(node)] = root
    stack: list[tuple[yaml.Node, Any, tuple | None]] = [(node, root, ())]
    while stack:
        n, obj, path = stack.pop()
        record = path is not None and len(path) < line_depth
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                if isinstance(k, yaml.ScalarNode):
                    key = _scalar(k)
                    if isinstance(key, bool) or key is None:
                        key = k.value
                else:
                    continue  # complex keys are not used by any manifest format
                p = (path + (k.value,)) if record else None
                if p is not None:
                    lines.setdefault(p, k.start_mark.line + 1)
                if id(v) in done:
                    obj[key] = done[id(v)]
                    continue
                child = shell(v)
                done[id(v)] = child
                obj[key] = child
                if not isinstance(v, yaml.ScalarNode):
                    stack.append((v, child, p))
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                p = (path + (i,)) if record else None
                if p is not None:
                    lines.setdefault(p, v.start_mark.line + 1)
                if id(v) in done:
                    obj.append(done[id(v)])
                    continue
                child = shell(v)
                done[id(v)] = child
                obj.append(child)
                if not isinstance(v, yaml.ScalarNode):
                    stack.append((v, child, p))
    return root, lines, None


# ------------------------------------------------------------------------------------------------ wheels

_WHEEL = re.compile(r"^(?P<name>.+?)-(?P<ver>[^-]+)(?:-(?P<build>\d[^-]*))?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$")


def wheel_tags(filename: str) -> tuple[str, str, str] | None:
    base = filename.rsplit("/", 1)[-1].split("#", 1)[0].split("?", 1)[0]
    m = _WHEEL.match(base)
    if not m:
        return None
    return m.group("py"), m.group("abi"), m.group("plat")


def wheel_verdict(filenames: Iterable[str], lockfile: str) -> tuple[bool | None, str | None]:
    """native True: only platform wheels; False: a pure (…-none-any) wheel exists; None: no wheels."""
    pure: list[str] = []
    plat: list[str] = []
    for f in filenames:
        t = wheel_tags(f)
        if t is None:
            continue
        tag = "-".join(t)
        if t[2] == "any":
            pure.append(tag)
        else:
            plat.append(tag)
    base = lockfile.rsplit("/", 1)[-1]
    if pure:
        return False, f"pure-Python wheel ({sorted(set(pure))[0]}) in {base}"
    if plat:
        tags = sorted(set(plat))
        shown = ", ".join(tags[:2]) + (f", … {len(tags)} platform wheels" if len(tags) > 2 else "")
        return True, f"only platform wheels ({shown}) in {base}, no pure-Python wheel"
    return None, None


# ------------------------------------------------------------------------------------------ requirement

def split_requirement(text: str) -> tuple[str, str]:
    """('Name', rest-as-written) for a PEP 508 string, without validating it."""
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", text)
    if not m:
        return "", text.strip()
    rest = text[m.end():].strip()
    rest = re.sub(r"\s+", " ", rest)
    return m.group(1), rest


def parse_pep508(text: str):
    """packaging Requirement or raise ValueError with a readable message."""
    from packaging.requirements import InvalidRequirement, Requirement
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid requirement"
        raise ValueError(first) from None


def read_yaml_mapping(root: Path, rel: str, res: Parsed, what: str, line_depth: int):
    """A YAML manifest whose top level must be a mapping: (data, lines), or None after recording why in `res`
    (unreadable, invalid YAML, not a mapping) or when the file is empty. `what` names the file in the message."""
    try:
        text = read_text(root, rel)
    except ReadError as exc:
        res.error(str(exc))
        return None
    data, lines, err = load_yaml(text, rel, line_depth=line_depth)
    if err:
        res.errors.append(err)
        return None
    if data is None:
        return None
    if not isinstance(data, dict):
        res.error(f"invalid {what}: expected a mapping at the top level")
        return None
    return data, lines


def read_package_tables(root: Path, rel: str, res: Parsed):
    """The `[[package]]` tables of a TOML lockfile (poetry.lock, uv.lock), or None after recording why in `res`
    (unreadable, invalid TOML, `package` not an array) or when there are none.
    Returns (data, packages, lines): lines[i] is the 1-based line of package i's `name` (else of its table
    header, else 1), for the findings that point at it."""
    try:
        text = read_text(root, rel)
    except ReadError as exc:
        res.error(str(exc))
        return None
    data, err = load_toml(text, rel)
    if err:
        res.errors.append(err)
        return None
    packages = data.get("package")
    if packages is None:
        return None
    if not isinstance(packages, list):
        res.error(f"invalid {res.kind}: 'package' is not an array of tables")
        return None
    idx = TomlIndex(text)
    spans = idx.array_spans(("package",))
    lines = []
    for i in range(len(packages)):
        kl = idx.key_line(spans[i], "name") if i < len(spans) else None
        lines.append(kl + 1 if kl is not None else spans[i][0] + 1 if i < len(spans) else 1)
    return data, packages, lines
