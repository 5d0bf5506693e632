"""The GitHub Action (action.yml) run by a local act-like runner (tests/action_runner.py) in workflows over a real
git monorepo: the `path:` input, SARIF validated and every URI resolving to a file, annotations within GitHub's
limits, the job summary, the outputs read by a later step, and the baseline-first flow on push and pull request
events. The runner executes the action's own `run:` scripts with bash; `uses:` steps other than the action are
recorded, not run (the install step is skipped: the tests' cfcompat is on PATH)."""
from __future__ import annotations

import json
import os
import sys
import urllib.parse
from pathlib import Path

import jsonschema

from action_runner import Runner
from monorepo import git, make_monorepo

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
ACTION = "cfcompat/cfcompat@v1"

READ_OUTPUTS = {
    "name": "Read the action's outputs",
    "if": "${{ always() }}",
    "env": {k.upper().replace("-", "_"): f"${{{{ steps.cfcompat.outputs.{k} }}}}"
            for k in ("verdict", "blockers", "warnings", "info", "baseline-hidden", "baseline-file",
                      "baseline-created", "failed", "fail-on", "sarif-file", "json-file", "junit-file",
                      "html-file", "report-dir")},
    "run": 'for v in VERDICT BLOCKERS WARNINGS INFO BASELINE_HIDDEN BASELINE_FILE BASELINE_CREATED FAILED FAIL_ON '
           'SARIF_FILE JSON_FILE JUNIT_FILE HTML_FILE REPORT_DIR; do echo "$v=${!v}" >> "$GITHUB_OUTPUT"; done\n'
           'echo "cfcompat said $VERDICT with $BLOCKERS blocker(s)" >> "$GITHUB_STEP_SUMMARY"\n'
           'if [ -n "$SARIF_FILE" ]; then test -s "$SARIF_FILE"; fi\n',
}


def workflow(with_: dict[str, str]) -> dict:
    return {"on": "push", "jobs": {"check": {"runs-on": "ubuntu-latest", "steps": [
        {"uses": "actions/checkout@v4", "with": {"fetch-depth": 0}},
        {"id": "cfcompat", "uses": ACTION, "with": with_},
        {"id": "after", **READ_OUTPUTS},
        {"name": "Upload the reports", "if": "${{ always() }}", "uses": "actions/upload-artifact@v4",
         "with": {"name": "cfcompat", "path": "${{ steps.cfcompat.outputs.report-dir }}"}},
    ]}}}


def add_many_blockers(repo: Path) -> None:
    lines = ["const fs = require('fs');", "const cp = require('child_process');",
             "module.exports = function run(req) {"]
    for i in range(12):
        lines.append(f"  fs.writeFileSync('data/out{i}.json', JSON.stringify(req.body));")
    lines += ["  cp.execSync('convert in.png out.png');", "  cp.spawn('ffmpeg', ['-i', 'x']);", "};"]
    chat = repo / "services" / "chat" / "server"
    (chat / "jobs.js").write_text("\n".join(lines) + "\n")
    with (chat / "index.js").open("a") as fh:
        fh.write("app.post('/job', (req, res) => { require('./jobs.js')(req); res.end(); });\n")


def runner(repo: Path, tmp_path: Path, event_name: str = "push", **kw) -> Runner:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["CFCOMPAT_CACHE_DIR"] = str(tmp_path / "cache")
    for k in list(env):
        if k.startswith("GITHUB_"):
            del env[k]
    return Runner(repo, {ACTION: ROOT}, event_name=event_name, env=env, skip_ids={"install"}, **kw)


def validate_sarif(path: Path, repo: Path, prefix: str) -> dict:
    doc = json.loads(path.read_text())
    cls = jsonschema.validators.validator_for(SCHEMA)
    errors = list(cls(SCHEMA).iter_errors(doc))
    assert not errors, errors[:3]
    for r in doc["runs"][0]["results"]:
        loc = r["locations"][0]["physicalLocation"]["artifactLocation"]
        rel = urllib.parse.unquote(loc["uri"])
        assert rel.startswith(prefix) and (repo / rel).is_file(), rel
    return doc


