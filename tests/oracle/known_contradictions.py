"""Knowledge-base claims the pinned runtime (see analyzer/oracle.PINS) contradicts, each with the proposed fix.

The lead applies the fix to rules/kb/node_modules.yaml (or to the code named); the check then passes and pytest
reports it as XPASS -- delete the entry here at that point. They are non-strict xfails so that applying a fix
does not break CI, and the oracle summary lists every one by name. Keys are exact check ids; `_expand` lists
the ids of a contradiction that spans several configurations."""
from __future__ import annotations

import pytest



# check id -> (what the runtime did, proposed fix). Empty: every contradiction found so far is settled in the
# knowledge base (rules/kb/node_modules.yaml workerd_before / without_nodejs_compat, runtime.only_v2_left); see
# rules/kb/platform_changes.yaml and the oracle section of the README. A new one goes here until it is settled.
KNOWN: dict[str, tuple[str, str]] = {}


def _expand(key: str) -> list[str]:
    """'import:a|b@x|y' -> the four ids import:a@x, import:a@y, import:b@x, import:b@y."""
    kind, _, rest = key.partition(":")
    if "@" not in rest:
        return [key]
    names, _, cfgs = rest.partition("@")
    return [f"{kind}:{n}@{c}" for n in names.split("|") for c in cfgs.split("|")]


_INDEX = {i: v for k, v in KNOWN.items() for i in _expand(k)}


def known(check_id: str) -> tuple[str, str] | None:
    return _INDEX.get(check_id)


def xfail_if_known(check_id: str) -> tuple:
    hit = known(check_id)
    if hit:
        seen, fix = hit
        return (pytest.mark.xfail(reason=f"KB contradicted: {seen} -- proposed fix: {fix}", strict=False),)
    return ()
