"""Process lifetime against request lifetime (JavaScript/TypeScript): what only works while one process lives for
days — a chat bot's gateway or long poll, timers that fire long after the response, libraries that arm timers
while the module loads. On Workers nothing outlives the request that needs it: work after the response is cut
off (at most 30 s with `ctx.waitUntil`), and no code runs between requests (W-LIM 2026-07-28; ORACLE)."""
from __future__ import annotations

import ast
import re
from typing import Any

from ..model import Hit, RuleContext
from ...analyzer import inputs
from ...analyzer.parsing.facts import Arg, Call, FileFacts

# qualified call -> (what it opens, what replaces it on Workers)
GATEWAYS: dict[str, tuple[str, str]] = {
    "discord.js.Client().login": ("the Discord gateway WebSocket", "Discord's HTTP interactions endpoint"),
    "discord.js.default.Client().login": ("the Discord gateway WebSocket", "Discord's HTTP interactions endpoint"),
    "eris().connect": ("the Discord gateway WebSocket", "Discord's HTTP interactions endpoint"),
    "eris.Client().connect": ("the Discord gateway WebSocket", "Discord's HTTP interactions endpoint"),
    "telegraf.Telegraf().launch": ("Telegram long polling (getUpdates)", "a Telegram webhook (setWebhook) handled by fetch"),
    "telegraf.default().launch": ("Telegram long polling (getUpdates)", "a Telegram webhook (setWebhook) handled by fetch"),
    "telegraf().launch": ("Telegram long polling (getUpdates)", "a Telegram webhook (setWebhook) handled by fetch"),
    "telegraf.Telegraf().startPolling": ("Telegram long polling (getUpdates)", "a Telegram webhook handled by fetch"),
    "grammy.Bot().start": ("Telegram long polling (getUpdates)", "grammY's webhookCallback(bot, 'cloudflare-mod')"),
    "node-telegram-bot-api().startPolling": ("Telegram long polling", "a Telegram webhook handled by fetch"),
    "@slack/socket-mode.SocketModeClient().start": ("a Slack Socket Mode WebSocket", "the Slack Events API over HTTP"),
    "tmi.js.Client().connect": ("a Twitch chat IRC connection", "Twitch EventSub webhooks"),
    "tmi.js.client().connect": ("a Twitch chat IRC connection", "Twitch EventSub webhooks"),
    "whatsapp-web.js.Client().initialize": ("a headless-browser WhatsApp Web session", "the WhatsApp Cloud API webhooks"),
}
BOLT_START = ("@slack/bolt.App().start", "@slack/bolt.default.App().start")
TELEGRAM_POLLING_CTOR = ("node-telegram-bot-api", "node-telegram-bot-api.default")

TIMERS = ("setTimeout", "timers.setTimeout", "globalThis.setTimeout", "window.setTimeout")
SHORT_MS = 1000          # a shorter delay inside a handler is a pause the request can wait for
WAITUNTIL_MS = 30_000    # ctx.waitUntil keeps the work alive this long after the response (W-LIM)
_ARITH = re.compile(r"^[\d\s*+()._]+$")

# libraries whose constructor arms a timer (setInterval / setTimeout) while the module loads
LOAD_TIMERS: dict[str, tuple[str, str]] = {
    "node-cache": ("checkperiod", "an expiry check every `checkperiod` seconds (default 600)"),
    "node-cache.default": ("checkperiod", "an expiry check every `checkperiod` seconds (default 600)"),
}

CALLS: tuple[str, ...] = tuple(sorted(set(GATEWAYS) | set(BOLT_START) | set(TELEGRAM_POLLING_CTOR) | set(TIMERS)
                                      | set(LOAD_TIMERS)))


def _ms(a: Arg | None, depth: int = 0) -> float | None:
    """A delay in milliseconds when the code states it: a number, a constant bound to one, or arithmetic of
    literals (`60 * 1000`)."""
    if a is None or depth > 4:
        return None
    if a.kind == "number":
        try:
            return float((a.value or "").replace("_", ""))
        except ValueError:
            return None
    if a.kind in ("identifier", "member") and a.bound is not None:
        return _ms(a.bound, depth + 1)
    text = (a.text or "").strip()
    if a.kind in ("other", "concat") and text and _ARITH.match(text) and len(text) < 60:
        try:
            return _arith(ast.parse(text.replace("_", ""), mode="eval").body)
        except (SyntaxError, ValueError):
            return None
    return None


