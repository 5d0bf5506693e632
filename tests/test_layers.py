"""The layers run one way (discover -> parse -> facts -> rules -> findings -> assessment -> reports -> CLI),
checked by a machine: import-linter's contracts in `.importlinter`, and every analyzer module placed in them (a
module left out of the layers contract would be checked by nothing)."""
from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _config() -> configparser.ConfigParser:
    cp = configparser.ConfigParser()
    cp.read(ROOT / ".importlinter", encoding="utf-8")
    return cp


def _layer_modules() -> set[str]:
    layers = _config()["importlinter:contract:layers"]["layers"]
    return {m.strip() for line in layers.splitlines() for m in line.split("|") if m.strip()}


def test_every_analyzer_module_is_in_a_layer():
    listed = _layer_modules()
    missing = []
    for p in sorted((ROOT / "analyzer").iterdir()):
        name = p.stem if p.suffix == ".py" else p.name
        if name.startswith("_") or name.startswith(".") or (p.is_dir() and not (p / "__init__.py").exists()):
            continue
        if p.suffix != ".py" and not p.is_dir():
            continue
        if f"cfcompat.analyzer.{name}" not in listed:
            missing.append(name)
    assert missing == [], f"place these modules in a layer of .importlinter: {missing}"
    assert {"cfcompat.rules", "cfcompat.reports"} <= listed


def test_import_linter_contracts_are_kept():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "import-linter is a test dependency (pyproject [test] extra)"
    p = subprocess.run([exe, "--config", str(ROOT / ".importlinter")], capture_output=True, text=True, cwd=ROOT,
                       timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    assert "0 broken" in p.stdout


def test_the_check_sees_a_broken_layer(tmp_path):
    """The same contracts with two layers swapped (the CLI below the parsers) must fail: the check is live."""
    text = (ROOT / ".importlinter").read_text(encoding="utf-8")
    swapped = text.replace("    cfcompat.analyzer.cli\n", "    @@CLI@@\n", 1)
    swapped = swapped.replace("    cfcompat.analyzer.parsing | cfcompat.analyzer.manifests\n",
                              "    cfcompat.analyzer.cli\n", 1).replace("    @@CLI@@\n",
                                                                          "    cfcompat.analyzer.parsing | "
                                                                          "cfcompat.analyzer.manifests\n", 1)
    assert swapped != text
    cfg = tmp_path / "swapped.ini"
    cfg.write_text(swapped, encoding="utf-8")
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    p = subprocess.run([exe, "--config", str(cfg)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode != 0 and "broken" in p.stdout
