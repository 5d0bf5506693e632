"""Issue 19, items 13 and 15: the GitHub side of `pr-comment --post`. A GITHUB_TOKEN with a line break is a
one-line error that names the problem and never prints the token; a server that trickles its answer cannot hold
the client (per-request and overall deadlines); a comment body over GitHub's 65,536 characters is shortened
sensibly before it is sent; only cfcompat's own marked comment is ever edited."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from markdown_it import MarkdownIt

from ci_helpers import BASE_PACKAGE, FakeGitHub, commit, init_repo, pr_repo, run_cli, sh_git

from cfcompat.analyzer import github_api
from cfcompat.analyzer.github_api import GitHub, GitHubError
from cfcompat.reports.pr_comment import MARKER, MAX_BODY, render

TOKEN = "ghs_SECRETtoken_0123456789abcdefXYZ"


@pytest.fixture
def gh(monkeypatch, tmp_path):
    with FakeGitHub() as fake:
        fake.token = TOKEN
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"action": "synchronize", "number": 7, "pull_request": {"number": 7}}))
        for k, v in {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "acme/shop", "GITHUB_API_URL": fake.url,
                     "GITHUB_SERVER_URL": "https://github.com", "GITHUB_EVENT_PATH": str(event),
                     "CFCOMPAT_GITHUB_MAX_WAIT": "5"}.items():
            monkeypatch.setenv(k, v)
        monkeypatch.setattr(github_api, "RETRY_BACKOFF", 0.0)
        yield fake


# ------------------------------------------------------------------------------------------------ item 13

@pytest.mark.parametrize("token", ["ghs_first\nSECRETsecond", "ghs_first\r\nSECRETsecond", "\nghs_first\nSECRETx\n"])
def test_token_with_a_line_break_is_one_line_without_the_token(tmp_path, capsys, gh, monkeypatch, token):
    repo = pr_repo(tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", token)
    code, out, err = run_cli(["pr-comment", str(repo), "--diff-base", "main", "--post"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "GITHUB_TOKEN" in err and "line break" in err
    assert "SECRET" not in err and "ghs_first" not in err
    assert gh.requests == []


@pytest.mark.parametrize("token", ["ghs_a b", "ghs_a\x00b", "ghs_a\x1b[2Jb", "ghs_é"])
def test_token_a_header_cannot_carry_is_refused(token):
    with pytest.raises(GitHubError) as exc:
        GitHub(token, "acme/shop", "http://127.0.0.1:9")
    assert "GITHUB_TOKEN" in str(exc.value) and "ghs_" not in str(exc.value) and "\n" not in str(exc.value)


class Trickle:
    """A local server that answers every request a byte at a time (headers or body), 0.2 s apart."""

    def __init__(self, part: str, pages: bool = False) -> None:
        self.part = part
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.serve, daemon=True)]
        self.threads[0].start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.stop.is_set():
                conn.close()
                return
            t = threading.Thread(target=self.answer, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    def answer(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            body = b"[" + b" " * 200 + b"]"
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
            if self.part == "pages":      # a whole answer after 0.3 s, always with a next page
                time.sleep(0.3)
                link = f'Link: <{self.url}/repos/acme/shop/issues/7/comments?page=2>; rel="next"\r\n'.encode()
                conn.sendall(head + link + b"\r\n" + body)
                return
            slow = head + b"\r\n" if self.part == "headers" else body
            fast = body if self.part == "headers" else head + b"\r\n"
            if self.part == "body":
                conn.sendall(fast)
            for i in range(len(slow)):
                if self.stop.is_set():
                    return
                conn.sendall(slow[i:i + 1])
                time.sleep(0.2)
            if self.part == "headers":
                conn.sendall(fast)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)     # wakes the accept() (a bare close would not)
        except OSError:
            pass
        self.sock.close()
        for t in self.threads:
            t.join(5)


def _bounded(call, seconds: float):
    """Run CALL in a thread; (finished, exception or None, elapsed)."""
    box: dict = {}

    def run():
        try:
            call()
        except BaseException as exc:      # noqa: BLE001 - handed back
            box["exc"] = exc

    t0 = time.monotonic()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    return not t.is_alive(), box.get("exc"), time.monotonic() - t0


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_trickling_answer_cannot_hold_the_client(part):
    server = Trickle(part)
    try:
        client = GitHub(TOKEN, "acme/shop", server.url, timeout=1.0, max_wait=0)
        done, exc, elapsed = _bounded(lambda: list(client.list_comments(7)), 10)
    finally:
        server.close()
    assert done, "the request was still running after 10 s"
    assert isinstance(exc, GitHubError) and "did not finish within 1 s" in str(exc)
    assert elapsed < 3


def test_all_requests_share_an_overall_deadline():
    server = Trickle("pages")
    try:
        client = GitHub(TOKEN, "acme/shop", server.url, timeout=5.0, max_wait=0, deadline=1.5)
        done, exc, elapsed = _bounded(lambda: list(client.list_comments(7)), 20)
    finally:
        server.close()
    assert done and isinstance(exc, GitHubError) and "longer than 1.5 s in all" in str(exc)
    assert elapsed < 3


# ------------------------------------------------------------------------------------------------ item 15

def _doc(n_new: int, path_len: int, version_len: int) -> dict:
    new = [{"rule_id": "fs-persistent-write", "severity": "blocker", "path": f"src/{i}-" + "p" * path_len + ".js",
            "line": 3, "message": "writes a file", "snippet": "fs.writeFileSync(x)", "remediation": "use R2",
            "docs": ["https://developers.cloudflare.com/r2/"]} for i in range(n_new)]
    deps = [{"ecosystem": "npm", "name": "better-sqlite3", "version": "^11 || " + "1" * version_len,
             "manifest": "package.json", "dev": False, "verdict": "incompatible", "replacement": "D1"}]
    return {"target": "workers", "tool": {"version": "0.1.0"}, "summary": {},
            "diff": {"base": "a" * 40, "head": "b" * 40, "base_ref": "main", "new": new, "fixed": [],
                     "dependencies_added": deps, "dependencies_changed": [], "dependencies_removed": []}}


@pytest.mark.parametrize("n_new, path_len, version_len", [(3, 10, 70_000), (80, 30_000, 10), (400, 12_000, 500)])
def test_comment_over_the_limit_is_shortened_keeping_the_summary(n_new, path_len, version_len):
    body = render(_doc(n_new, path_len, version_len))
    assert len(body) <= MAX_BODY < github_api.MAX_COMMENT
    lines = body.split("\n")
    assert lines[0] == MARKER
    assert lines[1] == f"### ⛔ This PR adds {n_new} blocker{'s' if n_new > 1 else ''} for Cloudflare Workers"
    assert f"**New in this PR ({n_new})**" in body and "**Dependency changes (1)**" in body
    assert "Shortened: the full comment came to" in body
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(body)
    assert html.count("<table>") == 2 and "<details>" not in body


def test_a_comment_under_the_limit_is_not_shortened():
    body = render(_doc(3, 10, 10))
    assert "Shortened" not in body and "<details>" in body


def test_a_body_over_the_limit_is_never_sent(gh):
    client = GitHub(TOKEN, "acme/shop", gh.url)
    with pytest.raises(GitHubError, match="over GitHub's limit of 65,536; not sent"):
        client.upsert_comment(7, MARKER + "x" * 70_000)
    assert gh.requests == []


def test_pr_comment_with_a_huge_dependency_version_posts_a_short_comment(tmp_path, capsys, gh):
    repo = init_repo(tmp_path / "shop")
    commit(repo, {"package.json": BASE_PACKAGE}, "base")
    sh_git(repo, "checkout", "-q", "-b", "feature")
    huge = BASE_PACKAGE.replace('"express": "^4.18.0"', '"express": "^4.18.0",\n    "better-sqlite3": "^11 || '
                                + "1" * 70_000 + '"')
    commit(repo, {"package.json": huge}, "pr")
    code, out, err = run_cli(["pr-comment", str(repo), "--diff-base", "main", "--post"], capsys)
    assert code == 0, err
    assert gh.calls("POST"), (err, [(r["method"], r["path"]) for r in gh.requests])
    posted = gh.calls("POST")[0]["body"]["body"]
    assert len(posted) <= MAX_BODY and posted == out and posted.startswith(MARKER + "\n### ⛔")


def test_a_marked_comment_by_someone_else_is_not_edited(tmp_path, capsys, gh):
    repo = pr_repo(tmp_path)
    theirs = gh.add_comment(MARKER + "\n### ✅ No new problems (not written by cfcompat)", user="mallory")
    code, _out, err = run_cli(["pr-comment", str(repo), "--diff-base", "main", "--post"], capsys)
    assert code == 0, err
    assert gh.calls("PATCH") == [] and len(gh.calls("POST")) == 1 and "created" in err
    assert theirs["body"].endswith("(not written by cfcompat)")
    # the next run updates the bot's own comment, still not mallory's
    code, _out, err = run_cli(["pr-comment", str(repo), "--diff-base", "main", "--post"], capsys)
    assert "updated" in err and len(gh.calls("POST")) == 1
    assert gh.calls("PATCH")[0]["path"].endswith(f"/issues/comments/{gh.comments[-1]['id']}")
    assert theirs["body"].endswith("(not written by cfcompat)")


def test_with_a_user_token_only_that_users_comment_is_updated(gh):
    gh.user = {"login": "ci-user", "type": "User"}
    other_bot = gh.add_comment(MARKER + "\nby another app", user="other-app[bot]", type_="Bot")
    mine = gh.add_comment(MARKER + "\nby me", user="ci-user")
    client = GitHub(TOKEN, "acme/shop", gh.url)
    action, c = client.upsert_comment(7, MARKER + "\nnew")
    assert action == "updated" and c["id"] == mine["id"] and other_bot["body"].endswith("by another app")


def test_with_an_actions_token_github_actions_bot_comes_first(gh):
    other_bot = gh.add_comment(MARKER + "\nby another app", user="other-app[bot]", type_="Bot")
    ours = gh.add_comment(MARKER + "\nby actions", user="github-actions[bot]", type_="Bot")
    client = GitHub(TOKEN, "acme/shop", gh.url)
    action, c = client.upsert_comment(7, MARKER + "\nnew")
    assert action == "updated" and c["id"] == ours["id"] and other_bot["body"].endswith("by another app")
