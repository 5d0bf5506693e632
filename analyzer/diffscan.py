"""`scan --diff-base REF`: which findings a change introduced and which it fixed.

The head is the scanned working tree; the base is the merge-base of REF and HEAD (see gitdiff.py), whose files
are scanned from a temporary folder with the same options and config. Then head and base findings are paired:

1. Findings are grouped by (rule, path, normalised snippet); a base path renamed in the change counts under its
   new name. Within a group, head findings on lines the change did not touch are paired first (same
   fingerprint first, then any), then head findings on changed lines (same fingerprint first, then any). So
   a finding whose fingerprint existed at the base is not new even if its line changed (code moved or
   re-indented), and adding a second identical call above an old one reports the added line, not the old one.
2. What is left of the head is *new*; what is left of the base is *fixed*.
3. A new and a fixed finding with the same rule, normalised snippet and enclosing symbol in different files
   are the same code moved between files: neither new nor fixed.
4. A dependency finding (path = a manifest) whose package is still declared there with another version is
   *changed*: it stays new (a changed dependency is reported) and is not counted as fixed.
5. A paired finding whose severity rose (info in a test file that runtime code now imports) is new.

Dependencies are compared by (ecosystem, manifest, name): added, removed, and changed (version or dev).
"""
from __future__ import annotations

import dataclasses
import re
from collections import deque
from typing import Any

from .gitdiff import BaseTree
from .model import Dependency, Finding, SEVERITY_RANK


def norm_snippet(s: str) -> str:
    return re.sub(r"\s+", " ", s or "").strip()


def recount(result) -> None:
    """Summary counts and verdict from `result.findings` (after diff or baseline filtering)."""
    from .engine import verdict_of
    sev = {s: 0 for s in ("blocker", "warning", "info")}
    for f in result.findings:
        if not f.related:
            sev[f.severity] = sev.get(f.severity, 0) + 1
    result.summary["findings"] = sev
    result.summary["verdict"] = verdict_of(result.findings)
    result.summary["linked"] = sum(1 for f in result.findings if f.related)
    result.assessment = None   # recomputed from the remaining findings


@dataclasses.dataclass
class Comparison:
    new: list[tuple[Finding, str, str]]          # (finding, why, severity it had at the base or '')
    fixed: list[Finding]
    moved: int
    changed_files: list[str]
    dependencies_added: list[dict[str, Any]]
    dependencies_changed: list[dict[str, Any]]
    dependencies_removed: list[dict[str, Any]]


