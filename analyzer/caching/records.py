"""Scan records: the outputs of a scan together with the checks of everything it read (inputs.py).

A record is named by a hash of what the outputs depend on besides the repository:

- the arguments as typed, the working directory, the environment (all of it but `_`, `OLDPWD`, `PWD`,
  `SHLVL`), whether stdout is a terminal, the interpreter;
- cfcompat's own files (`code_fingerprint`) and the names in every `sys.path` folder (a dependency upgraded
  or installed renames its `.dist-info`);

and holds the checks the scan's `inputs.Recorder` collected (every file read by content, every folder listed,
every size used, every path looked for, also when absent) and the outputs: stdout, each `-o` file, the exit
status. A record whose checks all hold again *is* the scan's answer: the scan read nothing else.

`replay` is what the console script tries first; it imports only the standard library (this module and
inputs.py), so an unchanged rescan never loads the analyzer. Anything else (no record, a failed check, an
unreadable or foreign record, an output that cannot be written) returns None and the full CLI runs.
"""
from __future__ import annotations

import json
import os
import sys
import time

from .. import inputs

VERSION = 2
KEEP_RECORDS = 64
KEEP_MEMOS = 4
NOISE_ENV = frozenset({"_", "OLDPWD", "PWD", "SHLVL"})
RACY_SECONDS = 2.0      # a file changed this recently may change again within the same timestamp


def records_dir() -> str:
    return os.path.join(inputs.cache_dir(), f"records-v{VERSION}")


# -- cfcompat's own code -----------------------------------------------------------------------------------------

def package_dirs() -> list[str]:
    """The folders of cfcompat.analyzer, cfcompat.rules and cfcompat.reports, found without importing the
    last two (their imports load the rule packs): siblings of the analyzer folder, both installed
    (site-packages/cfcompat/...) and in the source tree (setuptools package-dir), else wherever the import
    system finds them."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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
    files' names, sizes, modification and change times and inode numbers. An edit that puts the size and the
    modification time back still moves the change time, which no program can set; a file changed less than
    `RACY_SECONDS` ago (its next edit could fall in the same clock tick) is never memoised."""
    if _CODE:
        return _CODE[0]
    files = _package_files()
    stamp = inputs.sha256(f"code:{VERSION}".encode())
    newest = 0
    for p, rel in files:
        try:
            st = os.stat(p)
            newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
            stamp.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\n"
                         .encode("utf-8", "surrogateescape"))
        except OSError:
            stamp.update(f"{rel}\0?\n".encode("utf-8", "surrogateescape"))
    memo = os.path.join(records_dir(), "code-" + stamp.hexdigest())
    try:
        with open(memo, encoding="ascii") as fh:
            got = fh.read()
        if len(got) == 64 and all(c in "0123456789abcdef" for c in got):
            _CODE.append(got)
            return got
    except (OSError, ValueError):
        pass
    h = inputs.sha256(f"code:{VERSION}".encode())
    for p, rel in files:
        h.update(b"\0" + rel.encode("utf-8", "surrogateescape") + b"\0")
        try:
            with open(p, "rb") as fh:
                h.update(fh.read())
        except OSError:
            h.update(b"?")
    _CODE.append(h.hexdigest())
    if time.time_ns() - newest > RACY_SECONDS * 1e9:
        try:
            write_atomic(memo, _CODE[0])
        except OSError:
            pass
    return _CODE[0]


# -- writing -----------------------------------------------------------------------------------------------------

def write_atomic(path: str, text: str, encoding: str = "ascii") -> None:
    """Write `text` to `path` through a temporary file and a rename: a reader never sees half of it, and a
    symlink at `path` is replaced, never written through."""
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_output(path: str, text: str) -> None:
    """The one writer of report files (`-o FMT:FILE`), for the CLI and the replay alike."""
    write_atomic(path, text, "utf-8")


# -- the record's name -------------------------------------------------------------------------------------------

def _isatty(stream) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def command_key(argv: list[str]) -> str:
    h = inputs.sha256(f"record:{VERSION}".encode())
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


# -- records -----------------------------------------------------------------------------------------------------

def _path(key: str) -> str:
    return os.path.join(records_dir(), key + ".json")


