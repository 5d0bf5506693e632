"""The path users really take: a Worker deployed with wrangler is bundled with wrangler's Node.js preset, which
stands between the code and workerd. Where the table says `hybrid` (the preset's working polyfill) or
`unenv-stub` (unenv's throwing stub), the probe is bundled as wrangler does (analyzer/wrangler_bundle.mjs with the
pinned @cloudflare/unenv-preset) and run in workerd: the import must work, and for a stub a call must throw
`[unenv] <module>.<fn> is not implemented yet!`. (test_node_modules.py checks what workerd alone serves.)"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from cfcompat.analyzer import oracle, verify
from cfcompat.rules.classes.runtime import module_status, node_table

from test_node_modules import CONFIGS, _cfg_id

TABLE = node_table()
# calls the facts file records from wrangler's unenv stubs (cloudflare-facts: "[unenv] fs.readFileSync is not
# implemented yet!", "[unenv] child_process.execSyn is not implemented yet!"). Other unenv modules are mocks whose
# functions may return placeholders instead of throwing, so only the import is checked for them.
STUB_CALLS = {"fs": ("readFileSync", '"/tmp/x"'), "child_process": ("execSync", '"git status"')}


def _cases() -> list[tuple[str, str, tuple[str, ...], str]]:
    out = []
    for d, f in CONFIGS:
        for n in TABLE.modules:
            st, _ = module_status(n, d, f)
            if st in ("hybrid", "unenv-stub"):
                out.append((n, d, f, st))
    return out


CASES = _cases()


def _probe(names: list[str]) -> str:
    lines = ["import { probe } from './probe-lib.js';"]
    for i, n in enumerate(names):
        lines.append(f"import * as M{i} from {oracle.js('node:' + n)};")
    lines.append("export default { async test() {")
    for i, n in enumerate(names):
        lines.append(f"  await probe({oracle.js(n + ':import')}, () => Object.keys(M{i}).length);")
        if n in STUB_CALLS:
            fn, args = STUB_CALLS[n]
            lines.append(f"  await probe({oracle.js(n + ':call')}, () => (M{i}[{oracle.js(fn)}] ?? "
                         f"M{i}.default?.[{oracle.js(fn)}])({args}));")
    lines.append("} };")
    return "\n".join(lines) + "\n"


PROBE_LIB = oracle.PRELUDE + "export { probe };\n"


@pytest.fixture(scope="module")
def bundled_runs(bundler_root):
    """One bundle + workerd run per configuration that has hybrid or unenv-stub modules."""
    by_cfg: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for n, d, f, _ in CASES:
        by_cfg.setdefault((d, f), []).append(n)
    out = {}
    for (d, f), names in by_cfg.items():
        with tempfile.TemporaryDirectory(prefix="cfcompat-wrangler-path-") as tmp:
            root = Path(tmp) / "repo"
            (root / "src").mkdir(parents=True)
            (root / "src" / "probe-lib.js").write_text(PROBE_LIB)
            (root / "src" / "index.js").write_text(_probe(names))
            outdir = Path(tmp) / "out"
            outdir.mkdir()
            b = verify.bundle(root / "src" / "index.js", outdir, bundler_root, root, d, list(f))
            if not b.get("ok"):
                out[(d, f)] = ("bundle-failed", b)
                continue
            run = oracle.run_test([oracle.Module("worker.mjs", (outdir / "worker.mjs").read_text())], date=d,
                                  flags=f, root=bundler_root)
            out[(d, f)] = ("ran", run)
    return out


@pytest.mark.parametrize("name,date,flags,status", [pytest.param(n, d, f, s, id=f"{n}@{_cfg_id(d, f)}")
                                                    for n, d, f, s in CASES])
def test_wrangler_bundle_gives_the_table_verdict(bundled_runs, record_property, name, date, flags, status):
    kind, r = bundled_runs[(date, flags)]
    assert kind == "ran", f"wrangler-like bundle failed: {r}"
    assert r.startup_error is None, r.startup_error
    imp = r.by_name.get(name + ":import")
    call = r.by_name.get(name + ":call")
    observed = ("imports" if imp and imp["ok"] else f"import failed: {imp}") + (
        "" if call is None else f"; call {'returned' if call['ok'] else 'threw ' + call['error'][:120]}")
    record_property("claim", f"node:{name} at {_cfg_id(date, flags)} through wrangler's bundling: {status}")
    record_property("observed", observed)
    assert imp is not None and imp["ok"], observed
    if status == "unenv-stub" and call is not None:
        assert not call["ok"] and "[unenv]" in call["error"] and "is not implemented yet" in call["error"], observed
    if status == "hybrid" and call is not None:
        assert call["ok"] or "[unenv]" not in call["error"], observed
