"""Baseline-first adoption, end to end in real temporary git repositories: the first run records a baseline and
is green; a change that adds a blocker turns it red; a change that only touches old code stays green. With the
CLI (`scan --baseline`, JUnit), with `cfcompat hook` (what the pre-commit hook runs) and with pre-commit itself
running the hook definition from .pre-commit-hooks.yaml on the files of a commit."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from monorepo import git, make_monorepo

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EXPORT = "const cp = require('child_process');\nmodule.exports = () => cp.execSync('pg_dump');\n"


def cfcompat(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": str(BIN) + os.pathsep + os.environ.get("PATH", ""), "CFCOMPAT_NO_CACHE": "1"}
    return subprocess.run([str(BIN / "cfcompat"), *args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=300)


def touch_old_code(chat: Path) -> None:
    idx = chat / "server" / "index.js"
    idx.write_text("// chat server\n\n" + idx.read_text().replace("app.listen(3000);", "    app.listen(3000);"))


def add_blocker(chat: Path) -> None:
    (chat / "server" / "export.js").write_text(EXPORT)
    with (chat / "server" / "index.js").open("a") as fh:
        fh.write("app.get('/export', (req, res) => res.send(require('./export.js')()));\n")


def test_cli_baseline_flow(tmp_path):
    repo = make_monorepo(tmp_path / "mono")
    chat = repo / "services" / "chat"
    # before: a blocked repository fails a CI that says --fail-on blocker, and JUnit says so by default
    r = cfcompat(repo, "scan", "services/chat", "--fail-on", "blocker", "--format", "json",
                 "-o", f"junit:{tmp_path / 'j0.xml'}")
    assert r.returncode == 1
    r = cfcompat(repo, "scan", "services/chat", "--format", "junit")
    assert r.returncode == 0 and int(ET.fromstring(r.stdout).get("failures")) > 0     # blockers fail by default
    # 1. record the baseline, commit it: green
    r = cfcompat(repo, "baseline", "services/chat", "-o", "services/chat/.cfcompat-baseline.json")
    assert r.returncode == 0, r.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "baseline")
    args = ["scan", "services/chat", "--baseline", "services/chat/.cfcompat-baseline.json", "--fail-on", "blocker",
            "--format", "junit"]
    r = cfcompat(repo, *args)
    assert r.returncode == 0 and ET.fromstring(r.stdout).get("failures") == "0", r.stdout
    # 2. only old code touched: green
    touch_old_code(chat)
    git(repo, "commit", "-qam", "touch")
    r = cfcompat(repo, *args)
    assert r.returncode == 0 and ET.fromstring(r.stdout).get("failures") == "0", r.stdout
    # 3. a new blocker: red, and JUnit names it
    add_blocker(chat)
    r = cfcompat(repo, *args)
    assert r.returncode == 1
    failed = [tc.get("file") for tc in ET.fromstring(r.stdout).iter("testcase") if tc.find("failure") is not None]
    assert failed == ["services/chat/server/export.js"]


def test_hook_command_flow(tmp_path):
    repo = make_monorepo(tmp_path / "mono")
    chat = repo / "services" / "chat"
    # no baseline: only what the change since HEAD adds counts, so touching a file with old blockers is fine
    touch_old_code(chat)
    r = cfcompat(repo, "hook", "--path", "services/chat", "services/chat/server/index.js")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "added since HEAD" in r.stderr
    git(repo, "commit", "-qam", "touch")
    # with the committed baseline: green, then red for a new blocker in a committed file
    r = cfcompat(repo, "baseline", "services/chat", "-o", "services/chat/.cfcompat-baseline.json")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "baseline")
    r = cfcompat(repo, "hook", "--path", "services/chat", "services/chat/server/index.js",
                 "services/chat/package.json")
    assert r.returncode == 0 and "not in services/chat/.cfcompat-baseline.json" in r.stderr, r.stderr
    add_blocker(chat)
    r = cfcompat(repo, "hook", "--path", "services/chat", "services/chat/server/export.js",
                 "services/chat/server/index.js")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "subprocess-exec" in r.stdout and "server/export.js" in r.stdout
    # the same finding does not fail a commit that does not include its file
    r = cfcompat(repo, "hook", "--path", "services/chat", "services/chat/package.json")
    assert r.returncode == 0, r.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed")
def test_pre_commit_runs_the_hook(tmp_path):
    """pre-commit itself, with the hook as .pre-commit-hooks.yaml defines it (as a local system hook, so that
    pre-commit does not build an environment from the network)."""
    pre_commit = BIN / "pre-commit"
    assert pre_commit.exists(), "pre-commit is a test dependency (pip install -e '.[test]')"
    repo = make_monorepo(tmp_path / "mono")
    chat = repo / "services" / "chat"
    hook = next(h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()) if h["id"] == "cfcompat")
    local = {k: v for k, v in hook.items() if k != "language"}
    local.update(language="system", args=["--path", "services/chat"])
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]}))
    env = {**os.environ, "PATH": str(BIN) + os.pathsep + os.environ.get("PATH", ""), "CFCOMPAT_NO_CACHE": "1",
           "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}

    def commit(message: str) -> subprocess.CompletedProcess:
        git(repo, "add", "-A")
        return subprocess.run(["git", "-C", str(repo), "commit", "-qm", message], capture_output=True, text=True,
                              env=env, timeout=300)

    assert cfcompat(repo, "baseline", "services/chat", "-o", "services/chat/.cfcompat-baseline.json").returncode == 0
    assert commit("baseline and hook config").returncode == 0
    r = subprocess.run([str(pre_commit), "install"], cwd=repo, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    touch_old_code(chat)
    r = commit("touch old code")
    assert r.returncode == 0, r.stdout + r.stderr                            # green: old findings are in the baseline
    add_blocker(chat)
    r = commit("add an export that shells out")
    assert r.returncode != 0, r.stdout + r.stderr                            # red: the commit adds a blocker
    assert "subprocess-exec" in r.stdout + r.stderr
    assert "export" not in git(repo, "log", "--format=%s")
