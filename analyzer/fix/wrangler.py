"""Edits to a Worker's wrangler config that preserve everything else in the file.

wrangler.toml goes through tomlkit (a round-trip parser: comments and formatting stay); wrangler.json and
wrangler.jsonc get text edits located by `jsonc.py` (comments stay). When a Worker has no config, a minimal
wrangler.jsonc is created. Several fixes may ask for changes to one config; their requests are merged into one
`ConfigRequest` and applied once, so the result does not depend on the order of the fixes.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import tomlkit

from ..settings import DEFAULT_COMPAT_DATE, WRANGLER_NAMES
from . import jsonc
from .model import Workspace


@dataclass
class ConfigRequest:
    """Changes wanted in one Worker's config. Dates are minimums: a newer date in the file is kept."""
    compatibility_date: str | None = None
    flags: list[str] = field(default_factory=list)
    main: str | None = None
    crons: list[str] = field(default_factory=list)
    name: str | None = None          # only used when a config is created
    main_replace: tuple[str, str] | None = None   # (old, new): replace main when it is exactly `old`
    why: list[str] = field(default_factory=list)

    def merge(self, other: "ConfigRequest") -> None:
        if other.compatibility_date and (not self.compatibility_date
                                         or other.compatibility_date > self.compatibility_date):
            self.compatibility_date = other.compatibility_date
        for f in other.flags:
            if f not in self.flags:
                self.flags.append(f)
        if other.main and not self.main:
            self.main = other.main
        for c in other.crons:
            if c not in self.crons:
                self.crons.append(c)
        self.name = self.name or other.name
        self.why += [w for w in other.why if w not in self.why]

    def empty(self) -> bool:
        return not (self.compatibility_date or self.flags or self.main or self.crons or self.main_replace)


def find_config(ws: Workspace, scope: str = "") -> str | None:
    """Path of the Worker's wrangler config in `scope` (same precedence as settings.read_wrangler)."""
    for base in WRANGLER_NAMES:
        rel = f"{scope}/{base}" if scope else base
        if ws.exists(rel):
            return rel
    return None


def worker_name(ws: Workspace, scope: str = "") -> str:
    """A valid Worker name from package.json or pyproject.toml, else the folder name."""
    def clean(n: str) -> str:
        n = n.split("/")[-1].lower()
        n = re.sub(r"[^a-z0-9-]+", "-", n).strip("-")
        return n[:63] or "worker"

    pre = f"{scope}/" if scope else ""
    pkg = ws.read(pre + "package.json")
    if pkg:
        try:
            name = json.loads(pkg).get("name")
            if isinstance(name, str) and name.strip():
                return clean(name)
        except ValueError:
            pass
    py = ws.read(pre + "pyproject.toml")
    if py:
        try:
            name = tomlkit.parse(py).get("project", {}).get("name")
            if isinstance(name, str) and name.strip():
                return clean(str(name))
        except Exception:  # a broken pyproject must not stop the fix
            pass
    base = (ws.root / scope).resolve().name if scope else ws.root.resolve().name
    return clean(base)


def current_values(ws: Workspace, rel: str) -> dict[str, Any]:
    if ws.blocked(rel):
        return {}
    text = ws.read(rel) or ""
    if rel.endswith(".toml"):
        return tomlkit.parse(text).unwrap()
    import json5
    data = json5.loads(text)
    return data if isinstance(data, dict) else {}


def _flags_needed(req: ConfigRequest, have: list[str]) -> list[str]:
    return [f for f in req.flags if f not in have]


def _crons_needed(req: ConfigRequest, data: dict[str, Any]) -> list[str]:
    trig = data.get("triggers") if isinstance(data.get("triggers"), dict) else {}
    have = [str(c) for c in (trig.get("crons") or [])] if isinstance(trig, dict) else []
    return [c for c in req.crons if c not in have]


def apply_config(ws: Workspace, scope: str, req: ConfigRequest) -> tuple[str, list[str]]:
    """Apply `req` to the config of `scope` (creating one if there is none). Returns (path, sentences)."""
    rel = find_config(ws, scope)
    if rel is None:
        return _create(ws, scope, req)
    if ws.blocked(rel):       # a link (perhaps out of the repository), not a regular file: not edited
        ws.refuse(rel)
        return rel, []
    data = current_values(ws, rel)
    said: list[str] = []
    date = data.get("compatibility_date") if isinstance(data.get("compatibility_date"), str) else None
    new_date = req.compatibility_date if req.compatibility_date and (date is None or date < req.compatibility_date) \
        else None
    have_flags = [str(f) for f in data.get("compatibility_flags") or []] \
        if isinstance(data.get("compatibility_flags"), list) else []
    flags = _flags_needed(req, have_flags)
    main = req.main if req.main and not isinstance(data.get("main"), str) else None
    if req.main_replace and data.get("main") == req.main_replace[0]:
        main = req.main_replace[1]
    crons = _crons_needed(req, data)
    if new_date:
        said.append(f"compatibility_date {date or '(unset)'} -> {new_date}")
    if flags:
        said.append("compatibility_flags += " + ", ".join(flags))
    if main:
        said.append(f"main = {main}" + (f" (was {data['main']})" if isinstance(data.get("main"), str) else ""))
    if crons:
        said.append("triggers.crons += " + ", ".join(f'"{c}"' for c in crons))
    if not said:
        return rel, []
    text = ws.read(rel) or ""
    if rel.endswith(".toml"):
        text = _edit_toml(text, new_date, flags, main, crons)
    else:
        text = _edit_jsonc(text, new_date, flags, main, crons)
    ws.write(rel, text)
    return rel, said


