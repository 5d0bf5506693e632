"""Parse-only baseline: read and parse the given files with the same tree-sitter grammars cfcompat uses, and
nothing else (no queries, no facts, no rules, no cache, no report).

    python benchmarks/ts_parse.py ROOT FILE_LIST [--jobs N]

FILE_LIST holds one path relative to ROOT per line (benchmarks/run.py writes the files cfcompat scanned).
Parallelism follows cfcompat's own policy (analyzer/engine.py `_parse_all`): one process below
`PARALLEL_MIN_FILES` (400) files and `PARALLEL_MIN_BYTES` (1 MiB) or with one job, else a process pool of N
workers fed the biggest files first, in chunks of about equal bytes.
Prints one JSON object: files, bytes, parse_seconds (time inside `Parser.parse`, summed over the workers),
wall_seconds (measured inside this process, from after the imports to the end).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import tree_sitter as ts
import tree_sitter_javascript as tsjs
import tree_sitter_python as tspy
import tree_sitter_typescript as tsts

PARALLEL_MIN_FILES = 400
PARALLEL_MIN_BYTES = 1024 * 1024
_PARSERS: dict[str, ts.Parser] = {}


def _grammar(path: str) -> str:
    p = path.lower()
    if p.endswith(".py"):
        return "python"
    if p.endswith(".tsx"):
        return "tsx"
    if p.endswith((".ts", ".mts", ".cts")):
        return "typescript"
    return "javascript"


def _parser(kind: str) -> ts.Parser:
    if kind not in _PARSERS:
        lang = {"python": tspy.language, "tsx": tsts.language_tsx, "typescript": tsts.language_typescript,
                "javascript": tsjs.language}[kind]()
        _PARSERS[kind] = ts.Parser(ts.Language(lang))
    return _PARSERS[kind]


def parse_chunk(args: tuple[str, list[str]]) -> tuple[int, int, float]:
    root, paths = args
    n = size = 0
    spent = 0.0
    for rel in paths:
        with open(os.path.join(root, rel), "rb") as fh:
            data = fh.read()
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        parser = _parser(_grammar(rel))
        t0 = time.perf_counter()
        tree = parser.parse(data)
        spent += time.perf_counter() - t0
        del tree
        n += 1
        size += len(data)
    return n, size, spent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("file_list")
    ap.add_argument("--jobs", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    with open(args.file_list, encoding="utf-8") as fh:
        paths = [line.rstrip("\n") for line in fh if line.strip()]
    jobs = args.jobs or os.cpu_count() or 1
    total = len(paths)
    sizes = {p: os.path.getsize(os.path.join(args.root, p)) for p in paths}
    nbytes = sum(sizes.values())
    if jobs <= 1 or total < 2 or (total < PARALLEL_MIN_FILES and nbytes < PARALLEL_MIN_BYTES):
        results = [parse_chunk((args.root, paths))]
    else:
        per_chunk = max(256 * 1024, nbytes // (jobs * 8))
        chunks: list[tuple[str, list[str]]] = []
        cur: list[str] = []
        cur_bytes = 0
        for p in sorted(paths, key=lambda x: (-sizes[x], x)):
            cur.append(p)
            cur_bytes += sizes[p]
            if cur_bytes >= per_chunk or len(cur) >= 256:
                chunks.append((args.root, cur))
                cur, cur_bytes = [], 0
        if cur:
            chunks.append((args.root, cur))
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(parse_chunk, chunks))
    out = {"files": sum(r[0] for r in results), "bytes": sum(r[1] for r in results),
           "parse_seconds": round(sum(r[2] for r in results), 4),
           "wall_seconds": round(time.perf_counter() - t0, 4), "jobs": 1 if len(results) == 1 else jobs}
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
