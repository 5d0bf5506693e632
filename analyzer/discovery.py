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
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec

from . import inputs
from .budget import OutOfTime
from .languages import LANG_BY_EXT
from .model import ScanError

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
    incomplete: bool = False                                  # the scan's deadline cut the walk


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


MAX_LARGE_SOURCE_BYTES = 32 * 1024 * 1024    # a source read even with --include-large (tree-sitter needs ~60x)


# In pathspec's regular expression of a pattern, a star within a name is `[^/]*`. A star followed by a
# fixed-length piece (escaped or plain characters, `?` as `[^/]`, bracket classes) and then another star:
_STAR_RUN = re.compile(r"(?:\[\^/\]\*){2,}")
_STAR_PIECE = re.compile(r"\[\^/\]\*((?:\\.|\[(?:\\.|[^\]\\])+\]|[^\\\[\](){}|*+?.^$/])+)(?=\[\^/\]\*)")


def linear_regex(regex: str) -> str:
    """The same matches without the backtracking of several stars within a name (`*a*a*a*a*a*z` or
    `*?*?*?*?*?*z` against a long name: minutes): a run of stars is one star, and each `*PIECE` that another star
    follows takes the piece's first occurrence, atomically (a lookahead captures it and a backreference consumes
    it: Python before 3.11 has no atomic groups). First occurrence is exact for fixed-length pieces: a later one
    leaves a suffix of the earlier one's remainder for the star that follows."""
    regex = _STAR_RUN.sub("[^/]*", regex)
    n = 0

    def atomic(m: re.Match) -> str:
        nonlocal n
        n += 1
        return f"(?=(?P<cfx{n}>[^/]*?{m.group(1)}))(?P=cfx{n})"
    return _STAR_PIECE.sub(atomic, regex)


def _load_spec(root: str, rel: str, errors: list[ScanError]) -> pathspec.PathSpec | None:
    try:
        text = inputs.read_text(root, rel, limit=inputs.CONFIG_LIMIT, errors="replace")
    except inputs.InputError as exc:
        errors.append(ScanError(rel, f"cannot read ignore file: {exc.detail if exc.kind == 'error' else exc.message}"))
        return None
    import pathspec   # here: ~14 ms to import, and a repository without ignore files never needs it
    try:
        spec = pathspec.GitIgnoreSpec.from_lines(text.splitlines())
        for pat in spec.patterns:     # the backend matches through each pattern's `regex`
            rx = getattr(pat, "regex", None)
            if rx is not None and rx.pattern.count("[^/]*") > 1:
                pat.regex = re.compile(linear_regex(rx.pattern))
        return spec
    except Exception as exc:  # a malformed pattern must not stop the scan
        errors.append(ScanError(rel, f"invalid ignore pattern: {exc}"))
        return None


