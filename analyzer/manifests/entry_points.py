"""Entry points: what starts the application.

Parses commands as written in package.json scripts, Pipfile scripts, Procfile, Dockerfile CMD/ENTRYPOINT
and docker-compose `command:` — `node x.js`, `tsx src/a.ts`, `nodemon --exec ts-node ...`,
`wrangler dev`, `python -m pkg`, `uvicorn app.main:app`, `gunicorn 'app:create_app()'`, `flask --app x run`,
`fastapi run main.py`, `streamlit run app.py` ... — into repository-relative files. Nothing is executed.
"""
from __future__ import annotations

import json
import posixpath
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ._common import Parsed, ReadError, dirname, is_dev_name, join_rel, load_yaml, read_text
from ._model import EntryPoint

JS_EXTS = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")
PY_EXTS = (".py", ".pyw")

# programs whose first argument is a JS/TS file
_NODE_RUNNERS = {
    "node", "nodejs", "bun", "deno", "tsx", "ts-node", "ts-node-dev", "ts-node-esm", "tsnd", "esno", "esr",
    "vite-node", "babel-node", "node-dev", "nodemon", "swc-node", "sucrase-node", "jiti", "pm2",
    "pm2-runtime", "forever", "wrangler", "miniflare", "tsm", "esbuild-register", "supervisor",
}
_PY_RUNNERS = {"python", "python3", "py", "pypy", "pypy3"}
_ASGI = {"uvicorn", "gunicorn", "hypercorn", "daphne", "granian", "waitress-serve", "uwsgi"}
# wrappers stripped from the front of a command (with how many of their own arguments)
_WRAPPERS = {"env": 0, "cross-env": 0, "cross-env-shell": 0, "exec": 0, "sudo": 0, "time": 0, "nice": 0,
             "nohup": 0, "npx": 0, "bunx": 0, "pnpx": 0, "dumb-init": 0, "tini": 0, "gosu": 1, "su-exec": 1,
             "newrelic-admin": 0, "ddtrace-run": 0, "opentelemetry-instrument": 0, "watchmedo": 0}
_RUN_WRAPPERS = {("uv", "run"), ("poetry", "run"), ("pipenv", "run"), ("pdm", "run"), ("rye", "run"),
                 ("hatch", "run"), ("npm", "exec"), ("pnpm", "exec"), ("pnpm", "dlx"), ("yarn", "dlx"),
                 ("doppler", "run"), ("op", "run"), ("infisical", "run"), ("conda", "run"), ("pixi", "run")}

_VALUE_OPTS = {
    "node": {"-r", "--require", "--import", "--loader", "--experimental-loader", "-C", "--conditions",
             "--input-type", "--env-file", "--title", "--stack-size", "--inspect-port"},
    "nodemon": {"-w", "--watch", "-e", "--ext", "-i", "--ignore", "-x", "--exec", "--delay", "--signal",
                "-d", "--config", "--cwd"},
    "pm2": {"--name", "-n", "-i", "--instances", "--max-memory-restart", "--interpreter", "--node-args",
            "--env", "--cwd", "-o", "-e", "--output", "--error", "--log"},
    "ts-node": {"-r", "--require", "-P", "--project", "-O", "--compiler-options", "-C", "--compiler",
                "--cwd", "--dir"},
    "tsx": {"--tsconfig", "-r", "--require", "--import", "--env-file"},
    "deno": {"--config", "-c", "--import-map", "--env", "--location", "--cert", "--lock"},
    "wrangler": {"-c", "--config", "-e", "--env", "--port", "--ip", "--name", "--compatibility-date",
                 "--local-protocol", "--persist-to", "--inspector-port", "--var", "--define", "--site"},
}
_PY_VALUE_OPTS = {"-W", "-X", "-Q"}
_SERVER_VALUE_OPTS = {
    "-w", "--workers", "-k", "--worker-class", "-b", "--bind", "-c", "--config", "-t", "--timeout",
    "--threads", "--log-level", "--host", "--port", "--app-dir", "--env-file", "--root-path", "--log-config",
    "--forwarded-allow-ips", "--access-logfile", "--error-logfile", "--chdir", "--pythonpath", "-e", "--env",
    "-n", "--name", "--uds", "--fd", "--ws", "--http", "--loop", "--lifespan", "--interface",
    "--proxy-protocol", "--limit-concurrency", "--backlog", "--timeout-keep-alive", "--ssl-keyfile",
    "--ssl-certfile", "--keep-alive", "--graceful-timeout", "--max-requests", "--max-requests-jitter",
    "--worker-connections", "--user", "--group", "-u", "-g", "--umask", "--capture-output", "--statsd-host",
    "-p", "--pid", "--reload-dir", "--reload-include", "--reload-exclude", "--access-log-format",
    "--certfile", "--keyfile", "--ca-certs", "--limit-max-requests", "--call", "--listen", "--threads",
    "--module", "--wsgi-file", "--http-socket", "--socket", "--processes", "--master-fifo", "--root-path",
}

