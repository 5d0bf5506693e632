import functools
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


def pytest_configure(config):
    os.environ.setdefault("CFCOMPAT_NO_CACHE", "1")


# The HTML report's browser test (tests/test_reports_html_browser.py) needs Chromium, which is not a Python
# package: it runs wherever Chromium is found, and when `-m browser` selects it (then a missing browser is a
# failure). Without Chromium, and not selected, it is deselected and the header says so, so README's test
# command works on a fresh machine; `.ci/run` installs Chromium and runs it with `-m browser`.
BROWSER_TESTS = "test_reports_html_browser.py"


@functools.cache
def _chromium() -> bool:
    from browser import find_chromium      # tests/ is on sys.path: pytest put it there for this conftest
    return find_chromium() is not None


def pytest_collection_modifyitems(config, items):
    mine = [i for i in items if Path(str(i.fspath)).name == BROWSER_TESTS]
    for i in mine:
        i.add_marker(pytest.mark.browser)
    if mine and "browser" not in (config.option.markexpr or "") and not _chromium():
        config.hook.pytest_deselected(items=mine)
        items[:] = [i for i in items if i not in mine]


def pytest_report_header(config):
    if "browser" not in (config.option.markexpr or "") and not _chromium():
        return ("browser tests (tests/test_reports_html_browser.py) deselected: no Chromium found; install it "
                "(Debian: apt-get install chromium) or select them with `-m browser`")
    return None
