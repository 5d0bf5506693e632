"""Schedules of in-process schedulers converted to Cloudflare Cron Trigger expressions, exactly or not at all.

Cron Triggers take five fields (minute hour day-of-month month day-of-week), run in UTC, and number the days of
the week **1 = Sunday to 7 = Saturday** (Cloudflare's note on the cron-triggers page; "different on some other
cron systems where 0 = Sunday"). APScheduler numbers them **0 = Monday to 6 = Sunday**, node-cron and Unix cron
**0 (or 7) = Sunday**. So a number is never copied across: the day-of-week field is expanded to a set of days and
written with the three-letter names Cloudflare accepts (`MON-FRI`), which mean the same thing everywhere.

Every function returns `(expression, None)` or `(None, reason)`; a reason is written next to the code that was
not converted.

    >>> apscheduler_interval({"minutes": 15})
    ('*/15 * * * *', None)
    >>> apscheduler_cron({"hour": 3, "minute": 30})
    ('30 3 * * *', None)
    >>> apscheduler_cron({"day_of_week": "mon-fri", "hour": 9})
    ('0 9 * * MON-FRI', None)
    >>> apscheduler_cron({"day_of_week": 0, "hour": 6})      # APScheduler 0 = Monday
    ('0 6 * * MON', None)
    >>> node_cron("0 */5 * * * 1-5")                         # node-cron 6 fields: seconds first
    ('*/5 * * * MON-FRI', None)
"""
from __future__ import annotations

import re
from typing import Any

DAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")          # index = APScheduler number
_NAME_TO_DAY = {n.lower(): i for i, n in enumerate(DAY_NAMES)}          # name -> Monday-based index
CF_ORDER = (6, 0, 1, 2, 3, 4, 5)                                        # Monday-based index in Sunday-first order
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
UTC_NAMES = {"utc", "etc/utc", "gmt", "etc/gmt", "z", "zulu", "universal", "etc/universal"}

Result = tuple[str | None, str | None]


class _NotExact(ValueError):
    pass


def _num(tok: str, lo: int, hi: int, names: dict[str, int] | None = None) -> int:
    t = tok.strip().lower()
    if names and t in names:
        return names[t]
    if not re.fullmatch(r"\d+", t):
        raise _NotExact(f"`{tok}` is not a plain value")
    v = int(t)
    if not lo <= v <= hi:
        raise _NotExact(f"`{tok}` is outside {lo}-{hi}")
    return v


def expand(expr: str, lo: int, hi: int, names: dict[str, int] | None = None) -> set[int]:
    """The values a field expression (`*`, `*/n`, `a`, `a-b`, `a-b/n`, `a/n`, lists) selects."""
    out: set[int] = set()
    for part in str(expr).split(","):
        part = part.strip()
        if not part:
            raise _NotExact("empty list element")
        rng, _, step_s = part.partition("/")
        step = 1
        if step_s:
            if not re.fullmatch(r"\d+", step_s) or int(step_s) == 0:
                raise _NotExact(f"bad step in `{part}`")
            step = int(step_s)
        if rng == "*":
            a, b = lo, hi
        elif "-" in rng:
            x, _, y = rng.partition("-")
            a, b = _num(x, lo, hi, names), _num(y, lo, hi, names)
            if a > b:
                raise _NotExact(f"`{part}` wraps around")
        else:
            a = _num(rng, lo, hi, names)
            b = hi if step_s else a
        out.update(range(a, b + 1, step))
    return out


_SIMPLE = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")


def _plain_field(expr: Any, lo: int, hi: int, names: dict[str, int] | None = None) -> str:
    """A minute/hour/day/month field in Cloudflare syntax with the same meaning."""
    s = str(expr).strip().lower()
    vals = expand(s, lo, hi, names)
    if vals == set(range(lo, hi + 1)) and s in ("*", f"{lo}-{hi}"):
        return "*"
    if _SIMPLE.match(s) and not any("/" in p and p.split("/")[0] not in ("*",) and "-" not in p.split("/")[0]
                                    for p in s.split(",")):
        return s
    return _render(sorted(vals))


