#!/usr/bin/env python3
"""Rebuild the date-keyed Node.js module availability (native / hybrid / unenv-stub / missing per compatibility
date and flags) from the pinned @cloudflare/unenv-preset (what wrangler 4.164.0 bundles) plus import probes in
the pinned workerd, and compare it with rules/kb/node_modules.yaml.

    python scripts/gen_node_table.py                 # JSON table on stdout
    python scripts/gen_node_table.py --out t.json    # ... into a file
    python scripts/gen_node_table.py --check         # exit 1 when the shipped table disagrees (lists each cell)

Statuses (the wrangler view, as in node_modules.yaml's `before`):
  native      the preset marks the module external (workerd provides it) and workerd imports it
  hybrid      the preset aliases it to its own working polyfill (@cloudflare/unenv-preset/node/<m>)
  unenv-stub  the preset leaves it to unenv's throwing stub
  missing     no nodejs_compat, or a prefix-only module (node:sqlite, node:test, ...) workerd does not serve
  v1          before 2024-09-23 nodejs_compat has v1 semantics: wrangler injects nothing, so the import works
              exactly when workerd serves it (recorded as native / missing)
  inconsistent:<why>  the preset and the runtime disagree (e.g. preset says native, workerd lacks it)

Dates probed: every date literal in the preset's source (the flags' default dates) and the day before each, plus
the runtime's own switches (nodejs_compat v2 on 2024-09-23, on by default from 2026-08-04) and the newest date.
Installs the pinned packages into $CFCOMPAT_ORACLE_DIR (default ~/.cache/cfcompat/oracle) on first use.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cfcompat.analyzer import oracle

V2_DATE = "2024-09-23"          # nodejs_compat v2 semantics (CAPNP)
DEFAULT_ON = "2026-08-04"       # nodejs_compat on by default (CAPNP)
NEWEST = oracle.NEWEST_DATE
COMPAT = ("nodejs_compat",)
# node:* names workerd knows that are not among the preset's nonPrefixedNodeModules
PREFIX_ONLY = ("sea", "sqlite", "test", "test/reporters")

PRESET_JS = r"""
import { defineEnv } from "unenv";
import { getCloudflarePreset, nonPrefixedNodeModules } from "@cloudflare/unenv-preset";
const configs = JSON.parse(process.argv[2]);
const out = { modules: nonPrefixedNodeModules, configs: [] };
for (const [date, flags] of configs) {
  const { alias, external } = defineEnv({
    presets: [getCloudflarePreset({ compatibilityDate: date, compatibilityFlags: flags })], npmShims: true }).env;
  const ext = new Set(external); const st = {};
  for (const m of nonPrefixedNodeModules) {
    const k = `node:${m}`;
    st[m] = ext.has(k) ? "native" : alias[k]?.includes("@cloudflare/unenv-preset") ? "hybrid" : alias[k] ? "unenv-stub" : "none";
  }
  out.configs.push({ date, flags, status: st });
}
console.log(JSON.stringify(out));
"""


def day_before(d: str) -> str:
    return (dt.date.fromisoformat(d) - dt.timedelta(days=1)).isoformat()


def preset_dates(root: Path) -> list[str]:
    src = (root / "node_modules" / "@cloudflare" / "unenv-preset" / "dist" / "index.mjs").read_text(encoding="utf-8")
    return sorted(set(re.findall(r'"(\d{4}-\d{2}-\d{2})"', src)))


def configs(root: Path) -> list[tuple[str, tuple[str, ...]]]:
    ds: set[str] = {V2_DATE, day_before(V2_DATE)}
    for d in preset_dates(root):
        if d > V2_DATE:
            ds |= {d, day_before(d)}
    cf = [(d, COMPAT) for d in sorted(ds) if d < DEFAULT_ON]
    return cf + [(day_before(DEFAULT_ON), ()), (DEFAULT_ON, ()), (NEWEST, ())]


def cfg_key(date: str, flags: tuple[str, ...]) -> str:
    return date + ("+" + "+".join(flags) if flags else "")


def run_preset(root: Path, cfgs: list[tuple[str, tuple[str, ...]]]) -> dict[str, Any]:
    script = root / "cfcompat-gen-preset.mjs"     # inside the cache so node resolves its node_modules
    script.write_text(PRESET_JS, encoding="utf-8")
    r = subprocess.run(["node", str(script), json.dumps([[d, list(f)] for d, f in cfgs])], cwd=root,
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise oracle.OracleUnavailable(f"preset script failed: {r.stderr[-500:]}")
    return json.loads(r.stdout)


def import_probe(names: list[str]) -> str:
    body = "\n".join(f"  await probe({oracle.js(n)}, async () => Object.keys(await import({oracle.js('node:' + n)})).length);"
                     for n in names)
    return oracle.PRELUDE + "export default { async test() {\n" + body + "\n} };\n"


def compat_on(date: str, flags: tuple[str, ...]) -> bool:
    return "nodejs_compat" in flags or date >= DEFAULT_ON


def generate(root: Path | None = None) -> dict[str, Any]:
    root = root or oracle.ensure(oracle.GENERATOR)
    cfgs = configs(root)
    preset = run_preset(root, cfgs)
    names = list(preset["modules"]) + list(PREFIX_ONLY)
    src = [oracle.Module("probe.mjs", import_probe(names))]
    with ThreadPoolExecutor(8) as ex:
        runs = list(ex.map(lambda c: oracle.run_test(src, date=c[0], flags=c[1], root=root), cfgs))
    table: dict[str, dict[str, str]] = {n: {} for n in names}
    counts: dict[str, dict[str, int]] = {}
    for (date, flags), pc, run in zip(cfgs, preset["configs"], runs):
        key = cfg_key(date, flags)
        imported = {r["name"]: r["ok"] for r in run.records}
        c: dict[str, int] = {}
        for n in names:
            ok = imported.get(n, False)
            p = pc["status"].get(n, "none")
            if n in pc["status"]:
                c[p] = c.get(p, 0) + 1
            if not compat_on(date, flags):
                st = "native" if ok else "missing"   # no polyfills either: wrangler leaves node: imports to workerd
            elif date < V2_DATE:
                st = "native" if ok else "missing"                      # v1: no polyfills
            elif p == "native":
                st = "native" if ok else "inconsistent:preset-native-but-workerd-lacks-it"
            elif p in ("hybrid", "unenv-stub"):
                st = p
            else:
                st = "native" if ok else "missing"                      # prefix-only names
            table[n][key] = st
        counts[key] = c
    return {
        "generated_by": "scripts/gen_node_table.py",
        "pins": {**oracle.PINS, "workerd --version": oracle.workerd_version(root)},
        "configs": [cfg_key(d, f) for d, f in cfgs],
        "preset_dates": preset_dates(root),
        "preset_counts": counts,
        "modules": table,
        "summary": summarize(table, [cfg_key(d, f) for d, f in cfgs]),
    }


def summarize(table: dict[str, dict[str, str]], keys: list[str]) -> dict[str, dict[str, Any]]:
    """Per module: the first probed date from which it is native (with nodejs_compat) and its status before."""
    out = {}
    v2keys = [k for k in keys if k.startswith(tuple("0123456789")) and k[:10] >= V2_DATE and
              (k.endswith("+nodejs_compat") or k[:10] >= DEFAULT_ON)]
    for n, row in table.items():
        native_from = next((k[:10] for k in v2keys if row[k] == "native" and
                            all(row[j] == "native" for j in v2keys if j[:10] >= k[:10])), None)
        before = sorted({row[k] for k in v2keys if native_from and k[:10] < native_from}) or None
        out[n] = {"native_from": native_from if native_from != V2_DATE else None, "before": before}
    return out


# --------------------------------------------------------------------------------------------- compare with the KB

def shipped_status(name: str, key: str) -> str:
    """The shipped table's verdict at a config, in the generator's vocabulary."""
    from cfcompat.rules.classes.runtime import module_status
    date, _, rest = key.partition("+")
    flags = tuple(rest.split("+")) if rest else ()
    st, _ = module_status(name, date, flags)
    return {"partial": "native", "stub": "native", "absent": "missing"}.get(st, st)


def diff(gen: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(module, config, shipped, generated) for every cell where they differ."""
    out = []
    for n, row in gen["modules"].items():
        for key, st in row.items():
            have = shipped_status(n, key)
            if have != st:
                out.append((n, key, have, st))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="write the JSON table here instead of stdout")
    ap.add_argument("--check", action="store_true", help="compare with rules/kb/node_modules.yaml; exit 1 on a difference")
    a = ap.parse_args(argv)
    try:
        gen = generate()
    except oracle.OracleUnavailable as e:
        print(f"gen_node_table: {e}", file=sys.stderr)
        return 2
    text = json.dumps(gen, indent=1)
    if a.out:
        a.out.write_text(text + "\n", encoding="utf-8")
    elif not a.check:
        print(text)
    if a.check:
        d = diff(gen)
        for n, key, have, st in d:
            print(f"{n:22s} {key:32s} shipped {have:12s} generated {st}")
        print(f"{len(d)} difference(s) in {sum(len(r) for r in gen['modules'].values())} cells "
              f"({len(gen['modules'])} modules x {len(gen['configs'])} configurations)")
        return 1 if d else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
