#!/usr/bin/env python3
"""Regenerate rules/kb/pyodide/pyodide-<VERSION>.json from the npm ``pyodide`` package.

Usage::

    python scripts/update_pyodide_packages.py 314.0.6 0.28.2
    python scripts/update_pyodide_packages.py --check 314.0.6      # exit 1 if the file would change
    python scripts/update_pyodide_packages.py 314.0.6 --tarball pyodide-314.0.6.tgz   # offline

For each version the script runs ``npm pack pyodide@VERSION --ignore-scripts`` in a
temporary directory, opens the tarball with :mod:`tarfile` and reads only
``package/pyodide-lock.json`` and ``package/package.json`` into memory. Nothing from the
package is extracted to disk or executed (``npm pack`` does not run lifecycle scripts and
``--ignore-scripts`` makes that explicit).

Output is deterministic: keys are sorted, one package per line, newline at the end. The
``generated`` date is taken from ``--date``; without it, an existing file whose content is
otherwise identical keeps its date, so re-running the script reproduces the file byte for byte.

Standard library only (plus the ``npm`` client on PATH).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

DEFAULT_OUT_DIR = Path(__file__).resolve().parents[1] / "rules" / "kb" / "pyodide"
LOCK_MEMBER = "package/pyodide-lock.json"
MANIFEST_MEMBER = "package/package.json"
VERSION_RE = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.]+)?$")
_NAME_SEPARATORS = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    """PEP 503 normalised project name."""
    return _NAME_SEPARATORS.sub("-", name).lower()


# --------------------------------------------------------------------------- fetching


def npm_pack(version: str, workdir: Path) -> tuple[Path, str | None]:
    """Download ``pyodide@version`` as a tarball into *workdir*; return (path, integrity)."""
    cmd = [
        "npm", "pack", f"pyodide@{version}",
        "--ignore-scripts", "--json", "--pack-destination", str(workdir),
    ]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"npm pack pyodide@{version} failed:\n{proc.stderr.strip()}")
    try:
        info = json.loads(proc.stdout)[0]
        tarball = workdir / info["filename"]
        integrity = info.get("integrity")
    except (ValueError, LookupError, TypeError):
        tarball, integrity = workdir / f"pyodide-{version}.tgz", None
    if not tarball.is_file():
        raise RuntimeError(f"npm pack did not produce {tarball.name}")
    return tarball, integrity


def read_members(tarball: Path) -> tuple[bytes, dict]:
    """Return the raw lock bytes and the parsed package.json, read in memory only."""
    with tarfile.open(tarball, "r:gz") as tar:
        blobs = {}
        for name in (LOCK_MEMBER, MANIFEST_MEMBER):
            member = tar.getmember(name)
            if not member.isfile():
                raise RuntimeError(f"{name} in {tarball.name} is not a regular file")
            handle = tar.extractfile(member)
            if handle is None:
                raise RuntimeError(f"cannot read {name} from {tarball.name}")
            blobs[name] = handle.read()
    return blobs[LOCK_MEMBER], json.loads(blobs[MANIFEST_MEMBER])


# --------------------------------------------------------------------------- building


def _is_test_bundle(key: str, entry: dict, lock_packages: dict) -> bool:
    """Test suites ship as separate lock entries named ``<pkg>-tests`` (``unvendored_tests``
    on the parent; numpy's is a wheel whose only "import" is its own name)."""
    if not key.endswith("-tests") or key[: -len("-tests")] not in lock_packages:
        return False
    return set(entry.get("imports") or []) <= {key, entry.get("name")}


def build_document(version: str, lock_bytes: bytes, integrity: str | None) -> dict:
    lock = json.loads(lock_bytes)
    info = lock.get("info", {})
    lock_packages = lock.get("packages", {})

    packages: dict[str, str] = {}
    imports: dict[str, list[str]] = {}
    stdlib_modules: set[str] = set()
    shared_libraries: set[str] = set()
    test_bundles = 0

    for key, entry in lock_packages.items():
        kind = entry.get("package_type", "package")
        name = normalize(entry.get("name") or key)
        if kind == "shared_library":
            shared_libraries.add(name)
        elif kind == "cpython_module":
            stdlib_modules.add(name)
        elif _is_test_bundle(key, entry, lock_packages):
            test_bundles += 1
        else:
            if name in packages:
                raise RuntimeError(f"duplicate package {name!r} in pyodide {version} lock")
            packages[name] = str(entry.get("version"))
            imports[name] = sorted(set(entry.get("imports") or []))

    return {
        "pyodide_version": version,
        "python": info.get("python"),
        "source": f"npm pyodide@{version} pyodide-lock.json",
        "npm_integrity": integrity,
        "lock_sha256": hashlib.sha256(lock_bytes).hexdigest(),
        "lock_info": {k: info[k] for k in sorted(info)},
        "counts": {
            "lock_entries": len(lock_packages),
            "packages": len(packages),
            "shared_libraries": len(shared_libraries),
            "stdlib_modules": len(stdlib_modules),
            "test_bundles": test_bundles,
        },
        "packages": dict(sorted(packages.items())),
        "imports": dict(sorted(imports.items())),
        "stdlib_modules": sorted(stdlib_modules),
        "shared_libraries": sorted(shared_libraries),
    }


# --------------------------------------------------------------------------- writing


def render(doc: dict) -> str:
    """Stable JSON text: sorted keys; nested mappings written one entry per line."""
    def scalar(value) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))

    lines = ["{"]
    keys = sorted(doc)
    for i, key in enumerate(keys):
        value = doc[key]
        tail = "," if i < len(keys) - 1 else ""
        if isinstance(value, dict) and value:
            lines.append(f" {scalar(key)}: {{")
            inner = sorted(value)
            for j, sub in enumerate(inner):
                sep = "," if j < len(inner) - 1 else ""
                lines.append(f"  {scalar(sub)}: {scalar(value[sub])}{sep}")
            lines.append(f" }}{tail}")
        else:
            lines.append(f" {scalar(key)}: {scalar(value)}{tail}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def with_date(doc: dict, target: Path, date: str | None) -> dict:
    doc = dict(doc)
    if date is None and target.is_file():
        try:
            old = json.loads(target.read_text(encoding="utf-8"))
        except ValueError:
            old = None
        if isinstance(old, dict) and "generated" in old:
            same = {k: v for k, v in old.items() if k != "generated"} == doc
            if same:
                date = old["generated"]
    doc["generated"] = date or _dt.datetime.now(_dt.timezone.utc).date().isoformat()
    return doc


def generate(version: str, out_dir: Path, date: str | None, tarball: Path | None,
             check: bool) -> bool:
    """Write (or, with check, compare) one file. Returns True when the file is up to date."""
    with tempfile.TemporaryDirectory(prefix="pyodide-pack-") as tmp:
        integrity = None
        if tarball is None:
            tarball_path, integrity = npm_pack(version, Path(tmp))
        else:
            tarball_path = tarball
        lock_bytes, manifest = read_members(tarball_path)
    if manifest.get("name") != "pyodide" or manifest.get("version") != version:
        raise RuntimeError(
            f"tarball holds {manifest.get('name')}@{manifest.get('version')}, not pyodide@{version}")
    target = out_dir / f"pyodide-{version}.json"
    doc = build_document(version, lock_bytes, integrity)
    if tarball is not None and target.is_file():
        # offline run: keep the registry integrity recorded by the last online run
        try:
            doc["npm_integrity"] = json.loads(target.read_text(encoding="utf-8")).get("npm_integrity")
        except ValueError:
            pass
    text = render(with_date(doc, target, date))
    current = target.read_text(encoding="utf-8") if target.is_file() else None
    if check:
        ok = current == text
        print(f"{target.name}: {'up to date' if ok else 'WOULD CHANGE'}")
        return ok
    out_dir.mkdir(parents=True, exist_ok=True)
    if current != text:
        target.write_text(text, encoding="utf-8")
    print(f"{target.name}: {doc['counts']['packages']} packages, Python {doc['python']}"
          f"{'' if current != text else ' (unchanged)'}")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("versions", nargs="+", metavar="VERSION", help="pyodide npm version, e.g. 314.0.6")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--date", help="value for the 'generated' field (YYYY-MM-DD)")
    parser.add_argument("--tarball", type=Path,
                        help="use this local pyodide-<VERSION>.tgz instead of npm pack (one version only)")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if any file differs from what would be generated")
    args = parser.parse_args(argv)

    for version in args.versions:
        if not VERSION_RE.match(version):
            parser.error(f"not a version: {version!r}")
    if args.date and not re.match(r"^\d{4}-\d{2}-\d{2}$", args.date):
        parser.error("--date must be YYYY-MM-DD")
    if args.tarball and len(args.versions) != 1:
        parser.error("--tarball works with exactly one VERSION")

    all_ok = True
    for version in args.versions:
        try:
            all_ok &= generate(version, args.out_dir, args.date, args.tarball, args.check)
        except (RuntimeError, OSError, KeyError, tarfile.TarError, ValueError) as exc:
            print(f"pyodide {version}: {exc}", file=sys.stderr)
            return 2
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
