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

from ._common import normalize_pypi
from ._model import LockEvidence

MAX_ENTRIES = 200_000
_SMALL = 1024 * 1024
_NATIVE_HELPERS = ("node-gyp-build", "prebuild-install", "node-pre-gyp", "@mapbox/node-pre-gyp", "nan",
                   "node-addon-api", "cmake-js", "node-gyp", "bindings", "@napi-rs/triples", "napi-build-utils")
_EXT_RE = re.compile(r"\.(?:so(?:\.\d+)*|pyd|dylib)$")
_SKIP_DIRS = {".git", "__pycache__"}


# While a scan runs for the result cache (analyzer/resultcache.py) this collects every folder listed and file
# read here, outside discovery, so that a later lookup can check none of them changed.
TOUCHED: list[tuple[str, str]] | None = None


def _touch(kind: str, path: str) -> None:
    if TOUCHED is not None:
        TOUCHED.append((kind, path))


class _Budget:
    def __init__(self, n: int):
        self.left = n

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


def _scandir(path: str, budget: _Budget) -> list[os.DirEntry]:
    _touch("dir", path)
    out = []
    try:
        with os.scandir(path) as it:
            for e in it:
                if not budget.take():
                    break
                out.append(e)
    except OSError:
        return []
    out.sort(key=lambda e: e.name)
    return out


def _read_small(path: str) -> str | None:
    _touch("file", path)
    try:
        if os.path.islink(path) or os.path.getsize(path) > _SMALL:
            return None
        with open(path, "rb") as fh:
            return fh.read(_SMALL).decode("utf-8", "replace")
    except OSError:
        return None


