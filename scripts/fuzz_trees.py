#!/usr/bin/env python3
"""Hostile trees: generate repositories an attacker or an unlucky user could hand cfcompat, scan each several
ways, and check what must always hold (issue 19):

- every run finishes (a per-run deadline), exits 0, or 2 with one line on stderr (a usage or config error);
  never a traceback, never exit 3;
- nothing is written outside the cache folder: the tree and its "outside" neighbour (the targets of its
  symlinks) are byte-identical after all runs (compared by type, size and content hash; FIFOs never opened);
- the JSON report is byte-identical across -j1 and -j2 (workers forced on), cold and warm caches, and
  --no-cache.

Each tree is built from a seed (a random mix of the features below), so a failure is reproduced with
`--seed N --trees 1`. Prints one line per tree and a summary (trees, seconds, peak memory, outcomes); exits 1
on any violation. Run in CI by .ci/run; tests/test_fuzz_trees.py runs a few seeds in the test suite.

    python scripts/fuzz_trees.py --trees 30 --seed 1 [--keep DIR] [--cfcompat 'python -m cfcompat.analyzer.console']
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUN_SECONDS = 120

JS_LINES = [
    "const fs = require('fs');", "fs.writeFileSync('data.json', '{}');", "require('child_process').execSync('ls');",
    "setInterval(() => {}, 1000);", "const db = new (require('better-sqlite3'))('app.db');",
    "require('express')().listen(3000);", "eval(process.env.CODE);", "import net from 'net'; net.createServer();",
    "module.exports = { a: 1 };", "export default { fetch() { return new Response('ok') } };",
]
PY_LINES = [
    "import os", "open('out.txt', 'w').write('1')", "import subprocess; subprocess.run(['ls'])",
    "import sqlite3; sqlite3.connect('app.db')", "from flask import Flask; app = Flask(__name__)",
    "app.run(port=5000)", "x = os.environ['SECRET']", "import threading; threading.Thread(target=print).start()",
]


def _source(rng: random.Random, lang: str) -> bytes:
    lines = [rng.choice(JS_LINES if lang == "js" else PY_LINES) for _ in range(rng.randint(1, 12))]
    text = "\n".join(lines) + "\n"
    data = text.encode()
    kind = rng.random()
    if kind < 0.08:
        data = b"\xef\xbb\xbf" + data                                  # BOM
    elif kind < 0.14:
        data = data.replace(b"\n", b"\r\n")                            # CRLF
    elif kind < 0.20:
        cut = rng.randrange(len(data))
        data = data[:cut] + bytes([rng.choice([0xff, 0xe9, 0xc3, 0x80])]) + data[cut:]   # invalid UTF-8
    elif kind < 0.23:
        data = b"\x00" * 16 + data                                      # binary
    elif kind < 0.26:
        data = ("\ufeff" + text).encode("utf-16")                       # UTF-16
    elif kind < 0.29:
        data = b"x = " + b"[" * 3000 + b"]" * 3000 + b";\n"              # deep nesting
    elif kind < 0.32:
        data = b"var a=1;" * 40_000                                      # one long line (minified)
    return data


def build(seed: int, base: Path) -> Path:
    """The tree for `seed` at base/repo, its symlink targets in base/outside."""
    rng = random.Random(seed)
    root = base / "repo"
    outside = base / "outside"
    root.mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.js").write_text("require('fs').writeFileSync('pwned', '1');\n")
    (outside / "wrangler.toml").write_text('name = "outside"\ncompatibility_date = "2020-01-01"\n')
    (outside / "big.bin").write_bytes(b"")
    with open(outside / "big.bin", "wb") as fh:                         # sparse, no disk used
        fh.truncate(rng.choice([0, 2 * 1024 ** 2, 3 * 1024 ** 3]))
    dirs = [root]
    for i in range(rng.randint(1, 8)):
        d = rng.choice(dirs) / rng.choice(["src", "lib", "app", "scripts", "tests", "pkg", "node_modules", ".venv",
                                           "build", "a" * rng.randint(1, 120), f"d{i}"])
        d.mkdir(parents=True, exist_ok=True)
        dirs.append(d)
    if rng.random() < 0.3:                                              # deep folders
        d = root
        for i in range(rng.randint(20, 60)):
            d = d / f"n{i % 3}"
        d.mkdir(parents=True)
        (d / "deep.js").write_bytes(_source(rng, "js"))
    for i in range(rng.randint(1, 40)):
        lang = rng.choice(["js", "py", "ts"])
        name = rng.choice(["index", "server", "worker", "app", "main", f"m{i}", "x" * rng.randint(1, 200)])
        (rng.choice(dirs) / f"{name}.{lang}").write_bytes(_source(rng, "py" if lang == "py" else "js"))
    feats = []

    def maybe(p: float, name: str) -> bool:
        hit = rng.random() < p
        if hit:
            feats.append(name)
        return hit

    if maybe(0.5, "package.json"):
        deps = {rng.choice(["express", "better-sqlite3", "sharp", "node-cron", "left-pad", "pg"]): "^1.0.0"
                for _ in range(rng.randint(0, 4))}
        doc = {"name": "fuzz", "main": "src/index.js", "dependencies": deps}
        if rng.random() < 0.2:
            doc["description"] = "a" * rng.randint(10, 2_000_000)
        text = json.dumps(doc)
        if rng.random() < 0.15:
            text = text[: rng.randrange(len(text))]                      # truncated
        (root / "package.json").write_text(text)
    if maybe(0.4, "requirements"):
        lines = ["flask==3.0.0", "psycopg2==2.9.9", "-r reqs/base.txt", "-r ../../../etc/passwd",
                 "-r requirements.txt", "requests" + " " * rng.choice([1, 60_000]) + "x", "-e .", "# via x"]
        (root / "requirements.txt").write_text("\n".join(rng.sample(lines, rng.randint(1, len(lines)))) + "\n")
        (root / "reqs").mkdir(exist_ok=True)
        (root / "reqs" / "base.txt").write_text("-r ../requirements.txt\nnumpy\n")
    if maybe(0.4, "gitignore"):
        pats = ["reqs/", "*.log", "!keep.log", "*?*?*?*?*?*z", "build/", "wrangler.toml", "sub/wrangler.jsonc",
                "**/node_modules", "[", "\\", "a" * 300, "*a*a*z"]
        (root / ".gitignore").write_text("\n".join(rng.sample(pats, rng.randint(1, len(pats)))) + "\n")
    if maybe(0.3, "wrangler"):
        body = rng.choice(['name = "w"\nmain = "src/index.js"\ncompatibility_date = "2024-01-01"\n',
                           '\ufeffname = "w"\n', "not [ toml", "\n" * 50_000 + 'main = "x"\n',
                           'compatibility_date = "soon"\n'])
        (root / "wrangler.toml").write_text(body)
    if maybe(0.2, "sub-wrangler"):
        (root / "sub").mkdir(exist_ok=True)
        (root / "sub" / "wrangler.jsonc").write_text('{"main": "index.js", // c\n "compatibility_date": "2025-01-01"}')
        (root / "sub" / "index.js").write_bytes(_source(rng, "js"))
    if maybe(0.3, "tsconfig"):
        n = rng.choice([1, 50, 700])
        (root / "tsconfig.json").write_text(json.dumps({"compilerOptions": {"baseUrl": ".", "paths": {
            f"@p{i}/*": [f"lib{j}/*" for j in range(rng.choice([1, 40]))] for i in range(n)}}}))
    if maybe(0.3, "env"):
        (root / ".env").write_text(rng.choice(["API_KEY=abc123secret\n", "SECRET=x" + " " * 60_000 + "y\n",
                                               "TOKEN=" + "t" * 10 + " #c\n"]))
    if maybe(0.2, "pyproject"):
        (root / "pyproject.toml").write_text(rng.choice([
            '[project]\nname = "x"\ndependencies = ["flask"]\n', '[tool.cfcompat]\nunknown_key = 1\n',
            "[project\n", '\ufeff[tool.cfcompat]\nplan = "free"\n']))
    if maybe(0.1, "cfcompat.toml"):
        (root / "cfcompat.toml").write_text(rng.choice(['plan = "free"\n', "target = 3\n", "= broken"]))
    if maybe(0.25, "installed"):
        nm = root / "node_modules" / "native"
        nm.mkdir(parents=True, exist_ok=True)
        (nm / "package.json").write_text('{"name": "native", "gypfile": true}')
        if rng.random() < 0.5:
            (nm / "binding.gyp").write_text("{}")
    # what cannot be stored in git: special files, links, names that are not UTF-8
    for _ in range(rng.randint(0, 4)):
        d = rng.choice(dirs)
        which = rng.choice(["fifo", "fifo-config", "socket", "link-outside", "link-zero", "link-dangling",
                            "link-loop", "link-inside", "link-big", "bad-name", "bad-dir", "link-outdir"])
        feats.append(which)
        try:
            if which == "fifo":
                os.mkfifo(d / f"pipe{rng.randint(0, 99)}.js")
            elif which == "fifo-config":
                target = rng.choice([root / "wrangler.jsonc", root / "cfcompat.toml", root / "pyproject.toml",
                                     root / "node_modules" / "x" / "package.json"])
                target.parent.mkdir(parents=True, exist_ok=True)
                if not os.path.lexists(target):
                    os.mkfifo(target)
            elif which == "socket":
                s = socket.socket(socket.AF_UNIX)
                path = str(d / f"s{rng.randint(0, 99)}.sock")
                if len(path.encode()) < 100:
                    s.bind(path)
                s.close()
            elif which == "link-outside":
                (d / f"out{rng.randint(0, 99)}.js").symlink_to(outside / "secret.js")
            elif which == "link-zero":
                name = rng.choice(["wrangler.toml", "zero.js", "requirements.txt"])
                if not os.path.lexists(root / name):
                    (root / name).symlink_to("/dev/zero")
            elif which == "link-dangling":
                (d / f"gone{rng.randint(0, 99)}.py").symlink_to(d / "missing.py")
            elif which == "link-loop":
                (d / f"loop{rng.randint(0, 99)}").symlink_to(root, target_is_directory=True)
            elif which == "link-inside":
                src = next((p for p in root.rglob("*.js") if p.is_file() and not p.is_symlink()), None)
                if src is not None:
                    (d / f"alias{rng.randint(0, 99)}.js").symlink_to(src)
            elif which == "link-big":
                (d / f"huge{rng.randint(0, 99)}.js").symlink_to(outside / "big.bin")
            elif which == "link-outdir":
                (d / f"up{rng.randint(0, 99)}").symlink_to(outside, target_is_directory=True)
            elif which == "bad-name":
                with open(os.fsencode(d) + b"/bad\xff\xfe%d.js" % rng.randint(0, 99), "wb") as fh:
                    fh.write(_source(rng, "js"))
            elif which == "bad-dir":
                p = os.fsencode(d) + b"/dir\xff%d" % rng.randint(0, 99)
                os.makedirs(p, exist_ok=True)
                with open(p + b"/inner.py", "wb") as fh:
                    fh.write(_source(rng, "py"))
        except FileExistsError:
            pass
    (base / "features").write_text(" ".join(feats))
    return root


def snapshot(base: Path) -> dict[bytes, tuple]:
    """Type, size and content hash of everything under `base` (regular files only are opened)."""
    out: dict[bytes, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(os.fsencode(base), followlinks=False):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode):
                h = hashlib.sha256()
                with open(p, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
                out[p] = ("f", st.st_size, h.hexdigest())
            elif stat.S_ISLNK(st.st_mode):
                out[p] = ("l", os.readlink(p))
            else:
                out[p] = (stat.S_IFMT(st.st_mode),)
    return out


def run(cmd: list[str], root: Path, extra: list[str], env: dict[str, str], cwd: Path) -> tuple[str, bytes, bytes, float]:
    start = time.monotonic()
    try:
        p = subprocess.run(cmd + ["scan", str(root), "--format", "json", *extra], capture_output=True, env=env,
                           cwd=cwd, timeout=RUN_SECONDS)
    except subprocess.TimeoutExpired:
        return "timeout", b"", b"", time.monotonic() - start
    return str(p.returncode), p.stdout, p.stderr, time.monotonic() - start


def check_tree(seed: int, work: Path, cmd: list[str]) -> tuple[list[str], dict]:
    base = work / f"t{seed}"
    root = build(seed, base)
    before = snapshot(base)
    problems: list[str] = []
    env0 = {k: v for k, v in os.environ.items() if not k.startswith("CFCOMPAT_")}
    cache = work / f"cache{seed}"
    plans = [("j1 cold", ["-j", "1"], {}), ("j1 warm", ["-j", "1"], {}),
             ("j2 cold", ["-j", "2"], {"CFCOMPAT_PARALLEL_MIN_FILES": "1", "CFCOMPAT_PARALLEL_MIN_BYTES": "1"}),
             ("j2 warm", ["-j", "2"], {"CFCOMPAT_PARALLEL_MIN_FILES": "1", "CFCOMPAT_PARALLEL_MIN_BYTES": "1"}),
             ("no cache", ["--no-cache"], {})]
    outs: dict[str, tuple[str, bytes]] = {}
    seconds = 0.0
    for name, extra, more in plans:
        env = {**env0, **more, "CFCOMPAT_CACHE_DIR": str(cache / ("j2" if "j2" in name else "j1"))}
        code, out, err, secs = run(cmd, root, extra, env, work)
        seconds += secs
        outs[name] = (code, out)
        lines = err.decode("utf-8", "replace").strip().splitlines()
        if code == "timeout":
            problems.append(f"{name}: did not finish in {RUN_SECONDS} s")
        elif code == "2":
            if len(lines) != 1 or not lines[0].startswith("cfcompat: error: "):
                problems.append(f"{name}: exit 2 without a one-line error: {lines[:3]}")
        elif code != "0":
            problems.append(f"{name}: exit {code}: {lines[-3:]}")
        elif lines and any("Traceback" in x for x in lines):
            problems.append(f"{name}: traceback on stderr")
        if code == "0":
            try:
                json.loads(out)
            except ValueError:
                problems.append(f"{name}: stdout is not JSON")
    first = outs["j1 cold"]
    for name, got in outs.items():
        if got != first:
            problems.append(f"{name}: differs from j1 cold (exit {got[0]} vs {first[0]}, "
                            f"{len(got[1])} vs {len(first[1])} bytes)")
    after = snapshot(base)
    if after != before:
        changed = sorted(set(before) ^ set(after)) + sorted(k for k in before if k in after and before[k] != after[k])
        problems.append(f"the tree or its outside changed: {[os.fsdecode(c) for c in changed[:5]]}")
    doc = json.loads(first[1]) if first[0] == "0" else {}
    info = {"seed": seed, "seconds": round(seconds, 2), "exit": first[0], "features": (base / "features").read_text(),
            "files": doc.get("summary", {}).get("files"), "errors": len(doc.get("errors", []))}
    return problems, info


def main() -> int:
    global RUN_SECONDS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trees", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1, help="first seed (tree i uses seed + i)")
    ap.add_argument("--keep", type=Path, default=None, help="build the trees here and keep them")
    ap.add_argument("--run-seconds", type=float, default=120.0, help="deadline of one scan")
    ap.add_argument("--cfcompat", default=f"{shlex.quote(sys.executable)} -m cfcompat.analyzer.console",
                    help="the command to run (default: this interpreter's cfcompat)")
    args = ap.parse_args()
    cmd = shlex.split(args.cfcompat)
    RUN_SECONDS = args.run_seconds
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cfcompat-fuzz-"))
    work.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    failed = 0
    outcomes: dict[str, int] = {}
    try:
        for seed in range(args.seed, args.seed + args.trees):
            problems, info = check_tree(seed, work, cmd)
            outcomes[info["exit"]] = outcomes.get(info["exit"], 0) + 1
            status = "ok" if not problems else "FAIL"
            print(f"tree {seed:4d} {status:4s} exit {info['exit']} {info['seconds']:6.2f} s files {info['files']} "
                  f"errors {info['errors']} [{info['features']}]", flush=True)
            for p in problems:
                print(f"    {p}", flush=True)
            failed += bool(problems)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{args.trees} trees in {time.monotonic() - start:.0f} s, peak memory of one scan {peak:.0f} MiB, "
          f"exits {dict(sorted(outcomes.items()))}, {failed} with violations")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
