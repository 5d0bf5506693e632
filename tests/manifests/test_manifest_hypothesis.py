"""Property tests: random bytes and random mutations of every fixture manifest never make a reader raise.

The readers are called directly (not through scan_manifests' safety net), so an exception fails the test;
scan_manifests is also checked to report no "internal error".
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfcompat.analyzer.manifests import _read_one, is_entry_point_file, manifest_kind, scan_manifests
from cfcompat.analyzer.manifests._common import Parsed
from cfcompat.analyzer.manifests.entry_points import read_entry_file
from cfcompat.analyzer.manifests.pip_requirements import read_requirements

from manifest_helpers import FIXTURES, files_under, no_internal_errors

FIXTURE_FILES = [rel for rel in files_under(FIXTURES)
                 if manifest_kind(rel) or is_entry_point_file(rel)]
# path inside its fixture repository (keeps requirements/base.txt a requirements file)
NAMES = sorted({rel.split("/", 1)[1] for rel in FIXTURE_FILES} | {"requirements-dev.txt", "constraints.txt"})
STRUCTURAL = st.text(alphabet='{}[]()"\'\\:,;=#@-_.~^*&|<> \t\n\r0123456789abcAZ\u00e9\u2603', min_size=1, max_size=40)
SETTINGS = settings(max_examples=30, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _read(root: Path, rel: str) -> list[Parsed]:
    kind = manifest_kind(rel)
    if kind in ("requirements", "constraints"):
        return read_requirements(root, [rel], frozenset({rel}))
    if kind:
        return [_read_one(root, rel, kind, frozenset({rel}))]
    assert is_entry_point_file(rel), rel
    return [read_entry_file(root, rel, frozenset({rel}))]


def _check(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
        results = _read(root, name)            # raises -> the property fails
        for res in results:
            assert isinstance(res, Parsed)
            for e in res.errors:
                assert e.path and e.message and "internal error" not in e.message
        no_internal_errors(scan_manifests(root, [name]))


def test_fixture_manifests_were_found():
    assert len(FIXTURE_FILES) >= 30, FIXTURE_FILES
    kinds = {manifest_kind(r) for r in FIXTURE_FILES}
    assert {"package.json", "npm-lock", "yarn.lock", "pnpm-lock", "pyproject", "uv.lock", "poetry.lock",
            "Pipfile", "Pipfile.lock", "setup.py", "setup.cfg", "environment", "requirements"} <= kinds


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.binary(max_size=3000))
def test_random_bytes_never_raise(name, data):
    _check(name, data)


@pytest.mark.parametrize("rel", FIXTURE_FILES)
@SETTINGS
@given(draw=st.data())
def test_mutated_fixture_never_raises(rel, draw):
    original = (FIXTURES / rel).read_bytes()
    data = bytearray(original)
    for _ in range(draw.draw(st.integers(1, 4), label="mutations")):
        op = draw.draw(st.sampled_from(["truncate", "delete", "insert-bytes", "insert-text", "flip", "duplicate"]))
        pos = draw.draw(st.integers(0, len(data)), label="pos") if data else 0
        if op == "truncate":
            data = data[:pos]
        elif op == "delete":
            n = draw.draw(st.integers(1, 64))
            del data[pos:pos + n]
        elif op == "insert-bytes":
            data[pos:pos] = draw.draw(st.binary(min_size=1, max_size=16))
        elif op == "insert-text":
            data[pos:pos] = draw.draw(STRUCTURAL).encode("utf-8")
        elif op == "flip" and data:
            i = min(pos, len(data) - 1)
            data[i] = draw.draw(st.integers(0, 255))
        elif op == "duplicate" and data:
            n = draw.draw(st.integers(1, 200))
            data[pos:pos] = data[max(0, pos - n):pos]
    _check(rel.split("/", 1)[1], bytes(data))    # same path inside the repository: same reader
