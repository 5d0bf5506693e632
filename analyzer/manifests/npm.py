"""package.json, package-lock.json (v1, v2, v3) and npm-shrinkwrap.json."""
from __future__ import annotations

import json
from pathlib import Path

from ._common import Dependency, Parsed, ReadError, dirname, json_key_lines, load_json, read_text
from ._model import EntryPoint, LockEvidence
from .entry_points import Target, entry_points_for, parse_command, resolve_target, script_kind

DEP_SECTIONS = (
    ("dependencies", False), ("devDependencies", True), ("optionalDependencies", False),
    ("peerDependencies", False),
)
_TYPE_CONDITIONS = {"types", "typings", "type"}
_NOT_CODE = (".json", ".d.ts", ".d.mts", ".d.cts", ".css", ".scss", ".less", ".map", ".md", ".html", ".svg")


def _load(root: Path, rel: str, res: Parsed):
    try:
        text = read_text(root, rel)
    except ReadError as exc:
        res.error(str(exc))
        return None, None
    data, err = load_json(text, rel)
    if err:
        res.errors.append(err)
        return None, None
    if not isinstance(data, dict):
        res.error(f"expected a JSON object at the top level of {rel.rsplit('/', 1)[-1]}, found {type(data).__name__}")
        return None, None
    return text, data


def _nearest_line(lines: dict[tuple, int], path: tuple) -> int:
    p = path
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return 1


def read_package_json(root: Path, rel: str, known: set[str] | frozenset[str] = frozenset()) -> Parsed:
    res = Parsed(rel, "package.json")
    text, data = _load(root, rel, res)
    if data is None:
        return res
    lines = json_key_lines(text, want=lambda p: len(p) <= 2 or p[0] == "exports")
    base = dirname(rel)
    name = data.get("name")
    res.name = name if isinstance(name, str) and name else None

    seen: set[tuple[str, bool]] = set()
    for section, dev in DEP_SECTIONS:
        sec = data.get(section)
        if sec is None:
            continue
        if not isinstance(sec, dict):
            res.error(f"'{section}' at line {lines.get((section,), 1)} is not an object; skipped")
            continue
        for dep, spec in sec.items():
            if not isinstance(dep, str) or not dep.strip():
                continue
            if (dep, dev) in seen:
                continue
            seen.add((dep, dev))
            version = spec if isinstance(spec, str) else json.dumps(spec, sort_keys=True)
            line = lines.get((section, dep)) or lines.get((section,), 1)
            res.dependencies.append(Dependency("npm", dep, version, rel, line, dev=dev))

    def add_file(value: str, path: tuple, kind: str = "runtime") -> None:
        if not isinstance(value, str) or not value.strip() or "*" in value:
            return
        if value.lower().endswith(_NOT_CODE):
            return
        p = resolve_target(Target("file", value), base, known)
        res.entry_points.append(EntryPoint(p, None, rel, _nearest_line(lines, path), kind))

    for field in ("main", "module", "browser"):
        if isinstance(data.get(field), str):
            add_file(data[field], (field,))

    exports = data.get("exports")
    if exports is not None:
        stack: list[tuple[object, tuple]] = [(exports, ("exports",))]
        count = 0
        while stack and count < 2000:
            count += 1
            val, path = stack.pop()
            if isinstance(val, str):
                add_file(val, path)
            elif isinstance(val, list):
                for item in reversed(val):
                    stack.append((item, path))
            elif isinstance(val, dict):
                for k in reversed(list(val)):
                    if k in _TYPE_CONDITIONS:
                        continue
                    stack.append((val[k], path + (k,)))

    bin_ = data.get("bin")
    if isinstance(bin_, str):
        add_file(bin_, ("bin",))
    elif isinstance(bin_, dict):
        for k, v in bin_.items():
            add_file(v, ("bin", k))

    scripts = data.get("scripts")
    if isinstance(scripts, dict):
        for sname, cmd in scripts.items():
            if not isinstance(cmd, str) or not isinstance(sname, str):
                continue
            kind, known_name = script_kind(sname)
            targets, recognised = parse_command(cmd)
            if not (known_name or targets or recognised):
                continue
            line = lines.get(("scripts", sname)) or lines.get(("scripts",), 1)
            res.entry_points.extend(entry_points_for(cmd, base, known, rel, line, kind))

    ws = data.get("workspaces")
    if isinstance(ws, dict):
        ws = ws.get("packages")
    if isinstance(ws, list):
        res.workspaces = [w for w in ws if isinstance(w, str)]

    pnpm = data.get("pnpm")
    if isinstance(pnpm, dict) and isinstance(pnpm.get("onlyBuiltDependencies"), list):
        res.built_dependencies = [x for x in pnpm["onlyBuiltDependencies"] if isinstance(x, str)]
    return res


