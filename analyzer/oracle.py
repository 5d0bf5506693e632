"""The real Workers runtime as an oracle: install the pinned `workerd` (and, for the table generator and
`cfcompat verify`, `@cloudflare/unenv-preset`, `unenv`, `esbuild`) from the npm registry into a cache folder,
generate a capnp config around small probe modules and run them with `workerd test` (or `workerd serve`).

Nothing here is used by `cfcompat scan`; it backs tests/oracle/, scripts/gen_node_table.py and `cfcompat verify`.
The cache folder is `$CFCOMPAT_ORACLE_DIR`, else `~/.cache/cfcompat/oracle`; it is reused when the pinned
versions are already there. See /work/shared/reference/workerd-oracle.md for how workerd was driven by hand.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

# workerd: the newest release on the npm registry; the bundler toolchain: what the newest wrangler depends on.
# Results depend on the workerd release as well as the compatibility date, so both are pinned and reported.
# Re-pin with one command: `python scripts/pin_workerd.py` (then run the oracle suite).
PINS: dict[str, str] = {
    "workerd": "1.20261123.1",
    "@cloudflare/unenv-preset": "2.16.2",
    "unenv": "2.0.0-rc.24",
    "esbuild": "0.28.2",
}
WORKERD_VERSION_LINE = "workerd 2026-11-23"     # `workerd --version` of the pinned release
NEWEST_DATE = "2026-11-17"                      # the newest compatibility date the pinned runtime accepts
RUNTIME = ("workerd",)
GENERATOR = ("workerd", "@cloudflare/unenv-preset", "unenv")
BUNDLER = ("workerd", "esbuild", "@cloudflare/unenv-preset", "unenv")   # verify bundles as wrangler does

# Every probe record is one stdout line starting with this marker followed by JSON.
MARK = "@@CFO@@"


class OracleUnavailable(RuntimeError):
    """node/npm missing, the npm install failed, or the installed runtime does not start."""


# --------------------------------------------------------------------------------------------- install

def cache_dir() -> Path:
    env = os.environ.get("CFCOMPAT_ORACLE_DIR")
    if env:
        return Path(env).expanduser()
    # one folder per workerd pin: checkouts pinned to different releases never reinstall over each other
    return Path.home() / ".cache" / "cfcompat" / "oracle" / f"workerd-{PINS['workerd']}"


def installed_version(root: Path, package: str) -> str | None:
    pj = root / "node_modules" / package / "package.json"
    try:
        return json.loads(pj.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None


def _missing(root: Path, packages: Iterable[str]) -> list[str]:
    return [p for p in packages if installed_version(root, p) != PINS[p]]


def ensure(packages: Sequence[str] = RUNTIME, root: Path | None = None, timeout: float = 900) -> Path:
    """Install the pinned versions of `packages` into the cache folder (once) and return the folder.

    Raises OracleUnavailable with a one-line reason when node or npm is missing or the install fails."""
    root = root or cache_dir()
    need = _missing(root, packages)
    if need:
        npm = shutil.which("npm")
        if not shutil.which("node") or not npm:
            raise OracleUnavailable("node and npm are needed to install the workerd runtime from the npm registry "
                                    "(not found on PATH)")
        root.mkdir(parents=True, exist_ok=True)
        with _lock(root):
            need = _missing(root, packages)
            if need:
                pj = root / "package.json"
                if not pj.exists():
                    pj.write_text(json.dumps({"name": "cfcompat-oracle", "private": True,
                                              "description": "cache of the pinned Workers runtime for cfcompat"},
                                             indent=1) + "\n", encoding="utf-8")
                # install everything pinned that is asked for, so one `npm install` keeps them consistent
                specs = [f"{p}@{PINS[p]}" for p in PINS if p in set(packages) or installed_version(root, p)]
                cmd = [npm, "install", "--no-audit", "--no-fund", "--save-exact", "--loglevel=error", *specs]
                try:
                    r = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=timeout)
                except (OSError, subprocess.TimeoutExpired) as e:
                    raise OracleUnavailable(f"`npm install {' '.join(specs)}` failed: {e}") from e
                if r.returncode != 0:
                    tail = " ".join((r.stderr or r.stdout).strip().splitlines()[-3:])
                    raise OracleUnavailable(f"`npm install {' '.join(specs)}` failed (exit {r.returncode}): {tail}")
                still = _missing(root, packages)
                if still:
                    raise OracleUnavailable(f"npm install finished but {', '.join(still)} is not at the pinned "
                                            f"version in {root}/node_modules")
    if "workerd" in packages:
        version = workerd_version(root)
        if WORKERD_VERSION_LINE not in version:
            raise OracleUnavailable(f"{workerd_bin(root)} --version gave {version!r}, expected "
                                    f"{WORKERD_VERSION_LINE!r} (no prebuilt binary for this platform?)")
    return root


@contextlib.contextmanager
def _lock(root: Path) -> Iterator[None]:
    """An exclusive lock on the cache folder while npm runs (parallel test runs share the cache)."""
    try:
        import fcntl
    except ImportError:      # pragma: no cover - Windows
        yield
        return
    with open(root / ".install.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def workerd_bin(root: Path | None = None) -> Path:
    return (root or cache_dir()) / "node_modules" / ".bin" / "workerd"


def esbuild_bin(root: Path | None = None) -> Path:
    return (root or cache_dir()) / "node_modules" / ".bin" / "esbuild"


def workerd_version(root: Path | None = None) -> str:
    try:
        r = subprocess.run([str(workerd_bin(root)), "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"error: {e}"
    return (r.stdout or r.stderr).strip()


def download_size(packages: Sequence[str] = GENERATOR) -> int:
    """Bytes npm downloads for the pinned packages and their dependencies on this platform (from `npm view`)."""
    total = 0
    names = list(packages)
    if "workerd" in names:
        names.append("@cloudflare/workerd-linux-64")
    if "esbuild" in names:
        names.append("@esbuild/linux-x64")
    for n in names:
        ver = PINS.get(n) or PINS["workerd" if "workerd" in n else "esbuild"]
        r = subprocess.run(["npm", "view", f"{n}@{ver}", "dist.unpackedSize", "--json"], capture_output=True,
                           text=True, timeout=120)
        try:
            total += int(json.loads(r.stdout))
        except (ValueError, TypeError):
            pass
    return total


# --------------------------------------------------------------------------------------------- configs and runs

@dataclass
class Module:
    """One module of the Worker. kind: esModule | commonJsModule | text | data | wasm | json."""
    name: str
    source: str | bytes
    kind: str = "esModule"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    records: list[dict[str, Any]] = field(default_factory=list)
    config: str = ""

    @property
    def by_name(self) -> dict[str, dict[str, Any]]:
        return {r["name"]: r for r in self.records if "name" in r}

    @property
    def startup_error(self) -> str | None:
        """The `Uncaught ...` line workerd prints when the Worker fails while starting (global scope)."""
        for line in self.stderr.splitlines():
            if "Uncaught" in line:
                return line.split("Uncaught", 1)[1].strip(" :")
        return None

    @property
    def config_error(self) -> str | None:
        """A rejected config (unknown compatibility flag, bad date, ...): workerd exits before running."""
        if self.returncode != 0 and not self.records and "[ TEST ]" not in self.stderr and not self.startup_error:
            lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
            return lines[-1] if lines else f"exit {self.returncode}"
        return None


def _capnp_str(s: str) -> str:
    return json.dumps(s)   # ASCII JSON string literals are valid capnp text literals


# The outbound policy of every generated config: the Worker's global outbound (fetch(), connect(), node:net, DNS
# over HTTPS) goes to a network service that allows no address, so nothing a probe or a verified project does
# leaves the machine. workerd's default would be the public internet.
NO_NETWORK = '(name = "internet", network = (allow = []))'


def write_config(folder: Path, modules: Sequence[Module], *, date: str, flags: Sequence[str] = (),
                 bindings: dict[str, str] | None = None, port: int | None = None) -> Path:
    """Write the modules and a workerd config (`config.capnp`) into folder; the first module is the main one.
    The Worker has no network (NO_NETWORK)."""
    lines = []
    for m in modules:
        fname = m.name.replace("/", "__")
        data = m.source.encode("utf-8") if isinstance(m.source, str) else m.source
        (folder / fname).write_bytes(data)
        lines.append(f"    (name = {_capnp_str(m.name)}, {m.kind} = embed {_capnp_str(fname)}),")
    binds = "".join(f"    (name = {_capnp_str(k)}, text = {_capnp_str(v)}),\n" for k, v in (bindings or {}).items())
    sockets = (f"  sockets = [ (name = \"http\", address = \"127.0.0.1:{port}\", http = (), service = \"main\") ],\n"
               if port else "")
    cfg = (
        'using Workerd = import "/workerd/workerd.capnp";\n'
        "const config :Workerd.Config = (\n"
        f'  services = [ (name = "main", worker = .w), {NO_NETWORK} ],\n'
        f"{sockets}"
        ");\n"
        "const w :Workerd.Worker = (\n"
        "  modules = [\n" + "\n".join(lines) + "\n  ],\n"
        '  globalOutbound = "internet",\n'
        f"  compatibilityDate = {_capnp_str(date)},\n"
        f"  compatibilityFlags = [{', '.join(_capnp_str(f) for f in flags)}],\n"
        f"  bindings = [\n{binds}  ],\n"
        ");\n")
    path = folder / "config.capnp"
    path.write_text(cfg, encoding="utf-8")
    return path


def parse_records(stdout: str) -> list[dict[str, Any]]:
    out = []
    for line in stdout.splitlines():
        i = line.find(MARK)
        if i >= 0:
            try:
                out.append(json.loads(line[i + len(MARK):]))
            except ValueError:
                out.append({"name": "?", "unparsed": line})
    return out


def run_test(modules: Sequence[Module], *, date: str, flags: Sequence[str] = (),
             bindings: dict[str, str] | None = None, root: Path | None = None, timeout: float = 120) -> Result:
    """`workerd test` on a generated config: runs the main module's `test()` export once."""
    binary = workerd_bin(root)
    with tempfile.TemporaryDirectory(prefix="cfcompat-oracle-") as tmp:
        cfg = write_config(Path(tmp), modules, date=date, flags=flags, bindings=bindings)
        t0 = time.monotonic()
        try:
            r = subprocess.run([str(binary), "test", cfg.name], cwd=tmp, capture_output=True, text=True,
                               timeout=timeout)
            rc, out, err = r.returncode, r.stdout, r.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = -1, _txt(e.stdout), _txt(e.stderr) + f"\n(timed out after {timeout}s)"
        return Result(rc, out, err, time.monotonic() - t0, parse_records(out), cfg.read_text(encoding="utf-8"))


