"""The PR-bot comment (`cfcompat pr-comment`): GitHub-flavoured markdown from a diff scan.

Everything that comes from the scanned repository (paths, snippets, messages that quote code, package names)
is rendered inert:
- snippets and quoted code go into code spans (or fenced blocks) delimited by more backticks than any run
  inside; in table cells `|` is escaped (GFM splits cells before parsing code spans);
- `@mention`, `#123`, `GH-1`, URLs and `www.` become code spans, so GitHub neither notifies nor links and the
  text stays exactly what it was (no invisible characters); other text has `<tag` and entities escaped
  (`</details>`, `<script>` show as text) and markdown punctuation escaped where it would change the rendering
  (reports/escape.py);
- link targets are built here (server/owner/repo/blob/sha/path#Lline) with the path percent-encoded.
The comment starts with the hidden marker `<!-- cfcompat-pr-comment -->` that the bot uses to find and update
its earlier comment instead of adding another.
"""
from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from .escape import code, inline, prose as _prose

MARKER = "<!-- cfcompat-pr-comment -->"
MAX_ROWS = 50
MAX_DETAILS = 30
MAX_BODY = 60000          # GitHub rejects comment bodies over 65536 characters
CLIP = 120                # when even that is too long: names, paths and versions are cut to this many characters
TARGET_NAMES = {"workers": "Cloudflare Workers", "python-workers": "Cloudflare Python Workers",
                "containers": "Cloudflare Containers", "durable-objects": "Cloudflare Durable Objects"}
ICONS = {"blocker": "⛔", "warning": "⚠️", "info": "ℹ️"}
LANGS = {".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "jsx", ".ts": "ts", ".mts": "ts", ".cts": "ts",
         ".tsx": "tsx", ".py": "python", ".json": "json", ".toml": "toml", ".txt": "text", ".cfg": "ini",
         ".yaml": "yaml", ".yml": "yaml", ".lock": "text"}


# ------------------------------------------------------------------------------------------------ escaping

def text(value: Any) -> str:
    """Untrusted prose, inline and one line (whitespace runs become one space, edges kept)."""
    return inline(value)


def prose(value: Any, table: bool = False, limit: int = 0) -> str:
    """Text that may quote code in `backticks` (rule messages): quoted parts become safe code spans."""
    return _prose(value, table=table, limit=limit)


def block(value: Any, lang: str = "") -> str:
    """A fenced code block that holds any text."""
    s = str(value if value is not None else "").replace("\r\n", "\n").replace("\r", "\n")
    lines = s.split("\n")[:12]
    s = "\n".join(ln[:300] for ln in lines)
    run = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * max(3, run + 1)
    return f"{fence}{lang}\n{s}\n{fence}"


# ------------------------------------------------------------------------------------------------ links

@dataclass
class Links:
    server: str            # https://github.com
    repository: str        # owner/repo
    head: str | None       # commit the head paths/lines belong to
    base: str | None       # commit the fixed findings' paths/lines belong to

    def url(self, path: str, line: int | None, base: bool = False) -> str | None:
        sha = self.base if base else self.head
        if not sha or not re.fullmatch(r"[0-9a-f]{7,64}", sha):
            return None
        owner_repo = "/".join(urllib.parse.quote(p, safe="") for p in self.repository.split("/"))
        u = f"{self.server.rstrip('/')}/{owner_repo}/blob/{sha}/{urllib.parse.quote(path, safe='/')}"
        if line:
            u += f"#L{int(line)}"
        return u


def where(path: str, line: int | None, links: Links | None, base: bool = False) -> str:
    label = text(f"{path}:{line}" if line else path)
    url = links.url(path, line, base) if links else None
    return f"[{label}]({url})" if url else label


def _lang(path: str) -> str:
    m = re.search(r"\.[A-Za-z0-9]+$", path or "")
    return LANGS.get(m.group(0).lower(), "") if m else ""


# ------------------------------------------------------------------------------------------------ rendering

def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def verdict_line(new: list[dict[str, Any]], fixed: list[dict[str, Any]], target: str) -> str:
    where_ = TARGET_NAMES.get(target, text(target))
    blockers = sum(1 for f in new if f.get("severity") == "blocker")
    warnings = sum(1 for f in new if f.get("severity") == "warning")
    fixes = sum(1 for f in fixed if f.get("severity") in ("blocker", "warning"))
    tail = f"; fixes {fixes}" if fixes else ""
    if blockers:
        more = f" and {_plural(warnings, 'warning')}" if warnings else ""
        return f"⛔ This PR adds {_plural(blockers, 'blocker')}{more} for {where_}{tail}"
    if warnings:
        return f"⚠️ This PR adds {_plural(warnings, 'warning')} for {where_}{tail}"
    return f"✅ No new problems for {where_}{tail}"


