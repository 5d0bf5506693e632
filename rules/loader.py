"""Loading the rule packs (rules/packs/*.yaml, checked against rules/schema/rule.schema.json) into `Rule`s."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from .kb import load_yaml
from .model import Example, PlanInfo, Rule, RuleError

RULES_DIR = Path(__file__).resolve().parent
PACKS_DIR = RULES_DIR / "packs"
SCHEMA_PATH = RULES_DIR / "schema" / "rule.schema.json"


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


EXAMPLE_EXT = {"javascript": "js", "typescript": "ts", "python": "py"}


def _files(v: Any) -> dict[str, Any]:
    """An example side: a map of file -> content (text, or {size_mb: N} for a large file of zeros), or one text,
    which is `src/example.<ext>` in each language the example runs in."""
    if isinstance(v, dict):
        return {str(k): (t if isinstance(t, dict) else str(t)) for k, t in v.items()}
    return {"src/example.{ext}": str(v or "")}


def _examples(d: dict[str, Any]) -> tuple[Example, ...]:
    out = []
    for e in d.get("examples") or ():
        langs = tuple(e.get("languages") or ())
        out.append(Example(languages=langs, before=_files(e.get("before")), after=_files(e.get("after")),
                           target=e.get("target"), title=e.get("title", "")))
    return tuple(out)


def _from_dict(d: dict[str, Any], pack: str, line: int) -> Rule:
    plan = d.get("plan") or {}
    return Rule(
        id=d["id"], category=d["category"], languages=tuple(d["languages"]), severity=dict(d["severity"]),
        effort=int(d["effort"]), message=d["message"].strip(), remediation=d["remediation"].strip(),
        docs=tuple(d["docs"]), match=dict(d.get("match") or {}), where=tuple(d.get("where") or ()),
        unless=tuple(d.get("unless") or ()), top_level=d.get("top_level"), cls=d.get("class"),
        title=d.get("title", ""), why=(d.get("why") or "").strip(), examples=_examples(d),
        facts=tuple(d.get("facts") or ()), pack=pack, pack_line=line,
        plan=PlanInfo(action=plan.get("action", ""), products=tuple(plan.get("products") or ()),
                      phase=plan.get("phase", ""), rewrite=bool(plan.get("rewrite", False))),
        related=tuple(d.get("related") or ()), fixes=tuple(d.get("fixes") or ()), roles=tuple(d.get("roles") or ()),
        legacy_example=dict(d.get("example") or {}),
    )


def load_pack_files(packs_dir: Path = PACKS_DIR) -> dict[str, dict[str, Any]]:
    out = {}
    for p in sorted(packs_dir.glob("*.yaml")):
        out[p.name] = load_yaml(p.read_text(encoding="utf-8"))
    return out


_ID_LINE = re.compile(r"^[ \t]*-[ \t]+id:[ \t]*['\"]?([a-z0-9-]+)", re.M)


def rule_lines(text: str) -> dict[str, int]:
    """Rule id -> the 1-based line of its `- id:` entry in a pack's text (every pack writes `- id:` first)."""
    return {m.group(1): text.count("\n", 0, m.start()) + 1 for m in _ID_LINE.finditer(text)}


@lru_cache(maxsize=1)
def load_rules() -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen: set[str] = set()
    for p in sorted(PACKS_DIR.glob("*.yaml")):
        text = p.read_text(encoding="utf-8")
        data = load_yaml(text)
        lines = rule_lines(text)
        for d in (data or {}).get("rules", []):
            if d["id"] in seen:
                raise RuleError(f"rules/packs/{p.name}: duplicate rule id {d['id']}")
            seen.add(d["id"])
            rules.append(_from_dict(d, p.name, lines.get(d["id"], 0)))
    return tuple(sorted(rules, key=lambda r: r.id))


@lru_cache(maxsize=1)
def rules_by_id() -> dict[str, Rule]:
    """Rule id -> rule (one shared dict: read it, do not change it)."""
    return {r.id: r for r in load_rules()}


def rules_with_role(role: str) -> tuple[Rule, ...]:
    """The rules that mark themselves with `roles: [ROLE]` in their pack: how other stages find a rule by what
    it does instead of by its id (a test checks no rule id is written in analyzer/ or reports/)."""
    return tuple(r for r in load_rules() if role in r.roles)


def rules_fixed_by(fix: str) -> tuple[str, ...]:
    """Ids of the rules that name `cfcompat fix` codemod FIX in their `fixes:`."""
    return tuple(r.id for r in load_rules() if fix in r.fixes)
