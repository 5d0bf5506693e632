"""`cfcompat fix`: scan, pick the fixes the findings call for, apply them to an in-memory workspace, and report.

Order: code fixes first (they may add cron triggers, an entry module and `main`), then one merged change per
Worker config (settings, flags, main, crons). Only findings in runtime code are fixed unless include_tests.
Every fix is idempotent: it recognises its own output (the `cfcompat-fix:` comments, an existing entry, values
already in the config) and changes nothing the second time.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import Finding
from ..settings import DEFAULT_COMPAT_DATE
from . import js
from .model import FixReport, Workspace
from .py_apscheduler import ApschedulerToCron
from .py_entry import AddScheduledHandler, entry_source
from .py_env import EnvToWorkerEnv
from .py_requests import RequestsToHttpx
from ...rules.loader import rules_fixed_by
from ..whatif import plan_setting_changes
from .wrangler import ConfigRequest, apply_config, current_values, find_config

# the fixes `--only` knows, besides rule ids (each rule names the fixes that resolve it: `fixes:` in its pack)
FIX_IDS = ("settings", "py-asgi-entry", "py-apscheduler-cron", "py-requests-httpx", "py-env-binding",
           "js-http-server-handler", "js-node-cron", "config")


def fixes() -> dict[str, tuple[str, ...]]:
    """Fix id -> the rule ids it addresses (what --only matches, besides the fix id itself)."""
    return {fix: rules_fixed_by(fix) for fix in FIX_IDS}


PY_APPS = ("fastapi.FastAPI", "starlette.applications.Starlette")
NODE_CRON = ("node-cron.schedule", "node-cron.default.schedule")
MANIFESTS = ("package.json", "pyproject.toml", "requirements.txt", "setup.py", "Pipfile")


@dataclass
class FixOptions:
    only: tuple[str, ...] = ()
    include_tests: bool = False


@dataclass
class FixPlan:
    root: Path
    workspace: Workspace
    reports: list[FixReport] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)   # findings the setting changes resolve

    def diff(self) -> str:
        return self.workspace.diff()

    def changed_files(self) -> list[str]:
        return [c[0] for c in self.workspace.changes()]

    def to_json(self) -> dict[str, Any]:
        return {"files": self.changed_files(), "fixes": [r.to_json() for r in self.reports]}


class _Run:
    def __init__(self, root: Path, opts: FixOptions) -> None:
        from ..engine import ScanOptions, scan
        self.root = Path(root)
        self.opts = opts
        self.result = scan(self.root, ScanOptions(include_tests=opts.include_tests, use_cache=False))
        self.ws = Workspace(self.root)
        self.plan = FixPlan(self.root, self.ws)
        self.config: dict[str, ConfigRequest] = {}
        self.facts = {f.path: f for f in self.result.files}
        self.scopes = sorted(self.result.scopes)

    # ------------------------------------------------------------------ helpers
    def selected(self, fix: str) -> bool:
        if not self.opts.only:
            return True
        return fix in self.opts.only or bool(set(rules_fixed_by(fix)) & set(self.opts.only))

    def allowed(self, path: str, context: str | None = None) -> bool:
        if self.opts.include_tests:
            return True
        if context is None:
            ctx = {f.context for f in self.result.findings if f.path == path}
            context = ctx.pop() if len(ctx) == 1 else (self.facts[path].role if path in self.facts else "runtime")
        return context == "runtime"

    def findings(self, fix: str, language: str | None = None) -> list[Finding]:
        """The findings fix FIX addresses (of the rules that name it), in LANGUAGE's files."""
        rules = set(rules_fixed_by(fix))
        out = []
        for f in self.result.findings:
            if f.rule_id not in rules or not self.allowed(f.path, f.context):
                continue
            facts = self.facts.get(f.path)
            if language and (facts is None or (facts.language == "python") != (language == "python")):
                continue
            out.append(f)
        return out

    def scope_of(self, path: str) -> str:
        best = ""
        for d in self.scopes:
            if path.startswith(d + "/") and len(d) > len(best):
                best = d
        return best

    def config_scope(self, path: str) -> str:
        """Folder of the Worker config for code at `path`: the nearest folder with a wrangler config, else (no
        config yet) the nearest folder above `path` with a project manifest, so that a repository holding several
        projects gets the config beside the right one."""
        scope = self.scope_of(path)
        if find_config(self.ws, scope) is not None:
            return scope
        d = posixpath.dirname(path)
        while d and d != scope:
            if any(self.ws.exists(posixpath.join(d, m)) for m in MANIFESTS):
                return d
            d = posixpath.dirname(d)
        return scope

    def request(self, scope: str) -> ConfigRequest:
        return self.config.setdefault(scope, ConfigRequest())

    def report(self, fix: str, path: str, changed: list[str], left: list[str],
               rules: tuple[str, ...] | None = None) -> None:
        if changed or left:
            self.plan.reports.append(FixReport(fix, rules if rules is not None else rules_fixed_by(fix), path,
                                               list(changed), list(left)))

    def settings_for(self, scope: str):
        return self.result.scopes.get(scope) if scope else self.result.settings

    # ------------------------------------------------------------------ Python
    def python(self) -> None:
        pyfiles = [f for f in self.result.files if f.language == "python" and not f.error]
        if not pyfiles:
            return
        if self.selected("py-requests-httpx"):
            for f in pyfiles:
                if any(i.module == "requests" or i.module.startswith("requests.") for i in f.imports) and \
                        self.allowed(f.path):
                    self._codemod(RequestsToHttpx(), f.path)
        if self.selected("py-env-binding"):
            for path in sorted({x.path for x in self.findings("py-env-binding", "python")}):
                self._codemod(EnvToWorkerEnv(), path)
        jobs: list[dict[str, Any]] = []
        if self.selected("py-apscheduler-cron"):
            for path in sorted({x.path for x in self.findings("py-apscheduler-cron", "python")}):
                ext = self._external_names(path, pyfiles)
                res = self._codemod(ApschedulerToCron(), path, external=ext)
                for j in (res.data.get("jobs") if res else None) or []:
                    jobs.append({**j, "file": path})
        groups: dict[str, tuple[list, list[dict[str, Any]]]] = {}
        for f in pyfiles:
            groups.setdefault(self.config_scope(f.path), ([], []))[0].append(f)
        for j in jobs:
            groups.setdefault(self.config_scope(j["file"]), ([], []))[1].append(j)
        for scope in sorted(groups):
            self._python_entry(*groups[scope])

    def _codemod(self, mod, path: str, **ctx: Any):
        text = self.ws.read(path)
        if text is None:
            return None
        try:
            res = mod.transform(text, path, **ctx)
        except Exception as exc:  # a file libcst cannot parse (Python 2, syntax errors): say so, go on
            self.report(mod.NAME, path, [], [f"not changed: {type(exc).__name__}: {str(exc).splitlines()[0]}"])
            return None
        if res.code != text:
            self.ws.write(path, res.code)
        self.report(mod.NAME, path, res.changed, res.left)
        return res

    def _external_names(self, path: str, pyfiles) -> set[str]:
        stem = posixpath.basename(path)[:-3]
        out: set[str] = set()
        for f in pyfiles:
            if f.path == path:
                continue
            text = self.ws.read(f.path) or ""
            for m in re.finditer(r"from\s+[\w.]*\b" + re.escape(stem) + r"\s+import\s+\(?([^)\n]*)", text):
                out.update(re.findall(r"\w+", m.group(1)))
            out.update(re.findall(r"\b" + re.escape(stem) + r"\.(\w+)", text))
        return out

    def _import_root(self, path: str) -> str:
        d = posixpath.dirname(path)
        while d and self.ws.exists(posixpath.join(d, "__init__.py")):
            d = posixpath.dirname(d)
        return d

    @staticmethod
    def _module_name(path: str, root_dir: str) -> str | None:
        rel = posixpath.relpath(path, root_dir or ".")
        if rel.startswith(".."):
            return None
        mod = rel[:-3].replace("/", ".")
        return mod[: -len(".__init__")] if mod.endswith(".__init__") else mod

    def _find_app(self, pyfiles) -> tuple[str, str] | None:
        import libcst as cst
        from .codemod import imports_of, qualify
        for f in pyfiles:
            if not any(c.qname in PY_APPS and c.top_level for c in f.calls) or not self.allowed(f.path):
                continue
            mod = cst.parse_module(self.ws.read(f.path) or "")
            names = imports_of(mod)
            for st in mod.body:
                if isinstance(st, cst.SimpleStatementLine):
                    for s in st.body:
                        if isinstance(s, cst.Assign) and len(s.targets) == 1 and \
                                isinstance(s.targets[0].target, cst.Name) and isinstance(s.value, cst.Call) and \
                                qualify(s.value.func, names) in PY_APPS:
                            return f.path, s.targets[0].target.value
        return None

    def _python_entry(self, pyfiles, jobs: list[dict[str, Any]]) -> None:
        existing = [f.path for f in pyfiles if any(i.module == "workers" and "WorkerEntrypoint" in i.names
                                                   for i in f.imports)]
        entry_fix = self.selected("py-asgi-entry")
        app = self._find_app(pyfiles) if entry_fix else None
        if existing:
            entry = existing[0]
            if jobs:
                entry_dir = posixpath.dirname(entry)
                js_ = self._job_refs(jobs, entry_dir)
                if js_:
                    self._codemod(AddScheduledHandler(), entry, jobs=js_)
            self._python_config(entry, jobs, created=False)
            return
        if app is None and not jobs:
            return
        base_file = app[0] if app else jobs[0]["file"]
        entry_dir = self._import_root(base_file)
        entry = posixpath.join(entry_dir, "entry.py") if entry_dir else "entry.py"
        if self.ws.exists(entry):
            entry = posixpath.join(entry_dir, "worker_entry.py") if entry_dir else "worker_entry.py"
        js_ = self._job_refs(jobs, entry_dir)
        app_ref = (self._module_name(app[0], entry_dir), app[1]) if app else None
        self.ws.write(entry, entry_source(app_ref, js_))  # type: ignore[arg-type]
        changed = [f"created {entry}: class Default(WorkerEntrypoint)"
                   + (f" serving `{app_ref[1]}` from {app_ref[0]} through asgi.fetch" if app_ref else "")
                   + (f" and a scheduled() handler for {len(js_)} job(s)" if js_ else "")]
        left = []
        if app_ref:
            left.append("`request.scope[\"env\"]` holds the Worker's vars, secrets and bindings in a handler; "
                        "the ASGI lifespan runs on every request through asgi.fetch, so startup code in it runs "
                        "per request")
        fix = "py-asgi-entry" if app else "py-apscheduler-cron"
        self.report(fix, entry, changed, left)
        self._python_config(entry, js_, created=True)

    def _job_refs(self, jobs: list[dict[str, Any]], entry_dir: str) -> list[dict[str, Any]]:
        out = []
        for j in jobs:
            mod = self._module_name(j["file"], entry_dir)
            if mod is None:
                self.report("py-apscheduler-cron", j["file"], [],
                            [f"job {j['ref']} ({j['cron']}) is outside the entry's folder {entry_dir or '.'}; "
                             "import it in the scheduled handler by hand"])
                continue
            out.append({**j, "module": mod})
        return out

    def _python_config(self, entry: str, jobs: list[dict[str, Any]], created: bool) -> None:
        scope = self.config_scope(entry)
        req = self.request(scope)
        req.flags.append("python_workers") if "python_workers" not in req.flags else None
        req.main = posixpath.relpath(entry, scope or ".")
        for j in jobs:
            if j["cron"] not in req.crons:
                req.crons.append(j["cron"])
        if find_config(self.ws, scope) is None:
            req.compatibility_date = req.compatibility_date or DEFAULT_COMPAT_DATE

    # ------------------------------------------------------------------ JavaScript
    def javascript(self) -> None:
        server_fix = self.selected("js-http-server-handler")
        cron_fix = self.selected("js-node-cron")
        listens = self.findings("js-http-server-handler", "javascript") if server_fix else []
        cron_lines: dict[str, list[int]] = {}
        if cron_fix:
            for f in self.findings("js-node-cron", "javascript"):
                facts = self.facts.get(f.path)
                if facts and any(c.line == f.line and c.qname in NODE_CRON for c in facts.calls):
                    cron_lines.setdefault(f.path, []).append(f.line)
        groups: dict[str, tuple[list[Finding], dict[str, list[int]]]] = {}
        for f in listens:
            groups.setdefault(self.config_scope(f.path), ([], {}))[0].append(f)
        for path, lines in cron_lines.items():
            groups.setdefault(self.config_scope(path), ([], {}))[1][path] = lines
        for scope in sorted(groups):
            self._javascript_project(scope, *groups[scope])

    def _drop_node_cron_dependency(self, project: str) -> None:
        """A fix removes what it replaces: once no module of the project imports node-cron any more, the
        dependency goes from package.json too (node-cron cannot load in a Worker: it generates random ids and
        reads __dirname when it loads, which fails at start-up)."""
        pat = re.compile(r"""['"]node-cron['"]""")
        for path in self.facts:
            if path.endswith((".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")) and \
                    (not project or path.startswith(project.rstrip("/") + "/")):
                if pat.search(self.ws.read(path) or ""):
                    return      # still imported: the remaining schedules keep it (and the rescan reports them)
        pj = posixpath.join(project, "package.json") if project else "package.json"
        text = self.ws.read(pj)
        if not text or not pat.search(text):
            return
        new = drop_json_entry(text, "node-cron")
        if new is None:
            self.report("js-node-cron", pj, [], ["no module imports node-cron any more: remove it from the "
                                                 "dependencies by hand"])
            return
        self.ws.write(pj, new)
        self.report("js-node-cron", pj, ["removed the node-cron dependency: no module imports it any more"], [])

    def _javascript_project(self, project: str, listens: list[Finding], cron_lines: dict[str, list[int]]) -> None:
        """The JS fixes for one Worker (a folder with a wrangler config or a project manifest)."""
        files = sorted({f.path for f in listens})
        entry: str | None = None
        if len(files) > 1:
            self.report("js-http-server-handler", files[0], [],
                        [f"listen() is called in {len(files)} files ({', '.join(files)}); export "
                         "httpServerHandler from the one that is the Worker's entry by hand"])
            listens = []
        elif files:
            entry = files[0]
        if entry is None:
            cfg = find_config(self.ws, project)
            main = current_values(self.ws, cfg).get("main") if cfg else None
            main = posixpath.normpath(posixpath.join(project, str(main))) if isinstance(main, str) else None
            if main and self.ws.exists(main) and not main.endswith(".py"):
                entry = main
            elif len(cron_lines) == 1:
                entry = next(iter(cron_lines))
        if entry is None:
            for p in cron_lines:
                self.report("js-node-cron", p, [], ["no Worker entry module found for the scheduled handler; set "
                                                    "`main` in the wrangler config and run the fix again"])
            return
        text = self.ws.read(entry) or ""
        esm = js.is_esm(text, entry)
        if "cloudflare:node" in text or (not esm and self._wrapper_exists(entry)):
            return  # already fixed
        port = None
        if listens:
            port, why = js.listen_port(text, entry, listens[0].line, esm)
            if why:
                self.report("js-http-server-handler", entry, [], [f"{entry}:{listens[0].line}: not changed: {why}"])
        jobs: list[js.CronJob] = []
        for path, lines in sorted(cron_lines.items()):
            t = self.ws.read(path) or ""
            m_esm = js.is_esm(t, path)
            ed = js.convert_node_cron(t, path, lines, m_esm, is_entry=(path == entry and esm))
            if ed.text != t:
                self.ws.write(path, ed.text)
            jobs += ed.jobs
            self.report("js-node-cron", path, ed.changed, ed.left)
        if jobs:
            self._drop_node_cron_dependency(project)
        if port is None and not jobs:
            return
        scope = self.config_scope(entry)
        req = self.request(scope)
        for j in jobs:
            if j.cron not in req.crons:
                req.crons.append(j.cron)
        if esm:
            ed = js.build_entry(self.ws.read(entry) or "", entry, port, jobs)
            if ed.text != (self.ws.read(entry) or ""):
                self.ws.write(entry, ed.text)
            self.report("js-http-server-handler" if port else "js-node-cron", entry, ed.changed, ed.left)
            main = entry
        else:
            d = posixpath.dirname(entry)
            wrapper = posixpath.join(d, "worker.mjs") if d else "worker.mjs"
            if self.ws.exists(wrapper):
                wrapper = posixpath.join(d, "cf-worker.mjs") if d else "cf-worker.mjs"
            self.ws.write(wrapper, js.wrapper_source(entry, wrapper, port, jobs))
            self.report("js-http-server-handler" if port else "js-node-cron", wrapper,
                        [f"created {wrapper}: an ES module entry that loads the CommonJS {entry} and exports "
                         + (f"httpServerHandler({{ port: {port} }})" if port else "the scheduled handler")
                         + (" with a scheduled() handler" if port and jobs else "")],
                        [f"{entry} is CommonJS; `module.exports = httpServerHandler(...)` would not be a Worker "
                         "(wrangler takes a CommonJS entry as a service-worker script), so main points at "
                         f"{wrapper}"])
            main = wrapper
        rel_main = posixpath.relpath(main, scope or ".")
        cfg = find_config(self.ws, scope)
        cur_main = current_values(self.ws, cfg).get("main") if cfg else None
        if cur_main is None:
            req.main = rel_main
        elif posixpath.normpath(str(cur_main)) != posixpath.normpath(rel_main):
            if not esm and posixpath.normpath(str(cur_main)) == posixpath.relpath(entry, scope or "."):
                req.main_replace = (str(cur_main), rel_main)
            else:
                self.report("js-http-server-handler", cfg or entry, [],
                            [f"the wrangler config's main is {cur_main}, not {rel_main}, where the handler was "
                             "added: check which module is the Worker's entry"])
        if find_config(self.ws, scope) is None:
            req.compatibility_date = req.compatibility_date or DEFAULT_COMPAT_DATE

    def _wrapper_exists(self, entry: str) -> bool:
        d = posixpath.dirname(entry)
        for name in ("worker.mjs", "cf-worker.mjs"):
            p = posixpath.join(d, name) if d else name
            t = self.ws.read(p)
            if t and js.relative_spec(p, entry) in t:
                return True
        return False

    # ------------------------------------------------------------------ settings
    def settings(self) -> None:
        if not self.selected("settings"):
            return
        rules = set(self.opts.only) if self.opts.only and "settings" not in self.opts.only else None
        for ch in plan_setting_changes(self.result, self.opts.include_tests, rules):
            req = self.request(ch.scope)
            if ch.date:
                req.compatibility_date = max(req.compatibility_date or ch.date, ch.date)
            for fl in ch.flags:
                if fl not in req.flags:
                    req.flags.append(fl)
            self.plan.resolved += ch.resolves
            where = ch.describe()
            self.report("settings", find_config(self.ws, ch.scope) or (ch.scope + "/wrangler.jsonc").lstrip("/"),
                        [f"{where} resolves {f.rule_id} at {f.path}:{f.line}" for f in ch.resolves], [],
                        rules=tuple(sorted({f.rule_id for f in ch.resolves})))

    def apply_configs(self) -> None:
        for scope, req in sorted(self.config.items()):
            if req.empty():
                continue
            path, said = apply_config(self.ws, scope, req)
            if said:
                self.report("config", path, said, [])