def test_monorepo_through_the_path_input(tmp_path):
    repo = make_monorepo(tmp_path / "mono")
    add_many_blockers(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "jobs")
    res = runner(repo, tmp_path).run_job(workflow({"path": "services/chat", "record-baseline": "false",
                                                   "reports": "sarif json junit html"}))
    assert not res.failed, [(s.name, s.stderr[-500:]) for s in res.steps if s.outcome == "failure"]
    scan = next(s for s in res.steps if s.id == "scan")
    doc = json.loads(Path(scan.outputs["json-file"]).read_text())
    n = doc["summary"]["findings"]
    assert n["blocker"] > 10
    # outputs reach a later step of the workflow
    after = res.step("after").outputs
    assert after["VERDICT"] == "blocked" and after["BLOCKERS"] == str(n["blocker"])
    assert after["WARNINGS"] == str(n["warning"]) and after["FAILED"] == "false" and after["FAIL_ON"] == "never"
    assert after["BASELINE_FILE"] == "" and after["BASELINE_CREATED"] == "false"
    for k in ("SARIF_FILE", "JSON_FILE", "JUNIT_FILE", "HTML_FILE"):
        assert Path(after[k]).is_file() and Path(after[k]).parent == Path(after["REPORT_DIR"])
    assert not str(after["REPORT_DIR"]).startswith(str(repo))        # reports stay out of the scanned tree
    # SARIF: valid, every URI is a file of the repository, uploaded under a per-folder category
    sarif = validate_sarif(Path(after["SARIF_FILE"]), repo, "services/chat/")
    assert sarif["runs"][0]["results"]
    [upload] = res.stubs("github/codeql-action/upload-sarif")
    assert upload.with_ == {"sarif_file": after["SARIF_FILE"], "category": "cfcompat/services/chat"}
    [artifact] = res.stubs("actions/upload-artifact")
    assert artifact.with_["path"] == after["REPORT_DIR"]
    # annotations: at most 10 per level, blockers first, repository paths; the rest in the job summary
    errors = [a for a in res.annotations if a.level == "error"]
    warnings = [a for a in res.annotations if a.level == "warning"]
    assert len(errors) == 10 and len(warnings) <= 10
    assert all((repo / a.props["file"]).is_file() and a.props["file"].startswith("services/chat/") for a in errors)
    titles = [a.props["title"].split()[0] for a in errors]
    rules = {f["rule_id"] for f in doc["findings"] if f["severity"] == "blocker" and not f.get("related")}
    assert len(set(titles)) >= min(10, len(rules))       # one per rule before repeats (linked ones last)
    notice = [a for a in res.annotations if a.level == "notice" and "annotated" in a.message]
    assert notice and "the job summary lists all" in notice[0].message
    assert f"Annotated on the files: 10 of {n['blocker'] + doc['summary'].get('linked', 0)}" in res.summary or \
        "Annotated on the files: 10 of " in res.summary
    table_rows = [ln for ln in res.summary.splitlines() if ln.startswith("| ⛔ blocker")]
    assert len(table_rows) == sum(1 for f in doc["findings"] if f["severity"] == "blocker")
    assert "cfcompat said blocked" in res.summary
    # the text report is in the log, with workflow commands stopped while it prints (snippets are inert)
    assert "::stop-commands::" in res.log and "Verdict: blocked" in res.log


