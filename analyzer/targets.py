"""The target table: every platform cfcompat judges against, its display name, the targets whose verdicts it
falls back to when a rule has none of its own, and which target a file of a language is judged as."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    id: str
    display: str
    fallbacks: tuple[str, ...] = ()      # a rule without a severity for this target takes the first of these
    per_language: bool = False           # judged as the language's own flavour (JS -> workers, Python -> python-workers)


TARGET_TABLE: dict[str, Target] = {t.id: t for t in (
    Target("workers", "Workers", per_language=True),
    Target("python-workers", "Python Workers", per_language=True),
    Target("containers", "Containers"),              # a Linux VM: never takes a Worker's verdict
    Target("durable-objects", "Durable Objects", fallbacks=("workers", "python-workers")),
)}
TARGETS = tuple(TARGET_TABLE)


def display_name(target: str) -> str:
    t = TARGET_TABLE.get(target)
    return t.display if t else target


def severity_fallbacks(target: str) -> tuple[str, ...]:
    t = TARGET_TABLE.get(target)
    return t.fallbacks if t else ()


def effective_target(target: str, language: str) -> str:
    """Python files are judged as Python Workers and JS/TS files as Workers when the target is either."""
    t = TARGET_TABLE.get(target)
    if t is not None and t.per_language:
        return "python-workers" if language == "python" else "workers"
    return target


def target_for_languages(target: str, languages: set[str] | frozenset[str]) -> str:
    """A repository-wide rule written for LANGUAGES: Python Workers when it is Python-only, else Workers (when
    the target is either flavour)."""
    return effective_target(target, "python" if set(languages) == {"python"} else "javascript")


def target_for_ecosystem(target: str, ecosystem: str) -> str:
    """A dependency of ECOSYSTEM (npm, pypi) is judged on the flavour that installs it."""
    return effective_target(target, "python" if ecosystem == "pypi" else "javascript")


def default_target(python: bool) -> str:
    """The target of a repository (or a Worker) written in Python or in JavaScript/TypeScript."""
    return effective_target("workers", "python" if python else "javascript")
