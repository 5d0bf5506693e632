"""Command line: `cfcompat scan | rules | explain | --version` (see contract.md)."""
from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import click

from . import __version__, caching, inputs
from ..reports import FORMATS
from .caching import Outcome, records
from .model import FAIL_ON, SEVERITY_RANK, fails
from .options import SEVERITY_CHOICES, UsageFailure, build_scan_options, render_options, scan_options
from .targets import TARGETS


def _parse_outputs(values: tuple[str, ...]) -> list[tuple[str, Path]]:
    out = []
    for v in values:
        fmt, sep, file = v.partition(":")
        if not sep or not file:
            raise UsageFailure(f"--output expects FMT:FILE, got {v!r}")
        if fmt not in FORMATS:
            raise UsageFailure(f"--output: unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
        out.append((fmt, Path(file)))
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="cfcompat", message="%(prog)s %(version)s")
def cli() -> None:
    """cfcompat: what in a JS/TS or Python repository breaks on Cloudflare (Workers, Python Workers,
    Containers, Durable Objects), why, and what to use instead. It reads code; it never runs it."""


@cli.command()
@click.argument("path", type=click.Path(file_okay=False, dir_okay=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="What goes to stdout (default: text).")
@click.option("-o", "--output", "outputs", multiple=True, metavar="FMT:FILE",
              help="Also write FMT to FILE; repeatable.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default=None,
              help="Exit 1 when a finding at or above this severity remains (default: never, or the config file).")
@scan_options
@click.option("--include-large", is_flag=True, help="Also scan source files over 1 MiB.")
@click.option("--no-cache", is_flag=True,
              help="Ignore and do not write the caches (per-file facts; scan records, which answer an unchanged "
                   "repository without scanning).")
@click.option("--max-seconds", type=click.FloatRange(min=0.1), default=None,
              help="Stop after this many seconds with partial results (files not reached are listed as not scanned).")
@click.option("--no-inline-ignores", is_flag=True,
              help="Do not honour cfcompat-ignore comments (config-file ignores still apply).")
@click.option("--color/--no-color", default=None, help="Colour in text output (default: on a terminal).")
@click.option("--min-severity", type=click.Choice(SEVERITY_CHOICES), default=None,
              help="Text and HTML: list only findings at or above this severity (default: info, all); the counts "
                   "still include the others.")
@click.option("--width", type=click.IntRange(min=0), default=None, metavar="N",
              help="Text: wrap at N columns (0: never wrap). Default: the terminal's width (or COLUMNS); "
                   "not wrapped when piped.")
@click.option("--requests-per-month", type=click.IntRange(min=0), default=None, metavar="N",
              help="Workload for the cost estimate: requests per month (default 3,000,000).")
@click.option("--cpu-ms", type=click.FloatRange(min=0), default=None, metavar="N",
              help="Workload for the cost estimate: CPU milliseconds per request (default 10).")
@click.option("--current-monthly-cost", type=click.FloatRange(min=0), default=None, metavar="USD",
              help="Today's hosting cost per month, compared with each option in the cost estimate.")
@click.option("--workload", "workload_pairs", multiple=True, metavar="KEY=VALUE",
              help="Other workload knobs for the cost estimate (repeatable), e.g. r2_storage_gb=200, "
                   "container_instance=standard-2; README lists them.")
@click.option("--diff-base", "diff_base", default=None, metavar="REF",
              help="Report only findings the change since git REF introduced (merge-base of REF and HEAD vs "
                   "the working tree); the JSON `diff` block also lists what it fixed.")
@click.option("--baseline", "baseline_file", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help="Hide findings recorded in FILE (`cfcompat baseline`); line moves do not un-hide them.")
def scan(path: Path, target: str | None, fmt: str | None, outputs: tuple[str, ...], compat_date: str | None,
         compat_flags: tuple[str, ...], plan: str | None, fail_on: str | None, jobs: int, include_tests: bool,
         include_large: bool, config_file: Path | None, no_cache: bool, no_inline_ignores: bool,
         color: bool | None, max_seconds: float | None = None, requests_per_month: int | None = None, cpu_ms: float | None = None,
         current_monthly_cost: float | None = None, workload_pairs: tuple[str, ...] = (),
         diff_base: str | None = None, baseline_file: Path | None = None, min_severity: str | None = None,
         width: int | None = None) -> None:
    """Scan the repository at PATH and report what breaks on the target."""
    outs = _parse_outputs(outputs)
    fmt = fmt or "text"
    use_color = sys.stdout.isatty() if color is None else color

    def compute() -> Outcome:
        from ..reports import render
        from .engine import scan as run_scan
        opts, config = build_scan_options(path, target=target, compat_date=compat_date,
                                          compat_flags=compat_flags, plan=plan, include_tests=include_tests,
                                          config_file=config_file, jobs=jobs, include_large=include_large,
                                          inline_ignores=not no_inline_ignores, use_cache=not no_cache,
                                          max_seconds=max_seconds)
        from .cost import parse_workload
        try:
            workload = parse_workload(workload_pairs)
        except ValueError as exc:
            raise UsageFailure(str(exc)) from None
        workload.update({k: v for k, v in (("requests_per_month", requests_per_month), ("cpu_ms", cpu_ms),
                                           ("current_monthly_cost", current_monthly_cost)) if v is not None})
        fail_on_given = fail_on or config.get("fail_on")
        fail_on_ = fail_on_given or "never"
        # what the formats need besides the result (the terminal's width, the folder's place in its repository:
        # the .git markers it reads are recorded like every other input)
        ropts = render_options(path, [fmt] + [f for f, _ in outs], fail_on=fail_on_, fail_on_given=fail_on_given,
                               color=use_color, min_severity=min_severity, width=width)
        from .ci_commands import apply as apply_ci, prepare as prepare_ci
        ci_state = prepare_ci(path, diff_base, baseline_file)
        with _progress() as progress:
            opts.progress = progress
            result = run_scan(path, opts)
        opts.progress = None
        apply_ci(result, opts, ci_state)
        from .assessment import ensure_assessment
        ensure_assessment(result, workload)
        plain = replace(ropts, color=False, width=None)     # files: plain text, not wrapped
        rendered = {ofmt: render(ofmt, result, plain) for ofmt in dict.fromkeys(f for f, _ in outs)}
        stdout = render(fmt, result, ropts)
        worst = max((SEVERITY_RANK[f.severity] for f in result.findings), default=0)
        return Outcome(stdout, [(str(f), rendered[ofmt]) for ofmt, f in outs], 1 if fails(worst, fail_on_) else 0,
                       cacheable=not result.degraded)

    # no stored answers for CI modes, a time bound, colours (a replay writes text as it is; click strips ANSI
    # codes when stdout is not a terminal) or text wrapped at the terminal's current width
    cacheable = not (no_cache or os.environ.get("CFCOMPAT_NO_CACHE") or diff_base or baseline_file
                     or max_seconds or (fmt == "text" and (use_color or (width is None and sys.stdout.isatty()))))
    outcome = caching.run(_ARGV if _ARGV is not None and _ARGV[:1] == ["scan"] else None, compute,
                          enabled=cacheable, looked_up=_LOOKED_UP)
    _finish(outcome)


def _finish(outcome: Outcome) -> None:
    for ofile, text in outcome.files:
        try:
            records.write_output(ofile, text)
        except OSError as exc:
            raise UsageFailure(f"{ofile}: cannot write output ({exc.strerror or exc})") from None
    click.echo(outcome.stdout, nl=False)
    if outcome.exit:
        sys.exit(outcome.exit)


@cli.command("rules")
@click.option("--category", default=None, help="Only rules of this category.")
@click.option("--target", type=click.Choice(TARGETS), default=None, help="Only rules that apply on this target.")
def rules_cmd(category: str | None, target: str | None) -> None:
    """List the rules, one line each: id, category, severity per target."""
    from ..rules import load_rules
    from .model import CATEGORIES
    if category is not None and category not in CATEGORIES:
        raise UsageFailure(f"--category: unknown category {category!r} (choose from {', '.join(CATEGORIES)})")
    for r in load_rules():
        if category and r.category != category:
            continue
        if target and r.severity_for(target) is None:
            continue
        sev = " ".join(f"{t}={r.severity_for(t) or '-'}" for t in TARGETS)
        where = f"rules/packs/{r.pack}:{r.pack_line}" + (f" class {r.cls}" if r.cls else "")
        n = len(r.examples)
        click.echo(f"{r.id:<28} {r.category:<14} {sev}  {where}; {n} example{'s' if n != 1 else ''}")


@cli.command()
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """What RULE_ID finds, why it breaks, what replaces it, and links."""
    from ..rules import rules_by_id
    rules = rules_by_id()
    r = rules.get(rule_id)
    if r is None:
        close = [k for k in rules if rule_id in k or k in rule_id]
        hint = f" (did you mean {', '.join(close[:3])}?)" if close else ""
        raise UsageFailure(f"unknown rule {rule_id!r}{hint}; `cfcompat rules` lists them")
    click.echo(f"{r.id}: {r.title or r.category}")
    click.echo(f"category: {r.category}   effort: {r.effort} point(s)   languages: {', '.join(r.languages)}")
    click.echo("severity: " + ", ".join(f"{t} {r.severity_for(t) or 'does not apply'}" for t in TARGETS))
    click.echo("")
    click.echo("What it finds: " + r.message)
    if r.why:
        click.echo("")
        click.echo("Why it breaks: " + r.why)
    click.echo("")
    click.echo("What to do: " + r.remediation)
    for i, ex in enumerate(r.examples, 1):
        langs = ", ".join(ex.languages) + (f"; target {ex.target}" if ex.target else "")
        click.echo("")
        click.echo(f"Example {i} ({langs}){': ' + ex.title if ex.title else ''}")
        for side, files in (("Before", ex.before), ("After", ex.after)):
            click.echo(f"  {side}:")
            for name, content in files.items():
                shown = name.replace(".{ext}", "." + ("py" if ex.languages[0] == "python" else
                                                      "ts" if ex.languages[0] == "typescript" else "js"))
                if isinstance(content, dict):
                    click.echo(f"    # {shown}: a file of {content.get('size_mb')} MB")
                    continue
                if len(files) > 1 or not name.startswith("src/example."):
                    click.echo(f"    # {shown}")
                for line in content.rstrip("\n").splitlines():
                    click.echo("    " + line)
    click.echo("")
    click.echo("Docs:")
    for d in r.docs:
        click.echo("  " + d)
    if r.facts:
        click.echo("Facts: " + ", ".join(r.facts) + " (see rules/kb/sources.yaml)")
    click.echo("")
    click.echo(f"Defined in rules/packs/{r.pack}, line {r.pack_line}" +
               (f"; logic in rules/classes/{r.cls.rpartition('.')[0]}.py ({r.cls.rpartition('.')[2]})" if r.cls else "")
               + "; its examples run as tests in tests/test_rule_examples.py")


@cli.command("fix")
@click.argument("path", type=click.Path(file_okay=False, dir_okay=True, path_type=Path))
@click.option("--write", is_flag=True, help="Apply the fixes (default: print a unified diff and change nothing).")
@click.option("--only", "only", multiple=True, metavar="RULE_ID",
              help="Only fixes for this rule (or fix id); repeatable.")
@click.option("--force", is_flag=True, help="With --write: write even when the git work tree has changes.")
@click.option("--include-tests", is_flag=True, help="Also fix test, build and config code.")
@click.option("--format", "fmt", type=click.Choice(["diff", "json"]), default="diff",
              help="diff (default): the unified diff, then a summary on stderr; json: the fixes as JSON.")
def fix_cmd(path: Path, write: bool, only: tuple[str, ...], force: bool, include_tests: bool, fmt: str) -> None:
    """Fix what can be fixed mechanically: compatibility date and flags, the Worker entry (httpServerHandler,
    Python WorkerEntrypoint), schedulers to Cron Triggers, requests to httpx, env reads. Prints a diff unless
    --write; every fix is idempotent."""
    import json as _json

    from .fix import FixOptions, plan_fixes, require_clean_worktree
    if not inputs.is_dir(None, str(path)):
        raise UsageFailure(f"{path}: no such folder")
    if write and not force:
        require_clean_worktree(path)    # hardened git (analyzer/gitdiff.py), no filters: nothing configured runs
    plan = plan_fixes(path, FixOptions(only=tuple(only), include_tests=include_tests))
    if fmt == "json":
        click.echo(_json.dumps(plan.to_json(), indent=2))
    elif not write:
        click.echo(plan.diff(), nl=False)
    if write:
        for rel in plan.workspace.commit():
            click.echo(f"wrote {rel}", err=True)
    if fmt != "json":
        for r in plan.reports:
            for c in r.changed:
                click.echo(f"[{r.fix}] changed: {c}", err=True)
            for c in r.left:
                click.echo(f"[{r.fix}] left for a person: {c}", err=True)
        if not plan.changed_files():
            click.echo("nothing to fix", err=True)


class _progress:
    """A rich progress bar on stderr for scans that run longer than about two seconds; nothing on a pipe."""

    def __init__(self) -> None:
        import time
        self.start = time.monotonic()
        self.bar = None
        self.task = None
        self.enabled = sys.stderr.isatty() and not os.environ.get("CI")

    def __enter__(self):
        return self if self.enabled else None

    def __call__(self, done: int, total: int) -> None:
        import time
        if self.bar is None:
            if time.monotonic() - self.start < 2.0 or done >= total:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
            self.bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("scanning", total=total)
        self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


from .ci_commands import register as _register_ci  # noqa: E402  (baseline, pr-comment)
_register_ci(cli)
from .verify import register as _register_verify  # noqa: E402  (verify: start the Worker once in workerd)
_register_verify(cli)


_ARGV: list[str] | None = None     # the arguments `main` was given: they name the scan's record
_LOOKED_UP = False                  # the console script has just looked for that record (console.py)


def main(argv: list[str] | None = None, looked_up: bool = False) -> None:
    global _ARGV, _LOOKED_UP
    _ARGV = list(sys.argv[1:] if argv is None else argv)
    _LOOKED_UP = looked_up
    try:
        cli.main(args=argv, prog_name="cfcompat", standalone_mode=False)
    except UsageFailure as exc:
        click.echo(f"cfcompat: error: {exc}", err=True)
        sys.exit(2)
    except click.UsageError as exc:
        click.echo(f"cfcompat: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("cfcompat: aborted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"cfcompat: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except BrokenPipeError:
        sys.exit(0)
    except KeyboardInterrupt:
        click.echo("cfcompat: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # never a traceback for users; CFCOMPAT_DEBUG=1 shows it
        import os
        if os.environ.get("CFCOMPAT_DEBUG"):
            raise
        click.echo(f"cfcompat: internal error: {type(exc).__name__}: {exc} (set CFCOMPAT_DEBUG=1 for details)",
                   err=True)
        sys.exit(3)


if __name__ == "__main__":  # pragma: no cover
    main()
