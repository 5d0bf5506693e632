"""The one way a scan reads its inputs: files, folder listings, "is there a file here", sizes.

Every read of the scanned repository (and of any other file a scan takes as input, such as `--config FILE`)
goes through this module; `tests/test_inputs.py` walks the syntax trees of `analyzer/` and `rules/classes/`
and fails when another module opens, lists or probes files on its own. Two things follow from that:

- **One file-system rule.** Only regular files inside the root are read. A path that leaves the root (`..`,
  absolute, or through a symlink resolving outside) is refused, and so are FIFOs, sockets and devices: the
  type is checked with `lstat` before opening, and the file is opened with `O_NONBLOCK` and checked again on
  the descriptor, so a file swapped for a FIFO in between still cannot block the scan. Every read has a size
  cap (`limit`). A refusal raises `InputError`, whose `kind` the caller turns into its own one-line message.
- **Every read is recorded.** While a caching call runs (`caching.run` sets a `Recorder` for its duration with
  `recording()`), each read notes a *check*: what it depended on, as `(kind, root, rel, signature)`:

  | kind   | from                          | signature                                                          |
  |--------|-------------------------------|--------------------------------------------------------------------|
  | `sha`  | `read_bytes`, `read_text`, `digest` | `<size>:<SHA-256>` of the bytes, `big:<size>` when over the cap, or what stood there instead (`absent`, `dir`, `special`, `outside`, `broken`, `error:<errno>`) |
  | `list` | `scandir`                     | hash of the entries' names and types (a symlink: where it resolves and what is there) |
  | `lsize`| `scandir(sizes=True)`         | the same with every non-folder entry's size                        |
  | `size` | `Entry.size`                  | the size of a regular file, else what stood there                  |
  | `kind` | `kind`, `is_file`, `is_dir`, `exists` | `file`, `dir`, `link`, `absent`, `special`, `outside`, `broken`, `error:...` |
  | `real` | `resolve`                     | the real path                                                      |

  `signature(kind, root, rel)` computes the same signature again from the file system; the caching package
  stores a scan's outputs with its checks and serves them only while every check still holds (a scan reads
  nothing else, so nothing else can change its outputs). A reader that forgets nothing cannot make a cache
  stale, and a new reader has nothing to register.

A `root` of None (or "") means an absolute path outside any root (the `--config` file, the folder given on the
command line): read with the same type checks but no confinement. Standard library only: the console
script's replay (caching/records.py) re-evaluates checks without importing the analyzer.
"""
from __future__ import annotations

import contextvars
import errno
import os
import stat

try:    # the interpreter's own SHA-256: importing hashlib starts OpenSSL (~4 ms of a ~35 ms replay); but it
    # hashes at ~135 MB/s against OpenSSL's ~850, so once a run has hashed 512 KiB `digest` moves to hashlib
    from _sha256 import sha256          # CPython 3.10, 3.11
except ImportError:
    try:
        from _sha2 import sha256        # type: ignore[no-redef]  # CPython 3.12+
    except ImportError:
        from hashlib import sha256      # type: ignore[no-redef]

DEFAULT_LIMIT = 64 * 1024 * 1024     # no reader needs more; each passes its own, smaller cap
MANIFEST_LIMIT = 20 * 1024 * 1024    # package.json, lockfiles, requirements...
CONFIG_LIMIT = 4 * 1024 * 1024       # tsconfig.json, wrangler config, cfcompat.toml, ignore files, .env files
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


# -- the cache folder and digests (shared with caching/) ----------------------------------------------------------

