"""The HTML report in a real browser (headless Chromium over the DevTools pipe, tests/browser.py): the filters and
the search work with real clicks and typing, the same rule is grouped across files, the page fits a 420 px phone
and a 1400 px screen, and the URL fragment selects a filtered view.

Chromium is required when this test is selected (`-m browser`): without it the test fails, unless
CFCOMPAT_BROWSER_OPTIONAL is set (then it is skipped with that reason). In the default run it is deselected when
no Chromium is found (tests/conftest.py). `.ci/run` installs Chromium and selects it. CFCOMPAT_SCREENSHOT_DIR=DIR saves screenshots of the report filtered to
blockers at both widths there."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from browser import Browser, find_chromium
from cfcompat.analyzer.assessment import scan_and_assess
from cfcompat.reports import render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def browser():
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CFCOMPAT_BROWSER_OPTIONAL"):
            pytest.skip("Chromium not found and CFCOMPAT_BROWSER_OPTIONAL is set")
        pytest.fail("Chromium is needed for the HTML report test (Debian: apt-get install -y chromium; "
                    "set CFCOMPAT_BROWSER_OPTIONAL=1 to skip it)")
    b = Browser(binary)
    yield b
    b.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    result = scan_and_assess(FIXTURES / "express-multer-sqlite-cron")
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render("html", result), encoding="utf-8")
    return path, result


VISIBLE = ("Array.from(document.querySelectorAll('#{view} .finding')).filter(e => e.offsetParent !== null)"
           ".map(e => [e.dataset.sev, e.dataset.cat, e.dataset.path, e.textContent.toLowerCase()])")


def visible(b: Browser, view: str = "by-rule") -> list[list[str]]:
    return b.js(VISIBLE.format(view=view))


def no_horizontal_overflow(b: Browser) -> None:
    sw, iw = b.js("[document.documentElement.scrollWidth, window.innerWidth]")
    assert sw <= iw, f"page is {sw}px wide in a {iw}px viewport"


@pytest.mark.parametrize("width", [420, 1400])
def test_filters_search_and_grouping(browser, report, width):
    path, result = report
    fs = result.findings
    total = len(fs)
    blockers = sum(1 for f in fs if f.severity == "blocker")
    browser.open(path.as_uri(), width)
    assert browser.js("document.getElementById('filters').hidden") is False       # the script ran (CSP allows it)
    assert browser.js("document.getElementById('shown-count').textContent") == f"({total})"
    no_horizontal_overflow(browser)
    # the same rule across files is one group
    groups = browser.js("Array.from(document.querySelectorAll('#by-rule details.group')).length")
    assert groups == len({f.rule_id for f in fs}) < total
    # severity: real clicks on the warning and info checkboxes leave the blockers
    for sev in ("warning", "info"):
        browser.click(f"#filters input[name=severity][value={sev}]")
    rows = visible(browser)
    assert len(rows) == blockers and {r[0] for r in rows} == {"blocker"}
    assert browser.js("document.getElementById('filter-status').textContent") == \
        f"Showing {blockers} of {total} findings."
    assert browser.js("location.hash") == "#severity=blocker"
    no_horizontal_overflow(browser)
    # category, on top of the severity filter
    browser.js("(() => { const s = document.querySelector('#filters select[name=category]'); s.value = 'filesystem';"
               " s.dispatchEvent(new Event('change', {bubbles: true})); })()")
    rows = visible(browser)
    want = sum(1 for f in fs if f.severity == "blocker" and f.category == "filesystem")
    assert len(rows) == want and all(r[1] == "filesystem" for r in rows)
    # path: typed into the box
    browser.click("#filters input[name=path]")
    browser.type("src/jobs")
    browser.js("new Promise(r => setTimeout(r, 150))")
    rows = visible(browser)
    want = sum(1 for f in fs if f.severity == "blocker" and f.category == "filesystem" and "src/jobs" in f.path)
    assert len(rows) == want and all("src/jobs" in r[2] for r in rows)
    # clear, then search for a word across everything
    browser.click("#filters button[type=reset]")
    browser.js("new Promise(r => setTimeout(r, 150))")
    assert len(visible(browser)) == total
    browser.click("#filters input[name=q]")
    browser.type("sqlite")
    browser.js("new Promise(r => setTimeout(r, 150))")
    rows = visible(browser)
    assert 0 < len(rows) < total and all("sqlite" in r[3] or "sqlite" in r[2] for r in rows)
    # group by file shows the same findings
    browser.click("#filters input[name=group][value=file]")
    assert browser.js("[document.getElementById('by-rule').hidden, document.getElementById('by-file').hidden]") == \
        [True, False]
    assert sorted(r[2] for r in visible(browser, "by-file")) == sorted(r[2] for r in rows)
    # nothing matches: says so
    browser.click("#filters input[name=q]")
    browser.type("zzzz-no-such-thing")
    browser.js("new Promise(r => setTimeout(r, 150))")
    assert browser.js("document.getElementById('no-match').hidden") is False
    no_horizontal_overflow(browser)


@pytest.mark.parametrize("width", [420, 1400])
def test_fragment_selects_a_view_and_screenshots(browser, report, width, tmp_path):
    path, result = report
    blockers = sum(1 for f in result.findings if f.severity == "blocker")
    browser.open(path.as_uri() + "#severity=blocker", width)
    assert browser.js("Array.from(document.querySelectorAll('#filters input[name=severity]'))"
                      ".map(c => c.checked)") == [True, False, False]
    assert len(visible(browser)) == blockers
    no_horizontal_overflow(browser)
    out = Path(os.environ.get("CFCOMPAT_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    shot = out / f"html-report-{width}px-blockers.png"
    browser.js("window.scrollTo(0, 0)")
    browser.screenshot(shot, selector="#findings", max_height=2400 if width < 600 else 1500)
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
