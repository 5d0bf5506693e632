"""package.json, package-lock.json v1/v3: dependencies, lines, entry points, native evidence, graph."""
from __future__ import annotations

import json

from cfcompat.analyzer.manifests import attribute_transitive, scan_manifests
from cfcompat.analyzer.manifests.npm import read_npm_lock, read_package_json

from manifest_helpers import FIXTURES, dep, locked, scan_dir, scan_fixture, write


def test_package_json_dependencies_versions_lines_and_dev():
    scan = scan_fixture("npm-v3")
    got = [(d.name, d.version, d.line, d.dev) for d in scan.dependencies if d.manifest == "package.json"]
    assert got == [
        ("@xenova/transformers", "^2.17.1", 29, False),
        ("better-sqlite3", "^11.3.0", 30, False),
        ("dotenv", "^16.4.5", 31, False),
        ("express", "^4.19.2", 32, False),
        ("@types/express", "^4.17.21", 35, True),
        ("tsx", "^4.19.1", 36, True),
        ("typescript", "^5.6.2", 37, True),
        ("vitest", "^2.1.1", 38, True),
        ("bufferutil", "^4.0.8", 41, False),   # optionalDependencies are installed in production
    ]
    assert all(d.ecosystem == "npm" and d.verdict == "unknown" and d.kind == "direct" for d in scan.dependencies)


def test_package_json_entry_points():
    scan = scan_fixture("npm-v3")
    (proj,) = scan.projects
    assert (proj.root, proj.ecosystem, proj.name) == ("", "npm", "image-api")
    assert proj.manifests == ["package-lock.json", "package.json"]
    eps = {(e.source, e.line): (e.path, e.kind) for e in proj.entry_points}
    assert eps[("package.json", 6)] == ("dist/server.js", "runtime")        # main
    assert eps[("package.json", 9)] == ("bin/cli.js", "runtime")            # bin map
    assert eps[("package.json", 14)] == ("dist/server.js", "runtime")       # exports "." import
    assert eps[("package.json", 15)] == ("dist/server.cjs", "runtime")      # exports "." require
    assert ("package.json", 13) not in eps                                  # "types" condition is not code
    assert eps[("package.json", 17)] == ("dist/client.js", "runtime")       # subpath export
    assert eps[("package.json", 20)] == ("dist/server.js", "runtime")       # start: NODE_ENV=... node x
    assert eps[("package.json", 21)] == ("src/server.ts", "dev")            # dev: tsx watch
    assert eps[("package.json", 22)] == (None, "build")                     # build: tsc
    assert eps[("package.json", 23)] == (None, "test")
    assert eps[("package.json", 24)] == (None, "dev")                       # preview: wrangler dev
    start = next(e for e in proj.entry_points if e.line == 20 and e.source == "package.json")
    assert start.command == "NODE_ENV=production node dist/server.js"


def test_dockerfile_in_npm_project_multistage_exec_form():
    scan = scan_fixture("npm-v3")
    docker = sorted((e.line, e.kind, e.path, e.command) for e in scan.entry_points if e.source == "Dockerfile")
    assert docker == [
        (8, "build", None, "npm test"),
        (16, "runtime", None, "node --enable-source-maps"),
        # ENTRYPOINT + CMD exec forms combine; /app is the WORKDIR so /app/dist/server.js -> dist/server.js
        (18, "runtime", "dist/server.js", "node --enable-source-maps /app/dist/server.js"),
    ]


def test_lock_v3_native_evidence_dev_and_lines():
    scan = scan_fixture("npm-v3")
    b = locked(scan, "better-sqlite3")
    assert (b.version, b.line, b.native, b.dev) == ("11.3.0", 79, True, False)
    assert b.evidence == "hasInstallScript: true in package-lock.json"
    sharp = locked(scan, "sharp")
    assert (sharp.version, sharp.line, sharp.native) == ("0.32.6", 241, True)
    assert sharp.dependents == ["@xenova/transformers"]
    esb = locked(scan, "esbuild")
    assert esb.dev is True and esb.native is True and esb.dependents == ["tsx"]
    plat = locked(scan, "@esbuild/linux-x64")
    assert plat.native is True and plat.evidence == "platform-specific package (os: linux; cpu: x64) in package-lock.json"
    assert locked(scan, "express").native is None
    assert locked(scan, "bufferutil").dev is False
    nested = locked(scan, "lru-cache")   # node_modules/semver/node_modules/lru-cache
    assert (nested.version, nested.line, nested.dependents) == ("6.0.0", 235, ["semver"])
    assert not any(e.name == "image-api" for e in scan.locked)   # the root entry is the project, not a package


def test_transitive_attribution_sharp_via_transformers():
    scan = scan_fixture("npm-v3")
    via = attribute_transitive(scan)
    assert via["sharp"] == ["@xenova/transformers"]
    assert via["onnxruntime-node"] == ["@xenova/transformers"]
    assert via["detect-libc"] == ["@xenova/transformers", "better-sqlite3"]
    assert via["@esbuild/linux-x64"] == ["tsx"]
    assert via["better-sqlite3"] == ["better-sqlite3"]
    assert list(via) == sorted(via)


