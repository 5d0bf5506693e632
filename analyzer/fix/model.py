"""What a fix produces: edited files in an in-memory workspace, and a report per fix of what it changed and what
it left for a person. Nothing touches the disk until `Workspace.commit()`."""
from __future__ import annotations

import difflib
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import click

# Every comment a fix writes into source starts with this marker, so a second run can see it and add nothing.
MARK = "cfcompat-fix:"


@dataclass
class FixReport:
    """One fix applied to one place: a sentence per change made and per thing left for a person."""
    fix: str                    # fix id, e.g. "py-asgi-entry", "setting-compat-date"
    rules: tuple[str, ...]      # rule ids of the findings it addresses (what --only matches)
    path: str                   # the main file it concerns ('/'-separated, relative to the root)
    changed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"fix": self.fix, "rules": list(self.rules), "path": self.path, "changed": list(self.changed),
                "left_for_a_person": list(self.left)}


BOM = "\ufeff"
MAX_READ = 16 * 1024 * 1024     # a file the fixes may read or edit (sources are <= 1 MiB, manifests <= 20 MiB)
_BREAK = re.compile(r"\r\n|\r|\n")


class FixWriteError(click.ClickException):
    """`fix --write` could not write a file: one line naming it (the CLI prints it and exits 2)."""


@dataclass
class _Form:
    """How a file was stored: a byte-order mark, and the line break after each line (CRLF, LF or CR)."""
    bom: bool
    breaks: list[str]

    def uniform(self) -> str | None:
        kinds = set(self.breaks)
        return kinds.pop() if len(kinds) == 1 else ("\n" if not kinds else None)


def _split(text: str) -> list[str]:
    """Lines with their line break kept, split on CR, LF and CRLF only (str.splitlines also splits on form
    feeds and other characters that are not line breaks in source code)."""
    out = []
    pos = 0
    for m in _BREAK.finditer(text):
        out.append(text[pos:m.end()])
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return out


