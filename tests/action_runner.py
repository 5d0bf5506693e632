"""A small local runner for GitHub Actions workflows and composite actions (the parts cfcompat's action.yml
uses), in the spirit of `act` but without containers: it runs the `run:` steps with bash as the hosted runner
does (`bash --noprofile --norc -eo pipefail`), evaluates `${{ }}` expressions and `if:` conditions, runs a
composite action named in `uses:` (mapped to a local folder) with its inputs and outputs, and stubs every other
`uses:` step (checkout, setup-python, upload-sarif...), recording its evaluated `with:` so a test can check it.

It implements the runner's files and commands a test needs to see: GITHUB_OUTPUT (step outputs), GITHUB_ENV,
GITHUB_PATH, GITHUB_STEP_SUMMARY (collected into the job summary), and the workflow commands in stdout
(`::error/warning/notice ...::`, `::group::`, `::stop-commands::TOKEN` ... `::TOKEN::`).
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# ------------------------------------------------------------------------------------------------ expressions

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||<=|>=|[!<>(),])"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_*][A-Za-z0-9_-]*)*))")


class Expr:
    def __init__(self, text: str, ctx: dict[str, Any], status: dict[str, bool]) -> None:
        self.tokens = self._lex(text)
        self.i = 0
        self.ctx = ctx
        self.status = status

    @staticmethod
    def _lex(text: str) -> list[tuple[str, str]]:
        out, pos = [], 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise ValueError(f"cannot parse expression at {text[pos:]!r}")
            kind = m.lastgroup
            out.append((kind, m.group(kind)))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        return out

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ValueError(f"expected {value!r}, got {tok!r}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        v = self.or_()
        if self.peek() is not None:
            raise ValueError(f"trailing tokens {self.tokens[self.i:]}")
        return v

    def or_(self) -> Any:
        v = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            rhs = self.and_()
            v = v if truthy(v) else rhs
        return v

    def and_(self) -> Any:
        v = self.cmp()
        while self.peek() == ("op", "&&"):
            self.take()
            rhs = self.cmp()
            v = rhs if truthy(v) else v
        return v

    def cmp(self) -> Any:
        v = self.unary()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            rhs = self.unary()
            eq = _loose(v) == _loose(rhs)
            v = eq if op == "==" else not eq
        return v

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.atom()

    def atom(self) -> Any:
        kind, val = self.take()
        if kind == "str":
            return val[1:-1].replace("''", "'")
        if kind == "num":
            return float(val) if "." in val else int(val)
        if kind == "op" and val == "(":
            v = self.or_()
            self.take(")")
            return v
        if kind == "name":
            if self.peek() == ("op", "("):
                self.take()
                args = []
                while self.peek() != ("op", ")"):
                    args.append(self.or_())
                    if self.peek() == ("op", ","):
                        self.take()
                self.take(")")
                return self.call(val, args)
            if val in ("true", "false"):
                return val == "true"
            if val == "null":
                return None
            return self.lookup(val)
        raise ValueError(f"unexpected {val!r}")

    def lookup(self, dotted: str) -> Any:
        cur: Any = self.ctx
        for part in dotted.split("."):
            if isinstance(cur, dict):
                cur = cur.get(part)
            else:
                return None
        return cur

    def call(self, name: str, args: list[Any]) -> Any:
        if name == "always":
            return True
        if name == "success":
            return not self.status["failed"]
        if name == "failure":
            return self.status["failed"]
        if name == "cancelled":
            return False
        if name == "hashFiles":
            ws = Path(self.ctx["github"]["workspace"])
            return "h" if any((ws / str(a)).is_file() for a in args) else ""
        if name == "contains":
            return str(args[1]).lower() in str(args[0]).lower()
        if name == "startsWith":
            return str(args[0]).lower().startswith(str(args[1]).lower())
        if name == "format":
            s = str(args[0])
            for i, a in enumerate(args[1:]):
                s = s.replace("{" + str(i) + "}", to_str(a))
            return s
        raise ValueError(f"function {name}() is not supported by this runner")


def _loose(v: Any) -> Any:
    return v.lower() if isinstance(v, str) else v


def truthy(v: Any) -> bool:
    return v not in (None, "", False, 0)


def to_str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def interpolate(text: Any, ctx: dict[str, Any], status: dict[str, bool]) -> Any:
    if not isinstance(text, str):
        return text
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: to_str(Expr(m.group(1), ctx, status).parse()), text)


def condition(cond: Any, ctx: dict[str, Any], status: dict[str, bool]) -> bool:
    if cond is None:
        return not status["failed"]
    if isinstance(cond, bool):
        return cond
    text = str(cond).strip()
    m = re.fullmatch(r"\$\{\{(.*)\}\}", text, flags=re.S)
    if m:
        text = m.group(1)
    expr = Expr(text, ctx, status)
    uses_status = any(t[0] == "name" and t[1] in ("always", "success", "failure", "cancelled") for t in expr.tokens)
    value = truthy(expr.parse())
    return value if uses_status else (value and not status["failed"])


# ------------------------------------------------------------------------------------------------ running

@dataclass
class Annotation:
    level: str
    message: str
    props: dict[str, str]


@dataclass
class StepRecord:
    name: str
    id: str | None
    kind: str                        # run | composite | stub | skipped
    outcome: str                     # success | failure | skipped
    with_: dict[str, str] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    scope: str = ""                  # "" for workflow steps, the action's name for its steps


@dataclass
class JobResult:
    failed: bool
    steps: list[StepRecord]
    summary: str
    annotations: list[Annotation]
    log: str

    def step(self, id_or_name: str) -> StepRecord:
        return next(s for s in self.steps if id_or_name in (s.id, s.name))

    def stubs(self, prefix: str) -> list[StepRecord]:
        return [s for s in self.steps if s.kind == "stub" and s.name.startswith(prefix)]


def _unescape(s: str, prop: bool = False) -> str:
    s = s.replace("%0D", "\r").replace("%0A", "\n")
    if prop:
        s = s.replace("%3A", ":").replace("%2C", ",")
    return s.replace("%25", "%")


class Runner:
    def __init__(self, workspace: Path, actions: dict[str, Path], *, event_name: str = "push",
                 event: dict[str, Any] | None = None, base_ref: str = "", env: dict[str, str] | None = None,
                 skip_ids: set[str] | frozenset[str] = frozenset(), repository: str = "acme/mono") -> None:
        self.workspace = Path(workspace)
        self.actions = actions
        self.tmp = Path(tempfile.mkdtemp(prefix="action-runner-"))
        self.event_name = event_name
        self.event = event or {}
        self.base_ref = base_ref
        self.env = dict(os.environ if env is None else env)
        self.skip_ids = set(skip_ids)
        self.repository = repository
        self.records: list[StepRecord] = []
        self.summary: list[str] = []
        self.annotations: list[Annotation] = []
        self.log: list[str] = []
        self.job_env: dict[str, str] = {}
        self.extra_path: list[str] = []
        self.counter = 0

    def github(self, action_path: Path | None = None) -> dict[str, Any]:
        return {"event_name": self.event_name, "event": self.event, "base_ref": self.base_ref,
                "workspace": str(self.workspace), "action_path": str(action_path or ""), "token": "t0ken",
                "repository": self.repository, "server_url": "https://github.com", "sha": "0" * 40}

    # -- the job ------------------------------------------------------------------------------------------------
    def run_job(self, workflow: dict[str, Any] | str | Path, job: str | None = None) -> JobResult:
        if isinstance(workflow, (str, Path)) and Path(str(workflow)).is_file():
            workflow = yaml.safe_load(Path(workflow).read_text())
        elif isinstance(workflow, str):
            workflow = yaml.safe_load(workflow)
        jobs = workflow["jobs"]
        spec = jobs[job or next(iter(jobs))]
        status = {"failed": False}
        steps_ctx: dict[str, Any] = {}
        self.job_env = {k: str(v) for k, v in (workflow.get("env") or {}).items()}
        self.job_env.update({k: str(v) for k, v in (spec.get("env") or {}).items()})
        for step in spec["steps"]:
            ctx = {"github": self.github(), "runner": {"temp": str(self.tmp / "runner-temp"), "os": "Linux"},
                   "steps": steps_ctx, "env": {**self.job_env}, "secrets": {}, "inputs": {}}
            self._step(step, ctx, status, steps_ctx, scope="")
        return JobResult(failed=status["failed"], steps=self.records, summary="".join(self.summary),
                         annotations=self.annotations, log="\n".join(self.log))

    def _step(self, step: dict[str, Any], ctx: dict[str, Any], status: dict[str, bool],
              steps_ctx: dict[str, Any], scope: str) -> None:
        sid = step.get("id")
        name = step.get("name") or step.get("uses") or (step.get("run") or "").split("\n")[0]
        if not condition(step.get("if"), ctx, status):
            self.records.append(StepRecord(name, sid, "skipped", "skipped", scope=scope))
            if sid:
                steps_ctx[sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            return
        env = {k: to_str(interpolate(v, ctx, status)) for k, v in (step.get("env") or {}).items()}
        rec: StepRecord
        if sid in self.skip_ids:
            rec = StepRecord(name, sid, "stub", "success", scope=scope)
        elif "uses" in step:
            uses = step["uses"]
            with_ = {k: to_str(interpolate(v, ctx, status)) for k, v in (step.get("with") or {}).items()}
            if uses in self.actions:
                rec = self._composite(uses, self.actions[uses], with_, status, scope)
                rec.with_ = with_
                rec.name = step.get("name") or uses
                rec.id = sid
            else:
                rec = StepRecord(uses if not step.get("name") else step["name"], sid, "stub", "success", with_,
                                 scope=scope)
                rec.name = uses
        else:
            script = interpolate(step["run"], ctx, status)
            rec = self._run(name, sid, script, env, step.get("working-directory"), scope)
        self.records.append(rec)
        if rec.outcome == "failure" and not step.get("continue-on-error"):
            status["failed"] = True
        if sid:
            steps_ctx[sid] = {"outputs": rec.outputs, "outcome": rec.outcome, "conclusion": rec.outcome}

    def _composite(self, uses: str, folder: Path, with_: dict[str, str], outer: dict[str, bool],
                   scope: str) -> StepRecord:
        action = yaml.safe_load((folder / "action.yml").read_text())
        inputs = {}
        for k in (action.get("inputs") or {}).keys():
            inputs[k] = with_.get(k, None)
        status = {"failed": False}
        steps_ctx: dict[str, Any] = {}
        base = {"github": self.github(folder), "runner": {"temp": str(self.tmp / "runner-temp"), "os": "Linux"},
                "steps": steps_ctx, "env": {**self.job_env}, "secrets": {}}
        for k, spec in (action.get("inputs") or {}).items():
            if inputs[k] is None:
                inputs[k] = to_str(interpolate((spec or {}).get("default", ""), {**base, "inputs": {}}, status))
        inner_scope = scope + uses + "/"
        for step in action["runs"]["steps"]:
            ctx = {**base, "inputs": inputs, "steps": steps_ctx}
            self._step(step, ctx, status, steps_ctx, inner_scope)
        outputs = {}
        ctx = {**base, "inputs": inputs, "steps": steps_ctx}
        for k, spec in (action.get("outputs") or {}).items():
            outputs[k] = to_str(interpolate(spec.get("value", ""), ctx, status))
        return StepRecord(uses, None, "composite", "failure" if status["failed"] else "success",
                          outputs=outputs, scope=scope)

    def _run(self, name: str, sid: str | None, script: str, env: dict[str, str], workdir: str | None,
             scope: str) -> StepRecord:
        self.counter += 1
        d = self.tmp / f"step{self.counter}"
        d.mkdir(parents=True)
        files = {k: d / k.lower() for k in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")}
        for f in files.values():
            f.write_text("")
        (self.tmp / "runner-temp").mkdir(exist_ok=True)
        (d / "script.sh").write_text(script)
        full_env = {**self.env, **self.job_env, **env, **{k: str(v) for k, v in files.items()},
                    "GITHUB_WORKSPACE": str(self.workspace), "GITHUB_EVENT_NAME": self.event_name,
                    "GITHUB_REPOSITORY": self.repository, "GITHUB_ACTIONS": "true", "CI": "true",
                    "RUNNER_TEMP": str(self.tmp / "runner-temp"), "GITHUB_SERVER_URL": "https://github.com"}
        if self.extra_path:
            full_env["PATH"] = os.pathsep.join(self.extra_path + [full_env.get("PATH", "")])
        cwd = self.workspace / workdir if workdir else self.workspace
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(d / "script.sh")],
                              cwd=cwd, env=full_env, capture_output=True, text=True, timeout=600)
        rec = StepRecord(name, sid, "run", "success" if proc.returncode == 0 else "failure",
                         stdout=proc.stdout, stderr=proc.stderr, scope=scope)
        self._commands(proc.stdout)
        rec.outputs = self._kv(files["GITHUB_OUTPUT"].read_text())
        self.job_env.update(self._kv(files["GITHUB_ENV"].read_text()))
        self.extra_path = [p for p in files["GITHUB_PATH"].read_text().splitlines() if p] + self.extra_path
        self.summary.append(files["GITHUB_STEP_SUMMARY"].read_text())
        return rec

    @staticmethod
    def _kv(text: str) -> dict[str, str]:
        out: dict[str, str] = {}
        lines = text.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            m = re.match(r"^([^=<]+)<<(.+)$", line)
            if m:
                key, delim = m.group(1), m.group(2)
                j = i + 1
                buf = []
                while j < len(lines) and lines[j] != delim:
                    buf.append(lines[j])
                    j += 1
                out[key] = "\n".join(buf)
                i = j + 1
                continue
            if "=" in line:
                k, v = line.split("=", 1)
                out[k] = v
            i += 1
        return out

    def _commands(self, stdout: str) -> None:
        stopped: str | None = None
        for line in stdout.splitlines():
            self.log.append(line)
            if stopped is not None:
                if line.strip() == f"::{stopped}::":
                    stopped = None
                continue
            m = re.match(r"^::([a-z-]+)(?: ([^:]*))?::(.*)$", line)
            if not m:
                continue
            cmd, props, msg = m.group(1), m.group(2) or "", m.group(3)
            if cmd == "stop-commands":
                stopped = msg
            elif cmd in ("error", "warning", "notice"):
                pd = {}
                for part in props.split(",") if props else []:
                    k, _, v = part.partition("=")
                    pd[k] = _unescape(v, prop=True)
                self.annotations.append(Annotation(cmd, _unescape(msg), pd))
