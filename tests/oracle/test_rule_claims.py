"""The runtime claims behind the JS rules (rule packs' message/why and node_modules.yaml globals), each run in
workerd: filesystem, subprocess, network, dynamic code, WebAssembly, global scope, process.env, globals, state.

A claim is a snippet plus what the rule says happens (works / throws / fails at startup). Snippets that run in
a handler are batched: one `workerd test` run per (compatibility date, flags). Global-scope snippets get a Worker
each (a failure there stops the Worker). Claims that need two requests or a port run in `workerd serve`.
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

import pytest

from cfcompat.analyzer.oracle import PRELUDE, Module, js, port_open, serve
from cfcompat.rules.classes.runtime import node_table

from known_contradictions import xfail_if_known
from probes import NEWEST, day_before

TABLE = node_table()
G = TABLE.globals
COMPAT = ("nodejs_compat",)
EVAL_DATE = "2025-06-01"           # allow_eval_during_startup (dynamic-code-global-scope)
ENV_DATE = G["process_env"]["populated_from"]
HTTP_SERVER_DATE = TABLE.modules["http"].features["server"]["default_date"]

# a 41-byte module exporting add(a, b) (shared/reference/oracle-probes/wasm.txt)
WASM = base64.b64decode("AGFzbQEAAAABBwFgAn9/AX8DAgEABwcBA2FkZAAACgkBBwAgACABags=")
WASM_JS = "new Uint8Array([" + ",".join(str(b) for b in WASM) + "])"
EVAL_ERR = "EvalError: Code generation from strings disallowed for this context"
WASM_ERR = "Wasm code generation disallowed by embedder"
GLOBAL_ERR = "Disallowed operation called within global scope"
NOT_IMPL = "ERR_METHOD_NOT_IMPLEMENTED"


@dataclass
class Claim:
    rule: str                    # rule id (or node_modules.yaml key) the claim backs
    what: str                    # the snippet in words
    code: str                    # JS: handler scope -> expression (may use await); global -> statements
    expect: str                  # works | throws | startup-fails
    match: str | None = None     # must occur in "value" (works) or "ErrName: message code=CODE" (throws/startup)
    date: str = NEWEST
    flags: tuple[str, ...] = ()
    scope: str = "handler"       # handler | global
    bindings: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        cfg = self.date + ("+" + "+".join(self.flags) if self.flags else "")
        return f"{self.rule}: {self.what} @{cfg}"


def _fs(rule, what, code, expect, match=None, **kw):
    return Claim(rule, what, code, expect, match, **kw)


HANDLER_CLAIMS: list[Claim] = [
    # ---- filesystem (node:fs virtual FS, date >= 2025-09-15)
    _fs("fs-persistent-write", "fs.writeFileSync('/home/x') fails ENOENT", "fs.writeFileSync('/home/x', 'a')",
        "throws", "ENOENT"),
    _fs("fs-persistent-write", "fs.writeFileSync('/bundle/new') fails EPERM", "fs.writeFileSync('/bundle/new', 'a')",
        "throws", "EPERM"),
    _fs("fs-persistent-write", "fs.promises.writeFile('data/jobs.json') (cwd /bundle) fails",
        "fs.promises.writeFile('data/jobs.json', '{}')", "throws", r"ENOENT|EPERM"),
    _fs("fs-persistent-write", "fs.mkdirSync('/var/data', {recursive}) fails",
        "fs.mkdirSync('/var/data', { recursive: true })", "throws", r"ENOENT|EPERM"),
    _fs("file-logging", "fs.appendFileSync('logs/app.log') fails", "fs.appendFileSync('logs/app.log', 'x\\n')",
        "throws", r"ENOENT|EPERM"),
    _fs("fs-tmp-write", "fs.writeFileSync('/tmp/x') then readFileSync works",
        "(fs.writeFileSync('/tmp/x', 'a'), fs.readFileSync('/tmp/x', 'utf8'))", "works", "a"),
    _fs("fs-tmp-write", "mkdirSync('/tmp/d') + write inside works",
        "(fs.mkdirSync('/tmp/d', { recursive: true }), fs.writeFileSync('/tmp/d/y', 'b'), fs.readdirSync('/tmp/d'))",
        "works", "y"),
    _fs("fs-temp-files", "fs.mkdtempSync(os.tmpdir() + 'up-') works",
        "fs.mkdtempSync(path.join(os.tmpdir(), 'up-'))", "works", "/tmp/up-"),
    _fs("fs-read-project-file", "fs.readFileSync('./package.json') fails ENOENT /bundle/package.json",
        "fs.readFileSync('./package.json', 'utf8')", "throws", "/bundle/package.json"),
    _fs("static-files-from-disk", "fs.readFileSync('public/index.html') fails ENOENT",
        "fs.readFileSync('public/index.html')", "throws", "ENOENT"),
    _fs("fs-read-project-file", "process.cwd() is /bundle", "process.cwd()", "works", "/bundle"),
    _fs("fs-read-project-file", "__dirname is undefined in ES modules", "typeof __dirname", "works", "undefined"),
    _fs("node:fs", "root holds exactly bundle, tmp, dev", "fs.readdirSync('/').sort().join(',')", "works",
        "bundle,dev,tmp"),
    _fs("node:fs", "/bundle lists the uploaded modules", "fs.readdirSync('/bundle')", "works", "probe.mjs"),
    _fs("node:fs", "/bundle/<module> is readable", "fs.readFileSync('/bundle/probe.mjs', 'utf8').length > 0",
        "works", "True"),
    _fs("node:fs", "/dev holds null, zero, full, random", "fs.readdirSync('/dev').sort().join(',')", "works",
        "full,null,random,zero"),
    _fs("runtime-config-files", "fs.readFileSync('config/default.json') fails", "fs.readFileSync('config/default.json')",
        "throws", "ENOENT"),
    _fs("dotenv-loading", "fs.readFileSync('.env') fails (dotenv loads nothing)", "fs.readFileSync('.env')",
        "throws", "ENOENT"),
    # ---- subprocess
    _fs("subprocess-git-cli", "child_process.execSync('git status') throws not implemented",
        "cp.execSync('git status')", "throws", NOT_IMPL),
    _fs("subprocess-exec", "child_process.spawn('ls') throws not implemented", "cp.spawn('ls')", "throws", NOT_IMPL),
    _fs("subprocess-exec", "child_process.fork('x.js') throws not implemented", "cp.fork('x.js')", "throws", NOT_IMPL),
    _fs("subprocess-exec", "child_process.exec('ls', cb) throws", "cp.exec('ls', () => {})", "throws"),
    _fs("subprocess-headless-browser", "child_process.spawn('chromium', args) throws not implemented",
        "cp.spawn('chromium', ['--headless'])", "throws", NOT_IMPL),
    # ---- threads
    _fs("background-thread", "new worker_threads.Worker() throws not implemented", "new wt.Worker('x.js')", "throws",
        NOT_IMPL),
    _fs("background-thread", "cluster.fork() throws not implemented", "cluster.fork()", "throws", NOT_IMPL),
    # ---- network
    _fs("socket-server-listen", "net.createServer().listen(port, cb) calls back (virtual)",
        "new Promise((res) => { const s = net.createServer(); s.listen(18081, () => res(s.address())); })",
        "works", "18081"),
    _fs("socket-server-listen", "tls.createServer() throws Not implemented", "tls.createServer()", "throws",
        "Not implemented"),
    _fs("socket-server-listen", "dgram.createSocket('udp4').bind() does not throw",
        "(dgram.createSocket('udp4').bind(18082), 'bound')", "works", "bound"),
    _fs("server-listen", "http.createServer(h).listen(port, cb) calls back (virtual)",
        "new Promise((res) => { const s = http.createServer((q, r) => r.end('x')); s.listen(18080, () => res(s.address())); })",
        "works", "18080"),
    # ---- dynamic code in handlers (every date)
    _fs("eval-in-handler", "eval('1+1') in a handler throws EvalError", "eval('1+1')", "throws", EVAL_ERR),
    _fs("eval-in-handler", "new Function('return 1') in a handler throws EvalError", "new Function('return 1')()",
        "throws", EVAL_ERR),
    _fs("eval-in-handler", "eval in a handler throws at an old date too", "eval('1+1')", "throws", EVAL_ERR,
        date=G["nodejs_compat"]["v2_date"], flags=COMPAT),
    _fs("template-engine-codegen", "new Function(template source) in a handler throws EvalError",
        "new Function('it', 'return `<p>${it.x}</p>`')({ x: 1 })", "throws", EVAL_ERR),
    _fs("node-vm-module", "vm.runInNewContext('1+1') throws not implemented", "vm.runInNewContext('1+1')", "throws",
        NOT_IMPL),
    _fs("node-vm-module", "new vm.Script('1') constructs", "typeof new vm.Script('1')", "works", "object"),
    # ---- WebAssembly
    _fs("wasm-compile-in-handler", "WebAssembly.compile(bytes) in a handler throws CompileError",
        f"WebAssembly.compile({WASM_JS})", "throws", WASM_ERR),
    _fs("wasm-compile-in-handler", "WebAssembly.instantiate(bytes) in a handler throws CompileError",
        f"WebAssembly.instantiate({WASM_JS})", "throws", WASM_ERR),
    _fs("wasm-compile-in-handler", "new WebAssembly.Module(bytes) in a handler throws CompileError",
        f"new WebAssembly.Module({WASM_JS})", "throws", WASM_ERR),
    _fs("wasm-compile-in-handler", "an imported .wasm module instantiates (add(2,3) = 5)",
        "(await WebAssembly.instantiate(addWasm)).exports.add(2, 3)", "works", "5"),
    # ---- process.env (config.yaml env-var-read / dotenv-loading, node_modules.yaml globals.process_env)
    _fs("env-var-read", f"process.env.X is filled from a var from {ENV_DATE}", "process.env.X", "works", "bound",
        date=ENV_DATE, flags=COMPAT, bindings={"X": "bound"}),
    _fs("env-var-read", f"process.env.X is empty before {ENV_DATE}", "process.env.X", "works", "undefined",
        date=day_before(ENV_DATE), flags=COMPAT, bindings={"X": "bound"}),
    _fs("env-var-read", f"process.env.X is filled before {ENV_DATE} with {G['process_env']['flag']}",
        "process.env.X", "works", "bound", date=day_before(ENV_DATE), flags=COMPAT + (G["process_env"]["flag"],),
        bindings={"X": "bound"}),
    _fs("env-var-read", "process is undefined without nodejs_compat", "process.env.X", "throws",
        "process is not defined", date=day_before(TABLE.default_on_from), bindings={"X": "bound"}),
    _fs("env-var-read", f"process.env.X is filled from {TABLE.default_on_from} without flags", "process.env.X",
        "works", "bound", date=TABLE.default_on_from, bindings={"X": "bound"}),
    # ---- globals (node_modules.yaml globals)
    *[_fs("globals_present", f"typeof {g} is defined", f"typeof globalThis.{g}", "works", r"^(object|function)$")
      for g in G["globals_present"]],
    *[_fs("globals_undefined_in_esm", f"typeof {g} is undefined in ES modules", f"typeof {g}", "works", "^undefined$")
      for g in G["globals_undefined_in_esm"]],
    _fs("nodejs_compat.v2_date", "bare 'path' import works with v2 semantics", "Object.keys(await import('path')).length > 0",
        "works", "True", date=G["nodejs_compat"]["v2_date"], flags=COMPAT),
    _fs("nodejs_compat.v2_date", "bare 'path' import fails before v2", "import('path')", "throws", "No such module",
        date=day_before(G["nodejs_compat"]["v2_date"]), flags=COMPAT),
    _fs("nodejs_compat.v2_date", "Buffer global exists with v2", "typeof Buffer", "works", "function",
        date=G["nodejs_compat"]["v2_date"], flags=COMPAT),
    _fs("nodejs_compat.v2_date", "Buffer global is missing before v2", "typeof globalThis.Buffer", "works", "undefined",
        date=day_before(G["nodejs_compat"]["v2_date"]), flags=COMPAT),
    _fs("nodejs_compat.without", "Buffer/process globals are undefined without nodejs_compat",
        "[typeof globalThis.Buffer, typeof globalThis.process].join(',')", "works", "undefined,undefined",
        date=day_before(TABLE.default_on_from)),
    _fs("nodejs_compat.without", "node:fs import fails without nodejs_compat", "import('node:fs')", "throws",
        'No such module "node:fs"', date="2026-07-01"),
    # ---- node:http server half dated separately (features.server)
    _fs("clock-at-load", "Date.now() in a handler is the real time (after 2020)", "Date.now() > 1.6e12", "works",
        "True"),
    _fs("node:http features.server", f"http.createServer() fails before {HTTP_SERVER_DATE}",
        "http.createServer(() => {})", "throws", None, date=day_before(HTTP_SERVER_DATE), flags=COMPAT),
    _fs("node:http features.server", f"http.createServer() works from {HTTP_SERVER_DATE}",
        "typeof http.createServer(() => {})", "works", "object", date=HTTP_SERVER_DATE, flags=COMPAT),
]

GLOBAL_CLAIMS: list[Claim] = [
    Claim("timer-global-scope", "setInterval at global scope fails startup", "setInterval(() => {}, 1000);",
          "startup-fails", GLOBAL_ERR, scope="global"),
    Claim("timer-global-scope", "setTimeout at global scope fails startup", "setTimeout(() => {}, 10);",
          "startup-fails", GLOBAL_ERR, scope="global"),
    Claim("timer-global-scope", "top-level await of a timer fails startup",
          "await new Promise((r) => setTimeout(r, 1));", "startup-fails", GLOBAL_ERR, scope="global"),
    Claim("global-scope-io", "crypto.getRandomValues at global scope fails startup",
          "crypto.getRandomValues(new Uint8Array(8));", "startup-fails", GLOBAL_ERR, scope="global"),
    Claim("global-scope-io", "crypto.randomUUID at global scope fails startup", "crypto.randomUUID();",
          "startup-fails", GLOBAL_ERR, scope="global"),
    Claim("global-scope-io", "node:crypto randomBytes at global scope fails startup",
          "nodeCrypto.randomBytes(8);", "startup-fails", GLOBAL_ERR, scope="global"),
    Claim("global-scope-io", "await fetch() at global scope fails startup", "await fetch('http://example.com/');",
          "startup-fails", GLOBAL_ERR, scope="global"),
    Claim("global-scope-io", "un-awaited fetch() at global scope: startup goes on, the promise rejects with the "
                             "global-scope error (the rule's message says so)",
          "fetch('http://example.com/').then(() => { globalThis.__v = 'sent'; }, "
          "(e) => { globalThis.__v = String(e && e.message); });",
          "works", GLOBAL_ERR, scope="global"),
    Claim("clock-at-load", "Date.now() at global scope is 0", "globalThis.__v = Date.now();", "works", r"^0$",
          scope="global"),
    Claim("clock-at-load", "new Date() at global scope is the epoch", "globalThis.__v = new Date().toISOString();",
          "works", "1970-01-01T00:00:00.000Z", scope="global"),
    Claim("global-scope-io", "Math.random() at global scope works (not reported)", "globalThis.__v = Math.random() < 1;",
          "works", "true", scope="global"),
    Claim("dynamic-code-global-scope", f"eval at global scope works from {EVAL_DATE}", "globalThis.__v = eval('1+1');",
          "works", "2", date=EVAL_DATE, flags=COMPAT, scope="global"),
    Claim("dynamic-code-global-scope", f"eval at global scope fails startup before {EVAL_DATE}",
          "globalThis.__v = eval('1+1');", "startup-fails", EVAL_ERR, date=day_before(EVAL_DATE), flags=COMPAT,
          scope="global"),
    Claim("dynamic-code-global-scope", f"new Function at global scope fails startup before {EVAL_DATE}",
          "globalThis.__v = new Function('return 1')();", "startup-fails", EVAL_ERR, date=day_before(EVAL_DATE),
          flags=COMPAT, scope="global"),
    Claim("dynamic-code-global-scope", "new Function at global scope works at the newest date",
          "globalThis.__v = new Function('return 1')();", "works", "1", scope="global"),
    Claim("dynamic-code-global-scope", "disallow_eval_during_startup turns global eval off",
          "globalThis.__v = eval('1+1');", "startup-fails", EVAL_ERR, flags=("disallow_eval_during_startup",),
          scope="global"),
    Claim("dynamic-code-global-scope", f"allow_eval_during_startup turns global eval on before {EVAL_DATE}",
          "globalThis.__v = eval('1+1');", "works", "2", date=day_before(EVAL_DATE),
          flags=COMPAT + ("allow_eval_during_startup",), scope="global"),
    Claim("dynamic-code-global-scope", f"new WebAssembly.Module(bytes) at global scope works from {EVAL_DATE}",
          f"globalThis.__v = WebAssembly.Module.exports(new WebAssembly.Module({WASM_JS}))[0].name;", "works", "add",
          date=EVAL_DATE, flags=COMPAT, scope="global"),
    Claim("dynamic-code-global-scope", f"new WebAssembly.Module(bytes) at global scope fails before {EVAL_DATE}",
          f"globalThis.__v = new WebAssembly.Module({WASM_JS});", "startup-fails", WASM_ERR,
          date=day_before(EVAL_DATE), flags=COMPAT, scope="global"),
    Claim("server-listen", "http.createServer().listen() at global scope is allowed",
          "http.createServer((q, r) => r.end('x')).listen(18083); globalThis.__v = 'listening';", "works",
          "listening", flags=(), scope="global"),
]

# modules each snippet needs, so that old dates (where some node:* modules are missing) import only those
_NEEDS = {"fs": "fs", "path": "path", "os": "os", "cp": "child_process", "wt": "worker_threads",
          "cluster": "cluster", "net": "net", "tls": "tls", "dgram": "dgram", "http": "http", "vm": "vm",
          "nodeCrypto": "crypto"}


def _imports_for(codes: list[str]) -> str:
    lines = ['import addWasm from "./add.wasm";']
    for var, mod in _NEEDS.items():
        if any(re.search(rf"\b{var}\.", c) or re.search(rf"new {var}\.", c) for c in codes):
            star = "* as " if var == "cp" else ""
            lines.append(f'import {star}{var} from "node:{mod}";')
    return "\n".join(lines) + "\n"


def _handler_modules(claims: list[Claim]) -> list[Module]:
    body = "\n".join(f"  await probe({js(c.id)}, async () => {c.code});" for c in claims)
    src = _imports_for([c.code for c in claims]) + PRELUDE + \
        "export default { async test(ctrl, env) {\n" + body + "\n} };\n"
    return [Module("probe.mjs", src), Module("add.wasm", WASM, "wasm")]


def _global_modules(c: Claim) -> list[Module]:
    src = (_imports_for([c.code]) + PRELUDE + c.code + "\n"
           f"export default {{ async test() {{ await probe({js(c.id)}, () => String(globalThis.__v)); }} }};\n")
    return [Module("probe.mjs", src), Module("add.wasm", WASM, "wasm")]


def _groups() -> dict[tuple, list[Claim]]:
    g: dict[tuple, list[Claim]] = {}
    for c in HANDLER_CLAIMS:
        g.setdefault((c.date, c.flags, tuple(sorted(c.bindings.items()))), []).append(c)
    return g


@pytest.fixture(scope="module")
def results(wd):
    groups = _groups()
    jobs = [(_handler_modules(cs), d, f, dict(b)) for (d, f, b), cs in groups.items()]
    jobs += [(_global_modules(c), c.date, c.flags, dict(c.bindings)) for c in GLOBAL_CLAIMS]
    runs = wd.run_many(jobs)
    out = {}
    for ((_, cs), r) in zip(groups.items(), runs[:len(groups)]):
        for c in cs:
            out[c.id] = r
    for c, r in zip(GLOBAL_CLAIMS, runs[len(groups):]):
        out[c.id] = r
    return out


def _text(rec: dict) -> str:
    return f"{rec.get('errname')}: {rec.get('error')} code={rec.get('code')}"


@pytest.mark.parametrize("claim", [pytest.param(c, id=c.id, marks=xfail_if_known(f"claim:{c.id}"))
                                   for c in HANDLER_CLAIMS + GLOBAL_CLAIMS])
def test_claim(results, record_property, claim: Claim):
    r = results[claim.id]
    record_property("claim", f"{claim.what}: {claim.expect}" + (f" ({claim.match})" if claim.match else ""))
    assert r.config_error is None, f"workerd rejected the config: {r.config_error}"
    startup = r.startup_error
    rec = r.by_name.get(claim.id)
    if claim.expect == "startup-fails":
        record_property("observed", f"startup error: {startup}" if startup else f"started; probe gave {rec}")
        assert startup, f"{claim.rule}: expected the Worker to fail at startup; it started ({rec})"
        if claim.match:
            assert re.search(claim.match, startup), f"startup error {startup!r} lacks {claim.match!r}"
        return
    assert startup is None, f"the probe Worker failed at startup: {startup}"
    assert rec is not None, r.stderr[-800:]
    record_property("observed", f"value {rec.get('value')!r}" if rec["ok"] else f"threw {_text(rec)}")
    if claim.expect == "works":
        assert rec["ok"], f"{claim.rule}: expected {claim.what!r} to work; it threw {_text(rec)}"
        if claim.match:
            assert re.search(claim.match, str(rec.get("value"))), f"value {rec.get('value')!r} lacks {claim.match!r}"
    else:
        assert not rec["ok"], f"{claim.rule}: expected {claim.what!r} to throw; it returned {rec.get('value')!r}"
        if claim.match:
            assert re.search(claim.match, _text(rec)), f"error {_text(rec)!r} lacks {claim.match!r}"


# --------------------------------------------------------------------------------------------- serve mode

SERVE_SRC = """import fs from "node:fs"; import net from "node:net"; import http from "node:http";
let counter = 0;
export default {
  async fetch(req) {
    const u = new URL(req.url); counter++;
    const port = Number(u.searchParams.get("port"));
    if (u.pathname === "/tmp-write") { fs.writeFileSync("/tmp/persist.txt", "hello"); return new Response("wrote"); }
    if (u.pathname === "/tmp-read") {
      try { return new Response("read:" + fs.readFileSync("/tmp/persist.txt", "utf8")); }
      catch (e) { return new Response(`failed: ${e.message} code=${e.code}`); } }
    if (u.pathname === "/counter") return new Response(String(counter));
    if (u.pathname === "/net-listen") return new Response(await new Promise((res) => {
      const s = net.createServer(); s.on("error", (e) => res("error " + e.message));
      s.listen(port, () => res("listening " + JSON.stringify(s.address()))); }));
    if (u.pathname === "/http-listen") return new Response(await new Promise((res) => {
      const s = http.createServer((q, r) => r.end("x")); s.on("error", (e) => res("error " + e.message));
      s.listen(port, () => res("listening " + JSON.stringify(s.address()))); }));
    return new Response("?");
  },
};
"""

HANDLER_SRC = """import http from "node:http"; import { httpServerHandler } from "cloudflare:node";
const server = http.createServer((req, res) => { res.setHeader("content-type", "text/plain"); res.end("hello from node:http " + req.url); });
server.listen(3000);
export default httpServerHandler({ port: 3000 });
"""


@pytest.fixture(scope="module")
def served(wd):
    """Each serve-mode claim -> (observed text, passed)."""
    from cfcompat.analyzer.oracle import free_port
    out: dict[str, tuple[str, bool]] = {}
    with serve([Module("serve.mjs", SERVE_SRC)], date=NEWEST, root=wd.root) as s:
        s.get("/tmp-write")
        _, body = s.get("/tmp-read")
        out["fs-tmp-write: /tmp is per request (a file written in request 1 is gone in request 2)"] = (
            body, body.startswith("failed:") and "ENOENT" in body)
        a, b = s.get("/counter")[1], s.get("/counter")[1]
        out["module-state-shared: module-level state survives across requests in one isolate"] = (
            f"counter {a} then {b}", int(b) == int(a) + 1)
        for kind in ("net", "http"):
            p = free_port()
            _, body = s.get(f"/{kind}-listen?port={p}")
            opened = port_open(p)
            rule = "socket-server-listen" if kind == "net" else "server-listen"
            out[f"{rule}: {kind}.createServer().listen(port) calls back but opens no OS port"] = (
                f"{body}; OS port {p} open: {opened}", body.startswith("listening") and not opened)
    for date in (HTTP_SERVER_DATE, NEWEST):
        flags = COMPAT if date < TABLE.default_on_from else ()
        with serve([Module("server.mjs", HANDLER_SRC)], date=date, flags=flags, root=wd.root) as s:
            code, body = s.get("/hi")
        out[f"server-listen: node:http server reached through httpServerHandler @{date}"] = (
            f"HTTP {code} {body!r}", code == 200 and "hello from node:http /hi" in body)
    return out


SERVE_IDS = ["fs-tmp-write: /tmp is per request (a file written in request 1 is gone in request 2)",
             "module-state-shared: module-level state survives across requests in one isolate",
             "socket-server-listen: net.createServer().listen(port) calls back but opens no OS port",
             "server-listen: http.createServer().listen(port) calls back but opens no OS port",
             f"server-listen: node:http server reached through httpServerHandler @{HTTP_SERVER_DATE}",
             f"server-listen: node:http server reached through httpServerHandler @{NEWEST}"]


@pytest.mark.parametrize("claim_id", SERVE_IDS)
def test_serve_claim(served, record_property, claim_id):
    observed, ok = served[claim_id]
    record_property("claim", claim_id)
    record_property("observed", observed)
    assert ok, f"{claim_id}: workerd gave {observed}"


def test_rule_packs_cite_the_oracle_for_these_claims():
    """Every rule checked here lists ORACLE among its facts (so a reader knows the claim was run)."""
    rules = {}
    import glob
    from pathlib import Path
    import yaml
    import cfcompat.rules as R
    for f in glob.glob(str(Path(R.__file__).parent / "packs" / "*.yaml")):
        for r in yaml.safe_load(open(f, encoding="utf-8"))["rules"]:
            rules[r["id"]] = r
    checked = {c.rule for c in HANDLER_CLAIMS + GLOBAL_CLAIMS} | {i.split(":")[0] for i in SERVE_IDS}
    missing = sorted(r for r in checked if r in rules and "ORACLE" not in (rules[r].get("facts") or []))
    assert not missing, f"rules whose claims the oracle checks but that do not cite ORACLE: {missing}"
