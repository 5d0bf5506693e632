"""Paths relative to the repository root in SARIF, GitHub annotations, JUnit and the PR comment, whatever folder
is scanned: a monorepo where one service is scanned from the root, from inside and from elsewhere."""
from __future__ import annotations

import json
import os
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from cfcompat.analyzer.cli import main
from cfcompat.analyzer.gitdiff import repository_prefix
from cfcompat.reports.options import RenderOptions

from monorepo import git, make_monorepo

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return exc.value.code or 0, out.out, out.err


def validate(doc):
    cls = jsonschema.validators.validator_for(SCHEMA)
    errors = sorted(cls(SCHEMA).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def check_reports(repo: Path, out: Path, scanned: str) -> None:
    """Every path in the SARIF, annotations and JUnit names a file of the repository."""
    doc = json.loads((out / "r.sarif").read_text())
    validate(doc)
    run_ = doc["runs"][0]
    prefix = "" if scanned == "." else scanned.rstrip("/") + "/"
    bases = run_["originalUriBaseIds"]
    assert "%SRCROOT%" in bases
    if prefix:
        assert bases["SCANROOT"] == {"uri": prefix, "uriBaseId": "%SRCROOT%",
                                     "description": {"text": "The scanned folder."}}
    assert run_["automationDetails"]["id"] == f"cfcompat/{prefix}"
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run_["results"]]
    assert uris
    for loc in uris:
        assert loc["uriBaseId"] == "%SRCROOT%"
        rel = urllib.parse.unquote(loc["uri"])
        assert rel.startswith(prefix) and (repo / rel).is_file(), rel
    assert any(" " in urllib.parse.unquote(u["uri"]) and "%20" in u["uri"] for u in uris)   # percent-encoded
    files = set()
    for line in (out / "gh.txt").read_text().splitlines():
        if line.startswith(("::error ", "::warning ")):
            props = line.split("::")[1].split(" ", 1)[1]
            f = dict(p.split("=", 1) for p in props.split(","))["file"]
            f = f.replace("%2C", ",").replace("%3A", ":").replace("%25", "%")
            files.add(f)
    assert files and all((repo / f).is_file() and f.startswith(prefix) for f in files), files
    root = ET.fromstring((out / "j.xml").read_bytes())
    names = {tc.get("file") for tc in root.iter("testcase") if tc.get("file")}
    assert names and all((repo / n).is_file() for n in names), names
    # the JSON keeps the contract: paths relative to the scanned folder
    scan_doc = json.loads((out / "r.json").read_text())
    assert all((repo / prefix / f["path"]).is_file() for f in scan_doc["findings"])
    if prefix:
        assert not any(f["path"].startswith(prefix) for f in scan_doc["findings"])


def outputs(out: Path) -> list[str]:
    return ["-o", f"sarif:{out / 'r.sarif'}", "-o", f"github:{out / 'gh.txt'}", "-o", f"junit:{out / 'j.xml'}",
            "-o", f"json:{out / 'r.json'}", "--no-cache"]


@pytest.mark.parametrize("where", ["root", "inside", "elsewhere"])
def test_monorepo_service_paths_are_repository_paths(tmp_path, capsys, monkeypatch, where):
    repo = make_monorepo(tmp_path / "mono")
    out = tmp_path / "out"
    if where == "root":
        monkeypatch.chdir(repo)
        target = "services/chat"
    elif where == "inside":
        monkeypatch.chdir(repo / "services" / "chat" / "server")
        target = ".."
    else:
        monkeypatch.chdir(tmp_path)
        target = str(repo / "services" / "chat")
    code, _, err = run(["scan", target, "--format", "json", *outputs(out)], capsys)
    assert code == 0, err
    check_reports(repo, out, "services/chat")


def test_scanning_the_root_gives_the_same_paths_as_before(tmp_path, capsys, monkeypatch):
    repo = make_monorepo(tmp_path / "mono")
    out = tmp_path / "out"
    code, _, err = run(["scan", str(repo), "--format", "json", *outputs(out)], capsys)
    assert code == 0, err
    check_reports(repo, out, ".")
    assert "SCANROOT" not in json.loads((out / "r.sarif").read_text())["runs"][0]["originalUriBaseIds"]


