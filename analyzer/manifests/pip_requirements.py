"""requirements*.txt / *.in and constraints*.txt (pip's file format, read as text — never given to pip).

Supports `-r`/`-c` includes (relative to the including file, cycle-safe, never outside the repository),
PEP 508 markers and extras, `name @ url`, VCS/URL lines with `#egg=`, `-e`, per-line `--hash` options,
backslash continuations, comments, and pip-compile / `uv pip compile` `# via` annotations (a compiled
file's transitive pins become lock evidence, not direct dependencies).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import inputs
from ._common import (Dependency, Parsed, ReadError, ScanError, dirname, is_dev_name, join_rel, normalize_pypi,
                      parse_pep508, read_text, split_requirement)
from ._model import LockEvidence, Note

_COMMENT = re.compile(r"(^|(?<!\s)\s+)#.*$")   # (?<!\s): tried at the start of a run of spaces only (linear)
_INCLUDE = re.compile(r"^(?:(-r|-c)\s*|--(requirement|constraint)(?:\s*=\s*|\s+))(\S.*)$")
_EDITABLE = re.compile(r"^(?:-e\s*|--editable(?:\s*=\s*|\s+))(\S.*)$")
_LINE_OPTS = re.compile(r"(?<!\s)\s+--(?:hash|global-option|install-option|config-settings|config-setting)(?:=|\s+)\S+")
_URLISH = re.compile(r"^(?:(?:git|hg|svn|bzr)\+|[A-Za-z][A-Za-z0-9+.-]*://)")
_NAME_AT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\]\s*)?@")
_VIA_START = re.compile(r"^\s*#\s+via\b\s*(.*)$")
_VIA_ITEM = re.compile(r"^\s*#\s{2,}(\S.*)$")
_SDIST = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._]*?)-(?P<ver>\d[^-]*?)(?:\.tar\.gz|\.zip|\.tar\.bz2|\.tgz)$")


def is_requirements_name(rel: str) -> bool:
    parts = rel.split("/")
    base = parts[-1].lower()
    if not base.endswith((".txt", ".in")):
        return False
    if "requirements" in base or base.startswith("constraints"):
        return True
    return len(parts) >= 2 and parts[-2].lower() in ("requirements", "reqs", "requirements.d")


# Prose that happens to be named like a pip file (Django's reST docs have `docs/ref/models/constraints.txt`):
# reST directives, targets and roles, section underlines, markdown fences and headings.
_PROSE_LINE = re.compile(r"^(?:\.\. [A-Za-z][\w:-]*::|\.\. _[^:]+:|\.\. \|[^|]+\||([=\-~^*+#\"'`])\1{2,}\s*$|```"
                         r"|#{1,6} [A-Z]|\s*[-*] \[[ xX]\] )|:(?:ref|doc|class|meth|func|attr|mod|setting|ticket):`"
                         r"|::\s*$")


def looks_like_pip_file(text: str) -> bool:
    """Is this text pip's requirements format, judged by content? False for prose (reST, markdown) and for
    text most of whose lines are not requirements: such a file is not read as a manifest even when its name
    (`constraints.txt`, `*requirements*.txt`) says pip. A file a pip file includes with -r/-c is always read."""
    meaningful = bad = prose = 0
    for _line_no, content, _comment in _logical_lines(text):
        if not content:
            continue
        meaningful += 1
        if _PROSE_LINE.search(content):
            prose += 1
            bad += 1
            continue
        if content.startswith("-") or _URLISH.match(content) or _NAME_AT.match(content) or \
                content.startswith((".", "/", "~")):
            continue
        try:
            parse_pep508(_LINE_OPTS.sub("", " " + content).strip())
        except ValueError:
            bad += 1
    if not meaningful:
        return True
    if prose >= 2 or (prose and bad * 2 > meaningful):
        return False
    return not (bad >= 3 and bad * 2 > meaningful)


def is_constraints_name(rel: str) -> bool:
    return rel.rsplit("/", 1)[-1].lower().startswith("constraints")


_DEV_DIRS = {"docs", "doc", "tests", "test", "testing", "ci", ".github", ".circleci", "benchmarks", "bench",
             ".devcontainer", "e2e"}


def file_is_dev(rel: str) -> bool:
    """requirements-dev.txt, dev-requirements.txt, requirements/test.txt, docs/requirements.txt ... -> True."""
    parts = rel.split("/")
    base = parts[-1].rsplit(".", 1)[0]
    if is_dev_name(base.replace("requirements", " ").replace("constraints", " ")):
        return True
    if len(parts) >= 2 and parts[-2].lower() in ("requirements", "reqs", "requirements.d"):
        parts = parts[:-1]
    return any(p.lower() in _DEV_DIRS for p in parts[:-1])


@dataclass
class _Entry:
    name: str
    version: str
    pin: str
    line: int
    via: list[str] | None = None
    direct_marker: bool = False


@dataclass
class _File:
    rel: str
    entries: list[_Entry] = field(default_factory=list)
    includes: list[tuple[str, bool]] = field(default_factory=list)   # (rel, is_constraint)
    errors: list[ScanError] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    compiled: bool = False
    readable: bool = True
    prose: bool = False         # named like a pip file, but its content is not one (looks_like_pip_file)


def _logical_lines(text: str) -> list[tuple[int, str, str]]:
    """(first line, content without comment, comment text) with backslash continuations joined."""
    out: list[tuple[int, str, str]] = []
    buf: list[str] = []
    start = 1
    for i, raw in enumerate(text.split("\n"), 1):
        if not buf:
            start = i
        line = raw.rstrip()
        if line.endswith("\\") and not line.lstrip().startswith("#"):
            buf.append(line[:-1])
            continue
        buf.append(line)
        joined = " ".join(b.strip() for b in buf)
        buf = []
        m = _COMMENT.search(joined)
        comment = ""
        if m:
            comment = joined[m.start():].strip()
            joined = joined[:m.start()]
        out.append((start, joined.strip(), comment))
    if buf:
        out.append((start, " ".join(b.strip() for b in buf).strip(), ""))
    return out


def _name_from_url(url: str) -> tuple[str | None, str]:
    frag = url.split("#", 1)[1] if "#" in url else ""
    for part in frag.split("&"):
        if part.startswith("egg="):
            egg = part[4:].strip()
            name = re.split(r"[\[<>=!~;]", egg, maxsplit=1)[0]
            return (name or None), url
    base = url.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    if base.endswith(".whl"):
        return base.split("-", 1)[0], url
    m = _SDIST.match(base)
    if m:
        return m.group("name"), url
    return None, url


class RequirementsReader:
    def __init__(self, root: Path, known: set[str] | frozenset[str]):
        self.root = root
        self.known = known
        self.files: dict[str, _File] = {}
        self.included_by: dict[str, set[str]] = {}
        self.constraint_only: dict[str, bool] = {}

    def read(self, rel: str) -> _File:
        """Read `rel` and, transitively, everything it includes (each file once: cycles are harmless)."""
        todo = [rel]
        while todo:
            cur = todo.pop()
            if cur in self.files:
                continue
            f = self._read_one(cur, sniff=cur not in self.included_by)
            self.files[cur] = f
            for inc, is_c in f.includes:
                self.included_by.setdefault(inc, set()).add(cur)
                prev = self.constraint_only.get(inc, True)
                self.constraint_only[inc] = prev and is_c
                if inc not in self.files:
                    todo.append(inc)
        return self.files[rel]

    def _read_one(self, rel: str, sniff: bool = True) -> _File:
        f = _File(rel)
        try:
            text = read_text(self.root, rel)
        except ReadError as exc:
            f.errors.append(ScanError(rel, str(exc)))
            f.readable = False
            return f
        if sniff and not looks_like_pip_file(text):
            f.prose = True
            return f
        base = dirname(rel)
        last: _Entry | None = None
        in_via = False
        for line_no, content, comment in _logical_lines(text):
            if not content:
                # comment-only line: pip-compile annotations belong to the previous requirement
                if last is not None and comment:
                    m = _VIA_START.match(comment)
                    if m:
                        f.compiled = True
                        in_via = True
                        last.via = last.via or []
                        if m.group(1).strip():
                            self._add_via(last, m.group(1))
                        continue
                    m = _VIA_ITEM.match(comment)
                    if in_via and m:
                        self._add_via(last, m.group(1))
                        continue
                in_via = False
                continue
            in_via = False
            last = None
            m = _INCLUDE.match(content)
            if m:
                is_c = (m.group(1) or "") == "-c" or (m.group(2) or "") == "constraint"
                target = m.group(3).strip().strip("'\"")
                if _URLISH.match(target):
                    f.notes.append(Note(rel, line_no, f"remote {'constraints' if is_c else 'requirements'} file {target} is not fetched"))
                    continue
                inc = join_rel(base, target)
                if inc is None:
                    f.notes.append(Note(rel, line_no, f"included file {target} is outside the repository; not read"))
                    continue
                if not inputs.is_file(self.root, inc) and inc not in self.known:
                    f.errors.append(ScanError(rel, f"included file '{target}' at line {line_no} not found"))
                    continue
                f.includes.append((inc, is_c))
                continue
            editable = False
            m = _EDITABLE.match(content)
            if m:
                content = m.group(1).strip()
                editable = True
            elif content.startswith("-"):
                continue  # global options: --index-url, --find-links, --pre, --no-binary ...
            content = _LINE_OPTS.sub("", " " + content).strip()
            if not content:
                continue
            entry = self._parse_requirement(f, content, line_no, editable)
            if entry is not None:
                # inline annotation: `pkg==1.0  # via a, b`
                m = re.match(r"^#\s*via\s+(.+)$", comment)
                if m:
                    f.compiled = True
                    entry.via = []
                    for item in m.group(1).split(","):
                        self._add_via(entry, item)
                f.entries.append(entry)
                last = entry
        return f

    @staticmethod
    def _add_via(entry: _Entry, item: str) -> None:
        item = item.strip()
        if not item:
            return
        if entry.via is None:
            entry.via = []
        if item.startswith("-") or "(" in item or item.endswith((".in", ".txt", ".toml", ".cfg", ".py")):
            entry.direct_marker = True
            return
        entry.via.append(normalize_pypi(item.split()[0]))

    def _parse_requirement(self, f: _File, content: str, line_no: int, editable: bool) -> _Entry | None:
        rel = f.rel
        named = _NAME_AT.match(content) is not None
        if not named and (_URLISH.match(content) or content.startswith((".", "/", "~"))
                          or content.endswith((".whl", ".tar.gz", ".zip"))):
            if content in (".", "./") or (editable and not _URLISH.match(content)):
                if content not in (".", "./"):
                    f.notes.append(Note(rel, line_no, f"local editable package {content} is not analysed as a dependency"))
                return None
            name, url = _name_from_url(content)
            if not name:
                f.notes.append(Note(rel, line_no, f"cannot tell the package name of {content}"))
                return None
            return _Entry(normalize_pypi(name), url, "", line_no)
        try:
            req = parse_pep508(content)
        except ValueError as exc:
            f.errors.append(ScanError(rel, f"invalid requirement at line {line_no}: {exc}"))
            return None
        _raw_name, rest = split_requirement(content)
        pin = ""
        specs = list(req.specifier)
        if len(specs) == 1 and specs[0].operator in ("==", "==="):
            pin = specs[0].version
        return _Entry(normalize_pypi(req.name), rest, pin, line_no)

    # ------------------------------------------------------------------------------------------ output

    def results(self, roots: list[str]) -> list[Parsed]:
        """One Parsed per file read; dev-ness: by file name, or (for included files with a neutral name)
        inherited when every file including it is dev."""
        dev: dict[str, bool] = {}
        root_set = set(roots)
        for rel in self.files:
            if file_is_dev(rel):
                dev[rel] = True
            elif rel in root_set or is_requirements_name(rel):
                dev[rel] = False
        changed = True
        pending = [r for r in self.files if r not in dev]
        for r in pending:
            dev[r] = True
        while changed:
            changed = False
            for r in pending:
                if dev[r] and any(not dev.get(p, True) for p in self.included_by.get(r, ())):
                    dev[r] = False
                    changed = True
        out = []
        for rel in sorted(self.files):
            f = self.files[rel]
            if f.prose:
                if rel not in self.included_by:
                    continue                # not a pip file: no dependencies, no errors, no project
                f = self.files[rel] = self._read_one(rel, sniff=False)
            is_constraint = (is_constraints_name(rel) or self.constraint_only.get(rel, False)) and not (
                rel in root_set and not is_constraints_name(rel))
            res = Parsed(rel, "constraints" if is_constraint else "requirements")
            res.errors.extend(f.errors)
            res.notes.extend(f.notes)
            seen: set[str] = set()
            for e in f.entries:
                transitive = f.compiled and e.via is not None and not e.direct_marker and bool(e.via)
                if is_constraint or f.compiled:
                    res.locked.append(LockEvidence("pypi", e.name, e.pin or e.version, rel, e.line, None, None,
                                                   sorted(set(e.via or ())), dev[rel]))
                if is_constraint or transitive:
                    continue
                if e.name in seen:
                    continue
                seen.add(e.name)
                res.dependencies.append(Dependency("pypi", e.name, e.version, rel, e.line, dev=dev[rel]))
            out.append(res)
        return out


def read_requirements(root: Path, rels: list[str], known: set[str] | frozenset[str] = frozenset()) -> list[Parsed]:
    reader = RequirementsReader(root, known)
    for rel in sorted(rels):
        reader.read(rel)
    return reader.results(rels)


def parse_requirement_lines(text_lines: list[tuple[int, str]], rel: str, dev: bool) -> tuple[list[Dependency], list[ScanError]]:
    """PEP 508 strings with their lines (setup.cfg, environment.yml pip lists) -> Dependencies."""
    deps: list[Dependency] = []
    errors: list[ScanError] = []
    seen: set[str] = set()
    for line_no, raw in text_lines:
        s = _COMMENT.sub("", raw).strip()
        if not s or s.startswith("-"):
            continue
        if _URLISH.match(s):
            name, url = _name_from_url(s)
            if name and normalize_pypi(name) not in seen:
                seen.add(normalize_pypi(name))
                deps.append(Dependency("pypi", normalize_pypi(name), url, rel, line_no, dev=dev))
            continue
        try:
            req = parse_pep508(s)
        except ValueError as exc:
            errors.append(ScanError(rel, f"invalid requirement at line {line_no}: {exc}"))
            continue
        n = normalize_pypi(req.name)
        if n in seen:
            continue
        seen.add(n)
        deps.append(Dependency("pypi", n, split_requirement(s)[1], rel, line_no, dev=dev))
    return deps, errors


__all__ = ["read_requirements", "is_requirements_name", "is_constraints_name", "file_is_dev", "looks_like_pip_file",
           "parse_requirement_lines"]