def _render(vals: list[int]) -> str:
    runs: list[list[int]] = []
    for v in vals:
        if runs and v == runs[-1][-1] + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else ",".join(map(str, r)) for r in runs)


def days_field(days: set[int]) -> str:
    """Monday-based day indexes -> Cloudflare day-of-week field with names (runs in Sunday-first order)."""
    if days == set(range(7)):
        return "*"
    order = [d for d in CF_ORDER if d in days]
    pos = {d: i for i, d in enumerate(CF_ORDER)}
    runs: list[list[int]] = []
    for d in order:
        if runs and pos[d] == pos[runs[-1][-1]] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts = []
    for r in runs:
        if len(r) > 2:
            parts.append(f"{DAY_NAMES[r[0]]}-{DAY_NAMES[r[-1]]}")
        else:
            parts.extend(DAY_NAMES[d] for d in r)
    return ",".join(parts)


def _utc(tz: Any) -> bool:
    return tz is None or str(tz).strip().lower() in UTC_NAMES


# --------------------------------------------------------------------------------------------- APScheduler

_INTERVAL_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
_IGNORED = {"id", "name", "replace_existing", "misfire_grace_time", "coalesce", "max_instances", "executor",
            "jobstore", "next_run_time"}


def _unsupported(kw: dict[str, Any], allowed: set[str]) -> str | None:
    for k in kw:
        if k in allowed or k in _IGNORED:
            continue
        if k == "jitter":
            return "jitter (a random delay) has no Cron Trigger equivalent"
        if k in ("start_date", "end_date"):
            return f"{k} limits when the job runs; Cron Triggers have no start or end date"
        if k in ("args", "kwargs"):
            return "the job takes arguments; call it with them from the scheduled handler"
        return f"option `{k}` has no Cron Trigger equivalent"
    return None


def apscheduler_interval(kw: dict[str, Any], tz: Any = None) -> Result:
    """`add_job(f, 'interval', minutes=15)` -> `*/15 * * * *` when the period divides an hour or a day."""
    why = _unsupported(kw, set(_INTERVAL_UNITS) | {"timezone"})
    if why:
        return None, why
    total = 0
    for unit, secs in _INTERVAL_UNITS.items():
        v = kw.get(unit, 0)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            return None, f"interval {unit}={v!r} is not a whole number"
        total += v * secs
    if total <= 0:
        return None, "the interval is zero"
    if total % 60:
        return None, "the interval has seconds; Cron Triggers run at most once a minute"
    m = total // 60
    if m < 60 and 60 % m == 0:
        return ("* * * * *" if m == 1 else f"*/{m} * * * *"), None
    if m % 60 == 0:
        h = m // 60
        if h < 24 and 24 % h == 0:
            return ("0 * * * *" if h == 1 else f"0 */{h} * * *"), None
        if h == 24:
            return "0 0 * * *", None
        if h == 168:
            return "0 0 * * MON", None
    return None, f"an interval of {m} minutes does not divide an hour or a day, so no cron expression repeats it"


_CRON_FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
_CRON_DEFAULTS = {"year": "*", "month": "1", "day": "1", "week": "*", "day_of_week": "*", "hour": "0",
                  "minute": "0", "second": "0"}


