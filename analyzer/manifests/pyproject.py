"""pyproject.toml: PEP 621 [project], PEP 735 [dependency-groups], Poetry, PDM and uv tables, scripts."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._common import (Dependency, Parsed, ReadError, TomlIndex, dirname, is_dev_name, load_toml, normalize_pypi,
                      parse_pep508, read_text, split_requirement)
from ._model import EntryPoint
from .entry_points import module_to_path


def _table(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


class _Adder:
    def __init__(self, res: Parsed, rel: str, idx: TomlIndex, self_name: str | None):
        self.res = res
        self.rel = rel
        self.idx = idx
        self.self_name = self_name
        self.seen: set[tuple[str, bool]] = set()
        self.used: dict[tuple, set[int]] = {}

    def add(self, name: str, version: str, line: int, dev: bool) -> None:
        n = normalize_pypi(name)
        if not n or n == self.self_name or (n, dev) in self.seen:
            return
        self.seen.add((n, dev))
        self.res.dependencies.append(Dependency("pypi", n, version, self.rel, line, dev=dev))

    def pep508_list(self, items: Any, path: tuple[str, ...], dev: bool) -> None:
        if items is None:
            return
        if not isinstance(items, list):
            line = self.idx.locate(path)
            self.res.error(f"[{_dotted(path[:-1]) or path[0]}] {path[-1]} at line {line} is not a list; skipped")
            return
        used = self.used.setdefault(path, set())
        for item in items:
            if isinstance(item, dict):  # {include-group = "x"} (PEP 735)
                continue
            if not isinstance(item, str):
                continue
            line = self.idx.locate(path, raw=item, used=used)
            try:
                req = parse_pep508(item)
            except ValueError as exc:
                self.res.error(f"invalid requirement at line {line} in {_dotted(path)}: {exc}")
                continue
            self.add(req.name, split_requirement(item)[1], line, dev)

    def poetry_table(self, table: Any, path: tuple[str, ...], dev: bool) -> None:
        if not isinstance(table, dict):
            return
        for key, spec in table.items():
            if not isinstance(key, str) or key.lower() == "python":
                continue
            line = self.idx.locate(path + (key,))
            self.add(key, poetry_version(spec), line, dev)


def poetry_version(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, list):
        return " || ".join(poetry_version(s) for s in spec)
    if isinstance(spec, dict):
        if "version" in spec:
            v = str(spec.get("version"))
        elif "git" in spec:
            ref = spec.get("rev") or spec.get("tag") or spec.get("branch")
            v = f"git {spec['git']}" + (f"@{ref}" if ref else "")
        elif "path" in spec:
            v = f"path {spec['path']}"
        elif "url" in spec:
            v = f"url {spec['url']}"
        else:
            v = ""
        extras = spec.get("extras")
        if isinstance(extras, list) and extras:
            v = "[" + ",".join(str(e) for e in extras) + "]" + v
        markers = spec.get("markers")
        if isinstance(markers, str) and markers:
            v += f"; {markers}"
        return v
    return json.dumps(spec, sort_keys=True, default=str)


def _script_entry(value: Any, base: str, known, rel: str, line: int, name: str) -> EntryPoint | None:
    if isinstance(value, dict):
        value = value.get("callable") or value.get("reference")
    if not isinstance(value, str) or not value.strip():
        return None
    module = value.split(":", 1)[0].strip()
    path = module_to_path(module, base, known) if module else None
    return EntryPoint(path, f"{name} = {value}", rel, line, "runtime")


def read_pyproject(root: Path, rel: str, known: set[str] | frozenset[str] = frozenset()) -> Parsed:
    res = Parsed(rel, "pyproject")
    try:
        text = read_text(root, rel)
    except ReadError as exc:
        res.error(str(exc))
        return res
    data, err = load_toml(text, rel)
    if err:
        res.errors.append(err)
        return res
    idx = TomlIndex(text)
    base = dirname(rel)
    project = _table(data, "project")
    poetry = _table(data, "tool", "poetry")
    name = _table(project, "name") or _table(poetry, "name")
    res.name = name if isinstance(name, str) and name else None
    add = _Adder(res, rel, idx, normalize_pypi(res.name) if res.name else None)

    if isinstance(project, dict):
        add.pep508_list(project.get("dependencies"), ("project", "dependencies"), False)
        opt = project.get("optional-dependencies")
        if isinstance(opt, dict):
            for group, items in opt.items():
                add.pep508_list(items, ("project", "optional-dependencies", str(group)), is_dev_name(str(group)))
        dyn = project.get("dynamic")
        if isinstance(dyn, list):
            for field in ("dependencies", "optional-dependencies"):
                if field in dyn:
                    res.note(idx.locate(("project", "dynamic")),
                             f"[project] {field} is dynamic (filled in by the build backend); read the files it "
                             "names (e.g. requirements.txt) instead")
        for table in ("scripts", "gui-scripts"):
            scripts = project.get(table)
            if isinstance(scripts, dict):
                for sname, value in scripts.items():
                    ep = _script_entry(value, base, known, rel, idx.locate(("project", table, str(sname))), str(sname))
                    if ep:
                        res.entry_points.append(ep)

    groups = _table(data, "dependency-groups")
    if isinstance(groups, dict):
        for group, items in groups.items():
            add.pep508_list(items, ("dependency-groups", str(group)), is_dev_name(str(group)))

    uv = _table(data, "tool", "uv")
    if isinstance(uv, dict):
        add.pep508_list(uv.get("dev-dependencies"), ("tool", "uv", "dev-dependencies"), True)
        members = _table(uv, "workspace", "members")
        if isinstance(members, list):
            res.workspaces.extend(m for m in members if isinstance(m, str))

    pdm_dev = _table(data, "tool", "pdm", "dev-dependencies")
    if isinstance(pdm_dev, dict):
        for group, items in pdm_dev.items():
            add.pep508_list(items, ("tool", "pdm", "dev-dependencies", str(group)), True)

    if isinstance(poetry, dict):
        add.poetry_table(poetry.get("dependencies"), ("tool", "poetry", "dependencies"), False)
        add.poetry_table(poetry.get("dev-dependencies"), ("tool", "poetry", "dev-dependencies"), True)
        pgroups = poetry.get("group")
        if isinstance(pgroups, dict):
            for group, body in pgroups.items():
                if isinstance(body, dict):
                    add.poetry_table(body.get("dependencies"), ("tool", "poetry", "group", str(group), "dependencies"),
                                     str(group) != "main" and is_dev_name(str(group)))
        scripts = poetry.get("scripts")
        if isinstance(scripts, dict):
            for sname, value in scripts.items():
                ep = _script_entry(value, base, known, rel, idx.locate(("tool", "poetry", "scripts", str(sname))),
                                   str(sname))
                if ep:
                    res.entry_points.append(ep)
    return res
