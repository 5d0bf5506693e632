"""Oracle tests: the knowledge base checked against the real workerd runtime (see README "Verified against the
real runtime").

Selection: these tests are *deselected* from the default run (`python -m pytest -q -p no:cacheprovider`), so it
stays fast and offline. They run when selected with `-m oracle`, or when CFCOMPAT_ORACLE=1 or
CFCOMPAT_ORACLE_REQUIRED=1 is set.

Runtime: the session fixture installs the pinned npm packages into $CFCOMPAT_ORACLE_DIR (default
~/.cache/cfcompat/oracle), reusing them when present. Without node/npm, or when the install fails, every oracle
test is skipped with the reason -- unless CFCOMPAT_ORACLE_REQUIRED=1 (CI sets it), which turns that into a failure.
"""
from __future__ import annotations

import json
import os
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence

import pytest

from cfcompat.analyzer import oracle

HERE = Path(__file__).resolve().parent


def _enabled(config: pytest.Config) -> bool:
    if os.environ.get("CFCOMPAT_ORACLE") == "1" or os.environ.get("CFCOMPAT_ORACLE_REQUIRED") == "1":
        return True
    return "oracle" in (config.option.markexpr or "")


def _is_oracle_item(item: pytest.Item) -> bool:
    try:
        return HERE in Path(str(item.fspath)).resolve().parents
    except (OSError, ValueError):
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mine = [i for i in items if _is_oracle_item(i)]
    for i in mine:
        i.add_marker(pytest.mark.oracle)
    if mine and not _enabled(config):
        keep = [i for i in items if not _is_oracle_item(i)]
        config.hook.pytest_deselected(items=mine)
        items[:] = keep


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _enabled(config):
        return "oracle tests (tests/oracle) deselected: run `python -m pytest -m oracle tests/oracle` to check the KB against workerd"
    root = oracle.cache_dir()
    return (f"oracle: pinned {', '.join(f'{k}@{v}' for k, v in oracle.PINS.items())}; cache {root}; "
            f"required={os.environ.get('CFCOMPAT_ORACLE_REQUIRED') == '1'}")


def _unavailable(reason: str) -> None:
    if os.environ.get("CFCOMPAT_ORACLE_REQUIRED") == "1":
        pytest.fail(f"CFCOMPAT_ORACLE_REQUIRED=1 but the workerd oracle is unavailable: {reason}", pytrace=False)
    pytest.skip(f"workerd oracle unavailable: {reason}")


class Oracle:
    """Runs probes in the installed workerd; results are cached per (modules, date, flags, bindings)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[Any, oracle.Result] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(modules: Sequence[oracle.Module], date: str, flags: Sequence[str], bindings: dict | None) -> Any:
        return (tuple((m.name, m.kind, m.source) for m in modules), date, tuple(flags),
                tuple(sorted((bindings or {}).items())))

    def run(self, modules: Sequence[oracle.Module], date: str, flags: Sequence[str] = (),
            bindings: dict | None = None) -> oracle.Result:
        key = self._key(modules, date, flags, bindings)
        with self._lock:
            hit = self._cache.get(key)
        if hit is None:
            hit = oracle.run_test(modules, date=date, flags=flags, bindings=bindings, root=self.root)
            with self._lock:
                self._cache[key] = hit
        return hit

    def run_many(self, jobs: list[tuple[Sequence[oracle.Module], str, Sequence[str], dict | None]]) -> list[oracle.Result]:
        with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) * 2)) as ex:
            return list(ex.map(lambda j: self.run(*j), jobs))


@pytest.fixture(scope="session")
def oracle_root() -> Path:
    try:
        return oracle.ensure(oracle.RUNTIME)
    except oracle.OracleUnavailable as e:
        _unavailable(str(e))
        raise  # unreachable


@pytest.fixture(scope="session")
def generator_root() -> Path:
    try:
        return oracle.ensure(oracle.GENERATOR)
    except oracle.OracleUnavailable as e:
        _unavailable(str(e))
        raise


@pytest.fixture(scope="session")
def bundler_root() -> Path:
    try:
        return oracle.ensure(oracle.BUNDLER)
    except oracle.OracleUnavailable as e:
        _unavailable(str(e))
        raise


@pytest.fixture(scope="session")
def wd(oracle_root: Path) -> Oracle:
    return Oracle(oracle_root)


# --------------------------------------------------------------------------------------------- summary per group

_outcomes: dict[str, Counter] = defaultdict(Counter)
_details: list[dict[str, Any]] = []


def _group(nodeid: str) -> str:
    fn = nodeid.split("::")[-1].split("[")[0]
    return fn.removeprefix("test_")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if HERE.name not in report.nodeid.split("::")[0]:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        outcome = "xfailed" if hasattr(report, "wasxfail") and report.skipped else \
                  "xpassed" if hasattr(report, "wasxfail") and report.passed else report.outcome
        _outcomes[_group(report.nodeid)][outcome] += 1
        props = dict(report.user_properties)
        _details.append({"id": report.nodeid.split("::")[-1], "group": _group(report.nodeid), "outcome": outcome,
                         "observed": props.get("observed"), "claim": props.get("claim"),
                         "reason": getattr(report, "wasxfail", None) or _crash(report)})


def _crash(report: pytest.TestReport) -> str | None:
    if report.outcome == "passed":
        return None
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message.replace("\n", " ")
    if isinstance(report.longrepr, tuple):     # skip: (file, line, reason)
        return str(report.longrepr[-1])
    return str(report.longrepr)[-400:]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _outcomes:
        return
    tr = terminalreporter
    tr.section("oracle: claims checked against workerd " + oracle.WORKERD_VERSION_LINE.split()[-1])
    for g in sorted(_outcomes):
        c = _outcomes[g]
        tr.write_line(f"{g:32s} " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    for d in _details:
        if d["outcome"] == "failed":
            tr.write_line(f"  FAILED   {d['id']}: {(d['reason'] or '')[:400]}")
    # known contradictions (tests/oracle/known_contradictions.py): one line per contradiction, with its checks
    by_reason: dict[tuple[str, str], list[str]] = defaultdict(list)
    for d in _details:
        if d["outcome"] in ("xfailed", "xpassed"):
            by_reason[(d["outcome"], d["reason"] or "")].append(d["id"])
    for (outcome, reason), ids in by_reason.items():
        head = ", ".join(ids[:3]) + (f" (+{len(ids) - 3} more)" if len(ids) > 3 else "")
        tr.write_line(f"  {outcome.upper():8s} {len(ids):3d} check(s) {head}")
        tr.write_line(f"           {reason[:600]}")
    if any(o == "xpassed" for o, _ in by_reason):
        tr.write_line("  XPASSED: the KB now agrees with the runtime -- delete that entry from known_contradictions.py")
    out = os.environ.get("CFCOMPAT_ORACLE_REPORT")
    if out:
        Path(out).write_text(json.dumps(_details, indent=1, default=str), encoding="utf-8")
        tr.write_line(f"every claim with its observed result: {out}")
