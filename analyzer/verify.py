"""`cfcompat verify PATH`: bundle the project's Worker the way wrangler does and start it once in the real workerd
runtime (pinned, installed from npm into the oracle cache), then send it one `GET /`. Prints the real startup
error, traced back to the project's own code, beside the static findings' blockers.

Also runnable without the CLI hook: `python -m cfcompat.analyzer.verify PATH [--compat-date D] [--compat-flag F]`.

Bundling (`wrangler_bundle.mjs`, run with node): esbuild with wrangler 4.x's deploy options, the Node.js
compatibility mode for the date and flags, and in v2 mode the @cloudflare/unenv-preset polyfills and aliases for
that date, including the rewrite of `require()` of Node.js built-ins; .wasm/.txt/.html/.sql/.bin imports become
modules as wrangler's default module rules make them. Nothing outside the repository is bundled (an absolute or
`..` import that leaves it is an error naming the importer). The workerd config has no network (oracle.NO_NETWORK).

Python Workers (a `.py` main): see `pyverify.py` (Python Workers cannot start offline: workerd downloads the
Pyodide bundle; the check loads the entry the way the runtime does, with the SDK and Pyodide's package list).

Limits: the project's npm dependencies must be installed (verify says how, without install scripts); static
assets and bindings other than plain `vars` are not wired up; one request, no scheduled event.
"""
from __future__ import annotations

import json
import re
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
    __emit({ name: "started", ok: true, value: kind, exports: Object.keys(W) });
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
    stage: str                         # no-entry | missing-dependencies | bundle-failed | startup-failed | started
    error: str | None = None
    request: dict[str, Any] | None = None
    handler: str | None = None
    blockers: list[dict[str, Any]] = field(default_factory=list)
    cause: dict[str, Any] | None = None      # where in the project's code the failure comes from
    install: str | None = None               # how to install missing dependencies (no install scripts)
    missing: list[str] = field(default_factory=list)
    node_compat: str | None = None           # wrangler's Node.js compatibility mode for the date and flags
    language: str = "javascript"
    checks: list[dict[str, Any]] = field(default_factory=list)   # Python Workers: what was checked

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def find_entry(root: Path, main: str | None) -> Path | None:
    if main and (root / main).is_file():
        return root / main
    for g in ENTRY_GUESSES:
        if (root / g).is_file():
            return root / g
    return None


# --------------------------------------------------------------------------------------------- dependencies

_UNRESOLVED = re.compile(r'Could not resolve "([^"]+)"')


def package_name(spec: str) -> str:
    parts = spec.split("/")
    return "/".join(parts[:2]) if spec.startswith("@") else parts[0]


def install_command(root: Path) -> str:
    """How to install the project's npm dependencies without running their install scripts."""
    if (root / "pnpm-lock.yaml").exists():
        return "pnpm install --frozen-lockfile --ignore-scripts"
    if (root / "yarn.lock").exists():
        return "yarn install --frozen-lockfile --ignore-scripts"
    if (root / "bun.lockb").exists() or (root / "bun.lock").exists():
        return "bun install --frozen-lockfile --ignore-scripts"
    if (root / "package-lock.json").exists() or (root / "npm-shrinkwrap.json").exists():
        return "npm ci --ignore-scripts"
    return "npm install --ignore-scripts"