_MODULE_ATTR = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?::([A-Za-z_].*))?$")
_ENV_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass
class Target:
    kind: str    # file | module | main-module
    value: str
    base_extra: str = ""   # sub-directory the server is told to chdir/app-dir into


def _tokens(command: str) -> list[list[str]]:
    """Split a shell command into segments of words (at &&, ||, ;, |, &)."""
    try:
        lex = shlex.shlex(command, posix=True, punctuation_chars=";&|<>")
        lex.whitespace_split = True
        lex.commenters = ""
        words = list(lex)
    except ValueError:
        words = command.split()
    segs: list[list[str]] = [[]]
    skip_next = False
    for w in words:
        if skip_next:
            skip_next = False
            continue
        if w and set(w) <= set(";&|"):
            segs.append([])
            continue
        if w and set(w) <= set("<>"):
            skip_next = True  # a redirection target
            continue
        segs[-1].append(w)
    return [s for s in segs if s]


def _prog(word: str) -> str:
    base = word.replace("\\", "/").rsplit("/", 1)[-1]
    if base.endswith(".exe"):
        base = base[:-4]
    return base


def _strip_wrappers(words: list[str], env: dict[str, str]) -> list[str]:
    i = 0
    n = len(words)
    while i < n:
        w = words[i]
        if _ENV_ASSIGN.match(w):
            k, _, v = w.partition("=")
            env[k] = v
            i += 1
            continue
        p = _prog(w)
        if p in _WRAPPERS:
            i += 1 + _WRAPPERS[p]
            # options of the wrapper (npx -y, env -i, nice -n 10 ...)
            while i < n and words[i].startswith("-"):
                if words[i] in ("-n", "-u", "-p", "--package") and i + 1 < n:
                    i += 1
                i += 1
            if p == "tini" and i < n and words[i] == "--":
                i += 1
            continue
        if i + 1 < n and (p, words[i + 1]) in _RUN_WRAPPERS:
            i += 2
            while i < n and words[i].startswith("-"):
                if words[i] == "--":
                    i += 1
                    break
                if words[i] in ("-n", "--name", "-e", "--environment", "-p", "--project", "--with", "--env-file",
                                "--group", "--extra") and i + 1 < n:
                    i += 1
                i += 1
            continue
        if p == "dotenv":
            i += 1
            while i < n and words[i] != "--":
                i += 1
            i += 1
            continue
        break
    return words[i:]


def _positionals(args: list[str], value_opts: set[str]) -> list[str]:
    out = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            out.extend(args[i + 1:])
            break
        if a.startswith("-") and a != "-":
            if "=" not in a and a in value_opts:
                i += 2
                continue
            i += 1
            continue
        out.append(a)
        i += 1
    return out


