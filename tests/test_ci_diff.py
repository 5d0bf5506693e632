"""`scan --diff-base REF` and baselines (`cfcompat baseline`, `scan --baseline`)."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from ci_helpers import BASE_WORKER, PR_WORKER, commit, init_repo, pr_repo, run_cli, sh_git, write

from cfcompat.analyzer.gitdiff import BaseTree, GitError, changed_lines


def diff_scan(repo: Path, capsys, *extra: str) -> tuple[int, dict]:
    code, out, err = run_cli(["scan", str(repo), "--diff-base", "main", "--format", "json", *extra], capsys)
    assert code in (0, 1), err
    return code, json.loads(out)


def base_rule_at(repo: Path, capsys, needle: str) -> str:
    """The rule that fires on the base commit's line containing NEEDLE (keeps the test independent of ids)."""
    code, out, err = run_cli(["scan", str(repo), "--format", "json"], capsys)
    doc = json.loads(out)
    hits = [f["rule_id"] for f in doc["findings"] if needle in f["snippet"]]
    assert hits, doc["findings"]
    return hits[0]


# ------------------------------------------------------------------------------------------------ diff scan

def test_pr_reports_exactly_new_and_fixed(tmp_path, capsys):
    repo = pr_repo(tmp_path)
    sh_git(repo, "checkout", "-q", "main")
    exec_rule = base_rule_at(repo, capsys, "execSync")
    eval_rule = base_rule_at(repo, capsys, "eval(")
    sh_git(repo, "checkout", "-q", "feature")

    code, doc = diff_scan(repo, capsys)
    assert code == 0
    new = {(f["rule_id"], f["path"]) for f in doc["findings"]}
    assert new == {("fs-persistent-write", "src/worker.js"), ("native-dependency", "package.json")}
    assert [f["rule_id"] for f in doc["diff"]["new"]] == [f["rule_id"] for f in doc["findings"]]
    # the old finding the PR removed is fixed; the eval that only moved down two lines is not new
    assert [(f["rule_id"], f["path"]) for f in doc["diff"]["fixed"]] == [(exec_rule, "src/worker.js")]
    assert eval_rule not in {f["rule_id"] for f in doc["findings"]}
    assert [d["name"] for d in doc["diff"]["dependencies_added"]] == ["better-sqlite3"]
    assert doc["diff"]["dependencies_changed"] == []
    fs_write = next(f for f in doc["findings"] if f["rule_id"] == "fs-persistent-write")
    assert fs_write["line"] == 11 and "writeFileSync" in fs_write["snippet"]
    assert doc["diff"]["base"] == sh_git(repo, "rev-parse", "main")
    assert doc["diff"]["head"] == sh_git(repo, "rev-parse", "HEAD")
    assert doc["diff"]["changed_files"] == ["package.json", "src/worker.js"]
    assert doc["summary"]["findings"]["blocker"] == 2 and doc["summary"]["verdict"] == "blocked"


def test_fail_on_counts_only_new_findings(tmp_path, capsys):
    repo = pr_repo(tmp_path)
    code, _doc = diff_scan(repo, capsys, "--fail-on", "blocker")
    assert code == 1
    # a change that only shifts lines: the base's blockers are still there, none is new -> exit 0
    sh_git(repo, "checkout", "-q", "-b", "shift-only", "main")
    commit(repo, {"src/worker.js": "// one\n// two\n\n" + BASE_WORKER}, "shift")
    code, doc = diff_scan(repo, capsys, "--fail-on", "blocker")
    assert code == 0 and doc["findings"] == [] and doc["diff"]["fixed"] == []
    code, out, _ = run_cli(["scan", str(repo), "--fail-on", "blocker", "--format", "json"], capsys)
    assert code == 1   # without --diff-base the old blockers count


