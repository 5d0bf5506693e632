"""Git on the analyzer's side: what changed since a base REF, and the base tree's files.

cfcompat reads a repository it does not trust, so git is driven defensively:

- always the git CLI (`git -C PATH ...`) from a clean environment (`GIT_DIR`, `GIT_WORK_TREE`,
  `GIT_INDEX_FILE` ... removed, `GIT_TERMINAL_PROMPT=0`, `GIT_OPTIONAL_LOCKS=0`, no pager);
- `-c core.hooksPath=/dev/null -c core.fsmonitor=false` on every call, `--no-ext-diff --no-textconv` on
  every diff, so no hook, fsmonitor, external diff or textconv command named in the repository's config runs;
- the base tree is read as raw objects (`git ls-tree` + `git cat-file --batch`), never checked out or
  archived, because checkout and `git archive` apply smudge filters (commands from the config);
- the working tree is never diffed by git (that would run clean filters): changed lines are computed here, in
  Python, from the raw base blob and the file on disk.

What "changed since REF" means (the PR-bot mode): the base is the merge-base of REF and HEAD (what GitHub
shows as a pull request's changes; REF itself when the histories share no commit), and the head is the
working tree (HEAD plus uncommitted and untracked, not ignored, files: exactly what `cfcompat scan` reads).
In CI the working tree is the checked-out commit. File renames between the base and HEAD commits come from
`git diff -M --name-status` (a tree-to-tree diff on raw objects).

Bounds (a hostile or unlucky repository must not exhaust the machine):
- the base tree is listed before anything is written; more than `MAX_BASE_FILES` files or `MAX_BASE_BYTES` of
  content under the scanned folder is a one-line error, nothing is extracted;
- blobs are streamed from one `git cat-file --batch` into their files (memory does not grow with blob size);
- the temporary folder is removed on every exit, SIGTERM and SIGHUP included;
- the changed lines of a file come from a near-linear diff (`changed_lines`: common prefix and suffix, lines
  only one side has, unique-line anchors; Python's SequenceMatcher only on small gaps, because it is cubic on
  repetitive input); an anchorless large gap counts as changed, which only makes pairing more careful;
- a deadline (`--max-seconds`) stops the extraction and the line diffs; what was cut is marked `cut` and the
  scan reports `partial: true`.
"""
from __future__ import annotations

import contextlib
import difflib
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import inputs

# Blobs larger than this are written to the base tree as sparse files of the same size (the rules that look at
# big files, model weights, use their size; cfcompat does not parse files over 1 MiB by default).
SPARSE_OVER = 64 * 1024 * 1024
# What the base extraction may write under the scanned folder (files, bytes of content; sparse files count as
# files only). Over either: a one-line error before anything is written.
MAX_BASE_FILES = int(os.environ.get("CFCOMPAT_DIFF_MAX_FILES", "250000"))
MAX_BASE_BYTES = int(os.environ.get("CFCOMPAT_DIFF_MAX_BYTES", str(2 * 1024 ** 3)))
# Files above this (either side) are not diffed line by line: when their bytes differ every line counts as changed.
DIFF_MAX_BYTES = 8 * 1024 * 1024
_CHUNK = 1024 * 1024

_SAFE_CONFIG = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "core.untrackedCache=false",
                "-c", "diff.external=", "-c", "core.pager=cat", "-c", "color.ui=false")
_STRIP_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
              "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_EXTERNAL_DIFF",
              "GIT_PAGER", "GIT_EDITOR", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS", "GIT_CONFIG_PARAMETERS",
              "GIT_CONFIG_COUNT", "GIT_TRACE", "GIT_TRACE2", "GIT_TRACE2_EVENT", "GIT_TRACE2_PERF")


class GitError(Exception):
    """A git problem the user must fix (not a repository, unknown REF, git missing): one line, exit 2."""


class _Cut(Exception):
    """The deadline passed while the base tree was being extracted."""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _STRIP_ENV and not k.startswith("GIT_CONFIG_KEY_")
           and not k.startswith("GIT_CONFIG_VALUE_")}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", GIT_PAGER="cat", LC_ALL="C", LANG="C")
    return env


