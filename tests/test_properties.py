"""Property-based tests: random and mutated input to the source parsers, the suppression-comment parser, the
config reader and the cache decoder never raise anything but their documented errors."""
from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from cfcompat.analyzer.caching.facts import decode
from cfcompat.analyzer.config import ConfigError, validate
from cfcompat.analyzer.discovery import SourceFile
from cfcompat.analyzer.extract import parse_bytes
from cfcompat.analyzer.parsing.facts import parse_suppression

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


@given(st.text(max_size=300))
def test_cache_decoder_rejects_garbage_with_exceptions_only(text: str):
    try:
        decode(text)
    except Exception:
        pass   # the cache treats any exception as a miss
