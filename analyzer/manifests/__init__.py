"""Manifest and lockfile readers: what a repository declares, locks and starts.

`scan_manifests(root, rel_paths)` picks the manifests among the discovered files and returns a
`ManifestScan`: direct dependencies (one per manifest, name and dev-group, verdict left "unknown" for the
engine), lockfile evidence (versions, native-code evidence, dependency graph), projects (one per
package.json / pyproject.toml scope, with their entry points and workspaces), errors (malformed files,
naming the problem and the line) and notes (things that cannot be read statically).

Nothing from the scanned repository is ever imported, executed or installed: JSON, TOML, YAML and INI
are parsed as data and setup.py as a Python syntax tree (`ast`).
"""
from __future__ import annotations

import posixpath
from collections import deque
from pathlib import Path
from typing import Callable

from ..discovery import SKIP_DIRS
from ..model import Dependency
from ._common import Parsed
from ._model import EntryPoint, LockEvidence, ManifestScan, Note, Project
from .conda import read_environment
from .entry_points import command_ecosystem, is_entry_point_file, read_entry_file
from .installed import find_installed_dirs, installed_native_evidence, installed_size
from .npm import read_npm_lock, read_package_json
from .pip_requirements import is_constraints_name, is_requirements_name, read_requirements
from .pipenv import read_pipfile, read_pipfile_lock
from .pnpm import read_pnpm_lock, read_pnpm_workspace
from .poetry_lock import read_poetry_lock
from .pyproject import read_pyproject
from .setup_files import read_setup_cfg, read_setup_py
from .uv_lock import read_uv_lock
from .yarn import read_yarn_lock

__all__ = [
    "MANIFEST_NAMES", "EXCLUDED_DIRS", "EntryPoint", "LockEvidence", "ManifestScan", "Note", "Project",
    "attribute_transitive", "installed_native_evidence", "installed_size", "is_entry_point_file",
    "is_manifest", "manifest_kind", "scan_manifests", "find_installed_dirs",
]

MANIFEST_NAMES: frozenset[str] = frozenset({
    "package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml",
    "pnpm-workspace.yaml", "requirements.txt", "constraints.txt", "pyproject.toml", "Pipfile", "Pipfile.lock",
    "poetry.lock", "uv.lock", "setup.cfg", "setup.py", "environment.yml", "environment.yaml",
})
"""Exact base names read. Also read (by pattern): *requirements*.txt / *.in, requirements/*.txt, constraints*.txt."""

EXCLUDED_DIRS: frozenset[str] = frozenset(SKIP_DIRS)   # the one skip-folder list (discovery.py)

_KIND_BY_NAME = {
    "package.json": "package.json", "package-lock.json": "npm-lock", "npm-shrinkwrap.json": "npm-lock",
    "yarn.lock": "yarn.lock", "pnpm-lock.yaml": "pnpm-lock", "pnpm-workspace.yaml": "pnpm-workspace",
    "pyproject.toml": "pyproject", "Pipfile": "Pipfile", "Pipfile.lock": "Pipfile.lock",
    "poetry.lock": "poetry.lock", "uv.lock": "uv.lock", "setup.cfg": "setup.cfg", "setup.py": "setup.py",
    "environment.yml": "environment", "environment.yaml": "environment",
}
_NPM_KINDS = {"package.json", "npm-lock", "yarn.lock", "pnpm-lock", "pnpm-workspace"}
_LOCK_KINDS = {"npm-lock", "yarn.lock", "pnpm-lock", "pnpm-workspace", "Pipfile.lock", "poetry.lock", "uv.lock",
               "constraints"}


def _norm(rel: str) -> str:
    rel = rel.replace("\\", "/")
    while rel.startswith("./"):
        rel = rel[2:]
    return rel.strip("/")


def _excluded(rel: str) -> bool:
    return any(part in EXCLUDED_DIRS for part in rel.split("/")[:-1])


def manifest_kind(rel_path: str) -> str | None:
    """The reader for a repository-relative path, or None if it is not a manifest (or is in node_modules...)."""
    rel = _norm(rel_path)
    if not rel or _excluded(rel):
        return None
    base = rel.rsplit("/", 1)[-1]
    kind = _KIND_BY_NAME.get(base)
    if kind:
        return kind
    if is_requirements_name(rel):
        return "constraints" if is_constraints_name(rel) else "requirements"
    return None


