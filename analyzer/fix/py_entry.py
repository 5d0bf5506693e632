"""The Python Workers entry module: `class Default(WorkerEntrypoint)` serving an ASGI app and running Cron
Trigger jobs.

A FastAPI or Starlette app is served through the Workers SDK's ASGI adapter, as in Cloudflare's FastAPI example:

    class Default(WorkerEntrypoint):
        async def fetch(self, request):
            import asgi
            return await asgi.fetch(app, request, self.env)

`asgi.fetch` puts `self.env` into the ASGI scope (`scope["env"]`), which is how `py_env.py` reaches it. Jobs
found by `py_apscheduler.py` go into a `CRON_JOBS` table (Cron Trigger expression -> functions) that
`async def scheduled(self, controller, env, ctx)` dispatches on `controller.cron`. The entry is written next to
the top-level package of the app (the folder wrangler uploads modules from is the folder of `main`), so the app's
own absolute and relative imports keep working.
"""
from __future__ import annotations

import re
from typing import Any

import libcst as cst

from .codemod import Codemod, CodemodResult, Invalid, Valid, add_import

HEADER = '''"""Python Workers entry point (created by `cfcompat fix`).

Requests reach the ASGI app through the Workers SDK's adapter, which passes the Worker's env in the ASGI scope
(`request.scope["env"]` in a handler). Cron Triggers call `scheduled` with the trigger's expression in
`controller.cron`.
"""
'''

SCHEDULED = '''
    async def scheduled(self, controller, env, ctx):
        for job in CRON_JOBS.get(controller.cron, []):
            result = job()
            if inspect.isawaitable(result):
                await result
'''


def module_alias(module: str) -> str:
    return re.sub(r"\W", "_", module.replace(".", "_"))


def _import_line(module: str) -> str:
    alias = module_alias(module)
    return f"import {module}" if alias == module else f"import {module} as {alias}"


def _job_expr(job: dict[str, Any]) -> str:
    return f"{module_alias(job['module'])}.{job['ref']}"


def _table(jobs: list[dict[str, Any]]) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for j in jobs:
        refs = table.setdefault(j["cron"], [])
        if _job_expr(j) not in refs:
            refs.append(_job_expr(j))
    return table


def entry_source(app: tuple[str, str] | None, jobs: list[dict[str, Any]]) -> str:
    """A new entry module. `app` is (module, variable) of the ASGI app; each job has module, ref, cron."""
    lines = [HEADER]
    if jobs:
        lines.append("import inspect\n")
    lines.append("from workers import WorkerEntrypoint\n")
    imports = sorted({_import_line(j["module"]) for j in jobs})
    if app:
        imports.append(f"from {app[0]} import {app[1]}")
    if imports:
        lines.append("\n".join(imports) + "\n")
    if jobs:
        body = ["# Cron Trigger expression -> the jobs it runs (the same expressions are under triggers.crons in "
                "the wrangler config)", "CRON_JOBS = {"]
        for expr, refs in _table(jobs).items():
            body.append(f"    {expr!r}: [{', '.join(refs)}],".replace("'", '"'))
        body.append("}")
        lines.append("\n".join(body) + "\n")
    cls = ["", "", "class Default(WorkerEntrypoint):"]
    if app:
        cls += ["    async def fetch(self, request):", "        import asgi", "",
                f"        return await asgi.fetch({app[1]}, request, self.env)"]
    text = "\n".join(lines) + "\n".join(cls) + "\n"
    if jobs:
        text += SCHEDULED if app else SCHEDULED.lstrip("\n")
    return text


