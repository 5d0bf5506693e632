"""CI and pull requests: `scan --diff-base/--baseline` hooks, `cfcompat baseline`, `cfcompat pr-comment`.

`register(cli)` adds the two commands to the click group in cli.py; `prepare` and `apply` are called by
`cfcompat scan` around the scan.

Exit status of `pr-comment`: 0 the comment was rendered (and posted with --post); 1 the comment was rendered
(and posted) and the change adds a finding at or above --fail-on (default `never`, or `fail_on` in the config
file), so a required check can block the merge; 2 a usage, git, baseline or GitHub API error (one line on
stderr, nothing posted).
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from . import __version__, inputs
from .model import FAIL_ON, SEVERITY_RANK, fails
from .options import UsageFailure, build_scan_options, scan_options


def _usage(msg: str) -> Exception:
    return UsageFailure(msg)


@dataclass
class CIState:
    tree: Any = None          # gitdiff.BaseTree
    baseline: Any = None      # baseline.Baseline
    started: float = 0.0      # time.monotonic() before the head scan: --max-seconds bounds the whole run


def prepare(path: Path, diff_base: str | None, baseline_file: Path | None) -> CIState:
    """Check --diff-base and --baseline before scanning (usage errors exit 2 before any work)."""
    import time
    state = CIState(started=time.monotonic())
    if baseline_file is not None:
        from .baseline import BaselineError, load
        try:
            state.baseline = load(baseline_file)
        except BaselineError as exc:
            raise _usage(str(exc)) from None
    if diff_base is not None:
        from .gitdiff import BaseTree, GitError
        try:
            state.tree = BaseTree.prepare(path, diff_base)
        except GitError as exc:
            raise _usage(str(exc)) from None
    return state


def apply(result, options, state: CIState) -> None:
    """Narrow the findings: to those the change introduced (diff), then to those not in the baseline."""
    if state.tree is not None:
        from .diffscan import apply_diff
        from .gitdiff import GitError
        try:
            apply_diff(result, options, state.tree, state.started)
        except GitError as exc:
            raise _usage(str(exc)) from None
    if state.baseline is not None:
        from .baseline import apply as apply_baseline
        apply_baseline(result, state.baseline)


def findings_fail(findings, fail_on: str) -> bool:
    return fails(max((SEVERITY_RANK[f.severity] for f in findings), default=0), fail_on)


def _options(path: Path, target: str | None, compat_date: str | None, compat_flags: tuple[str, ...],
             plan: str | None, include_tests: bool, config_file: Path | None, no_cache: bool, jobs: int):
    """ScanOptions and config exactly as `cfcompat scan` builds them (options.build_scan_options)."""
    return build_scan_options(path, target=target, compat_date=compat_date, compat_flags=compat_flags, plan=plan,
                              include_tests=include_tests, config_file=config_file, jobs=jobs,
                              use_cache=not no_cache)


def _common(f):
    """Scan options shared by `baseline` and `pr-comment` (the same declaration as `scan`'s)."""
    f = click.option("--no-cache", is_flag=True, help="Ignore and do not write the incremental cache.")(f)
    return scan_options(f)


def _head_commit(path: Path) -> str | None:
    from .gitdiff import GitError, Repo
    try:
        return Repo.open(path).head()
    except GitError:
        return None


@click.command("baseline")
@click.argument("path", type=click.Path(file_okay=False, dir_okay=True, path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              metavar="FILE", help="Where to write the baseline (JSON).")
@_common
def baseline_cmd(path: Path, output: Path, target, compat_date, compat_flags, plan, include_tests, config_file,
                 no_cache, jobs) -> None:
    """Record today's findings in FILE; `scan --baseline FILE` then shows only findings not in it."""
    from .baseline import BaselineError, write
    from .engine import scan
    opts, _config = _options(path, target, compat_date, compat_flags, plan, include_tests, config_file,
                             no_cache, jobs)
    result = scan(path, opts)
    try:
        n = write(output, result.findings, _head_commit(path), __version__)
    except BaselineError as exc:
        raise _usage(str(exc)) from None
    click.echo(f"cfcompat: wrote {n} finding(s) to {output}", err=True)


def _links(tree) -> Any:
    from ..reports.pr_comment import Links
    server = os.environ.get("GITHUB_SERVER_URL") or "https://github.com"
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d+)?/?", server):
        server = "https://github.com"
    repository = os.environ.get("GITHUB_REPOSITORY") or _origin_repository(tree, server)
    if not repository or not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository):
        return None
    return Links(server=server, repository=repository, head=tree.head, base=tree.commit)


