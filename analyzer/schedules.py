"""Schedules found in the code, converted to Cloudflare Cron Triggers.

Reads the call facts of runtime files: node-cron / cron / croner / node-schedule / @nestjs/schedule expressions,
APScheduler jobs (`add_job(f, 'cron', hour=3)`, `@scheduled_job('interval', minutes=15)`,
`CronTrigger.from_crontab('0 6 * * *')`) and `setInterval(fn, ms)`. Each becomes a `Schedule` with either an
exact 5-field Cron Trigger expression or `cron=None` and the reason it cannot be converted exactly.

Cron Triggers (developers.cloudflare.com/workers/configuration/cron-triggers/) take five fields, run in UTC,
and number weekdays 1-7 from Sunday, unlike crontab (0-7, 0 and 7 = Sunday) and APScheduler 3.x and 4.x (0 = Monday).
Weekdays are therefore always written as names (SUN..SAT), which every dialect reads the same way.

This is the one converter: the migration plan (planning.py), the starter wrangler.jsonc and `cfcompat fix`
(fix/cron.py adapts its plain values to the functions here) all read schedules through it.
"""
from __future__ import annotations

import calendar
import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from .parsing.facts import Arg, Call, FileFacts

DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
APS_DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")   # APScheduler 3.x and 4.x numbering: 0 = Monday


@dataclass
class Schedule:
    path: str
    line: int
    library: str                  # node-cron | cron | croner | node-schedule | nestjs | apscheduler | setInterval
    source: str                   # the expression or arguments as written
    cron: str | None = None       # exact Cloudflare cron expression, or None
    notes: list[str] = field(default_factory=list)   # caveats (time zone, phase, default of an env var...)
    reason: str = ""              # why there is no exact conversion (cron is None)
    suggestion: str | None = None  # a close expression when there is no exact one
    job: str = ""                 # job id or callback name
    active: bool = True           # False: a suggestion only (a timer that may not be needed after the move)

    @property
    def runs_per_month(self) -> float | None:
        expr = self.cron or self.suggestion
        return runs_per_month(expr) if expr else None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path, "line": self.line, "library": self.library, "source": self.source,
                             "cron": self.cron}
        if self.job:
            d["job"] = self.job
        if self.reason:
            d["reason"] = self.reason
        if self.suggestion:
            d["suggestion"] = self.suggestion
        if self.notes:
            d["notes"] = list(self.notes)
        rpm = self.runs_per_month
        if rpm is not None:
            d["runs_per_month"] = round(rpm)
        d["active"] = self.active
        return d


# ----------------------------------------------------------------------------------------------- literals

def literal(a: Arg | None, depth: int = 0) -> tuple[str | None, str]:
    """A string value an argument certainly or by default has, and a note on where it came from."""
    if a is None or depth > 12:
        return None, ""
    if a.kind == "string":
        return a.value, ""
    if a.kind == "template" and a.value and not a.inner:
        return a.value, ""
    if a.kind == "identifier" and a.bound is not None:
        v, note = literal(a.bound, depth + 1)
        return v, note
    if a.kind == "either":
        strings = [x for x in a.inner if x.kind == "string"]
        others = [x for x in a.inner if x.kind != "string"]
        if len(strings) == 1:
            src = ", ".join(o.text for o in others) or "another value"
            return strings[0].value, f"default used when {src} is not set"
    if a.kind == "call" and a.inner and (a.value or "").endswith(("os.environ.get", "os.getenv")) and len(a.inner) > 1:
        v, _ = literal(a.inner[1], depth + 1)
        if v is not None:
            return v, f"default used when {a.inner[0].text} is not set"
    return None, ""


def number(a: Arg | None) -> float | None:
    """A numeric literal, or a small arithmetic expression of literals (`10 * 60 * 1000`)."""
    if a is None:
        return None
    if a.kind == "number":
        try:
            return float((a.value or "").replace("_", ""))
        except ValueError:
            return None
    if a.kind == "identifier" and a.bound is not None:
        return number(a.bound)
    text = (a.text or "").replace("_", "")
    if text and re.fullmatch(r"[\d\s.+\-*/()]+", text) and len(text) < 80:
        try:
            import ast
            node = ast.parse(text, mode="eval")
            if all(isinstance(n, (ast.Expression, ast.BinOp, ast.Constant, ast.operator, ast.UnaryOp, ast.unaryop))
                   for n in ast.walk(node)):
                return float(eval(compile(node, "<expr>", "eval"), {"__builtins__": {}}, {}))  # noqa: S307
        except (SyntaxError, ValueError, ZeroDivisionError, TypeError):
            return None
    return None


