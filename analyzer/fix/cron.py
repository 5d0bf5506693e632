"""Schedules for `cfcompat fix`, converted by the one converter in analyzer/schedules.py (which the migration plan
and the starter config use too), exactly or not at all.

Cron Triggers take five fields (minute hour day-of-month month day-of-week), run in UTC, and number the days of
the week **1 = Sunday to 7 = Saturday**. APScheduler (3.x and 4.x) numbers them **0 = Monday to 6 = Sunday**,
node-cron and Unix cron **0 (or 7) = Sunday**; the day-of-week field is therefore written with names.

This module only adapts the values the codemods read (Python literals, strings) to schedules.py and checks the
options only a fix sees (jitter, start and end dates, job arguments). Every function returns `(expression, None)`
or `(None, reason)`; a reason is written next to the code that was not converted.

    >>> apscheduler_interval({"minutes": 15})
    ('*/15 * * * *', None)
    >>> apscheduler_cron({"hour": 3, "minute": 30})
    ('30 3 * * *', None)
    >>> apscheduler_cron({"day_of_week": "mon-fri", "hour": 9})
    ('0 9 * * MON-FRI', None)
    >>> apscheduler_cron({"day_of_week": 0, "hour": 6})      # APScheduler 0 = Monday
    ('0 6 * * MON', None)
    >>> apscheduler_crontab("0 6 * * 0")                      # from_crontab keeps APScheduler's numbering
    ('0 6 * * MON', None)
    >>> node_cron("0 */5 * * * 1-5")                         # node-cron 6 fields: seconds first
    ('*/5 * * * MON-FRI', None)
"""
from __future__ import annotations

from typing import Any

from .. import schedules

UTC_NAMES = {"utc", "etc/utc", "gmt", "etc/gmt", "z", "zulu", "universal", "etc/universal"}

Result = tuple[str | None, str | None]

_INTERVAL_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
_CRON_FIELDS = schedules.APS_FIELDS
_IGNORED = {"id", "name", "replace_existing", "misfire_grace_time", "coalesce", "max_instances", "executor",
            "jobstore", "next_run_time"}


def _utc(tz: Any) -> bool:
    return tz is None or str(tz).strip().lower() in UTC_NAMES


def _result(expr: str | None, why: str) -> Result:
    return (expr, None) if expr else (None, why or "cannot convert exactly")


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
    expr, why, _ = schedules.interval_to_cron(total)
    return _result(expr, why)


def apscheduler_cron(kw: dict[str, Any], tz: Any = None) -> Result:
    """`add_job(f, 'cron', hour=3, minute=30)` -> `30 3 * * *` (APScheduler's defaults; schedules.py)."""
    why = _unsupported(kw, set(_CRON_FIELDS) | {"timezone"})
    if why:
        return None, why
    tz = kw.get("timezone", tz)
    if not _utc(tz):
        return None, f"the job runs in time zone {tz}; Cron Triggers run in UTC"
    given = {k: str(kw[k]).lower() if isinstance(kw[k], str) else str(kw[k]) for k in _CRON_FIELDS
             if kw.get(k) is not None}
    if not given:
        return None, "no schedule fields"
    expr, why = schedules.convert_aps_fields(given, "aps")
    return _result(expr, why)


def apscheduler_crontab(expr: str, tz: Any = None) -> Result:
    """`CronTrigger.from_crontab("0 6 * * *")`: APScheduler (3.x and 4.x) passes the fields to its own cron
    fields, so a day-of-week number counts from Monday = 0, as in `day_of_week=`."""
    if not _utc(tz):
        return None, f"the job runs in time zone {tz}; Cron Triggers run in UTC"
    parts = str(expr).split()
    if len(parts) != 5:
        return None, f"`{expr}` does not have five fields"
    minute, hour, day, month, dow = parts
    return apscheduler_cron({"minute": minute, "hour": hour, "day": day, "month": month, "day_of_week": dow})


def node_cron(expr: str, timezone: Any = None) -> Result:
    """A node-cron expression (5 fields, or 6 with seconds first; day of week 0 or 7 = Sunday)."""
    if not _utc(timezone):
        return None, f"the job runs in time zone {timezone}; Cron Triggers run in UTC"
    out, why = schedules.convert_crontab(str(expr), "crontab", seconds_first=True)
    return _result(out, why)
