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
"""
from __future__ import annotations

import difflib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# Blobs larger than this are written to the base tree as sparse files of the same size (the rules that look at
# big files, model weights, use their size; cfcompat does not parse files over 1 MiB by default).
SPARSE_OVER = 64 * 1024 * 1024

_SAFE_CONFIG = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "core.untrackedCache=false",
                "-c", "diff.external=", "-c", "core.pager=cat", "-c", "color.ui=false")
_STRIP_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
              "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_EXTERNAL_DIFF",
              "GIT_PAGER", "GIT_EDITOR", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS", "GIT_CONFIG_PARAMETERS",
              "GIT_CONFIG_COUNT", "GIT_TRACE", "GIT_TRACE2", "GIT_TRACE2_EVENT", "GIT_TRACE2_PERF")


class GitError(Exception):
    """A git problem the user must fix (not a repository, unknown REF, git missing): one line, exit 2."""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _STRIP_ENV and not k.startswith("GIT_CONFIG_KEY_")
           and not k.startswith("GIT_CONFIG_VALUE_")}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", GIT_PAGER="cat", LC_ALL="C", LANG="C")
    return env


def git(cwd: Path, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    """Run `git -C cwd <safe config> args...` and return stdout. Raises GitError with git's own first line."""
    cmd = ["git", "-C", str(cwd), *_SAFE_CONFIG, *args]
    try:
        proc = subprocess.run(cmd, input=input, capture_output=True, env=_env(), timeout=600)
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH); --diff-base needs it") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than 10 minutes") from None
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        first = next((m for m in msg if m.startswith(("fatal:", "error:"))), msg[0] if msg else "")
        raise GitError(f"git {args[0]} failed: {first or f'exit status {proc.returncode}'}")
    return proc.stdout


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

    def extract_tree(self, commit: str, dest: Path) -> list[str]:
        """Write the files of COMMIT under the scanned folder into DEST (raw objects: no filters run).
        Symbolic links and submodules are skipped. Returns the paths written (relative, '/')."""
        out = git(self.toplevel, "ls-tree", "-r", "-z", "--full-tree", "-l", commit)
        entries: list[tuple[str, str, int]] = []
        for rec in out.split(b"\x00"):
            if not rec:
                continue
            meta, _, raw_path = rec.partition(b"\t")
            fields = meta.split()
            if len(fields) < 4 or fields[1] != b"blob" or fields[0] not in (b"100644", b"100755", b"100664"):
                continue
            rel = _rel(self, raw_path)
            if rel is None or not _safe_rel(rel):
                continue
            size = int(fields[3]) if fields[3].isdigit() else 0
            entries.append((rel, fields[2].decode("ascii"), size))
        small = [(rel, oid) for rel, oid, size in entries if size <= SPARSE_OVER]
        for rel, _oid, size in entries:
            if size > SPARSE_OVER:
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "wb") as fh:
                    fh.truncate(size)
        if small:
            _write_blobs(self.toplevel, small, dest)
        return [rel for rel, _oid, _size in entries]


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


def _write_blobs(toplevel: Path, items: list[tuple[str, str]], dest: Path, batch: int = 2000) -> None:
    """`git cat-file --batch` the objects and write each to DEST/rel."""
    for start in range(0, len(items), batch):
        chunk = items[start:start + batch]
        data = git(toplevel, "cat-file", "--batch", input="".join(oid + "\n" for _rel, oid in chunk).encode())
        pos = 0
        for rel, oid in chunk:
            nl = data.index(b"\n", pos)
            header = data[pos:nl].split()
            pos = nl + 1
            if len(header) < 3 or header[1] == b"missing":
                continue
            size = int(header[2])
            blob = data[pos:pos + size]
            pos += size + 1   # the blob is followed by a newline
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)


def changed_lines(old: bytes | None, new: bytes | None) -> set[int] | None:
    """1-based lines of NEW that differ from OLD (inserted or replaced). None: every line (new file).
    Line endings are ignored (CRLF checkouts compare equal to LF blobs)."""
    if new is None:
        return set()
    if old is None:
        return None
    if old == new:
        return set()
    a = [ln.rstrip(b"\r") for ln in old.split(b"\n")]
    b = [ln.rstrip(b"\r") for ln in new.split(b"\n")]
    out: set[int] = set()
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, _i1, _i2, j1, j2 in sm.get_opcodes():
        if tag in ("replace", "insert"):
            out.update(range(j1 + 1, j2 + 1))
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
    _tmp: tempfile.TemporaryDirectory | None = None
    _cache: dict[str, set[int] | None] = field(default_factory=dict)

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
        self._tmp = tempfile.TemporaryDirectory(prefix="cfcompat-base-")
        self.folder = Path(self._tmp.name) / "base"
        self.folder.mkdir()
        self.files = self.repo.extract_tree(self.commit, self.folder)
        if self.head and self.head != self.commit:
            self.renames = self.repo.renames(self.commit, self.head)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def base_path(self, head_path: str) -> str:
        """The path HEAD_PATH had at the base (follows renames)."""
        for old, new in self.renames.items():
            if new == head_path:
                return old
        return head_path

    def head_path(self, base_path: str) -> str:
        return self.renames.get(base_path, base_path)

    def changed(self, head_path: str) -> set[int] | None:
        """Lines of HEAD_PATH (working tree) changed since the base; None when the file is new."""
        if head_path not in self._cache:
            self._cache[head_path] = changed_lines(self._read(self.folder, self.base_path(head_path)),
                                                   self._read(self.repo.path, head_path))
        return self._cache[head_path]

    def is_changed(self, head_path: str, line: int) -> bool:
        c = self.changed(head_path)
        return c is None or line in c

    def changed_files(self, head_files: list[str]) -> list[str]:
        """HEAD files that differ from the base (added or modified), sorted."""
        return sorted(p for p in head_files if self.changed(p) != set())

    @staticmethod
    def _read(root: Path, rel: str) -> bytes | None:
        try:
            p = root / rel
            if p.is_symlink() or not p.is_file():
                return None
            return p.read_bytes()
        except OSError:
            return None


def repository_prefix(path: Path) -> tuple[str, list[tuple[str, str, str]]]:
    """Where the scanned folder sits in its repository: ('' | 'services/chat/', replay checks).

    The repository is the git work tree holding PATH (`git rev-parse --show-prefix`, with the hardened
    invocation above); when git cannot say (not a work tree, git missing, a `safe.directory` refusal) and PATH is
    inside `$GITHUB_WORKSPACE`, the prefix is relative to that; otherwise PATH is its own root (''). The checks
    (`exists` of `.git` in PATH and each folder above it, up to the work tree's root) let a replayed scan notice
    a repository created or removed around PATH."""
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
    checks: list[tuple[str, str, str]] = []
    for folder in (path, *path.parents):
        marker = folder / ".git"
        checks.append(("exists", str(marker), "1" if os.path.exists(marker) else "0"))
        if top is not None and folder == top:
            break
    prefix = prefix.replace("\\", "/").strip("/")
    return (prefix + "/" if prefix else ""), checks
