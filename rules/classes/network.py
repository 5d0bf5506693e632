"""Listening sockets: raw TCP, TLS and UDP servers.

Cloudflare accepts no inbound TCP or UDP from clients: a Worker gets only HTTP(S) requests, and a Container is
reachable only through a Worker and its Durable Object. In workerd, net.createServer().listen(8081) "listens"
(address 0.0.0.0:8081) without opening a port, tls.createServer() throws "Error: Not implemented", and node:dgram
is a stub whose bind() does nothing; Python Workers have no functional raw sockets.

Some of these calls are also stubs that the runtime-api rules report on Workers (`node-api-stub`: tls servers;
`py-raw-socket`: socket.create_server, asyncio.start_server, ...). On such a line this rule stays silent for
that target, so one line gets one finding; on Containers, where those rules do not apply, it reports them.

Valid:
    const sock = net.connect(6379, host)              # outbound TCP works (connect() underneath)
    import { connect } from 'cloudflare:sockets'
    http.createServer(app).listen(3000)               # HTTP: judged by server-listen
Invalid:
    net.createServer(onClient).listen(7000)
    udp.bind(5140)                                    # udp = dgram.createSocket('udp4')
    socketserver.ThreadingTCPServer(("", 9000), Handler)
"""
from __future__ import annotations

from functools import lru_cache

from typing import Any

from ..matching import match_calls, match_imports, rule_class
from ..model import Hit, RuleContext
from ...analyzer.parsing.facts import Call, FileFacts
from .runtime import CALLS as _RUNTIME_CALLS

JS_SERVERS = ("net.createServer", "net.Server", "tls.createServer", "tls.Server", "dgram.createSocket().bind",
              "dgram.Socket().bind")
PY_SERVERS = ("socket.socket().bind", "socket.create_server", "socketserver.*Server", "asyncio.start_server",
              "asyncio.start_unix_server", "asyncio.*().create_server", "asyncio.*().create_unix_server",
              "asyncio.*().create_datagram_endpoint", "trio.serve_tcp", "trio.open_tcp_listeners",
              "anyio.create_tcp_listener", "anyio.create_udp_socket", "gevent.server.StreamServer",
              "twisted.internet.reactor.listenTCP", "twisted.internet.reactor.listenUDP")
# keyword that makes a datagram endpoint a server (it binds a local address)
NEEDS_KW = {"asyncio.*().create_datagram_endpoint": "local_addr", "anyio.create_udp_socket": "local_port"}
# rules that report some of the same calls on Workers
DEFER_TO = {"javascript": "node-api-stub", "typescript": "node-api-stub", "python": "py-raw-socket"}

# Globs (fnmatchcase) over every call this module reacts to. _matches() splits a pattern at its one `*` into a
# head and a tail, which is what the glob `head*tail` means, so the server patterns are used as they are. The
# DEFER_TO rules decide which lines stay silent, so their calls count too: node-api-stub is runtime.NodeApiStub
# (its names are runtime.CALLS); py-raw-socket is a YAML `calls` rule, whose patterns are covered with the YAML.
CALLS: tuple[str, ...] = tuple(dict.fromkeys(JS_SERVERS + PY_SERVERS + _RUNTIME_CALLS))


def _matches(qname: str, pattern: str) -> bool:
    """`a.*Server` / `asyncio.*().create_server`: one `*` standing for any text (no fnmatch: names hold `[]`)."""
    if "*" not in pattern:
        return qname == pattern
    head, _, tail = pattern.partition("*")
    return len(qname) >= len(head) + len(tail) and qname.startswith(head) and qname.endswith(tail)


def server_pattern(c: Call, language: str) -> str | None:
    if c.kind not in ("call", "new"):
        return None
    p = _server_pattern(c.qname, language == "python")
    if p is None:
        return None
    kw = NEEDS_KW.get(p)
    if kw and kw not in c.kwargs:
        return None
    return p


@lru_cache(maxsize=1 << 16)
def _server_pattern(qname: str, python: bool) -> str | None:
    for p in (PY_SERVERS if python else JS_SERVERS):
        if _matches(qname, p):
            return p
    return None


def reported_lines(rule_id: str, facts: FileFacts, ctx: RuleContext) -> set[int]:
    """Lines on which another rule reports a non-info finding for this target (empty if it is absent)."""
    from ..loader import rules_by_id
    r = rules_by_id().get(rule_id)
    if r is None or facts.language not in r.languages or r.severity_for(ctx.target) is None:
        return set()
    try:
        if r.cls:
            hits = rule_class(r.cls).check(r, facts, ctx)
        else:
            hits = (match_calls(r, facts) if "calls" in r.match else []) + \
                   (match_imports(r, facts) if "imports" in r.match else [])
    except Exception:  # the other rule's bug must not hide this one's findings
        return set()
    return {h.line for h in hits if h.severity != "info"}


class SocketServer:
    """`socket-server-listen`."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        lang = facts.language
        found = [(c, p) for c in facts.calls if (p := server_pattern(c, lang)) is not None]
        if not found:
            return []
        other = DEFER_TO.get(lang)
        taken = reported_lines(other, facts, ctx) if other else set()
        hits = []
        for c, p in found:
            if c.line in taken:
                continue
            if p == "socket.socket().bind" and taken:
                continue  # py-raw-socket already reports the socket.socket() this binds: same cause
            hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, guard=c.guard, top_level=c.top_level))
        return hits
