"""The list of known contradictions stays true to the suite: an entry whose check no longer exists (the check
was renamed, or the knowledge base was fixed and the check removed) would hide nothing and mislead the reader of
the oracle report."""
from __future__ import annotations

import pytest

from known_contradictions import _INDEX


def test_every_known_contradiction_names_a_collected_check(request: pytest.FixtureRequest):
    if request.config.option.keyword or request.config.option.deselect:
        pytest.skip("a partial selection (-k / --deselect) cannot tell which checks exist")   # full runs in CI
    ids = {item.callspec.id for item in request.session.items if hasattr(item, "callspec")}
    assert len(ids) > 1000                      # the whole oracle suite was collected
    dead = sorted(i for i in _INDEX if i.partition(":")[2] not in ids)
    assert not dead, f"known_contradictions entries that match no check: {dead}"
