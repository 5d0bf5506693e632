"""pnpm-lock.yaml v5.4 / v6 / v9 and pnpm-workspace.yaml; a pnpm monorepo."""
from __future__ import annotations

import pytest

from cfcompat.analyzer.manifests import attribute_transitive
from cfcompat.analyzer.manifests.pnpm import parse_key, read_pnpm_lock, read_pnpm_workspace

from manifest_helpers import FIXTURES, locked, scan_fixture, write


@pytest.mark.parametrize("key,major,expected", [
    ("/@scope/name/1.0.0", 5, ("@scope/name", "1.0.0")),
    ("/foo/1.0.0_react@18.2.0", 5, ("foo", "1.0.0")),
    ("/@a/b/2.0.0_@types+react@18.0.0", 5, ("@a/b", "2.0.0")),
    ("/foo@1.0.0(react@18.2.0)", 6, ("foo", "1.0.0")),
    ("/@scope/name@1.2.3", 6, ("@scope/name", "1.2.3")),
    ("foo@1.0.0", 9, ("foo", "1.0.0")),
    ("@img/sharp-linux-x64@0.33.4(x@1)", 9, ("@img/sharp-linux-x64", "0.33.4")),
    ("", 9, None),
    ("/justname", 5, None),
])
def test_parse_key(key, major, expected):
    assert parse_key(key, major) == expected


def test_monorepo_projects_workspaces_and_entry_points():
    scan = scan_fixture("pnpm-monorepo")
    projs = {(p.root, p.ecosystem): p for p in scan.projects}
    assert sorted(projs) == [("", "npm"), ("packages/api", "npm"), ("packages/web", "npm")]
    root = projs[("", "npm")]
    assert root.name == "acme-monorepo"
    assert root.manifests == ["package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml"]
    assert root.workspaces == ["packages/*"]
    api = projs[("packages/api", "npm")]
    assert api.name == "@acme/api" and api.manifests == ["packages/api/package.json"]
    assert {(e.line, e.path, e.kind) for e in api.entry_points} == {
        (5, "packages/api/src/index.ts", "runtime"),     # main
        (7, "packages/api/src/index.ts", "runtime"),     # start: node --import tsx src/index.ts
        (8, "packages/api/src/index.ts", "dev"),
    }
    web = projs[("packages/web", "npm")]
    assert sorted(e.path for e in web.entry_points) == ["packages/web/src/index.js", "packages/web/src/styles.js"]
    d = [(x.manifest, x.name, x.line, x.dev) for x in scan.dependencies if x.name in ("better-sqlite3", "vitest")]
    assert d == [("packages/api/package.json", "better-sqlite3", 12, False),
                 ("packages/api/package.json", "vitest", 16, True)]


def test_v9_lock_lines_native_evidence_graph_and_dev():
    scan = scan_fixture("pnpm-monorepo")
    plat = locked(scan, "@img/sharp-linux-x64")
    assert (plat.version, plat.line, plat.native) == ("0.33.4", 45, True)
    assert plat.evidence == "platform-specific package (os: linux; cpu: x64) in pnpm-lock.yaml"
    assert plat.dependents == ["sharp"]
    bs = locked(scan, "better-sqlite3")                       # v9 has no requiresBuild: onlyBuiltDependencies says
    assert bs.native is True and bs.evidence.startswith("listed in onlyBuiltDependencies (pnpm-workspace.yaml)")
    assert locked(scan, "sharp").native is None
    assert locked(scan, "bindings").dependents == ["better-sqlite3"]     # from snapshots
    assert locked(scan, "loose-envify").dependents == ["react"]
    assert locked(scan, "turbo").dev is True and locked(scan, "vitest").dev is True
    assert locked(scan, "js-tokens").dev is False                          # react -> loose-envify -> js-tokens
    via = attribute_transitive(scan)
    assert via["@img/sharp-linux-x64"] == ["sharp"]
    assert via["js-tokens"] == ["react"]


def test_v6_requires_build_and_dev():
    scan = scan_fixture("pnpm-v6")
    b = locked(scan, "bcrypt")
    assert (b.version, b.line, b.native, b.evidence, b.dev) == (
        "5.1.1", 29, True, "requiresBuild: true in pnpm-lock.yaml", False)
    tap = locked(scan, "tap")
    assert (tap.version, tap.dev) == ("18.7.0", True)           # peer suffix stripped
    assert locked(scan, "typescript").dependents == ["tap"]
    assert locked(scan, "@mapbox/node-pre-gyp").dependents == ["bcrypt"]


def test_v5_keys_and_requires_build():
    scan = scan_fixture("pnpm-v5")
    got = {(e.name, e.version, e.native) for e in scan.locked}
    assert got == {
        ("@napi-rs/canvas-linux-x64-gnu", "0.1.44", True),
        ("@napi-rs/canvas", "0.1.44", None),
        ("puppeteer", "19.7.0", True),
        ("typescript", "4.9.5", None),
    }
    assert attribute_transitive(scan)["@napi-rs/canvas-linux-x64-gnu"] == ["@napi-rs/canvas"]
    assert locked(scan, "puppeteer").line == 29


def test_only_built_dependencies_from_package_json(tmp_path):
    write(tmp_path, "package.json", '{"name": "x", "dependencies": {"argon2": "^0.40.0"},\n'
                                    ' "pnpm": {"onlyBuiltDependencies": ["argon2"]}}\n')
    write(tmp_path, "pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  argon2@0.40.1:\n    resolution: {integrity: x}\n"
                                      "snapshots:\n  argon2@0.40.1: {}\n")
    from manifest_helpers import scan_dir
    scan = scan_dir(tmp_path)
    e = locked(scan, "argon2")
    assert e.native is True and "onlyBuiltDependencies (package.json)" in e.evidence


def test_pnpm_workspace_file_and_errors(tmp_path):
    write(tmp_path, "pnpm-workspace.yaml", "packages:\n  - apps/*\n  - '!apps/legacy'\n")
    assert read_pnpm_workspace(tmp_path, "pnpm-workspace.yaml").workspaces == ["apps/*", "!apps/legacy"]
    write(tmp_path, "pnpm-workspace.yaml", "- just\n- a list\n")
    assert read_pnpm_workspace(tmp_path, "pnpm-workspace.yaml").errors[0].message.startswith("invalid pnpm-workspace.yaml")
    write(tmp_path, "pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages: [1, 2]\n")
    res = read_pnpm_lock(tmp_path, "pnpm-lock.yaml")
    assert res.errors[0].message == "invalid pnpm-lock.yaml: 'packages' at line 2 is not a mapping"
    write(tmp_path, "pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  a@1:\n   b: [\n")
    res = read_pnpm_lock(tmp_path, "pnpm-lock.yaml")
    assert res.errors and res.errors[0].message.startswith("invalid YAML at line 5")


def test_fixture_files_exist():
    assert (FIXTURES / "pnpm-monorepo" / "pnpm-lock.yaml").read_text().startswith("lockfileVersion: '9.0'")