def git(cwd: Path, *args: str, input: bytes | None = None, check: bool = True,
        env: dict[str, str] | None = None) -> bytes:
    """Run `git -C cwd <safe config> args...` and return stdout. Raises GitError with git's own first line.
    ENV: extra variables (added to the cleaned environment)."""
    cmd = ["git", "-C", str(cwd), *_SAFE_CONFIG, *args]
    try:
        proc = subprocess.run(cmd, input=input, capture_output=True, env={**_env(), **(env or {})}, timeout=600)
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH); --diff-base needs it") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than 10 minutes") from None
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        first = next((m for m in msg if m.startswith(("fatal:", "error:"))), msg[0] if msg else "")
        raise GitError(f"git {args[0]} failed: {first or f'exit status {proc.returncode}'}")
    return proc.stdout


def no_filters_env(cwd: Path) -> dict[str, str]:
    """Config (as GIT_CONFIG_COUNT/KEY/VALUE variables: names are taken verbatim) that switches off every filter
    driver the repository's, the user's or the system's config defines, so a git command that reads the work
    tree (status) runs no clean or process filter. Reading config runs nothing."""
    out = git(cwd, "config", "--null", "--name-only", "--get-regexp", r"^filter\.", check=False)
    names = set()
    for raw in out.split(b"\x00"):
        key = raw.decode("utf-8", "surrogateescape")
        if key.lower().startswith("filter.") and key.count(".") >= 2:
            names.add(key[len("filter."):key.rindex(".")])
    env: dict[str, str] = {}
    n = 0
    for name in sorted(names):
        for var, value in (("clean", ""), ("smudge", ""), ("process", ""), ("required", "false")):
            env[f"GIT_CONFIG_KEY_{n}"] = f"filter.{name}.{var}"
            env[f"GIT_CONFIG_VALUE_{n}"] = value
            n += 1
    if n:
        env["GIT_CONFIG_COUNT"] = str(n)
    return env


def worktree_changes(path: Path) -> str | None:
    """`git status --porcelain` of the work tree holding PATH, run with the hardening above plus no filters
    (`no_filters_env`) and without entering submodules; None when PATH is not in a git work tree or git is
    missing."""
    try:
        out = git(path, "rev-parse", "--is-inside-work-tree", check=False)
        if out.strip() != b"true":
            return None
        return _text(git(path, "status", "--porcelain", "--ignore-submodules=all", env=no_filters_env(path)))
    except GitError:
        return None


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape").strip()


def check_ref_syntax(ref: str) -> None:
    if not ref or ref.startswith("-") or any(c in ref for c in "\x00\n\r") or ref.strip() != ref:
        raise GitError(f"--diff-base {ref!r} is not a git ref")


