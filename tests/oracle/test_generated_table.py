"""The shipped table (rules/kb/node_modules.yaml via module_status) against the table scripts/gen_node_table.py
rebuilds from the pinned @cloudflare/unenv-preset (what wrangler bundles) plus import probes in workerd."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from cfcompat.rules.classes.runtime import node_table

from known_contradictions import xfail_if_known

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("gen_node_table", ROOT / "scripts" / "gen_node_table.py")
gen_node_table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_node_table)

TABLE = node_table()


@pytest.fixture(scope="module")
def generated(generator_root):
    return gen_node_table.generate(generator_root)


@pytest.mark.parametrize("name", [pytest.param(n, marks=xfail_if_known(f"gen:{n}")) for n in TABLE.modules])
def test_generated_status(generated, record_property, name):
    row = generated["modules"].get(name)
    assert row is not None, f"the generator does not know node:{name}"
    bad = [(key, gen_node_table.shipped_status(name, key), st) for key, st in row.items()
           if gen_node_table.shipped_status(name, key) != st]
    record_property("claim", f"node:{name} per date: " + ", ".join(f"{k}={gen_node_table.shipped_status(name, k)}"
                                                                   for k in row))
    record_property("observed", ", ".join(f"{k}={v}" for k, v in row.items()))
    assert not bad, "shipped vs generated: " + "; ".join(f"{k}: {h} != {g}" for k, h, g in bad)


def test_generator_knows_every_table_module(generated):
    assert set(generated["modules"]) == set(TABLE.modules)


def test_preset_counts(generated):
    """globals.preset_counts (native / hybrid / unenv per date) equals the preset's own classification."""
    want = TABLE.globals["preset_counts"]
    got = {d: generated["preset_counts"].get(d + "+nodejs_compat") or generated["preset_counts"].get(d)
           for d in want}
    norm = {d: {"native": c.get("native", 0), "hybrid": c.get("hybrid", 0), "unenv": c.get("unenv-stub", 0)}
            for d, c in got.items()}
    assert norm == {d: dict(v) for d, v in want.items()}


def test_every_date_the_preset_distinguishes_is_in_the_table(generated):
    """A new dated flag in a newer preset shows up here: each date at which some generated status changes must
    be a default_date of the table (or one of its global switches)."""
    keys = generated["configs"]
    change = set()
    for row in generated["modules"].values():
        for a, b in zip(keys, keys[1:]):
            if row[a] != row[b] and a.endswith("nodejs_compat") == b.endswith("nodejs_compat"):
                change.add(b[:10])
    known = {m.default_date for m in TABLE.modules.values() if m.default_date}
    known |= {f.get("default_date") for m in TABLE.modules.values() for f in m.features.values()}
    known |= {TABLE.v2_date, TABLE.default_on_from}
    assert sorted(change - known) == []