def _opt_value(args: list[str], names: Iterable[str]) -> str | None:
    names = set(names)
    for i, a in enumerate(args):
        if a in names and i + 1 < len(args):
            return args[i + 1]
        for nm in names:
            if nm.startswith("--") and a.startswith(nm + "="):
                return a[len(nm) + 1:]
    return None


def parse_command(command: str | list[str], _depth: int = 0) -> tuple[list[Target], bool]:
    """Targets a command runs, and whether a known runner/server was recognised."""
    if _depth > 4:
        return [], False
    if isinstance(command, list):
        segments = [list(command)]
    else:
        segments = _tokens(command)
    targets: list[Target] = []
    recognised = False
    for seg in segments:
        env: dict[str, str] = {}
        words = _strip_wrappers(seg, env)
        if not words:
            continue
        prog = _prog(words[0])
        args = words[1:]
        if prog in ("sh", "bash", "zsh", "ash", "dash") and len(args) >= 2 and args[0] in ("-c", "-lc", "-ec"):
            t, r = parse_command(args[1], _depth + 1)
            targets.extend(t)
            recognised = recognised or r
            continue
        if prog in _NODE_RUNNERS:
            recognised = True
            targets.extend(_node_targets(prog, args, _depth))
            continue
        if prog in _PY_RUNNERS or re.fullmatch(r"python\d(\.\d+)?", prog):
            recognised = True
            targets.extend(_python_targets(args, _depth))
            continue
        if prog in _ASGI:
            recognised = True
            targets.extend(_server_targets(prog, args))
            continue
        if prog == "flask":
            recognised = True
            app = _opt_value(args, ["--app", "-A"]) or env.get("FLASK_APP")
            if app:
                targets.append(_app_target(app))
            continue
        if prog == "celery":
            recognised = True
            app = _opt_value(args, ["-A", "--app"])
            if app:
                targets.append(_app_target(app))
            continue
        if prog in ("fastapi", "streamlit", "chainlit", "gradio", "panel", "marimo"):
            recognised = True
            pos = _positionals(args, {"--host", "--port", "--app", "--root-path", "--server.port"})
            if pos and pos[0] in ("run", "dev", "serve", "edit"):
                pos = pos[1:]
            if pos:
                targets.append(_app_target(pos[0]))
            continue
    return targets, recognised


def _app_target(spec: str) -> Target:
    spec = spec.strip().strip("'\"")
    if spec.endswith(PY_EXTS) or spec.endswith(JS_EXTS) or "/" in spec:
        return Target("file", spec.split(":", 1)[0])
    m = _MODULE_ATTR.match(spec.split("(", 1)[0])
    if m:
        return Target("module", m.group(1))
    return Target("file", spec)


def _node_targets(prog: str, args: list[str], depth: int) -> list[Target]:
    if prog == "node" or prog == "nodejs":
        if any(a in ("-e", "--eval", "-p", "--print") for a in args):
            return []
    if prog == "nodemon":
        ex = _opt_value(args, ["-x", "--exec"])
        if ex:
            sub = ex + " " + " ".join(_positionals(args, _VALUE_OPTS["nodemon"]))
            t, _ = parse_command(sub, depth + 1)
            return t
    value_opts = _VALUE_OPTS.get(prog) or _VALUE_OPTS.get(prog.split("-")[0]) or _VALUE_OPTS["node"]
    pos = _positionals(args, value_opts | _VALUE_OPTS["node"] if prog != "nodemon" else value_opts)
    sub_words = {"run", "watch", "start", "serve", "dev", "deploy", "publish", "pages", "task"}
    if prog in ("wrangler", "miniflare"):
        # wrangler dev [script]; wrangler deploy [script]; wrangler pages dev <dir>
        pos = [p for p in pos if p not in sub_words]
        return [Target("file", p) for p in pos[:1] if p.endswith(JS_EXTS)]
    if prog in ("pm2", "pm2-runtime", "forever") and pos and pos[0] in ("start", "restart", "reload"):
        pos = pos[1:]
    while pos and pos[0] in sub_words and not pos[0].endswith(JS_EXTS):
        if prog == "deno" and pos[0] == "task":
            return []
        pos = pos[1:]
    if not pos:
        return []
    first = pos[0]
    if first in (".", "./"):
        return [Target("main-module", ".")]
    if prog == "bun" and not (first.endswith(JS_EXTS) or "/" in first):
        return []  # `bun run dev` runs a package.json script
    if prog == "deno" and re.match(r"^(https?|npm|jsr):", first):
        return []
    return [Target("file", first)]