@dataclass
class Repo:
    """A repository seen from the scanned PATH (which may be a sub-folder of it)."""
    path: Path              # the scanned folder
    toplevel: Path          # the repository's root
    prefix: str             # PATH relative to the root, '' or 'sub/dir/'

    @classmethod
    def open(cls, path: Path) -> "Repo":
        path = Path(path).resolve()
        if not path.is_dir():
            raise GitError(f"{path}: no such folder")
        try:
            out = git(path, "rev-parse", "--is-inside-work-tree", "--show-toplevel", "--show-prefix")
        except GitError as exc:
            if "not a git repository" in str(exc).lower():
                raise GitError(f"{path} is not inside a git work tree (--diff-base compares git commits)") from None
            raise   # git's own reason, e.g. "detected dubious ownership" (safe.directory)
        lines = out.decode("utf-8", "surrogateescape").splitlines()
        if len(lines) < 2 or lines[0].strip() != "true":
            raise GitError(f"{path} is not inside a git work tree (--diff-base compares git commits)")
        prefix = lines[2].strip() if len(lines) > 2 else ""
        return cls(path=path, toplevel=Path(lines[1].strip()), prefix=prefix)

    def resolve(self, ref: str) -> str:
        """The commit id REF names; GitError when it names none."""
        check_ref_syntax(ref)
        out = git(self.toplevel, "rev-parse", "--verify", "--quiet", ref + "^{commit}",
                  check=False)
        sha = _text(out)
        if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha):
            hint = " (fetch it first: with actions/checkout use fetch-depth: 0)" if "/" in ref else ""
            raise GitError(f"unknown git ref {ref!r}: no such commit in {self.toplevel}{hint}")
        return sha

    def head(self) -> str | None:
        """HEAD's commit id, or None in a repository with no commit yet."""
        out = git(self.toplevel, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
        sha = _text(out)
        return sha if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha) else None

    def merge_base(self, a: str, b: str) -> str | None:
        out = git(self.toplevel, "merge-base", a, b, check=False)
        sha = _text(out).split("\n")[0] if out else ""
        return sha if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha) else None

    def renames(self, base: str, head: str) -> dict[str, str]:
        """Files renamed between two commits, as {old path: new path}, relative to the scanned folder."""
        out = git(self.toplevel, "diff", "--no-ext-diff", "--no-textconv", "--no-color", "-M", "--name-status",
                  "-z", base, head, "--")
        parts = out.split(b"\x00")
        renames: dict[str, str] = {}
        i = 0
        while i < len(parts):
            status = parts[i].decode("ascii", "replace")
            if not status:
                i += 1
                continue
            if status[:1] in ("R", "C"):
                if i + 2 >= len(parts):
                    break
                old, new = _rel(self, parts[i + 1]), _rel(self, parts[i + 2])
                if status[0] == "R" and old is not None and new is not None:
                    renames[old] = new
                i += 3
            else:
                i += 2
        return renames

    def extract_tree(self, commit: str, dest: Path, deadline: float | None = None) -> list[str]:
        """Write the files of COMMIT under the scanned folder into DEST (raw objects: no filters run).
        Symbolic links and submodules are skipped. Returns the paths written (relative, '/'). GitError when
        the tree is over the bounds (nothing written then); _Cut when DEADLINE passes (what was written stays)."""
        entries: list[tuple[str, str, int]] = []
        with contextlib.closing(_stream_records(self.toplevel, ("ls-tree", "-r", "-z", "--full-tree", "-l",
                                                                commit))) as records:
            self._list(commit, records, entries, deadline)
        small = [(rel, oid) for rel, oid, size in entries if size <= SPARSE_OVER]
        for rel, _oid, size in entries:
            if size > SPARSE_OVER:
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "wb") as fh:
                    fh.truncate(size)
        if small:
            _write_blobs(self.toplevel, small, dest, deadline)
        return [rel for rel, _oid, _size in entries]

    def _list(self, commit: str, records, entries: list[tuple[str, str, int]], deadline: float | None) -> None:
        """Fill ENTRIES with (path, blob id, size) of the regular files in RECORDS (`ls-tree -l -z` output),
        stopping with GitError as soon as a bound is passed (before anything is written)."""
        content = 0
        where = f"the base commit {commit[:12]}" + (f" under {self.prefix.rstrip('/')}" if self.prefix else "")
        for rec in records:
            meta, _, raw_path = rec.partition(b"\t")
            fields = meta.split()
            if len(fields) < 4 or fields[1] != b"blob" or fields[0] not in (b"100644", b"100755", b"100664"):
                continue
            rel = _rel(self, raw_path)
            if rel is None or not _safe_rel(rel):
                continue
            size = int(fields[3]) if fields[3].isdigit() else 0
            entries.append((rel, fields[2].decode("ascii"), size))
            if size <= SPARSE_OVER:
                content += size
            if len(entries) > MAX_BASE_FILES:
                raise GitError(f"--diff-base: {where} holds more than {MAX_BASE_FILES:,} files; cfcompat "
                               "extracts at most that many (CFCOMPAT_DIFF_MAX_FILES)")
            if content > MAX_BASE_BYTES:
                raise GitError(f"--diff-base: {where} holds more than {_human(MAX_BASE_BYTES)} of files; "
                               "cfcompat extracts at most that much (CFCOMPAT_DIFF_MAX_BYTES)")
            if deadline is not None and len(entries) % 1024 == 0 and time.monotonic() > deadline:
                raise _Cut()


