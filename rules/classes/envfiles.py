"""Committed .env files: which names count, and the first line that holds a secret (value masked).

The `committed-env-file` rule in rules/packs/config.yaml matches files by name (`match.files`), which is all the
engine offers for repository files today: a rule class cannot yet report a finding on a file that is not a
source file. `EnvFileSecrets.check_file()` is written for the engine hook that would close that gap (called
with a repository file's path, it returns the Hit for the first secret line, or None); until then the helpers
are used by tests and by anyone calling them directly. Nothing here ever returns or prints a secret value.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ...analyzer import inputs
from ..model import Hit

# File names (lower-cased basename) that hold environment values, and the templates that do not.
ENV_FILE_GLOBS = (".env", ".env.*", "*.env", ".dev.vars")
TEMPLATE_WORDS = ("example", "sample", "template", "dist", "defaults", "schema", "tpl")

# Nothing here looks at calls: EnvFileSecrets reads repository files.
CALLS: tuple[str, ...] = ()

_ASSIGN = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*[=:]\s*(.*)$")   # on stripped lines: linear
_SECRET_NAME = re.compile(
    r"(?i)(^|[_.\-])(api[_\-]?key|key|secret|secrets|token|password|passwd|pwd|pass|credentials?|"
    r"private[_\-]?key|access[_\-]?key|auth|dsn|salt|cookie[_\-]?secret|session[_\-]?secret)($|[_.\-])"
    r"|token$|secret$|password$|^database_url$|^db_url$|^redis_url$|^mongo(db)?_ur[il]$")
_PUBLIC_NAME = re.compile(r"(?i)public|publishable|^next_public_|^vite_|^react_app_")
_CRED_URL = re.compile(r"^[a-z][a-z0-9+.\-]*://[^/\s:@]+:[^/\s@]+@", re.I)
_PLACEHOLDER = re.compile(
    r"(?i)^(<[^>]*>|\$\{[^}]*\}|\$[A-Z_]+|x+|\*+|\.+|changeme|change[_\-]?me|your[_\-].*|todo|tbd|placeholder|"
    r"example|dummy|none|null|false|true|secret|password|xxx.*|\?+|-)$")


def is_env_file(rel: str) -> bool:
    """A committed environment file (not a template such as .env.example / .env.sample / .env.template)."""
    name = PurePosixPath(rel).name.lower()
    if not any(fnmatch.fnmatchcase(name, g) for g in ENV_FILE_GLOBS):
        return False
    parts = re.split(r"[.\-_]", name)
    return not any(w in parts for w in TEMPLATE_WORDS)


def _unquote(v: str) -> str:
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"`":
        return v[1:-1]
    # an unquoted value ends at an inline comment
    return re.split(r"\s#", v, maxsplit=1)[0].strip()   # not \s+#: quadratic on a long run of spaces


@dataclass(frozen=True)
class SecretLine:
    line: int          # 1-based
    key: str
    masked: str        # the line with the value replaced by ****


def is_secret_assignment(key: str, value: str) -> bool:
    v = _unquote(value)
    if not v or _PLACEHOLDER.match(v):
        return False
    if _CRED_URL.match(v):
        return True
    if _PUBLIC_NAME.search(key) and not re.search(r"(?i)secret", key):
        return False
    return bool(_SECRET_NAME.search(key))


def first_secret(text: str) -> SecretLine | None:
    """The first `NAME=value` line whose name looks secret and whose value is set (not a placeholder)."""
    for i, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        m = _ASSIGN.match(s)
        if not m:
            continue
        key, value = m.group(1), m.group(2)
        if is_secret_assignment(key, value):
            return SecretLine(i, key, mask_line(raw))
    return None


def mask_line(raw: str) -> str:
    """`export API_KEY="abc"` -> `export API_KEY=****` (the value never survives, not even its length)."""
    m = _ASSIGN.match(raw.strip())
    if not m:
        return "****"
    prefix = "export " if raw.strip().startswith("export ") else ""
    sep = "=" if "=" in raw else ":"
    return f"{prefix}{m.group(1)}{sep}****"


class EnvFileSecrets:
    """For an engine hook over repository files: a Hit on the first secret line of a committed .env file."""

    def check_file(self, rule: Any, rel: str, root: Path) -> Hit | None:
        if not is_env_file(rel):
            return None
        try:
            text = inputs.read_text(root, rel, limit=inputs.CONFIG_LIMIT, errors="replace")
        except inputs.InputError:
            return None
        found = first_secret(text)
        if found is None:
            return None
        return Hit(found.line, 1, found.line, found.masked,
                   message=f"Commits `{PurePosixPath(rel).name}` with a secret ({found.key}, value masked); "
                           "move it to a Worker secret (`wrangler secret put`) and remove the file from the repository.")