def test_lock_v1_nested_dependencies():
    scan = scan_fixture("npm-v1")
    rs = locked(scan, "readable-stream")
    assert (rs.version, rs.line, rs.dependents, rs.dev) == ("1.1.14", 15, ["busboy"], False)
    assert locked(scan, "mocha").dev is True
    assert locked(scan, "express").line == 22
    assert locked(scan, "node-addon-api").dependents == ["sqlite3"]
    assert all(e.native is None for e in scan.locked)   # v1 records no install scripts
    assert attribute_transitive(scan)["readable-stream"] == ["multer"]
    dev = next(e for e in scan.projects[0].entry_points if e.line == 7)
    assert (dev.path, dev.kind) == ("server.js", "dev")   # nodemon --exec "node --inspect server.js"


def test_workspaces_array_and_object_forms(tmp_path):
    write(tmp_path, "package.json", json.dumps({"name": "root", "workspaces": ["apps/*", "packages/*"]}))
    write(tmp_path, "apps/a/package.json", json.dumps({"name": "a", "workspaces": {"packages": ["x/*"]}}))
    scan = scan_dir(tmp_path)
    ws = {p.root: p.workspaces for p in scan.projects}
    assert ws == {"": ["apps/*", "packages/*"], "apps/a": ["x/*"]}
    assert {p.name for p in scan.projects} == {"root", "a"}


def test_duplicate_keys_last_wins_with_its_line(tmp_path):
    write(tmp_path, "package.json", '{\n  "dependencies": {"a": "1"},\n  "dependencies": {\n    "b": "2"\n  }\n}\n')
    res = read_package_json(tmp_path, "package.json")
    assert [(d.name, d.line) for d in res.dependencies] == [("b", 4)]


def test_escaped_keys_odd_values_and_bad_sections(tmp_path):
    text = ('{\n  "dependencies": {\n    "\\u0073harp": "^0.33.0",\n    "local": {"version": "1"}\n  },\n'
            '  "devDependencies": ["jest"]\n}\n')
    write(tmp_path, "package.json", text)
    res = read_package_json(tmp_path, "package.json")
    assert [(d.name, d.line) for d in res.dependencies] == [("sharp", 3), ("local", 4)]
    assert res.dependencies[1].version == '{"version": "1"}'
    assert [e.message for e in res.errors] == ["'devDependencies' at line 6 is not an object; skipped"]


def test_exports_skip_non_code_and_patterns(tmp_path):
    pkg = {"name": "lib", "main": "index", "exports": {".": "./index.js", "./package.json": "./package.json",
                                                       "./features/*": "./src/features/*.js",
                                                       "./styles.css": "./dist/styles.css", "./x": None}}
    write(tmp_path, "package.json", json.dumps(pkg, indent=2))
    res = read_package_json(tmp_path, "package.json", frozenset({"index.js"}))
    assert [(e.path, e.line) for e in res.entry_points] == [("index.js", 3), ("index.js", 5)]


def test_same_name_in_dependencies_and_peer_is_one_entry(tmp_path):
    write(tmp_path, "package.json", json.dumps({"dependencies": {"react": "^18"}, "peerDependencies": {"react": "*"},
                                                "devDependencies": {"react": "^18.2"}}, indent=2))
    res = read_package_json(tmp_path, "package.json")
    assert [(d.name, d.dev, d.version) for d in res.dependencies] == [("react", False, "^18"), ("react", True, "^18.2")]


def test_npm_shrinkwrap_is_read_like_a_lock(tmp_path):
    lock = {"lockfileVersion": 2, "packages": {"": {"name": "x"}, "node_modules/re2": {"version": "1.20.0",
                                                                                         "hasInstallScript": True}}}
    write(tmp_path, "npm-shrinkwrap.json", json.dumps(lock, indent=2))
    write(tmp_path, "package.json", json.dumps({"name": "x", "dependencies": {"re2": "^1.20.0"}}))
    scan = scan_dir(tmp_path)
    e = locked(scan, "re2")
    assert e.native is True and e.evidence == "hasInstallScript: true in npm-shrinkwrap.json"
    assert scan.projects[0].manifests == ["npm-shrinkwrap.json", "package.json"]


def test_workspace_links_in_lock_are_not_packages(tmp_path):
    lock = {"lockfileVersion": 3, "packages": {
        "": {"name": "root", "workspaces": ["packages/*"]},
        "node_modules/@acme/ui": {"resolved": "packages/ui", "link": True},
        "packages/ui": {"name": "@acme/ui", "version": "1.0.0", "dependencies": {"canvas": "^2"}},
        "node_modules/canvas": {"version": "2.11.2", "hasInstallScript": True},
    }}
    write(tmp_path, "package-lock.json", json.dumps(lock, indent=2))
    res = read_npm_lock(tmp_path, "package-lock.json")
    assert [e.name for e in res.locked] == ["canvas"]


def test_lock_reader_reports_non_lock_json(tmp_path):
    write(tmp_path, "package-lock.json", '{"name": "x"}')
    res = read_npm_lock(tmp_path, "package-lock.json")
    assert res.locked == [] and "neither 'packages' nor 'dependencies'" in res.errors[0].message
    write(tmp_path, "package-lock.json", "[1, 2]")
    res = read_npm_lock(tmp_path, "package-lock.json")
    assert res.errors[0].message.startswith("expected a JSON object at the top level of package-lock.json")


def test_scan_manifests_is_deterministic_and_ignores_order():
    root = FIXTURES / "npm-v3"
    rels = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    a = scan_manifests(root, rels).to_json()
    b = scan_manifests(root, list(reversed(rels)) + rels).to_json()
    assert a == b
    assert dep(scan_manifests(root, rels), "express").line == 32
