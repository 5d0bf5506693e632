"""Process-lifetime rules (rules/packs/lifetime.yaml) on the shapes they meet in real code, with their traps."""
from __future__ import annotations

from pathlib import Path

import pytest

from cfcompat.analyzer.engine import ScanOptions, scan


def findings(tmp_path: Path, files: dict[str, str]) -> dict[tuple[int, str], str]:
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    res = scan(tmp_path, ScanOptions(jobs=1, use_cache=False))
    return {(f.line, f.rule_id): f.severity for f in res.findings if f.path == next(iter(files))}


BOT = """\
import { Client } from "discord.js"
import { Telegraf, session } from "telegraf"
import TelegramBot from "node-telegram-bot-api"
import { App } from "@slack/bolt"

const client = new Client({ intents: [] })
client.login(process.env.TOKEN)
const bot = new Telegraf(process.env.TG)
bot.use(session())
bot.launch()
const polling = new TelegramBot(process.env.TG, { polling: true })
const hooked = new TelegramBot(process.env.TG, { polling: false })
const slack = new App({ token: "x", signingSecret: "y", socketMode: true, appToken: "z" })
slack.start()
const web = new App({ token: "x", signingSecret: "y" })
web.start(3000)
bot.use(session({ store: kvStore }))
"""


def test_bot_gateways_and_long_polling(tmp_path: Path) -> None:
    got = findings(tmp_path, {"src/bot.js": BOT})
    assert got[(7, "chat-bot-gateway")] == "blocker"          # discord.js login
    assert got[(10, "chat-bot-gateway")] == "blocker"         # Telegraf launch
    assert got[(11, "chat-bot-gateway")] == "blocker"         # polling: true
    assert (12, "chat-bot-gateway") not in got                # polling: false (webhook mode)
    assert got[(14, "chat-bot-gateway")] == "blocker"         # Bolt socket mode
    assert got[(16, "chat-bot-gateway")] == "warning"         # Bolt over HTTP: a server on a port
    assert got[(9, "session-memory-store")] == "warning"      # Telegraf session() in memory
    assert (17, "session-memory-store") not in got            # with a store


TIMERS = """\
import express from "express"
import NodeCache from "node-cache"
const app = express()
const cache = new NodeCache({ stdTTL: 60 })
const quiet = new NodeCache({ stdTTL: 60, checkperiod: 0 })
const RING_MS = 45000

app.post("/ring", (req, res) => {
  setTimeout(() => expire(req.params.id), RING_MS)
  setTimeout(() => retry(req.params.id), 8 * 1000)
  setTimeout(resolve, 200)
  res.sendStatus(202)
})

function tick() {
  step()
  setTimeout(tick, 33)
}
"""


def test_timers_that_outlive_the_request(tmp_path: Path) -> None:
    got = findings(tmp_path, {"src/server.js": TIMERS})
    assert got[(4, "timer-in-library-at-load")] == "blocker"
    assert (5, "timer-in-library-at-load") not in got         # checkperiod: 0
    assert got[(9, "timer-outlives-request")] == "blocker"    # 45 s: beyond waitUntil
    assert got[(10, "timer-outlives-request")] == "warning"   # 8 s: only while the request or waitUntil lasts
    assert (11, "timer-outlives-request") not in got          # a 200 ms pause inside the request
    assert got[(17, "timer-outlives-request")] == "blocker"   # a self-rescheduling loop


SERVER = """\
import express from "express"
import rateLimit from "express-rate-limit"
import nodemailer from "nodemailer"
import Fastify from "fastify"
import autoload from "@fastify/autoload"
import knex from "knex"

const app = express()
app.use(rateLimit({ windowMs: 60000, max: 100 }))
app.use(rateLimit({ windowMs: 60000, max: 100, store: new RedisStore() }))
const mail = nodemailer.createTransport({ host: "smtp.example.com", port: 587 })
const test = nodemailer.createTransport({ jsonTransport: true })
app.set("view engine", "pug")
app.set("views", "./views")
const server = Fastify()
server.register(autoload, { dir: "./routes" })
server.register(import("./routes/users.js"))
const db = knex({ client: "pg", connection: process.env.DB })
export async function start() { await db.migrate.latest() }
"""


def test_server_shapes(tmp_path: Path) -> None:
    got = findings(tmp_path, {"src/app.js": SERVER})
    assert got[(9, "rate-limit-in-memory")] == "warning"
    assert (10, "rate-limit-in-memory") not in got            # a shared store
    assert got[(11, "smtp-transport")] == "warning"
    assert (12, "smtp-transport") not in got                  # jsonTransport: no network
    assert got[(13, "view-engine-render")] == "blocker"
    assert (14, "view-engine-render") not in got              # the views folder setting alone
    assert got[(16, "project-folder-at-startup")] == "blocker"
    assert (17, "project-folder-at-startup") not in got       # an explicit registration
    assert got[(19, "project-folder-at-startup")] == "blocker"


@pytest.mark.parametrize("text", [
    "setTimeout(() => {}, 60000)\n",                            # top level: timer-global-scope's, not this rule's
    "export const wait = (ms) => new Promise((r) => setTimeout(r, ms))\n",   # delay unknown
])
def test_timer_traps(tmp_path: Path, text: str) -> None:
    got = findings(tmp_path, {"src/util.js": text})
    assert not [k for k in got if k[1] == "timer-outlives-request"]


