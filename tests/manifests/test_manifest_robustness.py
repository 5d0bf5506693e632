"""Malformed, hostile and odd inputs: every problem is a ScanError naming file, problem and line."""
from __future__ import annotations

import os

import pytest

from cfcompat.analyzer.manifests import EXCLUDED_DIRS, MANIFEST_NAMES, is_manifest, manifest_kind, scan_manifests
from cfcompat.analyzer.manifests._common import json_key_lines

from manifest_helpers import FIXTURES, files_under, no_internal_errors, scan_dir, scan_fixture, write


def test_broken_fixture_errors_name_file_problem_and_line():
    scan = scan_fixture("broken")
    assert [(e.path, e.message) for e in scan.errors] == [
        ("package-lock.json", "invalid JSON at line 11: Expecting ',' delimiter (the file ends early: truncated?)"),
        ("package.json", "invalid JSON at line 6: Expecting ',' delimiter (the file ends early: truncated?)"),
        ("pyproject.toml", "invalid TOML at line 7: Unclosed array"),
        ("requirements.txt", "invalid requirement at line 2: Expected semicolon (after name with no version "
                             "specifier) or end"),
        ("yarn.lock", "invalid yarn.lock at line 11: expected an entry header 'name@range:'"),
        ("yarn.lock", "invalid yarn.lock at line 18: unexpected indentation; line ignored"),
    ]
    # everything readable is still read
    assert [d.name for d in scan.dependencies] == ["flask", "requests"]
    assert {e.name for e in scan.locked} == {"express", "sharp", "detect-libc"}


def test_manifest_names_and_kinds():
    assert "package.json" in MANIFEST_NAMES and "uv.lock" in MANIFEST_NAMES and "Pipfile" in MANIFEST_NAMES
    assert manifest_kind("a/b/npm-shrinkwrap.json") == "npm-lock"
    assert manifest_kind("environment.yaml") == "environment"
    assert manifest_kind("requirements/constraints.txt") == "constraints"
    assert not is_manifest("src/package.json.bak")
    for d in ("node_modules", ".venv", "venv", ".git", "dist", "build"):
        assert d in EXCLUDED_DIRS
        assert not is_manifest(f"{d}/pkg/package.json")
    assert is_manifest("./packages\\web\\package.json")     # separators normalised


def test_excluded_dirs_are_not_projects(tmp_path):
    write(tmp_path, "package.json", '{"name": "app", "dependencies": {"a": "1"}}')
    write(tmp_path, "node_modules/a/package.json", '{"name": "a", "dependencies": {"b": "1"}}')
    write(tmp_path, ".venv/lib/python3.12/site-packages/x/pyproject.toml", '[project]\nname = "x"\n')
    write(tmp_path, "dist/package.json", '{"name": "built"}')
    scan = scan_dir(tmp_path)
    assert [(p.root, p.name) for p in scan.projects] == [("", "app")]
    assert [d.name for d in scan.dependencies] == ["a"]