def _arith(node: ast.AST) -> float | None:
    """The value of an expression of numbers, `*`, `+` and `-` (nothing else is evaluated)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add, ast.Sub)):
        left, right = _arith(node.left), _arith(node.right)
        if left is None or right is None:
            return None
        return left * right if isinstance(node.op, ast.Mult) else left + right if isinstance(node.op, ast.Add) \
            else left - right
    return None


_SETTLES = re.compile(r"\b(resolve|reject|res|rej|done|r)\s*\(")
_SETTLER_NAMES = frozenset({"resolve", "reject", "res", "rej", "done", "r", "next", "cb", "callback"})


def _settles_a_promise(c: Call) -> bool:
    """`new Promise((resolve) => setTimeout(resolve, ms))`, `setTimeout(() => reject(err), ms)`: a delay or a
    timeout the request awaits, not work left running after it."""
    if not c.args:
        return False
    a = c.args[0]
    if a.kind == "identifier":
        return (a.text or a.value or "") in _SETTLER_NAMES     # the name as written (a parameter of the executor)
    return a.kind == "lambda" and bool(_SETTLES.search(a.text or ""))


def _recursive(c: Call) -> bool:
    """`setTimeout(tick, 33)` inside `tick`: a loop that reschedules itself for as long as the process lives."""
    if not c.args or not c.symbol:
        return False
    a = c.args[0]
    name = c.symbol.rsplit(".", 1)[-1]
    return a.kind in ("identifier", "member") and (a.value or "").rsplit(".", 1)[-1] == name


def _truthy_prop(a: Arg | None, prop: str) -> bool:
    if a is None or a.kind != "object":
        return False
    v = a.props.get(prop)
    return v is not None and not (v.kind == "bool" and (v.value or "").lower() == "false")


class BotGateway:
    """A chat bot's gateway connection or long poll, opened once for the life of the process."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        for c in facts.calls:
            q = c.qname
            if q in GATEWAYS:
                what, instead = GATEWAYS[q]
                msg = (f"`{q.rsplit('.', 1)[-1]}()` opens {what} and keeps it open for the life of the process; a "
                       "Worker runs only while a request is handled, so the bot would never receive its events. "
                       f"Receive them over HTTP instead ({instead}), or keep this bot in a Container (one instance).")
                hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, message=msg, guard=c.guard,
                                top_level=c.top_level))
            elif q in TELEGRAM_POLLING_CTOR and c.kind == "new" and len(c.args) > 1 and \
                    _truthy_prop(c.args[1], "polling"):
                msg = ("`new TelegramBot(token, { polling: true })` starts Telegram long polling for the life of the "
                       "process; a Worker runs only while a request is handled. Use a webhook (setWebHook) and "
                       "handle updates in fetch, or keep the bot in a Container.")
                hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, message=msg, guard=c.guard,
                                top_level=c.top_level))
            elif q in BOLT_START:
                app = c.receiver.bound if c.receiver is not None else None
                socket = app is not None and app.kind == "new" and any(_truthy_prop(x, "socketMode")
                                                                        for x in app.inner)
                if socket:
                    msg = ("Bolt `app.start()` with `socketMode: true` opens a Slack Socket Mode WebSocket for the "
                           "life of the process; a Worker cannot hold it. Use the Events API over HTTP (a request "
                           "URL) handled by fetch, or keep the app in a Container.")
                    hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, message=msg, guard=c.guard,
                                    top_level=c.top_level))
                else:
                    msg = ("Bolt `app.start()` starts an HTTP server (its Express receiver) on a port; a Worker binds "
                           "no port. Serve the Slack request URL from fetch (a Bolt receiver for Workers, or the "
                           "receiver's Express app behind httpServerHandler from cloudflare:node).")
                    hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, message=msg, guard=c.guard,
                                    top_level=c.top_level, severity="warning"))
        return hits


class LongTimer:
    """A timer set inside a handler that fires after the response: on Workers the request's work is cut off
    when it ends (ctx.waitUntil keeps it at most 30 s more) and nothing survives an isolate's eviction."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        for c in facts.calls:
            if c.qname not in TIMERS or c.top_level or c.kind != "call":
                continue
            if _recursive(c):
                msg = ("Reschedules itself with setTimeout: a loop that runs for as long as the process lives. No "
                       "code runs on Workers between requests; drive it from a Durable Object alarm or a Cron "
                       "Trigger, or keep it in a Container.")
                hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, message=msg, guard=c.guard,
                                top_level=False, severity="blocker"))
                continue
            ms = _ms(c.args[1]) if len(c.args) > 1 else None
            if ms is None or ms < SHORT_MS or _settles_a_promise(c):
                continue
            secs = f"{ms / 1000:g} s"
            if ms > WAITUNTIL_MS:
                msg = (f"Sets a timer that fires {secs} later, after the response has gone: on Workers the work of a "
                       "request ends with it (ctx.waitUntil keeps it at most 30 s more) and an isolate can be "
                       "evicted at any time, so the callback never runs. Use a Durable Object alarm (or a Queue "
                       "message with a delay).")
                sev = "blocker"
            else:
                msg = (f"Sets a timer that fires {secs} later: on Workers it runs only while the request is still "
                       "open or kept alive with ctx.waitUntil (at most 30 s after the response), and only in the "
                       "isolate that set it. Await it within the request, or use a Durable Object alarm / a "
                       "delayed Queue message.")
                sev = "warning"
            hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, message=msg, guard=c.guard,
                            top_level=False, severity=sev))
        return hits


class LoadTimeLibraryTimer:
    """A library whose constructor starts a timer, constructed while the module loads."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits = []
        for c in facts.calls:
            spec = LOAD_TIMERS.get(c.qname)
            if spec is None or not c.top_level or c.kind not in ("new", "call"):
                continue
            prop, what = spec
            opts = c.args[0] if c.args else None
            v = opts.props.get(prop) if opts is not None and opts.kind == "object" else None
            if v is not None and v.kind == "number" and (v.value or "").strip() in ("0", "0.0"):
                continue
            name = c.qname.split(".")[0]
            msg = (f"`{name}` starts a timer in its constructor ({what}), and this one is built while the module "
                   "loads: Workers refuse timers at global scope (\"Disallowed operation called within global "
                   "scope\"), and the cache is per isolate. Create it lazily inside a handler with the timer off "
                   f"(`{prop}: 0`), or use the Cache API / KV.")
            hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, message=msg, guard=c.guard,
                            top_level=True))
        return hits


