"""yarn.lock: classic v1 (its own format, parsed here line by line) and berry (v2+, YAML)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from ._common import Parsed, ReadError, load_yaml, read_text
from .npm import _Collector

_DEP_SECTIONS = ("dependencies", "optionalDependencies", "peerDependencies")


def spec_name(spec: str) -> str:
    """'@babel/core@^7.0.0' -> '@babel/core'; 'foo@npm:bar@^1' -> 'foo'."""
    idx = spec.find("@", 1)
    return spec[:idx] if idx > 0 else spec


def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        try:
            v = json.loads(s)
            return v if isinstance(v, str) else s[1:-1]
        except ValueError:
            return s[1:-1]
    return s


def _split_specs(header: str) -> list[str] | None:
    specs, buf, quoted = [], [], False
    for ch in header:
        if ch == '"':
            quoted = not quoted
            buf.append(ch)
        elif ch == "," and not quoted:
            specs.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if quoted:
        return None
    specs.append("".join(buf))
    out = [_unquote(s) for s in specs if s.strip()]
    return out or None


def _split_kv(s: str) -> tuple[str, str] | None:
    s = s.strip()
    if s.startswith('"'):
        m = re.match(r'^("(?:[^"\\]|\\.)*")\s+(.*)$', s)
        if not m:
            return None
        return _unquote(m.group(1)), _unquote(m.group(2))
    parts = s.split(None, 1)
    if len(parts) != 2:
        return None
    return parts[0], _unquote(parts[1])


def is_berry(text: str) -> bool:
    return re.search(r"^__metadata:\s*$", text, re.M) is not None


def read_yarn_lock(root: Path, rel: str) -> Parsed:
    res = Parsed(rel, "yarn.lock")
    try:
        text = read_text(root, rel)
    except ReadError as exc:
        res.error(str(exc))
        return res
    if is_berry(text):
        _read_berry(text, rel, res)
    else:
        _read_v1(text, rel, res)
    return res


def _read_v1(text: str, rel: str, res: Parsed) -> None:
    col = _Collector("npm", rel)
    current: dict | None = None
    section: str | None = None

    def finish(entry: dict | None) -> None:
        if entry is None or entry.get("broken"):
            return
        version = entry["fields"].get("version")
        if not version:
            res.error(f"invalid yarn.lock entry at line {entry['line']}: no version")
            return
        names = sorted({spec_name(s) for s in entry["specs"]})
        for name in names:
            col.add(name, version, entry["line"], None, None, None)
            for sec in _DEP_SECTIONS:
                for dep in entry["deps"].get(sec, {}):
                    col.edge(name, dep)

    for i, raw in enumerate(text.split("\n"), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        stripped = raw.rstrip()
        indent = len(stripped) - len(stripped.lstrip(" "))
        if "\t" in raw[:indent + 1] and raw.startswith("\t"):
            indent = 2 * (len(raw) - len(raw.lstrip("\t")))
        body = stripped.strip()
        if indent == 0:
            finish(current)
            section = None
            if not body.endswith(":"):
                res.error(f"invalid yarn.lock at line {i}: expected an entry header 'name@range:'")
                current = {"broken": True}
                continue
            specs = _split_specs(body[:-1])
            if not specs or any(not s or s.startswith("@") and "/" not in s for s in specs):
                res.error(f"invalid yarn.lock at line {i}: cannot read the package specifiers of this entry")
                current = {"broken": True}
                continue
            current = {"line": i, "specs": specs, "fields": {}, "deps": {}}
            continue
        if current is None:
            res.error(f"invalid yarn.lock at line {i}: indented line outside an entry")
            current = {"broken": True}
            continue
        if current.get("broken"):
            continue
        if indent == 2:
            section = None
            if body.endswith(":"):
                section = _unquote(body[:-1])
                current["deps"].setdefault(section, {})
                continue
            kv = _split_kv(body)
            if kv is None:
                res.error(f"invalid yarn.lock at line {i}: expected 'key value' inside the entry of line {current['line']}")
                current["broken"] = True
                continue
            current["fields"][kv[0]] = kv[1]
        elif indent >= 4 and section is not None:
            kv = _split_kv(body)
            if kv is None:
                res.error(f"invalid yarn.lock at line {i}: expected 'name range' in '{section}'")
                current["broken"] = True
                continue
            current["deps"][section][kv[0]] = kv[1]
        else:
            res.error(f"invalid yarn.lock at line {i}: unexpected indentation; line ignored")
    finish(current)
    res.locked = col.result()


def _read_berry(text: str, rel: str, res: Parsed) -> None:
    data, lines, err = load_yaml(text, rel, line_depth=1)
    if err:
        res.errors.append(err)
        return
    if not isinstance(data, dict):
        res.error("invalid yarn.lock: expected a mapping of entries")
        return
    col = _Collector("npm", rel)
    lockname = rel.rsplit("/", 1)[-1]
    for key, entry in data.items():
        if key == "__metadata" or not isinstance(key, str):
            continue
        line = lines.get((key,), 1)
        if not isinstance(entry, dict):
            res.error(f"invalid yarn.lock entry at line {line}: expected a mapping")
            continue
        resolution = entry.get("resolution") if isinstance(entry.get("resolution"), str) else ""
        specs = [s.strip() for s in key.split(",") if s.strip()]
        name = spec_name(resolution) if resolution else (spec_name(specs[0]) if specs else "")
        if not name:
            continue
        protocol = resolution[len(name) + 1:] if resolution.startswith(name + "@") else ""
        if protocol.startswith("workspace:") or protocol.startswith("link:") or protocol.startswith("portal:"):
            continue
        version = entry.get("version")
        version = str(version) if version is not None else ""
        native, evidence = None, None
        cond = entry.get("conditions")
        if isinstance(cond, str) and cond.strip():
            native, evidence = True, f"platform-specific package (conditions: {cond.strip()}) in {lockname}"
        col.add(name, version, line, native, evidence, None)
        for sec in _DEP_SECTIONS:
            deps = entry.get(sec)
            if isinstance(deps, dict):
                for d in deps:
                    if isinstance(d, str):
                        col.edge(name, d)
    res.locked = col.result()
