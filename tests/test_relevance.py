"""Dropping the calls no rule can match (parsing/relevance.py) must not change any report."""
from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest

from cfcompat.analyzer.discovery import SourceFile
from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.analyzer.extract import parse_bytes
from cfcompat.analyzer.engine import keep_patterns
from cfcompat.analyzer.parsing.relevance import CONSUMER_CALLS, Keep
from cfcompat.reports import json_report

ROOT = Path(__file__).resolve().parents[1]
REPOS = sorted([p for p in (ROOT / "fixtures").iterdir() if p.is_dir() and p.name not in ("eval", "fix", "manifests")]
               + [p for p in (ROOT / "fixtures" / "eval").iterdir() if p.is_dir()]
               + [p for p in (ROOT / "fixtures" / "fix").glob("*/before")])


def _report(repo: Path) -> str:
    res = scan(repo, ScanOptions(use_cache=False, jobs=1))
    return json.dumps(json_report.document(res), sort_keys=True, indent=1)


@pytest.mark.parametrize("repo", REPOS, ids=lambda p: str(p.relative_to(ROOT / "fixtures")))
def test_report_is_the_same_with_every_call_kept(repo: Path, monkeypatch: pytest.MonkeyPatch):
    filtered = _report(repo)
    monkeypatch.setenv("CFCOMPAT_KEEP_ALL_CALLS", "1")
    assert _report(repo) == filtered


def test_the_filter_drops_calls_and_keeps_what_rules_name():
    src = (b"import fs from 'fs';\nimport { save } from './store';\nconsole.log('x');\nhelper(1, 2);\n"
           b"fs.writeFileSync('data.json', '{}');\nsave(1);\n")
    facts = parse_bytes(SourceFile("src/a.js", "javascript", "runtime", len(src)), src, keep=keep_patterns())
    names = {c.qname: c for c in facts.calls}
    assert "fs.writeFileSync" in names and names["fs.writeFileSync"].args[0].value == "data.json"
    assert "console.log" not in names and "helper" not in names
    assert "./store.save" not in names and "./store.save" in facts.linkable   # linking may rename it
    assert "console.log" not in facts.linkable                                 # a global: linking cannot
    everything = parse_bytes(SourceFile("src/a.js", "javascript", "runtime", len(src)), src)
    assert {"console.log", "helper"} <= {c.qname for c in everything.calls}


