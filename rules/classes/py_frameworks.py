"""Python frameworks judged by what they are: chat-bot gateways and their job queues, Celery beat schedules,
Django settings (database engine, media and static files, templates), secrets drawn at import, class-level
containers written per request, and pickled models.

Facts behind the verdicts (corpus/GUIDE.md; /work/shared/reference/cloudflare-facts.md, researched 2026-11-22):
- A Python Worker runs per event (fetch, scheduled, queue) and has no process that stays up: a gateway
  WebSocket, a long-polling loop or an in-process job queue never runs between requests (W-LIM 2026-07-28);
  threads cannot start in Pyodide (`RuntimeError: can't start new thread`, PY-STD / ORACLE).
- Python Workers have no functional raw sockets (PY-STD), so Postgres/MySQL/Redis drivers cannot connect, and
  no persistent disk: files written or read by path exist only if uploaded with the Worker (ORACLE).
- Python Workers serve WSGI apps (Flask, Django) since 2026-09-02 (PY-WSGI): Django itself is an adapter change;
  its settings decide what else must change.
- Randomness while a Python Worker starts raises "Randomness is not allowed while a Python Worker is starting
  because startup values will be repeated across Worker instances" (workerd src/pyodide/internal/
  topLevelEntropy, WD-SRC).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterator

from ..model import Hit, RuleContext
from .state import CACHE_NAME
from ...analyzer.parsing.facts import Arg, Assign, Call, FileFacts

MAIN_GUARD = "__main__"

# ------------------------------------------------------------------------------------------------ chat bots
# (pattern over the qualified name, what it is)
_GATEWAYS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(discord|disnake|nextcord)(\.ext\.commands)?\.(AutoSharded)?(Client|Bot|InteractionBot)\(\)\."
                r"(run|start|connect)$"), "the Discord gateway WebSocket"),
    (re.compile(r"^hikari\.(GatewayBot|impl\.\w+)\(\)\.(run|start)$"), "the Discord gateway WebSocket"),
    (re.compile(r"^lightbulb\.(BotApp|GatewayEnabledClient)\(\)\.run$"), "the Discord gateway WebSocket"),
    (re.compile(r"^interactions\.(Client|AutoShardedClient)\(\)\.start$"), "the Discord gateway WebSocket"),
    (re.compile(r"^telegram\..*\.(run_polling|start_polling)$"), "a Telegram long-polling loop (getUpdates)"),
    (re.compile(r"^telegram\..*\.(run_webhook|start_webhook)$"), "python-telegram-bot's own webhook server"),
    (re.compile(r"^aiogram\..*\.(start_polling|run_polling)$"), "a Telegram long-polling loop (aiogram)"),
    (re.compile(r"^aiogram\..*\.start_webhook$"), "aiogram's own webhook server"),
    (re.compile(r"^telebot\..*\.(polling|infinity_polling)$"), "a Telegram long-polling loop (pyTelegramBotAPI)"),
    (re.compile(r"^(pyrogram|hydrogram)\.Client\(\)\.(run|start)$"), "an MTProto connection to Telegram"),
    (re.compile(r"^telethon\.(sync\.)?TelegramClient\(\)\.(run_until_disconnected|start)$"),
     "an MTProto connection to Telegram"),
    (re.compile(r"^slack_bolt\.adapter\.socket_mode\..*SocketModeHandler\(\)\.(start|connect|start_async|"
                r"connect_async)$"), "the Slack Socket Mode WebSocket"),
    (re.compile(r"^slack_sdk\.socket_mode\..*SocketModeClient\(\)\.connect$"), "the Slack Socket Mode WebSocket"),
    (re.compile(r"^slack_bolt\.(App|async_app\.AsyncApp)\(\)\.start$"), "Slack Bolt's built-in HTTP server"),
    (re.compile(r"^twitchio\.(ext\.commands\.Bot|Client)\(\)\.(run|start)$"), "the Twitch IRC WebSocket"),
]
# Method names distinctive enough to judge on an unresolved receiver, when the file uses the framework.
_POLLING_METHODS = re.compile(r"\.(run_polling|start_polling|infinity_polling|run_until_disconnected)$")
_BOT_MODULES = ("telegram", "aiogram", "telebot", "telethon", "pyrogram", "hydrogram")

_JOB_QUEUE = re.compile(r"(^|\.)job_queue\.(run_repeating|run_daily|run_once|run_custom|run_monthly)$|"
                        r"^telegram\.ext\.JobQueue\(\)\.run_\w+$")
_BOT_LOOPS = ("discord.ext.tasks.loop", "disnake.ext.tasks.loop", "nextcord.ext.tasks.loop", "aiocron.crontab")

# ---------------------------------------------------------------------------------------------------- celery
_BEAT_TARGETS = re.compile(r"(^|\.conf\.)(beat_schedule|CELERYBEAT_SCHEDULE|CELERY_BEAT_SCHEDULE)$")
_BEAT_CALLS = re.compile(r"^(celery\..*\.add_periodic_task|.*\.add_periodic_task|celery\.(task|decorators)\."
                         r"periodic_task|django_celery_beat\.models\.PeriodicTask\.objects\.(create|get_or_create|"
                         r"update_or_create))$")
_CELERY_SCHEDULES = ("celery.schedules.crontab", "celery.schedules.solar", "celery.schedules.schedule")

# ---------------------------------------------------------------------------------------------------- django
_SERVER_ENGINES = [("postgis", "PostgreSQL/PostGIS"), ("postgres", "PostgreSQL"), ("mysql", "MySQL"),
                   ("oracle", "Oracle"), ("mssql", "SQL Server"), ("sql_server", "SQL Server"),
                   ("cockroach", "CockroachDB"), ("mongo", "MongoDB")]
_URL_DB = re.compile(r"^(postgres(ql)?|postgis|mysql|mysql2|oracle|mssql|cockroach(db)?)(\+\w+)?://")

# ---------------------------------------------------------------------------------------------------- secrets
_SECRET_NAME = re.compile(r"(?i)(secret|(^|[_.\"\[])key\b|_key\"?\]?$|^key$|salt|pepper|signing|token|nonce)")
_ENTROPY = re.compile(r"^(secrets\.\w+|os\.urandom|uuid\.uuid[14]|random\.\w+|"
                      r"django\.core\.management\.utils\.get_random_secret_key|django\.utils\.crypto\."
                      r"get_random_string|cryptography\.fernet\.Fernet\.generate_key|nacl\.utils\.random|"
                      r"Crypto\.Random\.get_random_bytes)$")
_ENV_GETTERS = re.compile(r"^(os\.environ\.get|os\.getenv|os\.environ\.setdefault|environ\.Env\(\)|"
                          r"decouple\.config|.*\.env|env|config|.*getenv|.*\.get)$")

# ------------------------------------------------------------------------------------------------ class state
_VALUE_CLASS_BASES = re.compile(r"^(pydantic|pydantic_settings|sqlmodel|msgspec|marshmallow|attr|attrs|"
                                r"django\.db\.models|django\.forms|rest_framework\.serializers|sqlalchemy|"
                                r"typing|enum|mongoengine|beanie|odmantic|tortoise|peewee)\b")
_REGISTRATION = re.compile(r"(?i)^_*(un)?register\w*$|^add_(constructor|representer|resolver|implicit_resolver|"
                          r"path_resolver|multi_constructor|multi_representer)$")
_KEYED_BY_CLASS = re.compile(r"^(cls|self|type\(self\)|self\.__class__|cls\.__name__|type\(self\)\.__name__|"
                             r"self\.__class__\.__name__)$")
_ROLE_HINTS = [
    (re.compile(r"(?i)session"), "sessions", "blocker"),
    (re.compile(r"(?i)(job|task|queue)"), "a job registry", "blocker"),
    (re.compile(r"(?i)(room|lobby|game|player|peer|socket|conn|subscri)"), "live connections or rooms", "blocker"),
    (re.compile(r"(?i)(count|hits|rate_?limit|limiter|throttl|quota|attempt)"), "a counter or rate limit", "blocker"),
    (re.compile(r"(?i)(instance|registry|objects|pool)"), "an identity map of live objects", "warning"),
]


def _role_of(attr: str) -> tuple[str, str]:
    """What a process-wide container named `attr` is used as, and the severity that use gets."""
    return next(((label, sev) for rx, label, sev in _ROLE_HINTS if rx.search(attr)), ("shared state", "warning"))


# ------------------------------------------------------------------------------------------------ pickles
_RATE_LIMITERS = ("slowapi.Limiter", "slowapi.extension.Limiter", "flask_limiter.Limiter",
                  "flask_limiter.extension.Limiter")
_PICKLE_LOADS = ("pickle.load", "dill.load", "cloudpickle.load", "joblib.load", "skops.io.load")
_MODELISH = re.compile(r"(?i)(model|clf|classifier|regressor|estimator|pipeline|vectori[sz]er|encoder|scaler|"
                       r"predictor|weights|\.pkl|\.pickle|\.joblib|\.sav\b)")

# Globs (fnmatchcase) over every call name the classes here read.
CALLS: tuple[str, ...] = (
    "discord*Client().*", "discord*Bot().*", "disnake*Client().*", "disnake*Bot().*", "nextcord*Client().*",
    "nextcord*Bot().*", "hikari.*().*", "lightbulb.*().run", "interactions.*Client().start", "telegram.*",
    "aiogram.*", "telebot.*", "pyrogram.Client().*", "hydrogram.Client().*", "telethon.*TelegramClient().*",
    "slack_bolt.*", "slack_sdk.socket_mode.*", "twitchio.*().*",
    "*.run_polling", "*.start_polling", "*.infinity_polling", "*.run_until_disconnected",
    "*job_queue.run_*", "discord.ext.tasks.loop", "disnake.ext.tasks.loop", "nextcord.ext.tasks.loop",
    "aiocron.crontab",
    "*.add_periodic_task", "celery.task.periodic_task", "celery.decorators.periodic_task",
    "django_celery_beat.models.PeriodicTask.objects.*", "celery.schedules.*", "*.conf.update",
    "django.conf.urls.static.static", "django.contrib.staticfiles.urls.staticfiles_urlpatterns",
    "pickle.load", "dill.load", "cloudpickle.load", "joblib.load", "skops.io.load",
    "argparse.ArgumentParser().parse_args", "argparse.ArgumentParser().parse_known_args",
    "asyncio.create_task", "asyncio.ensure_future", "*.create_task", "*.config.update", "*.config.from_mapping",
    "argparse.ArgumentParser().add_argument",
    "chromadb.PersistentClient", "langchain*Chroma*", "langchain*FAISS*", "*.save_local", "lancedb.connect",
    "qdrant_client.QdrantClient", "llama_index*StorageContext.from_defaults", "*.storage_context.persist",
    "@class-attr-write", "@singleton-container", "@instance-attr-write", "slowapi.Limiter", "slowapi.extension.Limiter", "flask_limiter.Limiter",
    "flask_limiter.extension.Limiter",
)


def _imports(facts: FileFacts, roots: tuple[str, ...]) -> bool:
    return any(i.module.split(".")[0] in roots for i in facts.imports)


def _hit(c: Call, message: str | None = None, severity: str | None = None, keep_main: bool = True) -> Hit:
    guard = c.guard
    if not keep_main and MAIN_GUARD in guard:
        guard = ""
    return Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, message=message, guard=guard,
               severity=severity, top_level=c.top_level)


def _assign_hit(a: Assign, message: str, severity: str | None = None, line: int | None = None,
                snippet: str | None = None) -> Hit:
    ln = line or a.line
    return Hit(ln, a.column if ln == a.line else 1, ln, snippet or a.snippet, a.scope, message=message,
               severity=severity, top_level=True)


def _walk(a: Arg | None, depth: int = 0) -> Iterator[Arg]:
    """Every argument node under `a` (call arguments, dict values, list items, receivers, bound values)."""
    if a is None or depth > 12:
        return
    yield a
    for x in a.inner:
        yield from _walk(x, depth + 1)
    for x in a.props.values():
        yield from _walk(x, depth + 1)
    if a.bound is not None and a.kind in ("identifier", "member", "call"):
        yield from _walk(a.bound, depth + 1)


def _literal(a: Arg | None) -> str | None:
    depth = 0
    while a is not None and a.kind == "identifier" and a.bound is not None and depth < 8:
        a, depth = a.bound, depth + 1
    if a is not None and a.kind == "string":
        return a.value or ""
    return None


def _key_line(a: Assign, key: str) -> tuple[int, str] | None:
    """The line (and its text) of `'KEY':` inside an assignment's value, when the value's text shows it."""
    if a.value is None:
        return None
    text = a.value.text
    m = re.search(r"""['"]%s['"]\s*:""" % re.escape(key), text)
    if m is None:
        return None
    start = text.rfind("\n", 0, m.start()) + 1
    end = text.find("\n", m.start())
    return a.line + text.count("\n", 0, m.start()), text[start:end if end >= 0 else None].strip()


