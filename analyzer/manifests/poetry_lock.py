"""poetry.lock: [[package]] entries, their files (wheel tags -> native evidence) and dependency graph."""
from __future__ import annotations

from pathlib import Path

from ._common import Parsed, normalize_pypi, read_package_tables, wheel_verdict
from .npm import _Collector


def _file_names(files: object) -> list[str]:
    out = []
    if isinstance(files, list):
        for f in files:
            if isinstance(f, dict):
                name = f.get("file") or f.get("url") or f.get("path")
                if isinstance(name, str):
                    out.append(name)
            elif isinstance(f, str):
                out.append(f)
    return out


def read_poetry_lock(root: Path, rel: str) -> Parsed:
    res = Parsed(rel, "poetry.lock")
    lock = read_package_tables(root, rel, res)
    if lock is None:
        return res
    data, packages, lines = lock
    old_files = data.get("metadata", {}).get("files") if isinstance(data.get("metadata"), dict) else None
    old_files = old_files if isinstance(old_files, dict) else {}
    old_norm = {normalize_pypi(str(k)): v for k, v in old_files.items()}
    col = _Collector("pypi", rel)
    for i, pkg in enumerate(packages):
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            continue
        name = normalize_pypi(pkg["name"])
        version = str(pkg.get("version", ""))
        line = lines[i]
        files = _file_names(pkg.get("files")) or _file_names(old_norm.get(name))
        native, evidence = wheel_verdict(files, rel)
        category = pkg.get("category")
        dev = {"dev": True, "main": False}.get(category) if isinstance(category, str) else None
        col.add(name, version, line, native, evidence, dev)
        deps = pkg.get("dependencies")
        if isinstance(deps, dict):
            for d in deps:
                col.edge(name, normalize_pypi(str(d)))
    res.locked = col.result()
    return res
