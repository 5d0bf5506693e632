"""`cfcompat verify PATH`: bundle the project's Worker entry with esbuild and start it once in the real workerd
runtime (pinned, installed from npm into the oracle cache), then send it one `GET /`. Prints the real startup
error (or the request's outcome) beside the static findings' blockers.

Also runnable without the CLI hook: `python -m cfcompat.analyzer.verify PATH [--compat-date D] [--compat-flag F]`.

Limits: the project's npm dependencies must be installed (esbuild resolves them from node_modules); wrangler's
unenv polyfills are not injected (before a module's default date workerd reports `No such module` where wrangler
would substitute a throwing stub); .wasm/.bin imports, static assets and bindings other than plain vars are not
wired up; JavaScript/TypeScript Workers only (Python Workers need the Pyodide bundle from the network).
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


ENTRY_GUESSES = ("src/index.ts", "src/index.js", "src/index.mjs", "src/worker.ts", "src/worker.js", "index.ts",
                 "index.js", "worker.js", "src/server.ts", "src/server.js", "server.js", "app.js")

# The Worker wrapper, appended to oracle.PRELUDE when verify runs (the oracle module loads only then).
WRAPPER_BODY = r"""
import * as W from "./worker.mjs";
export default {
  async test(ctrl, env, ctx) {
    const h = W.default;
    const kind = h && typeof h.fetch === "function" ? "fetch" : typeof h === "function" ? "class" : typeof h;
    __emit({ name: "started", ok: true, value: kind });
    if (kind !== "fetch") return;
    await probe("GET /", async () => {
      const ectx = { waitUntil() {}, passThroughOnException() {}, props: {} };
      const res = await h.fetch(new Request("http://localhost/"), env, ectx);
      const body = await res.text();
      return { status: res.status, body: body.slice(0, 200) };
    }, 10000);
  },
};
"""


@dataclass
class VerifyResult:
    entry: str | None
    date: str
    flags: list[str]
    stage: str                         # no-entry | bundle-failed | startup-failed | started
    error: str | None = None
    request: dict[str, Any] | None = None
    handler: str | None = None
    blockers: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def find_entry(root: Path, main: str | None) -> Path | None:
    if main and (root / main).is_file():
        return root / main
    for g in ENTRY_GUESSES:
        if (root / g).is_file():
            return root / g
    return None


def _externals() -> list[str]:
    from ..rules.classes.runtime import node_table
    names = set(node_table().modules)
    return ["node:*", "cloudflare:*", "workerd:*"] + sorted(n for n in names if "/" not in n) + \
        sorted(n for n in names if "/" in n)


def bundle(entry: Path, out: Path, root_dir: Path) -> tuple[bool, str]:
    from . import oracle
    cmd = [str(oracle.esbuild_bin(root_dir)), str(entry), "--bundle", "--format=esm", "--platform=neutral",
           "--target=es2022", "--conditions=workerd,worker,browser", "--main-fields=browser,module,main",
           "--log-level=error", f"--outfile={out}", *[f"--external:{e}" for e in _externals()]]
    import subprocess   # here, not at the top: cli.py imports this module for `register` on every start-up
    r = subprocess.run(cmd, cwd=entry.parent, capture_output=True, text=True, timeout=300)
    return r.returncode == 0, (r.stderr or r.stdout).strip()


def verify(path: Path, compat_date: str | None = None, compat_flags: list[str] | None = None,
           with_scan: bool = True) -> VerifyResult:
    from . import oracle
    from .settings import resolve_settings
    errors: list[Any] = []
    s = resolve_settings(path, target=None, compat_date=compat_date, compat_flags=compat_flags, languages={},
                         errors=errors)
    date, flags = s.compatibility_date, list(s.compatibility_flags)
    path = path.resolve()
    entry = find_entry(path, s.main)
    res = VerifyResult(str(entry.relative_to(path)) if entry else None, date, flags, "no-entry")
    if with_scan:
        from .engine import ScanOptions, scan
        result = scan(path, ScanOptions(compat_date=compat_date, compat_flags=list(compat_flags or []),
                                        use_cache=False))
        res.blockers = [{"rule": f.rule_id, "where": f"{f.path}:{f.line}", "message": f.message}
                        for f in result.findings if f.severity == "blocker"]
    if entry is None:
        res.error = "no Worker entry: set `main` in the wrangler config (or use src/index.ts / index.js)"
        return res
    root_dir = oracle.ensure(oracle.BUNDLER)
    vars_ = {}
    if s.wrangler is not None and isinstance(s.wrangler.data.get("vars"), dict):
        vars_ = {k: v if isinstance(v, str) else json.dumps(v) for k, v in s.wrangler.data["vars"].items()}
    import tempfile
    with tempfile.TemporaryDirectory(prefix="cfcompat-verify-") as tmp:
        out = Path(tmp) / "worker.mjs"
        ok, log = bundle(entry, out, root_dir)
        if not ok:
            res.stage, res.error = "bundle-failed", log[-2000:]
            return res
        mods = [oracle.Module("wrapper.mjs", oracle.PRELUDE + WRAPPER_BODY), oracle.Module("worker.mjs", out.read_text(encoding="utf-8"))]
        run = oracle.run_test(mods, date=date, flags=flags, bindings=vars_, root=root_dir)
    if run.config_error:
        res.stage, res.error = "startup-failed", run.config_error
        return res
    if run.startup_error or not run.by_name.get("started"):
        res.stage = "startup-failed"
        res.error = run.startup_error or run.stderr.strip()[-1500:]
        return res
    res.stage, res.handler = "started", run.by_name["started"].get("value")
    req = run.by_name.get("GET /")
    if req is not None:
        res.request = ({"status": req["value"].get("status"), "body": req["value"].get("body")} if req["ok"] else
                       {"error": f"{req.get('errname')}: {req.get('error')}", "code": req.get("code")})
    return res


def render(res: VerifyResult) -> str:
    from . import oracle
    lines = [f"workerd {oracle.PINS['workerd']} (runtime {oracle.NEWEST_DATE}), compatibility date {res.date}, "
             f"flags {res.flags or 'none'}; entry {res.entry or '-'}"]
    if res.stage == "no-entry":
        lines.append(f"not started: {res.error}")
    elif res.stage == "bundle-failed":
        lines.append("bundle failed (esbuild):")
        lines += ["  " + ln for ln in (res.error or "").splitlines()[:30]]
    elif res.stage == "startup-failed":
        lines.append(f"startup FAILED: {res.error}")
    else:
        lines.append(f"started (default export: {res.handler})")
        if res.request:
            if "status" in res.request:
                lines.append(f"GET / -> HTTP {res.request['status']}: {res.request.get('body', '')[:120]!r}")
            else:
                lines.append(f"GET / threw {res.request['error']}")
    if res.blockers:
        lines.append(f"static blockers ({len(res.blockers)}):")
        lines += [f"  {b['where']}  {b['rule']}: {b['message'][:160]}" for b in res.blockers[:40]]
    return "\n".join(lines) + "\n"


def register(cli: Any) -> None:
    """Add `verify` to the click group (one call in analyzer/cli.py)."""
    import click

    @cli.command("verify")
    @click.argument("path", type=click.Path(file_okay=False, dir_okay=True, path_type=Path))
    @click.option("--compat-date", metavar="YYYY-MM-DD", default=None, help="Override the wrangler compatibility_date.")
    @click.option("--compat-flag", "compat_flags", multiple=True, metavar="FLAG", help="Add a compatibility flag.")
    @click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
    def verify_cmd(path: Path, compat_date: str | None, compat_flags: tuple[str, ...], as_json: bool) -> None:
        """Bundle the Worker with esbuild and start it once in the real workerd runtime (needs node and npm;
        installs the pinned runtime on first use). Exit 1 when it fails to bundle or start."""
        sys.exit(_run(path, compat_date, list(compat_flags), as_json))


def _run(path: Path, compat_date: str | None, flags: list[str], as_json: bool) -> int:
    from . import oracle
    try:
        res = verify(path, compat_date, flags)
    except oracle.OracleUnavailable as e:
        print(f"cfcompat verify: {e}", file=sys.stderr)
        return 2
    print(json.dumps(res.to_json(), indent=1) if as_json else render(res), end="" if not as_json else "\n")
    return 0 if res.stage == "started" else 1


def main(argv: list[str] | None = None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="python -m cfcompat.analyzer.verify", description=__doc__.split("\n\n")[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--compat-date")
    ap.add_argument("--compat-flag", action="append", default=[])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    return _run(a.path, a.compat_date, a.compat_flag, a.json)


if __name__ == "__main__":
    sys.exit(main())