# =========================================================================================== chat-bot gateways

class BotGateway:
    """`py-bot-gateway`: a bot that keeps a gateway WebSocket or a long-polling loop open for the life of the
    process. Under `if __name__ == "__main__"` it is still the bot's only way to run (no adapter serves it)."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits: list[Hit] = []
        bot_file = None
        for c in facts.calls:
            if c.kind != "call":
                continue
            what = next((w for rx, w in _GATEWAYS if rx.match(c.qname)), None)
            if what is None and _POLLING_METHODS.search(c.qname) and not c.qname.startswith(_BOT_MODULES):
                if bot_file is None:
                    bot_file = _imports(facts, _BOT_MODULES)
                if bot_file:
                    what = "a long-polling loop"
            if what is None:
                continue
            msg = (f"Starts {what} (`{c.qname.rsplit('.', 1)[-1]}()`), which stays open for the life of the "
                   "process; a Python Worker runs only while it handles an event, so the bot never receives "
                   "anything. Use the platform's HTTP interface (a webhook or HTTP interactions endpoint) in "
                   "the Worker's fetch handler, or keep the bot in a Container.")
            # a gateway or polling loop is the bot's only way to run, even under `__main__`; Bolt's built-in HTTP
            # server there is the local dev server (the app itself can be served through an adapter)
            hits.append(_hit(c, msg, keep_main=what == "Slack Bolt's built-in HTTP server"))
        return hits


class BotJobs:
    """`py-bot-scheduled-job`: jobs a bot schedules in its own process (python-telegram-bot's JobQueue, a
    ConversationHandler timeout, discord.ext.tasks loops)."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits: list[Hit] = []
        ptb = None
        for c in facts.calls:
            q = c.qname
            if c.kind == "call" and _JOB_QUEUE.search(q):
                if ptb is None:
                    ptb = _imports(facts, ("telegram",)) or q.startswith("telegram.")
                if not ptb:
                    continue
                kind = q.rsplit(".", 1)[-1]
                when = {"run_once": "a one-shot delayed job", "run_repeating": "a repeating job",
                        "run_daily": "a daily job", "run_monthly": "a monthly job",
                        "run_custom": "an APScheduler job"}.get(kind, "a job")
                msg = (f"Schedules {when} on python-telegram-bot's JobQueue (`{kind}`), an APScheduler that runs "
                       "inside the bot's process; a Python Worker has no process between events, so the job never "
                       "fires. Recurring jobs become Cron Triggers (a `scheduled` handler), delayed one-shots a "
                       "Durable Object alarm or a delayed Queue message.")
                hits.append(_hit(c, msg))
            elif c.kind == "call" and q == "telegram.ext.ConversationHandler" and \
                    c.kwargs.get("conversation_timeout") is not None and \
                    c.kwargs["conversation_timeout"].kind != "none":
                msg = ("ConversationHandler with `conversation_timeout` schedules a JobQueue timer per "
                       "conversation that fires minutes after the update was handled; a Python Worker has no "
                       "process left to run it. Store the conversation's deadline (KV or a Durable Object) and "
                       "check it on the next update, or use a Durable Object alarm.")
                hits.append(_hit(c, msg))
            elif c.kind == "decorator" and q in _BOT_LOOPS:
                msg = (f"`@{q.rsplit('.', 2)[-2]}.{q.rsplit('.', 1)[-1]}` runs the function on a timer inside the "
                       "bot's process; a Python Worker has no process between events, so it never fires. Use a "
                       "Cron Trigger and a `scheduled` handler.")
                hits.append(_hit(c, msg))
        return hits


