"""A few hostile trees from scripts/fuzz_trees.py in every test run (CI runs thirty): each finishes, exits 0 or
2 with one line, writes nothing outside its cache, and gives byte-identical JSON across -j1/-j2, cold and warm
caches and --no-cache."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fuzz_trees.py"


def _fuzz():
    spec = importlib.util.spec_from_file_location("fuzz_trees", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


@pytest.mark.parametrize("seed", [3, 4, 12])
def test_hostile_tree(tmp_path, seed):
    fuzz = _fuzz()
    problems, info = fuzz.check_tree(seed, tmp_path, [sys.executable, "-m", "cfcompat.analyzer.console"])
    assert problems == [], (info, problems)
