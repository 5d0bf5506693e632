"""A small monorepo in a real git repository, for the repository-path, Action and baseline-first tests."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout


def make_monorepo(root: Path, with_git: bool = True) -> Path:
    chat = root / "services" / "chat"
    (chat / "server").mkdir(parents=True)
    (chat / "package.json").write_text(json.dumps({
        "name": "chat", "main": "server/index.js",
        "dependencies": {"express": "^4.19.0", "better-sqlite3": "^11.3.0", "node-cron": "^3.0.0"}}, indent=2))
    (chat / "server" / "index.js").write_text(
        "const express = require('express');\n"
        "const fs = require('fs');\n"
        "const Database = require('better-sqlite3');\n"
        "require('./store one.js');\n"
        "const db = new Database('data/chat.db');\n"
        "const app = express();\n"
        "app.post('/m', (req, res) => { fs.writeFileSync('data/log.txt', req.body); res.end(); });\n"
        "setInterval(() => db.pragma('optimize'), 60000);\n"
        "app.listen(3000);\n")
    (chat / "server" / "store one.js").write_text(
        "const fs = require('fs');\nmodule.exports = (x) => fs.appendFileSync('uploads/#1.txt', x);\n")
    web = root / "services" / "web"
    web.mkdir(parents=True)
    (web / "package.json").write_text('{"name": "web", "main": "index.js"}')
    (web / "index.js").write_text("export default { fetch() { return new Response('ok') } }\n")
    (root / "README.md").write_text("monorepo\n")
    if with_git:
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "init")
    return root
