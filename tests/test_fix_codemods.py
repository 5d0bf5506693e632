"""The Python codemods' own VALID / INVALID cases (Fixit style), each turned into a pytest case: VALID code comes
out unchanged; INVALID code becomes exactly the expected code, which parses and which a second run leaves alone."""
from __future__ import annotations

import libcst
import pytest

from cfcompat.analyzer.fix.codemod import Codemod
from cfcompat.analyzer.fix.py_apscheduler import ApschedulerToCron
from cfcompat.analyzer.fix.py_entry import AddScheduledHandler
from cfcompat.analyzer.fix.py_env import EnvToWorkerEnv
from cfcompat.analyzer.fix.py_requests import RequestsToHttpx

CODEMODS: list[type[Codemod]] = [RequestsToHttpx, EnvToWorkerEnv, ApschedulerToCron, AddScheduledHandler]


def _cases(kind: str):
    out = []
    for cls in CODEMODS:
        for i, case in enumerate(getattr(cls, kind)):
            out.append(pytest.param(cls, case, id=f"{cls.NAME}-{kind.lower()}-{i}"))
    return out


def test_every_codemod_has_cases():
    for cls in CODEMODS:
        assert cls.NAME and cls.rules() and cls.MESSAGE, cls
        assert cls.VALID and cls.INVALID, f"{cls.NAME} needs VALID and INVALID cases"


@pytest.mark.parametrize("cls,case", _cases("VALID"))
def test_valid_unchanged(cls, case):
    res = cls().transform(case.code, **(case.ctx or {}))
    assert res.code == case.code
    assert not res.changed


@pytest.mark.parametrize("cls,case", _cases("INVALID"))
def test_invalid_fixed(cls, case):
    res = cls().transform(case.code, **(case.ctx or {}))
    assert res.code == case.expected
    assert res.changed or res.left, "a fix says what it changed or what it left"
    libcst.parse_module(res.code)
    again = cls().transform(res.code, **(case.ctx or {}))
    assert again.code == res.code, "a second run must change nothing"
