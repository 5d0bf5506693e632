"""Domain objects that flow through the pipeline: discover -> parse -> facts -> rules -> findings -> reports.

Every stage reads only what the stage before it produced. These classes are plain data (dataclasses) so
that they can be cached, pickled across worker processes and serialised to JSON deterministically.
"""
from __future__ import annotations

from dataclasses import dataclass, field, asdict
from typing import Any

from .targets import TARGETS  # noqa: F401  (re-exported: the target ids)

SEVERITIES = ("blocker", "warning", "info")
SEVERITY_RANK = {"blocker": 3, "warning": 2, "info": 1}
FAIL_ON = ("blocker", "warning", "never")      # --fail-on / fail_on: the lowest severity that fails a run


def fails(severity_rank: int, fail_on: str) -> bool:
    """Does a finding of this rank (SEVERITY_RANK, 0 for none) fail a run with `--fail-on FAIL_ON`?"""
    return fail_on != "never" and severity_rank >= SEVERITY_RANK[fail_on]
CATEGORIES = (
    "filesystem", "native-module", "model-loading", "long-running", "subprocess", "network", "state",
    "dynamic-code", "database", "runtime-api", "config", "limits",
)
CONTEXTS = ("runtime", "build", "test", "config", "browser")   # browser: front-end code a bundler ships to browsers
LANGUAGES = ("javascript", "typescript", "python")


@dataclass
class ScanError:
    """A file (or manifest) that could not be read or parsed. Never stops the scan."""
    path: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message}


@dataclass
class Dependency:
    """One declared dependency in one manifest (package.json, requirements.txt, pyproject.toml, ...)."""
    ecosystem: str              # "npm" | "pypi"
    name: str                   # normalised: npm as written, PyPI lower-case with '-' (PEP 503)
    version: str                # the spec as written ("^12.4.1", ">=2,<3", "") or the locked version
    manifest: str               # path relative to the scan root, '/'-separated
    line: int                   # 1-based line of the entry in the manifest (1 when unknown)
    dev: bool = False           # devDependencies, dev groups, [dev-packages], extras named dev/test...
    verdict: str = "unknown"    # "ok" | "incompatible" | "replace" | "unknown"
    category: str | None = None
    replacement: str | None = None
    reason: str | None = None   # why the verdict (knowledge-base entry, lockfile evidence, Pyodide list...)
    via: str | None = None      # for a transitive native package: the direct dependency that pulls it in
    kind: str = "direct"        # "direct" | "transitive"
    severity: str | None = None  # severity of the finding this dependency gives (None: from the rule)
    docs: list[str] = field(default_factory=list)   # the documentation page about this package's verdict

    def to_json(self) -> dict[str, Any]:
        d = {
            "ecosystem": self.ecosystem, "name": self.name, "version": self.version,
            "manifest": self.manifest, "line": self.line, "dev": self.dev, "verdict": self.verdict,
            "category": self.category, "replacement": self.replacement,
        }
        if self.reason:
            d["reason"] = self.reason
        if self.via:
            d["via"] = self.via
        if self.kind != "direct":
            d["kind"] = self.kind
        if self.docs:
            d["docs"] = list(self.docs)
        return d


@dataclass
class Finding:
    rule_id: str
    category: str
    severity: str
    path: str
    line: int
    column: int
    end_line: int
    message: str
    snippet: str
    context: str
    remediation: str
    fingerprint: str = ""
    docs: list[str] = field(default_factory=list)
    effort: int = 1
    symbol: str = ""            # enclosing function/class, used for the fingerprint
    original_severity: str = ""  # severity before context downgrade
    note: str = ""              # why the severity was adjusted (context, target...)
    chain: list[str] = field(default_factory=list)   # import chain from a runtime entry point to this file
    related: str = ""           # fingerprint of the finding this one is part of (not counted twice)
    fixable_by_setting: str = ""  # the compatibility date/flag change that resolves it (`cfcompat fix`)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.rule_id, self.column, self.message)

    def to_json(self) -> dict[str, Any]:
        d = {
            "rule_id": self.rule_id, "category": self.category, "severity": self.severity,
            "path": self.path, "line": self.line, "column": self.column, "end_line": self.end_line,
            "message": self.message, "snippet": self.snippet, "context": self.context,
            "remediation": self.remediation, "fingerprint": self.fingerprint, "docs": list(self.docs),
            "effort": self.effort,
        }
        if self.note:
            d["note"] = self.note
        if self.chain:
            d["import_chain"] = list(self.chain)
        if self.related:
            d["related"] = self.related
        if self.fixable_by_setting:
            d["fixable_by_setting"] = self.fixable_by_setting
        return d


def as_dict(obj: Any) -> dict[str, Any]:
    return asdict(obj)
