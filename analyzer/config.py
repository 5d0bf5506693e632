"""The cfcompat config file: `cfcompat.toml`, or `[tool.cfcompat]` in `pyproject.toml`, at the scanned root
(or `--config FILE`). Unknown keys and wrong types are errors that name the key.

```toml
target = "workers"                 # workers | python-workers | containers | durable-objects
compat_date = "2026-10-01"
compat_flags = ["nodejs_compat"]
plan = "paid"                      # free | paid
fail_on = "blocker"                # blocker | warning | never
include_tests = false

[[ignore]]                         # hide findings by path glob and rule, with a reason (required)
path = "scripts/**"
rules = ["RULE-ID"]    # or ["*"] for every rule
reason = "deploy-time tooling, never bundled"

[workload]                         # inputs for the cost estimate
requests_per_month = 3000000
cpu_ms_per_request = 5
```
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from . import inputs
from .model import TARGETS



class ConfigError(Exception):
    """A problem with the config file: one line naming the file and the key."""


SCHEMA: dict[str, Any] = {
    "target": str, "compat_date": str, "compat_flags": list, "plan": str, "fail_on": str,
    "include_tests": bool, "ignore": list, "workload": dict, "exclude": list,
}
CHOICES = {"target": TARGETS, "plan": ("free", "paid"), "fail_on": ("blocker", "warning", "never")}
IGNORE_KEYS = {"path": str, "rules": list, "reason": str}


@dataclass
class IgnoreEntry:
    path: str
    rules: list[str]
    reason: str


def _type_name(t: Any) -> str:
    return {str: "a string", list: "a list", bool: "true or false", dict: "a table"}.get(t, str(t))


def validate(data: dict[str, Any], source: str) -> dict[str, Any]:
    from .settings import valid_date
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in SCHEMA:
            raise ConfigError(f"{source}: unknown key {key!r} (known: {', '.join(sorted(SCHEMA))})")
        want = SCHEMA[key]
        if not isinstance(value, want) or (want is not bool and isinstance(value, bool)):
            raise ConfigError(f"{source}: {key} must be {_type_name(want)}, got {type(value).__name__}")
        if key in CHOICES and value not in CHOICES[key]:
            raise ConfigError(f"{source}: {key} = {value!r} is not one of {', '.join(CHOICES[key])}")
        if key == "compat_date" and not valid_date(value):
            raise ConfigError(f"{source}: compat_date {value!r} is not a YYYY-MM-DD date")
        if key in ("compat_flags", "exclude") and not all(isinstance(x, str) for x in value):
            raise ConfigError(f"{source}: {key} must be a list of strings")
        if key == "workload":
            for k, v in value.items():
                if not isinstance(v, (int, float)) or isinstance(v, bool):
                    raise ConfigError(f"{source}: workload.{k} must be a number")
        if key == "ignore":
            entries = []
            for i, e in enumerate(value, 1):
                if not isinstance(e, dict):
                    raise ConfigError(f"{source}: ignore entry {i} must be a table")
                for k in e:
                    if k not in IGNORE_KEYS:
                        raise ConfigError(f"{source}: ignore entry {i}: unknown key {k!r} (path, rules, reason)")
                for k, t in IGNORE_KEYS.items():
                    if k not in e:
                        raise ConfigError(f"{source}: ignore entry {i}: {k} is required")
                    if not isinstance(e[k], t):
                        raise ConfigError(f"{source}: ignore entry {i}: {k} must be {_type_name(t)}")
                if not e["reason"].strip():
                    raise ConfigError(f"{source}: ignore entry {i}: reason must not be empty")
                entries.append(IgnoreEntry(e["path"], [str(r) for r in e["rules"]], e["reason"].strip()))
            value = entries
        out[key] = value
    return out


def load_config(root: Path, explicit: Path | None = None) -> tuple[dict[str, Any], str | None]:
    """(validated config, where it came from) — ({}, None) when there is none."""
    if explicit is not None:
        where = inputs.kind(None, str(explicit))
        if where in ("absent", "broken"):
            raise ConfigError(f"{explicit}: no such config file")
        if where != "file":
            raise ConfigError(f"{explicit}: {inputs.refusal(where).message}")
        return _load(None, os.path.abspath(explicit), explicit.name, tool_table=explicit.name == "pyproject.toml"), \
            str(explicit)
    if inputs.is_file(root, "cfcompat.toml"):
        return _load(root, "cfcompat.toml", "cfcompat.toml", tool_table=False), "cfcompat.toml"
    if inputs.is_file(root, "pyproject.toml"):
        try:
            data = tomllib.loads(inputs.read_text(root, "pyproject.toml", limit=inputs.MANIFEST_LIMIT))
        except Exception:
            return {}, None   # a broken pyproject is reported by the manifest reader, not here
        section = (data.get("tool") or {}).get("cfcompat")
        if isinstance(section, dict):
            return validate(section, "pyproject.toml [tool.cfcompat]"), "pyproject.toml [tool.cfcompat]"
    return {}, None


def _load(root: Path | None, rel: str, name: str, tool_table: bool) -> dict[str, Any]:
    try:
        data = tomllib.loads(inputs.read_text(root, rel, limit=inputs.CONFIG_LIMIT))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name}: cannot read: {exc}") from None
    except inputs.InputError as exc:
        raise ConfigError(f"{name}: cannot read: {exc.message}") from None
    if tool_table:
        data = (data.get("tool") or {}).get("cfcompat") or {}
    return validate(data, name)
