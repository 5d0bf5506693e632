"""APScheduler jobs -> Cron Triggers run by the Worker's `scheduled` handler.

A Python Worker cannot keep a scheduler thread alive; Cloudflare calls the Worker's
`async def scheduled(self, controller, env, ctx)` at each Cron Trigger instead, with the trigger's expression in
`controller.cron`. This codemod handles the jobs of module-level schedulers
(`sched = BackgroundScheduler(...)`, any `apscheduler.schedulers.*.*Scheduler`):

    @sched.scheduled_job('interval', minutes=15)      -> decorator removed; job runs on "*/15 * * * *"
    sched.add_job(f, 'cron', hour=3, minute=30)       -> statement removed; job runs on "30 3 * * *"
    sched.add_job(f, CronTrigger(...)/IntervalTrigger(...)/CronTrigger.from_crontab('...'))

The schedule is converted exactly by `cron.py` or not at all (seconds, jitter, start/end dates, time zones other
than UTC, intervals that do not divide an hour or a day, arguments to the job): those jobs keep their scheduler
call and get a comment saying why. When every job of a scheduler was converted and the module uses it only to
`start()` / `shutdown()`, the scheduler itself is removed, since starting it fails in Python Workers (no threads).

The jobs found are returned in `data["jobs"]`; `py_entry.py` writes the dispatch table and the `scheduled`
handler, and the runner adds the expressions to `triggers.crons` in the wrangler config.
"""
from __future__ import annotations

from typing import Any

import libcst as cst

from . import cron
from .codemod import (Codemod, CodemodResult, Invalid, Valid, comment_line, dotted, imports_of, literal,
                      name_counts, qualify, remove_import_names, with_comment)
from .model import MARK

MOVED = "moved to the Worker's scheduled handler"


def _is_sched_ctor(q: str | None) -> bool:
    return bool(q) and q.startswith("apscheduler.schedulers.") and q.rsplit(".", 1)[-1].endswith("Scheduler")


def _tz_of(module: cst.Module, call: cst.Call) -> tuple[Any, str | None]:
    """(time zone, problem) of a scheduler constructor: 'local' when not given."""
    for a in call.args:
        if a.keyword is not None and a.keyword.value == "timezone":
            try:
                return literal(module, a.value), None
            except (ValueError, SyntaxError):
                d = dotted(a.value) or ""
                if d.lower().endswith("utc"):
                    return "UTC", None
                return None, "the scheduler's time zone is not a literal"
    return "local", None


class _Collect(cst.CSTVisitor):
    def __init__(self, module: cst.Module, names: dict[str, str]) -> None:
        self.module = module
        self.names = names
        self.scheds: dict[str, tuple[Any, str | None]] = {}
        self.toplevel: dict[str, str] = {}  # name -> "async" | "def" | "other"

    def visit_Module(self, node: cst.Module) -> None:
        for st in node.body:
            if isinstance(st, cst.FunctionDef):
                self.toplevel[st.name.value] = "async" if st.asynchronous else "def"
            elif isinstance(st, cst.ClassDef):
                self.toplevel[st.name.value] = "other"
            elif isinstance(st, cst.SimpleStatementLine):
                for s in st.body:
                    if isinstance(s, (cst.Assign, cst.AnnAssign)):
                        targets = [t.target for t in s.targets] if isinstance(s, cst.Assign) else [s.target]
                        for t in targets:
                            if isinstance(t, cst.Name):
                                self.toplevel[t.value] = "other"
                                v = s.value
                                if isinstance(v, cst.Call) and _is_sched_ctor(qualify(v.func, self.names)):
                                    self.scheds[t.value] = _tz_of(self.module, v)
        for local in self.names:
            self.toplevel.setdefault(local, "other")


