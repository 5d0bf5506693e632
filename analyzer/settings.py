"""Project settings that change verdicts: wrangler config (compatibility date, flags, main), target, plan.

Precedence for each setting: command-line option > cfcompat config file > wrangler config > default. The
resolved `Settings` records where each value came from, so the report can say why a verdict was given.
"""
from __future__ import annotations

import datetime as _dt
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import json5

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from . import inputs
from .model import ScanError
from .targets import TARGETS, default_target

# The newest runtime release the knowledge base was verified against (workerd 2026-11-17). A project without a
# wrangler config is judged as a new project created today would be, capped at what the facts cover.
DEFAULT_COMPAT_DATE = "2026-11-17"
WRANGLER_NAMES = ("wrangler.jsonc", "wrangler.json", "wrangler.toml")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class WranglerConfig:
    path: str
    data: dict[str, Any]
    line_of: dict[str, int] = field(default_factory=dict)


@dataclass
class Settings:
    target: str
    target_source: str
    compatibility_date: str
    compatibility_date_source: str
    compatibility_flags: list[str]
    compatibility_flags_source: str
    plan: str = "paid"
    main: str | None = None
    wrangler: WranglerConfig | None = None
    python_workers: bool = False

    def wrangler_summary(self) -> dict[str, Any]:
        """Bindings, cron triggers and limits declared in the wrangler config (names only, never values)."""
        if self.wrangler is None:
            return {}
        d = self.wrangler.data
        out: dict[str, Any] = {}
        kinds = ("kv_namespaces", "r2_buckets", "d1_databases", "durable_objects", "queues", "hyperdrive",
                 "services", "vectorize", "ai", "browser", "images", "analytics_engine_datasets",
                 "send_email", "workflows", "assets", "containers")
        bindings = {}
        for k in kinds:
            v = d.get(k)
            if isinstance(v, dict) and k == "durable_objects":
                v = v.get("bindings")
            if isinstance(v, dict) and k == "queues":
                v = (v.get("producers") or []) + (v.get("consumers") or [])
            if isinstance(v, list):
                bindings[k] = len(v)
            elif isinstance(v, dict):
                bindings[k] = 1
        if bindings:
            out["bindings"] = bindings
        trig = d.get("triggers")
        if isinstance(trig, dict) and isinstance(trig.get("crons"), list):
            out["crons"] = [str(c) for c in trig["crons"]]
        lim = d.get("limits")
        if isinstance(lim, dict):
            out["limits"] = {k: v for k, v in lim.items() if isinstance(v, (int, float))}
        if isinstance(d.get("vars"), dict):
            out["vars"] = sorted(str(k) for k in d["vars"])
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "compatibility_date": self.compatibility_date,
            "compatibility_flags": list(self.compatibility_flags),
            "plan": self.plan,
            "sources": {
                "target": self.target_source,
                "compatibility_date": self.compatibility_date_source,
                "compatibility_flags": self.compatibility_flags_source,
            },
            **({"main": self.main} if self.main else {}),
            **({"wrangler_config": self.wrangler.path} if self.wrangler else {}),
            **({"wrangler": self.wrangler_summary()} if self.wrangler_summary() else {}),
        }

    def nodejs_compat(self) -> bool:
        """Whether node:* modules are available: nodejs_compat is on by default from 2026-08-04."""
        flags = set(self.compatibility_flags)
        if "no_nodejs_compat" in flags:
            return False
        if "nodejs_compat" in flags or "nodejs_compat_v2" in flags:
            return True
        return self.compatibility_date >= "2026-08-04"


def valid_date(value: str) -> bool:
    if not _DATE.match(value or ""):
        return False
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _line_index(text: str, key: str) -> int:
    """The line of `^\\s*"?key"?\\s*[:=]` (re.M) as it has always been reported (a match may begin on a blank
    line above the key), found without that pattern's quadratic scan of long runs of whitespace: the key's own
    line first, then back over the whitespace above it to the first line start."""
    m = re.search(r'^[^\S\n]*"?' + re.escape(key) + r'"?\s*[:=]', text, re.M)
    if not m:
        return 1
    k = q = m.start()
    while q > 0 and text[q - 1].isspace():
        q -= 1
    if q > 0:
        nl = text.find("\n", q, k)
        q = k if nl < 0 else nl + 1
    return text.count("\n", 0, q) + 1