# -------------------------------------------------------------------------------- processes declared for deployment

# Commands that start a process which runs for days beside (or instead of) the web server.
_PROCESS = [
    (re.compile(r"\bcelery\b.*\bbeat\b"), "Celery beat (the periodic-task scheduler)",
     "Cron Triggers in wrangler.jsonc, calling the task code (or enqueueing it to a Queue)"),
    (re.compile(r"\bcelery\b.*\bworker\b"), "a Celery worker", "a Cloudflare Queues consumer (queue() handler)"),
    (re.compile(r"\brq\s+worker\b|\brqworker\b"), "an RQ worker", "a Cloudflare Queues consumer"),
    (re.compile(r"\bdramatiq\b"), "a Dramatiq worker", "a Cloudflare Queues consumer"),
    (re.compile(r"\barq\b\s+\S+"), "an ARQ worker", "a Cloudflare Queues consumer"),
    (re.compile(r"\bhuey_consumer\b"), "a Huey consumer", "a Cloudflare Queues consumer"),
    (re.compile(r"\bbull(mq)?\b|\bworker\.(js|ts|mjs)\b|\bnpm\s+run\s+worker\b|\bqueue:work\b"),
     "a queue worker process", "a Cloudflare Queues consumer"),
    (re.compile(r"\b(cron|scheduler|clock)\.(js|ts|py)\b|\bpython\S*\s+(-m\s+)?\S*(scheduler|clock|cron)\b"),
     "a scheduler process", "Cron Triggers"),
    (re.compile(r"\bpython\S*\s+(-m\s+)?\S*bot\b|\bnode\s+\S*bot\.(js|mjs|cjs)\b"),
     "a chat-bot process", "the platform's HTTP webhooks in the Worker, or a Container"),
]


def process_lines(name: str, text: str) -> list[tuple[int, str, str, str]]:
    """(line, command, what it starts, what replaces it) for each declared process that is not the web server:
    Procfile entries, docker-compose `command:` lines, Dockerfile CMD / ENTRYPOINT."""
    out = []
    low = name.lower()
    for i, raw in enumerate(text.splitlines()[:2000], 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if low == "procfile":
            kind, _, cmd = line.partition(":")
            if kind.strip() in ("web", "release") or not cmd:
                continue
        elif low.endswith((".yml", ".yaml")):
            key, _, cmd = line.partition(":")
            if key.strip().lstrip("- ") not in ("command", "entrypoint"):
                continue
        else:   # Dockerfile
            word = line.split(None, 1)
            if len(word) < 2 or word[0].upper() not in ("CMD", "ENTRYPOINT"):
                continue
            cmd = word[1]
        cmd = cmd.strip()
        if cmd.startswith("["):          # exec form: ["python", "-m", "bot"]
            try:
                import json
                cmd = " ".join(str(x) for x in json.loads(cmd))
            except (ValueError, TypeError):
                pass
        for rx, what, instead in _PROCESS:
            if rx.search(cmd):
                out.append((i, cmd.strip()[:200], what, instead))
                break
    return out


class ProcessDeclarations:
    """A process the deployment declares beside the web server (a worker, beat, scheduler or bot)."""

    def check_file(self, rule: Any, rel: str, root: Any) -> list[Hit]:
        try:
            text = inputs.read_text(root, rel, limit=256 * 1024, errors="replace")
        except inputs.InputError:
            return []
        hits = []
        for line, cmd, what, instead in process_lines(rel.rsplit("/", 1)[-1], text):
            msg = (f"Declares {what} (`{cmd}`) that runs for as long as the deployment lives; a Worker runs only "
                   f"while a request, a cron run or a queue batch is handled. On Workers: {instead}; on Containers: "
                   "one instance of it, as its own container.")
            hits.append(Hit(line, 1, line, cmd, message=msg))
        return hits
