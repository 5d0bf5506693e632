"""Helpers for the CI / PR-bot tests: git repositories built in tmp_path, a fake GitHub API on 127.0.0.1."""
from __future__ import annotations

import json
import os
import subprocess
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cfcompat.analyzer.cli import main

GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


def sh_git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def write(repo: Path, files: dict[str, str | None]) -> None:
    for rel, text in files.items():
        p = repo / rel
        if text is None:
            p.unlink()
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")


def commit(repo: Path, files: dict[str, str | None], message: str) -> str:
    write(repo, files)
    sh_git(repo, "add", "-A")
    sh_git(repo, "commit", "-q", "-m", message)
    return sh_git(repo, "rev-parse", "HEAD")


def init_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    sh_git(path, "init", "-q", "-b", "main")
    return path


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return exc.value.code or 0, out.out, out.err


# ----------------------------------------------------------------------------------------- the PR repository

BASE_PACKAGE = """{
  "name": "shop",
  "dependencies": {
    "express": "^4.18.0"
  }
}
"""

PR_PACKAGE = """{
  "name": "shop",
  "dependencies": {
    "better-sqlite3": "^11.0.0",
    "express": "^4.18.0"
  }
}
"""

BASE_WORKER = """const cp = require('child_process');
const fs = require('fs');

export function revision() {
  return cp.execSync('ls -la').toString();
}

export function compute(expr) {
  return eval(expr);
}
"""

# the PR: two comment lines shift everything down, revision() no longer shells out (fixed), save() writes a
# file (new), compute() keeps its eval (old finding, new line number)
PR_WORKER = """// Worker entry
// (line shift: these two comment lines are new)
const cp = require('child_process');
const fs = require('fs');

export function revision() {
  return 'static';
}

export function save(buf) {
  fs.writeFileSync('data/out.json', buf);
}

export function compute(expr) {
  return eval(expr);
}
"""


def pr_repo(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "shop")
    commit(repo, {"package.json": BASE_PACKAGE, "src/worker.js": BASE_WORKER}, "base")
    sh_git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"package.json": PR_PACKAGE, "src/worker.js": PR_WORKER}, "pr")
    return repo


# ----------------------------------------------------------------------------------------- fake GitHub API

class FakeGitHub:
    """Answers like api.github.com for issue comments; records every request. `script` holds canned answers
    (status, headers, body) consumed in order for matching methods before normal handling."""

    def __init__(self, owner_repo: str = "acme/shop", pr: int = 7, per_page_cap: int = 100) -> None:
        self.owner_repo = owner_repo
        self.pr = pr
        self.per_page_cap = per_page_cap
        self.comments: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.script: list[tuple[str, int, dict[str, str], Any]] = []
        self.user: dict[str, Any] | None = None     # GET /user; None answers 403 like the Actions GITHUB_TOKEN
        self.next_id = 1000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _answer(self, status: int, headers: dict[str, str], body: Any) -> None:
                raw = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append({"method": method, "path": self.path, "headers": dict(self.headers),
                                      "body": body})
                for i, (m, status, headers, answer) in enumerate(fake.script):
                    if m == method:
                        del fake.script[i]
                        return self._answer(status, headers, answer)
                if self.headers.get("Authorization") != "Bearer " + fake.token:
                    return self._answer(401, {}, {"message": "Bad credentials"})
                self._answer(*fake.route(method, self.path, body))

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_PATCH(self):
                self._handle("PATCH")

        self.token = "ghs_SECRETtoken_0123456789abcdefXYZ"
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def __enter__(self) -> "FakeGitHub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_comment(self, body: str, user: str = "someone", type_: str = "User") -> dict[str, Any]:
        self.next_id += 1
        c = {"id": self.next_id, "body": body, "user": {"login": user, "type": type_},
             "html_url": f"https://github.com/{self.owner_repo}/pull/{self.pr}#issuecomment-{self.next_id}"}
        self.comments.append(c)
        return c

    def route(self, method: str, raw_path: str, body: Any) -> tuple[int, dict[str, str], Any]:
        u = urllib.parse.urlsplit(raw_path)
        q = urllib.parse.parse_qs(u.query)
        base = f"/repos/{self.owner_repo}"
        if method == "GET" and u.path == "/user":
            if self.user is None:
                return 403, {}, {"message": "Resource not accessible by integration"}
            return 200, {}, self.user
        if method == "GET" and u.path == f"{base}/issues/{self.pr}/comments":
            per = min(int(q.get("per_page", ["30"])[0]), self.per_page_cap)
            page = int(q.get("page", ["1"])[0])
            items = self.comments[(page - 1) * per: page * per]
            headers = {}
            last = max(1, -(-len(self.comments) // per))
            if page < last:
                nxt = f"{self.url}{u.path}?per_page={per}&page={page + 1}"
                headers["Link"] = (f'<{nxt}>; rel="next", '
                                   f'<{self.url}{u.path}?per_page={per}&page={last}>; rel="last"')
            return 200, headers, items
        if method == "POST" and u.path == f"{base}/issues/{self.pr}/comments":
            c = self.add_comment(body["body"], user="github-actions[bot]", type_="Bot")
            return 201, {}, c
        if method == "PATCH" and u.path.startswith(f"{base}/issues/comments/"):
            cid = int(u.path.rsplit("/", 1)[1])
            for c in self.comments:
                if c["id"] == cid:
                    c["body"] = body["body"]
                    return 200, {}, c
            return 404, {}, {"message": "Not Found"}
        return 404, {}, {"message": "Not Found"}

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method]
