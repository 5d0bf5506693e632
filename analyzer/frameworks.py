"""Frameworks as data (rules/kb/frameworks.yaml): which frameworks a repository's projects use, read from their
runtime dependencies, with what each profile says: the files the framework loads by name (runtime entries), the
code that only runs in browsers, the folders it serves as static files, and the supported path to Cloudflare (the
plan's recommendation and starter config follow it)."""
from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from ..rules import load_kb
from .model import Dependency

_PEP503 = re.compile(r"[-_.]+")


def _norm(name: str, ecosystem: str) -> str:
    return _PEP503.sub("-", name).lower() if ecosystem == "pypi" else name


@dataclass
class FrameworkUse:
    id: str
    name: str
    kind: str
    root: str                          # the project folder ('' for the repository root)
    profile: dict[str, Any] = field(default_factory=dict)

    def globs(self, key: str) -> list[str]:
        val = self.profile.get(key) or []
        if isinstance(val, dict):
            val = val.get("globs") or []
        return [posixpath.join(self.root, g) if self.root else g for g in val]

    @property
    def directive(self) -> str:
        b = self.profile.get("browser")
        return b.get("directive", "") if isinstance(b, dict) else ""

    def to_json(self) -> dict[str, Any]:
        cf = self.profile.get("cloudflare") or {}
        out = {"id": self.id, "name": self.name, "kind": self.kind, "root": self.root,
               "cloudflare": {k: cf[k] for k in ("path", "docs", "build") if k in cf}}
        return out


def profiles() -> list[dict[str, Any]]:
    return list(load_kb("frameworks.yaml").get("frameworks") or [])


def detect_frameworks(dependencies: list[Dependency]) -> list[FrameworkUse]:
    """The frameworks each project depends on at run time (dev dependencies do not count)."""
    deps: dict[tuple[str, str], set[str]] = {}
    for d in dependencies:
        if d.dev or d.kind != "direct":
            continue
        root = posixpath.dirname(d.manifest)
        deps.setdefault((d.ecosystem, root), set()).add(_norm(d.name, d.ecosystem))
    out: list[FrameworkUse] = []
    for (eco, root), names in sorted(deps.items()):
        for p in profiles():
            if p.get("ecosystem") != eco:
                continue
            if any(_norm(x, eco) in names for x in p.get("detect") or ()):
                out.append(FrameworkUse(p["id"], p["name"], p.get("kind", "web"), root, p))
    return out


def _brace(glob: str) -> list[str]:
    """`a.{js,ts}` -> [a.js, a.ts] (fnmatch has no braces)."""
    m = re.search(r"\{([^{}]*)\}", glob)
    if not m:
        return [glob]
    return [x for alt in m.group(1).split(",") for x in _brace(glob[:m.start()] + alt + glob[m.end():])]


def matches(path: str, globs: list[str]) -> bool:
    for g in globs:
        for pat in _brace(g):
            if fnmatch.fnmatchcase(path, pat) or ("**/" in pat and fnmatch.fnmatchcase(path, pat.replace("**/", ""))):
                return True
    return False


def framework_entries(frameworks: list[FrameworkUse], paths: list[str]) -> set[str]:
    """Files the detected frameworks load by name: runtime entry points that no import reaches."""
    out: set[str] = set()
    for fw in frameworks:
        globs = fw.globs("entries")
        if globs:
            out |= {p for p in paths if matches(p, globs)}
    return out


def browser_reason(frameworks: list[FrameworkUse], path: str, directives: set[str]) -> str:
    """Why a file only runs in browsers under a detected framework's conventions, or ''."""
    for fw in frameworks:
        if fw.root and not path.startswith(fw.root + "/"):
            continue
        if fw.directive and fw.directive in directives:
            return f"a {fw.name} client component ('{fw.directive}')"
        if matches(path, fw.globs("browser")):
            return f"{fw.name} browser code by the framework's layout"
    return ""
