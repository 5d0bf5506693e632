"""uv.lock: [[package]] entries with wheels/sdist (wheel tags -> native evidence) and dependency graph."""
from __future__ import annotations

from pathlib import Path

from ._common import Parsed, normalize_pypi, read_package_tables, wheel_verdict
from .npm import _Collector


def _dep_names(items: object) -> list[str]:
    out = []
    if isinstance(items, list):
        for d in items:
            if isinstance(d, dict) and isinstance(d.get("name"), str):
                out.append(normalize_pypi(d["name"]))
    return out


def read_uv_lock(root: Path, rel: str) -> Parsed:
    res = Parsed(rel, "uv.lock")
    lock = read_package_tables(root, rel, res)
    if lock is None:
        return res
    data, packages, lines = lock
    members = set()
    for pkg in packages:
        if isinstance(pkg, dict) and isinstance(pkg.get("source"), dict) and isinstance(pkg.get("name"), str):
            if {"editable", "virtual", "workspace"} & set(pkg["source"]):
                members.add(normalize_pypi(pkg["name"]))
    col = _Collector("pypi", rel)
    for i, pkg in enumerate(packages):
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            continue
        name = normalize_pypi(pkg["name"])
        if name in members:
            continue
        line = lines[i]
        files = []
        wheels = pkg.get("wheels")
        if isinstance(wheels, list):
            for w in wheels:
                if isinstance(w, dict):
                    f = w.get("url") or w.get("path") or w.get("filename")
                    if isinstance(f, str):
                        files.append(f)
        native, evidence = wheel_verdict(files, rel)
        col.add(name, str(pkg.get("version", "")), line, native, evidence, None)
        deps = _dep_names(pkg.get("dependencies"))
        for table in ("optional-dependencies", "dev-dependencies"):
            t = pkg.get(table)
            if isinstance(t, dict):
                for items in t.values():
                    deps.extend(_dep_names(items))
        for d in deps:
            col.edge(name, d)
    res.locked = col.result()
    return res
