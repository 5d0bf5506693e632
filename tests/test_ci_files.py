"""The GitHub Action and the pre-commit hook call commands and options that exist."""
from __future__ import annotations

from pathlib import Path

import yaml

from cfcompat.analyzer.cli import FORMATS, cli

ROOT = Path(__file__).resolve().parents[1]


def _options(command: str) -> set[str]:
    return {o for p in cli.commands[command].params for o in getattr(p, "opts", [])}


def test_action_is_a_composite_action_using_real_options():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert {"target", "fail-on", "diff-base", "post-comment"} <= set(action["inputs"])
    assert action["inputs"]["diff-base"]["default"] == "origin/${{ github.base_ref }}"
    steps = action["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif@") for s in steps)
    script = "\n".join(s.get("run", "") for s in steps)
    assert {"sarif", "github", "github-summary", "junit"} <= set(FORMATS) and 'sarif:$out/cfcompat.sarif' in script
    assert action["inputs"]["fail-on"]["default"] == "auto"
    assert {"verdict", "blockers", "warnings", "sarif-file", "json-file", "junit-file", "baseline-file"} <= \
        set(action["outputs"])
    for name, spec in action["outputs"].items():
        assert spec["value"].startswith("${{ steps."), name
    assert "pr-comment" in script and "--post" in script
    for opt in ("--diff-base", "--fail-on", "--post", "--target", "--baseline"):
        assert opt in _options("pr-comment")
    for opt in ("--format", "-o", "--fail-on", "--target", "--baseline", "--diff-base"):
        assert opt in _options("scan")
    # inputs reach scripts through env variables, never pasted into the script text (no injection)
    assert "${{ inputs." not in script


def test_pre_commit_hook():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "cfcompat")
    assert hook["entry"] == "cfcompat hook"
    assert hook["pass_filenames"] is True and hook["language"] == "python" and hook["require_serial"] is True
    strict = next(h for h in hooks if h["id"] == "cfcompat-strict")
    assert strict["entry"].startswith("cfcompat scan . --fail-on blocker") and strict["pass_filenames"] is False
    for opt in ("--baseline", "--fail-on", "--path"):
        assert opt in _options("hook")


def test_new_commands_are_listed():
    assert {"baseline", "pr-comment", "hook"} <= set(cli.commands)
    assert "-o" in _options("baseline")
