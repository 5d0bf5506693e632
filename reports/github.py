"""`--format github`: GitHub Actions workflow commands; `--format github-summary`: the job summary that goes with
them (markdown for `$GITHUB_STEP_SUMMARY`).

Annotations: `::error file=services/chat/src/db.js,line=11,endLine=13,col=12,title=sqlite-local-file (filesystem)::message`
(blocker -> error, warning -> warning), with paths relative to the repository root whatever folder was scanned
(GitHub resolves `file=` against the checkout). GitHub shows at most 10 annotations of each level per step, so at
most `RenderOptions.annotations_per_level` of each are written, the most severe first and, within a level, one
per rule before a second of the same rule (ten annotations then show ten different problems); linked findings
(an import of a package whose dependency finding is already annotated) come last. One `::notice::` says how many
were annotated and that the job summary lists every blocker and warning. Info findings are not annotated. Data is
escaped as the runner expects (% -> %25, CR -> %0D, LF -> %0A), properties also escape ':' -> %3A and ',' -> %2C.
Files that could not be analysed are warnings (after the findings, within the same budget).
Data from the repository: other control characters and escape sequences (which the log would act on) are shown
as `\\x1b`-style escapes first, so every line is a command cfcompat wrote; data never starts a line.
"""
from __future__ import annotations

from typing import Any

from .escape import printable
from .options import RenderOptions

LEVELS = {"blocker": "error", "warning": "warning"}
TARGET_NAMES = {"workers": "Cloudflare Workers", "python-workers": "Cloudflare Python Workers",
                "containers": "Cloudflare Containers", "durable-objects": "Cloudflare Durable Objects"}
SUMMARY_ROWS = 300          # the job summary holds up to 1 MiB; this keeps it well below


def escape_data(text: str) -> str:
    return printable(text, keep_breaks=True).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **props: Any) -> str:
    parts = [f"{k}={escape_property(str(v))}" for k, v in props.items() if v not in (None, "")]
    head = f"::{kind}" + (" " + ",".join(parts) if parts else "")
    return f"{head}::{escape_data(message)}"


def ordered(findings) -> list:
    """Blockers and warnings, most severe first; within a level the first finding of each rule (in file order)
    before the second of any rule, and findings linked to another one last."""
    out = []
    for sev in ("blocker", "warning"):
        level = [f for f in findings if f.severity == sev]
        level.sort(key=lambda f: (f.path, f.line, f.column, f.rule_id))
        seen: dict[str, int] = {}
        keyed = []
        for i, f in enumerate(level):
            n = seen.get(f.rule_id, 0)
            seen[f.rule_id] = n + 1
            keyed.append((bool(f.related), n, i, f))
        out.extend(f for *_k, f in sorted(keyed, key=lambda k: k[:3]))
    return out


def selection(result, options: RenderOptions) -> tuple[list, dict[str, int], dict[str, int]]:
    """(annotated findings, annotated count per severity, total per severity)."""
    budget = options.annotations_per_level
    chosen, shown, total = [], {"blocker": 0, "warning": 0}, {"blocker": 0, "warning": 0}
    for f in ordered(result.findings):
        total[f.severity] += 1
        if shown[f.severity] < budget:
            shown[f.severity] += 1
            chosen.append(f)
    return chosen, shown, total


def render(result, options: RenderOptions | None = None, **_: Any) -> str:
    opts = RenderOptions.of(options)
    chosen, shown, total = selection(result, opts)
    lines = []
    for f in chosen:
        msg = f"{f.message}\nFix: {f.remediation}" + (f"\nDocs: {f.docs[0]}" if f.docs else "")
        props: dict[str, Any] = {"file": opts.repo_path(f.path), "line": f.line}
        if f.end_line and f.end_line != f.line:
            props["endLine"] = f.end_line
        if f.column:
            props["col"] = f.column
        props["title"] = f"{f.rule_id} ({f.category})"
        lines.append(command(LEVELS[f.severity], msg, **props))
    room = max(0, opts.annotations_per_level - shown["warning"])
    for e in result.errors[:room]:
        lines.append(command("warning", f"not analysed: {e.message}", file=opts.repo_path(e.path), title="cfcompat"))
    lines.append(command("notice", notice(result, shown, total, len(result.errors[:room])), title="cfcompat"))
    return "\n".join(lines) + "\n"


