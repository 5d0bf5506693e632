"""Node HTTP servers: `listen()` on an app or server object, judged by the compatibility date."""
from __future__ import annotations

import re
from typing import Any

from ..model import Hit, RuleContext
from ...analyzer.parsing.facts import Call, FileFacts

# Receivers (qualified names) that are HTTP apps or servers.
SERVER_RECEIVERS = re.compile(
    r"^(express(\.default)?\(\)|koa(\.default)?\(\)|fastify(\.default|\.fastify)?\(\)|"
    r"(http|https)\.createServer\(\)|restify\.createServer\(\)|polka(\.default)?\(\)|connect(\.default)?\(\)|"
    r".*NestFactory\.create\(\)|feathers.*\(\)|@feathersjs/express.*\(\)|micro(\.default)?\(\)|"
    r"express\(\)\.use\(\)|express\(\)\.set\(\))$")
NOT_HTTP = re.compile(r"^(net|tls|dgram|ws|socket\.io|http2)\b")
PORTISH = re.compile(r"(?i)(^\d{2,5}$|port)")

# Globs (fnmatchcase): NodeServerListen judges calls whose name ends with `.listen`, and its message depends on
# whether any call in the repository (ctx.repo_calls) starts with one of the two cloudflare:node names.
CALLS: tuple[str, ...] = ("*.listen", "cloudflare:node.httpServerHandler*", "cloudflare:node.handleAsNodeRequest*")


def _port_like(c: Call) -> bool:
    if not c.args:
        return False
    a = c.args[0]
    if a.kind == "number":
        return True
    if a.kind in ("identifier", "member"):
        return bool(PORTISH.search(a.value or ""))
    if a.kind == "object":
        return "port" in a.props
    if a.kind == "other" or a.kind == "concat":
        return bool(PORTISH.search(a.text))
    if a.kind == "call":
        return bool(PORTISH.search(a.text))
    return False


class NodeServerListen:
    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        hits: list[Hit] = []
        date = ctx.settings.compatibility_date
        for c in facts.calls:
            if c.kind != "call" or not c.qname.endswith(".listen"):
                continue
            recv = c.qname[: -len(".listen")]
            if NOT_HTTP.match(recv):
                continue
            known = bool(SERVER_RECEIVERS.match(recv))
            if not known:
                # an app imported from another module or created elsewhere: require a port-like argument
                if not (recv.startswith(("~", ".", "/")) or "(" not in recv):
                    continue
                if not _port_like(c):
                    continue
            msg = sev = None
            if date < "2025-09-01" or not ctx.settings.nodejs_compat():
                sev = "blocker"
                msg = ("Starts an HTTP server with listen(); at compatibility date "
                       f"{date}{'' if ctx.settings.nodejs_compat() else ' without nodejs_compat'} the node:http "
                       "server modules are not available (they are on by default with nodejs_compat from "
                       "2025-09-01), and Workers bind no port.")
            elif any(q.startswith("cloudflare:node.httpServerHandler") or q.startswith("cloudflare:node.handleAsNodeRequest")
                     for q in ctx.repo_calls):
                sev = "info"
                msg = ("Starts an HTTP server with listen(); the Worker already hands requests to it "
                       "through httpServerHandler from cloudflare:node, which is how node:http servers run on Workers.")
            hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, guard=c.guard, message=msg,
                            severity=sev, top_level=c.top_level))
        return hits