def _txt(b: bytes | str | None) -> str:
    if b is None:
        return ""
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else b


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether anything accepts a TCP connection on host:port (used to show that listen() opened no port)."""
    with socket.socket() as s:
        s.settimeout(0.5)
        try:
            s.connect((host, port))
            return True
        except OSError:
            return False


class Server:
    """A running `workerd serve` process; `get(path)` sends an HTTP GET to it."""

    def __init__(self, proc: subprocess.Popen, port: int, log: Path) -> None:
        self.proc, self.port, self._log = proc, port, log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str = "/", timeout: float = 10) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def log(self) -> str:
        return self._log.read_text(encoding="utf-8", errors="replace") if self._log.exists() else ""


@contextlib.contextmanager
def serve(modules: Sequence[Module], *, date: str, flags: Sequence[str] = (), bindings: dict[str, str] | None = None,
          root: Path | None = None, start_timeout: float = 30) -> Iterator[Server]:
    """`workerd serve` on a free loopback port; yields a Server and stops the process afterwards."""
    binary = workerd_bin(root)
    with tempfile.TemporaryDirectory(prefix="cfcompat-oracle-serve-") as tmp:
        port = free_port()
        cfg = write_config(Path(tmp), modules, date=date, flags=flags, bindings=bindings, port=port)
        log = Path(tmp) / "workerd.log"
        with open(log, "wb") as fh:
            proc = subprocess.Popen([str(binary), "serve", cfg.name], cwd=tmp, stdout=fh, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + start_timeout
            while not port_open(port):
                if proc.poll() is not None:
                    raise OracleUnavailable(f"workerd serve exited {proc.returncode}: {log.read_text()[-500:]}")
                if time.monotonic() > deadline:
                    raise OracleUnavailable(f"workerd serve did not open 127.0.0.1:{port} in {start_timeout}s")
                time.sleep(0.05)
            yield Server(proc, port, log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --------------------------------------------------------------------------------------------- probe source helpers

# JS prelude for probe modules: `await probe(name, fn)` runs fn (awaiting promises, pulling one item from async
# iterators, with a time limit) and prints one MARK line: {name, ok, value | error, errname, code}.
PRELUDE = r"""
const __MARK = "@@CFO@@";
function __val(v) {
  if (v === undefined) return "undefined";
  if (v === null || typeof v === "number" || typeof v === "boolean") return v;
  if (typeof v === "string") return v.length > 300 ? v.slice(0, 300) + "…" : v;
  if (typeof v === "function") return "[function " + (v.name || "anonymous") + "]";
  if (Array.isArray(v)) return v.slice(0, 20).map(__val);
  try { const s = JSON.stringify(v); if (s !== undefined && s.length <= 300) return JSON.parse(s); } catch {}
  return "[object " + (v?.constructor?.name ?? typeof v) + "]";
}
function __emit(rec) { console.log(__MARK + JSON.stringify(rec)); }
async function probe(name, fn, ms = 2000) {
  let timer;
  try {
    let v = fn();
    if (v && typeof v.then === "function") {
      v = await Promise.race([v, new Promise((_, rej) => { timer = setTimeout(() => rej(Object.assign(new Error("probe timed out after " + ms + " ms"), { code: "PROBE_TIMEOUT" })), ms); })]);
    } else if (v && typeof v[Symbol.asyncIterator] === "function" && typeof v.then !== "function") {
      const it = v[Symbol.asyncIterator]();
      const first = await Promise.race([it.next(), new Promise((res) => { timer = setTimeout(() => res({ value: "no item in 500 ms" }), 500); })]);
      v = { asyncIterator: true, first: first?.value };
    }
    __emit({ name, ok: true, value: __val(v), type: v === null ? "null" : Array.isArray(v) ? "array" : typeof v });
  } catch (e) {
    __emit({ name, ok: false, errname: e?.name ?? typeof e, error: String(e?.message ?? e).slice(0, 400), code: e?.code ?? null });
  } finally { clearTimeout(timer); }
}
"""


def js(s: str) -> str:
    """A JS string literal."""
    return json.dumps(s)
