"""Pipfile ([packages], [dev-packages], other categories, [scripts]) and Pipfile.lock (JSON)."""
from __future__ import annotations

import re
from pathlib import Path

from ._common import (Dependency, Parsed, ReadError, TomlIndex, dirname, is_dev_name, json_key_lines, load_json,
                      load_toml, normalize_pypi, read_text)
from ._model import LockEvidence
from .entry_points import entry_points_for, parse_command, script_kind
from .pyproject import poetry_version

_NOT_PACKAGES = {"source", "requires", "scripts", "pipenv", "pipfile"}


def _category_dev(category: str) -> bool:
    return category == "dev-packages" or category == "develop" or is_dev_name(category)


def read_pipfile(root: Path, rel: str, known: set[str] | frozenset[str] = frozenset()) -> Parsed:
    res = Parsed(rel, "Pipfile")
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
    seen: set[tuple[str, bool]] = set()
    for category in sorted(data, key=lambda c: (c != "packages", c != "dev-packages", c)):
        table = data[category]
        if category in _NOT_PACKAGES or not isinstance(table, dict):
            continue
        dev = _category_dev(category)
        for key, spec in table.items():
            n = normalize_pypi(re.split(r"[\[\s]", str(key), maxsplit=1)[0])
            if not n or (n, dev) in seen:
                continue
            seen.add((n, dev))
            res.dependencies.append(Dependency("pypi", n, poetry_version(spec), rel, idx.locate((category, str(key))),
                                               dev=dev))
    scripts = data.get("scripts")
    if isinstance(scripts, dict):
        base = dirname(rel)
        for sname, cmd in scripts.items():
            if isinstance(cmd, dict):
                cmd = cmd.get("call") or cmd.get("cmd")
            if not isinstance(cmd, str):
                continue
            kind, known_name = script_kind(str(sname))
            targets, recognised = parse_command(cmd)
            if not (known_name or targets or recognised):
                continue
            res.entry_points.extend(entry_points_for(cmd, base, known, rel, idx.locate(("scripts", str(sname))), kind))
    return res


def read_pipfile_lock(root: Path, rel: str) -> Parsed:
    res = Parsed(rel, "Pipfile.lock")
    try:
        text = read_text(root, rel)
    except ReadError as exc:
        res.error(str(exc))
        return res
    data, err = load_json(text, rel)
    if err:
        res.errors.append(err)
        return res
    if not isinstance(data, dict):
        res.error("expected a JSON object at the top level of Pipfile.lock")
        return res
    lines = json_key_lines(text, want=lambda p: len(p) <= 2)
    for category in sorted(data):
        table = data[category]
        if category == "_meta" or not isinstance(table, dict):
            continue
        dev = _category_dev(category)
        for key, entry in table.items():
            if not isinstance(entry, dict):
                continue
            version = entry.get("version")
            if isinstance(version, str):
                version = version[2:] if version.startswith("==") else version
            elif "git" in entry:
                version = f"git {entry.get('git')}@{entry.get('ref', '')}"
            else:
                version = ""
            res.locked.append(LockEvidence("pypi", normalize_pypi(str(key)), version, rel,
                                           lines.get((category, key), 1), None, None, [], dev))
    res.locked.sort(key=lambda e: e.sort_key())
    return res
