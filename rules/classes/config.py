"""Configuration rules: .env loading (dotenv), environment-variable reads, config files read at run time.

What the facts say: on Workers, vars and secrets reach the code as bindings (`env`, or `import { env } from
"cloudflare:workers"`); `process.env` is filled from them only with nodejs_compat and compatibility date
2025-04-01 or later (flag nodejs_compat_populate_process_env). Without nodejs_compat `process` is undefined.
A Worker has no project tree on disk: node:fs sees /bundle (the uploaded modules), /tmp and /dev only, so
`.env` and config/ files are not there at run time.

Limitation: the facts hold calls and imports only. A `process.env.X` (or Python `os.environ["X"]`) read is
seen when it is an argument of a call (`Number(process.env.PORT)`, `new Pool({ connectionString:
process.env.DATABASE_URL })`, `int(os.environ["PORT"])`), not in a plain assignment or destructuring.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from ..model import Hit, RuleContext
from ...analyzer.parsing.facts import Arg, Call, FileFacts
from .runtime import node_table, nodejs_compat_on

POPULATE_FLAG = "nodejs_compat_populate_process_env"
NO_POPULATE_FLAG = "nodejs_compat_do_not_populate_process_env"   # workerd's disable name (inferred)


def process_env_state(date: str, flags: list[str]) -> str:
    """'undefined' (no process global), 'empty' (process.env not filled) or 'filled'."""
    if not nodejs_compat_on(date, flags):
        return "undefined"
    fl = set(flags)
    if NO_POPULATE_FLAG in fl:
        return "empty"
    if POPULATE_FLAG in fl or date >= node_table().process_env_from:
        return "filled"
    return "empty"


# --------------------------------------------------------------------------------------------- dotenv

JS_DOTENV_CALLS = {"dotenv.config", "dotenv.default.config", "dotenv.configDotenv", "dotenv-flow.config",
                   "dotenv-safe.config", "@dotenvx/dotenvx.config", "dotenv-extended.load"}
JS_DOTENV_IMPORTS = {"dotenv/config", "dotenv/config.js", "dotenv-flow/config", "@dotenvx/dotenvx/config",
                     "dotenv-safe/config"}
PY_DOTENV_CALLS = {"dotenv.load_dotenv", "dotenv.dotenv_values", "dotenv.main.load_dotenv",
                   "dotenv.main.dotenv_values", "environs.Env().read_env", "environs.Env.read_env"}
PY_DOTENV_VALUES = {"dotenv.dotenv_values", "dotenv.main.dotenv_values"}
PY_ENV_FILE_KW = {"pydantic_settings.SettingsConfigDict": "env_file"}


class DotenvLoading:
    """Loading a .env file at run time; the severity follows what process.env does at the project's date."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        sites: list[tuple[int, int, int, str, str, str, bool]] = []   # line, col, end, snippet, symbol, guard, top
        if facts.language == "python":
            hits = []
            for c in facts.calls:
                kw = PY_ENV_FILE_KW.get(c.qname)
                if not (c.qname in PY_DOTENV_CALLS or (kw and kw in c.kwargs)):
                    continue
                if c.qname in PY_DOTENV_VALUES:
                    # the values come only from the file: without it the settings are empty
                    sev = "warning"
                    msg = ("Reads settings only from a .env file (dotenv_values returns the file's values, not the "
                           "environment's); the file is not part of a Python Worker's upload, so the settings are "
                           "empty. Define them as Worker vars and secrets, delivered on `self.env`.")
                else:
                    # load_dotenv on a missing file is a no-op (it returns False) and the values still come from the
                    # environment, so the line itself works (corpus/GUIDE.md: dotenv is a config-ok trap)
                    sev = "info"
                    msg = ("Loads a .env file at run time; the file is not part of a Python Worker's upload, so "
                           "python-dotenv loads nothing (it does not raise). Define the values as Worker vars and "
                           "secrets, which are delivered on `self.env`.")
                hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, guard=c.guard, message=msg,
                                severity=sev, top_level=c.top_level))
            return hits
        for imp in facts.imports:
            if imp.module in JS_DOTENV_IMPORTS and not imp.type_only:
                sites.append((imp.line, imp.column, imp.line, imp.snippet, "", imp.guard, imp.top_level))
        for c in facts.calls:
            if c.qname in JS_DOTENV_CALLS:
                sites.append((c.line, c.column, c.end_line, c.snippet, c.symbol, c.guard, c.top_level))
        if not sites:
            return []
        date = ctx.settings.compatibility_date
        flags = list(ctx.settings.compatibility_flags)
        state = process_env_state(date, flags)
        if state == "undefined":
            sev = "blocker"
            msg = ("Loads a .env file with dotenv, which needs node:fs/path/os; nodejs_compat is "
                   f"off at compatibility date {date}, so the build fails on dotenv's `require(\"fs\")` and "
                   "`process` (where dotenv puts the values) is undefined.")
        elif state == "empty":
            sev = "warning"
            msg = ("Loads a .env file with dotenv; the file is not in the deployed Worker, and at "
                   f"compatibility date {date} process.env is not filled from Worker vars and secrets (that starts "
                   f"at {node_table().process_env_from} with nodejs_compat), so every variable reads as undefined.")
        else:
            sev = "info"
            msg = ("Loads a .env file with dotenv; the file is not in the deployed Worker, so "
                   "dotenv loads nothing (it does not throw). process.env is filled from Worker vars and secrets "
                   f"(nodejs_compat, date {date} >= {node_table().process_env_from}): define the variables there.")
        return [Hit(*s[:5], guard=s[5], message=msg, severity=sev, top_level=s[6]) for s in sites]