def test_moved_and_reindented_code_is_not_new(tmp_path, capsys):
    repo = pr_repo(tmp_path)
    moved = PR_WORKER.replace(
        "export function compute(expr) {\n  return eval(expr);\n}\n", "")
    moved = moved.replace("export function revision() {",
                          "export function compute(expr) {\n        return eval(expr);\n}\n\n"
                          "export function revision() {")
    commit(repo, {"src/worker.js": moved}, "move compute up")
    _code, doc = diff_scan(repo, capsys)
    assert {f["rule_id"] for f in doc["findings"]} == {"fs-persistent-write", "native-dependency"}


def test_duplicate_call_added_above_reports_the_added_line(tmp_path, capsys):
    repo = init_repo(tmp_path / "r")
    body = "const fs = require('fs');\nexport function f(b) {\n  fs.writeFileSync('data/a', b);\n}\n"
    commit(repo, {"src/a.js": body}, "base")
    sh_git(repo, "checkout", "-q", "-b", "pr")
    # the same call (same normalised snippet, so the same fingerprint family) added above the old one: by
    # occurrence index the *old* line would look new; the changed-line information puts it on the added one
    commit(repo, {"src/a.js": body.replace("export function f(b) {\n",
                                           "export function f(b) {\n  fs.writeFileSync('data/a',   b);\n")}, "dup")
    _code, doc = diff_scan(repo, capsys)
    assert [(f["rule_id"], f["line"]) for f in doc["findings"]] == [("fs-persistent-write", 3)]


def test_working_tree_changes_and_untracked_files_count(tmp_path, capsys):
    repo = pr_repo(tmp_path)
    write(repo, {"src/extra.js": "const cp = require('child_process');\nexport const r = () => cp.execSync('ls');\n"})
    _code, doc = diff_scan(repo, capsys)
    assert "src/extra.js" in {f["path"] for f in doc["findings"]}


def test_renamed_file_is_not_new(tmp_path, capsys):
    repo = init_repo(tmp_path / "r")
    commit(repo, {"src/worker.js": BASE_WORKER}, "base")
    sh_git(repo, "checkout", "-q", "-b", "pr")
    sh_git(repo, "mv", "src/worker.js", "src/main.js")
    sh_git(repo, "commit", "-q", "-m", "rename")
    _code, doc = diff_scan(repo, capsys)
    assert doc["findings"] == [] and doc["diff"]["fixed"] == []
    assert doc["diff"]["renamed"] == [{"from": "src/worker.js", "to": "src/main.js"}]


def test_dependency_version_change_is_reported_not_fixed(tmp_path, capsys):
    repo = init_repo(tmp_path / "r")
    pkg = '{\n  "dependencies": {\n    "better-sqlite3": "^%s"\n  }\n}\n'
    commit(repo, {"package.json": pkg % "9.0.0"}, "base")
    sh_git(repo, "checkout", "-q", "-b", "pr")
    commit(repo, {"package.json": pkg % "11.0.0"}, "bump")
    _code, doc = diff_scan(repo, capsys)
    assert [f["rule_id"] for f in doc["findings"]] == ["native-dependency"]
    assert doc["diff"]["new"][0]["change"] == "dependency-changed"
    assert doc["diff"]["fixed"] == []
    ch = doc["diff"]["dependencies_changed"]
    assert [(d["name"], d["from"]["version"], d["version"]) for d in ch] == [("better-sqlite3", "^9.0.0", "^11.0.0")]


def test_scanning_a_subfolder(tmp_path, capsys):
    repo = init_repo(tmp_path / "mono")
    commit(repo, {"apps/api/src/a.js": "export const x = 1;\n", "other/b.js": "export const y = 2;\n"}, "base")
    sh_git(repo, "checkout", "-q", "-b", "pr")
    commit(repo, {"apps/api/src/a.js": "const fs = require('fs');\nexport const x = (b) => "
                  "fs.writeFileSync('data/x', b);\n"}, "pr")
    code, out, err = run_cli(["scan", str(repo / "apps" / "api"), "--diff-base", "main", "--format", "json"], capsys)
    doc = json.loads(out)
    assert [(f["rule_id"], f["path"]) for f in doc["findings"]] == [("fs-persistent-write", "src/a.js")]


