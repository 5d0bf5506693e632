"""Rule packs (YAML data), the knowledge base (dated platform facts, package lists, prices) and rule classes."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's C loader: ~10x faster than the pure-Python one on the rule packs and knowledge base
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader


def _yaml(text: str):
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader

RULES_DIR = Path(__file__).resolve().parent
PACKS_DIR = RULES_DIR / "packs"
KB_DIR = RULES_DIR / "kb"
SCHEMA_PATH = RULES_DIR / "schema" / "rule.schema.json"


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
    example: dict[str, str] = field(default_factory=dict)
    facts: tuple[str, ...] = ()
    pack: str = ""

    def severity_for(self, target: str) -> str | None:
        """Severity on a target, or None when the rule does not apply there.

        durable-objects falls back to the Workers verdicts (a Durable Object is a Worker with storage) unless
        the rule says otherwise; containers never fall back (a container is a Linux VM)."""
        if target in self.severity:
            return self.severity[target]
        if target == "durable-objects":
            return self.severity.get("workers") or self.severity.get("python-workers")
        return None


class RuleError(Exception):
    pass


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _from_dict(d: dict[str, Any], pack: str) -> Rule:
    return Rule(
        id=d["id"], category=d["category"], languages=tuple(d["languages"]), severity=dict(d["severity"]),
        effort=int(d["effort"]), message=d["message"].strip(), remediation=d["remediation"].strip(),
        docs=tuple(d["docs"]), match=dict(d.get("match") or {}), where=tuple(d.get("where") or ()),
        unless=tuple(d.get("unless") or ()), top_level=d.get("top_level"), cls=d.get("class"),
        title=d.get("title", ""), why=(d.get("why") or "").strip(), example=dict(d.get("example") or {}),
        facts=tuple(d.get("facts") or ()), pack=pack,
    )


def load_pack_files(packs_dir: Path = PACKS_DIR) -> dict[str, dict[str, Any]]:
    out = {}
    for p in sorted(packs_dir.glob("*.yaml")):
        out[p.name] = _yaml(p.read_text(encoding="utf-8"))
    return out


@lru_cache(maxsize=1)
def load_rules() -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen: set[str] = set()
    for name, data in load_pack_files().items():
        for d in (data or {}).get("rules", []):
            if d["id"] in seen:
                raise RuleError(f"rules/packs/{name}: duplicate rule id {d['id']}")
            seen.add(d["id"])
            rules.append(_from_dict(d, name))
    return tuple(sorted(rules, key=lambda r: r.id))


def rules_by_id() -> dict[str, Rule]:
    return {r.id: r for r in load_rules()}


@lru_cache(maxsize=None)
def load_kb(name: str) -> Any:
    """A knowledge-base file under rules/kb by name ('native_npm.yaml', 'pyodide/index.json', ...)."""
    p = KB_DIR / name
    text = p.read_text(encoding="utf-8")
    return json.loads(text) if p.suffix == ".json" else _yaml(text)
