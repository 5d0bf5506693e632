"""`--format markdown`: the migration plan (template `templates/plan.md.j2`).

Text that comes from the scanned code (snippets, paths, messages that quote code) is escaped so that it renders
inert on GitHub: snippets go into code spans or fenced blocks whose fence is longer than any backtick run inside;
prose has HTML and markdown punctuation escaped, and @mentions / #123 references are broken with a word joiner
(U+2060), which GitHub does not link.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from ..analyzer import planning as plan_mod
from .escape import WJ, code

TEMPLATES = Path(__file__).resolve().parent / "templates"



def _inert_refs(text: str) -> str:
    text = re.sub(r"@(?=[A-Za-z0-9_-])", "@" + WJ, text)
    text = re.sub(r"#(?=\d)", "#" + WJ, text)
    text = re.sub(r"(?i)\b(GH)-(?=\d)", r"\1" + WJ + "-", text)
    return text


_MD_PUNCT = re.compile(r"([\\`*_\[\]#|~])")


def md_text(text: Any) -> str:
    """Plain prose from data, inline: one line, HTML escaped, markdown punctuation escaped, refs inert."""
    s = re.sub(r"\s+", " ", str(text if text is not None else ""))
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_PUNCT.sub(r"\\\1", s)
    s = re.sub(r"^(\d+)\.(?=\s)", r"\1\\.", s)
    s = re.sub(r"^([-+])(?=\s)", r"\\\1", s)
    return _inert_refs(s)


def md(text: Any, table: bool = False) -> str:
    """Prose that may quote code in `backticks`: the quoted parts become safe code spans, the rest `md_text`."""
    s = " ".join(str(text if text is not None else "").split())
    parts = re.split(r"(`[^`]+`)", s)
    out = []
    for i, p in enumerate(parts):
        if i % 2 == 1:
            out.append(code(p[1:-1], table=table))
        elif p:
            out.append(md_text(p))
    return "".join(out)


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
