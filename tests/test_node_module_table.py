"""The Node.js module table (rules/kb/node_modules.yaml) against the facts file, the date logic in
rules/classes/runtime.py, and the runtime-api / config / limits rules that use it."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.rules import load_kb
from cfcompat.rules.classes.envfiles import first_secret, is_env_file, mask_line
from cfcompat.rules.classes.runtime import (UNENV, WORKS, module_status, node_table, nodejs_compat_on,
                                            optional_import_lines)

FACTS = Path("/work/shared/reference/cloudflare-facts.md")
MODS_PROBE = Path("/work/shared/reference/oracle-probes/mods.mjs")
COMPAT = ["nodejs_compat"]
PREFIX_ONLY = {"sea", "sqlite", "test", "test/reporters"}


def _raw() -> dict:
    return load_kb("node_modules.yaml")


def _facts_rows() -> list[tuple[list[str], str, str]]:
    """(module names, status word, flag/date cell) for each row of the facts file's per-module table."""
    if not FACTS.exists():
        pytest.skip("reference facts file not available")
    text = FACTS.read_text(encoding="utf-8")
    start = text.index("### Per-module table")
    rows = []
    table_names = set(node_table().modules)
    for line in text[start:].splitlines()[1:]:
        if line.startswith("### "):
            break
        if not line.startswith("| ") or line.startswith("| Module") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        names_cell, status_cell, flag_cell = cells[0], cells[1], cells[2]
        m = re.match(r"^(\w+) \(\+(.*)\)$", names_cell)
        if m:
            names = [m.group(1)] + [f"{m.group(1)}/{x.strip()}" for x in m.group(2).split(",")]
        else:
            names = []
            for part in re.sub(r"\(not _stream_wrap\)", "", names_cell).split(","):
                part = part.strip()
                if part.endswith("*"):
                    names += sorted(n for n in table_names if n.startswith(part[:-1]) and n != "_stream_wrap")
                elif part:
                    names.append(part)
        status = re.sub(r"[*]", "", status_cell).split()[0].strip(" ,(")
        rows.append((names, status, flag_cell))
    assert len(rows) >= 40, rows
    return rows


# --------------------------------------------------------------------------------------------- table vs facts

def test_every_module_listed_once_and_matches_the_oracle_probe_list():
    names = [m["name"] for m in _raw()["modules"]]
    assert len(names) == len(set(names)) == 72
    nonprefixed = [n for n in names if n not in PREFIX_ONLY]
    assert len(nonprefixed) == 68          # unenv's nonPrefixedNodeModules / workerd's builtinModules.length
    for sub in ("fs/promises", "dns/promises", "stream/web", "util/types", "path/posix", "timers/promises",
                "readline/promises", "assert/strict", "inspector/promises", "sea", "test/reporters"):
        assert sub in names
    if MODS_PROBE.exists():
        probe = re.search(r"const MODS = (\[.*?\]);", MODS_PROBE.read_text()).group(1)
        assert set(re.findall(r'"([^"]+)"', probe)) == set(names)


# Entries the real runtime contradicted (tests/oracle); the table follows the runtime, the facts file is stale.
ORACLE_CORRECTED = {"sys", "zlib", "process"}   # process: the preset keeps it hybrid until 2026-02-19


def test_statuses_dates_and_flags_agree_with_the_facts_file():
    table = node_table().modules
    seen = set()
    for names, status, cell in _facts_rows():
        dates = re.findall(r"\d{4}-\d{2}-\d{2}", cell)
        flags = [f for f in re.findall(r"`([a-z0-9_]+)`", cell)]
        for name in names:
            assert name in table, f"{name} named by the facts file but not in the table"
            m = table[name]
            seen.add(name)
            assert m.status == status, (name, m.status, status)
            if (name.startswith("_") and not flags) or cell.startswith("—"):
                continue
            if name in ORACLE_CORRECTED:
                assert "ORACLE" in (m.note or ""), name
                continue
            if cell.startswith("nodejs_compat") or cell.startswith("with nodejs_compat"):
                assert m.default_date is None, name
                continue
            assert m.default_date == dates[0], (name, m.default_date, dates)
            assert m.enable_flag == flags[0], (name, m.enable_flag, flags)
            disable = [f for f in flags if f.startswith("disable_")]
            if disable:
                assert m.disable_flag == disable[0], name
    assert len(seen) >= 60


