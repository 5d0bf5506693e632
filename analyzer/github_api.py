"""A small GitHub REST client (stdlib urllib) for the PR comment: list, create, update issue comments.

- `GET /repos/{o}/{r}/issues/{n}/comments?per_page=100&page=k`, following `Link: <...>; rel="next"` (only to
  the same API origin), `POST /repos/{o}/{r}/issues/{n}/comments`, `PATCH /repos/{o}/{r}/issues/comments/{id}`.
- The token travels only in the Authorization header, never in a URL; every message this module produces is
  scrubbed of it; redirects are refused (urllib would forward the header); a plain-http API URL is accepted only
  on a loopback address (tests).
- Errors become one-line `GitHubError`s: 401 bad token, 403 no permission (forks get a read-only token), 404,
  422, and rate limits (429, or 403 with Retry-After / x-ratelimit-remaining: 0): cfcompat waits when GitHub
  asks for at most `max_wait` seconds (default 60, `CFCOMPAT_GITHUB_MAX_WAIT`), then gives up clearly.
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Iterator

from . import __version__

MARKER = "<!-- cfcompat-pr-comment -->"
MAX_PAGES = 100
DEFAULT_MAX_WAIT = 60.0
RETRY_BACKOFF = 2.0       # seconds per attempt after a 5xx answer (two retries)


class GitHubError(Exception):
    """A GitHub API failure, one line, without the token."""


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


class GitHub:
    def __init__(self, token: str, repository: str, api_url: str = "https://api.github.com",
                 timeout: float = 30.0, max_wait: float | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time) -> None:
        if not token or not token.strip():
            raise GitHubError("GITHUB_TOKEN is empty")
        self._token = token.strip()
        self.repository = check_repository(repository)
        self.api_url = check_api_url(api_url)
        self.timeout = timeout
        if max_wait is None:
            try:
                max_wait = float(os.environ.get("CFCOMPAT_GITHUB_MAX_WAIT", DEFAULT_MAX_WAIT))
            except ValueError:
                max_wait = DEFAULT_MAX_WAIT
        self.max_wait = max_wait
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
        while True:
            attempt += 1
            req = urllib.request.Request(url, data=data, method=method)
            req.add_header("Accept", "application/vnd.github+json")
            req.add_header("X-GitHub-Api-Version", "2022-11-28")
            req.add_header("User-Agent", f"cfcompat/{__version__}")
            req.add_header("Authorization", f"Bearer {self._token}")
            if data is not None:
                req.add_header("Content-Type", "application/json; charset=utf-8")
            self.requests += 1
            try:
                with self._opener.open(req, timeout=self.timeout) as resp:
                    raw = resp.read()
                    status, headers = resp.status, resp.headers
            except urllib.error.HTTPError as exc:
                status, headers = exc.code, exc.headers
                try:
                    raw = exc.read()
                except Exception:
                    raw = b""
                finally:
                    exc.close()
                wait = self._retry_wait(status, headers)
                if wait is not None and attempt < 4:
                    if wait > self.max_wait:
                        raise GitHubError(self._scrub(
                            f"GitHub API rate limit ({status}) on {method} {self._where(url)}: GitHub asks to wait "
                            f"{int(wait + 0.999)} s, longer than the {int(self.max_wait)} s cfcompat waits "
                            "(CFCOMPAT_GITHUB_MAX_WAIT); try again later")) from None
                    self.sleep(max(wait, 0.0))
                    continue
                if status in (500, 502, 503, 504) and attempt < 3:
                    self.sleep(min(RETRY_BACKOFF * attempt, self.max_wait))
                    continue
                raise GitHubError(self._scrub(self._message(method, url, status, raw, wait is not None))) from None
            except urllib.error.URLError as exc:
                raise GitHubError(self._scrub(f"cannot reach the GitHub API at {self.api_url}: {exc.reason}")) from None
            except (TimeoutError, OSError) as exc:
                raise GitHubError(self._scrub(f"cannot reach the GitHub API at {self.api_url}: {exc}")) from None
            try:
                parsed = json.loads(raw.decode("utf-8")) if raw.strip() else None
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise GitHubError(self._scrub(f"GitHub API answered {method} {self._where(url)} with something "
                                              "that is not JSON")) from None
            return status, headers, parsed

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

    def create_comment(self, number: int, body: str) -> dict[str, Any]:
        _s, _h, data = self.request("POST", f"{self._repo_path()}/issues/{int(number)}/comments", {"body": body})
        return data if isinstance(data, dict) else {}

    def update_comment(self, comment_id: int, body: str) -> dict[str, Any]:
        _s, _h, data = self.request("PATCH", f"{self._repo_path()}/issues/comments/{int(comment_id)}",
                                    {"body": body})
        return data if isinstance(data, dict) else {}

    def find_marked(self, number: int, marker: str = MARKER) -> dict[str, Any] | None:
        """The earlier cfcompat comment: a comment whose body starts with MARKER; a bot's first when several."""
        found = [c for c in self.list_comments(number) if str(c.get("body") or "").lstrip().startswith(marker)]
        if not found:
            return None
        bots = [c for c in found if str((c.get("user") or {}).get("type") or "") == "Bot"]
        return (bots or found)[0]

    def upsert_comment(self, number: int, body: str, marker: str = MARKER) -> tuple[str, dict[str, Any]]:
        """Create the comment, or update (always, so its time stamp shows the last run) the earlier one carrying
        MARKER: never a second one. Returns ('created' | 'updated', the comment)."""
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
