"""Evidence from installed node_modules/ and virtualenvs (read only, bounded, no symlinks out of root)."""
from __future__ import annotations

import json
import os

import pytest

from cfcompat.analyzer.manifests import find_installed_dirs, installed_native_evidence, installed_size

from manifest_helpers import write


def _pkg(root, rel, data, **files):
    write(root, f"{rel}/package.json", json.dumps(data))
    for name, content in files.items():
        write(root, f"{rel}/{name.replace('__', '/')}", content)


@pytest.fixture()
def repo(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    nm = "node_modules"
    _pkg(root, f"{nm}/better-sqlite3", {"name": "better-sqlite3", "version": "11.3.0",
                                         "dependencies": {"bindings": "^1.5.0", "prebuild-install": "^7.1.1"}},
         **{"binding.gyp": "{}", "build__Release__better_sqlite3.node": b"\x7fELF"})
    _pkg(root, f"{nm}/left-pad", {"name": "left-pad", "version": "1.3.0"}, **{"index.js": "x" * 100})
    _pkg(root, f"{nm}/@scope/addon", {"name": "@scope/addon", "version": "2.0.0", "gypfile": True})
    _pkg(root, f"{nm}/bufferutil", {"name": "bufferutil", "version": "4.0.8", "dependencies": {"node-gyp-build": "^4"}},
         **{"prebuilds__linux-x64__bufferutil.node": b"\x7fELF"})
    _pkg(root, f"{nm}/a", {"name": "a", "version": "1.0.0"})
    _pkg(root, f"{nm}/a/node_modules/nested-native", {"name": "nested-native", "version": "0.1.0"},
         **{"binding.gyp": "{}"})
    _pkg(root, f"{nm}/.pnpm/sharp@0.33.4/node_modules/sharp", {"name": "sharp", "version": "0.33.4",
                                                               "scripts": {"install": "node-gyp rebuild"}})
    os.symlink(".pnpm/sharp@0.33.4/node_modules/sharp", root / nm / "sharp")
    outside = tmp_path / "outside-pkg"
    _pkg(tmp_path, "outside-pkg", {"name": "evil", "gypfile": True}, **{"binding.gyp": "{}"})
    os.symlink(outside, root / nm / "evil")
    sp = ".venv/lib/python3.12/site-packages"
    write(root, ".venv/pyvenv.cfg", "home = /usr/bin\n")
    write(root, f"{sp}/numpy-1.26.4.dist-info/METADATA", "Metadata-Version: 2.1\nName: numpy\nVersion: 1.26.4\n")
    write(root, f"{sp}/numpy-1.26.4.dist-info/RECORD",
          "numpy/__init__.py,sha256=x,10\nnumpy/core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so,sha256=y,20\n")
    write(root, f"{sp}/requests-2.31.0.dist-info/METADATA", "Name: requests\nVersion: 2.31.0\n")
    write(root, f"{sp}/requests-2.31.0.dist-info/RECORD", "requests/__init__.py,sha256=x,10\n")
    write(root, f"{sp}/simplejson-3.19.2-py3.12.egg-info/top_level.txt", "simplejson\n")
    write(root, f"{sp}/simplejson/_speedups.cpython-312-x86_64-linux-gnu.so", b"\x7fELF")
    write(root, f"{sp}/Foo_Bar-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp312-cp312-linux_x86_64\n")
    return root


def test_find_installed_dirs(repo):
    assert find_installed_dirs(repo) == [".venv", "node_modules"]


def test_node_modules_native_evidence(repo):
    evs = {e.name: e for e in installed_native_evidence(repo, ["node_modules"])}
    assert set(evs) == {"better-sqlite3", "@scope/addon", "bufferutil", "nested-native", "sharp"}
    b = evs["better-sqlite3"]
    assert (b.ecosystem, b.version, b.native, b.lockfile) == ("npm", "11.3.0", True, "node_modules/better-sqlite3")
    assert "binding.gyp in node_modules/better-sqlite3" in b.evidence
    assert "compiled addon node_modules/better-sqlite3/build/Release/better_sqlite3.node" in b.evidence
    assert "depends on bindings, prebuild-install" in b.evidence
    assert '"gypfile": true' in evs["@scope/addon"].evidence
    assert "prebuilds/ directory" in evs["bufferutil"].evidence
    assert evs["nested-native"].lockfile == "node_modules/a/node_modules/nested-native"
    assert evs["sharp"].evidence == "install script runs 'node-gyp rebuild'"
    assert evs["sharp"].lockfile == "node_modules/.pnpm/sharp@0.33.4/node_modules/sharp"


def test_site_packages_native_evidence(repo):
    evs = {e.name: e for e in installed_native_evidence(repo, [".venv"])}
    assert set(evs) == {"numpy", "simplejson", "foo-bar"}
    n = evs["numpy"]
    assert (n.ecosystem, n.version, n.line) == ("pypi", "1.26.4", 2)
    assert n.lockfile == ".venv/lib/python3.12/site-packages/numpy-1.26.4.dist-info/RECORD"
    assert n.evidence == ("compiled extension numpy/core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so "
                          "listed in RECORD")
    assert "top_level.txt" in evs["simplejson"].evidence
    assert evs["foo-bar"].evidence == "platlib wheel (Root-Is-Purelib: false, tag cp312-cp312-linux_x86_64)"


def test_autodetect_and_refuses_paths_outside(repo, tmp_path):
    names = {e.name for e in installed_native_evidence(repo)}
    assert {"numpy", "better-sqlite3"} <= names and "evil" not in names
    assert installed_native_evidence(repo, ["../outside-pkg", "/etc"]) == []


def test_bounded(repo):
    evs = installed_native_evidence(repo, ["node_modules", ".venv"], max_entries=5)
    assert len(evs) <= 2      # stops early instead of walking everything
    assert installed_size(repo, max_entries=3) is not None


def test_installed_size(repo):
    sizes = installed_size(repo)
    assert sizes["left-pad"] == len(json.dumps({"name": "left-pad", "version": "1.3.0"})) + 100
    assert "@scope/addon" in sizes and "sharp" in sizes and sizes["sharp"] > 0    # pnpm symlink measured
    assert "evil" not in sizes                                                    # symlink out of the repo
    assert ".pnpm" not in sizes and list(sizes) == sorted(sizes)
    nested = len(json.dumps({"name": "nested-native", "version": "0.1.0"})) + len("{}")
    assert sizes["a"] == len(json.dumps({"name": "a", "version": "1.0.0"})) + nested   # nested node_modules count
    assert installed_size(repo, "missing") == {} and installed_size(repo, "../x") == {}