_PY_TOOLS = {"pip", "pytest", "unittest", "venv", "virtualenv", "http.server", "json.tool", "mypy", "ruff", "black",
             "build", "twine", "pip_audit", "coverage", "tox", "nox", "ensurepip", "compileall", "timeit", "cProfile",
             "pdb", "django", "alembic", "isort", "flake8", "pylint", "py_compile", "zipapp", "site"}
_SERVER_MODULES = _ASGI | {"flask", "celery", "fastapi", "streamlit", "chainlit", "gradio", "panel"}


def _python_module_targets(module: str, rest: list[str], depth: int) -> list[Target]:
    if module in _SERVER_MODULES:           # python -m uvicorn app.main:app
        return parse_command([module] + rest, depth + 1)[0]
    if module in _PY_TOOLS or module.split(".")[0] in _PY_TOOLS:
        return []
    return [Target("main-module", module)]


def _python_targets(args: list[str], depth: int = 0) -> list[Target]:
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-m" and i + 1 < len(args):
            return _python_module_targets(args[i + 1], args[i + 2:], depth)
        if a.startswith("-m") and len(a) > 2 and not a.startswith("--"):
            return _python_module_targets(a[2:], args[i + 1:], depth)
        if a in ("-c",) or (a.startswith("-c") and not a.startswith("--")):
            return []
        if a in _PY_VALUE_OPTS:
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        return [Target("file", a)]
    return []


def _server_targets(prog: str, args: list[str]) -> list[Target]:
    extra = _opt_value(args, ["--app-dir", "--chdir", "--pythonpath"]) or ""
    if prog == "uwsgi":
        f = _opt_value(args, ["--wsgi-file", "--file"])
        if f:
            return [Target("file", f, extra)]
        m = _opt_value(args, ["--module", "-w", "--wsgi"])
        if m:
            t = _app_target(m)
            t.base_extra = extra
            return [t]
        return []
    if prog == "waitress-serve":
        call = _opt_value(args, ["--call"])
        if call:
            t = _app_target(call)
            t.base_extra = extra
            return [t]
    pos = _positionals(args, _SERVER_VALUE_OPTS)
    cands = [p for p in pos if ":" in p and _MODULE_ATTR.match(p.split("(", 1)[0])]
    if not cands:
        cands = [p for p in pos if _MODULE_ATTR.match(p) and p not in ("run", "serve")]
    if prog == "granian" and not cands:
        return []
    if not cands:
        return []
    t = _app_target(cands[0])
    t.base_extra = extra
    return [t]


def module_to_path(module: str, base: str, known: set[str] | frozenset[str], main: bool = False) -> str | None:
    """'app.main' -> 'app/main.py' (or a package __init__/__main__, or under src/) relative to base."""
    parts = [p for p in module.split(".") if p]
    if not parts or any(not re.fullmatch(r"[A-Za-z_]\w*", p) for p in parts):
        return None
    rel = "/".join(parts)
    cands = []
    for prefix in ("", "src/"):
        if main:
            cands.append(prefix + rel + "/__main__.py")
        cands.append(prefix + rel + ".py")
        cands.append(prefix + rel + "/__init__.py")
    joined = [join_rel(base, c) for c in cands]
    for j in joined:
        if j is not None and j in known:
            return j
    return joined[1] if main else joined[0]