class AddScheduledHandler(Codemod):
    """Adds jobs to an existing entry module: entries in CRON_JOBS (created if missing) and a `scheduled`
    method on `class Default` when it has none."""
    NAME = "py-scheduled-handler"
    FIX = "py-apscheduler-cron"
    MESSAGE = "Cron Trigger jobs are dispatched by the entry's scheduled handler"

    _JOB = {"module": "app.jobs", "ref": "nightly", "cron": "30 3 * * *"}
    VALID = [
        Valid("from workers import WorkerEntrypoint\n\nclass Default(WorkerEntrypoint):\n"
              "    async def fetch(self, request):\n        return None\n", ctx={"jobs": []}),
    ]
    INVALID = [
        Invalid(
            "from workers import WorkerEntrypoint\n\n\nclass Default(WorkerEntrypoint):\n"
            "    async def fetch(self, request):\n        return None\n",
            "from workers import WorkerEntrypoint\nimport inspect\nimport app.jobs as app_jobs\n\n"
            "# Cron Trigger expression -> the jobs it runs (the same expressions are under triggers.crons in the "
            "wrangler config)\nCRON_JOBS = {\n    \"30 3 * * *\": [app_jobs.nightly],\n}\n\n\n"
            "class Default(WorkerEntrypoint):\n"
            "    async def fetch(self, request):\n        return None\n\n"
            "    async def scheduled(self, controller, env, ctx):\n"
            "        for job in CRON_JOBS.get(controller.cron, []):\n            result = job()\n"
            "            if inspect.isawaitable(result):\n                await result\n",
            ctx={"jobs": [_JOB]}),
        Invalid(
            "import inspect\nimport app.jobs as app_jobs\nCRON_JOBS = {\n    \"30 3 * * *\": [app_jobs.nightly],\n"
            "}\n",
            "import inspect\nimport app.jobs as app_jobs\nCRON_JOBS = {\n    \"30 3 * * *\": [app_jobs.nightly, "
            "app_jobs.backup],\n    \"0 * * * *\": [app_jobs.hourly],\n}\n",
            ctx={"jobs": [{**_JOB, "ref": "backup"}, {**_JOB, "ref": "hourly", "cron": "0 * * * *"}]}),
    ]

    def transform(self, source: str, path: str = "<string>", **ctx: Any) -> CodemodResult:
        jobs: list[dict[str, Any]] = list(ctx.get("jobs") or [])
        res = CodemodResult(source)
        if not jobs:
            return res
        module = cst.parse_module(source)
        table = _table(jobs)
        found = {"table": False}

        class AddToTable(cst.CSTTransformer):
            """Merges the jobs into an existing CRON_JOBS dict (re-rendered in the generated layout)."""

            def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
                if not (len(updated.targets) == 1 and isinstance(updated.targets[0].target, cst.Name) and
                        updated.targets[0].target.value == "CRON_JOBS" and isinstance(updated.value, cst.Dict)):
                    return updated
                found["table"] = True
                merged: dict[str, list[str]] = {}
                for el in updated.value.elements:
                    if not (isinstance(el, cst.DictElement) and isinstance(el.key, cst.SimpleString) and
                            isinstance(el.value, (cst.List, cst.Tuple))):
                        res.left.append("CRON_JOBS has entries this fix cannot read; add the new jobs by hand")
                        return updated
                    merged[str(el.key.evaluated_value)] = [module.code_for_node(e.value) for e in el.value.elements]
                before = {k: list(v) for k, v in merged.items()}
                for expr, refs in table.items():
                    have = merged.setdefault(expr, [])
                    have += [r for r in refs if r not in have]
                if merged == before:
                    return updated
                for expr, refs in merged.items():
                    new = [r for r in refs if r not in before.get(expr, [])]
                    if new:
                        res.changed.append(f"CRON_JOBS[\"{expr}\"] += {', '.join(new)}")
                src = "{\n" + "".join(f"    \"{e}\": [{', '.join(r)}],\n" for e, r in merged.items()) + "}"
                return updated.with_changes(value=cst.parse_expression(src))

        module = module.visit(AddToTable())
        add_method = any(isinstance(st, cst.ClassDef) and st.name.value == "Default" and not any(
            isinstance(m, cst.FunctionDef) and m.name.value == "scheduled" for m in st.body.body)
            for st in module.body)
        if add_method:
            module = add_import(module, "import inspect")
        for j in jobs:
            module = add_import(module, _import_line(j["module"]))
        if not found["table"]:
            src = "CRON_JOBS = {\n" + "".join(f"    \"{e}\": [{', '.join(r)}],\n" for e, r in table.items()) + "}\n"
            stmt = cst.parse_statement(src).with_changes(leading_lines=[
                cst.EmptyLine(), cst.EmptyLine(comment=cst.Comment(
                    "# Cron Trigger expression -> the jobs it runs (the same expressions are under triggers.crons "
                    "in the wrangler config)"))])
            body = list(module.body)
            from .codemod import last_import_index
            body.insert(last_import_index(body), stmt)
            module = module.with_changes(body=body)
            res.changed.append("added the CRON_JOBS table")
        has_sched = {"class": False, "method": False}

        class AddMethod(cst.CSTTransformer):
            def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
                if updated.name.value != "Default":
                    return updated
                has_sched["class"] = True
                body = list(updated.body.body)
                if any(isinstance(s, cst.FunctionDef) and s.name.value == "scheduled" for s in body):
                    has_sched["method"] = True
                    return updated
                meth = cst.parse_statement(_dedent(SCHEDULED))
                meth = meth.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
                res.changed.append("added `async def scheduled(self, controller, env, ctx)` to class Default")
                return updated.with_changes(body=updated.body.with_changes(body=[*body, meth]))

        module = module.visit(AddMethod())
        if has_sched["class"] and has_sched["method"]:
            res.left.append("class Default already has a scheduled() method: make it run CRON_JOBS[controller.cron]")
        elif not has_sched["class"]:
            res.left.append("no `class Default(WorkerEntrypoint)` found: add a scheduled() handler that runs "
                            "CRON_JOBS[controller.cron]")
        res.code = module.code
        return res


def _dedent(text: str) -> str:
    import textwrap
    return textwrap.dedent(text.lstrip("\n"))
