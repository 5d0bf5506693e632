"""The rules kernel's model: a rule (loaded from a pack), the hit a rule class returns, the context it receives,
and the protocol a rule class implements."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ..analyzer.discovery import Discovery
from ..analyzer.model import Dependency
from ..analyzer.parsing.facts import FileFacts
from ..analyzer.settings import Settings
from ..analyzer.targets import severity_fallbacks


class RuleError(Exception):
    """A rule pack or rule class that cannot be loaded."""


@dataclass(frozen=True)
class Example:
    """One before/after pair of a rule, in the languages it is written for. `before` must produce the rule and
    `after` must not (tests/test_rule_examples.py). Each is a map of file path -> content (a `{size_mb: N}` entry
    stands for a large file); `src/example.{ext}` is the example's own file in each of its languages."""
    languages: tuple[str, ...]
    before: dict[str, Any]
    after: dict[str, Any]
    target: str | None = None           # the target to scan with (default: the language's own)
    title: str = ""


@dataclass(frozen=True)
class PlanInfo:
    """What the migration plan and the compatibility table say about a rule's findings."""
    action: str = ""                    # one line for the compatibility table ("Move SQLite to D1")
    products: tuple[str, ...] = ()      # Cloudflare products its fix uses (keys of assessment.PRODUCTS)
    phase: str = ""                     # the plan phase its work belongs to
    rewrite: bool = False               # a finding of this rule rewrites its file (a server entry point)


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    languages: tuple[str, ...]
    severity: dict[str, str]
    effort: int
    message: str
    remediation: str
    docs: tuple[str, ...]
    match: dict[str, Any] = field(default_factory=dict)
    where: tuple[dict[str, Any], ...] = ()
    unless: tuple[dict[str, Any], ...] = ()
    top_level: bool | None = None
    cls: str | None = None
    title: str = ""
    why: str = ""
    examples: tuple[Example, ...] = ()
    facts: tuple[str, ...] = ()
    pack: str = ""
    pack_line: int = 0
    plan: PlanInfo = field(default_factory=PlanInfo)
    related: tuple[str, ...] = ()       # rules whose findings this rule's findings are part of (counted once)
    fixes: tuple[str, ...] = ()         # ids of `cfcompat fix` codemods that resolve its findings
    roles: tuple[str, ...] = ()         # what the rule marks, for other stages to ask by name (see loader)
    legacy_example: dict[str, str] = field(default_factory=dict)   # `example:` text (until `examples:` exist)

    def docs_for(self, language: str) -> tuple[str, ...]:
        """The rule's links that fit a file of this language (rules/docs.py): a Python finding never links the
        Node.js page, a JavaScript one never the Python pages."""
        from .docs import for_language
        return tuple(for_language(self.docs, language))

    def severity_for(self, target: str) -> str | None:
        """Severity on a target, or None when the rule does not apply there. A target without its own entry
        takes the first of its fallbacks that the rule has (targets.py: durable-objects falls back to the
        Workers verdicts; containers never falls back)."""
        if target in self.severity:
            return self.severity[target]
        for fb in severity_fallbacks(target):
            if fb in self.severity:
                return self.severity[fb]
        return None

    @property
    def example(self) -> dict[str, str]:
        """The first example as one before/after text (what `explain` showed before examples had files)."""
        if not self.examples:
            return dict(self.legacy_example)
        ex = self.examples[0]
        text = lambda side: "\n".join(v for v in side.values() if isinstance(v, str)).rstrip("\n")  # noqa: E731
        return {"before": text(ex.before), "after": text(ex.after)}


@dataclass
class Hit:
    """What a rule reports in one file: where, and (when they differ from the rule's) the message, remedy,
    severity and extra links. `guard` names a condition that keeps the code off the deployed path."""
    line: int
    column: int
    end_line: int
    snippet: str
    symbol: str = ""
    message: str | None = None
    guard: str = ""
    top_level: bool = True
    extra_docs: tuple[str, ...] = ()
    remediation: str | None = None
    severity: str | None = None         # this hit's severity when it differs from the rule's for the target


@dataclass
class RuleContext:
    """What a rule class may look at besides the file: settings and repository-wide facts."""
    settings: Settings
    target: str                 # the effective target for this file's language
    discovery: Discovery
    dependencies: list[Dependency]
    repo_calls: frozenset[str] = frozenset()     # every call qualified name in the repository


class RuleClass(Protocol):
    """A rule that needs logic: `class:` in its pack names `module.Class` under cfcompat.rules.classes. The class
    module declares `CALLS`, the globs of every call name it reads (the extractors keep only calls some rule
    names; a module without CALLS sees every call, which is correct but slow)."""
    CALLS: ClassVar[tuple[str, ...]]

    def check(self, rule: Rule, facts: FileFacts, ctx: RuleContext) -> list[Hit]: ...
