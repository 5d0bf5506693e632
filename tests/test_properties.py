"""Property-based tests: random and mutated input to the source parsers, the suppression-comment parser, the
config reader and the cache decoder never raise anything but their documented errors."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from cfcompat.analyzer.caching.facts import FactCache, decode, encode
from cfcompat.analyzer.config import ConfigError, validate
from cfcompat.analyzer.discovery import SourceFile
from cfcompat.analyzer.extract import parse_bytes
from cfcompat.analyzer.parsing.facts import FileFacts, parse_suppression

FIX = Path(__file__).resolve().parents[1] / "fixtures"
SAMPLES = [p.read_bytes() for p in sorted(FIX.glob("*/src/*.js"))[:4] + sorted(FIX.glob("*/app/*.py"))[:4]]
JS_TOKENS = ["require('fs')", "fs.writeFileSync(", "import * as x from 'node:fs';", "new Map()", "`${", "/*",
             "//", "'", '"', "{", "}", "(", ")", "=>", "while (true) {", "await sleep(1)", "process.env.X",
             "const {a: b} = ", "\n", "\\", "\x00", "\ufeff", "export default", "class A {", "delete x[y]"]
PY_TOKENS = ["import os", "from pathlib import Path as P", "open(", "'w'", "f'{", "\"\"\"", "#", "(", ")", ":",
             "\n    ", "while True:", "time.sleep(1)", "os.environ['X']", "global x", "x += 1", "@app.get('/')",
             "def f(x):", "lambda: 0", "\\", "\x00", "async with", "yield", "match x:"]

settings.register_profile("cfcompat", max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("cfcompat")


def _facts(data: bytes, lang: str, path: str):
    f = parse_bytes(SourceFile(path, lang, "runtime", len(data)), data)
    assert f.error is None or "could not be analysed" not in f.error, f.error
    return f


@given(st.binary(max_size=2000))
def test_js_parser_never_raises_on_bytes(data: bytes):
    _facts(data, "javascript", "a.js")
    _facts(data, "typescript", "a.tsx")


@given(st.lists(st.sampled_from(JS_TOKENS), max_size=60))
def test_js_parser_token_soup(tokens: list[str]):
    f = _facts(" ".join(tokens).encode("utf-8", "surrogatepass"), "typescript", "a.ts")
    for c in f.calls:
        assert c.line >= 1 and c.end_line >= c.line


@given(st.lists(st.sampled_from(PY_TOKENS), max_size=60))
def test_python_parser_token_soup(tokens: list[str]):
    f = _facts(" ".join(tokens).encode(), "python", "a.py")
    for c in f.calls:
        assert c.line >= 1


@given(st.integers(min_value=0, max_value=len(SAMPLES) - 1), st.integers(min_value=0, max_value=10_000),
       st.binary(min_size=1, max_size=40))
def test_mutated_real_sources(i: int, at: int, junk: bytes):
    src = SAMPLES[i]
    at = at % (len(src) + 1)
    data = src[:at] + junk + src[at:]
    _facts(data, "python" if b"def " in src and b"function" not in src else "javascript", "m.js")


@given(st.text(max_size=200), st.integers(min_value=1, max_value=10_000), st.booleans())
def test_suppression_parser(text: str, line: int, own: bool):
    for prefix in ("// cfcompat-ignore ", "# cfcompat: ignore[", ""):
        sup = parse_suppression(prefix + text, line, own)
        if sup is not None:
            assert sup.line == line and all(isinstance(r, str) for r in sup.rules)


CONFIG_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                             lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                             max_leaves=12)


@given(st.dictionaries(st.sampled_from(["target", "compat_date", "compat_flags", "plan", "fail_on", "include_tests",
                                        "ignore", "workload", "exclude", "other"]), CONFIG_VALUES, max_size=6))
def test_config_validation_only_raises_config_error(data: dict):
    try:
        out = validate(data, "cfcompat.toml")
    except ConfigError as exc:
        assert str(exc).startswith("cfcompat.toml: ")
    else:
        assert set(out) <= {"target", "compat_date", "compat_flags", "plan", "fail_on", "include_tests", "ignore",
                            "workload", "exclude"}


ENCODED = [encode(_facts(data, "python" if i >= 4 else "javascript", "a.py" if i >= 4 else "a.js"))
           for i, data in enumerate(SAMPLES)]
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
                           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                                        max_size=4),
                           max_leaves=8)


def _well_typed(f: FileFacts) -> None:
    assert isinstance(f.path, str) and isinstance(f.language, str) and isinstance(f.role, str)
    assert isinstance(f.lines, int) and isinstance(f.parse_errors, int) and (f.error is None or isinstance(f.error, str))
    for i in f.imports:
        assert isinstance(i.module, str) and isinstance(i.line, int) and all(isinstance(n, str) for n in i.names)
    for c in f.calls:
        assert isinstance(c.qname, str) and isinstance(c.line, int) and isinstance(c.end_line, int)
        assert all(a is None or isinstance(a.kind, str) for a in c.args)
    assert all(isinstance(q, str) for q in f.linkable)
    assert all(isinstance(k, str) and isinstance(lo, int) and isinstance(hi, int) for k, (lo, hi) in f.spans.items())
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in f.exports.items())


def _decode_or_miss(text: str) -> FileFacts | None:
    """What the cache does with a stored value: an Exception is a miss (FactCache.get_many); anything it returns
    must be well-typed facts whose encoding is a fixed point (what is served is what would be stored again)."""
    try:
        f = decode(text)
    except Exception:
        return None
    assert isinstance(f, FileFacts)
    _well_typed(f)
    again = encode(f)
    assert encode(decode(again)) == again
    return f


@given(st.text(max_size=300))
def test_cache_decoder_rejects_garbage_with_exceptions_only(text: str):
    """Random text: a miss (an Exception, never a BaseException such as SystemExit), or, should it happen to be
    a valid encoding, well-typed facts."""
    if _decode_or_miss(text) is not None:
        assert text.lstrip().startswith("{")


def test_cache_decoder_round_trips_real_facts():
    for text in ENCODED:
        f = _decode_or_miss(text)
        assert f is not None and encode(f) == text


@given(st.data())
def test_cache_decoder_on_damaged_real_entries(data):
    """A real entry with one value anywhere in it replaced (wrong type, wrong shape), or cut short: a miss, or
    well-typed facts."""
    doc = json.loads(data.draw(st.sampled_from(ENCODED)))
    node, key = doc, None
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        if not keys:
            break
        key = data.draw(st.sampled_from(keys))
        if not isinstance(node[key], (dict, list)) or not node[key] or data.draw(st.booleans()):
            break
        node = node[key]
    if key is not None:
        node[key] = data.draw(JSON_VALUES)
    text = json.dumps(doc)
    if data.draw(st.booleans()):
        text = text[:data.draw(st.integers(min_value=0, max_value=len(text)))]
    _decode_or_miss(text)


def test_fact_cache_serves_a_damaged_entry_as_a_miss(tmp_path: Path):
    cache = FactCache(tmp_path)
    cache.put("good", decode(ENCODED[0]))
    for i, bad in enumerate(["", "{", "[]", '{"path": 1}', ENCODED[0][:-1], "null", '{"imports": 5}']):
        cache.put(f"bad{i}", decode(ENCODED[0]))
        cache.pending[-1] = (f"bad{i}", bad)
    cache.flush()
    got = cache.get_many(["good"] + [f"bad{i}" for i in range(7)] + ["absent"])
    assert list(got) == ["good"] and encode(got["good"]) == ENCODED[0]
    cache.close()
