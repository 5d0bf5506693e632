"""Knowledge-base claims the pinned runtime (workerd 1.20261117.1) contradicts, each with the proposed fix.

The lead applies the fix to rules/kb/node_modules.yaml (or to the code named); the check then passes and pytest
reports it as XPASS -- delete the entry here at that point. They are non-strict xfails so that applying a fix
does not break CI, and the oracle summary lists every one by name. Keys are exact check ids; `_expand` lists
the ids of a contradiction that spans several configurations."""
from __future__ import annotations

import pytest

from cfcompat.rules.classes.runtime import node_table

_EARLY = ["2024-09-22", "2024-09-23", "2025-01-01", "2025-08-14", "2025-08-15", "2025-08-31", "2025-09-01",
          "2025-09-14"]
_NO_COMPAT = ["2026-07-01-noflags", "2026-08-03-noflags", "2026-11-17+no_nodejs_compat+no_nodejs_compat_v2",
              "2024-09-23+nodejs_als"]

# check id -> (what the runtime did, proposed fix)
KNOWN: dict[str, tuple[str, str]] = {
    "import:process@" + "|".join(["2024-09-22+nodejs_compat", "2026-11-17+no_nodejs_compat", *_NO_COMPAT]): (
        "node:process imports at every date, also without nodejs_compat (a 6-key object: nextTick, env, exit, "
        "getBuiltinModule, platform, features); only the `process` *global* needs nodejs_compat",
        "process: requires null, workerd_before partial + module_status() returning 'partial' for a module with "
        "requires null when nodejs_compat is off (see the oracle report)"),
    "import:fs/promises@" + "|".join([f"{d}+nodejs_compat" for d in _EARLY] + ["2026-11-17+no_nodejs_compat"]): (
        "workerd serves a working node:fs/promises (writeFile+readFile on /tmp) at every date with nodejs_compat; "
        "wrangler's preset still aliases it to unenv's stub before 2025-09-15, so the wrangler verdict stands",
        "fs/promises: workerd_before: native (documents what workerd alone does; the oracle test honours it)"),
    "flag:fs/promises@2026-11-17+disable_nodejs_fs_module": (
        "disable_nodejs_fs_module removes node:fs but not node:fs/promises from workerd",
        "fs/promises: workerd_before: native (as above)"),
    "import:" + "|".join(sorted(m.name for m in node_table().modules.values()
                                if m.default_date is None and m.status != "absent") + ["sys"])
    + "@2026-11-17+no_nodejs_compat": (
        "with only no_nodejs_compat at a date >= 2026-08-04, nodejs_compat_v2 stays on by default and the 39 "
        "undated modules (assert, buffer, crypto, path, stream, ...) still import; dated ones (fs, http, ...) do not",
        "rules/classes/runtime.py nodejs_compat_on(): off only when both no_nodejs_compat and no_nodejs_compat_v2 "
        "are listed (or the date is before 2026-08-04); with only no_nodejs_compat, treat undated modules as on "
        "and dated ones as off"),
    "gen:process": (
        "the preset (wrangler 4.164) keeps node:process a hybrid polyfill until 2026-02-19: native needs "
        "enable_nodejs_process_v2 (2025-09-15) AND fetch_iterable_type_support (2026-02-19, its override "
        "adjustment implied from 2026-01-15); workerd itself serves process v2 from 2025-09-15; also imports in v1 "
        "(2024-09-22) and without nodejs_compat",
        "process: default_date \"2026-02-19\" (wrangler view; both sides import, so no finding changes), "
        "runtime_default_date: \"2025-09-15\", note the fetch_iterable_type_support gate; plus the import:process "
        "fix above"),
    "gen:fs/promises": ("workerd serves node:fs/promises with v1 nodejs_compat (2024-09-22), where wrangler injects "
                        "no polyfill", "see import:fs/promises"),
}


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
