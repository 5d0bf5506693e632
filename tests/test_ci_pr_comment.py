"""`cfcompat pr-comment`: rendering (inert untrusted text), posting/updating through a local fake GitHub API,
HTTP failures, and that the token never shows."""
from __future__ import annotations

import json
import re

import pytest
from markdown_it import MarkdownIt

from ci_helpers import FakeGitHub, commit, init_repo, pr_repo, run_cli, sh_git

from cfcompat.analyzer import github_api
from cfcompat.analyzer.github_api import GitHub, GitHubError, pr_number_from_event
from cfcompat.reports.pr_comment import MARKER, Links, block, code, render, text

TOKEN = "ghs_SECRETtoken_0123456789abcdefXYZ"


@pytest.fixture
def gh(monkeypatch, tmp_path):
    with FakeGitHub() as fake:
        fake.token = TOKEN
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"action": "synchronize", "number": 7, "pull_request": {"number": 7}}))
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_REPOSITORY", "acme/shop")
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
        monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
        monkeypatch.setenv("CFCOMPAT_GITHUB_MAX_WAIT", "5")
        monkeypatch.setattr(github_api, "RETRY_BACKOFF", 0.0)
        yield fake


def html_of(md: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(md)


def outside_code(html: str) -> str:
    return re.sub(r"<pre>.*?</pre>|<code>.*?</code>", "", html, flags=re.S)


# ------------------------------------------------------------------------------------------------ end to end

def test_comment_posted_once_then_updated_in_place(tmp_path, capsys, gh):
    repo = pr_repo(tmp_path)
    for i in range(130):     # other people's comments: two pages, the Link header must be followed
        gh.add_comment(f"looks good {i}")
    code, out, err = run_cli(["pr-comment", str(repo), "--diff-base", "main", "--post"], capsys)
    assert code == 0, err
    assert out.startswith(MARKER) and "created the pull request comment" in err
    assert [r["method"] for r in gh.requests] == ["GET", "GET", "POST"]
    assert "page=2" in gh.requests[1]["path"]

    # the rendered comment of the e2e repository
    head = sh_git(repo, "rev-parse", "HEAD")
    base = sh_git(repo, "rev-parse", "main")
    assert out.splitlines()[1] == "### ⛔ This PR adds 2 blockers for Cloudflare Workers; fixes 1"
    assert f"(https://github.com/acme/shop/blob/{head}/src/worker.js#L11)" in out
    assert f"(https://github.com/acme/shop/blob/{head}/package.json#L4)" in out
    assert f"(https://github.com/acme/shop/blob/{base}/src/worker.js#L5)" in out    # fixed: base commit
    assert "| added | `better-sqlite3` | `^11.0.0` | package.json |" in out
    assert out.count("<details>") == 1 and out.count("</details>") == 1
    assert "eval" not in out.split("<details>")[0]       # the shifted old finding is not new
    (tmp_path / "rendered-comment.md").write_text(out)

    # second run (a new push): the same comment is updated, never a second one
    commit(repo, {"src/more.js": "export const x = 1;\n"}, "another push")
    code, out2, err2 = run_cli(["pr-comment", str(repo), "--diff-base", "main", "--post"], capsys)
    assert code == 0, err2
    assert "updated the pull request comment" in err2
    assert len(gh.calls("POST")) == 1 and len(gh.calls("PATCH")) == 1
    ours = [c for c in gh.comments if MARKER in c["body"]]
    assert len(ours) == 1 and ours[0]["body"] == out2 and ours[0]["body"].startswith(MARKER)
    assert gh.calls("PATCH")[0]["path"] == f"/repos/acme/shop/issues/comments/{ours[0]['id']}"
    for r in gh.requests:
        assert r["headers"]["Authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in r["path"]
        assert r["headers"]["Accept"] == "application/vnd.github+json"
    assert TOKEN not in out + err + out2 + err2


def test_fail_on_exit_status_after_posting(tmp_path, capsys, gh):
    repo = pr_repo(tmp_path)
    code, _out, _err = run_cli(["pr-comment", str(repo), "--diff-base", "main", "--post", "--fail-on", "blocker"],
                               capsys)
    assert code == 1 and len(gh.calls("POST")) == 1     # posted, then the check fails
    (repo / "cfcompat.toml").write_text('fail_on = "warning"\n')
    code, _out, _err = run_cli(["pr-comment", str(repo), "--diff-base", "main"], capsys)
    assert code == 1
    code, _out, _err = run_cli(["pr-comment", str(repo), "--diff-base", "main", "--fail-on", "never"], capsys)
    assert code == 0


def test_no_new_problems_verdict(tmp_path, capsys):
    repo = init_repo(tmp_path / "r")
    commit(repo, {"src/a.js": "const cp = require('child_process');\nexport const f = () => cp.execSync('ls');\n"},
           "base")
    sh_git(repo, "checkout", "-q", "-b", "pr")
    commit(repo, {"src/a.js": "export const f = () => 'ls';\n"}, "fix")
    code, out, err = run_cli(["pr-comment", str(repo), "--diff-base", "main", "--fail-on", "blocker"], capsys)
    assert code == 0
    assert out.splitlines()[1] == "### ✅ No new problems for Cloudflare Workers; fixes 1"
    assert "**Fixed by this PR (1)**" in out and "<details>" not in out


# ------------------------------------------------------------------------------------------------ HTTP failures

def _post(tmp_path, capsys, gh, *extra):
    repo = tmp_path / "shop"
    if not repo.exists():
        pr_repo(tmp_path)
    return run_cli(["pr-comment", str(repo), "--diff-base", "main", "--post", *extra], capsys)


@pytest.mark.parametrize("method,status,headers,needle", [
    ("GET", 401, {}, "bad credentials (401)"),
    ("POST", 403, {}, "forks get a read-only GITHUB_TOKEN"),
    ("GET", 404, {}, "not found (404)"),
    ("POST", 422, {}, "rejected (422)"),
    ("GET", 429, {"Retry-After": "3600"}, "rate limit"),
    ("POST", 403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "4102444800"}, "rate limit"),
    ("GET", 500, {}, "HTTP 500"),
])
def test_http_errors_are_one_clear_line(tmp_path, capsys, gh, method, status, headers, needle):
    answer = {"message": f"nope, token was {TOKEN}", "errors": [{"message": "body is too long"}]}
    gh.script += [(method, status, headers, answer)] * 3
    code, out, err = _post(tmp_path, capsys, gh)
    assert code == 2, err
    assert err.count("\n") == 1 and needle in err, err
    assert TOKEN not in out + err
    assert "Traceback" not in err
    if status == 429:
        assert "3600 s" in err and len(gh.calls("GET")) == 1     # did not wait an hour
    assert gh.calls("PATCH") == []


def test_rate_limit_with_short_retry_after_is_waited_out(tmp_path, capsys, gh):
    gh.script.append(("GET", 429, {"Retry-After": "0"}, {"message": "slow down"}))
    gh.script.append(("POST", 403, {"Retry-After": "0"}, {"message": "secondary rate limit"}))
    code, _out, err = _post(tmp_path, capsys, gh)
    assert code == 0, err
    assert len(gh.calls("POST")) == 2 and len(gh.comments) == 1


def test_missing_environment_is_a_usage_error(tmp_path, capsys, gh, monkeypatch):
    monkeypatch.delenv("GITHUB_EVENT_PATH")
    code, _out, err = _post(tmp_path, capsys, gh)
    assert code == 2 and "--pr N" in err and gh.requests == []
    code, _out, err = _post(tmp_path, capsys, gh, "--pr", "7")
    assert code == 0 and len(gh.calls("POST")) == 1
    monkeypatch.delenv("GITHUB_TOKEN")
    code, _out, err = _post(tmp_path, capsys, gh, "--pr", "7")
    assert code == 2 and "GITHUB_TOKEN" in err


def test_token_never_in_exceptions_or_repr(gh):
    client = GitHub(TOKEN, "acme/shop", gh.url, max_wait=0)
    gh.script.append(("GET", 401, {}, {"message": TOKEN}))
    with pytest.raises(GitHubError) as exc:
        list(client.list_comments(7))
    assert TOKEN not in str(exc.value) and TOKEN not in repr(exc.value) and TOKEN not in repr(client)
    assert exc.value.__cause__ is None and exc.value.__context__ is None or TOKEN not in str(exc.value.__context__)
    # a pagination link to another host is not followed with the token
    gh.script.append(("GET", 200, {"Link": '<https://evil.example/steal?page=2>; rel="next"'}, []))
    with pytest.raises(GitHubError, match="another host"):
        list(client.list_comments(7))
    # plain http is only for loopback
    with pytest.raises(GitHubError, match="https"):
        GitHub(TOKEN, "acme/shop", "http://api.example.com")


def test_updates_only_a_comment_that_starts_with_the_marker(gh):
    gh.add_comment(f"quoting the bot: {MARKER}", user="human")
    mine = gh.add_comment(MARKER + "\nold", user="github-actions[bot]", type_="Bot")
    client = GitHub(TOKEN, "acme/shop", gh.url)
    action, c = client.upsert_comment(7, MARKER + "\nnew")
    assert action == "updated" and c["id"] == mine["id"] and gh.comments[0]["body"].startswith("quoting")


def test_pr_number_from_event(tmp_path):
    p = tmp_path / "e.json"
    p.write_text(json.dumps({"pull_request": {"number": 12}}))
    assert pr_number_from_event(str(p)) == 12
    p.write_text(json.dumps({"issue": {"number": 5, "pull_request": {}}}))
    assert pr_number_from_event(str(p)) == 5
    p.write_text(json.dumps({"push": {}}))
    assert pr_number_from_event(str(p)) is None
    assert pr_number_from_event(str(tmp_path / "missing.json")) is None


# ------------------------------------------------------------------------------------------------ escaping

HOSTILE = "x ``` `` ` </details><script>alert(1)</script> <img src=x onerror=alert(1)> @octocat #123 | y"


def hostile_doc() -> dict:
    f = {"rule_id": "fs-persistent-write", "severity": "blocker", "path": "src/<b>@octocat #123|`.js", "line": 3,
         "snippet": HOSTILE + "\n```\n</details>\n", "message": "calls `a|b` then " + HOSTILE,
         "remediation": "use R2 " + HOSTILE, "docs": ["https://developers.cloudflare.com/r2/",
                                                      "javascript:alert(1)"],
         "fingerprint": "f1", "change": "added"}
    return {"tool": {"version": "0.1.0"}, "target": "workers", "summary": {},
            "diff": {"base": "a" * 40, "head": "b" * 40, "base_ref": "origin/main</details>",
                     "new": [f], "fixed": [dict(f, severity="warning", path="old@octocat.js")],
                     "dependencies_added": [{"name": "evil|pkg</details>@octocat", "version": "1 | 2",
                                             "manifest": "package.json", "verdict": "incompatible",
                                             "replacement": "D1 " + HOSTILE}]}}


def test_untrusted_text_renders_inert():
    md = render(hostile_doc(), Links("https://github.com", "acme/shop", "b" * 40, "a" * 40))
    html = html_of(md)
    assert html.count("<details>") == 1 and html.count("</details>") == 1
    assert "<script" not in html and "<img" not in html and "javascript:" not in html
    rest = outside_code(html)
    assert "@octocat" not in rest and "#123" not in rest
    assert "<code>@octocat</code>" in html and "<code>#123</code>" in html      # shown as written, in code
    assert "\u2060" not in md and "\u200b" not in md                            # no invisible characters
    # every table row keeps its column count (pipes inside cells are escaped)
    for table in re.findall(r"<table>.*?</table>", html, flags=re.S):
        widths = {len(re.findall(r"<t[hd][ >]", row)) for row in re.findall(r"<tr>.*?</tr>", table, flags=re.S)}
        assert len(widths) == 1, table
    # links point at the blob with the path percent-encoded
    assert "https://github.com/acme/shop/blob/" + "b" * 40 + "/src/%3Cb%3E%40octocat%20%23123%7C%60.js#L3" in md
    # code spans and blocks show the snippet verbatim (as text)
    assert '<code class="language-js">x ``` `` ` &lt;/details&gt;&lt;script&gt;alert(1)&lt;/script&gt;' in html
    assert "<code>evil|pkg&lt;/details&gt;@octocat</code>" in html


def test_escape_helpers():
    assert code("a ` b") == "``a ` b``"
    assert code("`x`") == "`` `x` ``"
    assert code("a|b", table=True) == "`a\\|b`"
    assert text("<b>@x #1</b>") == "&lt;b>`@x` `#1`&lt;/b>"
    assert block("```\ncode").startswith("````")