def cache_dir() -> str:
    """The user's cache folder for cfcompat: $CFCOMPAT_CACHE_DIR, else $XDG_CACHE_HOME/cfcompat, else
    ~/.cache/cfcompat."""
    if os.environ.get("CFCOMPAT_CACHE_DIR"):
        return os.environ["CFCOMPAT_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "cfcompat")


_OPENSSL: list = []
_HASHED = [0]
_SWITCH = 512 * 1024


def digest_bytes(data: bytes) -> bytes:
    """SHA-256 of `data`: the built-in module while this run has hashed little (a small repository never pays
    for OpenSSL's start-up), hashlib from 512 KiB on (a big one hashes six times faster)."""
    if not _OPENSSL:
        _HASHED[0] += len(data)
        if _HASHED[0] < _SWITCH:
            return sha256(data).digest()
        import hashlib
        _OPENSSL.append(hashlib.sha256)
    return _OPENSSL[0](data).digest()


# -- refusals ----------------------------------------------------------------------------------------------------

class InputError(Exception):
    """A read refused or failed. `kind`: absent | dir | special | outside | broken | loop | link (not followed) |
    too-large | error;
    `detail`: the operating system's words (kind "error"), `size`: the file's size (kind "too-large")."""

    MESSAGES = {
        "absent": "file not found",
        "dir": "is a directory, not a file",
        "special": "not a regular file (FIFO, socket or device); not read",
        "outside": "symbolic link points outside the scanned folder; not read",
        "broken": "broken symbolic link; not read",
        "loop": "symbolic link loop; not read",
        "link": "symbolic link; not followed",
    }

    def __init__(self, kind: str, detail: str = "", size: int = 0, code: str = ""):
        self.kind, self.detail, self.size, self.code = kind, detail, size, code
        super().__init__(self.message)

    @property
    def sig(self) -> str:
        """This refusal as a `sha` signature."""
        if self.kind == "too-large":
            return f"big:{self.size}"
        return "error:" + (self.code or self.detail) if self.kind == "error" else self.kind

    @property
    def message(self) -> str:
        if self.kind == "too-large":
            return f"file too large ({self.size / 1048576:.1f} MiB); not read"
        if self.kind == "error":
            return f"cannot read: {self.detail}"
        return self.MESSAGES.get(self.kind, self.kind)


def _error_sig(exc: OSError) -> str:
    return "error:" + (errno.errorcode.get(exc.errno or 0, "") or type(exc).__name__)


def refusal(status: str) -> InputError:
    """The InputError for what `kind` said instead of "file" (its `message` says why a read would refuse)."""
    if status.startswith("error:"):
        code = getattr(errno, status[6:], None)
        return InputError("error", os.strerror(code) if isinstance(code, int) else status[6:], code=status[6:])
    return InputError(status)


# -- the recorder ------------------------------------------------------------------------------------------------

Check = tuple[str, str, str, str]     # (kind, root, rel, signature); root "" for an absolute path


class Recorder:
    """The checks of everything one scan read. `unstable`: paths that gave two different answers during the
    scan (a file edited while it was being scanned): such a scan's outputs must not be stored."""

    def __init__(self) -> None:
        self.checks: dict[tuple[str, str, str], str] = {}
        self.unstable: set[str] = set()
        self.places = _Places()

    def note(self, kind: str, root: str, rel: str, sig: str) -> None:
        key = (kind, root, rel)
        old = self.checks.get(key)
        if old is not None and old != sig:
            if kind == "sha" and _same_size(old, sig):
                if sig.startswith("big:"):   # two readers with different caps: keep the content signature
                    return
            else:
                self.unstable.add(os.path.join(root, rel) if root else rel)
        self.checks[key] = sig

    def merge(self, checks) -> None:
        """Add checks made elsewhere (a worker process's reads)."""
        for kind, root, rel, sig in checks:
            self.note(kind, root, rel, sig)

    def items(self) -> list[Check]:
        """The checks, sorted; a check another one implies is left out: `size` or `kind` of a file read whole
        (its content signature carries the size and says it is a regular file), `kind` of an entry of a folder
        whose listing is a check."""
        out = []
        shas = {(r, p): s for (k, r, p), s in self.checks.items() if k == "sha"}
        listed = {(r, p) for (k, r, p) in self.checks if k in ("list", "lsize")}
        for (kind, root, rel), sig in sorted(self.checks.items()):
            if kind in ("kind", "lkind") and root and rel and (root, rel.rpartition("/")[0]) in listed:
                continue   # the folder's listing says what is there (names, types, where links lead)
            if kind in ("size", "kind"):
                s = shas.get((root, rel))
                if s is not None and ":" in s and not s.startswith(("error:", "big:")):
                    if (kind == "size" and s.split(":", 1)[0] == sig) or (kind == "kind" and sig == "file"):
                        continue
            out.append((kind, root, rel, sig))
        return out


def _same_size(a: str, b: str) -> bool:
    """One `sha` signature is "over the cap" (big:SIZE) and the other the content of a file of that size."""
    if a.startswith("big:") == b.startswith("big:"):
        return False
    big, other = (a, b) if a.startswith("big:") else (b, a)
    return other.split(":", 1)[0] == big[4:]


_CURRENT: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar("cfcompat_inputs", default=None)


class recording:
    """`with recording(rec):` every read made inside the block is recorded into `rec` (None: nothing is)."""

    def __init__(self, rec: Recorder | None):
        self.rec = rec
        self.token = None

    def __enter__(self) -> Recorder | None:
        self.token = _CURRENT.set(self.rec)
        return self.rec

    def __exit__(self, *exc) -> None:
        _CURRENT.reset(self.token)


def current() -> Recorder | None:
    return _CURRENT.get()


def _note(kind: str, root: str, rel: str, sig: str) -> None:
    rec = _CURRENT.get()
    if rec is not None:
        rec.note(kind, root, rel, sig)


# -- where a path leads ------------------------------------------------------------------------------------------

class _Places:
    """Memo of real roots and of the folders known to stay inside them, for one scan (or one replay)."""

    def __init__(self) -> None:
        self.roots: dict[str, str] = {}
        self.dirs: dict[tuple[str, str], str] = {}

    def real_root(self, root: str) -> str:
        r = self.roots.get(root)
        if r is None:
            r = self.roots[root] = os.path.realpath(root)
        return r


def _places() -> _Places:
    rec = _CURRENT.get()
    return rec.places if rec is not None else _Places()


def _root_str(root) -> str:
    return os.path.abspath(os.fspath(root)) if root else ""


def _inside(real: str, real_root: str) -> bool:
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _dir_status(root: str, dirrel: str, places: _Places) -> str:
    """"ok" when folder `dirrel` of `root` is a folder inside the root (each component a folder, or a symlink
    resolving to one inside the root), else why not (absent, outside, broken, loop, error:...)."""
    if not dirrel:
        return "ok"
    key = (root, dirrel)
    got = places.dirs.get(key)
    if got is not None:
        return got
    head, _, _ = dirrel.rpartition("/")
    status = _dir_status(root, head, places)
    if status == "ok":
        path = os.path.join(root, dirrel)
        try:
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                real = os.path.realpath(path)
                if not _inside(real, places.real_root(root)):
                    status = "outside"
                else:
                    status = "ok" if stat.S_ISDIR(os.stat(real).st_mode) else "absent"
            elif not stat.S_ISDIR(st.st_mode):
                status = "absent"
        except (FileNotFoundError, NotADirectoryError):
            status = "absent"
        except OSError as exc:
            status = "loop" if exc.errno == errno.ELOOP else _error_sig(exc)
    places.dirs[key] = status
    return status


_SEP = os.sep


def _plain(rel: str) -> bool:
    """A relative path of plain names: no leading "/", no empty, "." or ".." component."""
    if rel[0] == "/" or rel[-1] == "/" or "//" in rel or (_SEP != "/" and _SEP in rel):
        return False
    if "." not in rel:
        return True
    return not any(p in (".", "..") for p in rel.split("/"))


def _locate(root: str, rel: str, places: _Places, follow: bool = True) -> tuple[str, str, os.stat_result | None]:
    """(status, path to open, stat) of `rel` under `root`: status "file", "dir", "special", "link" (not
    followed), or a failure (absent, outside, broken, loop, error:...). `root` "" means `rel` is an absolute
    path taken as it is (symlinks followed, no confinement)."""
    if not root:
        path = rel
        try:
            st = os.stat(path) if follow else os.lstat(path)
        except FileNotFoundError:
            return "absent", path, None
        except OSError as exc:
            return ("loop" if exc.errno == errno.ELOOP else _error_sig(exc)), path, None
        return _mode_status(st.st_mode), path, st
    if not rel or rel == ".":
        path = root
        rel = ""
    else:
        if not _plain(rel):
            return "outside", "", None
        head = rel.rpartition("/")[0]
        status = _dir_status(root, head, places)
        if status != "ok":
            return status, "", None
        path = root + _SEP + rel if _SEP == "/" else os.path.join(root, rel)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "absent", path, None
    except OSError as exc:
        return _error_sig(exc), path, None
    if stat.S_ISLNK(st.st_mode):
        if not follow:
            return "link", path, st
        real = os.path.realpath(path)
        if not _inside(real, places.real_root(root)):
            return "outside", path, None
        try:
            st = os.stat(real)
        except FileNotFoundError:
            return "broken", path, None
        except OSError as exc:
            return ("loop" if exc.errno == errno.ELOOP else _error_sig(exc)), path, None
        return _mode_status(st.st_mode), real, st
    return _mode_status(st.st_mode), path, st


def _mode_status(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    return "special"


def _read_located(path: str, st: os.stat_result, limit: int) -> bytes:
    """The bytes of a regular file already located; never blocks on a FIFO swapped in meanwhile."""
    if st.st_size > limit:
        raise InputError("too-large", size=st.st_size)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise InputError("absent") from None
    except OSError as exc:
        raise InputError("error", exc.strerror or str(exc), code=_error_sig(exc)[6:]) from None
    try:
        fst = os.fstat(fd)
        if not stat.S_ISREG(fst.st_mode):
            raise InputError("dir" if stat.S_ISDIR(fst.st_mode) else "special")
        if fst.st_size > limit:
            raise InputError("too-large", size=fst.st_size)
        chunks = []
        left = limit + 1
        while left > 0:
            b = os.read(fd, min(left, max(fst.st_size + 1, 65536)))
            if not b:
                break
            chunks.append(b)
            left -= len(b)
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    except OSError as exc:
        raise InputError("error", exc.strerror or str(exc), code=_error_sig(exc)[6:]) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise InputError("too-large", size=len(data))
    return data


def _content(root: str, rel: str, limit: int, places: _Places, follow: bool = True
             ) -> tuple[bytes | None, str, InputError | None]:
    """(bytes or None, the `sha` signature, the refusal)."""
    status, path, st = _locate(root, rel, places, follow)
    if status != "file":
        return None, status, refusal(status)
    try:
        data = _read_located(path, st, limit)  # type: ignore[arg-type]
    except InputError as exc:
        return None, exc.sig, exc
    return data, "", None


# -- reading -----------------------------------------------------------------------------------------------------

def read_bytes(root, rel: str, *, limit: int = DEFAULT_LIMIT, follow: bool = True) -> bytes:
    """The bytes of file `rel` under `root` (a regular file inside the root, at most `limit` bytes), recorded
    as a `sha` check (`follow=False`: a symlink is refused, kind "link"; an `nsha` check). Raises InputError."""
    r = _root_str(root)
    data, sig, exc = _content(r, rel, limit, _places(), follow)
    kind_ = "sha" if follow else "nsha"
    if data is None:
        _note(kind_, r, rel, sig)
        raise exc  # type: ignore[misc]
    if _CURRENT.get() is not None:
        _note(kind_, r, rel, f"{len(data)}:{digest_bytes(data).hex()}")
    return data


def read_text(root, rel: str, *, limit: int = DEFAULT_LIMIT, errors: str = "strict", follow: bool = True) -> str:
    """`read_bytes` decoded as UTF-8 (`errors` as for bytes.decode; "strict" raises UnicodeDecodeError); a
    byte-order mark at the start is not part of the text (editors on Windows write one into JSON and TOML)."""
    return read_bytes(root, rel, limit=limit, follow=follow).decode("utf-8-sig", errors)


def digest(root, rel: str, *, limit: int = DEFAULT_LIMIT) -> bytes | None:
    """SHA-256 of a file's bytes (None when it cannot be read), recorded as a `sha` check."""
    r = _root_str(root)
    data, sig, _ = _content(r, rel, limit, _places())
    if data is None:
        _note("sha", r, rel, sig)
        return None
    d = digest_bytes(data)
    _note("sha", r, rel, f"{len(data)}:{d.hex()}")
    return d


def kind(root, rel: str = "", *, follow: bool = True) -> str:
    """What is at `rel`: file, dir, special, absent, outside, broken, loop, error:..., or (follow=False) link."""
    r = _root_str(root)
    if not r:
        rel = os.path.abspath(rel)
    status = _locate(r, rel, _places(), follow)[0]
    _note("kind" if follow else "lkind", r, rel, status)
    return status


def is_file(root, rel: str = "") -> bool:
    return kind(root, rel) == "file"


def is_dir(root, rel: str = "") -> bool:
    return kind(root, rel) == "dir"


def exists(root, rel: str = "") -> bool:
    return kind(root, rel) in ("file", "dir", "special")


def resolve(path) -> str:
    """The real path of a folder given on the command line, recorded as a `real` check."""
    p = os.path.abspath(os.fspath(path))
    real = os.path.realpath(p)
    _note("real", "", p, real)
    return real


def identity(root, rel: str = "") -> tuple[int, int] | None:
    """(device, inode) of a folder, for loop detection; not a check (it says nothing about content)."""
    r = _root_str(root)
    try:
        st = os.stat(os.path.join(r, rel) if rel else r)
    except OSError:
        return None
    return st.st_dev, st.st_ino


# -- folders -----------------------------------------------------------------------------------------------------

class Entry:
    """One entry of a folder listed by `scandir`. `kind`: file, dir, special (FIFO, socket, device) for what
    is there (a symlink's target when it resolves inside the root), or, for a symlink, outside / broken /
    error; `is_link`: the entry itself is a symlink; `error`: the system's words for kind "error". Reading
    `size` records a `size` check (unless the listing already carries sizes)."""

    __slots__ = ("name", "rel", "path", "kind", "is_link", "error", "_size", "_root", "_sized")

    def __init__(self, name: str, rel: str, path: str, kind: str, is_link: bool, error: str, size: int,
                 root: str, sized: bool):
        self.name, self.rel, self.path, self.kind, self.is_link, self.error = name, rel, path, kind, is_link, error
        self._size, self._root, self._sized = size, root, sized

    @property
    def size(self) -> int:
        if not self._sized:
            _note("size", self._root, self.rel, str(self._size) if self.kind == "file" else self.kind)
        return self._size

    def __repr__(self) -> str:   # pragma: no cover
        return f"Entry({self.rel!r}, {self.kind}{', link' if self.is_link else ''})"


def _type_code(e: os.DirEntry, real_root: str, sizes: bool) -> tuple[str, str, bool, str, int]:
    """(signature row part, kind, is_link, error, size) of one raw entry."""
    try:
        if e.is_symlink():
            real = os.path.realpath(e.path)
            if not _inside(real, real_root):
                return "l" + real + "|outside", "outside", True, "", 0
            try:
                st = os.stat(real)
            except FileNotFoundError:
                return "l" + real + "|broken", "broken", True, "", 0
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    return "l" + real + "|broken", "broken", True, "", 0
                return "l" + real + "|" + _error_sig(exc), "error", True, exc.strerror or str(exc), 0
            k = _mode_status(st.st_mode)
            return "l" + real + "|" + k[0] + (f"|{st.st_size}" if sizes and k != "dir" else ""), k, True, "", \
                st.st_size
        if e.is_dir(follow_symlinks=False):
            return "d", "dir", False, "", 0
        if sizes:
            st = e.stat(follow_symlinks=False)
            k = _mode_status(st.st_mode)
            return k[0] + f"|{st.st_size}", k, False, "", st.st_size
        return ("f", "file", False, "", -1) if e.is_file(follow_symlinks=False) else ("s", "special", False, "", 0)
    except OSError as exc:
        return "?" + _error_sig(exc), "error", False, exc.strerror or str(exc), 0


def _listing(root: str, rel: str, places: _Places, sizes: bool) -> tuple[str, list[tuple[os.DirEntry, tuple]]]:
    """(signature, [(raw entry, type code)]) of folder `rel`; raises OSError / InputError."""
    status = _dir_status(root, rel, places) if root else "ok"
    if status != "ok":
        raise refusal(status)
    path = os.path.join(root, rel) if rel else (root or rel)
    real_root = places.real_root(root) if root else ""
    with os.scandir(path) as it:
        raw = sorted(it, key=lambda e: e.name)
    rows = []
    out = []
    for e in raw:
        code = _type_code(e, real_root, sizes)
        rows.append(e.name + "\0" + code[0])
        out.append((e, code))
    return sha256("\n".join(rows).encode("utf-8", "surrogateescape")).hexdigest(), out


def _listing_sig(root: str, rel: str, places: _Places, sizes: bool) -> str:
    """`_listing`'s signature alone (what a replay needs): the rows sorted as strings sort the same as the
    entries by name, since a name never holds NUL."""
    status = _dir_status(root, rel, places) if root else "ok"
    if status != "ok":
        raise refusal(status)
    path = (root + _SEP + rel if _SEP == "/" else os.path.join(root, rel)) if rel else (root or rel)
    real_root = places.real_root(root) if root else ""
    with os.scandir(path) as it:
        rows = [e.name + "\0" + _type_code(e, real_root, sizes)[0] for e in it]
    rows.sort()
    return sha256("\n".join(rows).encode("utf-8", "surrogateescape")).hexdigest()


def scandir(root, rel: str = "", *, sizes: bool = False) -> list[Entry]:
    """The entries of folder `rel` under `root`, sorted by name, recorded as a `list` (or with `sizes`, an
    `lsize`) check. Raises InputError when the folder cannot be listed (`detail`: the system's words)."""
    r = _root_str(root)
    places = _places()
    kind_ = "lsize" if sizes else "list"
    try:
        sig, rows = _listing(r, rel, places, sizes)
    except InputError as exc:
        _note(kind_, r, rel, exc.sig)
        raise
    except OSError as exc:
        _note(kind_, r, rel, _error_sig(exc))
        raise InputError("error", exc.strerror or str(exc), code=_error_sig(exc)[6:]) from None
    _note(kind_, r, rel, sig)
    out = []
    for e, (_, k, is_link, err, size) in rows:
        if size < 0:
            try:
                size = e.stat(follow_symlinks=False).st_size
            except OSError as exc:
                k, err, size = "error", exc.strerror or str(exc), 0
        erel = f"{rel}/{e.name}" if rel else e.name
        out.append(Entry(e.name, erel, e.path, k, is_link, err, size, r, sizes))
    return out


# -- checking again ----------------------------------------------------------------------------------------------

def _size_sig(root: str, rel: str, places: _Places) -> str:
    status, _, st = _locate(root, rel, places)
    return str(st.st_size) if status == "file" and st is not None else status


def _sha_sig(root: str, rel: str, places: _Places, recorded: str, follow: bool = True) -> str:
    status, path, st = _locate(root, rel, places, follow)
    if status != "file" or st is None:
        return status
    head = recorded.split(":", 1)[0]
    if recorded.startswith("big:"):
        return f"big:{st.st_size}"
    if head.isdigit() and int(head) != st.st_size:
        return f"{st.st_size}:?"          # another size: changed, no need to read it
    try:
        data = _read_located(path, st, max(st.st_size, 1) * 2 + 65536)
    except InputError as exc:
        return exc.sig
    return f"{len(data)}:{digest_bytes(data).hex()}"


def signature(kind: str, root: str, rel: str, recorded: str = "", places: _Places | None = None) -> str:
    """The signature check `kind` of (`root`, `rel`) has now (`recorded`: the one it had, which lets a `sha`
    check skip reading a file whose size changed). Never raises."""
    places = places or _Places()
    try:
        if kind in ("sha", "nsha"):
            return _sha_sig(root, rel, places, recorded, kind == "sha")
        if kind in ("list", "lsize"):
            try:
                return _listing_sig(root, rel, places, kind == "lsize")
            except InputError as exc:
                return exc.sig
            except OSError as exc:
                return _error_sig(exc)
        if kind == "size":
            return _size_sig(root, rel, places)
        if kind in ("kind", "lkind"):
            return _locate(root, rel, places, kind == "kind")[0]
        if kind == "real":
            return os.path.realpath(rel)
    except Exception:   # a check that cannot be made has not held
        return "\0"
    return "\0"


KINDS = frozenset({"sha", "nsha", "list", "lsize", "size", "kind", "lkind", "real"})
