"""A small GitHub REST client (stdlib urllib) for the PR comment: list, create, update issue comments.

- `GET /repos/{o}/{r}/issues/{n}/comments?per_page=100&page=k`, following `Link: <...>; rel="next"` (only to
  the same API origin), `POST /repos/{o}/{r}/issues/{n}/comments`, `PATCH /repos/{o}/{r}/issues/comments/{id}`.
- The token travels only in the Authorization header, never in a URL; every message this module produces is
  scrubbed of it; redirects are refused (urllib would forward the header); a plain-http API URL is accepted only
  on a loopback address (tests).
- Errors become one-line `GitHubError`s: 401 bad token, 403 no permission (forks get a read-only token), 404,
  422, and rate limits (429, or 403 with Retry-After / x-ratelimit-remaining: 0): cfcompat waits when GitHub
  asks for at most `max_wait` seconds (default 60, `CFCOMPAT_GITHUB_MAX_WAIT`), then gives up clearly.
- A token that holds a line break (or anything else a header cannot carry) is refused up front, naming the
  problem, never the token.
- Deadlines: each request, answer included, must finish within `timeout` seconds (default 30; a server that
  sends a byte now and then cannot hold it), and all of them, waits included, within `deadline` seconds
  (default 600, `CFCOMPAT_GITHUB_DEADLINE`). Answers over 32 MiB are refused.
- Only cfcompat's own comment is updated: a comment that starts with the marker and was written by the
  authenticated user (`GET /user`), or, when the token cannot say who it is (the Actions GITHUB_TOKEN, an app
  installation token), by a bot (`user.type == "Bot"`, github-actions[bot] first). Anyone else's marked
  comment is left alone and a new one is created. A body over GitHub's 65,536 characters is never sent.
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Iterator

from . import __version__

MARKER = "<!-- cfcompat-pr-comment -->"
MAX_PAGES = 100
DEFAULT_MAX_WAIT = 60.0
DEFAULT_DEADLINE = 600.0
MAX_ANSWER = 32 * 1024 * 1024
MAX_COMMENT = 65536       # GitHub rejects longer comment bodies (422)
ACTIONS_BOT = "github-actions[bot]"
RETRY_BACKOFF = 2.0       # seconds per attempt after a 5xx answer (two retries)


class GitHubError(Exception):
    """A GitHub API failure, one line, without the token."""


class _Late(Exception):
    """A request did not finish in time."""


def check_token(token: str) -> str:
    """The token without surrounding blanks; GitHubError (naming the problem, not the token) when it is empty or
    holds something an HTTP header cannot carry."""
    t = (token or "").strip()
    if not t:
        raise GitHubError("GITHUB_TOKEN is empty")
    if "\n" in t or "\r" in t:
        raise GitHubError("GITHUB_TOKEN contains a line break; set it to the token alone (one line)")
    if re.search(r"[^\x21-\x7e]", t):
        raise GitHubError("GITHUB_TOKEN contains a space, a control character or a non-ASCII character; set it to "
                          "the token alone")
    return t


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib API
        raise urllib.error.HTTPError(req.full_url, code, f"redirect refused ({code})", headers, fp)


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_api_url(url: str) -> str:
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https" or (u.scheme == "http" and _loopback(u.hostname)):
        if not u.netloc or u.username or u.password or u.query or u.fragment:
            raise GitHubError(f"GITHUB_API_URL {url!r} is not a plain API base URL")
        return url.rstrip("/")
    raise GitHubError(f"GITHUB_API_URL must be an https:// URL (got {u.scheme or 'no'} scheme)")


def check_repository(repo: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo or "") or ".." in repo:
        raise GitHubError(f"GITHUB_REPOSITORY {repo!r} is not OWNER/REPO")
    return repo


def _next_link(header: str | None) -> str | None:
    if not header:
        return None
    for part in header.split(","):
        m = re.match(r'\s*<([^>]*)>\s*;(.*)', part)
        if m and re.search(r'rel="?next"?', m.group(2)):
            return m.group(1)
    return None


def _env_seconds(name: str, default: float) -> float:
    """A number of seconds from the environment; the default when unset or not a number."""
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class GitHub:
    def __init__(self, token: str, repository: str, api_url: str = "https://api.github.com",
                 timeout: float = 30.0, max_wait: float | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 deadline: float | None = None) -> None:
        self._token = check_token(token)
        self.repository = check_repository(repository)
        self.api_url = check_api_url(api_url)
        self.timeout = timeout
        self.deadline = _env_seconds("CFCOMPAT_GITHUB_DEADLINE", DEFAULT_DEADLINE) if deadline is None else deadline
        self._started: float | None = None     # time.monotonic() of the first request
        self._me: str | None | bool = False     # the authenticated login; None: the token cannot say
        self.max_wait = _env_seconds("CFCOMPAT_GITHUB_MAX_WAIT", DEFAULT_MAX_WAIT) if max_wait is None else max_wait
        self.sleep = sleep
        self.clock = clock
        self.requests = 0
        handlers: list[Any] = [_NoRedirect()]
        if _loopback(urllib.parse.urlsplit(self.api_url).hostname):
            handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:
        return f"GitHub(repository={self.repository!r}, api_url={self.api_url!r})"

    # ------------------------------------------------------------------ plumbing
    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def _same_origin(self, url: str) -> bool:
        a, b = urllib.parse.urlsplit(self.api_url), urllib.parse.urlsplit(url)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)

    def request(self, method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, Any, Any]:
        """(status, headers, parsed JSON). Raises GitHubError."""
        if not url.startswith(("http://", "https://")):
            url = self.api_url + url
        if not self._same_origin(url):
            raise GitHubError(self._scrub(f"refusing to send the token to {urllib.parse.urlsplit(url).netloc}"))
        data = json.dumps(body).encode("utf-8") if body is not None else None
        attempt = 0
        where = f"{method} {self._where(url)}"
        if self._started is None:
            self._started = time.monotonic()
        while True:
            attempt += 1
            left = self.deadline - (time.monotonic() - self._started)
            if left <= 0:
                raise GitHubError(f"GitHub API: gave up on {where}: the requests took longer than "
                                  f"{self.deadline:g} s in all (CFCOMPAT_GITHUB_DEADLINE)")
            limit = min(self.timeout, left)
            req = urllib.request.Request(url, data=data, method=method)
            req.add_header("Accept", "application/vnd.github+json")
            req.add_header("X-GitHub-Api-Version", "2022-11-28")
            req.add_header("User-Agent", f"cfcompat/{__version__}")
            req.add_header("Authorization", f"Bearer {self._token}")
            if data is not None:
                req.add_header("Content-Type", "application/json; charset=utf-8")
            self.requests += 1
            try:
                status, headers, raw, failed = self._send(req, limit)
            except Exception as exc:
                raise self._failure(exc, where, limit) from None
            if failed:
                wait = self._retry_wait(status, headers)
                if wait is not None and attempt < 4:
                    if wait > self.max_wait:
                        raise GitHubError(self._scrub(
                            f"GitHub API rate limit ({status}) on {where}: GitHub asks to wait "
                            f"{int(wait + 0.999)} s, longer than the {int(self.max_wait)} s cfcompat waits "
                            "(CFCOMPAT_GITHUB_MAX_WAIT); try again later")) from None
                    self.sleep(max(wait, 0.0))
                    continue
                if status in (500, 502, 503, 504) and attempt < 3:
                    self.sleep(min(RETRY_BACKOFF * attempt, self.max_wait))
                    continue
                raise GitHubError(self._scrub(self._message(method, url, status, raw, wait is not None))) from None
            try:
                parsed = json.loads(raw.decode("utf-8")) if raw.strip() else None
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                raise GitHubError(self._scrub(f"GitHub API answered {where} with something "
                                              "that is not JSON")) from None
            return status, headers, parsed

    def _failure(self, exc: Exception, where: str, limit: float) -> GitHubError:
        """The one-line error for a request that failed before an HTTP answer (scrubbed of the token)."""
        if isinstance(exc, GitHubError):
            return GitHubError(self._scrub(str(exc)))
        if isinstance(exc, (_Late, TimeoutError)) or isinstance(getattr(exc, "reason", None), TimeoutError):
            if limit < self.timeout:
                return GitHubError(f"GitHub API: gave up on {where}: the requests took longer than "
                                   f"{self.deadline:g} s in all (CFCOMPAT_GITHUB_DEADLINE)")
            return GitHubError(f"GitHub API: {where} did not finish within {limit:g} s; giving up")
        if isinstance(exc, urllib.error.URLError):
            return GitHubError(self._scrub(f"cannot reach the GitHub API at {self.api_url}: {exc.reason}"))
        if isinstance(exc, OSError):
            return GitHubError(self._scrub(f"cannot reach the GitHub API at {self.api_url}: {exc}"))
        # ValueError, http.client.HTTPException, ...: never the text, which may quote a header
        return GitHubError(f"GitHub API: {where} failed ({type(exc).__name__})")

    def _send(self, req: urllib.request.Request, limit: float) -> tuple[int, Any, bytes, bool]:
        """(status, headers, body, failed) of REQ, all of it within LIMIT seconds (_Late otherwise): the
        exchange runs in a helper thread, so neither a slow connection nor an answer that trickles in a byte
        at a time can hold the caller longer."""
        box: dict[str, Any] = {}

        def read(resp: Any) -> bytes:
            chunks, total = [], 0
            reader = getattr(resp, "read1", None) or resp.read
            while True:
                chunk = reader(64 * 1024)
                if not chunk:
                    return b"".join(chunks)
                total += len(chunk)
                if total > MAX_ANSWER:
                    raise GitHubError(f"GitHub API: the answer to {req.get_method()} {self._where(req.full_url)} "
                                      f"is larger than {MAX_ANSWER // (1024 * 1024)} MiB")
                chunks.append(chunk)

        def run() -> None:
            try:
                try:
                    with self._opener.open(req, timeout=limit) as resp:
                        box["answer"] = (resp.status, resp.headers, read(resp), False)
                except urllib.error.HTTPError as exc:
                    try:
                        raw = read(exc)
                    except Exception:
                        raw = b""
                    finally:
                        exc.close()
                    box["answer"] = (exc.code, exc.headers, raw, True)
            except BaseException as exc:   # handed to the caller
                box["error"] = exc

        worker = threading.Thread(target=run, name="cfcompat-github", daemon=True)
        worker.start()
        worker.join(limit + 0.5)
        if worker.is_alive():
            raise _Late()
        if "error" in box:
            raise box["error"]
        return box["answer"]

    def _where(self, url: str) -> str:
        u = urllib.parse.urlsplit(url)
        return u.path

    def _retry_wait(self, status: int, headers: Any) -> float | None:
        """Seconds GitHub asks us to wait, or None when this is not a rate-limit answer."""
        if status not in (403, 429):
            return None
        retry_after = headers.get("Retry-After") if headers else None
        remaining = headers.get("x-ratelimit-remaining") if headers else None
        reset = headers.get("x-ratelimit-reset") if headers else None
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                return 60.0
        if remaining == "0" and reset is not None:
            try:
                return max(0.0, float(reset) - self.clock()) + 1.0
            except ValueError:
                return 60.0
        if status == 429:
            return 60.0
        return None

    def _message(self, method: str, url: str, status: int, raw: bytes, rate_limited: bool) -> str:
        detail = ""
        try:
            doc = json.loads(raw.decode("utf-8"))
            if isinstance(doc, dict):
                detail = str(doc.get("message") or "")
                errs = doc.get("errors")
                if isinstance(errs, list) and errs:
                    bits = [str(e.get("message") or e.get("code") or "") if isinstance(e, dict) else str(e)
                            for e in errs]
                    detail += " (" + "; ".join(b for b in bits if b) + ")"
        except Exception:
            pass
        detail = " ".join(detail.split())[:300]
        where = f"{method} {self._where(url)}"
        if status == 401:
            return f"GitHub API: bad credentials (401) on {where}: GITHUB_TOKEN is missing, invalid or expired"
        if status == 403:
            return (f"GitHub API: permission denied (403) on {where}: the token cannot write to {self.repository}. "
                    "Pull requests from forks get a read-only GITHUB_TOKEN; grant `permissions: pull-requests: "
                    "write` or post from a `pull_request_target` / `workflow_run` job"
                    + (f" ({detail})" if detail else ""))
        if status == 404:
            return (f"GitHub API: not found (404) on {where}: no such repository or pull request, or the token "
                    f"cannot see {self.repository}")
        if status == 422:
            return f"GitHub API: request rejected (422) on {where}" + (f": {detail}" if detail else "")
        if status in (300, 301, 302, 303, 307, 308):
            return f"GitHub API: unexpected redirect ({status}) on {where}; check GITHUB_API_URL"
        return f"GitHub API: HTTP {status} on {where}" + (f": {detail}" if detail else "")

    # ------------------------------------------------------------------ comments
    def _repo_path(self) -> str:
        owner, name = self.repository.split("/")
        return f"/repos/{urllib.parse.quote(owner)}/{urllib.parse.quote(name)}"

    def list_comments(self, number: int) -> Iterator[dict[str, Any]]:
        url: str | None = f"{self._repo_path()}/issues/{int(number)}/comments?per_page=100&page=1"
        pages = 0
        while url and pages < MAX_PAGES:
            pages += 1
            _status, headers, data = self.request("GET", url)
            if not isinstance(data, list):
                raise GitHubError("GitHub API: the comment list is not a list")
            yield from (c for c in data if isinstance(c, dict))
            url = _next_link(headers.get("Link") if headers else None)
            if url and not self._same_origin(url):
                raise GitHubError("GitHub API: pagination link points to another host; refusing to follow")

    def _check_body(self, body: str) -> None:
        if len(body) > MAX_COMMENT:
            raise GitHubError(f"the comment is {len(body):,} characters, over GitHub's limit of {MAX_COMMENT:,}; "
                              "not sent")

    def create_comment(self, number: int, body: str) -> dict[str, Any]:
        self._check_body(body)
        _s, _h, data = self.request("POST", f"{self._repo_path()}/issues/{int(number)}/comments", {"body": body})
        return data if isinstance(data, dict) else {}

    def update_comment(self, comment_id: int, body: str) -> dict[str, Any]:
        self._check_body(body)
        _s, _h, data = self.request("PATCH", f"{self._repo_path()}/issues/comments/{int(comment_id)}",
                                    {"body": body})
        return data if isinstance(data, dict) else {}

    def whoami(self) -> str | None:
        """The authenticated user's login, or None when the token cannot say (`GET /user` is refused to the
        Actions GITHUB_TOKEN and other app installation tokens)."""
        if self._me is False:
            try:
                _s, _h, data = self.request("GET", "/user")
                login = data.get("login") if isinstance(data, dict) else None
                self._me = login if isinstance(login, str) and login else None
            except GitHubError:
                self._me = None
        return self._me  # type: ignore[return-value]

    def find_marked(self, number: int, marker: str = MARKER) -> dict[str, Any] | None:
        """cfcompat's earlier comment: one whose body starts with MARKER and that the token's own identity wrote
        (the authenticated user; a bot, github-actions[bot] first, when the token cannot say who it is). A
        marked comment anyone else wrote is not ours to edit."""
        found = [c for c in self.list_comments(number) if str(c.get("body") or "").lstrip().startswith(marker)]
        if not found:
            return None

        def user(c: dict[str, Any]) -> dict[str, Any]:
            u = c.get("user")
            return u if isinstance(u, dict) else {}

        me = self.whoami()
        if me is not None:
            mine = [c for c in found if user(c).get("login") == me]
        else:
            mine = [c for c in found if user(c).get("type") == "Bot"]
            mine.sort(key=lambda c: user(c).get("login") != ACTIONS_BOT)
        return mine[0] if mine else None

    def upsert_comment(self, number: int, body: str, marker: str = MARKER) -> tuple[str, dict[str, Any]]:
        """Create the comment, or update (always, so its time stamp shows the last run) cfcompat's earlier one
        (see find_marked): never a second one of ours. Returns ('created' | 'updated', the comment)."""
        self._check_body(body)
        old = self.find_marked(number, marker)
        if old is None:
            return "created", self.create_comment(number, body)
        cid = old.get("id")
        if not isinstance(cid, int):
            raise GitHubError("GitHub API: the earlier comment has no id")
        return "updated", self.update_comment(cid, body)


def pr_number_from_event(path: str | None) -> int | None:
    """`pull_request.number` (or an issue comment's PR number) from the Actions event file."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            event = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(event, dict):
        return None
    pr = event.get("pull_request")
    if isinstance(pr, dict) and isinstance(pr.get("number"), int):
        return pr["number"]
    issue = event.get("issue")
    if isinstance(issue, dict) and "pull_request" in issue and isinstance(issue.get("number"), int):
        return issue["number"]
    if isinstance(event.get("number"), int) and "pull_request" in event:
        return event["number"]
    return None
