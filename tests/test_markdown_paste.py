"""Markdown that pastes cleanly: no invisible characters anywhere, package names and identifiers searchable as
written (raw and rendered), and escaping that renders back to exactly the original text."""
from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from markdown_it import MarkdownIt

from cfcompat.analyzer.assessment import scan_and_assess
from cfcompat.reports import render
from cfcompat.reports.escape import inline, prose

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MD = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")


def rendered_text(md: str) -> str:
    out = MD.render(md)
    out = re.sub(r"<[^>]+>", "", out)
    return " ".join(html.unescape(out).split())


def invisible(text: str) -> list[str]:
    return sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) == "Cf" and c != "\ufeff"})


@pytest.mark.parametrize("fixture", ["express-multer-sqlite-cron", "fastapi-apscheduler-psycopg2", "flask-wsgi",
                                     "rag-sentence-transformers", "eval/nestjs-inventory", "eval/next-api-routes"])
def test_plan_has_no_invisible_characters(fixture):
    result = scan_and_assess(FIXTURES / fixture)
    for fmt in ("markdown", "github-summary"):
        out = render(fmt, result)
        assert not invisible(out), (fmt, invisible(out))


def test_scoped_packages_are_searchable_as_written():
    result = scan_and_assess(FIXTURES / "express-multer-sqlite-cron")
    out = render("markdown", result)
    assert "@cf/baai/bge-small-en-v1.5" in out              # was "@\u2060cf/..." before
    assert "`@cf/baai/bge-small-en-v1.5`" in out            # in a code span: no mention, no link
    assert "nodejs_compat" in out and "nodejs\\_compat" not in out
    assert "`__dirname`" in out


@pytest.mark.parametrize("text", [
    "Depends on @prisma/client and @types/node; see #123 and GH-7, acme/shop#9",
    "mail bob@example.com or visit https://example.com/a_b?x=1. Or www.example.com!",
    "__dirname is undefined; os.environ['DB_URL'] and nodejs_compat, _private, __init__.py",
    "a * b * c, 2*3, *emph*, _under_, snake_case_name",
    "<script>alert(1)</script> &amp; &copy; a < b > c & d",
    "1. not a list", "- not a list", "# not a heading", "> not a quote", "+ plus",
    "back\\slash \\* C:\\Users\\me [link](x) ![img](y) ~~strike~~ | pipe `tick",
])
def test_inline_renders_back_to_the_same_text(text):
    md = inline(text)
    assert not invisible(md)
    assert rendered_text(md) == " ".join(text.split())
    page = MD.render(md)
    assert "<a " not in page and "<script" not in page and "<h1" not in page and "<li" not in page
    assert "<em>" not in page and "<strong>" not in page and "<blockquote" not in page


def test_mentions_and_references_are_inside_code():
    page = MD.render(inline("ping @octocat about #12 at https://x.example/y"))
    assert "<code>@octocat</code>" in page and "<code>#12</code>" in page
    assert "<code>https://x.example/y</code>" in page
    assert MD.render(prose("uses `a|b` and @x", table=True)).count("<code>") == 2


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab _*#@[]()<>&|~`\\!.-:/19\t")), max_size=40))
def test_inline_is_faithful_for_any_text(text):
    md = inline(text)
    assert "\n" not in md
    assert rendered_text(md) == " ".join(text.split())
