"""`--format text`: what a person reads in a terminal or a CI log.

Everything that comes from the scanned repository is made printable (control characters and escape sequences
shown as `\\x1b`-style escapes, with or without colour), and no output line can start like a GitHub Actions
workflow command (`::`).

Layout: the header (repository, settings, verdict and counts), the table of counts per category, then the
findings in sections by severity (blockers, warnings, info; each grouped by file, by line within a file), the
dependencies that need a change, files not analysed, and the verdict and counts again at the end.

- Width: `RenderOptions.width` (the terminal's, or COLUMNS, or --width): paragraphs wrap with a hanging indent,
  snippets and info lines are clipped to one line. `width=None` (piped): plain lines, never wrapped or clipped,
  so grep and diff see one line per item.
- Colour only when `RenderOptions.color` (ANSI; a terminal).
- `RenderOptions.min_severity` hides the sections below it; the counts at the top and the end still include
  them, and a line says how many were hidden.
- Counts: the summary counts a finding linked to a dependency finding (`related`: the import of a native
  package whose manifest entry is the finding) once, with its dependency; every linked finding is still listed,
  marked as such, and the section header says how many of its lines are linked.
"""
from __future__ import annotations

import textwrap
from collections import defaultdict
from typing import Any

from ..analyzer.model import CATEGORIES
from ..rules.kb import kb_as_of
from .escape import no_workflow_commands, printable
from .options import RenderOptions

SEVERITIES = ("blocker", "warning", "info")
TITLES = {"blocker": "Blockers", "warning": "Warnings", "info": "Info"}
ANSI = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "bold red": "1;31",
        "bold yellow": "1;33", "bold green": "1;32", "underline": "4", "bold underline": "1;4"}
SEV_STYLE = {"blocker": "bold red", "warning": "yellow", "info": "dim"}
VERDICT_STYLE = {"blocked": "bold red", "needs-changes": "bold yellow", "ready": "bold green"}


class _Out:
    def __init__(self, width: int | None, color: bool) -> None:
        self.width = width
        self.color = color
        self.lines: list[str] = []

    def style(self, text: str, style: str | None) -> str:
        text = printable(text)
        if not self.color or not style or not text:
            return text
        return f"\x1b[{ANSI[style]}m{text}\x1b[0m"

    def line(self, *segments: tuple[str, str | None] | str) -> None:
        self.lines.append("".join(self.style(*s) if isinstance(s, tuple) else printable(s) for s in segments).rstrip())

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def para(self, text: str, indent: int = 0, label: str = "", label_style: str | None = None,
             style: str | None = None, hang: int = 0) -> None:
        """`label` + `text`, wrapped at the width with continuation lines indented by `indent` + `hang`; one
        line when not wrapping."""
        text = " ".join(printable(text).split())
        label = printable(label)
        first = " " * indent + label
        if self.width is None:
            self.lines.append(self.style(first[:indent], None) + self.style(label, label_style)
                              + self.style(text, style))
            return
        wrapped = textwrap.wrap(label + text, width=max(20, self.width), initial_indent=" " * indent,
                                subsequent_indent=" " * (indent + hang), break_long_words=False,
                                break_on_hyphens=False) or [first]
        for i, ln in enumerate(wrapped):
            if i == 0 and label and ln.startswith(first):
                ln = " " * indent + self.style(label, label_style) + self.style(ln[len(first):], style)
            else:
                ln = self.style(ln, style) if style else ln
            self.lines.append(ln.rstrip())

    def clipped(self, text: str, indent: int, style: str | None = None, prefix: str = "") -> None:
        """One line, cut with '...' at the width (whole when not wrapping)."""
        text = " ".join(printable(text).split())
        prefix = printable(prefix)
        room = None if self.width is None else self.width - indent - len(prefix)
        if room is not None and len(text) > room:
            text = text[: max(1, room - 3)].rstrip() + "..."
        self.lines.append(" " * indent + prefix + self.style(text, style))


def _counts_line(out: _Out, result) -> None:
    s = result.summary
    n = s["findings"]
    v = s["verdict"]
    out.line("Verdict: ", (v, VERDICT_STYLE.get(v)),
             f" - {n['blocker']} blocker(s), {n['warning']} warning(s), {n['info']} info")
    linked = s.get("linked", 0)
    if linked:
        out.para(f"({linked} more finding(s) linked to a dependency finding: the same problem, listed but counted "
                 "once)", indent=2)
    if s.get("baseline_hidden"):
        out.para(f"({s['baseline_hidden']} finding(s) hidden by the baseline)", indent=2)
    if result.diff is not None:
        out.para("(only findings the change introduced: --diff-base)", indent=2)


