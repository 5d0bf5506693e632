"""`--format markdown`: the migration plan (template `templates/plan.md.j2`).

Text that comes from the scanned code (snippets, paths, messages that quote code) is escaped so that it renders
inert on GitHub and pastes cleanly anywhere (reports/escape.py): snippets go into code spans or fenced blocks whose
fence is longer than any backtick run inside; in prose, package names like `@scope/pkg`, mentions, `#123`
references and URLs become code spans (never linked, never notifying, searchable as written: no invisible
characters), and markdown punctuation is escaped only where it would change the rendering.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from ..analyzer import planning as plan_mod
from .escape import code, inline, prose

TEMPLATES = Path(__file__).resolve().parent / "templates"



def md_text(text: Any) -> str:
    """Plain prose from data, inline: one line, inert (reports/escape.py `inline`)."""
    return inline(text)


def md(text: Any, table: bool = False) -> str:
    """Prose that may quote code in `backticks`: the quoted parts become safe code spans, the rest `md_text`."""
    return prose(text, table=table)


def fence(text: Any, lang: str = "") -> str:
    """A fenced code block that holds any text (the fence is longer than any backtick run inside)."""
    s = str(text if text is not None else "").rstrip("\n")
    longest = max((len(m) for m in re.findall(r"`{3,}", s)), default=0)
    f = "`" * max(3, longest + 1)
    lang = re.sub(r"[^A-Za-z0-9_+-]", "", lang or "")
    return f"{f}{lang}\n{s}\n{f}"


def usd(x: Any) -> str:
    return plan_mod.format_usd(float(x))


def cents(x: Any) -> str:
    return f"${float(x):,.2f}"


def num(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not x.is_integer():
        return f"{x:,.2f}".rstrip("0").rstrip(".")
    return f"{int(x):,}"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(md=md, md_text=md_text, code=code, tcode=lambda t: code(t, table=True),
                       tmd=lambda t: md(t, table=True), fence=fence, usd=usd, cents=cents, num=num)
    return env


def render(result, workload: dict[str, Any] | None = None, options=None, **_: Any) -> str:
    data = plan_mod.build(result, workload if workload is not None else getattr(options, "workload", None))
    text = environment().get_template("plan.md.j2").render(**data)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.rstrip("\n") + "\n"