def test_baseline_first_on_push(tmp_path):
    repo = make_monorepo(tmp_path / "mono")
    wf = workflow({"path": "services/chat"})
    # 1. first run: no baseline yet -> recorded, green
    first = runner(repo, tmp_path).run_job(wf)
    assert not first.failed
    out = first.step("after").outputs
    assert out["BASELINE_CREATED"] == "true" and out["BASELINE_FILE"] == "services/chat/.cfcompat-baseline.json"
    assert out["VERDICT"] == "ready" and out["BLOCKERS"] == "0" and int(out["BASELINE_HIDDEN"]) > 0
    assert "Baseline recorded" in first.summary
    sarif = validate_sarif(Path(out["SARIF_FILE"]), repo, "services/chat/")     # the inventory stays in SARIF
    states = {r["baselineState"] for r in sarif["runs"][0]["results"]}
    assert sarif["runs"][0]["results"] and states == {"unchanged"}
    baseline = repo / "services" / "chat" / ".cfcompat-baseline.json"
    assert baseline.is_file()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "cfcompat baseline")
    # 2. a change that only touches old code (lines move, a blocker's line is re-indented): still green
    idx = repo / "services" / "chat" / "server" / "index.js"
    idx.write_text("// the chat server\n\n" + idx.read_text().replace("app.listen(3000);", "  app.listen(3000);"))
    git(repo, "commit", "-qam", "touch old code")
    second = runner(repo, tmp_path).run_job(wf)
    out = second.step("after").outputs
    assert not second.failed and out["FAILED"] == "false" and out["FAIL_ON"] == "blocker", second.summary
    assert out["BASELINE_CREATED"] == "false" and out["BLOCKERS"] == "0"
    # 3. a change that adds a blocker: red, and the new finding is the one annotated
    (repo / "services" / "chat" / "server" / "export.js").write_text(
        "const cp = require('child_process');\nmodule.exports = () => cp.execSync('pg_dump');\n")
    with idx.open("a") as fh:
        fh.write("app.get('/export', (req, res) => res.send(require('./export.js')()));\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "export")
    third = runner(repo, tmp_path).run_job(wf)
    out = third.step("after").outputs
    assert third.failed and out["FAILED"] == "true" and out["VERDICT"] == "blocked" and out["BLOCKERS"] == "1"
    errors = [a for a in third.annotations if a.level == "error"]
    assert [a.props["file"] for a in errors] == ["services/chat/server/export.js"]
    results = validate_sarif(Path(out["SARIF_FILE"]), repo, "services/chat/")["runs"][0]["results"]
    new = [r for r in results if r["baselineState"] == "new"]
    assert [r["ruleId"] for r in new] == ["subprocess-exec"] and len(results) > len(new)


def test_pull_request_fails_only_on_what_it_adds(tmp_path):
    repo = make_monorepo(tmp_path / "mono")
    git(repo, "checkout", "-q", "-b", "feature")
    idx = repo / "services" / "chat" / "server" / "index.js"
    idx.write_text("// chat server: routes below\n" + idx.read_text().replace("const app = express();",
                                                                             "const app = express(); // the app"))
    git(repo, "commit", "-qam", "comments")
    event = {"pull_request": {"number": 7, "head": {"repo": {"full_name": "acme/mono"}}}}
    wf = workflow({"path": "services/chat", "diff-base": "main", "post-comment": "false"})
    wf["on"] = "pull_request"
    res = runner(repo, tmp_path, event_name="pull_request", event=event, base_ref="main").run_job(wf)
    assert not res.failed, res.summary
    comment = res.step("comment")
    assert comment.outcome == "success" and "No new problems" in Path(comment.outputs["comment-file"]).read_text()
    assert res.step("after").outputs["BASELINE_CREATED"] == "false"       # never recorded from a PR head
    # the same pull request adding a blocker fails in the comment step
    (repo / "services" / "chat" / "server" / "export.js").write_text(
        "const cp = require('child_process');\nmodule.exports = () => cp.execSync('pg_dump');\n")
    with idx.open("a") as fh:
        fh.write("app.get('/export', (req, res) => res.send(require('./export.js')()));\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "export")
    res = runner(repo, tmp_path, event_name="pull_request", event=event, base_ref="main").run_job(wf)
    assert res.failed
    assert res.step("scan").outcome == "success" and res.step("comment").outcome == "failure"
    body = Path(res.step("comment").outputs["comment-file"]).read_text()
    assert "This PR adds 1 blocker" in body and "services/chat/server/export.js:2" in body


def test_runner_expressions():
    from action_runner import Expr, condition
    ctx = {"inputs": {"upload-sarif": "true"}, "steps": {"scan": {"outputs": {"sarif-file": "x"}}},
           "github": {"event_name": "push", "workspace": "/nonexistent"}}
    st = {"failed": False}
    assert Expr("inputs.upload-sarif == 'true' && steps.scan.outputs.sarif-file != ''", ctx, st).parse() is True
    assert condition("${{ github.event_name == 'pull_request' || github.event_name == 'pull_request_target' }}",
                     ctx, st) is False
    assert Expr("github.event_name == 'pull_request' && 'never' || 'blocker'", ctx, st).parse() == "blocker"
    assert condition("always()", ctx, {"failed": True}) and not condition(None, ctx, {"failed": True})