def _human(n: int) -> str:
    if n >= 1024 ** 3:
        return f"{n / 1024 ** 3:g} GiB"
    return f"{n / 1024 ** 2:g} MiB" if n >= 1024 ** 2 else f"{n:,} bytes"


def _popen(cwd: Path, *args: str, stdin: bool = False) -> subprocess.Popen:
    cmd = ["git", "-C", str(cwd), *_SAFE_CONFIG, *args]
    try:
        return subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=_env())
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH); --diff-base needs it") from None


def _finish(proc: subprocess.Popen, what: str, check: bool) -> None:
    """Stop PROC and raise git's error when CHECK. With CHECK the output was read to the end and git gets a
    moment to exit; without, it is killed (the caller stopped reading)."""
    if check:
        for f in (proc.stdin, proc.stdout):
            try:
                if f is not None:
                    f.close()
            except (OSError, ValueError):
                pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    if proc.poll() is None:
        proc.kill()
    err = b""
    try:
        if proc.stderr is not None:
            err = proc.stderr.read(64 * 1024)
    except (OSError, ValueError):
        pass
    for f in (proc.stdin, proc.stdout, proc.stderr):
        try:
            if f is not None:
                f.close()
        except (OSError, ValueError):
            pass
    rc = proc.wait()
    if check and rc != 0:
        msg = err.decode("utf-8", "replace").strip().splitlines()
        first = next((m for m in msg if m.startswith(("fatal:", "error:"))), msg[0] if msg else "")
        raise GitError(f"git {what} failed: {first or f'exit status {rc}'}")


def _stream_records(cwd: Path, args: tuple[str, ...]):
    """The NUL-terminated records of `git ARGS` as they arrive (the output is never held whole)."""
    proc = _popen(cwd, *args)
    ok = False
    try:
        buf = b""
        assert proc.stdout is not None
        while True:
            chunk = proc.stdout.read1(_CHUNK) if hasattr(proc.stdout, "read1") else proc.stdout.read(_CHUNK)
            if not chunk:
                break
            buf += chunk
            *recs, buf = buf.split(b"\x00")
            yield from recs
        if buf:
            yield buf
        ok = True
    finally:
        _finish(proc, args[0], check=ok)


def _rel(repo: Repo, raw: bytes) -> str | None:
    """A repository path relative to the scanned folder, or None outside it."""
    p = raw.decode("utf-8", "surrogateescape")
    if repo.prefix:
        if not p.startswith(repo.prefix):
            return None
        p = p[len(repo.prefix):]
    return p


def _safe_rel(rel: str) -> bool:
    pp = PurePosixPath(rel)
    return bool(rel) and not pp.is_absolute() and ".." not in pp.parts and ".git" not in pp.parts


def _write_blobs(toplevel: Path, items: list[tuple[str, str]], dest: Path, deadline: float | None = None) -> None:
    """Stream the objects out of one `git cat-file --batch` and write each to DEST/rel, a chunk at a time."""
    proc = _popen(toplevel, "cat-file", "--batch", stdin=True)

    def feed() -> None:
        try:
            assert proc.stdin is not None
            for _rel, oid in items:
                proc.stdin.write(oid.encode("ascii") + b"\n")
            proc.stdin.close()
        except (OSError, ValueError):
            pass    # git went away (killed when we stopped reading): its exit status tells

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    ok = False
    try:
        out = proc.stdout
        assert out is not None
        for n, (rel, _oid) in enumerate(items):
            if deadline is not None and n % 64 == 0 and time.monotonic() > deadline:
                raise _Cut()
            header = out.readline(4096).split()
            if len(header) < 2:
                raise GitError("git cat-file failed: its output ended early")
            if header[1] == b"missing" or len(header) < 3 or not header[2].isdigit():
                continue
            size = int(header[2])
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as fh:
                left = size
                while left:
                    chunk = out.read(min(left, _CHUNK))
                    if not chunk:
                        raise GitError("git cat-file failed: its output ended early")
                    fh.write(chunk)
                    left -= len(chunk)
                    if deadline is not None and time.monotonic() > deadline:
                        raise _Cut()
            out.read(1)   # the blob is followed by a newline
        ok = True
    finally:
        if ok:
            writer.join(timeout=30)
        _finish(proc, "cat-file", check=ok)
        writer.join(timeout=5)