class _Jobs(cst.CSTTransformer):
    def __init__(self, module: cst.Module, names: dict[str, str], col: _Collect, res: CodemodResult) -> None:
        self.module = module
        self.names = names
        self.col = col
        self.res = res
        self.jobs: list[dict[str, Any]] = []
        self.failed: set[str] = set()
        self.converted: set[str] = set()
        self.depth = 0

    def _code(self, node: cst.CSTNode) -> str:
        return " ".join(self.module.code_for_node(node).split())[:100]

    def _trigger(self, sched: str, trig: cst.BaseExpression | None, kw: list[cst.Arg]) -> tuple[str | None, str]:
        tz, tz_problem = self.col.scheds[sched]
        kwargs: dict[str, Any] = {}
        for a in kw:
            try:
                kwargs[a.keyword.value] = literal(self.module, a.value)  # type: ignore[union-attr]
            except (ValueError, SyntaxError):
                return None, f"`{a.keyword.value}=` is not a literal"  # type: ignore[union-attr]
        kind: Any = None
        if trig is None:
            return None, "no trigger given"
        if isinstance(trig, cst.SimpleString):
            kind = trig.evaluated_value
        elif isinstance(trig, cst.Call):
            q = qualify(trig.func, self.names) or ""
            targs: dict[str, Any] = {}
            for a in trig.args:
                if a.keyword is None:
                    if q.endswith("CronTrigger.from_crontab") and a is trig.args[0]:
                        try:
                            targs["_crontab"] = literal(self.module, a.value)
                        except (ValueError, SyntaxError):
                            return None, "the crontab expression is not a literal"
                        continue
                    return None, "positional trigger arguments"
                try:
                    targs[a.keyword.value] = literal(self.module, a.value)
                except (ValueError, SyntaxError):
                    return None, f"`{a.keyword.value}=` is not a literal"
            kwargs.update(targs)
            if q.endswith("CronTrigger.from_crontab"):
                ttz = kwargs.pop("timezone", tz if tz != "local" else None)
                return self._done(cron.apscheduler_crontab(kwargs.pop("_crontab", ""), ttz), kwargs, tz)
            if q.endswith("triggers.cron.CronTrigger"):
                kind = "cron"
            elif q.endswith("triggers.interval.IntervalTrigger"):
                kind = "interval"
            else:
                return None, f"trigger `{self._code(trig)}` is not a cron or interval trigger"
        else:
            return None, f"trigger `{self._code(trig)}` is not a literal"
        if kind == "interval":
            return self._done(cron.apscheduler_interval(kwargs), {}, None)
        if kind == "cron":
            if tz_problem and "timezone" not in kwargs:
                return None, tz_problem
            ttz = kwargs.pop("timezone", None if tz == "local" else tz)
            r = cron.apscheduler_cron({**kwargs, "timezone": ttz})
            return self._done(r, {}, tz if "timezone" not in kwargs and ttz is None else None)
        if kind == "date":
            return None, "a one-off job (date trigger); call it from a handler or a Workflow instead"
        return None, f"trigger {kind!r} is not cron or interval"

    def _done(self, r: tuple[str | None, str | None], rest: dict[str, Any], tz: Any) -> tuple[str | None, str]:
        expr, why = r
        if expr is None:
            return None, why or "cannot convert"
        if rest:
            w = cron._unsupported(rest, set())
            if w:
                return None, w
        if tz == "local":
            self.res.left.append(f"the scheduler had no time zone (APScheduler used the host's local time); "
                                 f"Cron Trigger \"{expr}\" runs in UTC: adjust it if the host was not on UTC")
        return expr, ""

    def _ref(self, node: cst.BaseExpression) -> tuple[str | None, Any]:
        d = dotted(node)
        if d is None:
            return None, None
        head = d.split(".")[0]
        kind = self.col.toplevel.get(head)
        if kind is None:
            return None, None
        return d, (kind == "async") if "." not in d and kind in ("async", "def") else None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        self.depth -= 1
        decos = []
        comments: list[str] = []
        for d in updated.decorators:
            dec = d.decorator
            if isinstance(dec, cst.Call) and isinstance(dec.func, cst.Attribute) and \
                    dec.func.attr.value == "scheduled_job" and isinstance(dec.func.value, cst.Name) and \
                    dec.func.value.value in self.col.scheds:
                sched = dec.func.value.value
                pos = [a for a in dec.args if a.keyword is None]
                kw = [a for a in dec.args if a.keyword is not None and a.keyword.value != "trigger"]
                trig = pos[0].value if pos else next((a.value for a in dec.args if a.keyword is not None and
                                                      a.keyword.value == "trigger"), None)
                if len(pos) > 1:
                    expr, why = None, "positional arguments besides the trigger"
                elif self.depth:
                    expr, why = None, "the job is defined inside a function"
                else:
                    expr, why = self._trigger(sched, trig, kw)
                if expr:
                    self.jobs.append({"cron": expr, "ref": original.name.value,
                                      "async": original.asynchronous is not None})
                    self.converted.add(sched)
                    comments.append(f"runs on Cron Trigger \"{expr}\" from the Worker's scheduled handler "
                                    f"(was @{self._code(dec)})")
                    self.res.changed.append(f"@{self._code(dec)} on {original.name.value}() -> Cron Trigger "
                                            f"\"{expr}\"")
                    continue
                self.failed.add(sched)
                comments.append(f"not converted to a Cron Trigger: {why}")
                self.res.left.append(f"@{self._code(dec)} on {original.name.value}() left as is: {why}")
            decos.append(d)
        out = updated.with_changes(decorators=decos)
        for c in comments:
            out = with_comment(out, c)
        return out

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        if len(updated.body) != 1 or not isinstance(updated.body[0], cst.Expr):
            return updated
        call = updated.body[0].value
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and
                call.func.attr.value == "add_job" and isinstance(call.func.value, cst.Name) and
                call.func.value.value in self.col.scheds):
            return updated
        sched = call.func.value.value
        pos = [a for a in call.args if a.keyword is None]
        kwd = {a.keyword.value: a for a in call.args if a.keyword is not None}
        func = pos[0].value if pos else (kwd["func"].value if "func" in kwd else None)
        trig = pos[1].value if len(pos) > 1 else (kwd["trigger"].value if "trigger" in kwd else None)
        kw = [a for k, a in kwd.items() if k not in ("func", "trigger")]
        ref, is_async = self._ref(func) if func is not None else (None, None)
        if any(a.star for a in call.args):
            expr, why = None, "*args / **kwargs in the call"
        elif len(pos) > 2:
            expr, why = None, "positional arguments besides the job and the trigger"
        elif ref is None:
            expr, why = None, "the job is not a module-level function (a lambda, a local or a string reference)"
        else:
            expr, why = self._trigger(sched, trig, kw)
        code = self._code(call)
        if not expr:
            self.failed.add(sched)
            self.res.left.append(f"`{code}` left as is: {why}")
            return with_comment(updated, f"not converted to a Cron Trigger: {why}")
        self.jobs.append({"cron": expr, "ref": ref, "async": is_async})
        self.converted.add(sched)
        self.res.changed.append(f"`{code}` -> Cron Trigger \"{expr}\" running {ref}()")
        return _placeholder(updated, f"{code} {MOVED} (Cron Trigger \"{expr}\")")