def _origin_repository(tree, server: str) -> str | None:
    """owner/repo from the `origin` remote when it points at SERVER (read from config; nothing is run)."""
    from .gitdiff import git
    try:
        url = git(tree.repo.toplevel, "config", "--get", "remote.origin.url", check=False).decode().strip()
    except Exception:
        return None
    host = re.escape(re.sub(r"^https?://", "", server).rstrip("/"))
    m = re.match(rf"^(?:https?://(?:[^@/]+@)?{host}/|git@{host}:|ssh://git@{host}/)([^/]+/[^/]+?)(?:\.git)?/?$", url)
    return m.group(1) if m else None


@click.command("pr-comment")
@click.argument("path", type=click.Path(file_okay=False, dir_okay=True, path_type=Path))
@click.option("--diff-base", "diff_base", required=True, metavar="REF",
              help="Git ref the pull request is compared with (e.g. origin/main); the merge-base is used.")
@click.option("--post", is_flag=True,
              help="Create the comment on the pull request, or update cfcompat's earlier one (GITHUB_TOKEN, "
                   "GITHUB_REPOSITORY, GITHUB_EVENT_PATH or --pr).")
@click.option("--pr", "pr_number", type=click.IntRange(min=1), default=None, metavar="N",
              help="Pull request number (default: from GITHUB_EVENT_PATH).")
@click.option("--baseline", "baseline_file", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help="Also hide findings recorded in FILE.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default=None,
              help="Exit 1 when the change adds a finding at or above this severity (default: never, or the "
                   "config file); the comment is still printed and posted.")
@click.option("--max-seconds", type=click.FloatRange(min=0.1), default=None,
              help="Stop after this many seconds (both scans, the base extraction and the line diffs); the "
                   "comment then says it is partial.")
@_common
def pr_comment_cmd(path: Path, diff_base: str, post: bool, pr_number: int | None, baseline_file: Path | None,
                   fail_on: str | None, target, compat_date, compat_flags, plan, include_tests, config_file,
                   no_cache, jobs, max_seconds: float | None = None) -> None:
    """The pull-request comment (GitHub markdown) for the change since REF; --post puts it on the PR."""
    from ..reports.json_report import document
    from ..reports.pr_comment import render
    from .engine import scan
    from .github_api import GitHub, GitHubError, pr_number_from_event

    opts, config = _options(path, target, compat_date, compat_flags, plan, include_tests, config_file,
                            no_cache, jobs)
    opts.max_seconds = max_seconds
    fail_on = fail_on or config.get("fail_on", "never")
    client = None
    if post:
        token = os.environ.get("GITHUB_TOKEN", "")
        if not token.strip():
            raise _usage("--post needs GITHUB_TOKEN in the environment")
        repository = os.environ.get("GITHUB_REPOSITORY", "")
        if not repository:
            raise _usage("--post needs GITHUB_REPOSITORY (OWNER/REPO) in the environment")
        pr_number = pr_number or pr_number_from_event(os.environ.get("GITHUB_EVENT_PATH"))
        if not pr_number:
            raise _usage("--post needs the pull request number: pass --pr N or run on a pull_request event "
                         "(GITHUB_EVENT_PATH)")
        try:
            client = GitHub(token, repository, os.environ.get("GITHUB_API_URL") or "https://api.github.com")
        except GitHubError as exc:
            raise _usage(str(exc)) from None
    state = prepare(path, diff_base, baseline_file)
    result = scan(path, opts)
    apply(result, opts, state)
    doc = document(result)
    body = render(doc, _links(state.tree), prefix=state.tree.repo.prefix)
    click.echo(body, nl=False)
    if client is not None:
        try:
            action, comment = client.upsert_comment(int(pr_number), body)
        except GitHubError as exc:
            raise _usage(str(exc)) from None
        url = comment.get("html_url") or f"#{comment.get('id', '')}"
        click.echo(f"cfcompat: {action} the pull request comment: {url}", err=True)
    if findings_fail(result.findings, fail_on):
        sys.exit(1)