def is_manifest(rel_path: str) -> bool:
    """True for a dependency manifest or lockfile this package reads (see MANIFEST_NAMES and patterns)."""
    return manifest_kind(rel_path) is not None


def _safe(fn: Callable[..., Parsed], rel: str, kind: str, *args) -> Parsed:
    """Run one reader; a reader bug becomes a ScanError instead of stopping the scan."""
    try:
        return fn(*args)
    except RecursionError:
        res = Parsed(rel, kind)
        res.error("nested too deeply to read")
        return res
    except MemoryError:  # pragma: no cover
        res = Parsed(rel, kind)
        res.error("too large to read")
        return res
    except Exception as exc:  # noqa: BLE001 - the scan must go on
        res = Parsed(rel, kind)
        res.error(f"internal error while reading ({type(exc).__name__}: {exc}); please report this as a bug")
        return res


def _read_one(root: Path, rel: str, kind: str, known: frozenset[str]) -> Parsed:
    if kind == "package.json":
        return read_package_json(root, rel, known)
    if kind == "npm-lock":
        return read_npm_lock(root, rel)
    if kind == "yarn.lock":
        return read_yarn_lock(root, rel)
    if kind == "pnpm-lock":
        return read_pnpm_lock(root, rel)
    if kind == "pnpm-workspace":
        return read_pnpm_workspace(root, rel)
    if kind == "pyproject":
        return read_pyproject(root, rel, known)
    if kind == "Pipfile":
        return read_pipfile(root, rel, known)
    if kind == "Pipfile.lock":
        return read_pipfile_lock(root, rel)
    if kind == "poetry.lock":
        return read_poetry_lock(root, rel)
    if kind == "uv.lock":
        return read_uv_lock(root, rel)
    if kind == "setup.cfg":
        return read_setup_cfg(root, rel, known)
    if kind == "setup.py":
        return read_setup_py(root, rel, known)
    if kind == "environment":
        return read_environment(root, rel)
    raise ValueError(f"no reader for {kind}")


def _ancestors(d: str) -> list[str]:
    out = [d]
    while d:
        d = posixpath.dirname(d)
        out.append(d)
    return out


def _anchor(rel: str, kind: str) -> str:
    d = posixpath.dirname(rel)
    if kind in ("requirements", "constraints") and posixpath.basename(d).lower() in ("requirements", "reqs",
                                                                                      "requirements.d"):
        return posixpath.dirname(d)
    return d