# --------------------------------------------------------------------------------------------- env-var-read

_PY_ENV_CALLS = {"os.getenv", "os.environ.get", "os.environ.setdefault", "os.getenvb", "os.environ.pop"}
_SUBSCRIPT_NAME = re.compile(r"""environ\s*\[\s*['"]([^'"]+)['"]""")


def _walk(args: list[Arg], depth: int = 0) -> Iterator[Arg]:
    for a in args:
        yield a
        if depth < 4:
            yield from _walk(a.inner, depth + 1)
            yield from _walk(list(a.props.values()), depth + 1)


def _js_env_names(c: Call) -> list[str]:
    if c.kind == "read":
        name = c.qname[len("process.env"):].lstrip(".")
        return [] if name == "NODE_ENV" else [name or "*"]
    out = []
    for a in _walk(c.args):
        v = a.value or ""
        if a.kind == "member" and v.startswith("process.env"):
            name = v[len("process.env"):].lstrip(".")
            if name != "NODE_ENV":   # replaced at build time by wrangler's `define`
                out.append(name or "*")
    return out


def _py_env_names(c: Call) -> list[str]:
    if c.kind == "read":
        if c.qname != "os.environ[]":
            return []
        a = c.args[0] if c.args else None
        return [a.value if a is not None and a.kind == "string" and a.value else "*"]
    out = []
    if c.qname in _PY_ENV_CALLS:
        a = c.args[0] if c.args else c.kwargs.get("key")
        out.append(a.value if a is not None and a.kind == "string" and a.value else "*")
    for a in _walk(c.args + list(c.kwargs.values())):
        if a.kind == "member" and (a.value or "").startswith("os.environ["):
            m = _SUBSCRIPT_NAME.search(a.text)
            out.append(m.group(1) if m else "*")
    return out