@pytest.mark.parametrize("make,ref,needle", [
    (lambda p: p, "main", "not inside a git work tree"),
    (lambda p: init_repo(p), "main", "unknown git ref"),
    (lambda p: init_repo(p), "--output=x", "is not a git ref"),
])
def test_git_errors_are_one_line_exit_2(tmp_path, capsys, make, ref, needle):
    repo = make(tmp_path / "r")
    repo.mkdir(exist_ok=True)
    code, out, err = run_cli(["scan", str(repo), f"--diff-base={ref}"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err, err


def test_unknown_ref_in_existing_repo(tmp_path, capsys):
    repo = pr_repo(tmp_path)
    code, _out, err = run_cli(["pr-comment", str(repo), "--diff-base", "origin/nope"], capsys)
    assert code == 2 and "unknown git ref 'origin/nope'" in err and err.count("\n") == 1


def test_nothing_from_the_repository_config_runs(tmp_path, capsys):
    """hooks, fsmonitor, external diff, textconv and clean/smudge filters named in .git/config never run."""
    repo = pr_repo(tmp_path)
    marker = tmp_path / "PWNED"
    evil = tmp_path / "evil.sh"
    evil.write_text(f"#!/bin/sh\necho \"$0 $*\" >> {marker}\ncat\n")
    evil.chmod(evil.stat().st_mode | stat.S_IEXEC)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for h in ("post-checkout", "reference-transaction", "post-index-change", "fsmonitor-watchman"):
        (hooks / h).write_text(evil.read_text())
        (hooks / h).chmod(0o755)
    for key, value in [("core.fsmonitor", str(evil)), ("core.hooksPath", str(hooks)), ("diff.external", str(evil)),
                       ("diff.evil.textconv", str(evil)), ("filter.evil.clean", str(evil)),
                       ("filter.evil.smudge", str(evil)), ("filter.evil.process", str(evil)),
                       ("core.pager", str(evil)), ("pager.diff", str(evil))]:
        sh_git(repo, "config", key, value)
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "attributes").write_text("* filter=evil diff=evil\n")
    os.utime(repo / "src" / "worker.js", (1, 1))   # stat-dirty: a status/diff would run the clean filter
    code, doc = diff_scan(repo, capsys)
    assert {f["rule_id"] for f in doc["findings"]} == {"fs-persistent-write", "native-dependency"}
    code, _out, _err = run_cli(["pr-comment", str(repo), "--diff-base", "main"], capsys)
    assert code == 0
    assert not marker.exists(), marker.read_text()
    # control: the same repository does run the command for a plain `git diff`, so the test is meaningful
    import subprocess
    subprocess.run(["git", "-C", str(repo), "diff", "main", "--", "src/worker.js"], capture_output=True)
    assert marker.exists()


def test_base_tree_is_cleaned_up(tmp_path):
    repo = pr_repo(tmp_path)
    tree = BaseTree.prepare(repo, "main")
    with tree:
        folder = tree.folder
        assert (folder / "src" / "worker.js").read_text() == BASE_WORKER
        assert tree.changed("src/worker.js") and tree.changed("package.json")
    assert not folder.exists()
    with pytest.raises(GitError):
        BaseTree.prepare(repo, "no-such-branch")


def test_changed_lines():
    assert changed_lines(b"a\nb\nc\n", b"a\nb\nc\n") == set()
    assert changed_lines(None, b"x") is None
    assert changed_lines(b"a\nb\nc\n", b"x\na\nb\nC\n") == {1, 4}
    assert changed_lines(b"a\r\nb\r\n", b"a\nb\n") == set()


# ------------------------------------------------------------------------------------------------ baselines

def test_baseline_roundtrip(tmp_path, capsys):
    repo = pr_repo(tmp_path)
    bl = tmp_path / "baseline.json"
    code, out, err = run_cli(["baseline", str(repo), "-o", str(bl)], capsys)
    assert code == 0 and "wrote" in err
    doc = json.loads(bl.read_text())
    assert doc["schema"] == "cfcompat-baseline/1" and doc["tool_version"]
    assert doc["created_from"]["commit"] == sh_git(repo, "rev-parse", "HEAD")
    keys = [(e["path"], e["rule_id"], e["snippet_hash"], e["symbol"], e["fingerprint"]) for e in doc["findings"]]
    assert keys == sorted(keys) and len(keys) >= 3
    assert all(set(e) == {"fingerprint", "rule_id", "path", "snippet_hash", "symbol"} for e in doc["findings"])
    # a second run writes the same bytes
    first = bl.read_bytes()
    run_cli(["baseline", str(repo), "-o", str(bl)], capsys)
    assert bl.read_bytes() == first

    code, out, _ = run_cli(["scan", str(repo), "--baseline", str(bl), "--format", "json", "--fail-on", "blocker"],
                           capsys)
    res = json.loads(out)
    assert code == 0 and res["findings"] == []
    assert res["summary"]["baseline_hidden"] == len(keys)
    assert res["baseline"]["hidden"] == len(keys) and res["baseline"]["stale"] == 0

    # lines shift, the enclosing function is renamed (fingerprint changes), one new finding appears
    shifted = "// a\n// b\n" + PR_WORKER.replace("function compute(", "function evaluate(") + \
        "export function log(m) {\n  fs.appendFileSync('logs/app.log', m);\n}\n"
    write(repo, {"src/worker.js": shifted})
    code, out, _ = run_cli(["scan", str(repo), "--baseline", str(bl), "--format", "json", "--fail-on", "blocker"],
                           capsys)
    res = json.loads(out)
    assert [f["snippet"].strip() for f in res["findings"]] == ["fs.appendFileSync('logs/app.log', m);"]
    assert code == (1 if res["findings"][0]["severity"] == "blocker" else 0)
    assert res["summary"]["baseline_hidden"] == len(keys)


def test_baseline_with_diff_base(tmp_path, capsys):
    repo = pr_repo(tmp_path)
    bl = tmp_path / "bl.json"
    run_cli(["baseline", str(repo), "-o", str(bl)], capsys)
    code, doc = diff_scan(repo, capsys, "--baseline", str(bl), "--fail-on", "blocker")
    assert code == 0 and doc["findings"] == [] and doc["diff"]["new"] == []
    assert doc["diff"]["counts"]["new"]["blocker"] == 0


@pytest.mark.parametrize("content,needle", [
    ("{not json", "not valid JSON"),
    ("[]", "not a baseline"),
    ('{"schema": "other/1", "findings": []}', "not a cfcompat baseline"),
    ('{"schema": "cfcompat-baseline/1", "findings": {}}', "\"findings\" must be a list"),
    ('{"schema": "cfcompat-baseline/1", "findings": [{"rule_id": "x"}]}', "entry 1 has no 'fingerprint'"),
    ('{"schema": "cfcompat-baseline/1", "findings": [{"fingerprint": 3, "rule_id": "x", "path": "a", '
     '"snippet_hash": "h"}]}', "'fingerprint' must be a string"),
    (None, "no such baseline file"),
])
def test_malformed_baseline_is_one_line_exit_2(tmp_path, capsys, content, needle):
    repo = init_repo(tmp_path / "r")
    bl = tmp_path / "bad-baseline.json"
    if content is not None:
        bl.write_text(content)
    code, out, err = run_cli(["scan", str(repo), "--baseline", str(bl)], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert needle in err and "bad-baseline.json" in err, err
