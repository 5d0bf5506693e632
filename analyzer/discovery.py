"""Find the files of a repository worth scanning, and say what each one is.

- honours ``.gitignore`` files (root and nested) and a root ``.cfcompatignore`` (gitignore syntax, via pathspec);
- skips dependency, virtualenv, VCS and build-output folders, minified bundles, and files over the size limit
  (reported as skipped);
- never follows a symlink out of the root and never loops on symlinked folders;
- classifies each file by language (from its extension) and by role (runtime, test, build, config) from path
  conventions. The import graph refines roles later; this is the fallback.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec

from .languages import LANG_BY_EXT
from .model import ScanError
from .quick import listing_sig

MAX_FILE_BYTES = 1024 * 1024

# Folders never scanned as project code. node_modules and virtualenvs are still *noted* (their presence lets
# the dependency stage look for native evidence) but their files are not parsed.
SKIP_DIRS = {
    "node_modules", "bower_components", "jspm_packages", ".git", ".hg", ".svn", "__pycache__", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".venv", "venv", ".virtualenv", "site-packages",
    "dist", "build", "out", ".next", ".nuxt", ".svelte-kit", ".output", ".wrangler", ".vercel", ".netlify",
    ".turbo", ".cache", ".parcel-cache", "coverage", ".nyc_output", "htmlcov", "vendor", "third_party",
    ".yarn", ".pnpm-store", "__pypackages__",
    "third-party", ".idea", ".vscode", ".terraform", ".serverless", ".aws-sam", ".eggs", "storybook-static",
}
MINIFIED_SUFFIXES = (".min.js", ".min.mjs", ".min.cjs", "-min.js", ".bundle.js", ".prod.js")

TEST_DIRS = {"test", "tests", "__tests__", "__test__", "spec", "specs", "e2e", "cypress", "__mocks__",
             "testing", "test_utils", "testutils", "fixtures", "__fixtures__", "playwright"}
BUILD_DIRS = {"scripts", "script", "tools", "tooling", "migrations", "alembic", "benchmarks", "bench",
              "examples", "example", "docs", "doc", ".github", ".circleci", "devtools", "seed", "seeds"}
BUILD_FILES = {
    "setup.py", "noxfile.py", "tasks.py", "fabfile.py", "manage.py", "conftest.py", "gulpfile.js",
    "gruntfile.js", "gulpfile.ts", "dodo.py", "build.js", "build.mjs", "build.ts", "esbuild.js", "esbuild.mjs",
}
CONFIG_STEMS = {
    "webpack.config", "vite.config", "vitest.config", "rollup.config", "jest.config", "babel.config",
    "next.config", "nuxt.config", "svelte.config", "astro.config", "tailwind.config", "postcss.config",
    "prettier.config", "eslint.config", ".eslintrc", ".prettierrc", "tsup.config", "playwright.config",
    "karma.conf", "commitlint.config", "lint-staged.config", "drizzle.config", "remix.config",
    "metro.config", "gatsby-config", "gatsby-node", "jest.setup", "vitest.setup", "wrangler.config",
    "knexfile", "ormconfig", "sentry.client.config", "sentry.server.config", "sentry.edge.config",
}


@dataclass
class SourceFile:
    path: str          # relative to the root, '/'-separated
    language: str      # javascript | typescript | python
    role: str          # runtime | test | build | config
    size: int


@dataclass
class Discovery:
    root: Path
    sources: list[SourceFile] = field(default_factory=list)
    other_files: list[str] = field(default_factory=list)    # every other non-ignored file (manifests, models...)
    other_sizes: dict[str, int] = field(default_factory=dict)
    skipped: list[ScanError] = field(default_factory=list)   # files skipped with a reason (size, minified, link)
    vendor_dirs: list[str] = field(default_factory=list)     # node_modules / virtualenv folders seen, not walked
    walked: list[tuple[str, str]] = field(default_factory=list)  # (folder, quick.listing_sig) of each folder walked
    ignore_files: list[str] = field(default_factory=list)    # .cfcompatignore / .gitignore files loaded


def classify_role(rel: str) -> str:
    """Role of a file from path conventions alone: test, build, config or runtime."""
    p = PurePosixPath(rel)
    name = p.name.lower()
    parts = [x.lower() for x in p.parts[:-1]]
    stem = name
    for ext in LANG_BY_EXT:
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
            break
    if (
        any(x in TEST_DIRS for x in parts)
        or ".test." in name or ".spec." in name or "_test." in name or "-test." in name
        or name.startswith("test_") or name.startswith("tests.") or name == "conftest.py"
        or stem in ("jest.setup", "vitest.setup", "setuptests", "test", "tests")
    ):
        return "test"
    if stem in CONFIG_STEMS or stem.endswith(".config") or stem.endswith("rc") and stem.startswith("."):
        return "config"
    if name in BUILD_FILES or any(x in BUILD_DIRS for x in parts):
        return "build"
    if "management" in parts and "commands" in parts:   # Django management commands: run from a terminal
        return "build"
    return "runtime"


def language_of(rel: str) -> str | None:
    name = rel.lower()
    if name.endswith(".d.ts") or name.endswith(".d.mts") or name.endswith(".d.cts"):
        return None  # type declarations never run
    return LANG_BY_EXT.get(os.path.splitext(name)[1])


def _is_minified_name(name: str) -> bool:
    n = name.lower()
    return n.endswith(MINIFIED_SUFFIXES)


class _IgnoreRules:
    """Stack of gitignore specs: each folder's .gitignore applies below that folder."""

    def __init__(self) -> None:
        self.specs: list[tuple[str, pathspec.PathSpec]] = []

    def push(self, base: str, spec: pathspec.PathSpec) -> None:
        self.specs.append((base, spec))

    def ignored(self, rel: str, is_dir: bool) -> bool:
        for base, spec in self.specs:
            if base:
                if not rel.startswith(base + "/"):
                    continue
                sub = rel[len(base) + 1:]
            else:
                sub = rel
            if spec.match_file(sub + ("/" if is_dir else "")):
                return True
        return False