# ----------------------------------------------------------------------------------------------- crontab

_SIMPLE = re.compile(r"^[0-9A-Za-z*,/\-]+$")


def _num_or_name(tok: str, names: tuple[str, ...], base: int) -> int | None:
    t = tok.upper()
    if t in names:
        return names.index(t) + base
    if t.isdigit():
        return int(t)
    return None


def _dow_to_names(field_: str, numbering: str) -> tuple[str | None, str]:
    """Rewrite a day-of-week field with day names. numbering: 'crontab' (0/7 = Sunday; node-cron, cron, croner,
    node-schedule) or 'aps' (APScheduler 3.x and 4.x: 0 = Monday)."""
    if field_ == "*" or field_ == "?":
        return "*", ""
    out: list[str] = []
    for part in field_.split(","):
        step = 1
        rng = part
        if "/" in part:
            rng, _, s = part.partition("/")
            if not s.isdigit() or int(s) == 0:
                return None, f"day-of-week step {part!r} is not understood"
            step = int(s)

        def to_idx(tok: str) -> int | None:
            """Index into DAY_NAMES (0 = Sunday)."""
            t = tok.upper()
            if t in DAY_NAMES:
                return DAY_NAMES.index(t)
            if t.isdigit():
                n = int(t)
                if numbering == "crontab" and 0 <= n <= 7:
                    return n % 7
                if numbering == "aps" and 0 <= n <= 6:
                    return (n + 1) % 7
                return None
            return None

        if rng == "*":
            days = list(range(0, 7, step)) if numbering != "aps" else [(i + 1) % 7 for i in range(0, 7, step)]
        elif "-" in rng:
            a, _, b = rng.partition("-")
            ia, ib = to_idx(a), to_idx(b)
            if ia is None or ib is None:
                return None, f"day-of-week range {part!r} is not understood"
            # walk forward from a to b (in the source's own week order), wrapping at the week's end
            seq = []
            i = ia
            for _ in range(8):
                seq.append(i)
                if i == ib:
                    break
                i = (i + 1) % 7
            days = seq[::step]
            if step == 1 and ia <= ib and len(seq) > 1:
                out.append(f"{DAY_NAMES[ia]}-{DAY_NAMES[ib]}")
                continue
        else:
            i = to_idx(rng)
            if i is None:
                return None, f"day-of-week {part!r} is not understood"
            days = [i]
        out.extend(DAY_NAMES[d] for d in days)
    days: set[int] = set()
    for d in out:
        if "-" in d:
            a, _, b = d.partition("-")
            ia, ib = DAY_NAMES.index(a), DAY_NAMES.index(b)
            days.update(range(ia, ib + 1))
        else:
            days.add(DAY_NAMES.index(d))
    if days == set(range(7)):
        return "*", ""
    # Sunday-first order, runs of three or more as ranges (MON-FRI), the rest listed (SUN,SAT)
    runs: list[list[int]] = []
    for d in sorted(days):
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts = []
    for r in runs:
        parts += [f"{DAY_NAMES[r[0]]}-{DAY_NAMES[r[-1]]}"] if len(r) > 2 else [DAY_NAMES[d] for d in r]
    return ",".join(parts), ""


def _check_range(field_: str, lo: int, hi: int, names: tuple[str, ...] = (), base: int = 0) -> bool:
    if field_ == "*":
        return True
    for part in field_.split(","):
        rng, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            return False
        if rng == "*":
            continue
        ends = rng.split("-")
        if len(ends) > 2:
            return False
        for e in ends:
            n = _num_or_name(e, names, base)
            if n is None or not lo <= n <= hi:
                return False
    return True


def _month_numbers(field_: str) -> str:
    """JAN..DEC written as 1..12 (Cloudflare reads both; numbers read the same in every dialect)."""
    return re.sub(r"[A-Za-z]{3}", lambda m: str(MONTH_NAMES.index(m.group(0).upper()) + 1), field_)