def apscheduler_cron(kw: dict[str, Any], tz: Any = None) -> Result:
    """`add_job(f, 'cron', hour=3, minute=30)` -> `30 3 * * *`, with APScheduler's defaults: fields less
    significant than the least significant one given are at their minimum, the others are `*`."""
    why = _unsupported(kw, set(_CRON_FIELDS) | {"timezone"})
    if why:
        return None, why
    tz = kw.get("timezone", tz)
    if not _utc(tz):
        return None, f"the job runs in time zone {tz}; Cron Triggers run in UTC"
    given = {k: kw[k] for k in _CRON_FIELDS if kw.get(k) is not None}
    if not given:
        return None, "no schedule fields"
    vals: dict[str, str] = {}
    defaults = False
    remaining = dict(given)
    for f in _CRON_FIELDS:
        if f in remaining:
            vals[f] = str(remaining.pop(f)).strip().lower()
            defaults = not remaining
        elif defaults:
            vals[f] = _CRON_DEFAULTS[f]
        else:
            vals[f] = "*"
    try:
        if vals["year"] != "*":
            return None, "a year restriction has no Cron Trigger equivalent"
        if vals["week"] != "*":
            return None, "an ISO week restriction has no Cron Trigger equivalent"
        if vals["second"] != "0":
            return None, f"second={vals['second']}: Cron Triggers run at minute granularity"
        if vals["day"] != "*" and vals["day_of_week"] != "*":
            return None, ("APScheduler requires both day and day_of_week to match, while cron runs when either "
                          "matches")
        day = "L" if vals["day"] == "last" else _plain_field(vals["day"], 1, 31)
        dow = days_field(expand(vals["day_of_week"], 0, 6, _NAME_TO_DAY))
        month = _plain_field(vals["month"], 1, 12, {m: i + 1 for i, m in enumerate(MONTHS)})
        expr = " ".join([_plain_field(vals["minute"], 0, 59), _plain_field(vals["hour"], 0, 23), day, month, dow])
    except _NotExact as exc:
        return None, f"cannot convert exactly: {exc}"
    return expr, None


def apscheduler_crontab(expr: str, tz: Any = None) -> Result:
    """`CronTrigger.from_crontab("0 6 * * *")`. Names are safe; a day-of-week *number* is not: APScheduler 3
    passes it to its own day_of_week field, which counts from Monday = 0 (crontab counts from Sunday = 0), and
    which one the author meant cannot be told, so it is left for a person."""
    if not _utc(tz):
        return None, f"the job runs in time zone {tz}; Cron Triggers run in UTC"
    parts = str(expr).split()
    if len(parts) != 5:
        return None, f"`{expr}` does not have five fields"
    minute, hour, day, month, dow = parts
    if re.search(r"\d", dow) and dow != "*":
        return None, ("the day-of-week field uses numbers, which APScheduler 3 reads as Monday = 0 while crontab "
                      "means Sunday = 0; write it with names (mon-fri) and run the fix again")
    return apscheduler_cron({"minute": minute, "hour": hour, "day": day, "month": month, "day_of_week": dow})


# --------------------------------------------------------------------------------------------- node-cron

_NODE_DOW = {**{n.lower(): i for i, n in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))},
             **{n: i for i, n in enumerate(("sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
                                            "saturday"))}}


def node_cron(expr: str, timezone: Any = None) -> Result:
    """A node-cron expression (5 fields, or 6 with seconds first; day of week 0 or 7 = Sunday)."""
    if not _utc(timezone):
        return None, f"the job runs in time zone {timezone}; Cron Triggers run in UTC"
    parts = str(expr).split()
    if len(parts) == 6:
        sec = parts[0]
        if sec not in ("0", "00"):
            return None, (f"the seconds field is `{sec}`; Cron Triggers run at most once a minute, at second 0")
        parts = parts[1:]
    if len(parts) != 5:
        return None, f"`{expr}` does not have five (or six) fields"
    minute, hour, day, month, dow = parts
    try:
        days = expand(dow.lower(), 0, 7, _NODE_DOW)
        mon_based = {(d - 1) % 7 for d in days}         # 0/7 Sunday -> 6; 1 Monday -> 0
        if day != "*" and dow != "*":
            return None, ("both day-of-month and day-of-week are restricted; cron runs when either matches and "
                          "Cloudflare's Quartz-style parser may not; check the Cron Trigger by hand")
        out = " ".join([_plain_field(minute, 0, 59), _plain_field(hour, 0, 23), _plain_field(day, 1, 31),
                        _plain_field(month, 1, 12, {m: i + 1 for i, m in enumerate(MONTHS)}),
                        days_field(mon_based)])
    except _NotExact as exc:
        return None, f"cannot convert exactly: {exc}"
    return out, None
