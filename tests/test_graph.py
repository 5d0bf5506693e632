"""Import graph resolution and file contexts from entry points."""
from __future__ import annotations

import json
from pathlib import Path

from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.reports.json_report import document


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def run(root: Path, **opts):
    r = scan(root, ScanOptions(jobs=1, **opts))
    return r, document(r)


def test_js_resolution_ts_paths_index_and_js_to_ts(tmp_path: Path):
    write(tmp_path, {
        "package.json": json.dumps({"name": "a", "main": "src/index.ts"}),
        "tsconfig.json": '{ // comment\n "compilerOptions": {"baseUrl": ".", "paths": {"@lib/*": ["src/lib/*"]}}}',
        "src/index.ts": "import { save } from '@lib/store';\nimport './routes/index.js';\nexport default {}\n",
        "src/lib/store.ts": "import * as fs from 'node:fs';\nexport const save = () => fs.writeFileSync('d/x', '1');\n",
        "src/routes/index.ts": "import { h } from '../util';\nexport {}\n",
        "src/util/index.ts": "export const h = 1;\n",
    })
    r, doc = run(tmp_path)
    g = r.graph
    assert g.has_edge("src/index.ts", "src/lib/store.ts")
    assert g.has_edge("src/index.ts", "src/routes/index.ts")
    assert g.has_edge("src/routes/index.ts", "src/util/index.ts")
    f = next(f for f in doc["findings"] if f["rule_id"] == "fs-persistent-write")
    assert f["import_chain"] == ["src/index.ts", "src/lib/store.ts"] and f["severity"] == "blocker"


def test_build_only_and_test_only_files_are_not_runtime(tmp_path: Path):
    write(tmp_path, {
        "package.json": json.dumps({"name": "a", "main": "src/server.js",
                                    "scripts": {"start": "node src/server.js", "seed": "node tools/seed.js"}}),
        "src/server.js": "const db = require('./db');\nmodule.exports = db;\n",
        "src/db.js": "module.exports = {};\n",
        "tools/seed.js": "const gen = require('../src/gen');\ngen();\n",
        "src/gen.js": "const fs = require('fs');\nmodule.exports = () => fs.writeFileSync('seed.json', '[]');\n",
        "test/helpers/server.test.js": "const h = require('../../src/testutil');\n",
        "src/testutil.js": "const fs = require('fs');\nmodule.exports = () => fs.mkdirSync('tmpdata');\n",
    })
    _, doc = run(tmp_path)
    by = {f["path"]: f for f in doc["findings"]}
    assert by["src/gen.js"]["severity"] == "info" and by["src/gen.js"]["context"] == "build"
    assert "tools/seed.js" in by["src/gen.js"]["note"]
    # imported by a test but not by the app: frameworks load files by name, so it is judged by its path
    assert by["src/testutil.js"]["context"] == "runtime" and "import_chain" not in by["src/testutil.js"]
    assert doc["settings"]["context"]["mode"] == "entry points"


def test_runtime_reachability_beats_path_convention(tmp_path: Path):
    write(tmp_path, {
        "package.json": json.dumps({"name": "a", "main": "index.js"}),
        "index.js": "require('./scripts/persist');\n",
        "scripts/persist.js": "require('fs').writeFileSync('state.json', '{}');\n",
    })
    _, doc = run(tmp_path)
    f = next(f for f in doc["findings"] if f["path"] == "scripts/persist.js")
    assert f["context"] == "runtime" and f["severity"] == "blocker"


def test_python_relative_and_src_layout(tmp_path: Path):
    write(tmp_path, {
        "pyproject.toml": "[project]\nname = 'svc'\nversion = '1'\n",
        "src/svc/__init__.py": "",
        "src/svc/main.py": "from fastapi import FastAPI\nfrom .store import save\nfrom svc import jobs\napp = FastAPI()\n",
        "src/svc/store.py": "def save(d):\n    open('data/out.json', 'w').write(d)\n",
        "src/svc/jobs.py": "import threading\ndef go():\n    threading.Thread(target=print).start()\n",
        "src/svc/cli.py": "import shutil\ndef clean():\n    shutil.rmtree('cache')\n",
    })
    r, doc = run(tmp_path)
    g = r.graph
    assert g.has_edge("src/svc/main.py", "src/svc/store.py")
    assert g.has_edge("src/svc/main.py", "src/svc/jobs.py")
    f = next(f for f in doc["findings"] if f["path"] == "src/svc/store.py")
    assert f["import_chain"] == ["src/svc/main.py", "src/svc/store.py"]
    cli = next(f for f in doc["findings"] if f["path"] == "src/svc/cli.py")
    assert cli["context"] == "runtime" and "import_chain" not in cli   # not imported: judged by its path


def test_no_entry_point_falls_back_to_path_conventions(tmp_path: Path):
    write(tmp_path, {"lib/a.js": "require('fs').rmSync('x');\n", "scripts/b.js": "require('fs').rmSync('y');\n"})
    _, doc = run(tmp_path)
    assert doc["settings"]["context"]["mode"].startswith("path conventions")
    sev = {f["path"]: f["severity"] for f in doc["findings"]}
    assert sev == {"lib/a.js": "blocker", "scripts/b.js": "info"}


def test_workspace_package_imports_resolve(tmp_path: Path):
    write(tmp_path, {
        "package.json": json.dumps({"name": "root", "private": True, "workspaces": ["packages/*"]}),
        "packages/api/package.json": json.dumps({"name": "@acme/api", "main": "src/index.js"}),
        "packages/api/src/index.js": "const { put } = require('@acme/storage');\nmodule.exports = put;\n",
        "packages/storage/package.json": json.dumps({"name": "@acme/storage", "main": "src/index.js"}),
        "packages/storage/src/index.js": "const fs = require('fs');\nexports.put = (k) => fs.writeFileSync(k, '');\n",
    })
    r, doc = run(tmp_path)
    assert r.graph.has_edge("packages/api/src/index.js", "packages/storage/src/index.js")


def test_listen_is_info_once_the_worker_exports_http_server_handler():
    fix = Path(__file__).resolve().parents[1] / "fixtures" / "fix" / "js-express-listen"
    sev = {}
    for side in ("before", "after"):
        _, doc = run(fix / side)
        sev[side] = [f["severity"] for f in doc["findings"] if f["rule_id"] == "server-listen"]
    assert sev == {"before": ["warning"], "after": ["info"]}


def test_import_graph_agrees_with_networkx():
    """The scan's adjacency map and the networkx view of it give the same edges and reachability."""
    import networkx as nx
    from hypothesis import given, settings, strategies as st

    from cfcompat.analyzer.graph import ImportGraph

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=20))
    def check(edges):
        g = ImportGraph()
        for a, b in edges:
            g.add_edge(f"f{a}", f"f{b}")
        ref = nx.DiGraph(list((f"f{a}", f"f{b}") for a, b in edges))
        assert set(g.nx.edges) == set(ref.edges)
        for n in ref.nodes:
            assert g.descendants(n) == nx.descendants(ref, n)
            assert sorted(g.successors(n)) == sorted(ref.successors(n))
        assert g.number_of_edges() == ref.number_of_edges()   # other networkx calls reach the nx view

    check()