def require_clean_worktree(root: Path) -> None:
    """`fix --write` without --force: refuse (exit 2) when the git work tree has uncommitted changes. git runs
    with the hardening `--diff-base` uses (no hooks, fsmonitor, filters: nothing the repository configures
    runs); no git or no repository: nothing to protect."""
    from ..gitdiff import worktree_changes
    if worktree_changes(Path(root)):
        import click    # a ClickException: the CLI prints the one line and exits 2 (also under `python -m`)
        raise click.ClickException("the git work tree has uncommitted changes; commit or stash them first, or "
                                   "pass --force")


def plan_fixes(root: Path, options: FixOptions | None = None) -> FixPlan:
    run = _Run(Path(root), options or FixOptions())
    run.python()
    run.javascript()
    run.settings()
    run.apply_configs()
    _report_refused(run.plan)
    return run.plan


def drop_json_entry(text: str, key: str) -> str | None:
    """package.json text without the `"key": "..."` entries (comma kept valid), or None when the result would
    not be the same JSON minus those entries."""
    import json
    try:
        before = json.loads(text)
    except ValueError:
        return None
    k = re.escape(key)
    new = re.sub(r',\s*"' + k + r'"\s*:\s*"[^"]*"', "", text)
    new = re.sub(r'"' + k + r'"\s*:\s*"[^"]*"\s*,\s*', "", new)
    new = re.sub(r'"' + k + r'"\s*:\s*"[^"]*"', "", new)
    try:
        after = json.loads(new)
    except ValueError:
        return None
    for sect in ("dependencies", "devDependencies", "optionalDependencies"):
        if isinstance(before.get(sect), dict):
            before[sect].pop(key, None)
    return new if after == before else None


def _report_refused(plan: FixPlan) -> None:
    """A fix whose file the workspace would not write (a link, not a regular file): what it would have changed
    is left for a person, with the reason."""
    refused = plan.workspace.refused
    if not refused:
        return
    for r in plan.reports:
        if r.path in refused:
            r.left = [f"not done: {c}" for c in r.changed] + r.left
            r.changed = []
    for rel, why in sorted(refused.items()):
        plan.reports.append(FixReport("file-system", (), rel, [],
                                      [f"{rel} was not written: {why} (cfcompat fix writes only regular files "
                                       "inside the repository, never through a link)"]))
