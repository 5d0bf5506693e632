"""Every annotated fixture, both ways: an `expect` without its finding fails, a finding on an `ok` line
fails, and a non-info finding on a line with no annotation fails."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.reports.json_report import document

from annotations import compare, read_annotations

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ANNOTATED = sorted(p.parent for p in FIXTURES.glob("*/cfcompat-fixture.yaml"))


def _options(cfg: dict) -> ScanOptions:
    return ScanOptions(target=cfg.get("target"), compat_date=cfg.get("compat_date"),
                       compat_flags=list(cfg.get("compat_flags") or []), plan=cfg.get("plan", "paid"), jobs=1)


def test_there_are_annotated_fixtures():
    assert len(ANNOTATED) >= 4, ANNOTATED


def _cases():
    """(fixture, variant name or None, options): the default scan and each variant of every fixture."""
    out = []
    for fx in ANNOTATED:
        cfg = yaml.safe_load((fx / "cfcompat-fixture.yaml").read_text()) or {}
        out.append(pytest.param(fx, None, cfg, id=fx.name))
        for name, vcfg in sorted((cfg.get("variants") or {}).items()):
            out.append(pytest.param(fx, name, vcfg or {}, id=f"{fx.name}@{name}"))
    return out


@pytest.mark.parametrize("fixture,variant,cfg", _cases())
def test_fixture_annotations(fixture: Path, variant: str | None, cfg: dict):
    result = scan(fixture, _options(cfg))
    doc = document(result)
    ex = read_annotations(fixture, variant)
    assert ex.expect or cfg.get("expect_verdict") == "ready", "fixture has no expectations"
    problems = compare(ex, doc["findings"])
    assert not problems, "\n".join(problems)
    if "expect_verdict" in cfg:
        assert doc["summary"]["verdict"] == cfg["expect_verdict"]
    flagged = {d["name"] for d in doc["dependencies"] if d["verdict"] in ("incompatible", "replace")}
    for name in cfg.get("expect_dependencies") or []:
        assert name in flagged, f"dependency {name} not flagged; flagged: {sorted(flagged)}"


def test_flipped_annotation_is_caught(tmp_path: Path):
    """Flip one `expect` into `ok` in a copy of a fixture: the comparison must report it."""
    src = next(p for p in ANNOTATED if (p / "cfcompat-fixture.yaml").exists()
               and read_annotations(p).expect)
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    ex = read_annotations(dst)
    path, line, rule = sorted(ex.expect)[0]
    f = dst / path
    lines = f.read_text().splitlines(keepends=True)
    lines[line - 1] = lines[line - 1].replace("cfcompat-expect:", "cfcompat-ok:", 1)
    f.write_text("".join(lines))
    cfg = yaml.safe_load((dst / "cfcompat-fixture.yaml").read_text()) or {}
    doc = document(scan(dst, _options(cfg)))
    problems = compare(read_annotations(dst), doc["findings"])
    assert any("false positive on an ok line" in p and f"{path}:{line}" in p for p in problems), problems


def test_missing_finding_is_caught(tmp_path: Path):
    """An expectation on a harmless line must be reported as missing."""
    (tmp_path / "a.js").write_text("const x = 1; // cfcompat-expect: fs-persistent-write\n")
    doc = document(scan(tmp_path, ScanOptions(jobs=1)))
    problems = compare(read_annotations(tmp_path), doc["findings"])
    assert problems == ["missing: fs-persistent-write at a.js:1"]
