#!/usr/bin/env python3
"""The development corpus: real public repositories, labelled by hand (corpus/GUIDE.md), and cfcompat's accuracy
on them.

    python scripts/corpus.py list [--markdown]        # the corpus table
    python scripts/corpus.py fetch [ID ...]           # materialise the pinned trees (nothing when present)
    python scripts/corpus.py check [ID ...]           # schema, lines and hashes of the label files
    python scripts/corpus.py init ID OWNER/NAME --shape S --language L --kind K --target T --summary TEXT
                                                      # start a label file at the mirror's HEAD commit
    python scripts/corpus.py hash ID PATH LINE        # the hash of one line, for writing a label
    python scripts/corpus.py add ID PATH LINE CATEGORY WORKERS CONTAINERS NOTE [--also C] [--trap KIND]
                                                      # append one label (hash computed, file re-checked)
    python scripts/corpus.py score                    # run cfcompat on every repository, print the figures
    python scripts/corpus.py score --compare REF      # the same for git REF of cfcompat, side by side
    python scripts/corpus.py score --misses           # also list each missed problem and false positive
                                                      # (development part only; --unseal adds validation)

Trees live outside the repository, in $CFCOMPAT_CORPUS_CACHE (default ~/.cache/cfcompat-corpus). A tree is
extracted from a local git mirror ($CFCOMPAT_MIRRORS, default /work/.mirror, as the search tool's `fetch`
leaves them: <owner>+<name>/repo) with `git archive <commit>`, or else cloned from GitHub. The project never
holds the repositories' code: only their labels (path, line, category, verdicts, note, hash of the line).

Scoring (corpus/GUIDE.md): a labelled problem (workers verdict blocker or warning) is found when cfcompat reports
a blocker or warning on the same path within two lines, in the label's category or one of its `also`
categories. Each blocker or warning finding is judged by the labels near it (within two lines in the finding's
category, or on its very line in any category): a true positive when it finds one of those problems, a false
positive when they are traps or problems of another category, unjudged when no label judges it. Every blocker on a negative control is a false positive.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
REPOS = ROOT / "corpus" / "repos"
SCHEMA = ROOT / "corpus" / "label.schema.json"
CATEGORIES = ["filesystem", "native-module", "model-loading", "long-running", "subprocess", "network", "state",
              "dynamic-code", "database", "runtime-api", "config", "limits"]
SOURCE_EXT = {".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".py"}
SKIP_DIRS = {"node_modules", ".git", "dist", "build", "out", ".next", ".nuxt", ".svelte-kit", ".output", "vendor",
             "venv", ".venv", "__pycache__", "coverage", "site-packages", "bower_components"}
WINDOW = 2


def cache_dir() -> Path:
    return Path(os.environ.get("CFCOMPAT_CORPUS_CACHE") or Path.home() / ".cache" / "cfcompat-corpus")


def mirror_dirs() -> list[Path]:
    return [Path(p) for p in (os.environ.get("CFCOMPAT_MIRRORS") or "/work/.mirror").split(os.pathsep) if p]


def line_hash(text: str) -> str:
    return hashlib.sha1(text.strip().encode("utf-8", "surrogatepass")).hexdigest()[:10]


# --- the label files ----------------------------------------------------------------------------------------

@dataclass
class Repo:
    id: str
    data: dict
    file: Path

    @property
    def commit(self) -> str:
        return self.data["commit"]

    @property
    def labels(self) -> list[dict]:
        return self.data.get("labels") or []

    @property
    def problems(self) -> list[dict]:
        return [lb for lb in self.labels if lb["workers"] in ("blocker", "warning")]

    @property
    def traps(self) -> list[dict]:
        return [lb for lb in self.labels if lb["workers"] == "ok"]

    @property
    def tree(self) -> Path:
        return cache_dir() / "trees" / f"{self.id}-{self.commit[:12]}"


def load_repos(ids: list[str] | None = None) -> list[Repo]:
    out = []
    for f in sorted(REPOS.glob("*.yaml")):
        data = yaml.safe_load(f.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "id" not in data:
            raise SystemExit(f"{f}: not a label file (no id)")
        if ids and data["id"] not in ids:
            continue
        out.append(Repo(data["id"], data, f))
    if ids:
        missing = set(ids) - {r.id for r in out}
        if missing:
            raise SystemExit(f"no label file for: {', '.join(sorted(missing))}")
    return out


# --- materialising the trees ----------------------------------------------------------------------------------

def find_git_dir(repo: str) -> Path | None:
    owner, name = repo.split("/", 1)
    for base in mirror_dirs():
        for cand in (base / f"{owner}+{name}" / "repo", base / f"{owner}+{name}"):
            if (cand / "HEAD").is_file() and (cand / "objects").is_dir():
                return cand
    cloned = cache_dir() / "git" / f"{owner}+{name}.git"
    return cloned if (cloned / "HEAD").is_file() else None


def materialise(r: Repo, quiet: bool = False) -> Path:
    if (r.tree / ".corpus-complete").is_file():
        return r.tree
    git_dir = find_git_dir(r.data["repo"])
    if git_dir is None:
        git_dir = cache_dir() / "git" / f"{r.data['repo'].replace('/', '+')}.git"
        git_dir.parent.mkdir(parents=True, exist_ok=True)
        if not quiet:
            print(f"{r.id}: cloning https://github.com/{r.data['repo']} (no local mirror)", file=sys.stderr)
        res = subprocess.run(["git", "clone", "-q", "--bare", f"https://github.com/{r.data['repo']}.git",
                              str(git_dir)], capture_output=True, text=True)
        if res.returncode:
            raise RuntimeError(f"{r.id}: no mirror and the clone failed: {res.stderr.strip().splitlines()[-1:]}")
    res = subprocess.run(["git", f"--git-dir={git_dir}", "archive", "--format=tar", r.commit],
                         capture_output=True)
    if res.returncode:
        raise RuntimeError(f"{r.id}: git archive {r.commit[:12]} failed: {res.stderr.decode(errors='replace').strip()}")
    tmp = Path(tempfile.mkdtemp(prefix=f".{r.id}-", dir=r.tree.parent if r.tree.parent.exists() else None))
    try:
        with tarfile.open(fileobj=io.BytesIO(res.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        (tmp / ".corpus-complete").write_text(r.commit + "\n")
        r.tree.parent.mkdir(parents=True, exist_ok=True)
        if r.tree.exists():
            shutil.rmtree(r.tree)
        os.replace(tmp, r.tree)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    if not quiet:
        print(f"{r.id}: extracted {r.commit[:12]} into {r.tree}", file=sys.stderr)
    return r.tree


def lines_in_scope(tree: Path) -> int:
    total = 0
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for fn in filenames:
            p = Path(dirpath) / fn
            if p.suffix in SOURCE_EXT and not fn.endswith((".min.js", ".d.ts")) and not p.is_symlink():
                try:
                    with open(p, "rb") as fh:
                        total += sum(1 for _ in fh)
                except OSError:
                    pass
    return total


def read_line(tree: Path, path: str, line: int) -> str | None:
    p = tree / path
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    lines = text.splitlines()
    return lines[line - 1] if 1 <= line <= len(lines) else None


# --- check ----------------------------------------------------------------------------------------------------

def check(repos: list[Repo]) -> int:
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - the test extra brings it
        jsonschema = None
    schema = json.loads(SCHEMA.read_text())
    bad = 0
    ids = Counter(r.id for r in load_repos())
    for r in repos:
        errs = []
        if jsonschema is not None:
            v = jsonschema.Draft202012Validator(schema)
            errs += [f"schema: {'/'.join(map(str, e.path))}: {e.message}" for e in v.iter_errors(r.data)]
        if r.file.stem != r.id:
            errs.append(f"file name {r.file.name} does not match id {r.id}")
        if ids[r.id] > 1:
            errs.append("duplicate id")
        seen = set()
        try:
            tree = materialise(r, quiet=True)
        except RuntimeError as e:
            errs.append(str(e))
            tree = None
        for i, lb in enumerate(r.labels):
            key = (lb.get("path"), lb.get("line"), lb.get("category"))
            if key in seen:
                errs.append(f"label {i}: duplicate {key}")
            seen.add(key)
            if tree is None:
                continue
            text = read_line(tree, lb["path"], lb["line"])
            if text is None:
                errs.append(f"label {i}: {lb['path']}:{lb['line']} does not exist")
            elif line_hash(text) != lb["hash"]:
                errs.append(f"label {i}: {lb['path']}:{lb['line']} hash {lb['hash']} != {line_hash(text)} "
                            f"({text.strip()[:60]!r})")
        for e in errs:
            print(f"{r.file.relative_to(ROOT)}: {e}")
        bad += bool(errs)
        if not errs:
            print(f"{r.id}: ok ({len(r.problems)} problems, {len(r.traps)} traps)")
    return 1 if bad else 0


def dump_repo(r: Repo) -> None:
    """Write a label file back in one stable layout (keys in schema order, one label per block)."""
    order = ["id", "repo", "commit", "shape", "language", "kind", "split", "target", "labelled_by", "labelled_on",
             "summary"]
    head = {k: r.data[k] for k in order if k in r.data}
    head.update({k: v for k, v in r.data.items() if k not in head and k != "labels"})
    text = yaml.safe_dump(head, sort_keys=False, allow_unicode=True, width=110)
    lorder = ["path", "line", "hash", "category", "also", "workers", "containers", "trap", "note"]
    labels = sorted(r.labels, key=lambda lb: (lb["path"], lb["line"], lb["category"]))
    body = yaml.safe_dump([{k: lb[k] for k in lorder if k in lb} for lb in labels], sort_keys=False,
                          allow_unicode=True, width=110, default_flow_style=False) if labels else "[]\n"
    r.file.write_text(text + ("labels:\n" + "".join("  " + ln + "\n" for ln in body.splitlines())
                              if labels else "labels: []\n"), encoding="utf-8")


def cmd_init(a: argparse.Namespace) -> int:
    f = REPOS / f"{a.id}.yaml"
    if f.exists():
        raise SystemExit(f"{f} exists")
    git_dir = find_git_dir(a.repo)
    if git_dir is None:
        raise SystemExit(f"no local mirror of {a.repo} under {', '.join(map(str, mirror_dirs()))}: fetch it first")
    commit = a.commit or subprocess.run(["git", f"--git-dir={git_dir}", "rev-parse", "HEAD"], capture_output=True,
                                        text=True, check=True).stdout.strip()
    data = {"id": a.id, "repo": a.repo, "commit": commit, "shape": a.shape, "language": a.language,
            "kind": a.kind, "split": "dev", "target": a.target, "labelled_by": a.labelled_by,
            "labelled_on": a.labelled_on, "summary": a.summary, "labels": []}
    REPOS.mkdir(parents=True, exist_ok=True)
    r = Repo(a.id, data, f)
    dump_repo(r)
    tree = materialise(r)
    print(f"{a.id}: {a.repo}@{commit[:12]}, {lines_in_scope(tree)} lines in scope, tree at {tree}")
    return 0


def cmd_add(a: argparse.Namespace) -> int:
    r = load_repos([a.id])[0]
    if not r.data.get("labels"):
        r.data["labels"] = []
    tree = materialise(r, quiet=True)
    text = read_line(tree, a.path, a.line)
    if text is None:
        raise SystemExit(f"{a.path}:{a.line}: no such line in {r.id}")
    lb = {"path": a.path, "line": a.line, "hash": line_hash(text), "category": a.category}
    if a.also:
        lb["also"] = a.also
    lb.update({"workers": a.workers, "containers": a.containers, "trap": a.trap, "note": a.note})
    if a.workers == "ok" and not a.trap:
        raise SystemExit("an ok label is a trap: give --trap KIND")
    if a.workers != "ok" and a.trap:
        raise SystemExit("--trap is only for ok labels")
    key = (a.path, a.line, a.category)
    r.data["labels"] = [x for x in r.labels if (x["path"], x["line"], x["category"]) != key] + [lb]
    dump_repo(r)
    print(f"{r.id}: {a.path}:{a.line} {a.category} {a.workers}  | {text.strip()[:90]}")
    return 0


# --- running cfcompat -----------------------------------------------------------------------------------------

def default_cfcompat() -> list[str]:
    exe = Path(sys.executable).parent / "cfcompat"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("cfcompat")
    if found:
        return [found]
    raise SystemExit("no cfcompat next to this Python or on PATH; pass --cfcompat")


def cfcompat_at(ref: str) -> list[str]:
    """A cfcompat installed from git REF of this repository, in a venv of its own under the cache."""
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                         capture_output=True, text=True, check=True).stdout.strip()
    base = cache_dir() / "versions" / sha[:12]
    exe = base / "venv" / "bin" / "cfcompat"
    if exe.exists():
        return [str(exe)]
    src = base / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    arch = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", sha], capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(arch.stdout)) as tar:
        tar.extractall(src, filter="data")
    print(f"installing cfcompat {ref} ({sha[:12]}) into {base / 'venv'}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True)
    subprocess.run([str(base / "venv" / "bin" / "pip"), "install", "-q", str(src)], check=True)
    return [str(exe)]


def run_cfcompat(cmd: list[str], r: Repo, tree: Path) -> dict:
    args = [*cmd, "scan", str(tree), "--format", "json", "--no-cache", "--target", r.data["target"]]
    res = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    if res.returncode not in (0, 1):
        raise RuntimeError(f"{r.id}: cfcompat exited {res.returncode}: {res.stderr.strip()[-400:]}")
    return json.loads(res.stdout)


# --- scoring --------------------------------------------------------------------------------------------------

@dataclass
class Tally:
    problems: int = 0
    found: int = 0
    blocker_problems: int = 0
    blocker_found: int = 0
    tp: int = 0
    fp: int = 0
    unjudged: int = 0
    nc_blockers: int = 0

    def add(self, o: "Tally") -> None:
        for k in self.__dataclass_fields__:
            setattr(self, k, getattr(self, k) + getattr(o, k))

    @property
    def recall(self) -> float | None:
        return self.found / self.problems if self.problems else None

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None


@dataclass
class RepoScore:
    repo: Repo
    total: Tally = field(default_factory=Tally)
    by_cat: dict = field(default_factory=lambda: defaultdict(Tally))
    misses: list = field(default_factory=list)
    false_pos: list = field(default_factory=list)
    unjudged: list = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


def accepts(label: dict, category: str) -> bool:
    return category == label["category"] or category in (label.get("also") or [])


def score_repo(r: Repo, doc: dict) -> RepoScore:
    s = RepoScore(r)
    by_path: dict[str, list[dict]] = defaultdict(list)
    for lb in r.labels:
        by_path[lb["path"]].append(lb)
    found_labels: set[int] = set()
    for f in doc.get("findings", []):
        if f["severity"] not in ("blocker", "warning"):
            continue
        near = [lb for lb in by_path.get(f["path"], []) if abs(lb["line"] - f["line"]) <= WINDOW]
        hits = [lb for lb in near if lb["workers"] != "ok" and accepts(lb, f["category"])]
        # a label judges a finding of its own category within the window, and any finding on its very line
        near = [lb for lb in near if lb["line"] == f["line"] or accepts(lb, f["category"])]
        cat = s.by_cat[f["category"]]
        if r.data["kind"] == "negative-control" and f["severity"] == "blocker":
            s.total.fp += 1
            s.total.nc_blockers += 1
            cat.fp += 1
            cat.nc_blockers += 1
            s.false_pos.append((f, "blocker on a negative control"))
            continue
        if hits:
            s.total.tp += 1
            cat.tp += 1
            found_labels.update(id(lb) for lb in hits)
        elif near:
            s.total.fp += 1
            cat.fp += 1
            why = "; ".join(f"{lb['line']}: {lb['category']} {lb['workers']}"
                            + (f" trap={lb['trap']}" if lb.get("trap") else "") for lb in near)
            s.false_pos.append((f, why))
        else:
            s.total.unjudged += 1
            cat.unjudged += 1
            s.unjudged.append(f)
    for lb in r.problems:
        cat = s.by_cat[lb["category"]]
        hit = id(lb) in found_labels
        for t in (s.total, cat):
            t.problems += 1
            t.found += hit
            if lb["workers"] == "blocker":
                t.blocker_problems += 1
                t.blocker_found += hit
        if not hit:
            s.misses.append(lb)
    return s


def fmt(x: float | None) -> str:
    return "   -" if x is None else f"{x:.2f}"


def table(rows: list[tuple[str, Tally]], title: str) -> str:
    out = [title, f"{'':24} | {'probl':>5} {'found':>5} {'recall':>6} | {'blk':>4} {'b-rec':>6} | "
                  f"{'TP':>4} {'FP':>4} {'prec':>5} | {'unjud':>5} | {'NC-blk':>6}"]
    out.append("-" * len(out[1]))
    for name, t in rows:
        out.append(f"{name[:24]:24} | {t.problems:5d} {t.found:5d} {fmt(t.recall):>6} | {t.blocker_problems:4d} "
                   f"{fmt(t.blocker_found / t.blocker_problems if t.blocker_problems else None):>6} | "
                   f"{t.tp:4d} {t.fp:4d} {fmt(t.precision):>5} | {t.unjudged:5d} | {t.nc_blockers:6d}")
    return "\n".join(out)


def summarise(scores: list[RepoScore], split: str, show_repos: bool) -> tuple[str, dict]:
    part = [s for s in scores if s.repo.data["split"] == split]
    total = Tally()
    cats: dict[str, Tally] = defaultdict(Tally)
    for s in part:
        total.add(s.total)
        for c, t in s.by_cat.items():
            cats[c].add(t)
    rows = [(c, cats[c]) for c in CATEGORIES if c in cats] + [("ALL", total)]
    text = [table(rows, f"== {split}: {len(part)} repositories, per category")]
    if show_repos:
        text.append(table([(s.repo.id, s.total) for s in part], f"== {split}: per repository"))
    data = {"repositories": len(part), "overall": tally_json(total),
            "categories": {c: tally_json(t) for c, t in sorted(cats.items())},
            "repositories_detail": {s.repo.id: tally_json(s.total) for s in part}}
    return "\n\n".join(text), data


def tally_json(t: Tally) -> dict:
    return {"problems": t.problems, "found": t.found, "recall": t.recall,
            "blocker_problems": t.blocker_problems, "blocker_found": t.blocker_found,
            "tp": t.tp, "fp": t.fp, "precision": t.precision, "unjudged": t.unjudged,
            "negative_control_blockers": t.nc_blockers}


def score_all(cmd: list[str], repos: list[Repo], jobs: int) -> list[RepoScore]:
    import time
    from concurrent.futures import ThreadPoolExecutor

    def one(r: Repo) -> RepoScore:
        t0 = time.monotonic()
        try:
            tree = materialise(r, quiet=True)
            s = score_repo(r, run_cfcompat(cmd, r, tree))
        except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
            s = RepoScore(r, error=str(e))
        s.seconds = time.monotonic() - t0
        return s

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        return list(ex.map(one, repos))


def print_details(scores: list[RepoScore], unseal: bool) -> None:
    for s in scores:
        if s.repo.data["split"] == "validation" and not unseal:
            continue
        if not (s.misses or s.false_pos):
            continue
        print(f"\n--- {s.repo.id} ({s.repo.data['split']})")
        for lb in s.misses:
            print(f"  MISS {lb['path']}:{lb['line']} {lb['category']} {lb['workers']}: {lb['note']}")
        for f, why in s.false_pos:
            print(f"  FP   {f['path']}:{f['line']} {f['rule_id']} {f['severity']} [{why}]")


def cmd_score(a: argparse.Namespace) -> int:
    repos = load_repos(a.ids or None)
    cmd = a.cfcompat.split() if a.cfcompat else default_cfcompat()
    versions = [("current", cmd)]
    if a.compare:
        versions.insert(0, (a.compare, cfcompat_at(a.compare)))
    results = {}
    for name, c in versions:
        scores = score_all(c, repos, a.jobs)
        for s in scores:
            if s.error:
                print(f"ERROR {s.repo.id}: {s.error}", file=sys.stderr)
        results[name] = scores
    report = {}
    for name, scores in results.items():
        if len(versions) > 1:
            print(f"\n######## cfcompat {name}")
        report[name] = {}
        for split in ("dev", "validation"):
            text, data = summarise(scores, split, show_repos=True)
            print(text + "\n")
            report[name][split] = data
        if a.misses:
            print_details(scores, a.unseal)
        if a.unjudged:
            for s in scores:
                if s.repo.data["split"] == "validation" and not a.unseal:
                    continue
                for f in s.unjudged:
                    print(f"  UNJUDGED {s.repo.id} {f['path']}:{f['line']} {f['rule_id']} {f['severity']}: "
                          f"{f['snippet'][:80]}")
    if len(versions) > 1:
        print("\n######## side by side (recall / judged precision)")
        a_name, b_name = versions[0][0], versions[1][0]
        for split in ("dev", "validation"):
            A, B = report[a_name][split], report[b_name][split]
            print(f"== {split}")
            print(f"{'':14} | {a_name[:18]:>18} | {b_name[:18]:>18}")
            for c in CATEGORIES + ["ALL"]:
                ta = A["overall"] if c == "ALL" else A["categories"].get(c)
                tb = B["overall"] if c == "ALL" else B["categories"].get(c)
                if not ta and not tb:
                    continue
                cell = lambda t: (f"{fmt(t['recall'])} / {fmt(t['precision'])}" if t else "-")  # noqa: E731
                print(f"{c:14} | {cell(ta):>18} | {cell(tb):>18}")
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return 0


def cmd_list(a: argparse.Namespace) -> int:
    repos = load_repos(a.ids or None)
    rows = []
    for r in repos:
        try:
            n = lines_in_scope(materialise(r, quiet=True))
        except RuntimeError:
            n = -1
        rows.append((r, n))
    if a.markdown:
        print("| id | repository | commit | shape | language | kind | split | lines | problems | traps |")
        print("|---|---|---|---|---|---|---|---:|---:|---:|")
        for r, n in rows:
            d = r.data
            print(f"| {r.id} | [{d['repo']}](https://github.com/{d['repo']}/tree/{r.commit}) | `{r.commit[:10]}` | "
                  f"{d['shape']} | {d['language']} | {d['kind']} | {d['split']} | {n} | {len(r.problems)} | "
                  f"{len(r.traps)} |")
    else:
        for r, n in rows:
            d = r.data
            print(f"{r.id:32} {d['repo'][:40]:40} {r.commit[:10]} {d['shape']:16} {d['language']:10} "
                  f"{d['kind'][:8]:8} {d['split']:10} {n:6d} {len(r.problems):4d} {len(r.traps):4d}")
    langs = Counter(r.data["language"] for r, _ in rows)
    print(f"\n{len(rows)} repositories; {dict(langs)}; "
          f"{sum(len(r.problems) for r, _ in rows)} problems, {sum(len(r.traps) for r, _ in rows)} traps; "
          f"{sum(1 for r, _ in rows if r.data['split'] == 'validation')} in validation; "
          f"{sum(1 for r, _ in rows if r.data['kind'] == 'negative-control')} negative controls", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("list")
    sp.add_argument("ids", nargs="*")
    sp.add_argument("--markdown", action="store_true")
    sp = sub.add_parser("fetch")
    sp.add_argument("ids", nargs="*")
    sp = sub.add_parser("check")
    sp.add_argument("ids", nargs="*")
    sp = sub.add_parser("hash")
    sp.add_argument("id")
    sp.add_argument("path")
    sp.add_argument("line", type=int)
    sp = sub.add_parser("init")
    sp.add_argument("id")
    sp.add_argument("repo")
    sp.add_argument("--commit")
    sp.add_argument("--shape", required=True)
    sp.add_argument("--language", required=True, choices=["javascript", "typescript", "python", "mixed"])
    sp.add_argument("--kind", default="subject", choices=["subject", "negative-control"])
    sp.add_argument("--target", required=True, choices=["workers", "python-workers"])
    sp.add_argument("--summary", required=True)
    sp.add_argument("--labelled-by", default="")
    sp.add_argument("--labelled-on", default=__import__("datetime").date.today().isoformat())
    sp = sub.add_parser("add")
    sp.add_argument("id")
    sp.add_argument("path")
    sp.add_argument("line", type=int)
    sp.add_argument("category", choices=CATEGORIES)
    sp.add_argument("workers", choices=["blocker", "warning", "ok"])
    sp.add_argument("containers", choices=["blocker", "warning", "ok"])
    sp.add_argument("note")
    sp.add_argument("--also", action="append", choices=CATEGORIES)
    sp.add_argument("--trap", choices=["test", "build", "browser", "comment", "string", "dev-dependency", "pure-js",
                                       "workers-native", "remote-api", "per-request-temp", "request-timer",
                                       "dev-server", "memoisation", "bundled-import", "memory-upload", "config-ok",
                                       "cli", "other"])
    sp = sub.add_parser("score")
    sp.add_argument("ids", nargs="*")
    sp.add_argument("--cfcompat", help="the cfcompat command to score (default: the one beside this Python)")
    sp.add_argument("--compare", metavar="REF", help="also score cfcompat at git REF of this repository")
    sp.add_argument("--misses", action="store_true", help="list misses and false positives (development part)")
    sp.add_argument("--unjudged", action="store_true", help="list findings no label judges (development part)")
    sp.add_argument("--unseal", action="store_true", help="include the validation part in the listings")
    sp.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    sp.add_argument("-j", "--jobs", type=int, default=1, help="repositories scanned at once (default 1)")
    a = p.parse_args(argv)
    if a.cmd == "list":
        return cmd_list(a)
    if a.cmd == "check":
        return check(load_repos(a.ids or None))
    if a.cmd == "fetch":
        rc = 0
        for r in load_repos(a.ids or None):
            try:
                materialise(r)
            except RuntimeError as e:
                print(e, file=sys.stderr)
                rc = 1
        return rc
    if a.cmd == "add":
        return cmd_add(a)
    if a.cmd == "init":
        return cmd_init(a)
    if a.cmd == "hash":
        r = load_repos([a.id])[0] if (REPOS / f"{a.id}.yaml").exists() else None
        tree = materialise(r, quiet=True) if r else Path(a.id)
        text = read_line(tree, a.path, a.line)
        if text is None:
            raise SystemExit(f"{a.path}:{a.line}: no such line")
        print(f"{line_hash(text)}  {text.strip()}")
        return 0
    return cmd_score(a)


if __name__ == "__main__":
    sys.exit(main())