def compare(head_findings: list[Finding], base_findings: list[Finding], tree: BaseTree,
            head_deps: list[Dependency], base_deps: list[Dependency], head_files: list[str]) -> Comparison:
    manifests = {d.manifest for d in head_deps} | {tree.head_path(d.manifest) for d in base_deps}

    def hkey(f: Finding, path: str) -> tuple[str, str, str]:
        return (f.rule_id, path, norm_snippet(f.snippet))

    groups: dict[tuple[str, str, str], tuple[list[Finding], list[Finding]]] = {}
    for f in head_findings:
        groups.setdefault(hkey(f, f.path), ([], []))[0].append(f)
    for b in base_findings:
        groups.setdefault(hkey(b, tree.head_path(b.path)), ([], []))[1].append(b)

    def fp_of_base(b: Finding) -> str:
        return renamed_fp.get(id(b), b.fingerprint)

    # fingerprints of base findings as they would read at the head path (a rename changes the path part)
    renamed_fp: dict[int, str] = {}
    if tree.renames:
        from .engine import finalize
        moved_copies = []
        originals = []
        for b in base_findings:
            if b.path in tree.renames:
                c = dataclasses.replace(b, path=tree.renames[b.path])
                moved_copies.append(c)
                originals.append(b)
        index = {id(c): o for c, o in zip(moved_copies, originals)}
        finalize(moved_copies)
        for c in moved_copies:
            renamed_fp[id(index[id(c)])] = c.fingerprint

    # Every "first X in the list that ..." below reads an index (ascending positions, dead ones skipped) instead
    # of scanning the list, and removal marks a position dead: the same answers in near-linear time (a group of
    # thousands of identical findings was quadratic).
    new: list[tuple[Finding, str, str]] = []
    pairs: list[tuple[Finding, Finding]] = []
    fixed: list[Finding] = []
    for (_rule, path, _snip), (hs, bs) in groups.items():
        alive = [True] * len(bs)
        by_fp: dict[str, deque[int]] = {}
        by_sym: dict[str, deque[int]] = {}
        for k, b in enumerate(bs):
            by_fp.setdefault(fp_of_base(b), deque()).append(k)
            by_sym.setdefault(b.symbol, deque()).append(k)
        head = [0]

        def first(q: deque[int] | None) -> int | None:
            while q and not alive[q[0]]:
                q.popleft()
            return q[0] if q else None

        def first_left() -> int | None:
            while head[0] < len(bs) and not alive[head[0]]:
                head[0] += 1
            return head[0] if head[0] < len(bs) else None

        unchanged = [h for h in hs if not tree.is_changed(path, h.line)]
        changed = [h for h in hs if tree.is_changed(path, h.line)]
        rest: list[Finding] = []
        for batch in (unchanged, changed):
            pending = []
            for h in batch:       # exact fingerprint first
                k = first(by_fp.get(h.fingerprint))
                if k is not None:
                    alive[k] = False
                    pairs.append((h, bs[k]))
                else:
                    pending.append(h)
            for h in pending:     # then same symbol, then any
                k = first(by_sym.get(h.symbol))
                if k is None:
                    k = first_left()
                if k is not None:
                    alive[k] = False
                    pairs.append((h, bs[k]))
                else:
                    rest.append(h)
        new += [(h, "added", "") for h in rest]
        fixed += [b for k, b in enumerate(bs) if alive[k]]

    fixed_alive = [True] * len(fixed)
    new_alive = [True] * len(new)

    def first_fixed(q: deque[int] | None) -> int | None:
        while q and not fixed_alive[q[0]]:
            q.popleft()
        return q[0] if q else None

    # code moved between files: per (rule, symbol, snippet) and base severity, the fixed findings in list order
    movable: dict[tuple[str, str, str], dict[int, deque[int]]] = {}
    for k, b in enumerate(fixed):
        if tree.head_path(b.path) not in manifests:
            key = (b.rule_id, b.symbol, norm_snippet(b.snippet))
            movable.setdefault(key, {}).setdefault(SEVERITY_RANK[b.severity], deque()).append(k)
    moved = 0
    for i, (h, _why, _was) in enumerate(new):
        if h.path in manifests:
            continue
        by_rank = movable.get((h.rule_id, h.symbol, norm_snippet(h.snippet)))
        if not by_rank:
            continue
        floor = SEVERITY_RANK[h.severity]
        found = [k for rank, q in by_rank.items() if rank >= floor for k in [first_fixed(q)] if k is not None]
        if found:
            fixed_alive[min(found)] = False
            new_alive[i] = False
            moved += 1

    # a dependency whose version changed: reported (new), not fixed
    by_dep: dict[tuple[str, str, str], deque[int]] = {}
    for k, b in enumerate(fixed):
        by_dep.setdefault((b.rule_id, b.symbol, tree.head_path(b.path)), deque()).append(k)
    for i, (h, _why, _was) in enumerate(new):
        if not new_alive[i] or h.path not in manifests or not h.symbol:
            continue
        k = first_fixed(by_dep.get((h.rule_id, h.symbol, h.path)))
        if k is not None:
            fixed_alive[k] = False
            new[i] = (h, "dependency-changed", fixed[k].severity)
    new = [t for i, t in enumerate(new) if new_alive[i]]
    fixed = [b for k, b in enumerate(fixed) if fixed_alive[k]]

    for h, b in pairs:
        if SEVERITY_RANK[h.severity] > SEVERITY_RANK[b.severity]:
            new.append((h, "severity-rose", b.severity))

    new.sort(key=lambda t: t[0].sort_key())
    fixed.sort(key=lambda f: f.sort_key())
    added, changed_deps, removed = compare_dependencies(head_deps, base_deps, tree)
    return Comparison(new=new, fixed=fixed, moved=moved, changed_files=tree.changed_files(head_files),
                      dependencies_added=added, dependencies_changed=changed_deps, dependencies_removed=removed)