def scan_manifests(root: Path, rel_paths: list[str]) -> ManifestScan:
    """Read every manifest, lockfile and entry-point file among `rel_paths` (repository-relative paths of
    all discovered files). Deterministic: every list in the result is sorted."""
    root = Path(root)
    rels = sorted({_norm(p) for p in rel_paths if isinstance(p, str) and _norm(p)})
    known = frozenset(rels)
    kinds: dict[str, str] = {}
    entry_files: list[str] = []
    for rel in rels:
        k = manifest_kind(rel)
        if k:
            kinds[rel] = k
        elif not _excluded(rel) and is_entry_point_file(rel):
            entry_files.append(rel)

    parsed: list[Parsed] = []
    req_roots: list[str] = []
    for rel, k in kinds.items():
        if k in ("requirements", "constraints"):
            req_roots.append(rel)
            continue
        parsed.append(_safe(_read_one, rel, k, root, rel, k, known))
    for p in parsed:
        if p.kind == "environment":
            req_roots.extend(x for x in p.extra_files if x not in req_roots)
    if req_roots:
        try:
            req_results = read_requirements(root, req_roots, known)
        except Exception as exc:  # noqa: BLE001
            req_results = []
            for rel in req_roots:
                r = Parsed(rel, "requirements")
                r.error(f"internal error while reading ({type(exc).__name__}: {exc}); please report this as a bug")
                req_results.append(r)
        for r in req_results:
            kinds.setdefault(r.path, r.kind)
            parsed.append(r)
    entry_parsed = [_safe(read_entry_file, rel, "entry", root, rel, known) for rel in entry_files]

    scan = ManifestScan()
    projects: dict[tuple[str, str], Project] = {}
    names: dict[tuple[str, str], tuple[int, str]] = {}

    def project(d: str, eco: str) -> Project:
        key = (d, eco)
        if key not in projects:
            projects[key] = Project(root=d, ecosystem=eco)
        return projects[key]

    def nearest(d: str, eco: str) -> Project | None:
        for a in _ancestors(d):
            if (a, eco) in projects:
                return projects[(a, eco)]
        return None

    # 1. scopes: package.json, pyproject.toml
    for p in parsed:
        if p.kind == "package.json":
            project(posixpath.dirname(p.path), "npm")
        elif p.kind == "pyproject":
            project(posixpath.dirname(p.path), "pypi")
    # 2. other defining Python manifests get their own scope when none exists at their dir
    for p in parsed:
        if p.kind in ("setup.py", "setup.cfg", "Pipfile", "environment", "requirements") and (
                p.kind != "requirements" or is_requirements_name(p.path)):
            project(_anchor(p.path, p.kind), "pypi")
    # 3. attach every manifest
    priority = {"pyproject": 0, "package.json": 0, "setup.cfg": 1, "setup.py": 2}
    by_path: dict[str, Project] = {}
    for p in sorted(parsed, key=lambda x: x.path):
        eco = "npm" if p.kind in _NPM_KINDS else "pypi"
        d = _anchor(p.path, p.kind)
        proj = projects.get((d, eco)) if p.kind not in _LOCK_KINDS else None
        if proj is None:
            proj = nearest(d, eco) or project(d, eco)
        by_path[p.path] = proj
        proj.manifests.append(p.path)
        proj.workspaces.extend(p.workspaces)
        proj.entry_points.extend(p.entry_points)
        if p.name and p.kind in priority:
            rank = priority[p.kind]
            key = (proj.root, proj.ecosystem)
            if key not in names or rank < names[key][0]:
                names[key] = (rank, p.name)
        scan.dependencies.extend(p.dependencies)
        scan.locked.extend(p.locked)
        scan.errors.extend(p.errors)
        scan.notes.extend(p.notes)
        scan.entry_points.extend(p.entry_points)
    for key, (_rank, name) in names.items():
        projects[key].name = name
    # 4. entry-point files (Procfile, Dockerfile, compose): nearest project, by the command's ecosystem
    for p in entry_parsed:
        scan.errors.extend(p.errors)
        scan.notes.extend(p.notes)
        scan.entry_points.extend(p.entry_points)
        d = posixpath.dirname(p.path)
        for ep in p.entry_points:
            eco = command_ecosystem(ep)
            target: Project | None = None
            for a in _ancestors(d):
                here = [projects[(a, e)] for e in ("npm", "pypi") if (a, e) in projects]
                if not here:
                    continue
                match = [pr for pr in here if pr.ecosystem == eco]
                # unknown ecosystem: attach only when the folder has a single project
                target = match[0] if match else (here[0] if eco is None and len(here) == 1 else None)
                if target is None:
                    target = nearest(a, eco) if eco else None
                break
            if target is None and eco is not None:
                target = project(d, eco)
            if target is not None:
                target.entry_points.append(ep)

    _apply_built_dependencies(parsed, scan.locked)
    _infer_dev(scan.dependencies, scan.locked, projects, by_path)

    for proj in projects.values():
        proj.manifests = sorted(set(proj.manifests))
        proj.workspaces = sorted(set(proj.workspaces))
        uniq = {}
        for ep in proj.entry_points:
            uniq.setdefault((ep.source, ep.line, ep.kind, ep.path, ep.command), ep)
        proj.entry_points = sorted(uniq.values(), key=lambda e: e.sort_key())
    scan.projects = sorted(projects.values(), key=lambda p: (p.root, p.ecosystem))
    scan.dependencies.sort(key=lambda d: (d.manifest, d.line, d.name, d.dev, d.version))
    scan.locked.sort(key=lambda e: e.sort_key())
    scan.errors = sorted({(e.path, e.message): e for e in scan.errors}.values(), key=lambda e: (e.path, e.message))
    scan.notes.sort(key=lambda n: (n.path, n.line, n.message))
    scan.entry_points.sort(key=lambda e: e.sort_key())
    return scan


