#!/usr/bin/env python3
"""Precision and recall of cfcompat on the labelled evaluation set (fixtures/eval/*/eval-app.yaml).

    python scripts/evaluate.py              # per category and overall, plus trap kinds
    python scripts/evaluate.py --baseline   # the same with the precision mechanisms off (import graph
                                            # contexts, guards, linked findings): the "before" numbers
    python scripts/evaluate.py --json       # machine-readable

Labels are the inline `cfcompat-expect` / `cfcompat-ok ... trap=KIND` comments (fixtures/eval/README.md) and
`expect_dependencies` in eval-app.yaml. A true positive is an expected (path, line, rule) with a non-info
finding; a false positive is a non-info finding on a source line without that expectation; a false negative is
an expectation without its finding. Dependencies count in a "dependencies" row.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from annotations import read_annotations  # noqa: E402
from cfcompat.analyzer.engine import ScanOptions, scan  # noqa: E402
from cfcompat.reports.json_report import document  # noqa: E402
from cfcompat.rules import rules_by_id  # noqa: E402

TRAP = re.compile(r"cfcompat-ok:\s*([a-z0-9\-]+(?:\s*,\s*[a-z0-9\-]+)*)\s+trap=([a-z\-]+)")


def trap_kinds(app: Path) -> dict[tuple[str, int, str], str]:
    out = {}
    for p in sorted(app.rglob("*")):
        if not p.is_file() or p.suffix not in (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".py"):
            continue
        rel = p.relative_to(app).as_posix()
        for i, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for ids, kind in TRAP.findall(line):
                for rid in (x.strip() for x in ids.split(",")):
                    out[(rel, i, rid)] = kind
    return out


def evaluate_app(app: Path, baseline: bool) -> dict:
    cfg = yaml.safe_load((app / "eval-app.yaml").read_text()) or {}
    opts = ScanOptions(target=cfg.get("target"), compat_date=cfg.get("compat_date"), jobs=1)
    if baseline:
        opts.use_graph = False
        opts.use_guards = False
    doc = document(scan(app, opts))
    ex = read_annotations(app)
    rules = rules_by_id()
    cat = lambda rid: rules[rid].category if rid in rules else "unknown-rule"  # noqa: E731
    found = {(f["path"], f["line"], f["rule_id"]): f for f in doc["findings"] if f["severity"] != "info"}
    found = {k: v for k, v in found.items() if k[0] in ex.files}
    stats: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    misses, false_pos = [], []
    for key in ex.expect:
        if key in found:
            stats[cat(key[2])]["tp"] += 1
        else:
            stats[cat(key[2])]["fn"] += 1
            misses.append(key)
    for key, f in found.items():
        if key not in ex.expect:
            stats[f["category"]]["fp"] += 1
            false_pos.append(key)
    flagged = {d["name"] for d in doc["dependencies"] if d["verdict"] in ("incompatible", "replace")
               and not d["dev"]}
    want = set(cfg.get("expect_dependencies") or [])
    stats["dependencies"]["tp"] += len(want & flagged)
    stats["dependencies"]["fn"] += len(want - flagged)
    stats["dependencies"]["fp"] += len(flagged - want)
    traps = trap_kinds(app)
    trap_stats: dict[str, dict[str, int]] = defaultdict(lambda: {"handled": 0, "flagged": 0})
    for key, kind in traps.items():
        trap_stats[kind]["flagged" if key in found else "handled"] += 1
    return {"app": app.name, "stats": stats, "traps": trap_stats, "misses": sorted(misses),
            "false_positives": sorted(false_pos),
            "dependency_misses": sorted(want - flagged), "dependency_extra": sorted(flagged - want)}


def pr(tp: int, fp: int, fn: int) -> tuple[float | None, float | None]:
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    return p, r


def run(eval_dir: Path, baseline: bool = False) -> dict:
    apps = sorted(p.parent for p in eval_dir.glob("*/eval-app.yaml"))
    results = [evaluate_app(a, baseline) for a in apps]
    per_cat: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    traps: dict[str, dict[str, int]] = defaultdict(lambda: {"handled": 0, "flagged": 0})
    for r in results:
        for c, s in r["stats"].items():
            for k in s:
                per_cat[c][k] += s[k]
        for k, s in r["traps"].items():
            for kk in s:
                traps[k][kk] += s[kk]
    tot = {k: sum(s[k] for s in per_cat.values()) for k in ("tp", "fp", "fn")}
    return {"apps": [r["app"] for r in results], "per_category": {k: per_cat[k] for k in sorted(per_cat)},
            "overall": tot, "traps": {k: traps[k] for k in sorted(traps)}, "details": results,
            "mode": "baseline (no import graph, no guards)" if baseline else "full"}


def fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", action="store_true", help="precision mechanisms off (the 'before' numbers)")
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--details", action="store_true", help="list every miss and false positive")
    ap.add_argument("--dir", type=Path, default=ROOT / "fixtures" / "eval")
    a = ap.parse_args()
    res = run(a.dir, a.baseline)
    if a.json:
        print(json.dumps(res, indent=2, default=list))
        return 0
    print(f"cfcompat evaluation ({res['mode']}): {len(res['apps'])} apps: {', '.join(res['apps'])}")
    print(f"{'category':<16}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}")
    for c, s in res["per_category"].items():
        p, r = pr(s["tp"], s["fp"], s["fn"])
        print(f"{c:<16}{s['tp']:>5}{s['fp']:>5}{s['fn']:>5}{fmt(p):>11}{fmt(r):>8}")
    o = res["overall"]
    p, r = pr(o["tp"], o["fp"], o["fn"])
    print(f"{'overall':<16}{o['tp']:>5}{o['fp']:>5}{o['fn']:>5}{fmt(p):>11}{fmt(r):>8}")
    print("\ntrap kind        handled  flagged")
    for k, s in res["traps"].items():
        print(f"{k:<16}{s['handled']:>8}{s['flagged']:>9}")
    if a.details:
        for d in res["details"]:
            for m in d["misses"]:
                print(f"MISS {d['app']}/{m[0]}:{m[1]} {m[2]}")
            for m in d["false_positives"]:
                print(f"FP   {d['app']}/{m[0]}:{m[1]} {m[2]}")
            for m in d["dependency_misses"]:
                print(f"MISS {d['app']} dependency {m}")
            for m in d["dependency_extra"]:
                print(f"FP   {d['app']} dependency {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
