"""Issue 19, item 3: `--diff-base` / `pr-comment` are bounded: a near-linear line diff, `--max-seconds` honoured
by the diff stage (`partial: true` when it cuts), a base extraction bounded in files and bytes that streams blobs
and leaves no temporary folder behind, not even after SIGTERM."""
from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import time
from difflib import SequenceMatcher
from pathlib import Path

import pytest

from ci_helpers import GIT_ENV, commit, init_repo, run_cli, sh_git

from cfcompat.analyzer import gitdiff
from cfcompat.analyzer.gitdiff import changed_lines

ROOT = Path(__file__).resolve().parents[1]


def _kept_is_subsequence(a: list[bytes], b: list[bytes], changed: set[int]) -> bool:
    """The lines of B not reported as changed must appear in A in the same order (a valid diff)."""
    it = iter(a)
    return all(any(x == y for y in it) for j, x in enumerate(b, 1) if j not in changed)


def _lines(data: bytes) -> list[bytes]:
    return [ln.rstrip(b"\r") for ln in data.split(b"\n")]


# ------------------------------------------------------------------------------------------------ line diff

def test_line_diff_is_near_linear_on_repeated_statements():
    """4,000 lines alternating two statements against 4,000 copies of one: SequenceMatcher took minutes."""
    code = ("import time; from cfcompat.analyzer.gitdiff import changed_lines\n"
            "old = b'a();\\n' * 4000\nnew = b'a();\\nb();\\n' * 2000\n"
            "t = time.monotonic(); c = changed_lines(old, new); print(len(c), time.monotonic() - t)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    n, seconds = proc.stdout.split()
    assert int(n) == 2000          # exactly the b() lines
    assert float(seconds) < 2.0


@pytest.mark.parametrize("seed", range(40))
def test_line_diff_is_a_valid_diff(seed: int):
    rnd = random.Random(seed)
    vocab = rnd.choice([2, 5, 50, 10_000])
    a = [f"s{rnd.randrange(vocab)};".encode() for _ in range(rnd.randint(0, 900))]
    b = list(a)
    for _ in range(rnd.randint(0, 40)):
        k = rnd.randrange(len(b) + 1)
        op = rnd.random()
        if op < 0.4:
            b.insert(k, f"s{rnd.randrange(vocab * 2)};".encode())
        elif b and op < 0.7:
            del b[min(k, len(b) - 1)]
        elif b:
            b[min(k, len(b) - 1)] = f"new{rnd.random()}".encode()
    old, new = b"\n".join(a), b"\n".join(b)
    got = changed_lines(old, new)
    assert got is not None
    assert _kept_is_subsequence(_lines(old), _lines(new), got)
    if old == new:
        assert got == set()
    if len(a) * len(b) <= gitdiff.SMALL_GAP:     # small inputs: exactly the old answer
        sm = SequenceMatcher(None, _lines(old), _lines(new), autojunk=False)
        want = {j + 1 for tag, _i1, _i2, j1, j2 in sm.get_opcodes() if tag in ("replace", "insert")
                for j in range(j1, j2)}
        assert got == want
    if vocab == 10_000:      # source-like lines (mostly unique): never more than SequenceMatcher reports
        sm = SequenceMatcher(None, _lines(old), _lines(new), autojunk=False)
        assert len(got) <= sum(j2 - j1 for tag, _i1, _i2, j1, j2 in sm.get_opcodes() if tag in ("replace", "insert"))


def test_big_files_are_not_diffed_line_by_line(monkeypatch):
    monkeypatch.setattr(gitdiff, "DIFF_MAX_BYTES", 100)
    assert changed_lines(b"x\n" * 100, b"y\n" * 100) is None      # every line
    assert changed_lines(b"x\n" * 100, b"x\n" * 100) == set()


# ------------------------------------------------------------------------------------------------ repositories

def _git_in(repo: Path, *args: str, input: bytes | None = None) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], input=input, capture_output=True,
                          env={**os.environ, **GIT_ENV})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode().strip()


