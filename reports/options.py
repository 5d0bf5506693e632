"""How a report is rendered, apart from what the scan found: one typed value every formatter receives.

`cfcompat scan` builds it from its options (`--fail-on`, `--min-severity`, `--color`, `--width`) and from where
the scanned folder sits in its repository (`repository_prefix`, found with git by
`analyzer.gitdiff.repository_prefix`). Formatters never look at the terminal, the environment or git themselves,
so a report is a function of (result, options) and the result cache can key on `RenderOptions.key()`.
"""
from __future__ import annotations

import os
import posixpath
import shutil
import sys
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

SEVERITIES = ("blocker", "warning", "info")
RANK = {"blocker": 3, "warning": 2, "info": 1}
FAIL_ON = ("blocker", "warning", "never")

# Formats whose paths are relative to the repository root (code scanning, annotations, test reports, PR comment).
# The JSON contract, text, markdown and HTML keep paths relative to the scanned folder.
REPOSITORY_PATH_FORMATS = frozenset({"sarif", "github", "github-summary", "junit"})

# GitHub shows at most 10 annotations of each level per step (and 50 per job); the rest go to the job summary.
ANNOTATIONS_PER_LEVEL = 10


@dataclass(frozen=True)
class RenderOptions:
    fail_on: str = "never"              # the exit threshold (--fail-on, or the config file)
    junit_fail_on: str = "blocker"      # which findings JUnit marks as <failure>: --fail-on when given, else blockers
    color: bool = False                 # ANSI colour in text (a terminal)
    width: int | None = None            # text width in columns; None: unwrapped, one line per item (a pipe)
    min_severity: str = "info"          # findings below it are not listed (counts still say they exist)
    repository_prefix: str = ""         # the scanned folder relative to the repository root: '' or 'svc/chat/'
    annotations_per_level: int = ANNOTATIONS_PER_LEVEL
    workload: Any = None                # the cost workload (markdown / html), when a caller passes one

    def __post_init__(self) -> None:
        if self.fail_on not in FAIL_ON:
            raise ValueError(f"fail_on: {self.fail_on!r}")
        if self.junit_fail_on not in FAIL_ON:
            raise ValueError(f"junit_fail_on: {self.junit_fail_on!r}")
        if self.min_severity not in SEVERITIES:
            raise ValueError(f"min_severity: {self.min_severity!r}")
        p = self.repository_prefix.replace("\\", "/").strip("/")
        object.__setattr__(self, "repository_prefix", (p + "/") if p and p != "." else "")

    @classmethod
    def of(cls, options: "RenderOptions | None" = None, **kwargs: Any) -> "RenderOptions":
        """`options`, or options built from keyword arguments (the older `render(fmt, result, fail_on=...)`
        calls); unknown keywords are ignored."""
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in kwargs.items() if k in known and v is not None}
        if "fail_on" in kw and "junit_fail_on" not in kw:
            kw["junit_fail_on"] = kw["fail_on"]
        if options is None:
            return cls(**kw)
        return replace(options, **kw) if kw else options

    def repo_path(self, path: str) -> str:
        """A scan-relative path as a repository-relative one."""
        if not self.repository_prefix:
            return path
        return posixpath.normpath(self.repository_prefix + path) if path else self.repository_prefix.rstrip("/")

    def shows(self, severity: str) -> bool:
        return RANK[severity] >= RANK[self.min_severity]

    def key(self) -> dict[str, Any]:
        """What the result cache keys a rendering on."""
        d = asdict(self)
        d.pop("workload", None)
        return d


def terminal_width(stream=None, default: int = 100) -> int | None:
    """The width text should wrap at on a terminal: COLUMNS when set, else the terminal's width. None when
    `stream` is not a terminal (piped or redirected: plain lines, not wrapped)."""
    stream = sys.stdout if stream is None else stream
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError, OSError):
        return None
    env = os.environ.get("COLUMNS", "").strip()
    if env.isdigit() and int(env) > 0:
        return max(40, int(env))
    try:
        cols = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        cols = shutil.get_terminal_size((default, 24)).columns
    return max(40, cols) if cols else default