def test_work_reached_from_top_level_across_files_runs_at_start_up(tmp_path: Path) -> None:
    """`connectDB()` at the bottom of server.js: the connect happens inside the imported function, and in what it
    calls; a function only handlers call stays request code."""
    files = {
        "src/db.js": ("const mongoose = require('mongoose');\n"
                      "async function connectDB() {\n"
                      "  await openPool();\n"
                      "}\n"
                      "async function openPool() {\n"
                      "  await mongoose.connect(process.env.MONGO_URL);\n"
                      "}\n"
                      "async function perRequest() {\n"
                      "  await mongoose.connect(process.env.MONGO_URL);\n"
                      "}\n"
                      "module.exports = { connectDB, perRequest };\n"),
        "src/server.js": ("const express = require('express');\n"
                          "const { connectDB, perRequest } = require('./db');\n"
                          "const app = express();\n"
                          "app.get('/', async (req, res) => { await perRequest(); res.send('ok'); });\n"
                          "connectDB();\n"
                          "app.listen(3000);\n"),
        "package.json": '{"name": "x", "main": "src/server.js", "dependencies": {"express": "4", "mongoose": "8"}}\n',
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    res = scan(tmp_path, ScanOptions(jobs=1, use_cache=False))
    pool = [f for f in res.findings if f.path == "src/db.js" and f.rule_id == "db-connect-at-load"]
    assert [f.line for f in pool] == [6], [(f.line, f.rule_id) for f in res.findings if f.path == "src/db.js"]
    assert "openPool()" in pool[0].message and "connectDB()" in pool[0].message and "src/server.js" in pool[0].message


def test_instance_state_of_process_wide_objects(tmp_path: Path) -> None:
    """`this.jobs = new Map()` in a class exported as one instance (or a NestJS provider) is state shared by all
    requests; the same field in a class made per request is not."""
    files = {
        "src/queue.js": ("class JobQueue {\n"
                         "  constructor() {\n"
                         "    this.jobs = new Map();\n"
                         "  }\n"
                         "  add(job) {\n"
                         "    this.jobs.set(job.id, job);\n"
                         "  }\n"
                         "}\n"
                         "module.exports = new JobQueue();\n"),
        "src/request.js": ("export class Batch {\n"
                           "  items = [];\n"
                           "  push(x) { this.items.push(x); }\n"
                           "}\n"
                           "export function handle(req) { const b = new Batch(); b.push(req.body); return b; }\n"),
        "src/limits.service.ts": ("import { Injectable } from '@nestjs/common';\n"
                                  "@Injectable()\n"
                                  "export class LimitsService {\n"
                                  "  private readonly hits = new Map<string, number>();\n"
                                  "  hit(ip: string) { this.hits.set(ip, (this.hits.get(ip) ?? 0) + 1); }\n"
                                  "}\n"),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    res = scan(tmp_path, ScanOptions(jobs=1, use_cache=False))
    state = {(f.path, f.line): f for f in res.findings if f.rule_id == "module-state-shared"}
    assert set(state) == {("src/queue.js", 3), ("src/limits.service.ts", 4)}, set(state)
    assert "created while src/queue.js loads" in state[("src/queue.js", 3)].message
    assert "NestJS @Injectable" in state[("src/limits.service.ts", 4)].message


def test_processes_declared_beside_the_web_server(tmp_path: Path) -> None:
    files = {
        "Procfile": "web: gunicorn shop.wsgi\nworker: celery -A shop worker -l info\nbeat: celery -A shop beat\n"
                    "release: python manage.py migrate\n",
        "docker-compose.yml": ("services:\n  api:\n    command: uvicorn app.main:app --host 0.0.0.0\n"
                               "  jobs:\n    command: rq worker default\n"),
        "Dockerfile": "FROM python:3.12\nCMD [\"python\", \"-m\", \"bot\"]\n",
        "app.py": "print('hello')\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    res = scan(tmp_path, ScanOptions(jobs=1, use_cache=False))
    got = sorted((f.path, f.line) for f in res.findings if f.rule_id == "worker-process-declared")
    assert got == [("Dockerfile", 2), ("Procfile", 2), ("Procfile", 3), ("docker-compose.yml", 5)], got


def test_containers_filled_only_at_start_up_are_not_shared_state(tmp_path: Path) -> None:
    text = ("const fs = require('fs');\n"
            "const commands = new Map();\n"
            "const seen = new Set();\n"
            "function loadCommands() {\n"
            "  for (const f of ['ping', 'help']) commands.set(f, require(`./commands/${f}.js`));\n"
            "}\n"
            "loadCommands();\n"
            "module.exports = function onMessage(msg) { seen.add(msg.author); return commands.get(msg.name); };\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "bot.js").write_text(text)
    res = scan(tmp_path, ScanOptions(jobs=1, use_cache=False))
    lines = sorted(f.line for f in res.findings if f.rule_id == "module-state-shared")
    assert lines == [3], lines          # `seen` is written per message; `commands` only at start-up


def test_work_left_unawaited(tmp_path: Path) -> None:
    text = ("const nodemailer = require('nodemailer');\n"
            "const mailer = nodemailer.createTransport({ jsonTransport: true });\n"
            "async function audit(db, row) { await db.query('INSERT ...', row); }\n"
            "module.exports = async function register(req, res, db) {\n"
            "  mailer.sendMail({ to: req.body.email });\n"
            "  audit(db, req.body);\n"
            "  await mailer.sendMail({ to: 'ops@example.com' });\n"
            "  db.query('UPDATE ...', [1], (err) => res.end());\n"
            "  res.send('ok');\n"
            "  return mailer.sendMail({ to: 'x@example.com' });\n"
            "};\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "register.js").write_text(text)
    res = scan(tmp_path, ScanOptions(jobs=1, use_cache=False))
    lines = sorted(f.line for f in res.findings if f.rule_id == "unawaited-work")
    assert lines == [5, 6], lines