def changed_lines(old: bytes | None, new: bytes | None) -> set[int] | None:
    """1-based lines of NEW that differ from OLD (inserted or replaced). None: every line (a new file, or one
    over DIFF_MAX_BYTES whose bytes differ).
    Line endings are ignored (CRLF checkouts compare equal to LF blobs). Near-linear whatever the input (see
    `_diff`)."""
    if new is None:
        return set()
    if old is None:
        return None
    if old == new:
        return set()
    if len(old) > DIFF_MAX_BYTES or len(new) > DIFF_MAX_BYTES:
        return None
    b = [ln.rstrip(b"\r") for ln in new.split(b"\n")]
    a = [ln.rstrip(b"\r") for ln in old.split(b"\n")]
    return _diff(a, b)


SMALL_GAP = 10_000     # len(a) * len(b) up to which SequenceMatcher decides (its worst case is ~cubic)


def _sm_changed(a: list, b: list) -> list[int]:
    """Indexes of B that SequenceMatcher sees as inserted or replaced."""
    out: list[int] = []
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, _i1, _i2, j1, j2 in sm.get_opcodes():
        if tag in ("replace", "insert"):
            out.extend(range(j1, j2))
    return out


def _lis(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest chain of PAIRS (sorted by their second item) increasing in the first (patience sorting)."""
    tails: list[int] = []
    tail_at: list[int] = []
    back: list[int] = [-1] * len(pairs)
    for k, (i, _j) in enumerate(pairs):
        pos = bisect_left(tails, i)
        if pos == len(tails):
            tails.append(i)
            tail_at.append(k)
        else:
            tails[pos] = i
            tail_at[pos] = k
        back[k] = tail_at[pos - 1] if pos else -1
    out = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        out.append(pairs[k])
        k = back[k]
    return out[::-1]


def _diff(a: list[bytes], b: list[bytes]) -> set[int]:
    """Changed 1-based lines of B. Small inputs: exactly SequenceMatcher's answer. Larger ones, gap by gap: drop
    the common prefix and suffix; lines only one side has are changed (B) or deleted (A) and leave the gap; the
    lines unique on both sides, in the longest order-preserving chain, are anchors that split the gap; a gap
    small enough goes to SequenceMatcher, a large one without anchors counts as changed. A work budget
    proportional to the input keeps degenerate inputs near-linear (what is left over counts as changed)."""
    if len(a) * len(b) <= SMALL_GAP:
        return {j + 1 for j in _sm_changed(a, b)}
    ids: dict[bytes, int] = {}
    ai = [ids.setdefault(x, len(ids)) for x in a]
    bi = [ids.setdefault(x, len(ids)) for x in b]
    out: set[int] = set()
    budget = 32 * (len(a) + len(b)) + 4 * SMALL_GAP
    stack: list[tuple[list[int], list[int]]] = [(list(range(len(a))), list(range(len(b))))]
    while stack:
        xa, xb = stack.pop()
        budget -= len(xa) + len(xb)
        if budget < 0:
            out.update(j + 1 for j in xb)
            for _xa, rest in stack:
                out.update(j + 1 for j in rest)
            break
        lo = 0
        while lo < len(xa) and lo < len(xb) and ai[xa[lo]] == bi[xb[lo]]:
            lo += 1
        ha, hb = len(xa), len(xb)
        while ha > lo and hb > lo and ai[xa[ha - 1]] == bi[xb[hb - 1]]:
            ha -= 1
            hb -= 1
        xa, xb = xa[lo:ha], xb[lo:hb]
        if not xb:
            continue
        if not xa:
            out.update(j + 1 for j in xb)
            continue
        va = {ai[i] for i in xa}
        vb = {bi[j] for j in xb}
        ka = [i for i in xa if ai[i] in vb]
        kb = [j for j in xb if bi[j] in va]
        if len(ka) != len(xa) or len(kb) != len(xb):
            out.update(j + 1 for j in xb if bi[j] not in va)
            stack.append((ka, kb))
            continue
        if len(xa) * len(xb) <= SMALL_GAP:
            budget -= len(xa) * len(xb) // 8
            out.update(xb[j] + 1 for j in _sm_changed([ai[i] for i in xa], [bi[j] for j in xb]))
            continue
        count: dict[int, int] = {}
        for i in xa:
            count[ai[i]] = count.get(ai[i], 0) + 1
        pos_a: dict[int, int] = {}
        for k, i in enumerate(xa):
            if count[ai[i]] == 1:
                pos_a[ai[i]] = k
        count_b: dict[int, int] = {}
        for j in xb:
            count_b[bi[j]] = count_b.get(bi[j], 0) + 1
        pairs = [(pos_a[bi[j]], k) for k, j in enumerate(xb) if count_b[bi[j]] == 1 and bi[j] in pos_a]
        chain = _lis(pairs)
        if not chain:
            out.update(j + 1 for j in xb)
            continue
        pa = pb = 0
        for ka_, kb_ in chain:
            stack.append((xa[pa:ka_], xb[pb:kb_]))
            pa, pb = ka_ + 1, kb_ + 1
        stack.append((xa[pa:], xb[pb:]))
    return out


@dataclass
class BaseTree:
    """The base of a diff scan: the commit, a temporary folder holding its files, what changed since."""
    repo: Repo
    ref: str                    # as the user wrote it
    ref_commit: str
    commit: str                 # the merge-base (or REF when none)
    head: str | None            # HEAD's commit (None before the first commit)
    merge_base: bool            # False when REF and HEAD share no history and REF itself is the base
    folder: Path
    files: list[str] = field(default_factory=list)
    renames: dict[str, str] = field(default_factory=dict)   # base path -> head path
    deadline: float | None = None   # time.monotonic() after which extraction and line diffs stop
    cut: bool = False               # the deadline stopped something: the comparison is partial
    _tmp: tempfile.TemporaryDirectory | None = None
    _cache: dict[str, set[int] | None] = field(default_factory=dict)
    _old_handlers: dict[int, object] = field(default_factory=dict)
    _closing: bool = False

    @classmethod
    def prepare(cls, path: Path, ref: str) -> "BaseTree":
        """Check the repository and REF (GitError when unusable) without writing anything yet."""
        repo = Repo.open(path)
        ref_commit = repo.resolve(ref)
        head = repo.head()
        base = repo.merge_base(ref_commit, head) if head else None
        return cls(repo=repo, ref=ref, ref_commit=ref_commit, commit=base or ref_commit, head=head,
                   merge_base=base is not None, folder=Path())

    def __enter__(self) -> "BaseTree":
        self._closing = False
        self._catch_signals()      # before the folder exists: a SIGTERM from here on removes it
        try:
            self._tmp = tempfile.TemporaryDirectory(prefix="cfcompat-base-")
            self.folder = Path(self._tmp.name) / "base"
            self.folder.mkdir()
            try:
                self.files = self.repo.extract_tree(self.commit, self.folder, self.deadline)
            except _Cut:
                self.cut = True
            if self.head and self.head != self.commit:
                self.renames = self.repo.renames(self.commit, self.head)
            self._by_head = {new: old for old, new in self.renames.items()}
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._closing = True       # a second signal while the folder is removed does not interrupt that
        try:
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None
        finally:
            self._restore_signals()

    def _catch_signals(self) -> None:
        """SIGTERM and SIGHUP (a cancelled CI job, a closed terminal) end the run through SystemExit, so the
        temporary folder is removed on the way out (their default action would leave it behind)."""
        if threading.current_thread() is not threading.main_thread():
            return
        owner = os.getpid()

        def handler(signum, _frame):
            if os.getpid() != owner:        # a forked worker process: die the way the signal says
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)
                return
            if self._closing:
                return
            raise SystemExit(128 + signum)

        for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if sig is None:
                continue
            try:
                self._old_handlers[sig] = signal.signal(sig, handler)
            except (ValueError, OSError):   # pragma: no cover - not the main thread / not supported
                pass

    def _restore_signals(self) -> None:
        for sig, old in self._old_handlers.items():
            try:
                signal.signal(sig, old)  # type: ignore[arg-type]
            except (ValueError, OSError, TypeError):   # pragma: no cover
                pass
        self._old_handlers.clear()

    def base_path(self, head_path: str) -> str:
        """The path HEAD_PATH had at the base (follows renames)."""
        by_head = getattr(self, "_by_head", None)
        if by_head is None or len(by_head) != len(self.renames):
            self._by_head = by_head = {new: old for old, new in self.renames.items()}
        return by_head.get(head_path, head_path)

    def head_path(self, base_path: str) -> str:
        return self.renames.get(base_path, base_path)

    def changed(self, head_path: str) -> set[int] | None:
        """Lines of HEAD_PATH (working tree) changed since the base; None for every line (a new file, one too
        big to diff, or one the deadline left undiffed)."""
        if head_path not in self._cache:
            old_p, new_p = self.folder / self.base_path(head_path), self.repo.path / head_path
            old_size, new_size = _regular(old_p), _regular(new_p)
            late = self.deadline is not None and time.monotonic() > self.deadline
            if late:
                self.cut = True
            if new_size is None:
                c: set[int] | None = set()
            elif old_size is None:
                c = None
            elif late or old_size > DIFF_MAX_BYTES or new_size > DIFF_MAX_BYTES:
                c = set() if _same_file(old_p, new_p) else None
            else:
                c = changed_lines(self._read(old_p), self._read(new_p))
            self._cache[head_path] = c
        return self._cache[head_path]

    def is_changed(self, head_path: str, line: int) -> bool:
        c = self.changed(head_path)
        return c is None or line in c

    def changed_files(self, head_files: list[str]) -> list[str]:
        """HEAD files that differ from the base (added or modified), sorted."""
        return sorted(p for p in head_files if self.changed(p) != set())

    @staticmethod
    def _read(p: Path) -> bytes | None:
        try:
            return p.read_bytes() if _regular(p) is not None else None
        except OSError:
            return None


def _regular(p: Path) -> int | None:
    """The size of P when it is a regular file (a link is not), else None."""
    import stat as _stat
    try:
        st = os.lstat(p)
    except (OSError, ValueError):
        return None
    return st.st_size if _stat.S_ISREG(st.st_mode) else None


def _same_file(a: Path, b: Path) -> bool:
    """Both regular files with the same bytes (compared a chunk at a time)."""
    sa, sb = _regular(a), _regular(b)
    if sa is None or sb is None or sa != sb:
        return False
    try:
        with open(a, "rb") as fa, open(b, "rb") as fb:
            while True:
                x, y = fa.read(_CHUNK), fb.read(_CHUNK)
                if x != y:
                    return False
                if not x:
                    return True
    except OSError:
        return False


def repository_prefix(path: Path) -> str:
    """Where the scanned folder sits in its repository: '' or 'services/chat/'.

    The repository is the git work tree holding PATH (`git rev-parse --show-prefix`, with the hardened
    invocation above); when git cannot say (not a work tree, git missing, a `safe.directory` refusal) and PATH is
    inside `$GITHUB_WORKSPACE`, the prefix is relative to that; otherwise PATH is its own root (''). Whether
    `.git` exists in PATH and each folder above it (up to the work tree's root) is read through `inputs`, so a
    replayed scan notices a repository created or removed around PATH."""
    path = Path(path).resolve()
    prefix = ""
    top: Path | None = None
    try:
        repo = Repo.open(path)
        prefix, top = repo.prefix, repo.toplevel.resolve()
    except (GitError, OSError):
        ws = os.environ.get("GITHUB_WORKSPACE")
        if ws:
            try:
                rel = path.relative_to(Path(ws).resolve())
                prefix = "" if str(rel) == "." else rel.as_posix() + "/"
            except (ValueError, OSError):
                prefix = ""
    for folder in (path, *path.parents):
        inputs.exists(None, str(folder / ".git"))
        if top is not None and folder == top:
            break
    prefix = prefix.replace("\\", "/").strip("/")
    return prefix + "/" if prefix else ""