def _many_paths_repo(tmp_path: Path, n: int, blob: bytes = b"const x = 1;\n", ext: str = "js") -> Path:
    """main: N paths sharing one blob (a tiny .git, as in the report); feature: they are all deleted again."""
    repo = init_repo(tmp_path / "repo")
    (repo / "blob.tmp").write_bytes(blob)
    oid = _git_in(repo, "hash-object", "-w", "blob.tmp")
    (repo / "blob.tmp").unlink()
    index = "".join(f"100644 {oid}\td{i // 500}/f{i}.{ext}\n" for i in range(n)).encode()
    _git_in(repo, "update-index", "--add", "--index-info", input=index)
    tree = _git_in(repo, "write-tree")
    c = _git_in(repo, "commit-tree", tree, "-m", "many", input=b"")
    _git_in(repo, "update-ref", "refs/heads/main", c)
    _git_in(repo, "read-tree", "--empty")
    _git_in(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"src/app.js": "export default { fetch() { return new Response('ok'); } };\n"}, "feature")
    return repo


def _base_folders(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("cfcompat-base-*"))


@pytest.fixture
def own_tmp(tmp_path: Path, monkeypatch) -> Path:
    """A private temporary folder, so leftovers of this test (and only those) can be seen."""
    import tempfile
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def test_base_over_the_file_bound_is_one_line_error_and_writes_nothing(tmp_path, own_tmp, monkeypatch, capsys):
    repo = _many_paths_repo(tmp_path, 3000)
    monkeypatch.setattr(gitdiff, "MAX_BASE_FILES", 1000)
    code, out, err = run_cli(["scan", str(repo), "--diff-base", "main", "--format", "json"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "more than 1,000 files" in err and "CFCOMPAT_DIFF_MAX_FILES" in err
    assert _base_folders(own_tmp) == []


def test_base_over_the_byte_bound_is_one_line_error(tmp_path, own_tmp, monkeypatch, capsys):
    repo = _many_paths_repo(tmp_path, 40, blob=b"// padding\n" * 100)
    monkeypatch.setattr(gitdiff, "MAX_BASE_BYTES", 10_000)
    code, out, err = run_cli(["pr-comment", str(repo), "--diff-base", "main"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "more than 10,000 bytes of files" in err
    assert _base_folders(own_tmp) == []


def test_blobs_are_streamed_not_held_in_memory(tmp_path):
    """Two 40 MiB blobs: the extraction's memory must not grow with them (it held every blob of a batch)."""
    repo = init_repo(tmp_path / "big")
    big = tmp_path / "zeros"
    big.write_bytes(b"0" * (40 * 1024 * 1024))
    oid = _git_in(repo, "hash-object", "-w", str(big))
    big.unlink()
    _git_in(repo, "update-index", "--add", "--index-info",
            input=f"100644 {oid}\ta.txt\n100644 {oid}\tb.txt\n".encode())
    c = _git_in(repo, "commit-tree", _git_in(repo, "write-tree"), "-m", "big", input=b"")
    dest = tmp_path / "dest"
    dest.mkdir()
    code = ("import resource, sys; from pathlib import Path\n"
            "from cfcompat.analyzer.gitdiff import Repo\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            f"files = Repo.open(Path({str(repo)!r})).extract_tree({c!r}, Path({str(dest)!r}))\n"
            "print(sorted(files), (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **GIT_ENV})
    assert proc.returncode == 0, proc.stderr
    files, grew_mib = proc.stdout.rsplit(" ", 1)
    assert files == "['a.txt', 'b.txt']"
    assert (dest / "a.txt").stat().st_size == 40 * 1024 * 1024
    assert int(grew_mib) < 30, f"extraction grew memory by {grew_mib} MiB"


# ------------------------------------------------------------------------------------------------ time bound

def test_max_seconds_bounds_the_diff_stage_and_says_partial(tmp_path, monkeypatch, capsys):
    repo = init_repo(tmp_path / "slow")
    commit(repo, {f"src/m{i}.js": f"export const v{i} = {i};\n" for i in range(12)}, "base")
    sh_git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {f"src/m{i}.js": f"export const v{i} = {i + 1};\nrequire('fs').writeFileSync('x', '');\n"
                  for i in range(12)}, "feature")
    real = gitdiff.changed_lines

    def slow(old, new):      # a diff that takes a while per file (stands in for a huge one)
        time.sleep(1.0)
        return real(old, new)

    monkeypatch.setattr(gitdiff, "changed_lines", slow)
    t0 = time.monotonic()
    code, out, err = run_cli(["scan", str(repo), "--diff-base", "main", "--format", "json", "-j", "1",
                              "--max-seconds", "1.5"], capsys)
    elapsed = time.monotonic() - t0
    assert code == 0, err
    doc = json.loads(out)
    assert elapsed < 1.5 + 4.5, elapsed          # unbounded: 12 x 1 s of diffing alone
    assert doc["summary"]["partial"] is True
    assert doc["diff"]["partial"] is True
    assert any("--max-seconds" in e["message"] and e["path"] == "." for e in doc["errors"])


def test_without_max_seconds_nothing_is_partial(tmp_path, capsys):
    repo = init_repo(tmp_path / "calm")
    commit(repo, {"src/a.js": "export const a = 1;\n"}, "base")
    sh_git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"src/a.js": "export const a = 2;\n"}, "feature")
    code, out, err = run_cli(["scan", str(repo), "--diff-base", "main", "--format", "json"], capsys)
    doc = json.loads(out)
    assert doc["summary"]["partial"] is False and "partial" not in doc["diff"]


# ------------------------------------------------------------------------------------------------ SIGTERM

def test_sigterm_removes_the_base_folder(tmp_path):
    repo = _many_paths_repo(tmp_path, 6000)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, **GIT_ENV, "TMPDIR": str(tmp), "CFCOMPAT_NO_CACHE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "cfcompat.analyzer.cli", "scan", str(repo), "--diff-base",
                             "main", "--format", "json", "-j", "1"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not _base_folders(tmp) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _base_folders(tmp), "the base folder never appeared"
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 128 + signal.SIGTERM
    assert _base_folders(tmp) == []
    assert b"Traceback" not in proc.stderr.read()


# ------------------------------------------------------------------------------------------------ pairing

# The pairing of head and base findings as it was before it was indexed (quadratic in a group's size): the
# reference the indexed diffscan.compare must agree with exactly.
from cfcompat.analyzer.diffscan import Comparison, compare, compare_dependencies, norm_snippet  # noqa: E402
from cfcompat.analyzer.gitdiff import BaseTree  # noqa: E402
from cfcompat.analyzer.model import Dependency, Finding, SEVERITY_RANK  # noqa: E402


def reference_compare(head_findings: list[Finding], base_findings: list[Finding], tree: BaseTree,
            head_deps: list[Dependency], base_deps: list[Dependency], head_files: list[str]) -> Comparison:
    manifests = {d.manifest for d in head_deps} | {tree.head_path(d.manifest) for d in base_deps}

    def hkey(f: Finding, path: str) -> tuple[str, str, str]:
        return (f.rule_id, path, norm_snippet(f.snippet))

    groups: dict[tuple[str, str, str], tuple[list[Finding], list[Finding]]] = {}
    for f in head_findings:
        groups.setdefault(hkey(f, f.path), ([], []))[0].append(f)
    for b in base_findings:
        groups.setdefault(hkey(b, tree.head_path(b.path)), ([], []))[1].append(b)

    def fp_of_base(b: Finding) -> str:
        return renamed_fp.get(id(b), b.fingerprint)

    # fingerprints of base findings as they would read at the head path (a rename changes the path part)
    renamed_fp: dict[int, str] = {}
    if tree.renames:
        from cfcompat.analyzer.engine import finalize
        moved_copies = []
        originals = []
        for b in base_findings:
            if b.path in tree.renames:
                c = dataclasses.replace(b, path=tree.renames[b.path])
                moved_copies.append(c)
                originals.append(b)
        index = {id(c): o for c, o in zip(moved_copies, originals)}
        finalize(moved_copies)
        for c in moved_copies:
            renamed_fp[id(index[id(c)])] = c.fingerprint

    new: list[tuple[Finding, str, str]] = []
    pairs: list[tuple[Finding, Finding]] = []
    fixed: list[Finding] = []
    for (_rule, path, _snip), (hs, bs) in groups.items():
        left = list(bs)
        unchanged = [h for h in hs if not tree.is_changed(path, h.line)]
        changed = [h for h in hs if tree.is_changed(path, h.line)]
        rest: list[Finding] = []
        for batch in (unchanged, changed):
            pending = []
            for h in batch:       # exact fingerprint first
                m = next((b for b in left if fp_of_base(b) == h.fingerprint), None)
                if m is not None:
                    left.remove(m)
                    pairs.append((h, m))
                else:
                    pending.append(h)
            for h in pending:     # then same symbol, then any
                m = next((b for b in left if b.symbol == h.symbol), None) or (left[0] if left else None)
                if m is not None:
                    left.remove(m)
                    pairs.append((h, m))
                else:
                    rest.append(h)
        new += [(h, "added", "") for h in rest]
        fixed += left

    # code moved between files
    moved = 0
    for item in list(new):
        h = item[0]
        if h.path in manifests:
            continue
        m = next((b for b in fixed if b.rule_id == h.rule_id and b.symbol == h.symbol
                  and norm_snippet(b.snippet) == norm_snippet(h.snippet) and tree.head_path(b.path) not in manifests
                  and SEVERITY_RANK[h.severity] <= SEVERITY_RANK[b.severity]), None)
        if m is not None:
            fixed.remove(m)
            new.remove(item)
            moved += 1

    # a dependency whose version changed: reported (new), not fixed
    for i, (h, _why, _was) in enumerate(new):
        if h.path not in manifests or not h.symbol:
            continue
        m = next((b for b in fixed if b.rule_id == h.rule_id and b.symbol == h.symbol
                  and tree.head_path(b.path) == h.path), None)
        if m is not None:
            fixed.remove(m)
            new[i] = (h, "dependency-changed", m.severity)

    for h, b in pairs:
        if SEVERITY_RANK[h.severity] > SEVERITY_RANK[b.severity]:
            new.append((h, "severity-rose", b.severity))

    new.sort(key=lambda t: t[0].sort_key())
    fixed.sort(key=lambda f: f.sort_key())
    added, changed_deps, removed = compare_dependencies(head_deps, base_deps, tree)
    return Comparison(new=new, fixed=fixed, moved=moved, changed_files=tree.changed_files(head_files),
                      dependencies_added=added, dependencies_changed=changed_deps, dependencies_removed=removed)


class _Tree:
    def __init__(self, renames: dict[str, str], changed: dict[str, set[int]]) -> None:
        self.renames = renames
        self._changed = changed

    def head_path(self, p: str) -> str:
        return self.renames.get(p, p)

    def is_changed(self, path: str, line: int) -> bool:
        return line in self._changed.get(path, set())

    def changed_files(self, files: list[str]) -> list[str]:
        return sorted(p for p in files if self._changed.get(p))


def _finding(rnd: random.Random, n: int) -> Finding:
    path = rnd.choice(["src/a.js", "src/b.js", "package.json", "old/a.js"])
    return Finding(rule_id=rnd.choice(["r1", "r2"]), category="filesystem",
                   severity=rnd.choice(["blocker", "warning", "info"]), path=path, line=rnd.randint(1, 12),
                   column=1, end_line=1, message="m", snippet=rnd.choice(["f(x)", "f( x )", "g()"]), context="runtime",
                   remediation="r", fingerprint=f"fp{rnd.randint(0, 6)}", symbol=rnd.choice(["", "main", "dep-x"]))


@pytest.mark.parametrize("seed", range(80))
def test_indexed_pairing_agrees_with_the_reference(seed: int):
    rnd = random.Random(seed)
    head = [_finding(rnd, i) for i in range(rnd.randint(0, 40))]
    base = [_finding(rnd, i) for i in range(rnd.randint(0, 40))]
    tree = _Tree({"old/a.js": "src/a.js"} if seed % 3 == 0 else {},
                 {"src/a.js": {rnd.randint(1, 12) for _ in range(4)}, "package.json": {2, 3}})
    deps = [Dependency("npm", "x", "1", "package.json", 2)] if seed % 2 else []
    ref = reference_compare(head, base, tree, deps, deps, ["src/a.js", "src/b.js", "package.json"])
    got = compare(head, base, tree, deps, deps, ["src/a.js", "src/b.js", "package.json"])
    assert [(id(f), why, was) for f, why, was in got.new] == [(id(f), why, was) for f, why, was in ref.new]
    assert [id(f) for f in got.fixed] == [id(f) for f in ref.fixed]
    assert got.moved == ref.moved


def test_pairing_many_identical_findings_is_fast():
    rnd = random.Random(1)
    head = [Finding("r1", "filesystem", "blocker", "src/a.js", i + 2, 1, i + 2, "m", "f(x)", "runtime", "r",
                    fingerprint=f"h{i}", symbol="") for i in range(20_000)]
    base = [Finding("r1", "filesystem", "warning", "src/a.js", i + 1, 1, i + 1, "m", "f(x)", "runtime", "r",
                    fingerprint=f"b{i}", symbol="s") for i in range(20_000)]
    rnd.shuffle(base)
    t0 = time.monotonic()
    got = compare(head, base, _Tree({}, {"src/a.js": set(range(1, 20_002, 2))}), [], [], ["src/a.js"])
    assert time.monotonic() - t0 < 5
    assert len(got.new) == 20_000 and got.fixed == []        # every head finding paired; severity rose