def test_directory_named_like_a_manifest(tmp_path):
    (tmp_path / "package.json").mkdir()
    write(tmp_path, "requirements.txt", "flask\n")
    scan = scan_manifests(tmp_path, ["package.json", "requirements.txt"])
    assert [(e.path, e.message) for e in scan.errors] == [("package.json", "is a directory, not a file")]
    assert [d.name for d in scan.dependencies] == ["flask"]


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_symlink_loop_and_symlink_outside_root(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    os.symlink("loop-b.json", root / "package.json")
    os.symlink("package.json", root / "loop-b.json")
    outside = tmp_path / "secret.txt"
    outside.write_text("django\n")
    os.symlink(outside, root / "requirements.txt")
    write(root, "real/pyproject.toml", '[project]\nname = "r"\ndependencies = ["httpx"]\n')
    os.symlink("real/pyproject.toml", root / "pyproject.toml")    # inside the repo: followed
    scan = scan_manifests(root, ["package.json", "requirements.txt", "pyproject.toml", "real/pyproject.toml"])
    errs = {e.path: e.message for e in scan.errors}
    assert errs == {"package.json": "symbolic link loop; not read",
                    "requirements.txt": "symbolic link points outside the scanned repository; not read"}
    assert sorted((d.manifest, d.name) for d in scan.dependencies) == [
        ("pyproject.toml", "httpx"), ("real/pyproject.toml", "httpx")]


def test_huge_file_is_skipped_with_an_error(tmp_path):
    with open(tmp_path / "package-lock.json", "wb") as fh:   # sparse: no 21 MB written to disk
        fh.truncate(21 * 1024 * 1024)
    write(tmp_path, "package.json", '{"dependencies": {"a": "1"}}')
    scan = scan_dir(tmp_path)
    assert [(e.path, e.message) for e in scan.errors] == [
        ("package-lock.json", "file too large (21.0 MB > 20.0 MB limit); skipped")]
    assert [d.name for d in scan.dependencies] == ["a"]


def test_binary_garbage_and_nul_bytes(tmp_path):
    write(tmp_path, "yarn.lock", b"# yarn lockfile v1\n\n\xff\xfe\x00garbage\x89PNG")
    write(tmp_path, "Pipfile", b"[packages]\nflask = '*'\n\x00\x01")
    write(tmp_path, "uv.lock", b"version = 1\n\n\x80\x81")
    scan = scan_dir(tmp_path)
    errs = {e.path: e.message for e in scan.errors}
    assert errs["yarn.lock"] == "not UTF-8 text (invalid byte 0xff at line 3); binary file?"
    assert errs["Pipfile"] == "binary content (NUL byte at line 3); not read"
    assert errs["uv.lock"] == "not UTF-8 text (invalid byte 0x80 at line 3); binary file?"


def test_deep_nesting_does_not_crash(tmp_path):
    write(tmp_path, "package.json", "[" * 100_000 + "]" * 100_000)
    write(tmp_path, "pnpm-lock.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n")
    write(tmp_path, "pyproject.toml", "a = " + "[" * 5000 + "]" * 5000 + "\n")
    scan = scan_dir(tmp_path)
    no_internal_errors(scan)
    errs = {e.path: e.message for e in scan.errors}
    assert errs["package.json"] == "invalid JSON: nested too deeply to read"
    assert errs["pyproject.toml"] == "invalid TOML: nested too deeply to read"
    assert "pnpm-lock.yaml" not in errs or errs["pnpm-lock.yaml"].startswith("invalid YAML")


def test_yaml_alias_bomb_is_not_expanded(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        prev = f"*a{i-1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    lines.append("packages:\n  foo@1.0.0:\n    resolution: {integrity: x}")
    write(tmp_path, "pnpm-lock.yaml", "lockfileVersion: '9.0'\n" + "\n".join(lines) + "\n")
    scan = scan_dir(tmp_path)
    no_internal_errors(scan)
    assert [e.name for e in scan.locked] == ["foo"]


def test_json_key_lines_paths():
    text = '{\n "a": {\n  "b": 1,\n  "c": [ {"d": 2},\n   {"d": 3} ]\n },\n "e\\"q": true\n}\n'
    lines = json_key_lines(text)
    assert lines[("a",)] == 2 and lines[("a", "b")] == 3
    assert lines[("a", "c", 0, "d")] == 4 and lines[("a", "c", 1, "d")] == 5
    assert lines[('e"q',)] == 7


def test_empty_and_whitespace_files(tmp_path):
    for name in ("package.json", "pyproject.toml", "yarn.lock", "pnpm-lock.yaml", "requirements.txt", "setup.py",
                 "setup.cfg", "Pipfile", "Pipfile.lock", "poetry.lock", "uv.lock", "environment.yml",
                 "Procfile", "Dockerfile", "docker-compose.yml", "pnpm-workspace.yaml", "package-lock.json"):
        write(tmp_path, name, "   \n")
    scan = scan_dir(tmp_path)
    no_internal_errors(scan)
    assert {e.path for e in scan.errors} == {"package.json", "Pipfile.lock", "package-lock.json"}
    assert all(e.message.startswith("invalid JSON at line 1") for e in scan.errors)


def test_whole_fixture_tree_scans_cleanly_and_deterministically():
    root = FIXTURES
    rels = files_under(root)
    a = scan_manifests(root, rels)
    b = scan_manifests(root, list(reversed(rels)))
    assert a.to_json() == b.to_json()
    no_internal_errors(a)
    assert {e.path.split("/")[0] for e in a.errors} == {"broken"}
    roots = {p.root for p in a.projects}
    assert {"npm-v3", "pnpm-monorepo", "pnpm-monorepo/packages/api", "python-uv", "conda"} <= roots