def display_path(rel: str) -> str:
    """A path as reports can print it: bytes of a name that are not UTF-8 (kept by the file system layer as
    surrogates) written as \\xNN escapes."""
    try:
        rel.encode("utf-8")
        return rel
    except UnicodeEncodeError:
        return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def discover(root: Path, *, include_large: bool = False, max_bytes: int = MAX_FILE_BYTES,
             use_gitignore: bool = True) -> Discovery:
    """Walk ``root`` and return what to scan. Never raises for a bad file; records it in ``skipped``. Every
    listing, probe and read goes through inputs.py."""
    root = Path(inputs.resolve(root))
    root_s = str(root)
    result = Discovery(root=root)
    ignore = _IgnoreRules()
    if inputs.kind(root_s, ".cfcompatignore") == "file":
        spec = _load_spec(root_s, ".cfcompatignore", result.skipped)
        if spec:
            ignore.push("", spec)
    seen_dirs: set[tuple[int, int]] = set()

    def walk(rel_dir: str) -> None:
        key = inputs.identity(root_s, rel_dir)
        if key is None:
            result.skipped.append(ScanError(rel_dir or ".", "cannot read folder; skipped"))
            return
        if key in seen_dirs:
            result.skipped.append(ScanError(rel_dir, "symlink loop (folder already visited); skipped"))
            return
        seen_dirs.add(key)
        try:
            entries = inputs.scandir(root_s, rel_dir)
        except inputs.InputError as exc:
            result.skipped.append(ScanError(rel_dir or ".", f"cannot list folder: {exc.detail or exc.message}; skipped"))
            return
        if use_gitignore:
            gi = next((e for e in entries if e.name == ".gitignore"), None)
            if gi is not None and not gi.is_link and gi.kind == "file":
                spec = _load_spec(root_s, gi.rel, result.skipped)
                if spec:
                    ignore.push(rel_dir, spec)
        for entry in entries:
            name = entry.name
            rel = entry.rel
            if name != display_path(name):
                result.skipped.append(ScanError(display_path(rel), "name is not valid UTF-8; skipped"))
                continue
            if entry.is_link and entry.kind == "outside":
                result.skipped.append(ScanError(rel, "symlink pointing outside the scanned folder; not followed"))
                continue
            if entry.is_link and entry.kind == "broken":
                result.skipped.append(ScanError(rel, "broken symlink; skipped"))
                continue
            if entry.kind == "error":
                result.skipped.append(ScanError(rel, f"cannot stat: {entry.error}; skipped"))
                continue
            if entry.kind == "dir":
                low = name.lower()
                venv = inputs.exists(root_s, rel + "/pyvenv.cfg")
                if low in SKIP_DIRS or venv:
                    if low in ("node_modules", "site-packages", ".venv", "venv", ".virtualenv") or venv:
                        result.vendor_dirs.append(rel)
                    continue
                if ignore.ignored(rel, True):
                    continue
                walk(rel)
                continue
            if ignore.ignored(rel, False):
                continue
            if entry.kind != "file":
                result.skipped.append(ScanError(rel, "not a regular file (FIFO, socket or device); skipped"))
                continue
            size = entry.size
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

    try:
        walk("")
    except OutOfTime:   # --max-seconds: what was found so far is scanned; the engine says the walk was cut
        result.incomplete = True
    result.vendor_dirs.sort()
    result.other_files.sort()
    result.sources.sort(key=lambda s: s.path)
    return result


def read_source(root: Path, rel: str) -> tuple[bytes | None, str | None]:
    """Read a source file as UTF-8 bytes for tree-sitter. Returns (data, None) or (None, reason). Bytes that
    are not UTF-8 are left for `extract.parse_bytes` to replace (the file is scanned, with a note)."""
    try:
        raw = inputs.read_bytes(root, rel, limit=MAX_LARGE_SOURCE_BYTES)
    except inputs.InputError as exc:
        if exc.kind == "absent":
            return None, "file disappeared during the scan; skipped"
        if exc.kind == "error":
            return None, f"cannot read: {exc.detail}; skipped"
        if exc.kind == "too-large":
            return None, (f"file is {exc.size / 1048576:.1f} MiB, over the {MAX_LARGE_SOURCE_BYTES // 1048576} MiB "
                          "limit even with --include-large; skipped")
        return None, f"{exc.message.replace('; not read', '')}; skipped"
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            raw = raw.decode("utf-16").encode("utf-8")
        except UnicodeError:
            return None, "invalid UTF-16; skipped"
    if b"\x00" in raw[:8192]:
        return None, "binary file (NUL bytes) with a source extension; skipped"
    if raw.count(b"\n") == 0 and len(raw) > 200_000 or _looks_minified(raw):
        return None, "minified or generated code (very long lines); skipped"
    return raw, None


def _looks_minified(raw: bytes) -> bool:
    if len(raw) < 20_000:
        return False
    lines = raw.count(b"\n") + 1
    return len(raw) / lines > 1000
