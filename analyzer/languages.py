"""The language registry: every source language cfcompat reads, with its file extensions, the extractor that
turns it into facts, its standard library (names a call through which linking never renames) and the target a
repository written in it is judged against by default. Adding a language is one entry here plus its extractor
module under parsing/."""
from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    name: str
    family: str                      # "javascript" (JS and TS share an extractor and a runtime) | "python"
    extensions: tuple[str, ...]
    extractor: str                   # module under cfcompat.analyzer.parsing with extract(data, facts, keep)
    default_target: str
    stdlib: frozenset[str]


# Node.js built-in modules (with and without `node:`; the knowledge base's rules/kb/node_modules.yaml says which
# work on Workers at which date; tests/test_languages.py keeps the two lists equal)
NODE_BUILTINS = frozenset((
    "_http_agent", "_http_client", "_http_common", "_http_incoming", "_http_outgoing", "_http_server",
    "_stream_duplex", "_stream_passthrough", "_stream_readable", "_stream_transform", "_stream_wrap",
    "_stream_writable", "_tls_common", "_tls_wrap", "assert", "assert/strict", "async_hooks", "buffer",
    "child_process", "cluster", "console", "constants", "crypto", "dgram", "diagnostics_channel", "dns",
    "dns/promises", "domain", "events", "fs", "fs/promises", "http", "http2", "https", "inspector",
    "inspector/promises", "module", "net", "os", "path", "path/posix", "path/win32", "perf_hooks", "process",
    "punycode", "querystring", "readline", "readline/promises", "repl", "sea", "sqlite", "stream",
    "stream/consumers", "stream/promises", "stream/web", "string_decoder", "sys", "test", "test/reporters", "timers",
    "timers/promises", "tls", "trace_events", "tty", "url", "util", "util/types", "v8", "vm", "wasi",
    "worker_threads", "zlib",
))
PY_STDLIB = frozenset(sys.stdlib_module_names)

LANGUAGES: dict[str, Language] = {lang.name: lang for lang in (
    Language("javascript", "javascript", (".js", ".jsx", ".mjs", ".cjs"), "javascript", "workers", NODE_BUILTINS),
    Language("typescript", "javascript", (".ts", ".tsx", ".mts", ".cts"), "javascript", "workers", NODE_BUILTINS),
    Language("python", "python", (".py",), "python", "python-workers", PY_STDLIB),
)}
LANG_BY_EXT: dict[str, str] = {ext: lang.name for lang in LANGUAGES.values() for ext in lang.extensions}


def language_of_extension(ext: str) -> str | None:
    return LANG_BY_EXT.get(ext)