def _placeholder(stmt: cst.SimpleStatementLine, text: str) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(body=[cst.Pass()], leading_lines=[*stmt.leading_lines, comment_line(text)])


def _is_placeholder(st: cst.CSTNode) -> bool:
    return (isinstance(st, cst.SimpleStatementLine) and len(st.body) == 1 and isinstance(st.body[0], cst.Pass)
            and any(ln.comment is not None and ln.comment.value.startswith(f"# {MARK}") and
                    (MOVED in ln.comment.value or "scheduler removed" in ln.comment.value)
                    for ln in st.leading_lines))


class _Cleanup(cst.CSTTransformer):
    """Drop placeholder `pass` lines that have a statement after them (their comments move to it)."""

    def _fix(self, body: list[Any]) -> list[Any]:
        out: list[Any] = []
        carry: list[cst.EmptyLine] = []
        blanks: list[cst.EmptyLine] = []
        for i, st in enumerate(body):
            if _is_placeholder(st) and i + 1 < len(body):
                if not carry:
                    for ln in st.leading_lines:
                        if ln.comment is not None:
                            break
                        blanks.append(ln)
                carry += [ln for ln in st.leading_lines if ln.comment is not None]
                continue
            if carry:
                lines = list(st.leading_lines)
                k = 0
                while k < len(lines) and lines[k].comment is None:
                    k += 1
                st = st.with_changes(leading_lines=[*(lines[:k] or blanks), *carry, *lines[k:]])
                carry, blanks = [], []
            out.append(st)
        return out

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        return updated.with_changes(body=self._fix(list(updated.body)))

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        body = self._fix(list(updated.body))
        if body:  # imports removed from the top leave their blank lines behind: drop them
            lines = list(body[0].leading_lines)
            while lines and lines[0].comment is None:
                lines.pop(0)
            body[0] = body[0].with_changes(leading_lines=lines)
        return updated.with_changes(body=body)