def convert_crontab(expr: str, numbering: str = "crontab", seconds_first: bool = True) -> tuple[str | None, str]:
    """A crontab-style expression (5 fields, or 6 with seconds first) as a Cloudflare cron, or (None, why)."""
    fields_ = expr.split()
    if not fields_:
        return None, "empty expression"
    if fields_[0].startswith("@"):
        alias = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
                 "@weekly": "0 0 * * SUN", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
        if fields_[0].lower() in alias and len(fields_) == 1:
            return alias[fields_[0].lower()], ""
        return None, f"{fields_[0]} has no Cron Trigger equivalent"
    if len(fields_) == 6 and seconds_first:
        sec = fields_[0]
        if sec not in ("0", "00"):
            return None, (f"runs at second(s) {sec!r}; Cron Triggers fire at most once a minute, so a schedule "
                          "with seconds cannot be kept exactly")
        fields_ = fields_[1:]
    if len(fields_) != 5:
        return None, f"{len(fields_)} fields; Cron Triggers take 5 (minute hour day month weekday)"
    minute, hour, dom, month, dow = fields_
    for f_ in fields_:
        if not _SIMPLE.match(f_):
            return None, f"field {f_!r} uses syntax Cron Triggers do not share"
    if not _check_range(minute, 0, 59) or not _check_range(hour, 0, 23):
        return None, "minute or hour out of range"
    if not _check_range(dom, 1, 31):
        return None, f"day-of-month {dom!r} is not understood"
    if not _check_range(month, 1, 12, MONTH_NAMES, 1):
        return None, f"month {month!r} is not understood"
    dow_names, why = _dow_to_names(dow, numbering)
    if dow_names is None:
        return None, why
    if dom != "*" and dow_names != "*":
        return None, ("restricts both day-of-month and day-of-week; crontab runs when either matches, and "
                      "Cron Triggers (Quartz-like) do not promise the same reading")
    return " ".join([minute, hour, dom, _month_numbers(month), dow_names]), ""


# ----------------------------------------------------------------------------------------------- APScheduler

APS_FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
APS_DEFAULTS = {"year": "*", "month": "1", "day": "1", "week": "*", "day_of_week": "*", "hour": "0", "minute": "0",
                "second": "0"}


def _aps_value(a: Arg) -> str | None:
    if a.kind == "number":
        v = a.value or ""
        return v[:-2] if v.endswith(".0") else v
    if a.kind == "string":
        return (a.value or "").strip()
    return None


def convert_aps_cron(kwargs: dict[str, Arg], numbering: str = "aps") -> tuple[str | None, str]:
    """APScheduler `CronTrigger(**fields)` from call facts (see convert_aps_fields)."""
    given: dict[str, str] = {}
    for k in APS_FIELDS:
        if k in kwargs:
            v = _aps_value(kwargs[k])
            if v is None:
                return None, f"{k}={kwargs[k].text} is not a literal"
            given[k] = v
    return convert_aps_fields(given, numbering)


def convert_aps_fields(given: dict[str, str], numbering: str = "aps") -> tuple[str | None, str]:
    """APScheduler `CronTrigger(**fields)` semantics: fields before the last one given default to '*', fields
    after it to their minimum (hour=3 -> 03:00:00 every day). A day_of_week number counts from Monday = 0 in
    APScheduler 3.x and 4.x alike (4.x `DayOfWeekField.get_value` is `datetime.weekday()`)."""
    given = {k: str(v).strip() for k, v in given.items() if v is not None}
    if not given:
        return "* * * * *", ""   # every minute of every day... but seconds default to 0: fires once a minute
    vals: dict[str, str] = {}
    remaining = dict(given)
    for k in APS_FIELDS:
        if k in remaining:
            vals[k] = remaining.pop(k)
        elif not remaining:
            vals[k] = APS_DEFAULTS[k]
        else:
            vals[k] = "*"
    if vals["year"] != "*":
        return None, f"year={vals['year']} limits the job to certain years; Cron Triggers have no year field"
    if vals["week"] != "*":
        return None, f"week={vals['week']} (ISO week number) has no Cron Trigger equivalent"
    if vals["second"] not in ("0", "00"):
        return None, f"second={vals['second']}; Cron Triggers fire at most once a minute"
    day = vals["day"]
    if day.lower() == "last":
        day = "L"
    elif not re.fullmatch(r"[0-9*,/\-]+", day):
        return None, f"day={day!r} has no exact Cron Trigger equivalent"
    expr = f"{vals['minute']} {vals['hour']} {day} {vals['month']} {vals['day_of_week']}"
    if day == "L":
        if vals["day_of_week"] != "*":
            return None, "day='last' together with day_of_week"
        rest, why = convert_crontab(f"{vals['minute']} {vals['hour']} 1 {vals['month']} *", numbering)
        if rest is None:
            return None, why
        parts = rest.split()
        parts[2] = "L"
        return " ".join(parts), ""
    if day != "*" and vals["day_of_week"] != "*":
        return None, ("restricts both day and day_of_week (APScheduler requires both to match, crontab either); "
                      "no exact Cron Trigger")
    return convert_crontab(expr, numbering, seconds_first=False)