def resolve_target(t: Target, base: str, known: set[str] | frozenset[str]) -> str | None:
    b = join_rel(base, t.base_extra) if t.base_extra else base
    if b is None:
        return None
    if t.kind == "module":
        return module_to_path(t.value, b, known)
    if t.kind == "main-module":
        if t.value in (".", "./"):
            return None
        return module_to_path(t.value, b, known, main=True)
    p = join_rel(b, t.value)
    if p is None:
        return None
    if p in known:
        return p
    root, ext = posixpath.splitext(p)
    if not ext:
        for e in JS_EXTS + PY_EXTS:
            if p + e in known:
                return p + e
        for e in (".js", ".ts", ".mjs"):
            if (p + "/index" + e) in known:
                return p + "/index" + e
    return p


def entry_points_for(command: str | list[str], base: str, known: set[str] | frozenset[str], source: str,
                     line: int, kind: str, keep_unresolved: bool = True,
                     path_map=None) -> list[EntryPoint]:
    """EntryPoints for a command: one per file it runs, or one with path None if it runs no known file."""
    targets, recognised = parse_command(command)
    text = command if isinstance(command, str) else " ".join(shlex.quote(w) for w in command)
    out = []
    for t in targets:
        if path_map is not None:
            t = path_map(t)
            if t is None:
                continue
        p = resolve_target(t, base, known)
        out.append(EntryPoint(p, text, source, line, kind))
    if not out and keep_unresolved:
        out.append(EntryPoint(None, text, source, line, kind))
    return out


# ------------------------------------------------------------------------------------------ script kinds

_KIND_NAMES = {
    "runtime": {"start", "serve", "server", "prod", "production", "web", "worker", "launch", "run", "app", "main"},
    "dev": {"dev", "develop", "development", "watch", "preview", "local", "debug"},
    "build": {"build", "compile", "bundle", "prepare", "install", "preinstall", "postinstall", "prepublish",
              "prepublishonly", "prepack", "postpack", "generate", "codegen", "gen", "deploy", "release",
              "migrate", "clean", "tsc", "export", "package", "dist", "vercel-build", "heroku-postbuild",
              "postbuild", "prebuild", "predeploy", "db", "seed"},
    "test": {"test", "tests", "e2e", "lint", "typecheck", "type-check", "check", "coverage", "cypress",
             "playwright", "jest", "vitest", "format", "fmt", "ci", "spec", "bench", "prettier", "eslint",
             "validate", "verify", "storybook"},
}


def script_kind(name: str) -> tuple[str, bool]:
    """(kind, known) for a package.json / Pipfile script name: start -> runtime, dev -> dev ..."""
    n = name.lower().strip()
    head = re.split(r"[:._\s]", n, maxsplit=1)[0]
    for kind in ("test", "build", "dev", "runtime"):
        if head in _KIND_NAMES[kind]:
            return kind, True
    for pre in ("pre", "post"):
        if head.startswith(pre) and len(head) > len(pre):
            inner, known = script_kind(head[len(pre):])
            if known:
                return ("build" if inner != "test" else "test"), True
    words = re.split(r"[-:._\s]+", n)
    for kind in ("test", "build", "dev"):
        if any(w in _KIND_NAMES[kind] for w in words):
            return kind, False
    return "runtime", False


# ------------------------------------------------------------------------------------------------ files

def is_entry_point_file(rel: str) -> bool:
    base = rel.rsplit("/", 1)[-1]
    low = base.lower()
    if base == "Procfile" or base.startswith("Procfile."):
        return True
    if low == "dockerfile" or low.startswith("dockerfile.") or low.endswith(".dockerfile") or low == "containerfile":
        return True
    if re.fullmatch(r"(docker-)?compose(\.[\w.-]+)?\.ya?ml", low):
        return True
    return False


