"""The HTML report is one self-contained, well-formed file with every snippet escaped."""
from __future__ import annotations

import html as htmllib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cfcompat.analyzer.assessment import scan_and_assess
from cfcompat.reports import render

from reports_helpers import HOSTILE, make_hostile_repo

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VOID = {"meta", "br", "img", "input", "link", "hr", "col", "area", "base", "source", "wbr", "rect", "path",
        "circle", "line"}


class Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check(page: str) -> Checker:
    c = Checker()
    c.feed(page)
    c.close()
    assert not c.problems, c.problems[:5]
    assert c.stack == [], c.stack
    return c


@pytest.mark.parametrize("fixture", ["express-multer-sqlite-cron", "fastapi-apscheduler-psycopg2",
                                     "workers-ts-clean"])
def test_html_is_self_contained_and_well_formed(fixture):
    page = render("html", scan_and_assess(FIXTURES / fixture))
    c = check(page)
    assert page.startswith("<!DOCTYPE html>")
    for tag, attrs in c.tags:
        assert tag not in ("link", "iframe", "object", "embed", "img"), tag
        assert "src" not in attrs, (tag, attrs)
        href = attrs.get("href") or ""
        if href.startswith(("http://", "https://", "//")):
            assert tag == "a" and href.startswith("https://"), (tag, href)
        for k in attrs:
            assert not k.startswith("on"), (tag, k)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(styles) == 1 and "@import" not in styles[0] and "url(" not in styles[0]
    assert_only_our_script(page)
    assert "<svg" in page   # charts inline


def assert_only_our_script(page: str) -> None:
    """One inline script, the constant reports/templates/report.js, and a CSP that allows only it (by hash),
    inline styles and no network."""
    import base64
    import hashlib
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S | re.I)
    assert len(scripts) == 1 and scripts[0][0] == "", scripts[:1]
    body = scripts[0][1]
    assert body == (Path(__file__).resolve().parents[1] / "reports" / "templates" / "report.js").read_text()
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page).group(1)
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
    assert "connect-src" not in csp and "unsafe-eval" not in csp


def test_every_snippet_is_escaped(tmp_path):
    result = scan_and_assess(make_hostile_repo(tmp_path))
    page = render("html", result)
    c = check(page)
    assert page.lower().count("<script") == 1 and "<img" not in page.lower()
    assert_only_our_script(page)
    text = "".join(c.text)
    for f in result.findings:
        assert f.snippet in text or htmllib.unescape(f.snippet) in text
        assert htmllib.escape(f.snippet, quote=False) in page or f.snippet in text
    assert HOSTILE.split(" %0A")[0] in text
    assert "src/bad.js" in text