def _apply_built_dependencies(parsed: list[Parsed], locked: list[LockEvidence]) -> None:
    """pnpm's onlyBuiltDependencies (pnpm-workspace.yaml or package.json "pnpm") names packages whose build
    scripts are allowed to run: evidence of native code for pnpm v9 lockfiles (which no longer say)."""
    for p in parsed:
        if not p.built_dependencies:
            continue
        d = posixpath.dirname(p.path)
        built = set(p.built_dependencies)
        for ev in locked:
            if ev.native is None and ev.name in built and posixpath.dirname(ev.lockfile) == d \
                    and ev.lockfile.endswith("pnpm-lock.yaml"):
                ev.native = True
                ev.evidence = f"listed in onlyBuiltDependencies ({p.path}): pnpm runs its build scripts"


def _graph(locked: list[LockEvidence]) -> dict[str, set[str]]:
    fwd: dict[str, set[str]] = {}
    for ev in locked:
        for d in ev.dependents:
            fwd.setdefault(d, set()).add(ev.name)
    return fwd


def _reach(starts: set[str], fwd: dict[str, set[str]]) -> set[str]:
    seen = set(starts)
    q = deque(starts)
    while q:
        n = q.popleft()
        for m in fwd.get(n, ()):
            if m not in seen:
                seen.add(m)
                q.append(m)
    return seen


def _infer_dev(deps: list[Dependency], locked: list[LockEvidence], projects: dict, by_path: dict) -> None:
    """Lock entries whose dev flag the lockfile does not record: dev when reachable only from dev deps."""
    by_lock: dict[str, list[LockEvidence]] = {}
    for ev in locked:
        if ev.dev is None:
            by_lock.setdefault(ev.lockfile, []).append(ev)
    for lockfile, evs in by_lock.items():
        proj = by_path.get(lockfile)
        if proj is None:
            continue
        same = [e for e in locked if e.lockfile == lockfile]
        fwd = _graph(same)
        prod: set[str] = set()
        dev: set[str] = set()
        for d in deps:
            dp = by_path.get(d.manifest)
            if dp is None or dp.ecosystem != proj.ecosystem or d.kind != "direct":
                continue
            if not (dp.root == proj.root or proj.root == "" or dp.root.startswith(proj.root + "/")):
                continue
            (dev if d.dev else prod).add(d.name)
        if not prod and not dev:
            continue
        prod_reach = _reach(prod, fwd)
        dev_reach = _reach(dev, fwd)
        for ev in evs:
            if ev.name in prod_reach:
                ev.dev = False
            elif ev.name in dev_reach:
                ev.dev = True


def attribute_transitive(scan: ManifestScan) -> dict[str, list[str]]:
    """For each locked package name: the direct dependencies (by name, sorted) that pull it in, through the
    lockfile dependency graph (a direct dependency lists itself).

    Equivalent to a breadth-first walk from each direct dependency; done as one propagation of bit sets
    (one bit per direct dependency) so that large lockfiles stay fast.
    """
    result: dict[str, set[str]] = {}
    for eco in sorted({e.ecosystem for e in scan.locked}):
        evs = [e for e in scan.locked if e.ecosystem == eco]
        locked_names = {e.name for e in evs}
        fwd = _graph(evs)
        directs = sorted({d.name for d in scan.dependencies if d.ecosystem == eco and d.kind == "direct"})
        labels: dict[str, int] = {d: 1 << i for i, d in enumerate(directs)}
        q = deque(directs)
        while q:
            n = q.popleft()
            ln = labels[n]
            for m in fwd.get(n, ()):
                old = labels.get(m, 0)
                new = old | ln
                if new != old:
                    labels[m] = new
                    q.append(m)
        for name in locked_names:
            bits = labels.get(name, 0)
            i = 0
            while bits:
                if bits & 1:
                    result.setdefault(name, set()).add(directs[i])
                bits >>= 1
                i += 1
    return {k: sorted(v) for k, v in sorted(result.items())}