def read_entry_file(root: Path, rel: str, known: set[str] | frozenset[str]) -> Parsed:
    base = rel.rsplit("/", 1)[-1]
    low = base.lower()
    if base == "Procfile" or base.startswith("Procfile."):
        return read_procfile(root, rel, known)
    if "compose" in low and low.endswith((".yml", ".yaml")):
        return read_compose(root, rel, known)
    return read_dockerfile(root, rel, known)


def read_procfile(root: Path, rel: str, known) -> Parsed:
    res = Parsed(rel, "procfile")
    try:
        text = read_text(root, rel)
    except ReadError as exc:
        res.error(str(exc))
        return res
    file_dev = is_dev_name(rel.rsplit("/", 1)[-1].partition(".")[2])
    base = dirname(rel)
    for i, line in enumerate(text.split("\n"), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m = re.match(r"^([A-Za-z0-9_.-]+)\s*:\s*(.+)$", s)
        if not m:
            res.error(f"invalid Procfile line {i}: expected 'name: command'")
            continue
        name, cmd = m.group(1), m.group(2).strip()
        if file_dev:
            kind = "dev"
        elif name in ("release", "postdeploy", "predeploy"):
            kind = "build"
        elif "test" in name:
            kind = "test"
        else:
            kind = "runtime"
        res.entry_points.extend(entry_points_for(cmd, base, known, rel, i, kind))
    return res


def _docker_logical_lines(text: str) -> list[tuple[int, str]]:
    lines = text.split("\n")
    escape = "\\"
    for ln in lines[:5]:
        m = re.match(r"^\s*#\s*escape\s*=\s*(\S)", ln)
        if m:
            escape = m.group(1)
        elif ln.strip() and not ln.strip().startswith("#"):
            break
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    heredoc: str | None = None
    for i, raw in enumerate(lines, 1):
        if heredoc is not None:
            if raw.strip() == heredoc:
                heredoc = None
            continue
        stripped = raw.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue  # comment lines inside a continuation are dropped by Docker
        if not buf:
            start = i
        if stripped.endswith(escape):
            buf.append(stripped[:-1])
            continue
        buf.append(stripped)
        logical = " ".join(b.strip() for b in buf if b.strip())
        out.append((start, logical))
        buf = []
        hm = re.search(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?", logical)
        if hm and re.match(r"^(RUN|COPY|ADD)\b", logical, re.I):
            heredoc = hm.group(1)
    if buf:
        out.append((start, " ".join(b.strip() for b in buf if b.strip())))
    return out


def _docker_args(arg: str) -> list[str] | str:
    s = arg.strip()
    if s.startswith("["):
        try:
            v = json.loads(s)
        except ValueError:
            return s
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            return v
    return s


def _container_mapper(workdir: str):
    wd = workdir.rstrip("/")

    def mapper(t: Target) -> Target | None:
        if t.kind == "file" and t.value.startswith("/"):
            if wd and t.value.startswith(wd + "/"):
                return Target(t.kind, t.value[len(wd) + 1:], t.base_extra)
            return None
        if t.base_extra.startswith("/"):
            if wd and (t.base_extra == wd or t.base_extra.startswith(wd + "/")):
                return Target(t.kind, t.value, t.base_extra[len(wd) + 1:])
            return Target(t.kind, t.value, "")
        return t
    return mapper


def read_dockerfile(root: Path, rel: str, known) -> Parsed:
    res = Parsed(rel, "dockerfile")
    try:
        text = read_text(root, rel)
    except ReadError as exc:
        res.error(str(exc))
        return res
    base = dirname(rel)
    stages: list[dict] = []
    for line_no, logical in _docker_logical_lines(text):
        m = re.match(r"^([A-Za-z]+)\s*(.*)$", logical)
        if not m:
            continue
        instr, arg = m.group(1).upper(), m.group(2)
        if instr == "FROM" or not stages:
            stages.append({"workdir": "", "cmd": None, "entrypoint": None})
            if instr == "FROM":
                continue
        st = stages[-1]
        if instr == "WORKDIR":
            w = arg.strip().strip("'\"")
            st["workdir"] = w if w.startswith("/") else posixpath.join(st["workdir"] or "/", w)
        elif instr == "CMD":
            st["cmd"] = (line_no, _docker_args(arg), st["workdir"])
        elif instr == "ENTRYPOINT":
            st["entrypoint"] = (line_no, _docker_args(arg), st["workdir"])
    for idx, st in enumerate(stages):
        kind = "runtime" if idx == len(stages) - 1 else "build"
        ep = st["entrypoint"]
        cmd = st["cmd"]
        if ep is not None:
            res.entry_points.extend(entry_points_for(ep[1], base, known, rel, ep[0], kind,
                                                     path_map=_container_mapper(ep[2])))
        if cmd is not None:
            eps: list[EntryPoint] = []
            if ep is not None and isinstance(ep[1], list) and isinstance(cmd[1], list):
                eps = entry_points_for(ep[1] + cmd[1], base, known, rel, cmd[0], kind,
                                       keep_unresolved=False, path_map=_container_mapper(cmd[2]))
            if not eps:
                eps = entry_points_for(cmd[1], base, known, rel, cmd[0], kind, path_map=_container_mapper(cmd[2]))
            res.entry_points.extend(eps)
    return res


def read_compose(root: Path, rel: str, known) -> Parsed:
    res = Parsed(rel, "compose")
    try:
        text = read_text(root, rel)
    except ReadError as exc:
        res.error(str(exc))
        return res
    data, lines, err = load_yaml(text, rel, line_depth=3)
    if err:
        res.errors.append(err)
        return res
    if not isinstance(data, dict):
        return res
    services = data.get("services")
    if not isinstance(services, dict):
        return res
    here = dirname(rel)
    for svc in sorted(services, key=str):
        conf = services[svc]
        if not isinstance(conf, dict):
            continue
        build = conf.get("build")
        ctx = build if isinstance(build, str) else (build.get("context") if isinstance(build, dict) else None)
        base = join_rel(here, ctx) if isinstance(ctx, str) else here
        if base is None:
            base = here
        wd = conf.get("working_dir") if isinstance(conf.get("working_dir"), str) else ""
        kind = "test" if "test" in str(svc).lower() else "runtime"
        for key in ("entrypoint", "command"):
            val = conf.get(key)
            if isinstance(val, list):
                val = [str(v) for v in val]
            elif not isinstance(val, str):
                continue
            ln = lines.get(("services", str(svc), key), 1)
            res.entry_points.extend(entry_points_for(val, base, known, rel, ln, kind,
                                                     path_map=_container_mapper(wd)))
    return res


_NPM_PROGS = _NODE_RUNNERS | {"npm", "yarn", "pnpm", "next", "vite", "nuxt", "remix-serve", "react-router-serve",
                              "astro", "nest", "react-scripts", "serve", "http-server", "turbo", "nx", "svelte-kit"}
_PY_PROGS = _PY_RUNNERS | _ASGI | {"flask", "celery", "fastapi", "streamlit", "chainlit", "gradio", "panel",
                                   "django-admin", "pip", "uv", "poetry", "pipenv", "pdm", "marimo", "jupyter"}


def command_ecosystem(ep: EntryPoint) -> str | None:
    """'npm' | 'pypi' | None: which ecosystem an entry point's file or program belongs to."""
    if ep.path:
        if ep.path.endswith(PY_EXTS):
            return "pypi"
        if ep.path.endswith(JS_EXTS):
            return "npm"
    if not ep.command:
        return None
    for seg in _tokens(ep.command):
        words = _strip_wrappers(list(seg), {})
        if not words:
            continue
        p = _prog(words[0])
        if p in _PY_PROGS or re.fullmatch(r"python\d(\.\d+)?", p):
            return "pypi"
        if p in _NPM_PROGS:
            return "npm"
    return None
