"""Replay: the same `cfcompat scan` command on an unchanged repository prints the last outputs again without
loading the analyzer.

The console script enters here. Loading the analyzer (click, rich, tree-sitter, the rule packs, the knowledge
base) takes ~0.25 s, which is most of a rescan of a small repository even when the whole-scan result cache
(resultcache.py) answers. So after every cacheable scan the CLI also writes a *replay record*, named by a hash
of the command line as typed and of everything around it:

- the arguments, the working directory, the environment (all of it but `_`, `OLDPWD`, `PWD`, `SHLVL`),
  whether stdout is a terminal, the interpreter;
- cfcompat's own files (the same code fingerprint the result cache uses) and the names in every `sys.path`
  folder (a dependency upgraded or installed renames its `.dist-info`);

and holding the checks that prove the repository is what that scan saw:

- every folder discovery walked, by the names and types of its entries (a symlink by where it resolves);
- every file it read, by SHA-256 of its content (other files above 1 MiB by size, mode and mtime, as the
  result cache does), the ignore files and config files too (also when absent: creating one is a change);
- the installed-package reads the result cache re-checks, the resolved root, the venv markers of pruned
  folders;

and the outputs: stdout, each `-o` file, the exit status. `main` recomputes the hash; when a record exists and
every check holds, it writes the outputs and exits. Anything else (no record, a failed check, an unreadable or
foreign record, an output that cannot be written) falls through to the full CLI, which scans (with its own
caches) and writes a new record. Only the standard library is imported here.
"""
from __future__ import annotations

import json
import os
import sys

try:    # the interpreter's own SHA-256: importing hashlib starts OpenSSL (~4 ms of a ~35 ms replay); but it
    # hashes at ~135 MB/s against OpenSSL's ~850, so once a run has hashed 512 KiB `digest` moves to hashlib
    from _sha256 import sha256          # CPython 3.10, 3.11
except ImportError:
    try:
        from _sha2 import sha256        # type: ignore[no-redef]  # CPython 3.12+
    except ImportError:
        from hashlib import sha256      # type: ignore[no-redef]

VERSION = 1
BIG = 1024 * 1024          # other files above this are checked by size, mode and mtime (as resultcache.BIG)
KEEP_RECORDS = 64
NOISE_ENV = frozenset({"_", "OLDPWD", "PWD", "SHLVL"})


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


def digest(data: bytes) -> bytes:
    """SHA-256 of `data`: the built-in module while this run has hashed little (a small repository never pays
    for OpenSSL's start-up), hashlib from 512 KiB on (a big one hashes six times faster)."""
    if not _OPENSSL:
        _HASHED[0] += len(data)
        if _HASHED[0] < _SWITCH:
            return sha256(data).digest()
        import hashlib
        _OPENSSL.append(hashlib.sha256)
    return _OPENSSL[0](data).digest()


def content_digest(path: str) -> bytes | None:
    """SHA-256 of a file's bytes as they are on disk, or None when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return digest(fh.read())
    except OSError:
        return None


def package_dirs() -> list[str]:
    """The folders of cfcompat.analyzer, cfcompat.rules and cfcompat.reports, found without importing the
    last two (their imports load the rule packs): siblings of this folder, both installed
    (site-packages/cfcompat/...) and in the source tree (setuptools package-dir), else wherever the import
    system finds them."""
    here = os.path.dirname(os.path.abspath(__file__))
    dirs = [here]
    for short, name in (("rules", "cfcompat.rules"), ("reports", "cfcompat.reports")):
        sib = os.path.join(os.path.dirname(here), short)
        if os.path.isfile(os.path.join(sib, "__init__.py")):
            dirs.append(sib)
            continue
        from importlib.util import find_spec
        spec = find_spec(name)
        locs = list(spec.submodule_search_locations or []) if spec else []
        dirs.append(os.path.abspath(locs[0]) if locs else name)
    return dirs


_CODE: list[str] = []


def _package_files() -> list[tuple[str, str]]:
    """(path, name relative to its package) of every file of the three packages but bytecode, in order."""
    out = []
    for base in package_dirs():
        files = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            files += [os.path.join(dirpath, f) for f in filenames if not f.endswith((".pyc", ".pyo"))]
        out += sorted(((p, os.path.relpath(p, base).replace(os.sep, "/")) for p in files), key=lambda x: x[1])
    return out


def code_fingerprint() -> str:
    """Hash of every file of the three packages (sources, rule packs, knowledge base, templates).

    Reading them all costs ~6 ms, a sixth of a replay, so the hash is memoised in the cache folder under the
    files' names, sizes and mtimes: the test Python itself applies to its bytecode cache."""
    if _CODE:
        return _CODE[0]
    files = _package_files()
    stamp = sha256(f"code:{VERSION}".encode())
    for p, rel in files:
        try:
            st = os.stat(p)
            stamp.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
        except OSError:
            stamp.update(f"{rel}\0?\n".encode("utf-8", "surrogateescape"))
    memo = os.path.join(_records_dir(), "code-" + stamp.hexdigest())
    try:
        with open(memo, encoding="ascii") as fh:
            got = fh.read()
        if len(got) == 64 and all(c in "0123456789abcdef" for c in got):
            _CODE.append(got)
            return got
    except (OSError, ValueError):
        pass
    h = sha256(f"code:{VERSION}".encode())
    for p, rel in files:
        h.update(b"\0" + rel.encode("utf-8", "surrogateescape") + b"\0")
        try:
            with open(p, "rb") as fh:
                h.update(fh.read())
        except OSError:
            h.update(b"?")
    _CODE.append(h.hexdigest())
    try:
        _write_atomic(memo, _CODE[0])
    except OSError:
        pass
    return _CODE[0]


