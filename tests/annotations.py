"""Read `cfcompat-expect: RULE` / `cfcompat-ok: RULE` annotations from fixture source files and compare them
with findings. Used by the fixture test and the evaluation script."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# `cfcompat-expect: RULE[, RULE]` / `cfcompat-ok: RULE` apply to the fixture's default scan;
# `cfcompat-expect@VARIANT: RULE` / `cfcompat-ok@VARIANT: RULE` apply only to the variant of that name
# (a second scan of the same code at another compatibility date or target, see cfcompat-fixture.yaml).
ANNOT = re.compile(r"cfcompat-(expect|ok)(?:@([a-z0-9\-]+))?:\s*([a-z0-9\-]+(?:\s*,\s*[a-z0-9\-]+)*)")
SOURCE_EXT = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".py")


@dataclass
class Expectations:
    expect: set[tuple[str, int, str]] = field(default_factory=set)   # (path, line, rule)
    ok: set[tuple[str, int, str]] = field(default_factory=set)
    files: set[str] = field(default_factory=set)


def read_annotations(root: Path, variant: str | None = None) -> Expectations:
    ex = Expectations()
    for p in sorted(root.rglob("*")):
        if not p.is_file() or p.suffix not in SOURCE_EXT or "node_modules" in p.parts:
            continue
        rel = p.relative_to(root).as_posix()
        ex.files.add(rel)
        for i, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for kind, label, ids in ANNOT.findall(line):
                if (label or None) != variant:
                    continue
                for rid in (x.strip() for x in ids.split(",")):
                    (ex.expect if kind == "expect" else ex.ok).add((rel, i, rid))
    return ex


def compare(ex: Expectations, findings: list[dict]) -> list[str]:
    """Problems, one line each: missing expected findings, findings on ok lines, unannotated findings."""
    problems = []
    actual = {(f["path"], f["line"], f["rule_id"]) for f in findings if f["severity"] != "info"}
    for key in sorted(ex.expect - actual):
        problems.append(f"missing: {key[2]} at {key[0]}:{key[1]}")
    for key in sorted(ex.ok & actual):
        problems.append(f"false positive on an ok line: {key[2]} at {key[0]}:{key[1]}")
    for key in sorted(actual - ex.expect - ex.ok):
        if key[0] in ex.files:
            problems.append(f"unannotated finding: {key[2]} at {key[0]}:{key[1]}")
    return problems
