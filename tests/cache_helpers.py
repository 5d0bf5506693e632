"""Helpers shared by the result-cache and replay tests: a fixture repository to change, and a CLI run's exit
status and stdout."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def exit_and_stdout(capsys, run: Callable[[], None]) -> tuple[int, str]:
    try:
        run()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().out


def copy_repo(tmp_path: Path, fixture: str = "express-multer-sqlite-cron") -> Path:
    r = tmp_path / "repo"
    shutil.copytree(FIX / fixture, r)
    return r


def change_manifest(r: Path, name: str = "sharp", version: str = "^0.33.0") -> None:
    """A new dependency in package.json."""
    pkg = json.loads((r / "package.json").read_text())
    pkg.setdefault("dependencies", {})[name] = version
    (r / "package.json").write_text(json.dumps(pkg))


def change_installed_package(r: Path) -> None:
    """node_modules/left-pad (made by the test) gains a native build file."""
    (r / "node_modules" / "left-pad" / "binding.gyp").write_text("{}")
