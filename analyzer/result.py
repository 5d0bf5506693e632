"""What a scan produces: the typed result every later stage (assessment, reports, CI commands, fix) reads."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .discovery import Discovery
from .model import Dependency, Finding, ScanError
from .parsing.facts import FileFacts
from .settings import Settings


@dataclass
class Assessment:
    """The contract's compatibility, rewrite_scope, effort and cost blocks (analyzer/assessment.py), for the
    workload they were computed with."""
    compatibility: list[dict[str, Any]]
    rewrite_scope: dict[str, Any]
    effort: dict[str, Any]
    cost: dict[str, Any]
    workload: dict[str, Any] | None = None

    def blocks(self) -> dict[str, Any]:
        return {"compatibility": self.compatibility, "rewrite_scope": self.rewrite_scope, "effort": self.effort,
                "cost": self.cost}


@dataclass
class ScanResult:
    root: Path
    settings: Settings
    files: list[FileFacts]
    findings: list[Finding]
    dependencies: list[Dependency]
    errors: list[ScanError]
    discovery: Discovery
    summary: dict[str, Any] = field(default_factory=dict)
    scopes: dict[str, Settings] = field(default_factory=dict)    # folder -> settings of its own wrangler config
    projects: list[Any] = field(default_factory=list)            # manifests.Project per package.json / pyproject
    locked: dict[str, Any] = field(default_factory=dict)         # lockfile evidence per ecosystem
    entry_points: list[Any] = field(default_factory=list)        # console scripts and other declared entries
    installed_size: dict[str, Any] = field(default_factory=dict)  # node_modules / site-packages sizes read
    context_mode: str = ""                                       # how file contexts were decided (graph / paths)
    entries: dict[str, Any] = field(default_factory=dict)        # runtime entry points found
    graph: Any = None                                            # graph.ImportGraph
    contexts: dict[str, Any] = field(default_factory=dict)       # path -> graph.FileContext (runtime, build...)
    frameworks: list[Any] = field(default_factory=list)          # frameworks.FrameworkUse per project
    suppressed: list[dict[str, Any]] = field(default_factory=list)
    diff: dict[str, Any] | None = None                           # scan --diff-base (diffscan.py)
    baseline: dict[str, Any] | None = None                       # scan --baseline (baseline.py)
    baseline_hidden: list[Finding] = field(default_factory=list)  # the findings the baseline hid (SARIF keeps them)
    assessment: Assessment | None = None                         # assessment.ensure_assessment
    schedules: list[Any] | None = None                           # schedules.find_schedules, computed once
    degraded: bool = False     # partial, or a file given up on: an answer of this run and machine, never cached

    @property
    def target(self) -> str:
        return self.settings.target