def test_http_server_half_and_fs_docs_date_are_recorded():
    t = node_table()
    for name in ("http", "https"):
        srv = t.modules[name].features["server"]
        assert (srv["enable_flag"], srv["default_date"]) == ("enable_nodejs_http_server_modules", "2025-09-01")
    fs = t.modules["fs"]
    assert (fs.default_date, fs.docs_default_date) == ("2025-09-15", "2025-09-01")
    g = _raw()["globals"]
    assert g["fs_default_date"] == {"runtime": "2025-09-15", "docs": "2025-09-01", "used": "2025-09-15"}
    assert g["nodejs_compat"]["default_on_from"] == "2026-08-04"
    assert g["nodejs_compat"]["required_from"] == "2024-09-23"
    assert g["process_env"]["populated_from"] == "2025-04-01"


def test_dates_are_valid_and_ordered():
    raw = _raw()
    g = raw["globals"]
    chain = [g["nodejs_compat"]["required_from"], g["process_env"]["populated_from"], g["all_native_from"],
             g["nodejs_compat"]["default_on_from"], raw["as_of"]]
    for d in chain:
        dt.date.fromisoformat(d)
    assert chain == sorted(chain)
    for m in node_table().modules.values():
        assert m.status in ("native", "partial", "stub", "absent")
        assert m.before in ("unenv-stub", "hybrid", "missing")
        if m.default_date:
            dt.date.fromisoformat(m.default_date)
            assert g["nodejs_compat"]["required_from"] <= m.default_date <= g["all_native_from"], m.name
            if m.docs_default_date:
                assert m.docs_default_date <= m.default_date
        for f in m.features.values():
            assert f["default_date"] >= (m.default_date or "")
        for t in m.throws:
            assert t.get("effect", "throws") in ("throws", "noop", "fake") and t.get("error"), (m.name, t)


@pytest.mark.parametrize("date,counts", sorted(load_kb("node_modules.yaml")["globals"]["preset_counts"].items()))
def test_table_reproduces_the_unenv_preset_counts(date, counts):
    """With nodejs_compat, the 68 non-prefixed modules split into available / unenv stub as the preset says."""
    statuses = [module_status(n, date, COMPAT)[0] for n in node_table().modules if n not in PREFIX_ONLY]
    assert statuses.count(UNENV) == counts["unenv"]
    assert sum(s in WORKS for s in statuses) == counts["native"] + counts["hybrid"]


# --------------------------------------------------------------------------------------------- date logic