class EnvVarRead:
    """Environment-variable reads: the variables to define as Worker vars/secrets (and whether they arrive)."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        py = facts.language == "python"
        date = ctx.settings.compatibility_date
        state = "python" if py else process_env_state(date, list(ctx.settings.compatibility_flags))
        hits: list[Hit] = []
        for c in facts.calls:
            names = _py_env_names(c) if py else _js_env_names(c)
            if not names:
                continue
            shown = ", ".join(dict.fromkeys(n for n in names if n != "*")) or "(computed name)"
            if py:
                sev = "info"
                msg = (f"Reads environment variable(s) {shown}; in a Python Worker, vars and secrets "
                       "from the wrangler config arrive on `self.env` (define them with `vars` / `wrangler secret "
                       "put` and pass them down).")
            elif state == "undefined":
                sev = "blocker"
                msg = (f"Reads process.env ({shown}) but nodejs_compat is off at compatibility "
                       f"date {date}: `process` is undefined, so this throws ReferenceError.")
            elif state == "empty":
                sev = "warning"
                msg = (f"Reads process.env ({shown}); at compatibility date {date} process.env is "
                       f"empty (it is filled from vars and secrets from {node_table().process_env_from}, flag "
                       f"`{POPULATE_FLAG}`), so the value is undefined.")
            else:
                sev = "info"
                msg = (f"Reads process.env ({shown}); on Workers process.env is filled from the "
                       f"Worker's vars and secrets (nodejs_compat, date >= {node_table().process_env_from}), so "
                       "define these there.")
            hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, guard=c.guard, message=msg,
                            severity=sev, top_level=c.top_level))
        return hits


# --------------------------------------------------------------------------------------------- config files

# qualified call -> the import that makes the name mean that library ("" = the name is specific enough)
JS_CONFIG_CALLS: dict[str, str] = {
    "config.get": "config", "config.has": "config", "config.default.get": "config", "config.default.has": "config",
    "config.util.loadFileConfigs": "config", "config.util.toObject": "config",
    "nconf.file": "nconf", "nconf.default.file": "nconf", "nconf.argv().env().file": "nconf",
    "nconf.env().file": "nconf", "nconf.argv().file": "nconf",
    "convict().loadFile": "convict", "convict.default().loadFile": "convict",
    "rc": "rc", "rc.default": "rc",
}
# configparser.ConfigParser().read of a project path is the filesystem rule py-read-project-file.
PY_CONFIG_CALLS: dict[str, str] = {
    "dynaconf.Dynaconf": "", "dynaconf.LazySettings": "",
    "omegaconf.OmegaConf.load": "", "hydra.main": "", "hydra.initialize": "", "hydra.initialize_config_dir": "",
}

# Globs (fnmatchcase) over the calls this module reacts to. The named ones are listed for each class, but
# EnvVarRead also reports ANY call one of whose arguments (at any depth, keyword arguments included) reads
# `process.env...` / `os.environ[...]`, whatever the callee (`Number(process.env.PORT)`, `int(os.environ["PORT"])`
# on another line than the read fact), so no name filter is safe for it: hence the final "*".
CALLS: tuple[str, ...] = (
    *sorted(JS_DOTENV_CALLS), *sorted(PY_DOTENV_CALLS), *PY_ENV_FILE_KW,    # DotenvLoading
    "process.env*", "os.environ[[]]", *sorted(_PY_ENV_CALLS),              # EnvVarRead: `read` facts, getters
    *JS_CONFIG_CALLS, "config.util.*", *PY_CONFIG_CALLS,                    # RuntimeConfigFiles
)
# EnvVarRead also looks inside the arguments of every call (`log(process.env.X)`): the extractors keep any call
# whose arguments mention `process` / `environ` or a local alias of them (ExtractorBase.mentions_env).


class RuntimeConfigFiles:
    """Configuration libraries that read files from the project tree when the app starts or on first use."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        table = PY_CONFIG_CALLS if facts.language == "python" else JS_CONFIG_CALLS
        imported = {i.module for i in facts.imports if not i.type_only}
        hits: list[Hit] = []
        for c in facts.calls:
            need = table.get(c.qname)
            if need is None:
                if not (facts.language != "python" and c.qname.startswith("config.util.") and "config" in imported):
                    continue
                need = "config"
            if need and need not in imported:
                continue  # e.g. a local `config` object with a get() method
            if c.qname in ("dynaconf.Dynaconf", "dynaconf.LazySettings") and "settings_files" not in c.kwargs:
                continue
            hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, guard=c.guard, top_level=c.top_level))
        return hits