def _rel(root: str, path: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def _is_dir(e: os.DirEntry) -> bool:
    try:
        return e.is_dir(follow_symlinks=False)
    except OSError:
        return False


# ------------------------------------------------------------------------------------------ detection

def find_installed_dirs(root: Path, max_depth: int = 4, budget: int = MAX_ENTRIES) -> list[str]:
    """node_modules dirs and virtualenv/site-packages dirs under root (not descending into them)."""
    root_s = os.path.realpath(root)
    out: list[str] = []
    b = _Budget(budget)
    stack = [(root_s, 0)]
    while stack:
        d, depth = stack.pop()
        for e in _scandir(d, b):
            if not _is_dir(e) or e.name in _SKIP_DIRS:
                continue
            if e.name == "node_modules" or e.name == "site-packages":
                out.append(_rel(root_s, e.path))
                continue
            if os.path.isfile(os.path.join(e.path, "pyvenv.cfg")):
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
        if os.path.isdir(lib) and not os.path.islink(lib):
            if libname == "Lib":
                sp = os.path.join(lib, "site-packages")
                if os.path.isdir(sp):
                    out.append(sp)
                continue
            for e in _scandir(lib, b):
                if _is_dir(e) and e.name.startswith("python"):
                    sp = os.path.join(e.path, "site-packages")
                    if os.path.isdir(sp) and not os.path.islink(sp):
                        out.append(sp)
    return out


# ----------------------------------------------------------------------------------------------- npm

def _node_packages(nm: str, b: _Budget) -> list[str]:
    """Package dirs in one node_modules (scoped, and pnpm's .pnpm/<id>/node_modules/<name>); no symlinks."""
    out = []
    for e in _scandir(nm, b):
        if e.name.startswith(".") and e.name != ".pnpm":
            continue
        if not _is_dir(e):
            continue
        if e.name == ".pnpm":
            for store in _scandir(e.path, b):
                inner = os.path.join(store.path, "node_modules")
                if _is_dir(store) and os.path.isdir(inner):
                    out.extend(_node_packages(inner, b))
            continue
        if e.name.startswith("@"):
            for s in _scandir(e.path, b):
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
    text = _read_small(os.path.join(pkg, "package.json"))
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
    if os.path.isfile(os.path.join(pkg, "binding.gyp")):
        reasons.append(f"binding.gyp in {rel_pkg}")
    if os.path.isdir(os.path.join(pkg, "prebuilds")):
        reasons.append(f"prebuilds/ directory in {rel_pkg}")
    # compiled addons (*.node), not descending into nested node_modules (separate packages)
    stack = [(pkg, 0)]
    found_node = None
    while stack and found_node is None:
        d, depth = stack.pop()
        for e in _scandir(d, b):
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
        for pkg in _node_packages(cur, b):
            name, version, reasons = _node_evidence(pkg, root_s, b)
            if reasons:
                out.append(LockEvidence("npm", name, version, _rel(root_s, pkg), 1, True, "; ".join(reasons), [], None))
            nested = os.path.join(pkg, "node_modules")
            if os.path.isdir(nested) and not os.path.islink(nested):
                todo.append(nested)


# -------------------------------------------------------------------------------------------- python

def _dist_name_version(dist_info: str) -> tuple[str, str]:
    base = os.path.basename(dist_info)
    stem = base.rsplit(".", 1)[0]
    name, _, version = stem.partition("-")
    meta = _read_small(os.path.join(dist_info, "METADATA")) or _read_small(os.path.join(dist_info, "PKG-INFO"))
    if meta:
        m = re.search(r"^Name:\s*(\S+)", meta, re.M)
        if m:
            name = m.group(1)
        m = re.search(r"^Version:\s*(\S+)", meta, re.M)
        if m:
            version = m.group(1)
    return normalize_pypi(name), version


def _py_native(root_s: str, sp: str, b: _Budget, out: list[LockEvidence]) -> None:
    entries = _scandir(sp, b)
    claimed: set[str] = set()
    for e in entries:
        if not _is_dir(e) or not e.name.endswith((".dist-info", ".egg-info")):
            continue
        name, version = _dist_name_version(e.path)
        record = _read_small(os.path.join(e.path, "RECORD"))
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
            top = _read_small(os.path.join(e.path, "top_level.txt")) or ""
            for mod in sorted({t.strip() for t in top.splitlines() if t.strip()}):
                claimed.add(mod)
                mdir = os.path.join(sp, mod)
                stack = [mdir] if os.path.isdir(mdir) and not os.path.islink(mdir) else []
                while stack and evidence is None:
                    d = stack.pop()
                    for f in _scandir(d, b):
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
            wheel = _read_small(os.path.join(e.path, "WHEEL")) or ""
            if re.search(r"^Root-Is-Purelib:\s*false", wheel, re.M | re.I):
                tags = re.findall(r"^Tag:\s*(\S+)", wheel, re.M)
                evidence = "platlib wheel (Root-Is-Purelib: false" + (f", tag {tags[0]}" if tags else "") + ")"
        if evidence:
            out.append(LockEvidence("pypi", name, version, where, line, True, evidence, [], None))


# ------------------------------------------------------------------------------------------- public

def installed_native_evidence(root: Path, rel_dirs: Iterable[str] | None = None, *,
                              max_entries: int = MAX_ENTRIES) -> list[LockEvidence]:
    """Native-code evidence from installed packages in node_modules/ dirs and virtualenvs under root.

    rel_dirs: repository-relative node_modules, virtualenv or site-packages directories; None finds them
    (up to 4 levels deep). Returns one LockEvidence (native=True) per package with compiled code, sorted.
    """
    root_s = os.path.realpath(root)
    b = _Budget(max_entries)
    dirs = list(rel_dirs) if rel_dirs is not None else find_installed_dirs(root, budget=max_entries)
    out: list[LockEvidence] = []
    for rel in sorted(set(dirs)):
        if rel.startswith("/") or ".." in rel.replace("\\", "/").split("/"):
            continue
        d = os.path.join(root_s, rel)
        real = os.path.realpath(d)
        if not (real == root_s or real.startswith(root_s + os.sep)) or not os.path.isdir(real):
            continue
        if os.path.basename(real) == "node_modules":
            _npm_native(root_s, real, b, out)
        else:
            for sp in _site_packages(root_s, real, b):
                _py_native(root_s, sp, b, out)
    out.sort(key=lambda e: (e.lockfile, e.name, e.version))
    return out


def installed_size(root: Path, rel_dir: str = "node_modules", *, max_entries: int = MAX_ENTRIES) -> dict[str, int]:
    """Bytes per top-level package of a node_modules dir (scoped names as '@scope/name'); bounded.

    pnpm's top-level symlinks are measured at their target when it is inside the repository.
    """
    root_s = os.path.realpath(root)
    nm = os.path.realpath(os.path.join(root_s, rel_dir))
    if not (nm.startswith(root_s + os.sep)) or not os.path.isdir(nm):
        return {}
    b = _Budget(max_entries)
    sizes: dict[str, int] = {}

    def measure(path: str) -> int | None:
        real = os.path.realpath(path)
        if not (real.startswith(root_s + os.sep)):
            return None
        total = 0
        stack = [real]
        while stack and b.left > 0:
            d = stack.pop()
            for e in _scandir(d, b):
                try:
                    if e.is_symlink():
                        continue
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                    else:
                        total += e.stat(follow_symlinks=False).st_size
                except OSError:
                    continue
        return total

    for e in _scandir(nm, b):
        if e.name.startswith("."):
            continue
        if e.name.startswith("@") and _is_dir(e):
            for s in _scandir(e.path, b):
                n = measure(s.path)
                if n is not None:
                    sizes[f"{e.name}/{s.name}"] = n
        else:
            try:
                if e.is_dir():  # follows a pnpm symlink; measure() checks it stays inside root
                    n = measure(e.path)
                    if n is not None:
                        sizes[e.name] = n
            except OSError:
                continue
    return dict(sorted(sizes.items()))
