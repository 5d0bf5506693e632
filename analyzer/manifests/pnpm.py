"""pnpm-lock.yaml (v5.x, v6, v9) and pnpm-workspace.yaml."""
from __future__ import annotations

import re
from pathlib import Path

from ._common import Parsed, read_yaml_mapping
from .npm import _Collector, _platform_evidence

_DEP_SECTIONS = ("dependencies", "optionalDependencies")


def _major(version: object) -> int:
    m = re.match(r"\s*'?(\d+)", str(version or ""))
    return int(m.group(1)) if m else 0


def parse_key(key: str, major: int) -> tuple[str, str] | None:
    """Package key -> (name, version). v5: '/@s/n/1.0.0_peer'; v6: '/n@1.0.0(peer)'; v9: 'n@1.0.0(peer)'."""
    k = key.strip()
    if k.startswith("/"):
        k = k[1:]
    if not k:
        return None
    k = k.split("(", 1)[0]
    at = k.find("@", 1)
    if at > 0 and (major >= 6 or major == 0):
        name, version = k[:at], k[at + 1:]
        if name and version and name.count("/") <= (1 if name.startswith("@") else 0):
            return name, version
    parts = k.split("/")
    if k.startswith("@"):
        if len(parts) < 3:
            return None
        name, version = parts[0] + "/" + parts[1], parts[2]
    else:
        if len(parts) < 2:
            return None
        name, version = parts[0], parts[1]
    version = version.split("_", 1)[0]
    if not name or not version:
        return None
    return name, version


def read_pnpm_lock(root: Path, rel: str) -> Parsed:
    res = Parsed(rel, "pnpm-lock")
    got = read_yaml_mapping(root, rel, res, "pnpm-lock.yaml", line_depth=2)
    if got is None:
        return res
    data, lines = got
    major = _major(data.get("lockfileVersion"))
    lockname = rel.rsplit("/", 1)[-1]
    col = _Collector("npm", rel)
    packages = data.get("packages")
    if packages is not None and not isinstance(packages, dict):
        res.error(f"invalid pnpm-lock.yaml: 'packages' at line {lines.get(('packages',), 1)} is not a mapping")
        packages = None
    for key, entry in (packages or {}).items():
        if not isinstance(key, str):
            continue
        entry = entry if isinstance(entry, dict) else {}
        parsed = parse_key(key, major)
        name = entry.get("name") if isinstance(entry.get("name"), str) else (parsed[0] if parsed else None)
        version = entry.get("version") if isinstance(entry.get("version"), str) else (parsed[1] if parsed else "")
        if not name or name.startswith(("file:", "link:")):
            continue
        native, evidence = None, None
        if entry.get("requiresBuild") is True:
            native, evidence = True, f"requiresBuild: true in {lockname}"
        else:
            plat = _platform_evidence(entry, lockname)
            if plat:
                native, evidence = True, plat
        dev = entry.get("dev") if isinstance(entry.get("dev"), bool) else None
        col.add(name, version, lines.get(("packages", key), 1), native, evidence, dev)
        for sec in _DEP_SECTIONS:
            deps = entry.get(sec)
            if isinstance(deps, dict):
                for d in deps:
                    if isinstance(d, str):
                        col.edge(name, d)
    snapshots = data.get("snapshots")
    if isinstance(snapshots, dict):
        for key, entry in snapshots.items():
            if not isinstance(key, str) or not isinstance(entry, dict):
                continue
            parsed = parse_key(key, major)
            if not parsed:
                continue
            for sec in _DEP_SECTIONS:
                deps = entry.get(sec)
                if isinstance(deps, dict):
                    for d in deps:
                        if isinstance(d, str):
                            col.edge(parsed[0], d)
    res.locked = col.result()
    return res


def read_pnpm_workspace(root: Path, rel: str) -> Parsed:
    res = Parsed(rel, "pnpm-workspace")
    got = read_yaml_mapping(root, rel, res, "pnpm-workspace.yaml", line_depth=1)
    if got is None:
        return res
    data, _lines = got
    pk = data.get("packages")
    if isinstance(pk, list):
        res.workspaces = [p for p in pk if isinstance(p, str)]
    built = data.get("onlyBuiltDependencies")
    if isinstance(built, list):
        res.built_dependencies = [b for b in built if isinstance(b, str)]
    return res