def _write_atomic(path: str, text: str) -> None:
    """Write `text` (ASCII) to `path` through a temporary file, so a reader never sees half of it."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="ascii") as fh:
        fh.write(text)
    os.replace(tmp, path)


# -- signatures ------------------------------------------------------------------------------------------------

def file_sig(path: str) -> str:
    """Size, mode and mtime (for files too big to hash on every run, and installed-package files)."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return "-"
    return f"{st.st_mode}:{st.st_size}:{st.st_mtime_ns}"


def dir_sig(path: str) -> str:
    """Names, modes, sizes and mtimes of a folder's entries (installed-package folders)."""
    h = sha256()
    try:
        with os.scandir(path) as it:
            rows = []
            for e in it:
                try:
                    st = e.stat(follow_symlinks=False)
                    rows.append(f"{e.name}\0{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}")
                except OSError:
                    rows.append(f"{e.name}\0?")
    except OSError:
        return "-"
    for r in sorted(rows):
        h.update(r.encode("utf-8", "surrogateescape") + b"\n")
    return h.hexdigest()


def listing_sig(entries) -> str:
    """What discovery saw of a folder: each entry's name and type, and where a symlink resolves. `entries`
    are `os.DirEntry`s in any order."""
    rows = []
    for e in entries:
        try:
            if e.is_symlink():
                kind = "l" + os.path.realpath(e.path)
            elif e.is_dir(follow_symlinks=False):
                kind = "d"
            elif e.is_file(follow_symlinks=False):
                kind = "f"
            else:
                kind = "o"
        except OSError:
            kind = "?"
        rows.append(f"{e.name}\0{kind}")
    rows.sort()
    return sha256("\n".join(rows).encode("utf-8", "surrogateescape")).hexdigest()


def _listing(path: str) -> str:
    try:
        with os.scandir(path) as it:
            return listing_sig(list(it))
    except OSError:
        return "-"


def sha_text(d: bytes | None) -> str:
    """A content digest as a check signature."""
    return d.hex() if d is not None else "unreadable"


def _sha(path: str) -> str:
    return sha_text(content_digest(path))


CHECKS = {
    "list": _listing,
    "sha": _sha,
    "stat": file_sig,
    "file": file_sig,
    "dir": dir_sig,
    "exists": lambda p: "1" if os.path.exists(p) else "0",
    "real": os.path.realpath,
}


def signature(kind: str, path: str) -> str:
    return CHECKS[kind](path)


# -- the record's name -----------------------------------------------------------------------------------------

