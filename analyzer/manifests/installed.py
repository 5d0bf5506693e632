"""Evidence from installed packages found inside the repository (node_modules/, a virtualenv).

Read only and bounded: at most `max_entries` directory entries are looked at per call, symbolic links are
never followed out of the repository, and no file bigger than 1 MB is read.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path
from typing import Iterable

from .. import inputs
from ..model import ScanError
from ._common import normalize_pypi
from ._model import LockEvidence

MAX_ENTRIES = 200_000
_SMALL = 1024 * 1024
_NATIVE_HELPERS = ("node-gyp-build", "prebuild-install", "node-pre-gyp", "@mapbox/node-pre-gyp", "nan",
                   "node-addon-api", "cmake-js", "node-gyp", "bindings", "@napi-rs/triples", "napi-build-utils")
_EXT_RE = re.compile(r"\.(?:so(?:\.\d+)*|pyd|dylib)$")
_SKIP_DIRS = {".git", "__pycache__"}


class _Budget:
    """How many more folder entries may be looked at, and the files skipped for what they are (`errors`)."""

    def __init__(self, n: int):
        self.left = n
        self.errors: list[ScanError] = []

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


def _scandir(root_s: str, path: str, budget: _Budget, sizes: bool = False) -> list[inputs.Entry]:
    """The entries of a folder inside the root (inputs.scandir: a symlink is followed only inside the root),
    at most as many as the budget has left."""
    rel = _rel(root_s, path)
    try:
        entries = inputs.scandir(root_s, "" if rel == "." else rel, sizes=sizes)
    except inputs.InputError:
        return []
    out = []
    for e in entries:
        if not budget.take():
            break
        if e.name != e.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"):
            continue   # a name that is not UTF-8 is no package name
        out.append(e)
    return out


def _read_small(root_s: str, path: str, b: _Budget) -> str | None:
    """A small file inside the root, not through a symlink (None: absent, linked, too big, unreadable; a FIFO,
    socket or device is also an entry in `b.errors`)."""
    rel = _rel(root_s, path)
    try:
        return inputs.read_bytes(root_s, rel, limit=_SMALL, follow=False).decode("utf-8", "replace")
    except inputs.InputError as exc:
        if exc.kind == "special":
            b.errors.append(ScanError(rel, "not a regular file (FIFO, socket or device); not read"))
        return None


def _kind(root_s: str, path: str, follow: bool = True) -> str:
    rel = _rel(root_s, path)
    return inputs.kind(root_s, "" if rel == "." else rel, follow=follow)


def _rel(root: str, path: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def _is_dir(e: inputs.Entry) -> bool:
    return not e.is_link and e.kind == "dir"


# ------------------------------------------------------------------------------------------ detection

def find_installed_dirs(root: Path, max_depth: int = 4, budget: int = MAX_ENTRIES) -> list[str]:
    """node_modules dirs and virtualenv/site-packages dirs under root (not descending into them)."""
    root_s = inputs.resolve(root)
    out: list[str] = []
    b = _Budget(budget)
    stack = [(root_s, 0)]
    while stack:
        d, depth = stack.pop()
        for e in _scandir(root_s, d, b):
            if not _is_dir(e) or e.name in _SKIP_DIRS:
                continue
            if e.name == "node_modules" or e.name == "site-packages":
                out.append(_rel(root_s, e.path))
                continue
            if _kind(root_s, os.path.join(e.path, "pyvenv.cfg")) == "file":
                out.append(_rel(root_s, e.path))
                continue
            if depth + 1 < max_depth:
                stack.append((e.path, depth + 1))
    return sorted(out)


def _site_packages(root_s: str, d: str, b: _Budget) -> list[str]:
    if os.path.basename(d) == "site-packages":
        return [d]
    out = []
    for libname in ("lib", "lib64", "Lib"):
        lib = os.path.join(d, libname)
        if _kind(root_s, lib, follow=False) == "dir":
            if libname == "Lib":
                sp = os.path.join(lib, "site-packages")
                if _kind(root_s, sp) == "dir":
                    out.append(sp)
                continue
            for e in _scandir(root_s, lib, b):
                if _is_dir(e) and e.name.startswith("python"):
                    sp = os.path.join(e.path, "site-packages")
                    if _kind(root_s, sp, follow=False) == "dir":
                        out.append(sp)
    return out


# ----------------------------------------------------------------------------------------------- npm

def _node_packages(root_s: str, nm: str, b: _Budget) -> list[str]:
    """Package dirs in one node_modules (scoped, and pnpm's .pnpm/<id>/node_modules/<name>); no symlinks."""
    out = []
    for e in _scandir(root_s, nm, b):
        if e.name.startswith(".") and e.name != ".pnpm":
            continue
        if not _is_dir(e):
            continue
        if e.name == ".pnpm":
            for store in _scandir(root_s, e.path, b):
                inner = os.path.join(store.path, "node_modules")
                if _is_dir(store) and _kind(root_s, inner) == "dir":
                    out.extend(_node_packages(root_s, inner, b))
            continue
        if e.name.startswith("@"):
            for s in _scandir(root_s, e.path, b):
                if _is_dir(s):
                    out.append(s.path)
            continue
        out.append(e.path)
    return out


def _node_evidence(pkg: str, root_s: str, b: _Budget) -> tuple[str, str, list[str]]:
    reasons: list[str] = []
    name = os.path.basename(pkg)
    parent = os.path.basename(os.path.dirname(pkg))
    if parent.startswith("@"):
        name = parent + "/" + name
    version = ""
    text = _read_small(root_s, os.path.join(pkg, "package.json"), b)
    data = None
    if text:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
    rel_pkg = _rel(root_s, pkg)
    if isinstance(data, dict):
        if isinstance(data.get("name"), str):
            name = data["name"]
        if isinstance(data.get("version"), str):
            version = data["version"]
        if data.get("gypfile") is True:
            reasons.append(f'"gypfile": true in {rel_pkg}/package.json')
        deps = data.get("dependencies")
        if isinstance(deps, dict):
            helpers = sorted(h for h in _NATIVE_HELPERS if h in deps)
            if helpers:
                reasons.append(f"depends on {', '.join(helpers)} ({rel_pkg}/package.json)")
        scripts = data.get("scripts")
        if isinstance(scripts, dict):
            for hook in ("preinstall", "install", "postinstall"):
                cmd = scripts.get(hook)
                if isinstance(cmd, str) and re.search(r"node-gyp|prebuild-install|node-pre-gyp|cmake-js|napi", cmd):
                    reasons.append(f"{hook} script runs '{cmd[:60]}'")
    if _kind(root_s, os.path.join(pkg, "binding.gyp")) == "file":
        reasons.append(f"binding.gyp in {rel_pkg}")
    if _kind(root_s, os.path.join(pkg, "prebuilds")) == "dir":
        reasons.append(f"prebuilds/ directory in {rel_pkg}")
    # compiled addons (*.node), not descending into nested node_modules (separate packages)
    stack = [(pkg, 0)]
    found_node = None
    while stack and found_node is None:
        d, depth = stack.pop()
        for e in _scandir(root_s, d, b):
            if e.name == "node_modules":
                continue
            if _is_dir(e):
                if depth < 6:
                    stack.append((e.path, depth + 1))
            elif e.name.endswith(".node"):
                found_node = _rel(root_s, e.path)
                break
    if found_node:
        reasons.append(f"compiled addon {found_node}")
    return name, version, reasons


def _npm_native(root_s: str, nm: str, b: _Budget, out: list[LockEvidence]) -> None:
    todo = [nm]
    seen: set[str] = set()
    while todo and b.left > 0:
        cur = todo.pop()
        if cur in seen:
            continue
        seen.add(cur)
        for pkg in _node_packages(root_s, cur, b):
            name, version, reasons = _node_evidence(pkg, root_s, b)
            if reasons:
                out.append(LockEvidence("npm", name, version, _rel(root_s, pkg), 1, True, "; ".join(reasons), [], None))
            nested = os.path.join(pkg, "node_modules")
            if _kind(root_s, nested, follow=False) == "dir":
                todo.append(nested)


# -------------------------------------------------------------------------------------------- python

def _dist_name_version(root_s: str, dist_info: str, b: _Budget) -> tuple[str, str]:
    base = os.path.basename(dist_info)
    stem = base.rsplit(".", 1)[0]
    name, _, version = stem.partition("-")
    meta = (_read_small(root_s, os.path.join(dist_info, "METADATA"), b)
            or _read_small(root_s, os.path.join(dist_info, "PKG-INFO"), b))
    if meta:
        m = re.search(r"^Name:\s*(\S+)", meta, re.M)
        if m:
            name = m.group(1)
        m = re.search(r"^Version:\s*(\S+)", meta, re.M)
        if m:
            version = m.group(1)
    return normalize_pypi(name), version


def _py_native(root_s: str, sp: str, b: _Budget, out: list[LockEvidence]) -> None:
    entries = _scandir(root_s, sp, b)
    claimed: set[str] = set()
    for e in entries:
        if not _is_dir(e) or not e.name.endswith((".dist-info", ".egg-info")):
            continue
        name, version = _dist_name_version(root_s, e.path, b)
        record = _read_small(root_s, os.path.join(e.path, "RECORD"), b)
        evidence = None
        line = 1
        where = _rel(root_s, e.path)
        if record:
            where = _rel(root_s, os.path.join(e.path, "RECORD"))
            try:
                rows = list(csv.reader(io.StringIO(record)))
            except csv.Error:
                rows = []
            for i, row in enumerate(rows, 1):
                if row and _EXT_RE.search(row[0]):
                    evidence = f"compiled extension {row[0]} listed in RECORD"
                    line = i
                    break
            for row in rows:
                if row:
                    claimed.add(row[0].split("/", 1)[0])
        else:
            top = _read_small(root_s, os.path.join(e.path, "top_level.txt"), b) or ""
            for mod in sorted({t.strip() for t in top.splitlines() if t.strip()}):
                claimed.add(mod)
                mdir = os.path.join(sp, mod)
                stack = [mdir] if _kind(root_s, mdir, follow=False) == "dir" else []
                while stack and evidence is None:
                    d = stack.pop()
                    for f in _scandir(root_s, d, b):
                        if _is_dir(f):
                            stack.append(f.path)
                        elif _EXT_RE.search(f.name):
                            evidence = f"compiled extension {_rel(sp, f.path)} (package {mod} from top_level.txt)"
                            break
                for f in entries:
                    if f.name.startswith(mod + ".") and _EXT_RE.search(f.name):
                        evidence = evidence or f"compiled extension {f.name} (module {mod} from top_level.txt)"
                if evidence:
                    break
        if evidence is None:
            wheel = _read_small(root_s, os.path.join(e.path, "WHEEL"), b) or ""
            if re.search(r"^Root-Is-Purelib:\s*false", wheel, re.M | re.I):
                tags = re.findall(r"^Tag:\s*(\S+)", wheel, re.M)
                evidence = "platlib wheel (Root-Is-Purelib: false" + (f", tag {tags[0]}" if tags else "") + ")"
        if evidence:
            out.append(LockEvidence("pypi", name, version, where, line, True, evidence, [], None))


# ------------------------------------------------------------------------------------------- public

def installed_native_evidence(root: Path, rel_dirs: Iterable[str] | None = None, *,
                              max_entries: int = MAX_ENTRIES, errors: list[ScanError] | None = None
                              ) -> list[LockEvidence]:
    """Native-code evidence from installed packages in node_modules/ dirs and virtualenvs under root.

    rel_dirs: repository-relative node_modules, virtualenv or site-packages directories; None finds them
    (up to 4 levels deep). Returns one LockEvidence (native=True) per package with compiled code, sorted.
    """
    root_s = inputs.resolve(root)
    b = _Budget(max_entries)
    dirs = list(rel_dirs) if rel_dirs is not None else find_installed_dirs(root, budget=max_entries)
    out: list[LockEvidence] = []
    for rel in sorted(set(dirs)):
        if rel.startswith("/") or ".." in rel.replace("\\", "/").split("/"):
            continue
        if inputs.kind(root_s, rel) != "dir":   # also: a symlink out of the root
            continue
        d = os.path.join(root_s, rel)
        if os.path.basename(rel) == "node_modules":
            _npm_native(root_s, d, b, out)
        else:
            for sp in _site_packages(root_s, d, b):
                _py_native(root_s, sp, b, out)
    out.sort(key=lambda e: (e.lockfile, e.name, e.version))
    if errors is not None:
        errors.extend(b.errors)
    return out


def installed_size(root: Path, rel_dir: str = "node_modules", *, max_entries: int = MAX_ENTRIES) -> dict[str, int]:
    """Bytes per top-level package of a node_modules dir (scoped names as '@scope/name'); bounded.

    pnpm's top-level symlinks are measured at their target when it is inside the repository.
    """
    root_s = inputs.resolve(root)
    if not rel_dir or inputs.kind(root_s, rel_dir) != "dir":   # also: a symlink out of the root
        return {}
    nm = os.path.join(root_s, rel_dir)
    b = _Budget(max_entries)
    sizes: dict[str, int] = {}

    def measure(top: inputs.Entry) -> int | None:
        if top.kind == "outside":
            return None
        total = 0
        stack = [top.path]
        while stack and b.left > 0:
            d = stack.pop()
            for e in _scandir(root_s, d, b, sizes=True):
                if e.is_link or e.kind == "error":
                    continue
                if e.kind == "dir":
                    stack.append(e.path)
                else:
                    total += e.size
        return total

    for e in _scandir(root_s, nm, b):
        if e.name.startswith("."):
            continue
        if e.name.startswith("@") and _is_dir(e):
            for s in _scandir(root_s, e.path, b):
                n = measure(s)
                if n is not None:
                    sizes[f"{e.name}/{s.name}"] = n
        elif e.kind == "dir":   # also a pnpm symlink, when it stays inside the root
            n = measure(e)
            if n is not None:
                sizes[e.name] = n
    return dict(sorted(sizes.items()))
