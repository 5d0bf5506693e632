"""Every rule's examples are tests (in the manner of Fixit's VALID/INVALID): in each language an example lists,
its `before` files must produce the rule and its `after` files must not. Every rule has an example in every
language it declares."""
from __future__ import annotations

from pathlib import Path

import pytest

from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.analyzer.languages import LANGUAGES
from cfcompat.rules import Example, Rule, load_rules
from cfcompat.rules.loader import EXAMPLE_EXT

RULES = load_rules()
CASES = [(r, i, ex, lang) for r in RULES for i, ex in enumerate(r.examples) for lang in ex.languages]


def materialise(root: Path, files: dict, lang: str) -> None:
    for name, content in files.items():
        p = root / name.replace("{ext}", EXAMPLE_EXT[lang])
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict):
            with open(p, "wb") as fh:            # a sparse file of the given size
                fh.truncate(int(content["size_mb"] * 1024 * 1024))
        else:
            p.write_text(content, encoding="utf-8")


def rule_ids(root: Path, target: str) -> dict[str, list]:
    res = scan(root, ScanOptions(target=target, jobs=1, use_cache=False))
    out: dict[str, list] = {}
    for f in res.findings:
        out.setdefault(f.rule_id, []).append(f)
    return out


def _target(rule: Rule, ex: Example, lang: str) -> str:
    if ex.target:
        return ex.target
    own = LANGUAGES[lang].default_target
    return own if rule.severity_for(own) is not None else next(iter(rule.severity))


@pytest.mark.parametrize("rule,index,example,lang", CASES,
                         ids=[f"{r.id}-{i}-{lang}" for r, i, _, lang in CASES])
def test_example(tmp_path: Path, rule: Rule, index: int, example: Example, lang: str) -> None:
    target = _target(rule, example, lang)
    before, after = tmp_path / "before", tmp_path / "after"
    materialise(before, example.before, lang)
    materialise(after, example.after, lang)
    got = rule_ids(before, target)
    assert rule.id in got, f"{rule.id} example {index} ({lang}, {target}): `before` does not produce the rule; " \
                           f"it produced {sorted(got)}"
    got = rule_ids(after, target)
    assert rule.id not in got, f"{rule.id} example {index} ({lang}, {target}): `after` still produces it: " \
                               f"{[(f.path, f.line, f.snippet) for f in got[rule.id]]}"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_every_rule_has_an_example_in_every_language_it_declares(rule: Rule) -> None:
    covered = {lang for ex in rule.examples for lang in ex.languages}
    missing = set(rule.languages) - covered
    assert not missing, f"{rule.id} ({rule.pack}:{rule.pack_line}) has no example in {sorted(missing)}"
    for ex in rule.examples:
        assert set(ex.languages) <= set(rule.languages), f"{rule.id}: an example for a language it does not declare"