def _load_spec(path: Path, errors: list[ScanError], rel: str) -> pathspec.PathSpec | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        errors.append(ScanError(rel, f"cannot read ignore file: {exc.strerror or exc}"))
        return None
    import pathspec   # here: ~14 ms to import, and a repository without ignore files never needs it
    try:
        return pathspec.GitIgnoreSpec.from_lines(text.splitlines())
    except Exception as exc:  # a malformed pattern must not stop the scan
        errors.append(ScanError(rel, f"invalid ignore pattern: {exc}"))
        return None


def discover(root: Path, *, include_large: bool = False, max_bytes: int = MAX_FILE_BYTES,
             use_gitignore: bool = True) -> Discovery:
    """Walk ``root`` and return what to scan. Never raises for a bad file; records it in ``skipped``."""
    root = root.resolve()
    result = Discovery(root=root)
    ignore = _IgnoreRules()
    extra = root / ".cfcompatignore"
    if extra.is_file():
        spec = _load_spec(extra, result.skipped, ".cfcompatignore")
        result.ignore_files.append(".cfcompatignore")
        if spec:
            ignore.push("", spec)
    seen_dirs: set[tuple[int, int]] = set()

    def walk(dir_path: str, rel_dir: str) -> None:
        # plain strings and os.scandir: pathlib objects per entry were most of a warm rescan's discovery time
        try:
            st = os.stat(dir_path)
        except OSError as exc:
            result.skipped.append(ScanError(rel_dir or ".", f"cannot read folder: {exc.strerror or exc}; skipped"))
            result.walked.append((rel_dir, "-"))
            return
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            result.skipped.append(ScanError(rel_dir, "symlink loop (folder already visited); skipped"))
            return
        seen_dirs.add(key)
        if use_gitignore:
            gi = os.path.join(dir_path, ".gitignore")
            if os.path.isfile(gi) and not os.path.islink(gi):
                spec = _load_spec(Path(gi), result.skipped, (rel_dir + "/.gitignore") if rel_dir else ".gitignore")
                result.ignore_files.append((rel_dir + "/.gitignore") if rel_dir else ".gitignore")
                if spec:
                    ignore.push(rel_dir, spec)
        try:
            with os.scandir(dir_path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            result.skipped.append(ScanError(rel_dir or ".", f"cannot list folder: {exc.strerror or exc}; skipped"))
            result.walked.append((rel_dir, "-"))
            return
        result.walked.append((rel_dir, listing_sig(entries)))
        for entry in entries:
            name = entry.name
            rel = f"{rel_dir}/{name}" if rel_dir else name
            try:
                is_link = entry.is_symlink()
                if is_link:
                    target = Path(os.path.realpath(entry.path))
                    if target != root and root not in target.parents:
                        result.skipped.append(ScanError(rel, "symlink pointing outside the scanned folder; not followed"))
                        continue
                    try:
                        st = target.stat()
                    except OSError:
                        result.skipped.append(ScanError(rel, "broken symlink; skipped"))
                        continue
                else:
                    st = entry.stat(follow_symlinks=False)
                is_dir = stat.S_ISDIR(st.st_mode)
                is_file = stat.S_ISREG(st.st_mode)
                size = st.st_size
            except OSError as exc:
                result.skipped.append(ScanError(rel, f"cannot stat: {exc.strerror or exc}; skipped"))
                continue
            if is_dir:
                low = name.lower()
                venv = os.path.exists(os.path.join(entry.path, "pyvenv.cfg"))
                if low in SKIP_DIRS or venv:
                    if low in ("node_modules", "site-packages", ".venv", "venv", ".virtualenv") or venv:
                        result.vendor_dirs.append(rel)
                    continue
                if ignore.ignored(rel, True):
                    continue
                walk(entry.path, rel)
                continue
            if not is_file:
                continue  # sockets, fifos, devices
            if ignore.ignored(rel, False):
                continue
            lang = language_of(rel)
            if lang is None:
                result.other_files.append(rel)
                result.other_sizes[rel] = size
                continue
            if _is_minified_name(name):
                result.skipped.append(ScanError(rel, "minified bundle; skipped"))
                continue
            if size > max_bytes and not include_large:
                result.skipped.append(ScanError(
                    rel, f"file is {size / 1048576:.1f} MiB, over the {max_bytes // 1048576} MiB limit; skipped "
                         "(--include-large to scan it)"))
                continue
            result.sources.append(SourceFile(rel, lang, classify_role(rel), size))

    walk(str(root), "")
    result.vendor_dirs.sort()
    result.other_files.sort()
    result.sources.sort(key=lambda s: s.path)
    return result


def read_source(root: Path, rel: str) -> tuple[bytes | None, str | None]:
    """Read a source file as UTF-8 bytes for tree-sitter. Returns (data, None) or (None, reason)."""
    try:
        raw = (root / rel).read_bytes()
    except FileNotFoundError:
        return None, "file disappeared during the scan; skipped"
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}; skipped"
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            raw = raw.decode("utf-16").encode("utf-8")
        except UnicodeError:
            return None, "invalid UTF-16; skipped"
    if b"\x00" in raw[:8192]:
        return None, "binary file (NUL bytes) with a source extension; skipped"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 (byte {exc.start}); skipped"
    if raw.count(b"\n") == 0 and len(raw) > 200_000 or _looks_minified(raw):
        return None, "minified or generated code (very long lines); skipped"
    return raw, None


def _looks_minified(raw: bytes) -> bool:
    if len(raw) < 20_000:
        return False
    lines = raw.count(b"\n") + 1
    return len(raw) / lines > 1000
