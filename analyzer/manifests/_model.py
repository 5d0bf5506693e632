"""Plain data produced by the manifest readers (see package docstring)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import Dependency, ScanError

ENTRY_KINDS = ("runtime", "build", "test", "dev")


@dataclass
class EntryPoint:
    """A file or command that starts the application (or a build/test/dev task)."""
    path: str | None        # repository-relative file it runs ('/'-separated), None when not a file
    command: str | None     # the command as written (scripts, Procfile, Dockerfile...), None for fields
    source: str             # repository-relative file that declares it
    line: int               # 1-based line in `source`
    kind: str               # runtime | build | test | dev

    def sort_key(self) -> tuple:
        return (self.source, self.line, self.kind, self.path or "", self.command or "")

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "command": self.command, "source": self.source, "line": self.line,
                "kind": self.kind}


@dataclass
class Project:
    """One package/project scope (in a monorepo: one per package.json / pyproject.toml)."""
    root: str                                   # repository-relative dir, '' for the scan root
    ecosystem: str                              # npm | pypi
    name: str | None = None
    manifests: list[str] = field(default_factory=list)
    entry_points: list[EntryPoint] = field(default_factory=list)
    workspaces: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"root": self.root, "ecosystem": self.ecosystem, "name": self.name,
                "manifests": list(self.manifests), "entry_points": [e.to_json() for e in self.entry_points],
                "workspaces": list(self.workspaces)}


@dataclass
class LockEvidence:
    """One package found in a lockfile (or an installed node_modules / site-packages)."""
    ecosystem: str
    name: str
    version: str
    lockfile: str
    line: int
    native: bool | None = None      # True: compiled/install script/platform-only; False: pure wheel; None
    evidence: str | None = None
    dependents: list[str] = field(default_factory=list)
    dev: bool | None = None

    def sort_key(self) -> tuple:
        return (self.lockfile, self.line, self.name, self.version)

    def to_json(self) -> dict[str, Any]:
        return {"ecosystem": self.ecosystem, "name": self.name, "version": self.version,
                "lockfile": self.lockfile, "line": self.line, "native": self.native,
                "evidence": self.evidence, "dependents": list(self.dependents), "dev": self.dev}


@dataclass
class Note:
    """Something the reader could not determine statically; not an error (e.g. computed setup.py args)."""
    path: str
    line: int
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "message": self.message}


@dataclass
class ManifestScan:
    dependencies: list[Dependency] = field(default_factory=list)
    locked: list[LockEvidence] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    entry_points: list[EntryPoint] = field(default_factory=list)   # all of them, attached or not

    def to_json(self) -> dict[str, Any]:
        return {
            "dependencies": [d.to_json() for d in self.dependencies],
            "locked": [e.to_json() for e in self.locked],
            "projects": [p.to_json() for p in self.projects],
            "errors": [e.to_json() for e in self.errors],
            "notes": [n.to_json() for n in self.notes],
            "entry_points": [e.to_json() for e in self.entry_points],
        }
