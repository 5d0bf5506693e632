"""Shared helpers for the manifest reader tests (imported by module name; no conftest needed)."""
from __future__ import annotations

from pathlib import Path

from cfcompat.analyzer.manifests import ManifestScan, scan_manifests

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "manifests"


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink())


def scan_fixture(name: str) -> ManifestScan:
    root = FIXTURES / name
    assert root.is_dir(), root
    return scan_manifests(root, files_under(root))


def scan_dir(root: Path) -> ManifestScan:
    return scan_manifests(root, files_under(root))


def deps_by(scan: ManifestScan, manifest: str | None = None) -> dict[tuple[str, bool], object]:
    return {(d.name, d.dev): d for d in scan.dependencies if manifest is None or d.manifest == manifest}


def dep(scan: ManifestScan, name: str, manifest: str | None = None, dev: bool | None = None):
    found = [d for d in scan.dependencies if d.name == name and (manifest is None or d.manifest == manifest)
             and (dev is None or d.dev == dev)]
    assert len(found) == 1, (name, manifest, found)
    return found[0]


def locked(scan: ManifestScan, name: str, lockfile: str | None = None):
    found = [e for e in scan.locked if e.name == name and (lockfile is None or e.lockfile == lockfile)]
    assert len(found) == 1, (name, lockfile, found)
    return found[0]


def write(root: Path, rel: str, text: str | bytes) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def no_internal_errors(scan: ManifestScan) -> None:
    bad = [e for e in scan.errors if "internal error" in e.message]
    assert not bad, bad
