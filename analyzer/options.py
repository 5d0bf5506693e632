"""One way to declare the scan options on the command line and to build `ScanOptions` from them: `scan`,
`baseline` and `pr-comment` share both (and `UsageFailure`, the one-line usage error, exit status 2)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from . import inputs
from .config import ConfigError, load_config
from .engine import ScanOptions
from .settings import valid_date
from .targets import TARGETS


class UsageFailure(Exception):
    """A usage or configuration problem: one line on stderr, exit status 2."""


_SHARED: list[Callable[[Callable], Callable]] = [
    click.option("--target", type=click.Choice(TARGETS), default=None,
                 help="Platform judged against. Default: from the wrangler config, else workers for a JS/TS repo "
                      "and python-workers for a Python one."),
    click.option("--compat-date", metavar="YYYY-MM-DD", default=None, help="Override the wrangler compatibility_date."),
    click.option("--compat-flag", "compat_flags", multiple=True, metavar="FLAG",
                 help="Add a compatibility flag (repeatable)."),
    click.option("--plan", type=click.Choice(["free", "paid"]), default=None,
                 help="Workers plan whose limits apply (default: paid, or the config file)."),
    click.option("-j", "--jobs", type=click.IntRange(min=0), default=0,
                 help="Worker processes (default: CPU count; small repositories use one)."),
    click.option("--include-tests", is_flag=True, help="Judge test, build and config code like runtime code."),
    click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
                 help="Config file (default: cfcompat.toml or [tool.cfcompat] in pyproject.toml at PATH)."),
]


def scan_options(f: Callable) -> Callable:
    """The options every command that scans takes, with the same names, defaults and help."""
    for deco in reversed(_SHARED):
        f = deco(f)
    return f


def build_scan_options(path: Path, *, target: str | None, compat_date: str | None, compat_flags: tuple[str, ...],
                       plan: str | None, include_tests: bool, config_file: Path | None, jobs: int,
                       **more: Any) -> tuple[ScanOptions, dict[str, Any]]:
    """ScanOptions and the config file's settings, from the shared options (the config file fills what the
    command line leaves unset). `more` are further ScanOptions fields (use_cache, include_large, ...)."""
    where = inputs.kind(None, str(path))
    if where in ("absent", "broken"):
        raise UsageFailure(f"{path}: no such folder")
    if where != "dir":
        raise UsageFailure(f"{path}: not a folder")
    if compat_date is not None and not valid_date(compat_date):
        raise UsageFailure(f"--compat-date {compat_date!r} is not a YYYY-MM-DD date")
    try:
        config, _source = load_config(path, config_file)
    except ConfigError as exc:
        raise UsageFailure(str(exc)) from None
    opts = ScanOptions(target=target, compat_date=compat_date, compat_flags=list(compat_flags),
                       plan=plan or config.get("plan", "paid"),
                       include_tests=include_tests or bool(config.get("include_tests", False)),
                       jobs=jobs, config=config, **more)
    return opts, config


SEVERITY_CHOICES = ("info", "warning", "blocker")


def render_options(path: Path, formats: list[str], *, fail_on: str, fail_on_given: str | None, color: bool,
                   min_severity: str | None, width: int | None):
    """The RenderOptions of a scan.

    `fail_on_given` is the threshold the user chose (`--fail-on` or the config file), None when neither did:
    JUnit then marks blockers as failures. `width` None: from the terminal (or COLUMNS), unwrapped when piped;
    0: never wrap. The repository prefix is looked up with git only when a format that needs it is rendered."""
    from ..reports.options import REPOSITORY_PATH_FORMATS, RenderOptions, terminal_width
    prefix = ""
    if any(f in REPOSITORY_PATH_FORMATS for f in formats):
        from .gitdiff import repository_prefix
        prefix = repository_prefix(path)
    if width is None:
        width = terminal_width()
    opts = RenderOptions(fail_on=fail_on, junit_fail_on=fail_on_given or "blocker", color=color,
                         width=width or None, min_severity=min_severity or "info", repository_prefix=prefix)
    return opts