def _valid(rec, key: str) -> bool:
    if not (isinstance(rec, dict) and rec.get("v") == VERSION and rec.get("key") == key
            and isinstance(rec.get("roots"), list) and all(isinstance(r, str) for r in rec["roots"])
            and isinstance(rec.get("checks"), list) and isinstance(rec.get("outputs"), list)
            and isinstance(rec.get("stdout"), str) and rec.get("exit") in (0, 1)):
        return False
    n = len(rec["roots"])
    return (all(isinstance(c, list) and len(c) == 4 and c[0] in inputs.KINDS and isinstance(c[1], int)
                and -1 <= c[1] < n and isinstance(c[2], str) and isinstance(c[3], str) for c in rec["checks"])
            and all(isinstance(o, list) and len(o) == 2 and all(isinstance(x, str) for x in o)
                    for o in rec["outputs"]))


def load(key: str) -> dict | None:
    """The record named `key`, or None; a damaged or foreign one is deleted."""
    path = _path(key)
    try:
        with open(path, encoding="utf-8") as fh:
            rec = json.load(fh)
    except FileNotFoundError:
        return None
    except Exception:   # unreadable, not UTF-8, not JSON: a damaged record
        _discard(path)
        return None
    if not _valid(rec, key):
        _discard(path)
        return None
    return rec


def holds(rec: dict) -> bool:
    """Does every check of the record still give the signature it recorded?"""
    roots = rec["roots"]
    places = inputs._Places()
    for kind, ri, rel, sig in rec["checks"]:
        if inputs.signature(kind, roots[ri] if ri >= 0 else "", rel, sig, places) != sig:
            return False
    return True


def store(key: str, checks: list[inputs.Check], outputs: list[tuple[str, str]], stdout: str,
          exit_status: int) -> None:
    """Write the record of the scan that just ran. Never raises."""
    if "\x1b" in stdout:    # click strips ANSI codes when stdout is not a terminal; a plain write would not
        return
    try:
        roots: dict[str, int] = {}
        rows = []
        for kind, root, rel, sig in checks:
            ri = roots.setdefault(root, len(roots)) if root else -1
            rows.append([kind, ri, rel, sig])
        rec = {"v": VERSION, "key": key, "roots": list(roots), "checks": rows,
               "outputs": [list(o) for o in outputs], "stdout": stdout, "exit": exit_status}
        write_atomic(_path(key), json.dumps(rec, ensure_ascii=True))
        _prune(records_dir())
    except Exception:
        pass


def touch(key: str) -> None:
    try:
        os.utime(_path(key))   # recently used records are the ones kept
    except OSError:
        pass


def _can_print(text: str) -> bool:
    """Can stdout take this text as it is? (a non-UTF-8 stream and non-ASCII text: let the CLI deal with it)"""
    enc = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    return sys.stdout is not None and (enc == "utf8" or text.isascii())


def _discard(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


LEGACY = ("replay-v1", "results-v1.sqlite", "results-v1.corrupt")   # the stores this package replaced


def _prune(folder: str) -> None:
    """Keep the most recently used records, and the newest few code-fingerprint memos; delete the stores of
    earlier versions (the replay records and the SQLite result cache they replaced)."""
    parent = os.path.dirname(folder)
    for name in LEGACY:
        old = os.path.join(parent, name)
        if os.path.isdir(old) and not os.path.islink(old):
            import shutil
            shutil.rmtree(old, ignore_errors=True)
        elif os.path.lexists(old):
            _discard(old)
    rows: dict[bool, list[tuple[int, str]]] = {True: [], False: []}
    with os.scandir(folder) as it:
        for e in it:
            if e.name.endswith(".json") or (e.name.startswith("code-") and not e.name.endswith(".tmp")):
                try:
                    rows[e.name.endswith(".json")].append((e.stat().st_mtime_ns, e.name))
                except OSError:
                    pass
    for is_record, keep in ((True, KEEP_RECORDS), (False, KEEP_MEMOS)):
        for _, name in sorted(rows[is_record], reverse=True)[keep:]:
            _discard(os.path.join(folder, name))


def lookup(argv: list[str]) -> tuple[str | None, dict | None]:
    """(this command's record name, its record when every check holds). Never raises."""
    try:
        key = command_key(argv)
    except Exception:
        return None, None
    try:
        rec = load(key)
        if rec is not None and _can_print(rec["stdout"]) and holds(rec):
            return key, rec
    except Exception:
        pass
    return key, None


def replay(argv: list[str]) -> int | None:
    """Write the recorded outputs of this exact command and return its exit status, or None (scan). Outputs
    are written only after every check held."""
    key, rec = lookup(argv)
    if rec is None or key is None:
        return None
    try:
        for ofile, text in rec["outputs"]:
            write_output(ofile, text)
    except Exception:   # a replay must never fail the run: the full CLI takes over
        return None
    try:
        sys.stdout.write(rec["stdout"])
        sys.stdout.flush()
    except BrokenPipeError:
        return 0
    touch(key)
    return int(rec["exit"])
