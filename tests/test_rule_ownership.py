"""A rule owns everything about itself: no rule id is written in analyzer/ or reports/ (stages look rules up by
`roles`, `plan`, `related` and `fixes` in the packs), and every role, related rule and fix a pack names exists."""
from __future__ import annotations

import ast
from pathlib import Path

from cfcompat.rules import load_rules, rules_by_id

ROOT = Path(__file__).resolve().parents[1]


def _string_literals(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def test_no_rule_id_outside_rules() -> None:
    ids = {r.id for r in load_rules()}
    hits = []
    for folder in ("analyzer", "reports"):
        for p in sorted((ROOT / folder).rglob("*.py")):
            for line, text in _string_literals(p):
                words = {text} | {w.strip("`'\".,;:()[]") for w in text.split()}
                if words & ids:
                    hits.append(f"{p.relative_to(ROOT)}:{line}: {sorted(words & ids)}")
    assert not hits, "rule ids written outside rules/ (use roles/plan/related/fixes):\n" + "\n".join(hits)


def test_references_between_rules_resolve() -> None:
    by_id = rules_by_id()
    from cfcompat.analyzer.fix.runner import FIX_IDS
    for r in load_rules():
        assert set(r.related) <= set(by_id), (r.id, r.related)
        assert set(r.fixes) <= set(FIX_IDS), (r.id, r.fixes)
        assert r.id not in r.roles


def test_every_role_a_stage_asks_for_is_declared() -> None:
    """Each `rules_with_role("X")` in analyzer/ and reports/ names a role some rule has."""
    roles = {role for r in load_rules() for role in r.roles}
    asked = set()
    for folder in ("analyzer", "reports"):
        for p in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == \
                        "rules_with_role" and node.args and isinstance(node.args[0], ast.Constant):
                    asked.add(node.args[0].value)
    assert asked and asked <= roles, asked - roles


def test_rules_and_explain_say_where_each_rule_is_defined() -> None:
    """`cfcompat rules` names each rule's pack and line (and class); `explain` shows every example."""
    from click.testing import CliRunner

    from cfcompat.analyzer.cli import cli
    out = CliRunner().invoke(cli, ["rules"]).output
    for r in load_rules():
        line = next(ln for ln in out.splitlines() if ln.split()[0] == r.id)
        assert f"rules/packs/{r.pack}:{r.pack_line}" in line and (not r.cls or f"class {r.cls}" in line)
        text = (ROOT / "rules" / "packs" / r.pack).read_text().splitlines()[r.pack_line - 1]
        assert text.strip() == f"- id: {r.id}"
    rule = rules_by_id()["module-state-shared"]
    shown = CliRunner().invoke(cli, ["explain", rule.id]).output
    assert shown.count("Example ") == len(rule.examples) >= 2
    assert "rules/classes/state.py" in shown