def convert_aps_interval(kwargs: dict[str, Arg]) -> tuple[str | None, str, str | None]:
    """`'interval', minutes=15` -> '*/15 * * * *' when the period divides the hour or the day."""
    mult = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
    total = 0.0
    for k, m in mult.items():
        if k in kwargs:
            n = number(kwargs[k])
            if n is None:
                return None, f"{k}={kwargs[k].text} is not a literal number", None
            total += n * m
    if total <= 0:
        return None, "no interval given", None
    return interval_to_cron(total)


def interval_to_cron(seconds: float) -> tuple[str | None, str, str | None]:
    """A fixed period as a cron, when one exists. Returns (cron, reason-if-none, suggestion)."""
    if seconds < 60:
        return None, f"runs every {seconds:g} s; Cron Triggers fire at most once a minute", "* * * * *"
    if seconds % 60:
        return None, f"a period of {seconds:g} s is not a whole number of minutes", None
    m = int(seconds // 60)
    if m < 60:
        if 60 % m == 0:
            return ("* * * * *" if m == 1 else f"*/{m} * * * *"), "", None
        return None, f"every {m} min does not divide the hour, so no cron repeats it exactly", f"*/{m} * * * *"
    if m % 60 == 0:
        h = m // 60
        if h < 24 and 24 % h == 0:
            return ("0 * * * *" if h == 1 else f"0 */{h} * * *"), "", None
        if h == 24:
            return "0 0 * * *", "", None
        if h == 168:
            return "0 0 * * MON", "", None
        return None, f"every {h} h does not divide the day", None
    return None, f"every {m} min is not a whole number of hours", None


# ----------------------------------------------------------------------------------------------- extraction

_NODE_CRON = ("node-cron.schedule", "node-cron.default.schedule")
_CRON_PKG = ("cron.CronJob", "cron.job", "cron.CronJob.from")
_CRONER = ("croner.Cron", "croner", "croner.default")
_NODE_SCHEDULE = ("node-schedule.scheduleJob", "node-schedule.default.scheduleJob")
_INTERVALS = ("setInterval", "timers.setInterval")


def _aps_numbering(dependencies: Iterable[Any] = ()) -> str:
    """APScheduler numbers the days of the week from Monday = 0 in 3.x and in 4.x (its cron fields use
    `datetime.weekday()`; `CronTrigger.from_crontab` passes the crontab field through unchanged), so the version
    does not matter: numbers are always read Monday-based."""
    return "aps"


def _tz_note(tz: Arg | None, scheduler_tz: str | None, library: str) -> str:
    val = (tz.value if tz is not None and tz.kind == "string" else None) or scheduler_tz
    if val is None:
        return (f"{library} runs in the server's local time zone unless told otherwise; Cron Triggers run in UTC "
                "(shift the hours if the server was not on UTC)")
    if val.upper() in ("UTC", "ETC/UTC", "GMT", "Z"):
        return ""
    return (f"the job runs in time zone {val}; Cron Triggers run in UTC, so the hours must be shifted (and "
            "daylight-saving changes cannot be followed by a fixed cron)")


def _callback_name(a: Arg | None) -> str:
    if a is None:
        return ""
    if a.kind in ("identifier", "member"):
        return (a.text or "").strip()
    return ""


def find_schedules(files: list[FileFacts], dependencies: Iterable[Any] = ()) -> list[Schedule]:
    out: list[Schedule] = []
    deps = list(dependencies)
    for facts in files:
        if facts.role != "runtime" or facts.error:
            continue
        aps_tz: str | None = None
        for c in facts.calls:
            if re.search(r"apscheduler\.schedulers\..*Scheduler$", c.qname) and "timezone" in c.kwargs:
                tz = c.kwargs["timezone"]
                aps_tz = tz.value if tz.kind == "string" else None
        for c in facts.calls:
            s = _from_call(facts, c, deps, aps_tz)
            if s is not None:
                out.append(s)
    out.sort(key=lambda s: (s.path, s.line))
    return out


def _opt(c: Call, idx: int, key: str) -> Arg | None:
    if idx < len(c.args) and c.args[idx].kind == "object":
        return c.args[idx].props.get(key)
    return None


def _from_call(facts: FileFacts, c: Call, deps: list[Any], aps_tz: str | None) -> Schedule | None:
    q = c.qname
    path, line = facts.path, c.line
    if q in _NODE_CRON or q in _CRON_PKG or q in _CRONER or q in _NODE_SCHEDULE or q.endswith("@nestjs/schedule.Cron"):
        library = ("node-cron" if q in _NODE_CRON else "cron" if q in _CRON_PKG else "croner" if q in _CRONER
                   else "node-schedule" if q in _NODE_SCHEDULE else "nestjs")
        expr_arg = c.args[0] if c.args else None
        tz_arg = None
        if q == "cron.CronJob.from" and expr_arg is not None and expr_arg.kind == "object":
            tz_arg = expr_arg.props.get("timeZone")
            expr_arg = expr_arg.props.get("cronTime")
        elif library == "node-schedule" and len(c.args) > 2 and c.args[0].kind == "string":
            expr_arg = c.args[1]    # scheduleJob(name, spec, fn)
        if library == "node-cron":
            tz_arg = _opt(c, 2, "timezone")
        elif library == "cron" and q != "cron.CronJob.from" and len(c.args) > 4:
            tz_arg = c.args[4] if c.args[4].kind == "string" else None
        elif library == "croner":
            tz_arg = _opt(c, 1, "timezone") or _opt(c, 2, "timezone")
        elif library == "nestjs":
            tz_arg = _opt(c, 1, "timeZone")
        expr, origin = literal(expr_arg)
        sched = Schedule(path, line, library, expr_arg.text if expr_arg is not None else "", job="")
        if c.args and library in ("node-cron", "cron", "croner"):
            sched.job = _callback_name(c.args[1] if len(c.args) > 1 else None)
        if origin:
            sched.notes.append(f"{expr!r} is the {origin}")
        if expr is None:
            sched.reason = ("the schedule is not a literal in the code (it comes from configuration or a variable "
                            "cfcompat cannot read); write it into triggers.crons by hand")
            return sched
        sched.source = expr
        cron, why = convert_crontab(expr, "crontab", seconds_first=True)
        if library == "cron" and cron is not None and re.search(r"(^|\s)\S+\s+\S+\s+\S+\s+[0-9]", " ".join(
                expr.split()[-5:])):
            sched.notes.append("the `cron` package numbered months 0-11 in old versions; check the month field")
        sched.cron, sched.reason = cron, why
        note = _tz_note(tz_arg, None, library)
        if note:
            sched.notes.append(note)
        return sched

    if q.endswith((".add_job", ".scheduled_job")) and "apscheduler" in q:
        is_decorator = q.endswith(".scheduled_job")
        trig_idx = 0 if is_decorator else 1
        trig = c.kwargs.get("trigger") or (c.args[trig_idx] if len(c.args) > trig_idx else None)
        job_id = c.kwargs.get("id")
        sched = Schedule(path, line, "apscheduler", c.snippet.split("#")[0].strip().rstrip("("),
                         job=(job_id.value if job_id is not None and job_id.kind == "string" else "")
                         or (_callback_name(c.args[0]) if not is_decorator and c.args else "")
                         or (c.symbol if not is_decorator else ""))
        if is_decorator and not sched.job:
            sched.job = c.symbol
        numbering = _aps_numbering(deps)
        tz = c.kwargs.get("timezone")
        kw = dict(c.kwargs)
        if trig is None:
            sched.reason = "no trigger given (runs once, immediately); nothing to schedule"
            return sched
        if trig.kind == "string":
            kind = (trig.value or "").lower()
            sched.source = _aps_source(kind, kw)
            if kind == "cron":
                sched.cron, sched.reason = convert_aps_cron(kw, numbering)
            elif kind == "interval":
                sched.cron, sched.reason, sched.suggestion = convert_aps_interval(kw)
                if sched.cron:
                    sched.notes.append("an APScheduler interval counts from when the scheduler started; the Cron "
                                       "Trigger fires on the clock (same period, possibly a different phase)")
            elif kind == "date":
                sched.reason = "a one-off 'date' job; use a Durable Object alarm or a delayed Queue message"
            else:
                sched.reason = f"trigger {kind!r} is not understood"
        elif trig.kind in ("call", "new"):
            tq = trig.value or ""
            tz = tz or trig.props.get("timezone")
            if tq.endswith("CronTrigger.from_crontab"):
                expr, _ = literal(trig.inner[0] if trig.inner else None)
                sched.source = trig.text
                if expr is None:
                    sched.reason = "the crontab expression is not a literal"
                else:
                    sched.cron, sched.reason = convert_crontab(expr, numbering, seconds_first=False)
            elif tq.endswith("CronTrigger"):
                sched.source = trig.text
                sched.cron, sched.reason = convert_aps_cron(trig.props, numbering)
            elif tq.endswith("IntervalTrigger"):
                sched.source = trig.text
                sched.cron, sched.reason, sched.suggestion = convert_aps_interval(trig.props)
            else:
                sched.reason = f"trigger {trig.text!r} is not understood"
        else:
            sched.reason = f"trigger {trig.text!r} is not a literal"
        if "jitter" in kw:
            sched.notes.append(f"jitter={kw['jitter'].text} is dropped (Cron Triggers have no jitter)")
        note = _tz_note(tz, aps_tz, "APScheduler")
        if note:
            sched.notes.append(note)
        return sched

    if q in _INTERVALS and c.kind == "call" and len(c.args) >= 2:
        ms = number(c.args[1])
        sched = Schedule(path, line, "setInterval", c.args[1].text, job=_callback_name(c.args[0]), active=False)
        if ms is None:
            sched.reason = "the interval is not a literal number"
            return sched
        sched.cron, sched.reason, sched.suggestion = interval_to_cron(ms / 1000.0)
        sched.source = f"every {_human_ms(ms)}"
        sched.notes.append("a timer, not a schedule: enable it only if the work is still needed after the move "
                           "(maintenance of a local database, for one, goes away with D1)")
        return sched
    return None


def _aps_source(kind: str, kw: dict[str, Arg]) -> str:
    parts = [repr(kind)] + [f"{k}={v.text}" for k, v in kw.items() if k in APS_FIELDS or k in (
        "weeks", "days", "hours", "minutes", "seconds")]
    return ", ".join(parts)


def _human_ms(ms: float) -> str:
    s = ms / 1000
    if s % 3600 == 0:
        return f"{s / 3600:g} h"
    if s % 60 == 0:
        return f"{s / 60:g} min"
    return f"{s:g} s"


# ----------------------------------------------------------------------------------------------- runs per month

def _expand(field_: str, lo: int, hi: int, names: tuple[str, ...] = (), base: int = 0) -> set[int] | None:
    out: set[int] = set()
    for part in field_.split(","):
        rng, _, step_s = part.partition("/")
        step = int(step_s) if step_s.isdigit() and int(step_s) > 0 else 1
        if rng == "*":
            a, b = lo, hi
        elif "-" in rng:
            x, _, y = rng.partition("-")
            na, nb = _num_or_name(x, names, base), _num_or_name(y, names, base)
            if na is None or nb is None:
                return None
            a, b = na, nb
        else:
            n = _num_or_name(rng, names, base)
            if n is None:
                return None
            a, b = n, (hi if step_s else n)
        if a <= b:
            out.update(range(a, b + 1, step))
        else:  # wrapping range (FRI-MON)
            vals = list(range(a, hi + 1)) + list(range(lo, b + 1))
            out.update(vals[::step])
    return out


def runs_per_month(expr: str) -> float | None:
    """Average runs in a month of a 5-field Cloudflare cron (runs in the year 2026 / 12)."""
    parts = expr.split()
    if len(parts) != 5:
        return None
    minute, hour, dom, month, dow = parts
    mins = _expand(minute, 0, 59)
    hours = _expand(hour, 0, 23)
    months = _expand(month, 1, 12, MONTH_NAMES, 1)
    if mins is None or hours is None or months is None:
        return None
    last_dom = dom == "L"
    doms = None if last_dom else _expand(dom, 1, 31)
    dows = _expand(dow, 0, 6, DAY_NAMES, 0)
    if (doms is None and not last_dom) or dows is None:
        return None
    days = 0
    d = _dt.date(2026, 1, 1)
    while d.year == 2026:
        if d.month in months:
            cron_dow = (d.weekday() + 1) % 7          # Python: Monday 0 -> SUN-based index
            dom_ok = (d.day == calendar.monthrange(d.year, d.month)[1]) if last_dom else d.day in doms  # type: ignore[operator]
            dom_any = dom == "*"
            dow_any = dow == "*"
            if dom_any and dow_any:
                ok = True
            elif dom_any:
                ok = cron_dow in dows
            elif dow_any:
                ok = dom_ok
            else:
                ok = dom_ok or cron_dow in dows
            if ok:
                days += 1
        d += _dt.timedelta(days=1)
    return days * len(mins) * len(hours) / 12.0