def read_wrangler(root: Path, errors: list[ScanError], subdir: str = "") -> WranglerConfig | None:
    """The wrangler config in `subdir` of the scanned folder (jsonc, json, then toml)."""
    for base in WRANGLER_NAMES:
        name = f"{subdir}/{base}" if subdir else base
        where = inputs.kind(root, name)
        if where == "absent":
            continue
        if where != "file":
            errors.append(ScanError(name, "cannot read wrangler config: " + inputs.refusal(where).message))
            continue
        try:
            text = inputs.read_text(root, name, limit=inputs.CONFIG_LIMIT)
        except (inputs.InputError, UnicodeDecodeError) as exc:
            errors.append(ScanError(name, f"cannot read wrangler config: {exc}"))
            return None
        try:
            if name.endswith(".toml"):
                data = tomllib.loads(text)
            else:
                data = json5.loads(text)
        except Exception as exc:  # every parser error becomes a one-line error entry
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            errors.append(ScanError(name, f"invalid wrangler config: {msg}"))
            return None
        if not isinstance(data, dict):
            errors.append(ScanError(name, "invalid wrangler config: top level is not an object"))
            return None
        lines = {k: _line_index(text, k) for k in ("compatibility_date", "compatibility_flags", "main")}
        return WranglerConfig(name, data, lines)
    return None


def resolve_settings(root: Path, *, target: str | None, compat_date: str | None, compat_flags: list[str] | None,
                     plan: str = "paid", languages: dict[str, int], errors: list[ScanError],
                     config: dict[str, Any] | None = None, subdir: str = "") -> Settings:
    config = config or {}
    wr = read_wrangler(root, errors, subdir)
    wdata = wr.data if wr else {}
    date, date_src = DEFAULT_COMPAT_DATE, "default (newest runtime release in the knowledge base)"
    if isinstance(wdata.get("compatibility_date"), str) and valid_date(wdata["compatibility_date"]):
        date, date_src = wdata["compatibility_date"], wr.path  # type: ignore[union-attr]
    elif wdata.get("compatibility_date") is not None:
        errors.append(ScanError(wr.path, f"compatibility_date {wdata.get('compatibility_date')!r} is not a "  # type: ignore[union-attr]
                                          "YYYY-MM-DD date; using the default"))
    if config.get("compat_date"):
        date, date_src = str(config["compat_date"]), "config file"
    if compat_date:
        date, date_src = compat_date, "--compat-date"
    flags: list[str] = []
    flags_src = "none"
    wflags = wdata.get("compatibility_flags")
    if isinstance(wflags, list):
        flags = [str(f) for f in wflags]
        flags_src = wr.path  # type: ignore[union-attr]
    if config.get("compat_flags"):
        flags, flags_src = [str(f) for f in config["compat_flags"]], "config file"
    if compat_flags:
        flags = sorted(set(flags) | set(compat_flags))
        flags_src = (flags_src + " + --compat-flag") if flags_src != "none" else "--compat-flag"
    main = wdata.get("main") if isinstance(wdata.get("main"), str) else None
    py_workers = "python_workers" in flags or bool(main and main.endswith(".py"))
    if target:
        tgt, tgt_src = target, "--target"
    elif config.get("target") in TARGETS:
        tgt, tgt_src = config["target"], "config file"
    elif wr is not None:
        tgt = default_target(py_workers)
        tgt_src = f"{wr.path} ({'python_workers flag / .py main' if py_workers else 'JavaScript Worker'})"
    else:
        js = languages.get("javascript", 0) + languages.get("typescript", 0)
        py = languages.get("python", 0)
        tgt = default_target(py > js)
        tgt_src = "default for a " + ("Python" if py > js else "JavaScript/TypeScript") + " repository"
    return Settings(target=tgt, target_source=tgt_src, compatibility_date=date, compatibility_date_source=date_src,
                    compatibility_flags=flags, compatibility_flags_source=flags_src, plan=plan, main=main,
                    wrangler=wr, python_workers=py_workers)


def wrangler_dirs(other_files: list[str]) -> list[str]:
    """Folders (below the root) that hold their own wrangler config: each is a Worker judged in its own scope."""
    dirs = set()
    for rel in other_files:
        head, _, name = rel.rpartition("/")
        if name in WRANGLER_NAMES and head:
            dirs.add(head)
    return sorted(dirs)


def settings_for(path: str, root_settings: Settings, scoped: dict[str, Settings]) -> Settings:
    """The settings of the nearest folder above `path` that has its own wrangler config, else the root's."""
    best = ""
    for d in scoped:
        if path.startswith(d + "/") and len(d) > len(best):
            best = d
    return scoped[best] if best else root_settings