class _RemoveScheduler(cst.CSTTransformer):
    def __init__(self, names: set[str]) -> None:
        self.names = names

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        if len(updated.body) != 1:
            return updated
        s = updated.body[0]
        if isinstance(s, cst.Assign) and len(s.targets) == 1 and isinstance(s.targets[0].target, cst.Name) and \
                s.targets[0].target.value in self.names:
            return _placeholder(updated, f"scheduler removed: its jobs are Cron Triggers now ({MOVED})")
        if isinstance(s, cst.Expr) and isinstance(s.value, cst.Call) and isinstance(s.value.func, cst.Attribute) \
                and isinstance(s.value.func.value, cst.Name) and s.value.func.value.value in self.names:
            return _placeholder(updated, f"scheduler removed: {s.value.func.value.value}."
                                         f"{s.value.func.attr.value}() is not needed on Workers")
        return updated


def _uses(module: cst.Module, name: str) -> tuple[int, int]:
    """(all uses of `name`, uses in statements the scheduler removal may drop)."""
    total = name_counts(module).get(name, 0)
    removable = 0

    class V(cst.CSTVisitor):
        def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
            nonlocal removable
            if len(node.body) == 1:
                s = node.body[0]
                if isinstance(s, cst.Assign) and len(s.targets) == 1 and \
                        isinstance(s.targets[0].target, cst.Name) and s.targets[0].target.value == name:
                    removable += name_counts(s).get(name, 0)
                elif isinstance(s, cst.Expr) and isinstance(s.value, cst.Call) and \
                        isinstance(s.value.func, cst.Attribute) and dotted(s.value.func.value) == name and \
                        s.value.func.attr.value in ("start", "shutdown", "remove_all_jobs"):
                    removable += name_counts(s).get(name, 0)
            return False

    module.visit(V())
    return total, removable