def _platform_evidence(entry: dict, lockname: str) -> str | None:
    parts = []
    for key in ("os", "cpu", "libc"):
        v = entry.get(key)
        if isinstance(v, list) and v:
            parts.append(f"{key}: {', '.join(str(x) for x in v)}")
        elif isinstance(v, str) and v:
            parts.append(f"{key}: {v}")
    if parts:
        return f"platform-specific package ({'; '.join(parts)}) in {lockname}"
    return None


class _Collector:
    """Merges lockfile entries per (name, version): first line, union of dependents."""

    def __init__(self, ecosystem: str, lockfile: str):
        self.ecosystem = ecosystem
        self.lockfile = lockfile
        self.entries: dict[tuple[str, str], LockEvidence] = {}
        self.edges: list[tuple[str, str]] = []   # (dependent, dependency)

    def add(self, name: str, version: str, line: int, native: bool | None, evidence: str | None,
            dev: bool | None) -> None:
        key = (name, version)
        cur = self.entries.get(key)
        if cur is None:
            self.entries[key] = LockEvidence(self.ecosystem, name, version, self.lockfile, line, native, evidence,
                                             [], dev)
            return
        cur.line = min(cur.line, line)
        if native and not cur.native:
            cur.native, cur.evidence = native, evidence
        if cur.dev is not None and dev is not None:
            cur.dev = cur.dev and dev
        elif dev is False:
            cur.dev = False

    def edge(self, dependent: str, dependency: str) -> None:
        self.edges.append((dependent, dependency))

    def result(self) -> list[LockEvidence]:
        deps: dict[str, set[str]] = {}
        for a, b in self.edges:
            if a != b:
                deps.setdefault(b, set()).add(a)
        out = []
        for ev in self.entries.values():
            ev.dependents = sorted(deps.get(ev.name, ()))
            out.append(ev)
        out.sort(key=lambda e: e.sort_key())
        return out


def read_npm_lock(root: Path, rel: str) -> Parsed:
    res = Parsed(rel, "npm-lock")
    text, data = _load(root, rel, res)
    if data is None:
        return res
    lockname = rel.rsplit("/", 1)[-1]

    def want(p: tuple) -> bool:
        if len(p) == 2 and p[0] in ("packages", "dependencies"):
            return True
        return len(p) >= 4 and p[0] == "dependencies" and p[-2] == "dependencies"

    lines = json_key_lines(text, want=want)
    col = _Collector("npm", rel)
    packages = data.get("packages")
    if isinstance(packages, dict) and packages:
        for key, entry in packages.items():
            if not isinstance(entry, dict) or not isinstance(key, str) or "node_modules/" not in key:
                continue
            if entry.get("link"):
                continue
            name = entry.get("name") if isinstance(entry.get("name"), str) else key.rsplit("node_modules/", 1)[1]
            version = entry.get("version") if isinstance(entry.get("version"), str) else ""
            native, evidence = None, None
            if entry.get("hasInstallScript") is True:
                native, evidence = True, f"hasInstallScript: true in {lockname}"
            else:
                plat = _platform_evidence(entry, lockname)
                if plat:
                    native, evidence = True, plat
            dev = bool(entry.get("dev") or entry.get("devOptional"))
            col.add(name, version, lines.get(("packages", key), 1), native, evidence, dev)
            for section in ("dependencies", "optionalDependencies", "peerDependencies"):
                sec = entry.get(section)
                if isinstance(sec, dict):
                    for d in sec:
                        if isinstance(d, str):
                            col.edge(name, d)
    else:
        deps = data.get("dependencies")
        if isinstance(deps, dict):
            stack: list[tuple[dict, tuple]] = [(deps, ("dependencies",))]
            count = 0
            while stack and count < 500_000:
                cur, path = stack.pop()
                for name, entry in cur.items():
                    count += 1
                    if not isinstance(entry, dict) or not isinstance(name, str):
                        continue
                    version = entry.get("version") if isinstance(entry.get("version"), str) else ""
                    if version.startswith("file:") or version.startswith("link:"):
                        continue
                    p = path + (name,)
                    col.add(name, version, lines.get(p, 1), None, None, bool(entry.get("dev")))
                    req = entry.get("requires")
                    if isinstance(req, dict):
                        for d in req:
                            if isinstance(d, str):
                                col.edge(name, d)
                    nested = entry.get("dependencies")
                    if isinstance(nested, dict):
                        stack.append((nested, p + ("dependencies",)))
        elif "lockfileVersion" not in data:
            res.error(f"{lockname} has neither 'packages' nor 'dependencies'; not an npm lockfile?")
    res.locked = col.result()
    return res
