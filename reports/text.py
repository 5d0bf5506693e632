"""`--format text`: a summary table by category and severity, then findings grouped by file.

Rich markup on a terminal; plain text (no colour, no box characters) when not a terminal. Everything that comes
from the scanned repository goes through `_e`: markup escaped, control characters and escape sequences shown as
`\\x1b`-style escapes (with or without colour); and no output line can start like a GitHub Actions workflow
command (`::`)."""
from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich import box

from ..analyzer.model import CATEGORIES
from ..rules.kb import kb_as_of
from .escape import no_workflow_commands, printable

SEV_STYLE = {"blocker": "bold red", "warning": "yellow", "info": "dim"}
VERDICT_STYLE = {"blocked": "bold red", "needs-changes": "bold yellow", "ready": "bold green"}


def render(result, *, color: bool = False, width: int = 110, show_info: bool = True, **_: Any) -> str:
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=color, no_color=not color, width=width, highlight=False,
                  emoji=False, legacy_windows=False)
    s = result.summary
    st = result.settings
    con.print(f"[bold]cfcompat[/bold] {_e(result.root.name)}: {s['files']} files, {s['lines']} lines "
              f"({', '.join(f'{k} {v}' for k, v in s['languages'].items()) or 'no source files'})")
    con.print(f"Target [bold]{st.target}[/bold] ({_e(st.target_source)}); compatibility date "
              f"{_e(st.compatibility_date)} ({_e(st.compatibility_date_source)}); flags: "
              f"{_e(', '.join(st.compatibility_flags)) or 'none'}; plan {st.plan}; knowledge base as of {kb_as_of()}")
    v = s["verdict"]
    n = s["findings"]
    con.print(f"Verdict: [{VERDICT_STYLE[v]}]{v}[/] - {n['blocker']} blocker(s), {n['warning']} warning(s), "
              f"{n['info']} info")
    con.print()
    by_cat: dict[str, dict[str, int]] = defaultdict(lambda: {"blocker": 0, "warning": 0, "info": 0})
    for f in result.findings:
        if not f.related:   # the same problem as a dependency finding: counted once, like the summary
            by_cat[f.category][f.severity] += 1
    if by_cat:
        table = Table(box=box.SIMPLE if color else box.ASCII2, show_edge=False, pad_edge=False)
        table.add_column("category")
        table.add_column("blocker", justify="right")
        table.add_column("warning", justify="right")
        table.add_column("info", justify="right")
        for cat in CATEGORIES:
            if cat in by_cat:
                c = by_cat[cat]
                table.add_row(cat, _n(c["blocker"], "blocker", color), _n(c["warning"], "warning", color),
                              str(c["info"]))
        con.print(table)
    by_file: dict[str, list] = defaultdict(list)
    for f in result.findings:
        if f.severity == "info" and not show_info:
            continue
        by_file[f.path].append(f)
    for path in sorted(by_file):
        con.print(f"[bold underline]{_e(path)}[/]")
        for f in by_file[path]:
            if f.severity == "info":
                why = f.note or f.message
                con.print(f"  {f.line}:{f.column} [dim]info {_e(f.rule_id)}: {_e(_clip(why, 80))}[/]")
                continue
            con.print(f"  {f.line}:{f.column} [{SEV_STYLE[f.severity]}]{f.severity}[/] {_e(f.rule_id)} "
                      f"[dim]({f.category})[/]")
            con.print(f"    > {_e(f.snippet)}", soft_wrap=False, overflow="ellipsis", no_wrap=True)
            con.print(Padding(_e(f.message), (0, 0, 0, 4), expand=False))
            if f.note:
                con.print(Padding(f"[dim]note: {_e(f.note)}[/]", (0, 0, 0, 4), expand=False))
            if len(f.chain) > 1:
                con.print(Padding(f"[dim]imported via: {_e(' > '.join(f.chain))}[/]", (0, 0, 0, 4), expand=False))
            if f.fixable_by_setting:
                con.print(Padding(f"[green]fixable by setting:[/] {_e(f.fixable_by_setting)} (`cfcompat fix`)",
                                  (0, 0, 0, 4), expand=False))
            con.print(Padding(f"[green]fix:[/] {_e(f.remediation)}", (0, 0, 0, 4), expand=False))
            if f.docs:
                con.print(Padding(f"[dim]docs: {_e(f.docs[0])}[/]", (0, 0, 0, 4), expand=False))
        con.print()
    bad = [d for d in result.dependencies if d.verdict in ("incompatible", "replace")]
    if bad:
        con.print("[bold]Dependencies that need a change[/]")
        for d in bad:
            via = f" via {d.via}" if d.via else ""
            dev = " (dev)" if d.dev else ""
            con.print(f"  {_e(d.manifest)}:{d.line} {_e(d.name)}{_e(via)}{dev}: {_e(d.verdict)}"
                      + (f" -> {_e(d.replacement)}" if d.replacement else ""))
        con.print()
    if result.errors:
        con.print(f"[bold]Skipped or unreadable ({len(result.errors)})[/]")
        for e in result.errors:
            con.print(f"  {_e(e.path)}: {_e(e.message)}")
        con.print()
    if not result.findings:
        con.print("No problems found for this target: every scanned file and dependency is compatible "
                  "with the rules in cfcompat's knowledge base.")
    return no_workflow_commands("\n".join(line.rstrip() for line in buf.getvalue().splitlines())) + "\n"


def _e(value) -> str:
    """Repository text for the console: control characters made visible, then Rich markup escaped."""
    return escape(printable(value))


def _n(v: int, sev: str, color: bool) -> str:
    if not v:
        return "0"
    return f"[{SEV_STYLE[sev]}]{v}[/]" if color else str(v)


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."
