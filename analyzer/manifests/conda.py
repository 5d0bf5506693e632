"""environment.yml / environment.yaml (conda): conda packages and the nested `pip:` list."""
from __future__ import annotations

import re
from pathlib import Path

from ._common import Dependency, Parsed, dirname, join_rel, normalize_pypi, read_yaml_mapping
from .pip_requirements import parse_requirement_lines

_CONDA_SPEC = re.compile(r"^(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*(?P<spec>.*)$")
_SKIP = {"python", "pip", "python_abi"}


def read_environment(root: Path, rel: str) -> Parsed:
    res = Parsed(rel, "environment.yml")
    got = read_yaml_mapping(root, rel, res, "environment file", line_depth=4)
    if got is None:
        return res
    data, lines = got
    deps = data.get("dependencies")
    if deps is None:
        return res
    if not isinstance(deps, list):
        res.error(f"'dependencies' at line {lines.get(('dependencies',), 1)} is not a list")
        return res
    channels = data.get("channels") if isinstance(data.get("channels"), list) else []
    default_channel = str(channels[0]) if channels else None
    seen: set[str] = set()
    base = dirname(rel)
    for i, item in enumerate(deps):
        line = lines.get(("dependencies", i), 1)
        if isinstance(item, str):
            m = _CONDA_SPEC.match(item.strip())
            if not m:
                res.error(f"invalid conda package spec at line {line}: {item!r}")
                continue
            name = normalize_pypi(m.group("name"))
            if name in _SKIP or name in seen:
                continue
            seen.add(name)
            channel = m.group("channel") or default_channel
            reason = "conda package" + (f" (channel {channel})" if channel else "") + "; the PyPI name may differ"
            res.dependencies.append(Dependency("pypi", name, m.group("spec").strip(), rel, line, reason=reason))
        elif isinstance(item, dict) and isinstance(item.get("pip"), list):
            pip_lines = []
            for j, p in enumerate(item["pip"]):
                if not isinstance(p, str):
                    continue
                pline = lines.get(("dependencies", i, "pip", j), line)
                s = p.strip()
                m = re.match(r"^(?:-r|--requirement)\s*=?\s*(\S+)$", s)
                if m:
                    inc = join_rel(base, m.group(1))
                    if inc is None:
                        res.note(pline, f"included file {m.group(1)} is outside the repository; not read")
                    else:
                        res.extra_files.append(inc)
                    continue
                pip_lines.append((pline, s))
            pdeps, perrors = parse_requirement_lines(pip_lines, rel, False)
            for d in pdeps:
                if d.name not in seen:
                    seen.add(d.name)
                    res.dependencies.append(d)
            res.errors.extend(perrors)
    return res
