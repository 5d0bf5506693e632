"""yarn.lock v1 (own format) and berry (YAML)."""
from __future__ import annotations

from cfcompat.analyzer.manifests import attribute_transitive
from cfcompat.analyzer.manifests.yarn import read_yarn_lock, spec_name

from manifest_helpers import FIXTURES, locked, scan_fixture, write


def test_spec_name():
    assert spec_name("@babel/core@^7.0.0") == "@babel/core"
    assert spec_name("lodash@^4.17.21") == "lodash"
    assert spec_name("foo@npm:bar@^1") == "foo"
    assert spec_name("@esbuild/linux-x64@npm:0.20.1") == "@esbuild/linux-x64"


def test_yarn_v1_entries_versions_lines_and_graph():
    scan = scan_fixture("yarn-v1")
    names = [(e.name, e.version, e.line) for e in scan.locked]
    assert ("@mapbox/node-pre-gyp", "1.0.11", 5) in names
    assert ("bcrypt", "5.1.1", 23) in names
    assert ("semver", "7.6.0", 62) in names
    # one entry for a header with two specifiers
    assert [n for n, _v, _l in names].count("semver") == 1
    assert locked(scan, "@mapbox/node-pre-gyp").dependents == ["bcrypt"]          # quoted scoped dep name
    assert locked(scan, "@next/swc-linux-x64-gnu").dependents == ["next"]         # optionalDependencies
    assert all(e.native is None for e in scan.locked)                             # v1 records no build info
    via = attribute_transitive(scan)
    assert via["node-addon-api"] == ["bcrypt"]
    assert via["semver"] == ["bcrypt"]


def test_yarn_v1_dev_flags_inferred_from_package_json():
    scan = scan_fixture("yarn-v1")
    assert locked(scan, "prisma").dev is True
    assert locked(scan, "@prisma/engines").dev is True        # only reachable from a devDependency
    assert locked(scan, "bcrypt").dev is False
    assert locked(scan, "detect-libc").dev is False
    assert scan.projects[0].manifests == ["package.json", "yarn.lock"]


def test_yarn_berry_conditions_workspace_and_versions():
    scan = scan_fixture("yarn-berry")
    names = [e.name for e in scan.locked]
    assert "bot-worker" not in names                           # workspace entry is the project itself
    plat = locked(scan, "@esbuild/linux-x64")
    assert plat.native is True
    assert plat.evidence == "platform-specific package (conditions: os=linux & cpu=x64) in yarn.lock"
    assert (plat.version, plat.line) == ("0.20.1", 8)          # version kept as text
    canvas = locked(scan, "canvas")
    assert (canvas.version, canvas.line, canvas.native, canvas.dev) == ("2.11.2", 37, None, False)
    assert locked(scan, "nan").dependents == ["canvas"]
    assert locked(scan, "semver").dependents == ["@mapbox/node-pre-gyp"]
    assert locked(scan, "wrangler").dev is True
    assert attribute_transitive(scan)["@mapbox/node-pre-gyp"] == ["canvas"]


def test_broken_yarn_lock_reports_lines_and_keeps_the_rest():
    res = read_yarn_lock(FIXTURES / "broken", "yarn.lock")
    msgs = [e.message for e in res.errors]
    assert msgs == [
        "invalid yarn.lock at line 11: expected an entry header 'name@range:'",
        "invalid yarn.lock at line 18: unexpected indentation; line ignored",
    ]
    got = {(e.name, e.version, e.line) for e in res.locked}
    assert got == {("express", "4.19.2", 5), ("sharp", "0.33.4", 15), ("detect-libc", "2.0.3", 22)}
    assert next(e for e in res.locked if e.name == "detect-libc").dependents == ["sharp"]


def test_yarn_v1_entry_without_version_and_stray_lines(tmp_path):
    text = ('# yarn lockfile v1\n\n  stray "line"\n\nleft-pad@^1.3.0:\n  resolved "https://x/left-pad.tgz"\n\n'
            '"unterminated@^1:\n  version "1.0.0"\n\nok@1.0.0:\n  version "1.0.0"\n')
    write(tmp_path, "yarn.lock", text)
    res = read_yarn_lock(tmp_path, "yarn.lock")
    msgs = [e.message for e in res.errors]
    assert "invalid yarn.lock at line 3: indented line outside an entry" in msgs
    assert "invalid yarn.lock entry at line 5: no version" in msgs
    assert "invalid yarn.lock at line 8: cannot read the package specifiers of this entry" in msgs
    assert [(e.name, e.line) for e in res.locked] == [("ok", 11)]


def test_yarn_berry_invalid_yaml_names_line(tmp_path):
    write(tmp_path, "yarn.lock", '__metadata:\n  version: 8\n\n"a@npm:1":\n  version: [1.0\n')
    res = read_yarn_lock(tmp_path, "yarn.lock")
    assert len(res.errors) == 1 and res.errors[0].message.startswith("invalid YAML at line ")
    assert res.locked == []