def test_partial_call_that_linking_renames_gets_its_arguments(tmp_path: Path):
    (tmp_path / "wrangler.toml").write_text('name = "x"\nmain = "src/index.js"\ncompatibility_date = "2026-11-01"\n'
                                            'compatibility_flags = ["nodejs_compat"]\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "store.js").write_text("const fs = require('fs');\nmodule.exports = fs;\n")
    (tmp_path / "src" / "index.js").write_text(
        "const store = require('./store');\n"
        "export default { fetch() { store.writeFileSync('data/out.json', 'x'); return new Response('ok'); } };\n"
        "helper(1);\n")
    res = scan(tmp_path, ScanOptions(use_cache=False, jobs=1))
    calls = [c for f in res.files for c in f.calls if c.qname == "fs.writeFileSync"]
    assert calls and calls[0].args[0].value == "data/out.json" and calls[0].line == 2
    assert all(not f.linkable for f in res.files)          # the names are dropped once linking is done
    index = next(f for f in res.files if f.path == "src/index.js")
    assert "helper" not in {c.qname for c in index.calls}   # extracted again for that name only, not for all
    assert any(f.rule_id == "fs-persistent-write" and f.path == "src/index.js" for f in res.findings)


def test_exact_name_patterns_take_glob_characters_literally():
    from cfcompat.analyzer.parsing.relevance import Keep
    k = Keep(("=os.environ[]", "=a*b", "fs.write*"))
    assert k("os.environ[]") and k("a*b") and k("fs.writeFile")
    assert not k("os.environ") and not k("axb") and not k("aab") and not k("=a*b")


@pytest.mark.parametrize("pattern,yes,no", [
    ("fs.writeFile", ["fs.writeFile"], ["fs.writeFileSync", "xfs.writeFile"]),
    ("fs.*", ["fs.a", "fs.a().b"], ["fsx.a"]),
    ("*.listen", ["express().listen", "a.b.listen"], ["listener", "a.listenX"]),
    ("*eval*", ["eval", "x.evaluate"], ["ev"]),
    ("pathlib.*Path*.write_text", ["pathlib.Path().write_text"], ["pathlib.Path().read_text"]),
])
def test_keep_matches_like_fnmatch(pattern: str, yes: list[str], no: list[str]):
    k = Keep((pattern,))
    for q in yes + no:
        assert k(q) == fnmatch.fnmatchcase(q, pattern), q
    assert all(k(q) for q in yes) and not any(k(q) for q in no)


def test_consumer_names_are_kept():
    """The engine's other readers of calls (entry points, schedules, fixes) see every name they look for."""
    from cfcompat.analyzer import graph, schedules
    from cfcompat.analyzer.fix import runner
    k = Keep(keep_patterns())
    for name in list(graph.PY_APP_CTORS) + list(graph.JS_ENTRY_CALLS) + list(runner.PY_APPS) + list(runner.NODE_CRON):
        assert k(name), name
    assert CONSUMER_CALLS and all(k(p.replace("*", "x")) for p in CONSUMER_CALLS)
    assert k("apscheduler.schedulers.background.BackgroundScheduler")
    assert schedules is not None


def test_glob_regex_is_fnmatch():
    """The plain glob translation used for rule patterns means exactly what fnmatch means."""
    import re

    from hypothesis import given, settings, strategies as st

    from cfcompat.analyzer.parsing.relevance import glob_regex
    alphabet = st.sampled_from(list("ab.()*?[]!\n"))

    @settings(max_examples=400, deadline=None)
    @given(st.text(alphabet, max_size=8), st.text(st.sampled_from(list("ab.()[]\n")), max_size=8))
    def check(pattern, name):
        try:
            expected = fnmatch.fnmatchcase(name, pattern)
        except re.error:
            return
        assert (re.match(glob_regex(pattern), name, re.S) is not None) == expected

    check()


def test_every_rule_class_declares_the_calls_it_reads():
    """A rule class module without CALLS (or with "*") would make every scan keep every call."""
    import importlib

    from cfcompat.rules import load_rules
    mods = {r.cls.rpartition(".")[0] for r in load_rules() if r.cls}
    assert mods
    for m in sorted(mods):
        calls = getattr(importlib.import_module(f"cfcompat.rules.classes.{m}"), "CALLS", None)
        assert calls is not None and "*" not in calls, m
    assert not Keep(keep_patterns()).all


def test_rule_import_regex_is_import_matches():
    """match_imports' one regex per rule means what import_matches means for each pattern."""
    from hypothesis import given, settings, strategies as st

    from cfcompat.rules.matching import _import_regex, import_matches
    from cfcompat.rules import Rule

    names = st.text(st.sampled_from(list("ab./-@*")), min_size=1, max_size=6)

    @settings(max_examples=300, deadline=None)
    @given(st.lists(names, min_size=1, max_size=3), names)
    def check(pats, module):
        rule = Rule(id="t-" + "|".join(pats), category="x", languages=("javascript",), severity={}, effort=1,
                    message="", remediation="", docs=(), match={"imports": pats})
        assert (_import_regex(rule).match(module) is not None) == any(import_matches(module, p) for p in pats)

    check()


def test_keep_is_fnmatch_for_any_pattern_set():
    """Keep's exact/prefix/suffix/infix split and its gated, lazily compiled regex mean what fnmatch means."""
    from hypothesis import given, settings, strategies as st

    pat = st.text(st.sampled_from(list("ab.()*?[]!")), min_size=1, max_size=6)
    name = st.text(st.sampled_from(list("ab.()[]!")), max_size=8)

    @settings(max_examples=400, deadline=None)
    @given(st.lists(pat, min_size=1, max_size=4), st.lists(name, min_size=1, max_size=5))
    def check(pats, names):
        k = Keep(tuple(pats))
        for q in names:
            assert k(q) == any(fnmatch.fnmatchcase(q, p) for p in pats), (pats, q)

    check()