def declared_dependencies(root: Path) -> set[str]:
    try:
        pj = json.loads((root / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    out: set[str] = set()
    for k in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        if isinstance(pj.get(k), dict):
            out |= set(pj[k])
    return out


def missing_dependencies(root: Path, errors: list[dict[str, Any]]) -> list[str]:
    """Packages esbuild could not resolve that the project declares but has not installed."""
    declared = declared_dependencies(root)
    out = []
    for e in errors:
        m = _UNRESOLVED.search(e.get("text", ""))
        if not m or m.group(1).startswith((".", "/")):
            continue
        name = package_name(m.group(1))
        if name in declared and not (root / "node_modules" / name).exists() and name not in out:
            out.append(name)
    return out


# --------------------------------------------------------------------------------------------- source maps

_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def _vlq(seg: str) -> list[int]:
    out, val, shift = [], 0, 0
    for ch in seg:
        d = _B64[ch]
        val |= (d & 31) << shift
        if d & 32:
            shift += 5
            continue
        out.append(-(val >> 1) if val & 1 else val >> 1)
        val, shift = 0, 0
    return out


class SourceMap:
    """A decoder for esbuild's v3 source maps: bundle line/column -> original source, line."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.sources = data.get("sources") or []
        self.lines: list[list[tuple[int, int, int]]] = []     # per generated line: (gen col, source, orig line)
        src = line = 0
        for text in (data.get("mappings") or "").split(";"):
            row, col = [], 0
            for seg in filter(None, text.split(",")):
                v = _vlq(seg)
                col += v[0]
                if len(v) >= 4:
                    src += v[1]
                    line += v[2]
                    row.append((col, src, line))
            self.lines.append(row)

    def lookup(self, line: int, column: int) -> tuple[str, int] | None:
        """(source path, 1-based line) of a 1-based bundle line and column."""
        if not 0 < line <= len(self.lines):
            return None
        best = None
        for col, src, orig in self.lines[line - 1]:
            if col <= max(column - 1, 0):
                best = (src, orig)
            else:
                break
        if best is None and self.lines[line - 1]:
            best = self.lines[line - 1][0][1:]
        if best is None:
            return None
        return self.sources[best[0]], best[1] + 1


_FRAME = re.compile(r"worker\.mjs:(\d+):(\d+)")


def _norm_source(s: str, outdir: Path, root: Path) -> str:
    p = (outdir / s).resolve()
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return s


def trace_cause(text: str, smap: SourceMap | None, metafile: dict[str, Any] | None, outdir: Path,
                root: Path) -> dict[str, Any] | None:
    """The failing place in the project's sources (mapped through the source map), and for a failure inside a
    dependency the project file that imports that dependency."""
    if smap is None:
        return None
    frames = []
    for m in _FRAME.finditer(text):
        hit = smap.lookup(int(m.group(1)), int(m.group(2)))
        if hit:
            frames.append({"file": _norm_source(hit[0], outdir, root), "line": hit[1]})
    if not frames:
        return None
    cause: dict[str, Any] = {"at": frames[0], "frames": frames[:8]}
    own = next((f for f in frames if "node_modules/" not in f["file"]), None)
    if own is not None:
        cause["project_file"] = own
    top = frames[0]["file"]
    if "node_modules/" in top and metafile:
        pkg = package_of(top)
        cause["package"] = pkg
        importers = importers_of(metafile, pkg)
        if importers:
            cause["imported_by"] = importers
    return cause


def package_of(path: str) -> str:
    rest = path.rsplit("node_modules/", 1)[1]
    return package_name(rest)


def importers_of(metafile: dict[str, Any], pkg: str) -> list[dict[str, Any]]:
    """Project files (outside node_modules) that reach the package, directly or through other packages: for each,
    the specifier it imports and the chain of packages down to `pkg` (socket.io > engine.io)."""
    inputs = metafile.get("inputs") or {}
    # package-level graph: who imports which package
    edges: dict[str, list[tuple[str, str]]] = {}
    for src, info in inputs.items():
        for imp in info.get("imports") or []:
            path = imp.get("path") or ""
            if "node_modules/" not in path:
                continue
            edges.setdefault(src, []).append((package_of(path), imp.get("original") or path))
    out = []
    for src in inputs:
        if "node_modules/" in src:
            continue
        for first, spec in edges.get(src, []):
            chain = _package_chain(first, pkg, inputs, edges)
            if chain is not None:
                out.append({"file": src, "import": spec, "via": chain})
                break
    return out


def _package_chain(start: str, goal: str, inputs: dict[str, Any], edges: dict[str, list[tuple[str, str]]]
                   ) -> list[str] | None:
    """Packages from `start` to `goal` following imports between files of those packages (breadth first)."""
    by_pkg: dict[str, set[str]] = {}
    for src in inputs:
        if "node_modules/" in src:
            by_pkg.setdefault(package_of(src), set()).add(src)
    seen = {start}
    queue = [[start]]
    while queue:
        chain = queue.pop(0)
        if chain[-1] == goal:
            return chain
        nxt = {p for f in by_pkg.get(chain[-1], ()) for p, _ in edges.get(f, [])}
        for p in sorted(nxt - seen):
            seen.add(p)
            queue.append(chain + [p])
    return None


def _import_line(root: Path, file: str, spec: str) -> int | None:
    try:
        for i, line in enumerate((root / file).read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if re.search(r"""['"]""" + re.escape(spec) + r"""['"]""", line):
                return i
    except OSError:
        return None
    return None


# --------------------------------------------------------------------------------------------- bundling

def driver() -> Path:
    return Path(__file__).resolve().parent / "wrangler_bundle.mjs"


def bundle(entry: Path, outdir: Path, toolchain: Path, root: Path, date: str, flags: list[str],
           tsconfig: str | None = None) -> dict[str, Any]:
    """Run the wrangler-like bundler; returns its JSON result ({ok, mode, errors | modules, metafile, ...})."""
    import shutil
    import subprocess   # here, not at the top: cli.py imports this module for `register` on every start-up
    node = shutil.which("node")
    if not node:
        from . import oracle
        raise oracle.OracleUnavailable("node is needed to bundle the Worker (not found on PATH)")
    cfg = {"toolchain": str(toolchain), "entry": str(entry), "root": str(root), "outdir": str(outdir),
           "compatibilityDate": date, "compatibilityFlags": list(flags)}
    if tsconfig:
        cfg["tsconfig"] = tsconfig
    cfg_path = outdir / "bundle-config.json"
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    r = subprocess.run([node, str(driver()), str(cfg_path)], cwd=str(outdir), capture_output=True, text=True,
                       timeout=300)
    line = (r.stdout or "").strip().splitlines()[-1:] or [""]
    try:
        return json.loads(line[0])
    except ValueError:
        return {"ok": False, "errors": [{"text": (r.stderr or r.stdout or f"bundler exit {r.returncode}")[-2000:]}]}


def _format_errors(errors: list[dict[str, Any]]) -> str:
    out = []
    for e in errors[:20]:
        loc = e.get("location")
        where = f"{loc['file']}:{loc['line']}:{loc['column']}: " if loc else ""
        out.append(f"{where}{e.get('text', '')}")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------- verify

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
    if entry.suffix == ".py":
        from .pyverify import verify_python
        return verify_python(path, entry, res)
    toolchain = oracle.ensure(oracle.BUNDLER)
    vars_ = {}
    tsconfig = None
    if s.wrangler is not None:
        if isinstance(s.wrangler.data.get("vars"), dict):
            vars_ = {k: v if isinstance(v, str) else json.dumps(v) for k, v in s.wrangler.data["vars"].items()}
        if isinstance(s.wrangler.data.get("tsconfig"), str):
            tsconfig = str((path / s.wrangler.data["tsconfig"]).resolve())
    import tempfile
    with tempfile.TemporaryDirectory(prefix="cfcompat-verify-") as tmp:
        out = Path(tmp)
        b = bundle(entry, out, toolchain, path, date, flags, tsconfig)
        res.node_compat = b.get("mode")
        if not b.get("ok"):
            errs = b.get("errors") or []
            res.missing = missing_dependencies(path, errs)
            if res.missing:
                res.stage = "missing-dependencies"
                res.install = install_command(path)
                res.error = (f"dependencies not installed: {', '.join(res.missing)}; install them without running "
                             f"their install scripts: `{res.install}` (in {path.name}/), then run verify again")
            else:
                res.stage, res.error = "bundle-failed", _format_errors(errs)[-3000:]
                loc = next((e.get("location") for e in errs if e.get("location")), None)
                if loc:
                    res.cause = {"at": {"file": loc["file"], "line": loc["line"]}}
            return res
        smap = None
        try:
            smap = SourceMap(json.loads((out / "worker.mjs.map").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            smap = None
        mods = [oracle.Module("wrapper.mjs", oracle.PRELUDE + WRAPPER_BODY),
                oracle.Module("worker.mjs", (out / "worker.mjs").read_text(encoding="utf-8"))]
        for m in b.get("modules") or []:
            mods.append(oracle.Module(m["name"], (out / m["name"]).read_bytes(), m["kind"]))
        run = oracle.run_test(mods, date=date, flags=flags, bindings=vars_, root=toolchain)
        metafile = b.get("metafile")
        if run.config_error:
            res.stage, res.error = "startup-failed", run.config_error
            return res
        if run.startup_error or not run.by_name.get("started"):
            res.stage = "startup-failed"
            res.error = run.startup_error or run.stderr.strip()[-1500:]
            res.cause = trace_cause(run.stderr, smap, metafile, out, path)
            _locate_imports(res, path)
            return res
        res.stage, res.handler = "started", run.by_name["started"].get("value")
        req = run.by_name.get("GET /")
        if req is not None:
            if req["ok"]:
                res.request = {"status": req["value"].get("status"), "body": req["value"].get("body")}
            else:
                res.request = {"error": f"{req.get('errname')}: {req.get('error')}", "code": req.get("code")}
                res.cause = trace_cause(run.stdout + run.stderr, smap, metafile, out, path)
                _locate_imports(res, path)
        if res.handler != "fetch":
            res.error = ("the entry has no default export with a fetch() handler: wrangler treats a module without "
                         "ES exports as a service-worker script, and requests reach nothing")
    return res


def _locate_imports(res: VerifyResult, root: Path) -> None:
    for imp in (res.cause or {}).get("imported_by") or []:
        line = _import_line(root, imp["file"], imp["import"])
        if line:
            imp["line"] = line


def render(res: VerifyResult) -> str:
    from . import oracle
    if res.language == "python":
        from .pyverify import render_python
        return render_python(res)
    lines = [f"workerd {oracle.PINS['workerd']} ({oracle.WORKERD_VERSION_LINE}), compatibility date {res.date}, "
             f"flags {res.flags or 'none'}; entry {res.entry or '-'}; bundled as wrangler does "
             f"(Node.js compatibility: {res.node_compat or 'off'}); no network"]
    if res.stage == "no-entry":
        lines.append(f"not started: {res.error}")
    elif res.stage == "missing-dependencies":
        lines.append(f"not bundled: {res.error}")
    elif res.stage == "bundle-failed":
        lines.append("bundle failed:")
        lines += ["  " + ln for ln in (res.error or "").splitlines()[:30]]
    elif res.stage == "startup-failed":
        lines.append(f"startup FAILED: {res.error}")
    else:
        lines.append(f"started (default export: {res.handler})")
        if res.error:
            lines.append(f"  but: {res.error}")
        if res.request:
            if "status" in res.request:
                lines.append(f"GET / -> HTTP {res.request['status']}: {res.request.get('body', '')[:120]!r}")
            else:
                lines.append(f"GET / threw {res.request['error']}")
    c = res.cause or {}
    if c.get("at"):
        lines.append(f"  at {c['at']['file']}:{c['at']['line']}")
    for imp in c.get("imported_by") or []:
        via = " > ".join(imp.get("via") or [])
        lines.append(f"  cause in your code: {imp['file']}" + (f":{imp['line']}" if imp.get("line") else "")
                     + f" imports `{imp['import']}`" + (f" ({via})" if len(imp.get("via") or []) > 1 else ""))
    if c.get("project_file") and not c.get("imported_by") and c["project_file"] != c.get("at"):
        lines.append(f"  called from your code: {c['project_file']['file']}:{c['project_file']['line']}")
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
        """Bundle the Worker as wrangler does and start it once in the real workerd runtime (needs node and npm;
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
    return 0 if res.stage == "started" and not res.error else 1


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