# ============================================================================================ celery beat

class CeleryBeat:
    """`celery-beat-schedule`: periodic tasks for Celery beat (a beat schedule in the app's configuration or a
    settings module, `add_periodic_task`, `@periodic_task`, django-celery-beat rows)."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits: list[Hit] = []
        celery = _imports(facts, ("celery", "django_celery_beat"))
        conf_module = facts.path.rsplit("/", 1)[-1].startswith(("celeryconfig", "celery_config")) or any(
            a.target in ("broker_url", "result_backend") for a in facts.assigns if not a.scope)
        for a in facts.assigns:
            if a.scope or not _BEAT_TARGETS.search(a.target):
                continue
            if a.target == "beat_schedule" and not (celery or conf_module):
                continue
            if "." in a.target and not celery:
                continue
            if a.value is not None and a.value.kind == "object" and not a.value.props and a.value.text.strip() == "{}":
                continue   # an empty schedule
            names = [k for k in (a.value.props if a.value is not None else {})][:4]
            shown = (": " + ", ".join(f"`{n}`" for n in names)) if names else ""
            msg = ("Defines Celery beat's periodic tasks" + shown + "; beat is a process that wakes up on a "
                   "schedule and sends tasks to workers, and a Python Worker has neither. Declare each schedule as a "
                   "Cron Trigger and run the task in a `scheduled` handler (on Containers, run exactly one beat).")
            hits.append(_assign_hit(a, msg))
        for c in facts.calls:
            q = c.qname
            if q.endswith(".conf.update") and c.kind == "call":
                if not (celery and any(k in c.kwargs for k in ("beat_schedule", "CELERYBEAT_SCHEDULE"))):
                    continue
            elif not _BEAT_CALLS.match(q) or (not q.startswith(("celery.", "django_celery_beat.")) and not celery):
                continue
            msg = ("Registers a Celery periodic task; it runs only while a beat process is up, which a Python Worker "
                   "does not have. Declare the schedule as a Cron Trigger and run the task in a `scheduled` handler.")
            hits.append(_hit(c, msg))
        if not hits:
            for c in facts.calls:
                if c.qname in _CELERY_SCHEDULES and c.kind == "call":
                    msg = ("Builds a Celery beat schedule (`" + c.qname.rsplit(".", 1)[-1] + "`); beat runs in a "
                           "process of its own that a Python Worker does not have. Use a Cron Trigger.")
                    hits.append(_hit(c, msg))
        return hits


# =============================================================================================== django

def _settings(facts: FileFacts) -> dict[str, Assign]:
    """The module-level settings of a Django settings module (last assignment wins), or {}."""
    out: dict[str, Assign] = {}
    for a in facts.assigns:
        if not a.scope and "." not in a.target and "[" not in a.target:
            out[a.target] = a
    if not ({"INSTALLED_APPS", "ROOT_URLCONF", "WSGI_APPLICATION", "MIDDLEWARE"} & set(out)):
        db = out.get("DATABASES")
        if db is None or "django." not in (db.value.text if db.value is not None else ""):
            return {}
    return out


def _has_item(a: Assign | None, text: str) -> bool:
    if a is None or a.value is None:
        return False
    return any(x.kind == "string" and x.value == text for x in a.value.inner) or f"'{text}'" in a.value.text or \
        f'"{text}"' in a.value.text


def _remote_storage(s: dict[str, Assign], key: str) -> bool:
    """Is the file storage (`default`) or static storage (`staticfiles`) set to a non-disk backend?"""
    legacy = {"default": "DEFAULT_FILE_STORAGE", "staticfiles": "STATICFILES_STORAGE"}[key]
    v = _literal(s[legacy].value) if legacy in s else None
    if v and "FileSystemStorage" not in v and "StaticFilesStorage" not in v and "whitenoise" not in v.lower():
        return True
    st = s.get("STORAGES")
    if st is not None and st.value is not None:
        entry = st.value.props.get(key)
        backend = _literal(entry.props.get("BACKEND")) if entry is not None else None
        if backend and "FileSystemStorage" not in backend and "StaticFilesStorage" not in backend and \
                "whitenoise" not in backend.lower():
            return True
    return False


def _depends_on(ctx: RuleContext, names: tuple[str, ...]) -> bool:
    return any(d.ecosystem == "pypi" and d.name.lower().replace("_", "-") in names for d in ctx.dependencies)


def _already_on_workers(ctx: RuleContext) -> bool:
    """The folder is a Python Worker already (a wrangler config with a Python main or the python_workers flag)."""
    return bool(ctx.settings.python_workers)


def _has_assets(ctx: RuleContext) -> bool:
    w = ctx.settings.wrangler
    return w is not None and isinstance(getattr(w, "data", None), dict) and "assets" in w.data


class DjangoSettings:
    """Django settings that decide what else must change: `django-server-database`, `django-media-on-disk`,
    `django-static-files` (and `static()` / `staticfiles_urlpatterns()` in a URLconf), `django-templates-on-disk`."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        rid = rule.id
        if rid == "django-static-files":
            hits = self._static_urls(facts, ctx)
        else:
            hits = []
        s = _settings(facts)
        if not s:
            return hits
        if rid == "django-server-database":
            return [h for a in facts.assigns if not a.scope and a.target == "DATABASES" for h in self._database(a)]
        if rid == "django-media-on-disk":
            return self._media(s, ctx)
        if rid == "django-static-files":
            return hits + self._static(s, ctx)
        if rid == "django-templates-on-disk":
            return self._templates(s, ctx)
        return hits

    @staticmethod
    def _database(db: Assign) -> list[Hit]:
        """One DATABASES assignment (a settings module may assign it in both branches of an `if`)."""
        if db.value is None or db.value.kind != "object":
            return []
        hits = []
        for alias, conf in db.value.props.items():
            at = _key_line(db, "ENGINE") if alias == "default" or len(db.value.props) == 1 else None
            line, snip = at if at is not None else (None, None)
            if conf.kind == "object":
                engine = _literal(conf.props.get("ENGINE"))
                if engine is None:
                    if "ENGINE" in conf.props:
                        hits.append(_assign_hit(db, f"The `{alias}` database's ENGINE is chosen at run time; if it "
                                                "names a server database (PostgreSQL, MySQL), its driver needs raw "
                                                "TCP sockets, which Python Workers do not have.", "warning",
                                                line, snip))
                    continue
                server = next((name for key, name in _SERVER_ENGINES if key in engine.lower()), None)
                if server is not None:
                    hits.append(_assign_hit(
                        db, f"Django's `{alias}` database is {server} (`{engine}`); its driver (psycopg2/psycopg, "
                        "mysqlclient, ...) connects over a raw TCP socket, which Python Workers do not have, and "
                        "psycopg2 and mysqlclient have no Pyodide build. Move the data to D1 (a Django D1 backend) "
                        "or reach the database from a JavaScript Worker through Hyperdrive; Containers keep it.",
                        None, line, snip))
                elif "sqlite3" in engine:
                    name = conf.props.get("NAME")
                    lit = _literal(name)
                    if lit is not None and (lit == ":memory:" or lit.startswith("file::memory:")):
                        continue
                    hits.append(_assign_hit(
                        db, f"Django's `{alias}` database is a SQLite file (`{name.text if name else 'NAME'}`); a "
                        "Python Worker has no persistent disk, so every write is lost with the request and the "
                        "file is not there at start. Use D1 (a Django D1 backend) or a SQLite-backed Durable "
                        "Object.", None, line, snip))
            elif conf.kind == "call":
                url = next((x.value for x in _walk(conf) if x.kind == "string" and x.value and
                            _URL_DB.match(x.value)), None)
                if url is not None:
                    hits.append(_assign_hit(db, f"Django's `{alias}` database comes from a URL whose default is a "
                                            f"server database (`{url.split('://')[0]}`); its driver needs raw TCP "
                                            "sockets, which Python Workers do not have.", None, line, snip))
                else:
                    hits.append(_assign_hit(db, f"Django's `{alias}` database is configured from a URL at run time "
                                            f"(`{conf.text[:60]}`); a PostgreSQL or MySQL URL needs a driver with "
                                            "raw TCP sockets, which Python Workers do not have.", "warning"))
        return hits

    @staticmethod
    def _media(s: dict[str, Assign], ctx: RuleContext) -> list[Hit]:
        a = s.get("MEDIA_ROOT")
        if a is None or a.value is None or a.value.kind in ("none",) or _literal(a.value) == "":
            return []
        if _remote_storage(s, "default") or _depends_on(ctx, ("django-storages", "django-cloudflare-images")) or \
                _already_on_workers(ctx):
            return []
        return [_assign_hit(a, "Uploaded files (FileField / ImageField) are saved by Django's default "
                               "FileSystemStorage under MEDIA_ROOT; a Python Worker has no persistent disk, so "
                               "uploads are lost after the request and are never there for the next one. Store them "
                               "in R2 (an S3-compatible storage backend pointed at R2, or the R2 binding).")]

    @staticmethod
    def _static(s: dict[str, Assign], ctx: RuleContext) -> list[Hit]:
        if _remote_storage(s, "staticfiles") or _already_on_workers(ctx) or _has_assets(ctx):
            return []
        dirs = s.get("STATICFILES_DIRS")
        if dirs is not None and dirs.value is not None and (dirs.value.inner or dirs.value.kind not in ("array",)):
            return [_assign_hit(dirs, "Static files (CSS, JavaScript, images) are served by "
                                      "django.contrib.staticfiles from STATICFILES_DIRS on disk; a Python Worker has "
                                      "no such folders. Run collectstatic at build time and serve the result with "
                                      "Workers Static Assets.")]
        url = s.get("STATIC_URL")
        if url is not None and _has_item(s.get("INSTALLED_APPS"), "django.contrib.staticfiles"):
            return [_assign_hit(url, "django.contrib.staticfiles serves the apps' static files (admin, DRF "
                                     "browsable API, ...) from the installed packages' folders; a Python Worker "
                                     "serves no files from disk. Run collectstatic at build time and serve STATIC_URL "
                                     "with Workers Static Assets.")]
        return []

    @staticmethod
    def _static_urls(facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        if _already_on_workers(ctx) or _has_assets(ctx):
            return []
        hits = []
        for c in facts.calls:
            if c.kind == "call" and c.qname in ("django.conf.urls.static.static",
                                                "django.contrib.staticfiles.urls.staticfiles_urlpatterns"):
                what = "uploaded media" if "MEDIA" in c.snippet else "static files"
                hits.append(_hit(c, f"`{c.qname.rsplit('.', 1)[-1]}()` adds URL patterns that serve {what} from "
                                    "folders on disk (while DEBUG is on); a Python Worker has no such folders. Serve "
                                    "static files with Workers Static Assets and media from R2."))
        return hits

    @staticmethod
    def _templates(s: dict[str, Assign], ctx: RuleContext) -> list[Hit]:
        t = s.get("TEMPLATES")
        if t is None or t.value is None or t.value.kind != "array" or _already_on_workers(ctx):
            return []
        for conf in t.value.inner:
            if conf.kind != "object":
                continue
            app_dirs = conf.props.get("APP_DIRS")
            dirs = conf.props.get("DIRS")
            if app_dirs is not None and app_dirs.kind == "bool" and app_dirs.value == "True":
                at = _key_line(t, "APP_DIRS") or (None, None)
                return [_assign_hit(t, "Templates are loaded from each app's templates/ folder on disk at run time "
                                       "(`APP_DIRS: True`); a Python Worker uploads its Python modules, so the .html "
                                       "files must be uploaded with it deliberately (wrangler module rules for "
                                       "text files) or the views fail with TemplateDoesNotExist.", None, *at)]
            if dirs is not None and dirs.kind == "array" and dirs.inner:
                at = _key_line(t, "DIRS") or (None, None)
                return [_assign_hit(t, "Templates are loaded from the DIRS folders on disk at run time; a Python "
                                       "Worker uploads its Python modules, so the template files must be uploaded "
                                       "with it deliberately (wrangler module rules for text files).", None, *at)]
        return []


# ======================================================================================== secrets at import

def _entropy_call(a: Arg | None) -> tuple[str, bool] | None:
    """(the entropy function, drawn only as a fallback) for an entropy call in the value, else None."""
    def go(x: Arg | None, fallback: bool, depth: int) -> tuple[str, bool] | None:
        if x is None or depth > 10:
            return None
        if x.kind == "call":
            q = x.value or ""
            if _ENTROPY.match(q):
                return q, fallback
            getter = bool(_ENV_GETTERS.match(q))
            for y in x.inner:
                r = go(y, fallback or getter, depth + 1)
                if r:
                    return r
            for y in x.props.values():
                r = go(y, fallback or getter, depth + 1)
                if r:
                    return r
            return go(x.bound, fallback, depth + 1) if x.bound is not None and x.bound.kind == "call" else None
        if x.kind == "either":
            for i, y in enumerate(x.inner):
                r = go(y, fallback or i > 0, depth + 1)
                if r:
                    return r
        if x.kind in ("concat", "array"):
            for y in x.inner:
                r = go(y, fallback, depth + 1)
                if r:
                    return r
        if x.kind == "identifier" and x.bound is not None:
            return go(x.bound, fallback, depth + 1)
        return None
    return go(a, False, 0)


class SecretAtImport:
    """`py-random-secret-at-import`: a secret drawn from a random source while the module loads."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        for a in facts.assigns:
            if a.scope:
                continue
            last = re.split(r"[.\[]", a.target)[-1] if "[" not in a.target else a.target.rsplit("[", 1)[-1]
            if not _SECRET_NAME.search(last):
                continue
            found = _entropy_call(a.value)
            if found is None:
                continue
            fn, fallback = found
            short = fn.rsplit(".", 1)[-1]
            if fallback:
                msg = (f"`{a.target}` falls back to a random value (`{short}()`) drawn while the module loads when "
                       "the configured value is missing; in a Python Worker randomness at startup raises (\"Randomness "
                       "is not allowed while a Python Worker is starting\"), and on several instances each would "
                       "sign sessions and tokens with its own key. Require the secret (a Worker secret).")
                hits.append(_assign_hit(a, msg, "warning"))
            else:
                msg = (f"`{a.target}` is generated at import (`{short}()`): in a Python Worker randomness while the "
                       "Worker starts raises (\"Randomness is not allowed while a Python Worker is starting because "
                       "startup values will be repeated across Worker instances\"), and wherever it runs each "
                       "process signs sessions, CSRF tokens and JWTs with its own key, so they fail on the next "
                       "instance or after a restart. Set it as a Worker secret and read it from the environment.")
                hits.append(_assign_hit(a, msg))
        return hits


# ========================================================================================= class-level state

def _is_container(v: Arg) -> bool:
    return v.kind in ("object", "array") or (v.kind == "call" and (v.value or "") in _STATE_CTORS)


_STATE_CTORS = {"dict", "list", "set", "collections.defaultdict", "collections.OrderedDict", "collections.deque",
                "collections.Counter", "weakref.WeakValueDictionary"}


class ClassLevelState:
    """`py-class-level-state`: a dict/list/set in a class body (one copy for the process) written by methods."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        writes = [c for c in facts.calls if c.kind == "pattern" and c.qname == "@class-attr-write" and c.args]
        if not writes:
            return []
        bases = {cd.name: cd.bases for cd in facts.classes}

        @lru_cache(maxsize=None)
        def ancestors(cls: str) -> tuple[str, ...]:
            out: list[str] = []
            todo = list(bases.get(cls, ()))
            while todo and len(out) < 32:
                b = todo.pop(0)
                if b in out:
                    continue
                out.append(b)
                todo.extend(bases.get(b, ()))
            return tuple(out)

        hits = []
        for a in facts.assigns:
            if not a.scope or a.value is None or not _is_container(a.value):
                continue
            attr = a.target[len(a.scope) + 1:]
            if CACHE_NAME.search(attr):
                continue
            if any(_VALUE_CLASS_BASES.match(b) for b in ancestors(a.scope)):
                continue   # model/schema classes copy or describe their fields; the class attribute is not state
            lines = []
            for w in writes:
                cls_attr, via = w.args[0].value or "", (w.args[1].value if len(w.args) > 1 else "")
                key = w.args[2].text if len(w.args) > 2 else ""
                if key and _KEYED_BY_CLASS.match(key.strip()):
                    continue   # one entry per class: a singleton registry, memoisation
                owner, _, wattr = cls_attr.rpartition(".")
                if wattr != attr or _REGISTRATION.match(w.symbol.rsplit(".", 1)[-1]):
                    continue   # a registration method (`register`, `add_constructor`): filled as modules load
                if owner == a.scope or (via in ("self", "cls") and owner in ancestors(a.scope)):
                    lines.append((w.line, w.symbol))
            if not lines:
                continue
            role, sev = _role_of(attr)
            shown = ", ".join(f"`{sym or '?'}` line {ln}" for ln, sym in sorted(set(lines))[:5])
            kind = {"object": "dict", "array": "list"}.get(a.value.kind, "container")
            msg = (f"Class attribute `{a.target}` is one {kind} for "
                   f"the whole process, written by methods ({shown}) and used as {role}; on Workers each "
                   "isolate has its own copy, isolates run in parallel and are evicted at any time, so what one "
                   "request stores is not there for the next. Keep it in KV, D1 or a Durable Object (or per request).")
            hits.append(_assign_hit(a, msg, sev if rule.severity_for(ctx.target) == "warning" else None))
        return hits


# ========================================================================================== pickled models

class PickledModel:
    """`py-pickled-model-load`: joblib / pickle loading a trained model from a file."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        for c in facts.calls:
            if c.kind != "call" or c.qname not in _PICKLE_LOADS:
                continue
            texts = " ".join([c.snippet] + [x.text for x in c.args[:1]] +
                             [x.value or "" for x in _walk(c.args[0] if c.args else None) if x.kind == "string"])
            if c.qname != "joblib.load" and not _MODELISH.search(texts):
                continue
            msg = (f"Loads a pickled model from a file (`{c.qname}`): the file must be uploaded with the Worker, "
                   "the pickle needs the exact library versions it was saved with (scikit-learn, numpy), and the "
                   "model plus its libraries must fit in a Python Worker's 128 MB of memory. Serve the model from "
                   "Workers AI or a Container, or export a small model to a format loaded from R2.")
            hits.append(_hit(c, msg))
        return hits


# ========================================================================================== rate limiters

class RateLimitMemory:
    """`py-rate-limit-memory`: slowapi / Flask-Limiter counting in process memory (their default storage)."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        for c in facts.calls:
            if c.kind != "call" or c.qname not in _RATE_LIMITERS:
                continue
            uri = c.kwargs.get("storage_uri")
            lit = _literal(uri) if uri is not None else "memory://"
            if lit is None or not lit.startswith("memory:"):
                continue   # a shared store (Redis, Memcached, ...) or one chosen at run time
            msg = (f"`{c.qname.rsplit('.', 1)[-1]}` counts requests in process memory (its default `memory://` "
                   "storage, which also expires entries from a timer thread); on Workers every isolate counts on "
                   "its own and isolates come and go, so the limit is not enforced. Use Cloudflare's rate limiting "
                   "(WAF rules or the Workers rate-limit binding), or counters in a Durable Object.")
            hits.append(_hit(c, msg))
        return hits


# ========================================================================================== argv at import

class ArgvAtImport:
    """`py-argv-at-import`: command-line options parsed while the module loads (not under `__main__`)."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        parses = [c for c in facts.calls if c.kind == "call" and c.top_level and not c.guard and
                  c.qname in ("argparse.ArgumentParser().parse_args", "argparse.ArgumentParser().parse_known_args")]
        if not parses:
            return []
        required = []
        for c in facts.calls:
            if c.qname != "argparse.ArgumentParser().add_argument" or not c.args:
                continue
            first = c.args[0]
            req = c.kwargs.get("required")
            if (first.kind == "string" and first.value and not first.value.startswith("-")) or \
                    (req is not None and req.kind == "bool" and req.value == "True"):
                required.append(first.value or first.text)
        for c in parses:
            if c.args:
                continue   # parse_args(some_list): the arguments do not come from sys.argv
            if required:
                shown = ", ".join(f"`{r}`" for r in required[:4])
                msg = (f"Parses the command line while the module loads and requires {shown}; a Worker has no "
                       "command line, so argparse exits (SystemExit) and the Worker fails to start. Move these "
                       "settings to Worker vars and secrets (`self.env`).")
                hits.append(_hit(c, msg))
            else:
                msg = ("Parses the command line while the module loads; a Worker has no command line, so every "
                       "option takes its default. Move the settings to Worker vars and secrets (`self.env`).")
                hits.append(_hit(c, msg, "warning"))
        return hits


# ====================================================================================== background tasks

_TASK_CALLS = re.compile(r"^(asyncio\.(create_task|ensure_future)|asyncio\.(get_event_loop|get_running_loop|"
                         r"new_event_loop)\(\)\.create_task|.*\.loop\.create_task|loop\.create_task|"
                         r"asyncio\.TaskGroup\(\)\.create_task)$")
_FIRE_AND_FORGET = re.compile(r"^(await\s+)?[\w.()\[\]]*\b(create_task|ensure_future)\(")
_STARTUP_SYMBOL = re.compile(r"(?i)^_*(lifespan|startup|on_startup|startup_event|app_startup|on_ready|setup_hook|"
                             r"on_start|create_app|init_app|initialize|init|setup|bootstrap|main)$")


class BackgroundTask:
    """`py-background-task`: an asyncio task started and not awaited: at start-up it is a background loop for
    the life of the process; in a handler it is cut off when the response is sent."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        for c in facts.calls:
            if c.kind != "call" or (c.top_level and ".loop." not in c.qname) or not _TASK_CALLS.match(c.qname) or \
                    "TaskGroup" in c.qname or not _FIRE_AND_FORGET.match(c.snippet) or \
                    c.snippet.rstrip().endswith(","):
                continue   # kept in a variable or a list (awaited or gathered later), or a TaskGroup awaits it
            fn = c.symbol.rsplit(".", 1)[-1]
            if fn in ("__init__", "__post_init__", "__aenter__", "__enter__"):
                continue   # an object starting work it awaits itself later (a prefetch): its own lifetime
            target = c.args[0].text if c.args else "the coroutine"
            if c.top_level or _STARTUP_SYMBOL.match(fn):
                where = f"from `{fn}`" if fn else "while the module loads"
                msg = (f"Starts `{target[:60]}` as a background task {where} and never awaits it: it runs for "
                       "the life of the process (a poller, a sender, a refresh loop), but a Python Worker has no "
                       "process between events. Use a Cron Trigger, a Queue consumer or a Durable Object alarm.")
                hits.append(_hit(c, msg, "blocker"))
            else:
                msg = (f"Starts `{target[:60]}` as a task and returns without awaiting it; a Worker stops running "
                       "a request's work once its response is sent (at most 30 s more through `ctx.waitUntil`), so "
                       "the task is cut off. Await it, pass it to `ctx.waitUntil`, or send it to a Queue.")
                hits.append(_hit(c, msg))
        return hits


# ======================================================================================== database URLs

_DB_URL_SETTINGS = re.compile(r"(^|[.\[\"])(SQLALCHEMY_DATABASE_URI|SQLALCHEMY_BINDS|MONGO_URI|MONGODB_URI|"
                              r"MONGODB_HOST)\b")
_SERVER_URL = re.compile(r"^(postgres(ql)?|postgis|mysql|mariadb|mssql|oracle|cockroach(db)?|mongodb(\+srv)?|"
                         r"redis|rediss)(\+\w+)?://", re.I)
_SQLITE_FILE_URL = re.compile(r"^sqlite(\+\w+)?:///(?!:memory:)(?!$).+", re.I)


def _url_literals(a: Arg | None) -> list[str]:
    return [x.value or "" for x in _walk(a) if x.kind in ("string", "template") and x.value and
            (_SERVER_URL.match(x.value) or x.value.lower().startswith("sqlite"))]


class DatabaseUrlSetting:
    """`py-database-url-setting`: Flask-SQLAlchemy / Flask-PyMongo connect with the URL in the app's config."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        sites: list[tuple[Any, str, Arg | None]] = []
        for a in facts.assigns:
            m = _DB_URL_SETTINGS.search(a.target)
            if m:
                sites.append((a, m.group(2), a.value))
        for c in facts.calls:
            if c.kind == "call" and c.qname.endswith((".config.update", ".config.from_mapping")):
                for k, v in c.kwargs.items():
                    if _DB_URL_SETTINGS.search(k):
                        sites.append((c, k, v))
        for site, name, value in sites:
            urls = _url_literals(value)
            sqlite = next((u for u in urls if _SQLITE_FILE_URL.match(u)), None)
            server = next((u for u in urls if _SERVER_URL.match(u)), None)
            if sqlite is None and server is None:
                if any(u.lower().startswith("sqlite") for u in urls):
                    continue   # sqlite:// or sqlite:///:memory: works in Pyodide's memory
                if value is None or value.kind in ("string", "none"):
                    continue
                msg = (f"`{name}` comes from the environment at run time; a PostgreSQL, MySQL or MongoDB URL needs "
                       "a driver with raw TCP sockets, which Python Workers do not have (only SQLite in memory "
                       "works there).")
                sev = "warning"
            elif server is not None:
                scheme = server.split("://")[0]
                msg = (f"`{name}` points the app at a server database (`{scheme}://...`); its driver connects over a "
                       "raw TCP socket, which Python Workers do not have. Use D1 (or reach the database from a "
                       "JavaScript Worker through Hyperdrive), or keep the app in a Container.")
                sev = None
            else:
                msg = (f"`{name}` is a SQLite file (`{sqlite[:60]}`); a Python Worker has no persistent disk, so the "
                       "database is empty at start and every write is lost. Use D1 or a SQLite-backed Durable Object.")
                sev = None
            if isinstance(site, Call):
                hits.append(_hit(site, msg, sev))
            else:
                hits.append(_assign_hit(site, msg, sev))
        return hits


# ===================================================================================== local vector stores

_VECTOR_STORES: list[tuple[re.Pattern[str], str | None]] = [
    (re.compile(r"^chromadb\.PersistentClient$"), None),
    (re.compile(r"^(langchain\w*(\.\w+)*\.)?Chroma(\.from_documents|\.from_texts)?$"), "persist_directory"),
    (re.compile(r"^langchain\w*(\.\w+)*\.FAISS\.load_local$"), None),
    (re.compile(r"^langchain\w*(\.\w+)*\.FAISS\..*\.save_local$|.*\.save_local$"), None),
    (re.compile(r"^lancedb\.connect$"), None),
    (re.compile(r"^qdrant_client\.QdrantClient$"), "path"),
    (re.compile(r"^llama_index(\.\w+)*\.StorageContext\.from_defaults$"), "persist_dir"),
    (re.compile(r"^.*\.storage_context\.persist$"), None),
]


class LocalVectorStore:
    """`py-local-vector-store`: a vector database kept in files on local disk (Chroma persist directories, FAISS
    save_local/load_local, LanceDB, Qdrant local mode, LlamaIndex persist_dir)."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        vector_file = None
        for c in facts.calls:
            if c.kind != "call":
                continue
            spec = next((kw for rx, kw in _VECTOR_STORES if rx.match(c.qname)), "")
            if spec == "":
                continue
            if spec is not None and spec not in c.kwargs:
                continue   # in memory (no persist directory / path): nothing on disk
            if c.qname.endswith(".save_local") and not c.qname.startswith("langchain"):
                if vector_file is None:
                    vector_file = any(i.module.startswith(("langchain", "faiss")) for i in facts.imports)
                if not vector_file:
                    continue
            if c.qname == "lancedb.connect" and c.args and (c.args[0].value or "").startswith(("db://", "s3://")):
                continue   # LanceDB Cloud or object storage
            msg = (f"Keeps a vector index in files on local disk (`{c.qname.rsplit('.', 1)[-1]}`); a Python Worker "
                   "has no persistent disk, so the index is missing at start and what is added is lost. Use "
                   "Vectorize (the vector index binding) or a hosted vector database over HTTP.")
            hits.append(_hit(c, msg))
        return hits


# ===================================================================================== singleton instances

class SingletonState:
    """`py-singleton-state`: a container an object keeps on `self`, when the object is created once at module
    level (`manager = ConnectionManager()`, `bot = ShopBot()`) and its methods write to it per request or event."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        made: dict[str, Call] = {}
        for c in facts.calls:
            if c.kind == "pattern" and c.qname == "@singleton-container" and c.args:
                t = c.args[0].value or ""
                if t not in made or c.symbol.endswith(".__init__"):
                    made[t] = c
        if not made:
            return []
        writes: dict[str, list[int]] = {}
        for c in facts.calls:
            if c.kind == "pattern" and c.qname == "@instance-attr-write" and c.args:
                fn = c.symbol.rsplit(".", 1)[-1]
                if fn in ("__init__", "__post_init__") or _STARTUP_SYMBOL.match(fn):
                    continue   # filled when the object is built or the app starts: read afterwards
                writes.setdefault(c.args[0].value or "", []).append(c.line)
        hits = []
        for target, c in sorted(made.items(), key=lambda kv: kv[1].line):
            lines = writes.get(target)
            cls, _, attr = target.rpartition(".")
            if not lines or CACHE_NAME.search(attr):
                continue
            inst = c.args[1].value if len(c.args) > 1 else "the instance"
            role, sev = _role_of(attr)
            shown = ", ".join(str(x) for x in sorted(set(lines))[:5])
            msg = (f"`self.{attr}` lives on `{inst}`, the one {cls} created for the whole process at module level, "
                   f"and its methods write to it (line {shown}) as {role}; on Workers each isolate has its own "
                   f"`{inst}`, isolates run in parallel and are evicted at any time, so one request's data is not "
                   "there for the next. Keep it in KV, D1 or a Durable Object (live WebSocket connections in a "
                   "Durable Object with the hibernation API).")
            hits.append(_hit(c, msg, sev if rule.severity_for(ctx.target) == "warning" else None))
        return hits


# ========================================================================================= ARQ workers

class ArqWorkerSettings:
    """`py-arq-worker`: an ARQ `WorkerSettings` class (the task functions and cron jobs a worker process runs)."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        if not _imports(facts, ("arq",)):
            return []
        hits = []
        for a in facts.assigns:
            if not a.scope or a.target not in (f"{a.scope}.functions", f"{a.scope}.cron_jobs"):
                continue
            if a.value is None or a.value.kind != "array" or not a.value.inner:
                continue
            names = [x.text for x in a.value.inner[:4]]
            if a.target.endswith(".cron_jobs"):
                msg = (f"ARQ cron jobs ({', '.join(names)}) run inside the ARQ worker process on its own schedule; "
                       "a Python Worker has no such process. Declare them as Cron Triggers and run the job in a "
                       "`scheduled` handler.")
            else:
                msg = (f"`{a.scope}` defines an ARQ worker ({', '.join(names)}): a process that polls Redis for jobs; "
                       "a Python Worker only runs when an event arrives (and has no sockets for Redis). Use "
                       "Cloudflare Queues (a `queue` handler) or Workflows.")
            hits.append(_assign_hit(a, msg))
        return hits


# ===================================================================================== server-side sessions

_SESSION_SETTINGS = {
    "SESSION_TYPE": {"filesystem": "files on the local disk", "cachelib": "a cache in process memory or files",
                     "memcached": "Memcached over a TCP socket", "redis": "Redis over a TCP socket",
                     "mongodb": "MongoDB over a TCP socket"},
    "SESSION_ENGINE": {"django.contrib.sessions.backends.file": "files on the local disk",
                       "django.contrib.sessions.backends.cache": "the cache (process memory by default)"},
}


class ServerSessions:
    """`py-server-sessions`: server-side sessions kept where a Worker cannot keep them (Flask-Session's
    SESSION_TYPE, Django's SESSION_ENGINE file or cache backends)."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        for a in facts.assigns:
            key = re.split(r"[.\[\"\]]+", a.target.strip('"]'))[-1]
            table = _SESSION_SETTINGS.get(key)
            lit = _literal(a.value)
            if table is None or lit is None or lit not in table:
                continue
            msg = (f"Sessions are stored in {table[lit]} (`{key} = {lit!r}`); on Workers each isolate has its own "
                   "memory and no persistent disk or raw sockets, so a user's session (login, cart, CSRF) is lost "
                   "on the next request. Use signed-cookie sessions, or sessions in KV or a Durable Object.")
            hits.append(_assign_hit(a, msg))
        return hits