def _counts(result) -> str:
    n = result.summary["findings"]
    info = sum(1 for f in result.findings if f.severity == "info")
    linked = result.summary.get("linked", 0)
    extra = f" ({linked} more linked to a dependency finding and counted with it)" if linked else ""
    return f"{n['blocker']} blocker(s), {n['warning']} warning(s), {info} info{extra}"


def notice(result, shown: dict[str, int], total: dict[str, int], errors_shown: int) -> str:
    s = result.summary
    msg = f"cfcompat: {s['verdict']} on {result.settings.target}: {_counts(result)}"
    if s.get("baseline_hidden"):
        msg += f"; {s['baseline_hidden']} hidden by the baseline"
    cut = [f"{shown[k]} of {total[k]} {k}s" for k in ("blocker", "warning") if shown[k] < total[k]]
    if cut or errors_shown < len(result.errors):
        msg += "; annotated " + (", ".join(cut) if cut else "every finding") + \
               " (GitHub shows 10 per level), the job summary lists all"
    return msg


def render_summary(result, options: RenderOptions | None = None, **_: Any) -> str:
    """Markdown for `$GITHUB_STEP_SUMMARY`: verdict, counts, and every blocker and warning (repository paths),
    saying which ones are annotated."""
    from .escape import code
    from .pr_comment import prose, text
    opts = RenderOptions.of(options)
    chosen, shown, total = selection(result, opts)
    annotated = {id(f) for f in chosen}
    s = result.summary
    icon = {"blocked": "⛔", "needs-changes": "⚠️", "ready": "✅"}.get(s["verdict"], "")
    where = TARGET_NAMES.get(result.settings.target, result.settings.target)
    folder = opts.repository_prefix.rstrip("/") or "."
    out = [f"### {icon} cfcompat: {text(s['verdict'])} on {where}", "",
           f"{text(_counts(result))} in {code(folder)}"
           + (f"; {s['baseline_hidden']} hidden by the baseline" if s.get("baseline_hidden") else "") + ".", ""]
    rows = ordered(result.findings)
    if rows:
        out += [f"Annotated on the files: {shown['blocker']} of {total['blocker']} blockers and {shown['warning']} of "
                f"{total['warning']} warnings (GitHub shows at most {opts.annotations_per_level} of each per step; "
                "the most severe first, one per rule before repeats).", ""]
        out += ["| | rule | where | problem | annotated |", "|---|---|---|---|---|"]
        for f in rows[:SUMMARY_ROWS]:
            mark = {"blocker": "⛔ blocker", "warning": "⚠️ warning"}[f.severity]
            linked = " (linked)" if f.related else ""
            out.append(f"| {mark}{linked} | {code(f.rule_id, table=True)} | "
                       f"{code(f'{opts.repo_path(f.path)}:{f.line}', table=True)} | "
                       f"{prose(f.message, table=True, limit=200)} | {'yes' if id(f) in annotated else ''} |")
        if len(rows) > SUMMARY_ROWS:
            out.append(f"| | | | …and {len(rows) - SUMMARY_ROWS} more: see the SARIF or JSON report | |")
        out.append("")
    else:
        out += ["No blockers or warnings.", ""]
    if result.errors:
        out += [f"<details><summary>{len(result.errors)} file(s) not analysed</summary>", ""]
        out += [f"- {code(opts.repo_path(e.path))}: {text(e.message)}" for e in result.errors[:100]]
        out += ["", "</details>", ""]
    return "\n".join(out) + "\n"
