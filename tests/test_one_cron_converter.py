"""One cron converter: the migration plan (schedules.find_schedules), the starter config and `cfcompat fix`
write the same Cron Trigger for the same schedule. APScheduler numbers weekdays from Monday = 0 in 3.x and 4.x
(including CronTrigger.from_crontab), crontab-style libraries from Sunday = 0."""
from __future__ import annotations

import shutil

import pytest

from cfcompat.analyzer import schedules
from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.analyzer.fix import cron as fixcron

APS_CASES = [({"day_of_week": 0, "hour": 6}, "0 6 * * MON"), ({"day_of_week": 6}, "0 0 * * SUN"),
             ({"day_of_week": "0-4", "hour": 9, "minute": 30}, "30 9 * * MON-FRI"),
             ({"day_of_week": "sat,sun"}, "0 0 * * SUN,SAT"), ({"hour": 3}, "0 3 * * *"),
             ({"month": "jan", "day": 1}, "0 0 1 1 *"), ({"minute": "*/15"}, "*/15 * * * *")]


@pytest.mark.parametrize("kw,want", APS_CASES)
def test_fix_and_plan_convert_apscheduler_fields_alike(kw, want):
    assert fixcron.apscheduler_cron(kw) == (want, None)
    assert schedules.convert_aps_fields({k: str(v) for k, v in kw.items()}) == (want, "")


@pytest.mark.parametrize("expr,want", [("0 6 * * 0", "0 6 * * MON"), ("0 6 * * 6", "0 6 * * SUN"),
                                       ("0 6 * * mon-fri", "0 6 * * MON-FRI")])
def test_from_crontab_keeps_apscheduler_numbering(expr, want):
    assert fixcron.apscheduler_crontab(expr) == (want, None)
    assert schedules.convert_crontab(expr, "aps", seconds_first=False) == (want, "")


@pytest.mark.parametrize("expr,want", [("0 6 * * 0", "0 6 * * SUN"), ("0 6 * * 7", "0 6 * * SUN"),
                                       ("30 7 * * 1-5", "30 7 * * MON-FRI"), ("0 */5 * * * *", "*/5 * * * *")])
def test_node_cron_numbering(expr, want):
    assert fixcron.node_cron(expr) == (want, None)
    assert schedules.convert_crontab(expr, "crontab") == (want, "")


APP = '''from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from fastapi import FastAPI

app = FastAPI()
sched = AsyncIOScheduler(timezone="UTC")


async def weekly() -> None:
    pass


async def sunday() -> None:
    pass


sched.add_job(weekly, "cron", day_of_week=0, hour=6)
sched.add_job(sunday, CronTrigger.from_crontab("0 7 * * 6"))
'''


@pytest.mark.parametrize("spec", ["apscheduler>=3.10,<4", "apscheduler>=4.0.0a5"])
def test_plan_and_fix_write_the_same_triggers(tmp_path, spec):
    root = tmp_path / "app"
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(APP)
    (root / "requirements.txt").write_text(f"fastapi\n{spec}\n")
    r = scan(root, ScanOptions(target="python-workers", use_cache=False))
    plan = sorted(s.cron for s in schedules.find_schedules(r.files, r.dependencies) if s.cron)
    assert plan == ["0 6 * * MON", "0 7 * * SUN"], plan
    from cfcompat.analyzer.fix import plan_fixes
    fixed = tmp_path / "fixed"
    shutil.copytree(root, fixed)
    plan_fixes(fixed).workspace.commit()
    text = "".join(p.read_text() for p in fixed.rglob("wrangler*") if p.is_file())
    for c in plan:
        assert c in text, (c, text)