def render(doc: dict[str, Any], links: Links | None = None, max_rows: int = MAX_ROWS,
           max_details: int = MAX_DETAILS, prefix: str = "") -> str:
    """The comment from the JSON document of a diff scan (`diff` block present). `prefix` is the scanned folder
    relative to the repository root ('' or 'services/chat/'): paths and links in the comment are the
    repository's, as GitHub shows them."""
    if prefix:
        doc = _with_prefix(doc, prefix.strip("/") + "/")
    body = _render(doc, links, max_rows, max_details)
    while len(body) > MAX_BODY and (max_details > 0 or max_rows > 5):
        if max_details > 0:
            max_details = max_details // 2 if max_details > 1 else 0
        else:
            max_rows = max(5, max_rows // 2)
        body = _render(doc, links, max_rows, max_details)
    if len(body) > MAX_BODY:     # long names (a path, a package version): cut them, then the table rows
        full = len(body)
        body = _render(doc, links, max_rows, 0, clip=CLIP, full=full)
        if len(body) > MAX_BODY:
            body = _render(doc, links, 0, 0, clip=CLIP, full=full)
    return body


def _with_prefix(doc: dict[str, Any], prefix: str) -> dict[str, Any]:
    diff = dict(doc.get("diff") or {})
    for key in ("new", "fixed"):
        diff[key] = [dict(f, path=prefix + f["path"]) if f.get("path") else f for f in diff.get(key) or []]
    for key in ("dependencies_added", "dependencies_changed", "dependencies_removed"):
        diff[key] = [dict(d, manifest=prefix + d["manifest"]) if d.get("manifest") else d
                     for d in diff.get(key) or []]
    return dict(doc, diff=diff)


def _cut(value: Any, clip: int) -> Any:
    s = str(value if value is not None else "")
    return s if not clip or len(s) <= clip else s[:clip - 1] + "…"


def _render(doc: dict[str, Any], links: Links | None, max_rows: int, max_details: int, clip: int = 0,
            full: int = 0) -> str:
    """CLIP > 0: every name, path and version is cut to CLIP characters and the comment says it was shortened
    from FULL characters (the verdict, the counts and the section titles always stay)."""
    def c(value: Any) -> Any:
        return _cut(value, clip)

    def at(path: str, line: Any, base: bool = False) -> str:
        short = c(path)
        return where(short, line, links if short == path else None, base)

    diff = doc.get("diff") or {}
    target = str(doc.get("target") or "workers")
    new = list(diff.get("new") or [])
    fixed = list(diff.get("fixed") or [])
    shown = [f for f in new if f.get("severity") in ("blocker", "warning")]
    shown.sort(key=lambda f: (0 if f.get("severity") == "blocker" else 1, f.get("path", ""), f.get("line", 0)))
    infos = [f for f in new if f.get("severity") == "info"]
    fixed_shown = [f for f in fixed if f.get("severity") in ("blocker", "warning")]
    out: list[str] = [MARKER, f"### {verdict_line(new, fixed, target)}", ""]

    version = re.sub(r"[^0-9A-Za-z.+-]", "", str((doc.get("tool") or {}).get("version", "")))
    meta = [f"cfcompat {version}", f"target {code(target)}"]
    base, head = diff.get("base"), diff.get("head")
    if base:
        rel = "merge-base with" if diff.get("base_is_merge_base", True) else "compared with"
        meta.append(f"base {code(str(base)[:10])} ({rel} {code(c(diff.get('base_ref', '')))})")
    if head:
        meta.append(f"head {code(str(head)[:10])}")
    hidden = (doc.get("summary") or {}).get("baseline_hidden")
    if hidden:
        meta.append(f"{hidden} hidden by the baseline")
    out += ["<sub>" + " · ".join(meta) + "</sub>", ""]
    if (doc.get("summary") or {}).get("partial"):
        out += ["> [!WARNING]", "> Partial result: the run reached its time limit (`--max-seconds`), so some "
                "files were not scanned or compared; findings listed as new may not be.", ""]
    if clip:
        out += ["> [!NOTE]", f"> Shortened: the full comment came to {full:,} characters, over GitHub's limit of "
                "65,536 for a comment, so names, paths and versions are cut to "
                f"{clip} characters" + (" and the tables list no rows" if max_rows == 0 else "")
                + ". The JSON or SARIF report (`cfcompat scan --diff-base`) has everything.", ""]

    if shown:
        out += [f"**New in this PR ({len(shown)})**", "", "| | rule | where | problem |", "|---|---|---|---|"]
        for f in shown[:max_rows]:
            sev = f.get("severity", "")
            note = " (was " + text(c(f.get("base_severity"))) + ")" if f.get("change") == "severity-rose" else ""
            out.append(f"| {ICONS.get(sev, '')} {text(c(sev))}{note} | {code(c(f.get('rule_id')), table=True)} | "
                       f"{at(f.get('path', ''), f.get('line'))} | "
                       f"{prose(f.get('message'), table=True, limit=220)} |")
        if len(shown) > max_rows:
            out.append(f"| | | | …and {len(shown) - max_rows} more (see the JSON or SARIF report) |")
        out.append("")
    if infos:
        out += [f"<sub>Also {_plural(len(infos), 'new info note')} (test, build or guarded code; "
                "no action needed).</sub>", ""]

    if fixed_shown:
        out += [f"**Fixed by this PR ({len(fixed_shown)})**", "", "| | rule | where (base) |", "|---|---|---|"]
        for f in fixed_shown[:max_rows]:
            out.append(f"| ✅ {text(c(f.get('severity')))} | {code(c(f.get('rule_id')), table=True)} | "
                       f"{at(f.get('path', ''), f.get('line'), base=True)} |")
        if len(fixed_shown) > max_rows:
            out.append(f"| | | …and {len(fixed_shown) - max_rows} more |")
        out.append("")

    deps = [("added", d) for d in diff.get("dependencies_added") or []] + \
           [("changed", d) for d in diff.get("dependencies_changed") or []] + \
           [("removed", d) for d in diff.get("dependencies_removed") or []]
    if deps:
        out += [f"**Dependency changes ({len(deps)})**", "", "| | package | version | manifest | verdict |",
                "|---|---|---|---|---|"]
        for kind, d in deps[:max_rows]:
            version = code(c(d.get("version") or ""), table=True)
            if kind == "changed":
                version = code(c((d.get("from") or {}).get("version") or ""), table=True) + " → " + version
            verdict = str(c(d.get("verdict") or "unknown"))
            icon = {"incompatible": "⛔ ", "replace": "⚠️ "}.get(verdict, "") if kind != "removed" else ""
            extra = ""
            if kind != "removed" and d.get("replacement") and verdict in ("incompatible", "replace"):
                extra = ": use " + prose(d.get("replacement"), table=True, limit=140)
            dev = " (dev)" if d.get("dev") else ""
            out.append(f"| {kind} | {code(c(d.get('name')), table=True)}{dev} | {version} | "
                       f"{text(c(d.get('manifest')))} | {icon}{text(verdict)}{extra} |")
        if len(deps) > max_rows:
            out.append(f"| | | | | …and {len(deps) - max_rows} more |")
        out.append("")

    if shown and max_details > 0:
        out += ["<details>", f"<summary>What breaks and what to do instead ({len(shown)})</summary>", ""]
        for f in shown[:max_details]:
            sev = f.get("severity", "")
            out += [f"#### {ICONS.get(sev, '')} {code(f.get('rule_id'))} at {where(f.get('path', ''), f.get('line'), links)}",
                    ""]
            if f.get("snippet"):
                out += [block(f.get("snippet"), _lang(f.get("path", ""))), ""]
            out += [prose(f.get("message")), ""]
            if f.get("remediation"):
                out += ["**Instead:** " + prose(f.get("remediation")), ""]
            docs = [u for u in f.get("docs") or [] if re.fullmatch(r"https://[^\s()<>\[\]\"'`]+", str(u))]
            if docs:
                out += ["Docs: " + " · ".join(f"[{text(_short(u))}]({u})" for u in docs[:3]), ""]
            if f.get("note"):
                out += [f"<sub>{prose(f.get('note'))}</sub>", ""]
        if len(shown) > max_details:
            out += [f"…and {len(shown) - max_details} more in the JSON or SARIF report.", ""]
        out += ["</details>", ""]

    if not shown and not fixed_shown and not deps:
        out += ["Nothing in this change affects Cloudflare compatibility.", ""]
    out.append("<sub>Posted by `cfcompat pr-comment`; updated in place on every run.</sub>")
    return "\n".join(out) + "\n"


def _short(url: str) -> str:
    u = urllib.parse.urlsplit(url)
    path = u.path.rstrip("/")
    return (u.netloc + (path if len(path) < 50 else path[:47] + "…")) or url
