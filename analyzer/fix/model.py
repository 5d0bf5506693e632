"""What a fix produces: edited files in an in-memory workspace, and a report per fix of what it changed and what
it left for a person. Nothing touches the disk until `Workspace.commit()`."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

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


class Workspace:
    """Files of the project as the fixes see them: reads go through pending edits, writes stay in memory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._orig: dict[str, str | None] = {}
        self._cur: dict[str, str] = {}

    def _load(self, rel: str) -> str | None:
        if rel not in self._orig:
            p = self.root / rel
            try:
                self._orig[rel] = p.read_text(encoding="utf-8") if p.is_file() else None
            except (OSError, UnicodeDecodeError):
                self._orig[rel] = None
        return self._orig[rel]

    def read(self, rel: str) -> str | None:
        if rel in self._cur:
            return self._cur[rel]
        return self._load(rel)

    def exists(self, rel: str) -> bool:
        return self.read(rel) is not None

    def write(self, rel: str, text: str) -> None:
        self._load(rel)
        self._cur[rel] = text

    def changes(self) -> list[tuple[str, str | None, str]]:
        """(path, before or None for a new file, after) of every file whose text changed, sorted by path."""
        out = []
        for rel in sorted(self._cur):
            before = self._orig.get(rel)
            if before != self._cur[rel]:
                out.append((rel, before, self._cur[rel]))
        return out

    def diff(self) -> str:
        parts = []
        for rel, before, after in self.changes():
            a = (before or "").splitlines(keepends=True)
            b = after.splitlines(keepends=True)
            for lines in (a, b):
                if lines and not lines[-1].endswith("\n"):
                    lines[-1] += "\n\\ No newline at end of file\n"
            parts.append("".join(difflib.unified_diff(a, b, "/dev/null" if before is None else f"a/{rel}",
                                                      f"b/{rel}")))
        return "".join(parts)

    def commit(self) -> list[str]:
        written = []
        for rel, _before, after in self.changes():
            p = self.root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(after, encoding="utf-8")
            written.append(rel)
        return written