DEFAULT_BASELINE = ".cfcompat-baseline.json"


def _in_scan(path: Path, files: tuple[Path, ...]) -> set[str] | None:
    """FILES (as given, relative to the current folder) as paths relative to the scanned folder; None when no
    file was given (the whole tree counts)."""
    if not files:
        return None
    root = Path(inputs.resolve(path))
    out: set[str] = set()
    for f in files:
        try:
            out.add(Path(inputs.resolve(Path.cwd() / f)).relative_to(root).as_posix())
        except ValueError:
            continue            # a file outside the scanned folder
    return out


@click.command("hook")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--path", "scan_path", type=click.Path(file_okay=False, dir_okay=True, path_type=Path),
              default=Path("."), show_default=True,
              help="The folder to scan (pre-commit runs hooks at the repository root; a monorepo service can pass "
                   "its folder).")
@click.option("--baseline", "baseline_file", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help=f"Findings recorded here do not count (default: {DEFAULT_BASELINE} in the scanned folder when "
                   "it exists; without one, only what the change since HEAD adds counts).")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default=None,
              help="Exit 1 when the files have a finding at or above this severity that the baseline does not "
                   "hold (default: blocker, or the config file).")
@_common
def hook_cmd(files: tuple[Path, ...], scan_path: Path, baseline_file: Path | None, fail_on: str | None, target,
             compat_date, compat_flags, plan, include_tests, config_file, no_cache, jobs) -> None:
    """The pre-commit hook: scan the folder (the whole tree, so imports and entry points are known) and fail
    only on findings in FILES (the files being committed) that are not in the committed baseline. With no
    baseline file, a finding counts only when the change since HEAD adds it. Prints the counted findings."""
    from ..reports import render
    from ..reports.options import RenderOptions
    from .diffscan import recount
    from .engine import scan

    opts, config = _options(scan_path, target, compat_date, compat_flags, plan, include_tests, config_file,
                            no_cache, jobs)
    fail_on = fail_on or config.get("fail_on") or "blocker"
    diff_base = None
    if baseline_file is None:
        default = scan_path / DEFAULT_BASELINE
        if inputs.is_file(None, str(default)):
            baseline_file = default
        elif _head_commit(scan_path):
            diff_base = "HEAD"
    state = prepare(scan_path, diff_base, baseline_file)
    result = scan(scan_path, opts)
    apply(result, opts, state)
    wanted = _in_scan(scan_path, files)
    if wanted is not None:
        result.findings = [f for f in result.findings if f.path in wanted]
        result.errors = [e for e in result.errors if e.path in wanted]
        recount(result)
    failing = findings_fail(result.findings, fail_on)
    how = (f"not in {baseline_file}" if baseline_file is not None else
           "added since HEAD" if diff_base else "in the repository (no baseline, no commit yet)")
    scope = f"{len(wanted)} file(s)" if wanted is not None else "the whole tree"
    if result.findings:
        click.echo(render("text", result, RenderOptions(min_severity="warning", width=None)), nl=False)
    n = result.summary["findings"]
    verdict = "fails" if failing else "passes"
    click.echo(f"cfcompat hook: {verdict} (--fail-on {fail_on}): {n['blocker']} blocker(s), {n['warning']} "
               f"warning(s) {how}, in {scope}", err=True)
    if failing:
        sys.exit(1)


def register(group: click.Group) -> None:
    group.add_command(baseline_cmd)
    group.add_command(pr_comment_cmd)
    group.add_command(hook_cmd)

