"""Probe sources and expectations shared by the oracle tests (tests/oracle/test_*.py).

Every check is a small JS snippet run inside workerd; many snippets are batched into one probe module per
(compatibility date, flags) so a whole group costs one `workerd test` run (~0.1 s)."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from cfcompat.analyzer.oracle import PRELUDE, js
from cfcompat.rules import load_kb

NEWEST = "2026-11-17"

# Arguments that get past Node's argument validation so that the call reaches workerd's stub. A call not listed
# here is made with no arguments.
ARGS: dict[str, str] = {
    "child_process.execSync": '"git status"',
    "child_process.exec": '"ls", {}, CB',
    "child_process.execFile": '"ls", [], {}, CB',
    "child_process.execFileSync": '"ls"',
    "child_process.spawn": '"ls"',
    "child_process.spawnSync": '"ls"',
    "child_process.fork": '"x.js"',
    "cluster.fork": "",
    "fs.watch": '"/tmp"',
    "fs.watchFile": '"/tmp/x", () => {}',
    "fs.unwatchFile": '"/tmp/x"',
    "fs.glob": '"*", CB',
    "fs.globSync": '"*"',
    "fs/promises.watch": '"/tmp"',
    "fs/promises.glob": '"*"',
    "dns.setServers": '["1.1.1.1"]',
    "dns.lookupService": '"127.0.0.1", 22, CB',
    "dns.resolveAny": '"example.com", CB',
    "dns/promises.setServers": '["1.1.1.1"]',
    "dns/promises.lookupService": '"127.0.0.1", 22',
    "dns/promises.resolveAny": '"example.com"',
    "buffer.resolveObjectURL": '"blob:nodedata:1234"',
    "crypto.createCipher": '"aes192", "secret"',
    "crypto.createDecipher": '"aes192", "secret"',
    "crypto.setEngine": '"dynamic"',
    "crypto.setFips": "false",
    "module.Module": '"x"',
    "module.register": '"./hooks.mjs"',
    "module._load": '"x"',
    "module._resolveFilename": '"x"',
    "module.findPackageJSON": '"x"',
    "module.stripTypeScriptTypes": '"const a: number = 1"',
    "util.parseArgs": "{ args: [], options: {} }",
    "process.binding": '"fs"',
    "process._linkedBinding": '"x"',
    "process.execve": '"/bin/ls"',
    "console.createTask": '"x"',
    "http2.connect": '"https://127.0.0.1:1"',
    "vm.runInNewContext": '"1+1"',
    "vm.runInThisContext": '"1+1"',
    "vm.runInContext": '"1+1", (M.default ?? M).createContext({})',
    "vm.Script().runInContext": "(M.default ?? M).createContext({})",
    "v8.serialize": "{ a: 1 }",
    "v8.deserialize": "new Uint8Array([255, 15, 111, 0])",
    "worker_threads.Worker": '"x.js"',
    "wasi.WASI": '{ version: "preview1" }',
    "sqlite.DatabaseSync": '":memory:"',
    "sqlite.backup": "null, \"/tmp/b.db\"",
    "test.default": '"x", () => {}',
    "test.test": '"x", () => {}',
    "test.it": '"x", () => {}',
    "test.describe": '"x", () => {}',
    "test.suite": '"x", () => {}',
    "async_hooks.createHook": "{ init() {} }",
    "dgram.createSocket": '"udp4"',
    "trace_events.createTracing": '{ categories: ["v8"] }',
    "tls.createSecurePair": "",
}


def node_modules_kb() -> dict[str, Any]:
    return load_kb("node_modules.yaml")


def throws_cases() -> list[tuple[str, dict[str, Any]]]:
    """(module, throws entry) for every `throws` entry of the table."""
    out = []
    for m in node_modules_kb()["modules"]:
        for t in m.get("throws") or ():
            out.append((m["name"], t))
    return out


def throws_expr(module: str, entry: dict[str, Any]) -> str:
    """JS expression (inside an arrow with `M` = the module namespace) that makes the call.

    `CB` in the arguments stands for a Node-style callback: the expression then returns a promise that rejects
    with the error the callback receives (async failures count as throwing)."""
    name = entry["name"]
    args = ARGS.get(f"{module}.{name}", "")
    if name.startswith("Script()."):
        meth = name.split(".", 1)[1]
        call = f"(new (M.Script ?? M.default.Script)(\"1\")).{meth}({{args}})"
    elif name == "default":
        call = "M.default({args})"
    elif entry.get("kind") == "new":
        call = f"new (M[{js(name)}] ?? M.default?.[{js(name)}])({{args}})"
    else:
        # method call on the namespace when it has the name, else on the default export (CommonJS-style modules)
        call = f"({js(name)} in M ? M : (M.default ?? M))[{js(name)}]({{args}})"
    if "CB" in args:
        cb_args = args.replace("CB", "(e, v) => e ? rej(e) : res(v)")
        return f"new Promise((res, rej) => {{ {call.format(args=cb_args)}; }})"
    return call.format(args=args)


def throws_probe_source(cases: list[tuple[str, dict[str, Any]]]) -> str:
    body = []
    for module, entry in cases:
        body.append(f"  {{ const M = await import({js('node:' + module)}); "
                    f"await probe({js(module + '.' + entry['name'])}, () => {throws_expr(module, entry)}); }}")
    return PRELUDE + "export default { async test() {\n" + "\n".join(body) + "\n} };\n"


NOT_IMPL = re.compile(r"not implemented|not supported|unsupported", re.I)


def throws_expectation(entry: dict[str, Any]) -> tuple[str, Any]:
    """What the table claims for a `throws` entry: ("throws", pattern) | ("noop", None) | ("fake", value)."""
    effect = entry.get("effect", "throws")
    err = entry.get("error", "")
    if effect == "fake":
        if "[]" in err:
            return "fake", []
        m = re.search(r"returns (\d+)", err)
        return "fake", int(m.group(1)) if m else None
    if effect == "noop":
        return "noop", None
    if "ERR_UNSUPPORTED_OPERATION" in err:
        return "throws", "ERR_UNSUPPORTED_OPERATION"
    if "Illegal constructor" in err:
        return "throws", "Illegal constructor"
    if "not a function" in err:
        return "throws", "not a function"
    if re.search(r"not implemented", err, re.I):
        return "throws", "not implemented"
    return "throws", None


def error_matches(rec: dict[str, Any], pattern: str | None) -> bool:
    if pattern is None:
        return True
    text = f"{rec.get('errname')}: {rec.get('error')} code={rec.get('code')}"
    if pattern == "not implemented":
        return bool(NOT_IMPL.search(text)) or rec.get("code") == "ERR_METHOD_NOT_IMPLEMENTED"
    if pattern == "ERR_UNSUPPORTED_OPERATION":
        return rec.get("code") == "ERR_UNSUPPORTED_OPERATION"
    return pattern in text


def day_before(date: str) -> str:
    return (dt.date.fromisoformat(date) - dt.timedelta(days=1)).isoformat()


def import_probe_source(names: list[str]) -> str:
    """Dynamic `import("node:<m>")` of each name; the record's ok says whether the import succeeded."""
    body = "\n".join(f"  await probe({js(n)}, async () => Object.keys(await import({js('node:' + n)})).length);"
                     for n in names)
    return PRELUDE + "export default { async test() {\n" + body + "\n} };\n"