def _dep_key(d: Dependency, path: str) -> tuple[str, str, str, str]:
    return (d.ecosystem, path, d.name, d.kind)


def compare_dependencies(head: list[Dependency], base: list[Dependency], tree: BaseTree):
    h = {}
    for d in head:
        h.setdefault(_dep_key(d, d.manifest), d)
    b = {}
    for d in base:
        b.setdefault(_dep_key(d, tree.head_path(d.manifest)), d)
    added = [h[k].to_json() for k in sorted(set(h) - set(b))]
    removed = [b[k].to_json() for k in sorted(set(b) - set(h))]
    changed = []
    for k in sorted(set(h) & set(b)):
        new, old = h[k], b[k]
        if (new.version, new.dev) != (old.version, old.dev):
            d = new.to_json()
            d["from"] = {"version": old.version, "dev": old.dev, "verdict": old.verdict}
            changed.append(d)
    return added, changed, removed


def apply_diff(result, options, tree: BaseTree, started: float | None = None) -> None:
    """Scan the base, compare, and narrow `result.findings` to the new ones; the rest goes to `result.diff`.
    With `options.max_seconds`, the whole run (head scan from STARTED, base extraction, base scan, line diffs)
    shares that bound; what it cuts makes the result `partial`."""
    import time
    from .engine import scan
    from .model import ScanError
    base_options = dataclasses.replace(options, progress=None)
    if options.max_seconds:
        t0 = started if started is not None else time.monotonic()
        tree.deadline = t0 + options.max_seconds
    with tree:
        if tree.deadline is not None:
            base_options.max_seconds = max(0.1, tree.deadline - time.monotonic())
        base = scan(tree.folder, base_options)
        head_files = sorted({f.path for f in result.files} | {d.manifest for d in result.dependencies}
                            | {f.path for f in result.findings})
        cmp = compare(result.findings, base.findings, tree, result.dependencies, base.dependencies, head_files)
    cut = tree.cut or bool(base.summary.get("partial"))
    new_json = []
    for f, why, was in cmp.new:
        d = f.to_json()
        d["change"] = why
        if was:
            d["base_severity"] = was
        new_json.append(d)
    counts = {s: 0 for s in ("blocker", "warning", "info")}
    for f, _w, _x in cmp.new:
        counts[f.severity] += 1
    fixed_counts = {s: 0 for s in ("blocker", "warning", "info")}
    for f in cmp.fixed:
        fixed_counts[f.severity] += 1
    result.diff = {
        "base": tree.commit,
        "head": tree.head,
        "base_ref": tree.ref,
        "base_ref_commit": tree.ref_commit,
        "base_is_merge_base": tree.merge_base,
        "head_is_working_tree": True,
        "changed_files": cmp.changed_files,
        "renamed": [{"from": o, "to": n} for o, n in sorted(tree.renames.items())],
        "new": new_json,
        "fixed": [f.to_json() for f in cmp.fixed],
        "moved": cmp.moved,
        "counts": {"new": counts, "fixed": fixed_counts, "base_findings": len(base.findings),
                   "head_findings": len(result.findings)},
        "dependencies_added": cmp.dependencies_added,
        "dependencies_changed": cmp.dependencies_changed,
        "dependencies_removed": cmp.dependencies_removed,
    }
    if cut:
        result.diff["partial"] = True
        result.errors.append(ScanError(".", f"the comparison with the base {tree.commit[:12]} is incomplete: the "
                                            f"scan reached its time limit ({options.max_seconds:g} s, "
                                            "--max-seconds); findings may be reported as new that are not"))
        result.errors.sort(key=lambda e: (e.path, e.message))
    result.findings = [f for f, _w, _x in cmp.new]
    recount(result)
    if cut:
        result.summary["partial"] = True

