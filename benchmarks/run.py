"""Speed benchmark: cfcompat against tree-sitter alone and against Semgrep, on real code from the registries.

    python benchmarks/corpora.py --semgrep      # fetch the corpora and Semgrep once (cached)
    python benchmarks/run.py                    # measure, print the table, write benchmarks/results.json

Per corpus: the files cfcompat scans (from its own discovery and reader, so every tool gets exactly the same
files), their size, cfcompat's cold and warm wall time (`cfcompat scan PATH --format json`, default `-j`, a fresh
`CFCOMPAT_CACHE_DIR` per corpus: cold = empty cache, warm = the same cache again, edit = after a one-line edit
of one file), MB/s, peak memory, the parse-only time of tree-sitter over the same files (benchmarks/ts_parse.py)
and Semgrep's time over the same files with the equivalent rules in benchmarks/semgrep-rules.yaml (again with
--timeout 0 where its defaults gave up on files). Run it with the interpreter of a regular (non-editable)
cfcompat install. Nothing here is part of the test suite.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import corpora  # noqa: E402

from cfcompat.analyzer.caching.facts import parser_fingerprint  # noqa: E402
from cfcompat.analyzer.discovery import discover, read_source  # noqa: E402

PY = sys.executable
CFCOMPAT = str(Path(PY).parent / "cfcompat")
RULES = HERE / "semgrep-rules.yaml"
MIB = 1048576

# corpus -> (folder inside the fetched corpus to pass as PATH, scan files over 1 MiB too, why)
SCANS: dict[str, tuple[str, bool, str]] = {
    "express": ("", False, "npm tarball express@4.21.2, package root"),
    "babel-core": ("", False, "npm tarball @babel/core@7.26.0, package root"),
    "webpack": ("", False, "npm tarball webpack@5.97.1, package root"),
    "typescript": ("", True, "npm tarball typescript@5.7.2, package root, --include-large (its compiler is "
                             "in files of 6-9 MiB, which every tool skips by default)"),
    "next": ("dist", False, "npm tarball next@15.1.0, PATH = package/dist (at the package root cfcompat "
                            "skips dist/ as build output and 31 files are left)"),
    "node_modules": ("", False, "npm install --ignore-scripts express better-sqlite3 sharp; PATH = node_modules "
                                "itself (nested node_modules folders are skipped by both)"),
    "django": ("", False, f"Django {corpora.DJANGO} sdist (django/, tests/, docs/, scripts)"),
}


# ----------------------------------------------------------------------------------------- measuring a process

def _ppid_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except OSError:
        return 0


class _TreeSampler(threading.Thread):
    """Peak of the summed PSS of a process and all its descendants, sampled every `every` seconds (PSS
    splits pages shared between forked workers, so the sum does not count them twice)."""

    def __init__(self, pid: int, every: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak_kib = pid, every, 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            kids = _ppid_map()
            todo, total = [self.pid], 0
            while todo:
                p = todo.pop()
                total += _pss_kib(p)
                todo.extend(kids.get(p, ()))
            self.peak_kib = max(self.peak_kib, total)
            self.stop.wait(self.every)


def measure(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
            stdout: Path | None = None, limit: float | None = None) -> dict:
    """Wall time, exit code, peak RSS of the largest single process in the tree (the kernel's ru_maxrss from
    wait4, which covers every descendant that was waited for) and the sampled peak PSS of the whole tree.
    With `limit`, the process group is killed after that many seconds (`killed` in the result)."""
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    err_path = (stdout.with_suffix(".stderr") if stdout else None)
    err = open(err_path, "wb") if err_path else subprocess.DEVNULL
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=limit is not None)
        sampler = _TreeSampler(proc.pid)
        sampler.start()
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            try:
                os.killpg(proc.pid, 9)
            except OSError:
                pass

        timer = threading.Timer(limit, kill) if limit is not None else None
        if timer is not None:
            timer.start()
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if timer is not None:
            timer.cancel()
        sampler.stop.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdout:
            out.close()
        if err_path:
            err.close()
    return {"wall": wall, "rc": proc.returncode, "maxrss_mib": ru.ru_maxrss / 1024,
            "tree_pss_mib": sampler.peak_kib / 1024, "user": ru.ru_utime, "sys": ru.ru_stime,
            "killed": killed.is_set()}


# ----------------------------------------------------------------------------------------- one corpus

def scanned_files(root: Path, include_large: bool) -> tuple[list[str], int, int]:
    """The files cfcompat parses: its discovery, less what its reader rejects (binary, invalid UTF-8,
    minified). Returns (relative paths, bytes, files discovery skipped or the reader rejected)."""
    disc = discover(root, include_large=include_large)
    paths, size, rejected = [], 0, len([e for e in disc.skipped])
    for s in disc.sources:
        data, _err = read_source(disc.root, s.path)
        if data is None:
            rejected += 1
            continue
        paths.append(s.path)
        size += len(data)
    return paths, size, rejected


def _warm_page_cache(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            try:
                with open(os.path.join(dirpath, f), "rb") as fh:
                    while fh.read(1 << 20):
                        pass
            except OSError:
                pass


def _py_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for the measured Python processes: bytecode cached (as after a pip install, which compiles
    it) but outside the source tree, even where PYTHONDONTWRITEBYTECODE is set globally."""
    env = dict(os.environ if env is None else env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(corpora.bench_dir() / "pycache")
    return env


def _edit_run(root: Path, files: list[str], cmd: list[str], env: dict[str, str], stdout: Path) -> dict:
    """The scan again after a one-line edit of one source file (the middle one by path): what a developer or
    the PR bot sees after a small change. The file is restored, bytes and times, right after."""
    rel = sorted(files)[len(files) // 2]
    path = root / rel
    original = path.read_bytes()
    st = path.stat()
    comment = b"\n# cfcompat benchmark edit\n" if rel.endswith(".py") else b"\n// cfcompat benchmark edit\n"
    try:
        path.write_bytes(original + comment)
        r = measure(cmd, env=env, stdout=stdout)
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    if r["rc"] != 0:
        raise SystemExit(f"cfcompat scan of {root} after editing {rel} failed (exit {r['rc']})")
    r["edited"] = rel
    return r


def install_kind() -> str:
    """'editable' or 'regular': an editable install's import hook adds ~20 ms to every start-up, which is
    most of a replayed rescan of a small repository."""
    try:
        text = metadata.distribution("cfcompat").read_text("direct_url.json")
        if text and json.loads(text).get("dir_info", {}).get("editable"):
            return "editable"
    except (metadata.PackageNotFoundError, ValueError, OSError):
        pass
    return "regular"


def _semgrep_doc(path: Path) -> dict:
    """Semgrep's JSON output, or {} when a run left none (killed at the limit, crashed)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def bench_corpus(name: str, root: Path, include_large: bool, work: Path, repeat: int, semgrep: Path | None,
                 semgrep_repeat: int, log, full_limit: float = 0) -> dict:
    files, size, rejected = scanned_files(root, include_large)
    lists = work / "lists"
    lists.mkdir(parents=True, exist_ok=True)
    flist = lists / f"{name}.txt"
    flist.write_text("".join(p + "\n" for p in files), encoding="utf-8")
    _warm_page_cache(root)
    res: dict = {"corpus": name, "path": str(root), "note": SCANS[name][2], "files": len(files), "bytes": size,
                 "mb": size / 1e6, "skipped_or_rejected": rejected, "include_large": include_large}
    out_dir = work / "out"
    out_dir.mkdir(parents=True, exist_ok=True)

    # cfcompat, cold then warm, each repetition in a fresh cache folder
    cmd = [CFCOMPAT, "scan", str(root), "--format", "json", "--fail-on", "never"]
    if include_large:
        cmd.append("--include-large")
    colds, warms, edits = [], [], []
    i = tries = 0
    while i < repeat:
        cache = work / "cache" / f"{name}-{i}"
        shutil.rmtree(cache, ignore_errors=True)
        env = _py_env(dict(os.environ, CFCOMPAT_CACHE_DIR=str(cache)))
        env.pop("CFCOMPAT_NO_CACHE", None)
        before = parser_fingerprint.__wrapped__()
        cold = measure(cmd, env=env, stdout=out_dir / f"{name}.cfcompat-cold.json")
        warm = measure(cmd, env=env, stdout=out_dir / f"{name}.cfcompat-warm.json")
        edited = _edit_run(root, files, cmd, env, out_dir / f"{name}.cfcompat-edit.json")
        if parser_fingerprint.__wrapped__() != before:
            # the parser sources changed between the two runs (someone is editing the tree): the warm run
            # missed the cache and measured nothing useful; run the pair again
            tries += 1
            log(f"  parser sources changed during the run; repeating ({tries})")
            if tries > 3:
                raise SystemExit("the parser sources keep changing; stop editing them while benchmarking")
            continue
        i += 1
        for r, what in ((cold, "cold"), (warm, "warm")):
            if r["rc"] != 0:
                raise SystemExit(f"cfcompat {what} scan of {name} failed (exit {r['rc']}); see "
                                 f"{out_dir / f'{name}.cfcompat-{what}.stderr'}")
        colds.append(cold)
        warms.append(warm)
        edits.append(edited)
        log(f"  cfcompat run {i}: cold {cold['wall']:.2f}s warm {warm['wall']:.2f}s edit {edited['wall']:.2f}s "
            f"rss {cold['maxrss_mib']:.0f} MiB tree {cold['tree_pss_mib']:.0f} MiB")
    cold_bytes = (out_dir / f"{name}.cfcompat-cold.json").read_bytes()
    same = cold_bytes == (out_dir / f"{name}.cfcompat-warm.json").read_bytes()   # the report has no timings
    cold_doc = json.loads(cold_bytes)
    summary = cold_doc.get("summary", {})
    res["cfcompat"] = {
        "cold_s": _median(colds, "wall"), "warm_s": _median(warms, "wall"),
        "edit_s": _median(edits, "wall"), "edit_file": edits[0].get("edited"),
        "cold_runs": [round(r["wall"], 3) for r in colds], "warm_runs": [round(r["wall"], 3) for r in warms],
        "edit_runs": [round(r["wall"], 3) for r in edits],
        "cold_cpu_s": _median(colds, "user") + _median(colds, "sys"),
        "peak_rss_mib": max(r["maxrss_mib"] for r in colds + warms),
        "peak_tree_pss_mib": max(r["tree_pss_mib"] for r in colds + warms),
        "files_in_report": summary.get("files"), "findings": summary.get("findings"),
        "warm_output_identical": same,
    }

    # tree-sitter alone, same files, same parallelism policy
    runs = []
    for _ in range(repeat):
        r = measure([PY, str(HERE / "ts_parse.py"), str(root), str(flist)], env=_py_env(),
                    stdout=out_dir / f"{name}.ts.json")
        if r["rc"] != 0:
            raise SystemExit(f"ts_parse failed on {name}")
        r.update(json.loads((out_dir / f"{name}.ts.json").read_text()))
        runs.append(r)
    res["tree_sitter"] = {"wall_s": _median(runs, "wall"), "parse_s": _median(runs, "parse_seconds"),
                          "inner_wall_s": _median(runs, "wall_seconds"), "jobs": runs[0]["jobs"],
                          "peak_rss_mib": max(r["maxrss_mib"] for r in runs)}
    log(f"  tree-sitter parse-only: {res['tree_sitter']['wall_s']:.2f}s "
        f"(inside Parser.parse {res['tree_sitter']['parse_s']:.2f}s)")

    # Semgrep, same files (explicit targets: Semgrep's own ignore lists do not apply to them)
    if semgrep is not None:
        sg_cmd = [str(semgrep), "scan", "--config", str(RULES), "--metrics=off", "--disable-version-check",
                  "--no-git-ignore", "--json", "-q", "-j", str(os.cpu_count() or 1),
                  f"--max-target-bytes={0 if include_large else MIB}", "--"] + files
        env = _py_env(dict(os.environ, SEMGREP_SEND_METRICS="off", SEMGREP_ENABLE_VERSION_CHECK="0"))
        sruns = []
        for _ in range(semgrep_repeat):
            r = measure(sg_cmd, env=env, cwd=root, stdout=out_dir / f"{name}.semgrep.json")
            sruns.append(r)
            log(f"  semgrep: {r['wall']:.2f}s rss {r['maxrss_mib']:.0f} MiB (exit {r['rc']})")
        doc = _semgrep_doc(out_dir / f"{name}.semgrep.json")
        scanned = len(doc.get("paths", {}).get("scanned", []))
        res["semgrep"] = {
            "wall_s": _median(sruns, "wall"), "runs": [round(r["wall"], 3) for r in sruns], "rc": sruns[-1]["rc"],
            "peak_rss_mib": max(r["maxrss_mib"] for r in sruns),
            "peak_tree_pss_mib": max(r["tree_pss_mib"] for r in sruns),
            "files_scanned": scanned, "results": len(doc.get("results", [])),
            "errors": len(doc.get("errors", [])),
            "error_kinds": sorted({str(e.get("type")) for e in doc.get("errors", [])})[:10],
            "timeouts": sum(1 for e in doc.get("errors", []) if e.get("type") == "Timeout"),
        }
        like = res["semgrep"]["wall_s"]
        if res["semgrep"]["timeouts"] and full_limit > 0:
            # Semgrep gave up on some rule and file pairs (its default: 5 s each, 3 strikes per file), so it
            # did less work than cfcompat: like for like is the same run without rule timeouts
            full_cmd = sg_cmd[:sg_cmd.index("--")] + ["--timeout", "0", "--"] + files
            r = measure(full_cmd, env=env, cwd=root, stdout=out_dir / f"{name}.semgrep-full.json", limit=full_limit)
            fdoc = _semgrep_doc(out_dir / f"{name}.semgrep-full.json")
            res["semgrep_no_timeout"] = {
                "wall_s": r["wall"], "rc": r["rc"], "killed_at_limit": r["killed"], "limit_s": full_limit,
                "peak_rss_mib": r["maxrss_mib"], "results": len(fdoc.get("results", [])),
                "errors": len(fdoc.get("errors", [])),
            }
            log(f"  semgrep --timeout 0: {r['wall']:.2f}s rss {r['maxrss_mib']:.0f} MiB"
                + (" (stopped at the limit)" if r["killed"] else f" (exit {r['rc']})"))
            like = r["wall"]
        res["semgrep_like_s"] = like
        res["semgrep_default_over_cfcompat_cold"] = res["semgrep"]["wall_s"] / res["cfcompat"]["cold_s"]
        res["semgrep_over_cfcompat_cold"] = like / res["cfcompat"]["cold_s"]
    c = res["cfcompat"]
    res["mb_per_s"] = res["mb"] / c["cold_s"]
    res["cold_over_ts"] = c["cold_s"] / res["tree_sitter"]["wall_s"]
    res["warm_over_cold"] = c["warm_s"] / c["cold_s"]
    return res


# ----------------------------------------------------------------------------------------- report

def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    vers = {}
    for dist in ("cfcompat", "tree-sitter", "tree-sitter-javascript", "tree-sitter-typescript",
                 "tree-sitter-python"):
        try:
            vers[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            vers[dist] = None
    return {"cpus": os.cpu_count(), "cpu_model": cpu, "mem_mib": mem, "platform": platform.platform(),
            "python": platform.python_version(), "versions": vers, "cfcompat_install": install_kind()}


def _sg_cell(r: dict) -> str:
    """Semgrep's like-for-like time: without rule timeouts where its default run hit them (`*`; `>` when even
    that run was stopped at the limit, so the time is a lower bound)."""
    full = r.get("semgrep_no_timeout")
    if full is None:
        return f"{r['semgrep']['wall_s']:.2f}"
    return (">" if full["killed_at_limit"] else "") + f"{full['wall_s']:.2f}*"


def footnotes(results: list[dict]) -> list[str]:
    out = []
    for r in results:
        s, full = r.get("semgrep"), r.get("semgrep_no_timeout")
        if s and full:
            out.append(f"* {r['corpus']}: with its defaults Semgrep took {s['wall_s']:.2f} s but gave up on "
                       f"{s['timeouts']} rule/file pairs (timeouts); the table shows the run with --timeout 0"
                       + (f", stopped at {full['limit_s']:.0f} s" if full["killed_at_limit"] else "")
                       + f" ({full['errors']} errors).")
    return out


def table(results: list[dict]) -> str:
    head = ["corpus", "files", "MB", "cold s", "warm s", "warm %", "edit s", "MB/s", "RSS MiB", "tree MiB", "ts s",
            "cold/ts", "semgrep s", "sg/cold"]
    rows = []
    for r in results:
        c, t, s = r["cfcompat"], r["tree_sitter"], r.get("semgrep")
        rows.append([r["corpus"], str(r["files"]), f"{r['mb']:.1f}", f"{c['cold_s']:.2f}", f"{c['warm_s']:.2f}",
                     f"{100 * r['warm_over_cold']:.0f}%", f"{c['edit_s']:.2f}", f"{r['mb_per_s']:.2f}",
                     f"{c['peak_rss_mib']:.0f}",
                     f"{c['peak_tree_pss_mib']:.0f}", f"{t['wall_s']:.2f}", f"{r['cold_over_ts']:.1f}x",
                     _sg_cell(r) if s else "-",
                     f"{r['semgrep_over_cfcompat_cold']:.1f}x" if s else "-"])
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    fmt = lambda cells: " | ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    sep = "-+-".join("-" * w for w in widths)
    return "\n".join([fmt(head), sep] + [fmt(r) for r in rows])


def targets(results: list[dict]) -> list[dict]:
    out = []
    if all("semgrep" in r for r in results):
        worst = min(results, key=lambda r: r["semgrep_over_cfcompat_cold"])
        out.append({"target": "cold scan >= 5x faster than Semgrep on every corpus (like for like: without rule "
                              "timeouts where Semgrep's defaults hit them)",
                    "met": worst["semgrep_over_cfcompat_cold"] >= 5,
                    "worst": f"{worst['corpus']}: {worst['semgrep_over_cfcompat_cold']:.1f}x"})
    worst = max(results, key=lambda r: r["cold_over_ts"])
    out.append({"target": "cold scan within 2x of tree-sitter parse-only", "met": worst["cold_over_ts"] <= 2,
                "worst": f"{worst['corpus']}: {worst['cold_over_ts']:.1f}x"})
    worst = max(results, key=lambda r: r["warm_over_cold"])
    out.append({"target": "warm rescan under 10% of cold", "met": worst["warm_over_cold"] < 0.10,
                "worst": f"{worst['corpus']}: {100 * worst['warm_over_cold']:.0f}%"})
    big = max(results, key=lambda r: r["bytes"])
    peak = max(big["cfcompat"]["peak_rss_mib"], big["cfcompat"]["peak_tree_pss_mib"])
    out.append({"target": "peak memory under 1 GiB on the largest corpus", "met": peak < 1024,
                "worst": f"{big['corpus']}: {peak:.0f} MiB (largest process {big['cfcompat']['peak_rss_mib']:.0f}, "
                         f"whole tree {big['cfcompat']['peak_tree_pss_mib']:.0f})"})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description="cfcompat speed benchmark (see benchmarks/README.md)")
    ap.add_argument("--only", action="append", choices=list(SCANS), help="only these corpora (repeatable)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of cfcompat and tree-sitter per corpus (median)")
    ap.add_argument("--semgrep-repeat", type=int, default=1, help="Semgrep runs per corpus (median)")
    ap.add_argument("--no-semgrep", action="store_true", help="skip Semgrep")
    ap.add_argument("--semgrep-full-limit", type=float, default=900, metavar="S",
                    help="where Semgrep's default run hit rule timeouts, run it again with --timeout 0 (like for "
                         "like), stopped after S seconds (default 900; 0 = do not)")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    args = ap.parse_args()

    log = lambda msg: print(msg, file=sys.stderr, flush=True)
    if install_kind() == "editable":
        log("note: cfcompat is an editable install in this interpreter; its import hook adds ~20 ms to every "
            "start-up, which shows in the warm column. Measure from a regular install (pip install .).")
    work = corpora.bench_dir() / "work"
    paths = corpora.corpus_paths()
    semgrep = None if args.no_semgrep else corpora.ensure_semgrep()
    sg_version = None
    if semgrep is not None:
        sg_version = subprocess.run([str(semgrep), "--version", "--disable-version-check"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
    warm_up = paths["express"]
    subprocess.run([CFCOMPAT, "scan", str(warm_up), "--format", "json", "--no-cache"], env=_py_env(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if semgrep is not None:
        subprocess.run([str(semgrep), "scan", "--config", str(RULES), "--metrics=off", "--disable-version-check",
                        "-q", "--json", str(warm_up / "index.js")], env=_py_env(), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    results = []
    for name in corpora.ORDER:
        if args.only and name not in args.only:
            continue
        sub, large, _note = SCANS[name]
        root = paths[name] / sub if sub else paths[name]
        log(f"== {name}: {root}")
        results.append(bench_corpus(name, root, large, work, args.repeat, semgrep, args.semgrep_repeat, log,
                                    args.semgrep_full_limit))
    doc = {"generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
           "machine": machine(), "semgrep": sg_version, "semgrep_rules": sum(
               1 for line in RULES.read_text().splitlines() if line.startswith("  - id:")),
           "pins": {"django": corpora.DJANGO, **corpora.NPM_TARBALLS, "node_modules": corpora.NODE_MODULES},
           "repeat": args.repeat, "results": results, "targets": targets(results)}
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(table(results))
    for line in footnotes(results):
        print(line)
    print()
    for t in doc["targets"]:
        print(f"{'MET ' if t['met'] else 'MISS'}  {t['target']}  (worst: {t['worst']})")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
