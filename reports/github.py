"""`--format github`: GitHub Actions workflow commands, one annotation per blocker or warning.

`::error file=src/db.js,line=11,endLine=13,col=12,title=sqlite-local-file (filesystem)::message`
(blocker -> error, warning -> warning). Data is escaped as the runner expects (% -> %25, CR -> %0D, LF -> %0A),
properties also escape ':' -> %3A and ',' -> %2C; other control characters and escape sequences (which the log
would act on) are shown as `\\x1b`-style escapes first. So every line is a command cfcompat wrote: data never
starts a line. Info findings are not annotated (GitHub shows at most 10 errors
and 10 warnings per step); one `::notice::` line counts them. Files that could not be analysed are warnings.
"""
from __future__ import annotations

from typing import Any

from .escape import printable

LEVELS = {"blocker": "error", "warning": "warning"}


def escape_data(text: str) -> str:
    return printable(text, keep_breaks=True).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **props: Any) -> str:
    parts = [f"{k}={escape_property(str(v))}" for k, v in props.items() if v not in (None, "")]
    head = f"::{kind}" + (" " + ",".join(parts) if parts else "")
    return f"{head}::{escape_data(message)}"


def render(result, **_: Any) -> str:
    lines = []
    for f in result.findings:
        kind = LEVELS.get(f.severity)
        if kind is None:
            continue
        msg = f"{f.message}\nFix: {f.remediation}" + (f"\nDocs: {f.docs[0]}" if f.docs else "")
        props: dict[str, Any] = {"file": f.path, "line": f.line}
        if f.end_line and f.end_line != f.line:
            props["endLine"] = f.end_line
        if f.column:
            props["col"] = f.column
        props["title"] = f"{f.rule_id} ({f.category})"
        lines.append(command(kind, msg, **props))
    for e in result.errors:
        lines.append(command("warning", f"not analysed: {e.message}", file=e.path, title="cfcompat"))
    info = sum(1 for f in result.findings if f.severity == "info")
    s = result.summary
    n = s["findings"]
    lines.append(command("notice", f"cfcompat: {s['verdict']} on {result.settings.target}: {n['blocker']} blocker(s), "
                                   f"{n['warning']} warning(s), {info} info (not annotated)", title="cfcompat"))
    return "\n".join(lines) + "\n"