def test_outside_git_the_scanned_folder_is_the_root(tmp_path, capsys, monkeypatch):
    repo = make_monorepo(tmp_path / "mono", with_git=False)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    out = tmp_path / "out"
    code, _, err = run(["scan", str(repo / "services" / "chat"), "--format", "json", *outputs(out)], capsys)
    assert code == 0, err
    check_reports(repo / "services" / "chat", out, ".")


def test_without_git_the_actions_workspace_is_the_root(tmp_path, capsys, monkeypatch):
    repo = make_monorepo(tmp_path / "mono", with_git=False)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(repo))
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))       # git cannot be run
    assert repository_prefix(repo / "services" / "chat") == "services/chat/"
    out = tmp_path / "out"
    code, _, err = run(["scan", str(repo / "services" / "chat"), "--format", "json", *outputs(out)], capsys)
    assert code == 0, err
    check_reports(repo, out, "services/chat")


def test_prefix_checks_notice_a_repository_created_around_the_folder(tmp_path):
    """The `.git` markers the prefix depends on are recorded as inputs, so a replay notices `git init` above."""
    from cfcompat.analyzer import inputs
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    rec = inputs.Recorder()
    with inputs.recording(rec):
        prefix = repository_prefix(folder)
    assert prefix == "" or not str(tmp_path).startswith("/tmp")     # tmp is not inside a work tree here
    marker = str(tmp_path / ".git")
    assert ("kind", "", marker) in rec.checks and rec.checks[("kind", "", marker)] == "absent"
    git(tmp_path, "init", "-q")
    rec2 = inputs.Recorder()
    with inputs.recording(rec2):
        assert repository_prefix(folder) == "a/b/"
    assert rec2.checks[("kind", "", marker)] == "dir"


def test_render_options_repo_path():
    o = RenderOptions(repository_prefix="services/chat")
    assert o.repository_prefix == "services/chat/"
    assert o.repo_path("server/index.js") == "services/chat/server/index.js"
    assert RenderOptions(repository_prefix="./").repo_path("a.js") == "a.js"


def test_pr_comment_paths_and_links_are_repository_paths(tmp_path, capsys, monkeypatch):
    repo = make_monorepo(tmp_path / "mono")
    chat = repo / "services" / "chat"
    git(repo, "checkout", "-q", "-b", "feature")
    (chat / "server" / "worker.js").write_text("const cp = require('child_process');\n"
                                               "module.exports = () => cp.execSync('ls');\n")
    with (chat / "server" / "index.js").open("a") as fh:
        fh.write("require('./worker.js')();\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "worker")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/mono")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    code, out, err = run(["pr-comment", str(chat), "--diff-base", "main", "--no-cache"], capsys)
    assert code == 0, err
    head = git(repo, "rev-parse", "HEAD").strip()
    assert f"https://github.com/acme/mono/blob/{head}/services/chat/server/worker.js#L2" in out
    assert "services/chat/server/worker.js:2" in out


def test_replayed_scan_notices_a_repository_created_around_the_folder(tmp_path):
    """The replay record (caching/records.py) of a SARIF scan holds the repository-root checks: creating a git work tree
    above the scanned folder makes the next run scan again, with repository paths."""
    import subprocess
    import sys
    base = tmp_path / "outer"
    make_monorepo(base, with_git=False)
    env = {k: v for k, v in os.environ.items() if k not in ("CFCOMPAT_NO_CACHE", "GITHUB_WORKSPACE")}
    env.update(CFCOMPAT_CACHE_DIR=str(tmp_path / "cache"), GIT_CEILING_DIRECTORIES=str(tmp_path))
    (tmp_path / "out").mkdir()
    (tmp_path / "cwd").mkdir()          # `-c` puts the working folder on sys.path, which the replay key lists
    sarif = tmp_path / "out" / "r.sarif"
    cmd = [sys.executable, "-X", "importtime", "-c", "from cfcompat.analyzer.console import main; main()", "scan",
           str(base / "services" / "chat"), "--format", "json", "-o", f"sarif:{sarif}"]

    def scan() -> tuple[list[str], bool]:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path / "cwd", timeout=300)
        assert p.returncode == 0, p.stderr[-2000:]
        uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                for r in json.loads(sarif.read_text())["runs"][0]["results"]]
        return uris, "cfcompat.analyzer.engine" in p.stderr

    first, full = scan()
    assert full and all(u.startswith("server/") or u == "package.json" for u in first)
    again, full = scan()
    assert again == first and not full                      # replayed
    git(base, "init", "-q")
    after, full = scan()
    assert full and all(u.startswith("services/chat/") for u in after)