DATES = ["2024-09-23", "2025-01-01", "2025-09-14", "2025-09-15", "2026-03-17", "2026-08-04"]
EXPECTED = {
    # module: statuses at DATES with nodejs_compat
    "fs": ["unenv-stub", "unenv-stub", "unenv-stub", "native", "native", "native"],
    "os": ["unenv-stub", "unenv-stub", "unenv-stub", "partial", "partial", "partial"],
    "http": ["unenv-stub", "unenv-stub", "native", "native", "native", "native"],
    "perf_hooks": ["unenv-stub", "unenv-stub", "unenv-stub", "unenv-stub", "partial", "partial"],
    "child_process": ["unenv-stub", "unenv-stub", "unenv-stub", "unenv-stub", "stub", "stub"],
    "sqlite": ["missing", "missing", "missing", "missing", "stub", "stub"],
    "process": ["hybrid", "hybrid", "hybrid", "hybrid", "native", "native"],   # wrangler view; workerd: native
    "console": ["hybrid", "hybrid", "hybrid", "hybrid", "partial", "partial"],
    "path": ["native"] * 6,
    "zlib": ["native"] * 6,
    "crypto": ["native"] * 6,
    "sea": ["absent"] * 6,
    "test/reporters": ["absent"] * 6,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_module_status_with_nodejs_compat(name):
    got = [module_status(name, d, COMPAT)[0] for d in DATES]
    assert got == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_module_status_without_nodejs_compat(name):
    """No flag: every node:* import fails before 2026-08-04; from then nodejs_compat is on by default."""
    got = [module_status(name, d, [])[0] for d in DATES]
    absent = EXPECTED[name][0] == "absent"
    # node:process imports without nodejs_compat too (a reduced module; oracle), every other module fails
    before = "absent" if absent else "partial" if name == "process" else "missing"
    assert got[:5] == [before] * 5
    assert got[5] == EXPECTED[name][5]


def test_flags_turn_modules_on_and_off():
    assert nodejs_compat_on("2026-08-03", []) is False
    assert nodejs_compat_on("2026-08-04", []) is True
    assert nodejs_compat_on("2026-11-17", ["no_nodejs_compat"]) is False
    assert module_status("fs", "2026-11-17", ["no_nodejs_compat"])[0] == "missing"
    # no_nodejs_compat alone leaves nodejs_compat_v2 on: undated modules still import (oracle, wrangler agrees)
    assert module_status("buffer", "2026-11-17", ["no_nodejs_compat"])[0] == "native"
    assert module_status("buffer", "2026-11-17", ["no_nodejs_compat", "no_nodejs_compat_v2"])[0] == "missing"
    # the two paths: wrangler substitutes the unenv stub, workerd alone serves node:fs/promises
    assert module_status("fs/promises", "2025-01-01", ["nodejs_compat"])[0] == UNENV
    assert module_status("fs/promises", "2025-01-01", ["nodejs_compat"], path="workerd")[0] == "native"
    assert module_status("console", "2025-01-01", ["nodejs_compat"], path="workerd")[0] == "missing"
    assert module_status("fs", "2025-01-01", ["nodejs_compat", "enable_nodejs_fs_module"])[0] == "native"
    assert module_status("fs", "2026-11-17", ["disable_nodejs_fs_module"])[0] == UNENV
    assert module_status("async_hooks", "2025-01-01", ["nodejs_als"])[0] == "native"
    # before 2024-09-23 nodejs_compat has v1 semantics: no unenv polyfills
    assert module_status("fs", "2024-06-01", COMPAT)[0] == "missing"
    assert module_status("fs", "2024-06-01", ["nodejs_compat_v2"])[0] == UNENV
    assert module_status("path", "2024-06-01", COMPAT)[0] == "native"
    status, reason = module_status("fs", "2025-09-14", COMPAT)
    assert status == UNENV and "2025-09-15" in reason and "[unenv]" in reason
    assert module_status("left-pad", "2026-11-17", [])[0] == "unknown"


# --------------------------------------------------------------------------------------------- rules end to end

def _findings(root: Path, **opts) -> list[dict]:
    res = scan(root, ScanOptions(jobs=1, **opts))
    return [{"rule": f.rule_id, "path": f.path, "line": f.line, "severity": f.severity, "message": f.message,
             "snippet": f.snippet} for f in res.findings]


def _by_rule(findings: list[dict], rule: str) -> list[tuple[int, str]]:
    return sorted((f["line"], f["severity"]) for f in findings if f["rule"] == rule)


def test_bare_builtin_import_resolves_to_npm_package_without_nodejs_compat(tmp_path: Path):
    (tmp_path / "package.json").write_text('{"name":"a","dependencies":{"events":"^3.3.0"}}')
    (tmp_path / "index.js").write_text("import { EventEmitter } from 'events';\nimport { Buffer } from 'node:buffer';\n"
                                       "import test from 'test';\nexport default { fetch() { return new Response('x') } }\n")
    got = _by_rule(_findings(tmp_path, compat_date="2025-01-01"), "node-module-unavailable")
    assert got == [(2, "blocker")]   # `events` is the npm package; `test` is not node:test


def test_optional_require_is_info(tmp_path: Path):
    (tmp_path / "index.js").write_text("let sea = null\ntry { sea = require('node:sea') } catch { sea = null }\n")
    assert _by_rule(_findings(tmp_path), "node-module-unavailable") == [(2, "info")]


def test_multiline_import_of_prefix_only_module(tmp_path: Path):
    (tmp_path / "a.mjs").write_text("import {\n  DatabaseSync,\n} from 'node:sqlite'\n\n"
                                    "export function open() { return new DatabaseSync(':memory:') }\n")
    (tmp_path / "b.mjs").write_text("import {\n  DatabaseSync,\n} from 'sqlite'\n\n"
                                    "export function open() { return new DatabaseSync(':memory:') }\n")
    f = _findings(tmp_path, compat_date="2025-09-15", compat_flags=["nodejs_compat"])
    assert [(x["path"], x["line"]) for x in f if x["rule"] == "node-module-unavailable"] == [("a.mjs", 1)]
    f = _findings(tmp_path)
    assert [(x["path"], x["line"]) for x in f if x["rule"] == "node-api-stub"] == [("a.mjs", 5)]


def test_python_optional_import_lines():
    src = "try:\n    import fcntl\nexcept ImportError:\n    fcntl = None\nimport grp\n" \
          "from contextlib import suppress\nwith suppress(ModuleNotFoundError):\n    import termios\n"
    assert optional_import_lines(src) == {2, 8}


def test_hashing_severity_follows_the_plan(tmp_path: Path):
    (tmp_path / "auth.js").write_text(
        "import bcrypt from 'bcryptjs'\n"
        "export async function hashA(pw) { return bcrypt.hash(pw, 12) }\n"
        "export async function hashB(pw) { return bcrypt.hash(pw, 10) }\n"
        "export async function check(pw, h) { return bcrypt.compare(pw, h) }\n")
    assert _by_rule(_findings(tmp_path), "cpu-heavy-hashing") == [(2, "warning")]
    assert _by_rule(_findings(tmp_path, plan="free"), "cpu-heavy-hashing") == [(2, "blocker"), (3, "blocker"),
                                                                              (4, "blocker")]


def test_bundled_data_size_states_the_64_mib_rule(tmp_path: Path):
    (tmp_path / "data").mkdir()
    with open(tmp_path / "data" / "big.json", "wb") as fh:
        fh.truncate(12 * 1048576)
    with open(tmp_path / "data" / "huge.bin", "wb") as fh:
        fh.truncate(65 * 1048576)
    (tmp_path / "data" / "small.json").write_text("{}")
    (tmp_path / "index.js").write_text("import big from './data/big.json'\nimport huge from './data/huge.bin'\n"
                                       "import small from './data/small.json'\n")
    f = [x for x in _findings(tmp_path, include_large=True) if x["rule"] == "bundled-data-size"]
    assert [(x["line"], x["severity"]) for x in f] == [(1, "warning"), (2, "blocker")]
    assert all("64 MiB" in x["message"] and "4.130.0" in x["message"] for x in f)


def test_committed_env_file_is_reported_but_templates_are_not(tmp_path: Path):
    (tmp_path / "index.js").write_text("export default { fetch() { return new Response('ok') } }\n")
    (tmp_path / ".env").write_text("PORT=3000\nSTRIPE_SECRET_KEY=sk_test_not_a_real_key_123\n")
    (tmp_path / ".env.example").write_text("STRIPE_SECRET_KEY=\n")
    (tmp_path / "config.env.sample").write_text("A=1\n")
    f = [x for x in _findings(tmp_path) if x["rule"] == "committed-env-file"]
    assert [(x["path"], x["severity"]) for x in f] == [(".env", "warning")]
    assert all("sk_test" not in x["snippet"] + x["message"] for x in f)


def test_env_secret_detection_masks_the_value():
    text = ("# local settings\nPORT=3000\nPUBLIC_BASE_URL=https://x.example\nAPI_TOKEN=\nSESSION_SECRET=changeme\n"
            "export DATABASE_URL=\"postgres://app:hunter2@db.internal:5432/app\"  # prod\nAWS_SECRET_ACCESS_KEY=abc\n")
    s = first_secret(text)
    assert s is not None and (s.line, s.key) == (6, "DATABASE_URL")
    assert s.masked == "export DATABASE_URL=****"
    assert "hunter2" not in s.masked and "postgres" not in s.masked
    assert first_secret("PORT=3000\nAPI_KEY=<your-key>\n") is None
    assert mask_line("GITHUB_TOKEN: ghp_abcdef") == "GITHUB_TOKEN:****"
    assert [is_env_file(n) for n in (".env", ".env.production", "prod.env", ".env.example", ".env.sample",
                                      ".env.template", "README.md")] == [True, True, True, False, False, False, False]