def render(result, options: RenderOptions | None = None, **kwargs: Any) -> str:
    opts = RenderOptions.of(options, **kwargs)
    out = _Out(opts.width, opts.color)
    s = result.summary
    st = result.settings
    langs = ", ".join(f"{k} {v}" for k, v in s["languages"].items()) or "no source files"
    out.para(f"{result.root.name}: {s['files']} files, {s['lines']} lines ({langs})", label="cfcompat ",
             label_style="bold")
    out.para(f"Target {st.target} ({st.target_source}); compatibility date {st.compatibility_date} "
             f"({st.compatibility_date_source}); flags: {', '.join(st.compatibility_flags) or 'none'}; plan "
             f"{st.plan}; knowledge base as of {kb_as_of()}")
    _counts_line(out, result)
    out.blank()
    _category_table(out, result)

    by_fp = {f.fingerprint: f for f in result.findings if f.fingerprint}
    for sev in SEVERITIES:
        items = [f for f in result.findings if f.severity == sev]
        if not items:
            continue
        if not opts.shows(sev):
            out.para(f"{len(items)} hidden (--min-severity {opts.min_severity}; --min-severity {sev} lists them)",
                     label=f"{TITLES[sev]}: ", label_style="dim", hang=2)
            continue
        linked = sum(1 for f in items if f.related)
        head = f"{len(items)}"
        if linked:
            head += f" listed, {len(items) - linked} counted ({linked} linked to a dependency finding)"
        if sev == "info":
            head += " (test, build, tooling or guarded code, or worth knowing; no action needed)"
        out.para(head, label=f"{TITLES[sev]}: ", label_style=SEV_STYLE[sev] if sev != "info" else "bold", hang=2)
        out.blank()
        by_file: dict[str, list] = defaultdict(list)
        for f in items:
            by_file[f.path].append(f)
        for path in sorted(by_file):
            out.line((path, "bold underline"))
            for f in sorted(by_file[path], key=lambda f: (f.line, f.column, f.rule_id)):
                if sev == "info":
                    out.clipped(f"{f.rule_id}: {f.note or f.message}", 2, "dim", prefix=f"{f.line}:{f.column} ")
                    continue
                _finding(out, f, by_fp)
            out.blank()

    bad = [d for d in result.dependencies if d.verdict in ("incompatible", "replace")]
    if bad:
        out.line(("Dependencies that need a change", "bold"))
        for d in bad:
            via = f" via {d.via}" if d.via else ""
            dev = " (dev)" if d.dev else ""
            out.para(f"{d.manifest}:{d.line} {d.name}{via}{dev}: {d.verdict}"
                     + (f" -> {d.replacement}" if d.replacement else ""), indent=2, hang=4)
        out.blank()
    if result.errors:
        out.line((f"Skipped or unreadable ({len(result.errors)})", "bold"))
        for e in result.errors:
            out.para(f"{e.path}: {e.message}", indent=2, hang=4)
        out.blank()
    if not result.findings:
        out.para("No problems found for this target: every scanned file and dependency is compatible with the "
                 "rules in cfcompat's knowledge base.")
        out.blank()
    _counts_line(out, result)
    return no_workflow_commands("\n".join(out.lines).rstrip("\n")) + "\n"


def _finding(out: _Out, f, by_fp: dict[str, Any]) -> None:
    out.line(f"  {f.line}:{f.column} ", (f.severity, SEV_STYLE[f.severity]), f" {f.rule_id} ",
             (f"({f.category})", "dim"))
    if f.snippet:
        out.clipped(f.snippet, 4, prefix="> ")
    out.para(f.message, indent=4)
    if f.related:
        owner = by_fp.get(f.related)
        where = f"{owner.path}:{owner.line} {owner.rule_id}" if owner else "a dependency finding"
        out.para(f"same problem as {where}: counted once", indent=4, label="linked: ", label_style="dim",
                 style="dim")
    if f.note:
        out.para(f.note, indent=4, label="note: ", label_style="dim", style="dim")
    if len(f.chain) > 1:
        out.para(" > ".join(f.chain), indent=4, label="imported via: ", label_style="dim", style="dim")
    if f.fixable_by_setting:
        out.para(f"{f.fixable_by_setting} (`cfcompat fix`)", indent=4, label="fixable by setting: ",
                 label_style="green")
    out.para(f.remediation, indent=4, label="fix: ", label_style="green")
    if f.docs:
        out.para(f.docs[0], indent=4, label="docs: ", label_style="dim", style="dim")


def _category_table(out: _Out, result) -> None:
    by_cat: dict[str, dict[str, int]] = defaultdict(lambda: {"blocker": 0, "warning": 0, "info": 0})
    for f in result.findings:
        if not f.related:   # the same problem as a dependency finding: counted once, like the summary
            by_cat[f.category][f.severity] += 1
    if not by_cat:
        return
    rows = [(c, by_cat[c]) for c in CATEGORIES if c in by_cat]
    w = max(len("category"), *(len(c) for c, _ in rows))
    cols = [("blocker", 7), ("warning", 7), ("info", 4)]
    out.line("category".ljust(w) + " | " + " | ".join(name.rjust(n) for name, n in cols))
    out.line("-" * (w + 1) + "+" + "+".join("-" * (n + 2) for _, n in cols)[:-1])
    for cat, c in rows:
        cells = []
        for i, (name, n) in enumerate(cols):
            cell = str(c[name]).rjust(n)
            cells.append((cell, SEV_STYLE[name] if c[name] and name != "info" else None))
        segs: list[Any] = [cat.ljust(w) + " | "]
        for i, cell in enumerate(cells):
            segs.append(cell)
            if i < len(cells) - 1:
                segs.append(" | ")
        out.line(*segs)
    out.blank()