class ApschedulerToCron(Codemod):
    NAME = "py-apscheduler-cron"
    MESSAGE = "APScheduler cron and interval jobs become Cron Triggers and a scheduled handler"

    VALID = [
        Valid("import sched\n\ns = sched.scheduler()\n"),
        Valid("from apscheduler.schedulers.background import BackgroundScheduler\n\n"
              "sched = BackgroundScheduler(timezone='UTC')\n\n"
              "# cfcompat-fix: not converted to a Cron Trigger: runs every 30 s; Cron Triggers fire at most once "
              "a minute\n@sched.scheduled_job('interval', seconds=30)\ndef tick():\n    pass\n"),
    ]
    INVALID = [
        Invalid(
            "from apscheduler.schedulers.background import BackgroundScheduler\n\n"
            "sched = BackgroundScheduler(timezone='UTC')\n\n\n"
            "@sched.scheduled_job('interval', minutes=15, id='fx')\ndef refresh():\n    pass\n\n\n"
            "def nightly():\n    pass\n\n\n"
            "def start():\n    sched.add_job(nightly, 'cron', day_of_week='mon-fri', hour=3, minute=30)\n"
            "    sched.start()\n",
            "# cfcompat-fix: scheduler removed: its jobs are Cron Triggers now (moved to the Worker's scheduled "
            "handler)\n"
            "# cfcompat-fix: runs on Cron Trigger \"*/15 * * * *\" from the Worker's scheduled handler (was "
            "@sched.scheduled_job('interval', minutes=15, id='fx'))\ndef refresh():\n    pass\n\n\n"
            "def nightly():\n    pass\n\n\n"
            "def start():\n"
            "    # cfcompat-fix: sched.add_job(nightly, 'cron', day_of_week='mon-fri', hour=3, minute=30) moved to "
            "the Worker's scheduled handler (Cron Trigger \"30 3 * * MON-FRI\")\n"
            "    # cfcompat-fix: scheduler removed: sched.start() is not needed on Workers\n"
            "    pass\n"),
        Invalid(
            "from apscheduler.schedulers.asyncio import AsyncIOScheduler\nfrom apscheduler.triggers.cron import "
            "CronTrigger\n\nscheduler = AsyncIOScheduler(timezone='UTC')\n\n\nasync def report():\n    pass\n\n\n"
            "scheduler.add_job(report, CronTrigger(day_of_week=6, hour=7))\n"
            "scheduler.add_job(report, 'interval', minutes=15, jitter=30)\n"
            "print(len(scheduler.get_jobs()))\n",
            "from apscheduler.schedulers.asyncio import AsyncIOScheduler\nfrom apscheduler.triggers.cron import "
            "CronTrigger\n\nscheduler = AsyncIOScheduler(timezone='UTC')\n\n\nasync def report():\n    pass\n\n\n"
            "# cfcompat-fix: scheduler.add_job(report, CronTrigger(day_of_week=6, hour=7)) moved to the Worker's "
            "scheduled handler (Cron Trigger \"0 7 * * SUN\")\n"
            "# cfcompat-fix: not converted to a Cron Trigger: jitter (a random delay) has no Cron Trigger "
            "equivalent\nscheduler.add_job(report, 'interval', minutes=15, jitter=30)\n"
            "print(len(scheduler.get_jobs()))\n"),
    ]

    def transform(self, source: str, path: str = "<string>", **ctx: Any) -> CodemodResult:
        module = cst.parse_module(source)
        names = imports_of(module)
        res = CodemodResult(source, data={"jobs": []})
        col = _Collect(module, names)
        module.visit(col)
        if not col.scheds:
            return res
        t = _Jobs(module, names, col, res)
        new = module.visit(t)
        res.data["jobs"] = t.jobs
        external: set[str] = set(ctx.get("external") or ())
        removable = set()
        for sched in sorted(t.converted - t.failed):
            total, rem = _uses(new, sched)
            if total == rem and sched not in external:
                removable.add(sched)
            else:
                res.left.append(f"scheduler `{sched}` is still created and used in other ways; starting it fails "
                                "in Python Workers (no threads): remove it once nothing needs it")
        if removable:
            new = new.visit(_RemoveScheduler(removable))
            counts = name_counts(new)
            unused = {n for n, q in names.items() if q.startswith("apscheduler.") and not counts.get(n)}
            new = remove_import_names(new, unused)
            res.changed.append("removed scheduler " + ", ".join(f"`{s}`" for s in sorted(removable)) +
                               " (all its jobs are Cron Triggers now) and its imports")
        if t.jobs or removable:
            new = new.visit(_Cleanup())
        res.code = new.code
        return res