def _isatty(stream) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def command_key(argv: list[str]) -> str:
    h = sha256(f"replay:{VERSION}".encode())
    env = sorted((k, v) for k, v in os.environ.items() if k not in NOISE_ENV)
    paths = []
    for p in sys.path:
        try:
            with os.scandir(p or ".") as it:
                paths.append([p, sorted(e.name for e in it)])
        except OSError:
            paths.append([p, None])
    h.update(json.dumps({
        "argv": list(argv), "cwd": os.getcwd(), "env": env, "tty": _isatty(sys.stdout),
        "python": [sys.executable, sys.version], "code": code_fingerprint(), "path": paths,
    }, ensure_ascii=False).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _records_dir() -> str:
    return os.path.join(cache_dir(), f"replay-v{VERSION}")


# -- replay -----------------------------------------------------------------------------------------------------

def _load(path: str, key: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            rec = json.load(fh)
    except FileNotFoundError:
        return None
    except Exception:   # unreadable, not UTF-8, not JSON: a damaged record
        _discard(path)
        return None
    ok = (isinstance(rec, dict) and rec.get("v") == VERSION and rec.get("key") == key
          and isinstance(rec.get("checks"), list) and isinstance(rec.get("outputs"), list)
          and isinstance(rec.get("stdout"), str) and rec.get("exit") in (0, 1)
          and all(isinstance(c, list) and len(c) == 3 and all(isinstance(x, str) for x in c) and c[0] in CHECKS
                  for c in rec["checks"])
          and all(isinstance(o, list) and len(o) == 2 and all(isinstance(x, str) for x in o)
                  for o in rec["outputs"]))
    if not ok:
        _discard(path)
        return None
    return rec


def _can_print(text: str) -> bool:
    """Can stdout take this text as it is? (a non-UTF-8 stream and non-ASCII text: let the CLI deal with it)"""
    enc = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    return sys.stdout is not None and (enc == "utf8" or text.isascii())


def _discard(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def replay(argv: list[str]) -> int | None:
    """Write the recorded outputs of this exact command and return its exit status, or None (scan)."""
    try:
        key = command_key(argv)
        path = os.path.join(_records_dir(), key + ".json")
        rec = _load(path, key)
        if rec is None or not _can_print(rec["stdout"]):
            return None
        for kind, p, sig in rec["checks"]:
            if signature(kind, p) != sig:
                return None
        for ofile, text in rec["outputs"]:
            parent = os.path.dirname(ofile)
            if parent:
                os.makedirs(parent, exist_ok=True)
            with open(ofile, "w", encoding="utf-8") as fh:
                fh.write(text)
    except Exception:   # a replay must never fail the run: the full CLI takes over
        return None
    try:
        sys.stdout.write(rec["stdout"])
        sys.stdout.flush()
    except BrokenPipeError:
        return 0
    try:
        os.utime(path)   # recently used records are the ones kept
    except OSError:
        pass
    return int(rec["exit"])


def remember(argv: list[str], checks: list[tuple[str, str, str]], outputs: list[tuple[str, str]],
             stdout: str, exit_status: int) -> None:
    """Write the replay record of the scan that just ran. Never raises."""
    if "\x1b" in stdout:    # click strips ANSI codes when stdout is not a terminal; a plain write would not
        return
    try:
        key = command_key(argv)
        rec = {"v": VERSION, "key": key, "checks": [list(c) for c in checks],
               "outputs": [list(o) for o in outputs], "stdout": stdout, "exit": exit_status}
        _write_atomic(os.path.join(_records_dir(), key + ".json"), json.dumps(rec, ensure_ascii=True))
        _prune(_records_dir())
    except Exception:
        pass


def _prune(folder: str) -> None:
    """Keep the most recently used records, and the newest few code-fingerprint memos."""
    rows: dict[bool, list[tuple[int, str]]] = {True: [], False: []}
    with os.scandir(folder) as it:
        for e in it:
            if e.name.endswith(".json") or (e.name.startswith("code-") and not e.name.endswith(".tmp")):
                try:
                    rows[e.name.endswith(".json")].append((e.stat().st_mtime_ns, e.name))
                except OSError:
                    pass
    for is_record, keep in ((True, KEEP_RECORDS), (False, 4)):
        for _, name in sorted(rows[is_record], reverse=True)[keep:]:
            _discard(os.path.join(folder, name))


def main() -> None:
    """The `cfcompat` console script: replay when possible, else the full CLI."""
    argv = sys.argv[1:]
    if argv[:1] == ["scan"] and "--no-cache" not in argv and not os.environ.get("CFCOMPAT_NO_CACHE"):
        status = replay(argv)
        if status is not None:
            sys.exit(status)
    from .cli import main as full
    full(argv)