class Workspace:
    """Files of the project as the fixes see them: reads go through pending edits, writes stay in memory.

    The file system rule: only regular files inside the root are read or written, never through a symbolic
    link (the file itself or any folder on its path), never a FIFO, device or socket. A path that breaks it
    reads as absent but `exists` (so no fix creates a file in its place), and a write to it is refused and
    reported (`refused`). Fixes see text with LF line breaks and no byte-order mark; `commit` and `diff` put
    back the file's own line breaks (CRLF, CR, or each line's own in a mixed file) and its byte-order mark, so a
    fix changes only the lines it means to, and the diff shows exactly the bytes that change. `commit` writes
    every file to a temporary file in its own folder first and renames them into place only when all were
    written (a full disk leaves every file as it was)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._real = Path(os.path.realpath(self.root))
        self._orig: dict[str, str | None] = {}
        self._cur: dict[str, str] = {}
        self._form: dict[str, _Form] = {}
        self._blocked: dict[str, str] = {}
        self.refused: dict[str, str] = {}       # path -> why a fix's write to it was not done
        self._made: list[Path] = []

    # ------------------------------------------------------------------ the file system rule
    def _check(self, rel: str) -> str | None:
        """Why REL may not be read or written, or None (a regular file inside the root, or nothing there yet
        below real folders inside the root)."""
        parts = rel.split("/")
        if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
            return "the path leaves the repository"
        cur = self._real
        for i, part in enumerate(parts):
            cur = cur / part
            try:
                st = os.lstat(cur)
            except FileNotFoundError:
                return None
            except OSError as exc:
                return f"cannot be read ({exc.strerror or exc})"
            last = i == len(parts) - 1
            where = "it" if last else "/".join(parts[:i + 1])
            if stat.S_ISLNK(st.st_mode):
                return "it is a symbolic link" if last else f"{where} is a symbolic link"
            if last and not stat.S_ISREG(st.st_mode):
                return "it is not a regular file"
            if not last and not stat.S_ISDIR(st.st_mode):
                return f"{where} is not a folder"
        return None

    def blocked(self, rel: str) -> str | None:
        """Why REL can be neither read nor written (a link, not a regular file, unreadable), or None."""
        self._load(rel)
        return self._blocked.get(rel)

    def refuse(self, rel: str, why: str | None = None) -> None:
        self.refused.setdefault(rel, why or self._blocked.get(rel) or "it cannot be written")

    def _load(self, rel: str) -> str | None:
        if rel not in self._orig:
            self._orig[rel] = None
            why = self._check(rel)
            if why is not None:
                self._blocked[rel] = why
                return None
            try:
                data = self._read_bytes(self._real / rel)
            except FileNotFoundError:
                return None
            except _Unfit as exc:
                self._blocked[rel] = str(exc)
                return None
            except OSError as exc:
                self._blocked[rel] = f"cannot be read ({exc.strerror or exc})"
                return None
            bom = data.startswith(BOM.encode())
            try:
                text = data[3 if bom else 0:].decode("utf-8")
            except UnicodeDecodeError:
                self._blocked[rel] = "it is not valid UTF-8"
                return None
            lines = _split(text)
            self._form[rel] = _Form(bom, [m.group(0) for ln in lines for m in [_BREAK.search(ln)] if m])
            self._orig[rel] = _BREAK.sub("\n", text)
        return self._orig[rel]

    @staticmethod
    def _read_bytes(path: Path) -> bytes:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise _Unfit("it is not a regular file")
            if st.st_size > MAX_READ:
                raise _Unfit(f"it is too large ({st.st_size // (1024 * 1024)} MiB)")
            chunks = []
            while True:
                chunk = os.read(fd, 1024 * 1024)
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ what the fixes use
    def read(self, rel: str) -> str | None:
        if rel in self._cur:
            return self._cur[rel]
        return self._load(rel)

    def exists(self, rel: str) -> bool:
        return self.read(rel) is not None or rel in self._blocked

    def write(self, rel: str, text: str) -> None:
        self._load(rel)
        if rel in self._blocked:
            self.refuse(rel)
            return
        self._cur[rel] = text

    def changes(self) -> list[tuple[str, str | None, str]]:
        """(path, before or None for a new file, after) of every file whose text changed, sorted by path."""
        out = []
        for rel in sorted(self._cur):
            before = self._orig.get(rel)
            if before != self._cur[rel]:
                out.append((rel, before, self._cur[rel]))
        return out

    # ------------------------------------------------------------------ on disk
    def _stored(self, rel: str, text: str | None) -> str | None:
        """TEXT (LF line breaks, no byte-order mark) as REL stores it: its line breaks and mark put back."""
        form = self._form.get(rel)
        if text is None or form is None:
            return text
        kind = form.uniform()
        if kind is not None:
            out = text if kind == "\n" else text.replace("\n", kind)
        else:
            out = self._mixed(rel, form, text)
        return (BOM if form.bom else "") + out

    def _mixed(self, rel: str, form: _Form, text: str) -> str:
        """A file with mixed line breaks: an unchanged line keeps its own, a new line gets the commonest."""
        old = (self._orig.get(rel) or "").split("\n")
        new = text.split("\n")
        common = max(set(form.breaks), key=lambda k: (form.breaks.count(k), k))
        breaks: list[str] = []
        sm = difflib.SequenceMatcher(None, old, new)
        for tag, i1, _i2, j1, j2 in sm.get_opcodes():
            for k in range(j2 - j1):
                i = i1 + k
                breaks.append(form.breaks[i] if tag == "equal" and i < len(form.breaks) else common)
        return "".join(line + (breaks[j] if j < len(new) - 1 else "") for j, line in enumerate(new))

    def diff(self) -> str:
        parts = []
        for rel, before, after in self.changes():
            a = _split(self._stored(rel, before) or "")
            b = _split(self._stored(rel, after) or "")
            for lines in (a, b):
                if lines and not lines[-1].endswith(("\n", "\r")):
                    lines[-1] += "\n\\ No newline at end of file\n"
            parts.append("".join(difflib.unified_diff(a, b, "/dev/null" if before is None else f"a/{rel}",
                                                      f"b/{rel}")))
        return "".join(parts)

    def commit(self) -> list[str]:
        """Write the changed files (see the class). Raises FixWriteError naming the file that failed."""
        staged: list[tuple[str, Path, Path]] = []     # (rel, temporary file, target)
        self._made: list[Path] = []                   # folders made for new files (removed again on failure)
        try:
            for rel, _before, after in self.changes():
                staged.append(self._stage(rel, after))
            written = []
            for rel, tmp, target in staged:
                why = self._check(rel)          # again, just before: the tree may have changed meanwhile
                if why is not None:
                    raise FixWriteError(f"{rel}: not written: {why}"
                                        + ("; nothing was written" if not written else
                                           f"; written before it: {', '.join(written)}"))
                try:
                    os.replace(tmp, target)     # a rename replaces a link itself, never writes through it
                except OSError as exc:
                    raise FixWriteError(f"{rel}: cannot write ({exc.strerror or exc})") from None
                written.append(rel)
            staged = []
            self._made = []
            return written
        finally:
            for _rel, tmp, _target in staged:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            for folder in reversed(self._made):
                try:
                    os.rmdir(folder)
                except OSError:
                    pass

    def _stage(self, rel: str, after: str) -> tuple[str, Path, Path]:
        """Write AFTER to a temporary file beside REL (same folder: the rename is atomic)."""
        why = self._check(rel)                  # again: the tree may have changed since it was read
        if why is not None:
            raise FixWriteError(f"{rel}: not written: {why}; nothing was written")
        target = self._real / rel
        try:
            self._make_folders(rel)
            mode = None
            try:
                mode = stat.S_IMODE(os.lstat(target).st_mode)
            except FileNotFoundError:
                pass
            fd, tmp = tempfile.mkstemp(prefix=".cfcompat-", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise FixWriteError(f"{rel}: cannot write ({exc.strerror or exc}); nothing was written") from None
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write((self._stored(rel, after) or "").encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
            if mode is not None:
                os.chmod(tmp, mode)
        except OSError as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise FixWriteError(f"{rel}: cannot write ({exc.strerror or exc}); nothing was written") from None
        return rel, Path(tmp), target

    def _make_folders(self, rel: str) -> None:
        cur = self._real
        for part in rel.split("/")[:-1]:
            cur = cur / part
            try:
                os.mkdir(cur)
                self._made.append(cur)
            except FileExistsError:
                st = os.lstat(cur)
                if not stat.S_ISDIR(st.st_mode):
                    raise FixWriteError(f"{rel}: not written: {cur.relative_to(self._real)} is not a folder") from None


class _Unfit(Exception):
    """A file the workspace does not read (the message says why)."""