def _keep_comment(old: Any, new: Any) -> Any:
    try:
        new.trivia.comment = old.trivia.comment
        new.trivia.comment_ws = old.trivia.comment_ws
    except AttributeError:
        pass
    return new


def _edit_toml(text: str, date: str | None, flags: list[str], main: str | None, crons: list[str]) -> str:
    doc = tomlkit.parse(text)
    if main:
        doc["main"] = main
    if date:
        if "compatibility_date" in doc:
            doc["compatibility_date"] = _keep_comment(doc.item("compatibility_date"), tomlkit.item(date))
        else:
            doc["compatibility_date"] = date
    if flags:
        if "compatibility_flags" in doc:
            arr = doc["compatibility_flags"]
            for f in flags:
                arr.append(f)
        else:
            doc["compatibility_flags"] = flags
    if crons:
        if "triggers" in doc:
            trig = doc["triggers"]
            if "crons" in trig:
                for c in crons:
                    trig["crons"].append(c)
            else:
                trig["crons"] = crons
        else:
            t = tomlkit.table()
            t["crons"] = crons
            doc["triggers"] = t
    return tomlkit.dumps(doc)


def _edit_jsonc(text: str, date: str | None, flags: list[str], main: str | None, crons: list[str]) -> str:
    # one edit at a time, re-scanning in between: offsets stay right and each edit sees the last one
    if main:
        root = jsonc.parse(text)
        text = jsonc.set_member(text, root, "main", jsonc.dumps_value(main))
    if date:
        root = jsonc.parse(text)
        text = jsonc.set_member(text, root, "compatibility_date", jsonc.dumps_value(date))
    if flags:
        root = jsonc.parse(text)
        arr = root.get("compatibility_flags")
        if arr is not None and arr.kind == "array":
            text = jsonc.append_items(text, arr, [jsonc.dumps_value(f) for f in flags])
        else:
            text = jsonc.set_member(text, root, "compatibility_flags", jsonc.dumps_value(flags))
    if crons:
        root = jsonc.parse(text)
        trig = root.get("triggers")
        if trig is not None and trig.kind == "object":
            arr = trig.get("crons")
            if arr is not None and arr.kind == "array":
                text = jsonc.append_items(text, arr, [jsonc.dumps_value(c) for c in crons])
            else:
                text = jsonc.add_member(text, trig, "crons", jsonc.dumps_value(crons))
        else:
            text = jsonc.set_member(text, root, "triggers", '{ "crons": ' + jsonc.dumps_value(crons) + " }")
    return text


def _create(ws: Workspace, scope: str, req: ConfigRequest) -> tuple[str, list[str]]:
    rel = f"{scope}/wrangler.jsonc" if scope else "wrangler.jsonc"
    if req.main_replace and not req.main:
        req.main = req.main_replace[1]
    name = req.name or worker_name(ws, scope)
    lines = ["// Created by `cfcompat fix`. Check name and main, then add bindings (KV, R2, D1...) as needed.",
             "{", f'  "name": {json.dumps(name)},']
    if req.main:
        lines.append(f'  "main": {json.dumps(req.main)},')
    lines.append(f'  "compatibility_date": {json.dumps(req.compatibility_date or DEFAULT_COMPAT_DATE)},')
    if req.flags:
        lines.append(f'  "compatibility_flags": {json.dumps(req.flags)},')
    if req.crons:
        lines.append(f'  "triggers": {{ "crons": {json.dumps(req.crons)} }},')
    lines[-1] = lines[-1].rstrip(",")
    lines.append("}")
    ws.write(rel, "\n".join(lines) + "\n")
    said = [f"created {rel} (name {name!r}, compatibility_date {req.compatibility_date or DEFAULT_COMPAT_DATE}"
            + (f", main {req.main}" if req.main else "") + (f", flags {', '.join(req.flags)}" if req.flags else "")
            + (f", crons {', '.join(req.crons)}" if req.crons else "") + ")"]
    return rel, said
