"""The development corpus (corpus/GUIDE.md): label files are valid and balanced, and the scorer counts what the
guide says. The corpus trees themselves are not in the repository (scripts/corpus.py materialises them); these
tests need no network."""
from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
REPOS = sorted((ROOT / "corpus" / "repos").glob("*.yaml"))


def _scorer():
    spec = importlib.util.spec_from_file_location("corpus_script", ROOT / "scripts" / "corpus.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod          # dataclasses look their module up while the class is made
    spec.loader.exec_module(mod)
    return mod


corpus = _scorer()


def _load(p: Path) -> dict:
    return yaml.safe_load(p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", REPOS, ids=[p.stem for p in REPOS])
def test_label_file_is_valid(path: Path) -> None:
    schema = json.loads((ROOT / "corpus" / "label.schema.json").read_text())
    data = _load(path)
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["id"] == path.stem
    keys = [(lb["path"], lb["line"], lb["category"]) for lb in data["labels"]]
    assert len(keys) == len(set(keys)), "duplicate labels"
    for lb in data["labels"]:
        assert (lb["workers"] == "ok") == (lb.get("trap") is not None), lb
        assert lb["category"] not in (lb.get("also") or []), lb


def test_corpus_shape() -> None:
    """The issue's floor: >= 30 repositories, about half JS/TS and half Python, >= 6 negative controls, a third
    kept for validation, every subject with labelled problems."""
    data = [_load(p) for p in REPOS]
    assert len(data) >= 30
    py = sum(1 for d in data if d["language"] == "python")
    js = sum(1 for d in data if d["language"] in ("javascript", "typescript"))
    assert min(py, js) >= 0.35 * len(data), (py, js)
    assert sum(1 for d in data if d["kind"] == "negative-control") >= 6
    val = sum(1 for d in data if d["split"] == "validation")
    assert 0.28 <= val / len(data) <= 0.40, val
    for d in data:
        if d["kind"] == "subject":
            assert any(lb["workers"] != "ok" for lb in d["labels"]), d["id"]
    assert len({d["repo"] for d in data}) == len(data), "a repository labelled twice"


def _repo(kind: str = "subject", labels: list[dict] | None = None) -> "corpus.Repo":
    return corpus.Repo("x", {"id": "x", "kind": kind, "split": "dev", "target": "workers", "commit": "0" * 40,
                             "labels": labels or []}, Path("x.yaml"))


def _label(line: int, category: str, workers: str = "blocker", also: list[str] | None = None,
           path: str = "a.js") -> dict:
    return {"path": path, "line": line, "hash": "0" * 10, "category": category, "also": also or [],
            "workers": workers, "containers": "ok", "trap": "test" if workers == "ok" else None, "note": "n"}


def _finding(line: int, category: str, severity: str = "blocker", path: str = "a.js") -> dict:
    return {"path": path, "line": line, "category": category, "severity": severity, "rule_id": "r", "snippet": ""}


def test_scoring_matches_within_two_lines_in_the_category() -> None:
    r = _repo(labels=[_label(10, "filesystem"), _label(20, "database", also=["filesystem"]),
                      _label(30, "state", workers="warning"), _label(40, "subprocess")])
    doc = {"findings": [
        _finding(12, "filesystem"),              # found (2 lines away)
        _finding(20, "filesystem", "warning"),   # found through `also`
        _finding(33, "state"),                   # 3 lines away: not found, unjudged
        _finding(40, "network"),                 # on the line, wrong category: judged false
        _finding(40, "subprocess", "info"),      # info never counts
        _finding(99, "limits"),                  # no label near: unjudged
    ]}
    s = corpus.score_repo(r, doc)
    assert (s.total.problems, s.total.found) == (4, 2)
    assert (s.total.tp, s.total.fp, s.total.unjudged) == (2, 1, 2)
    assert [lb["line"] for lb in s.misses] == [30, 40]
    assert s.by_cat["state"].problems == 1 and s.by_cat["state"].found == 0
    assert s.total.blocker_problems == 3 and s.total.blocker_found == 2


def test_traps_judge_their_category_nearby_and_anything_on_their_line() -> None:
    r = _repo(labels=[_label(5, "filesystem", workers="ok")])
    doc = {"findings": [_finding(5, "native-module"), _finding(6, "filesystem"), _finding(7, "native-module")]}
    s = corpus.score_repo(r, doc)
    assert (s.total.tp, s.total.fp, s.total.unjudged) == (0, 2, 1)


def test_every_blocker_on_a_negative_control_is_false() -> None:
    r = _repo(kind="negative-control", labels=[_label(5, "filesystem", workers="ok")])
    doc = {"findings": [_finding(100, "limits"), _finding(200, "state", "warning"), _finding(5, "filesystem",
                                                                                             "warning")]}
    s = corpus.score_repo(r, doc)
    assert s.total.nc_blockers == 1
    assert (s.total.tp, s.total.fp, s.total.unjudged) == (0, 2, 1)


def test_line_hash_ignores_surrounding_whitespace_only() -> None:
    assert corpus.line_hash("  app.listen(3000)\t") == corpus.line_hash("app.listen(3000)")
    assert corpus.line_hash("app.listen(3000)") != corpus.line_hash("app.listen(3001)")
    assert len(corpus.line_hash("x")) == 10


def test_summaries_keep_the_parts_apart() -> None:
    dev = corpus.score_repo(_repo(labels=[_label(1, "state")]), {"findings": [_finding(1, "state")]})
    val_repo = _repo(labels=[_label(1, "state")])
    val_repo.data["split"] = "validation"
    val = corpus.score_repo(val_repo, {"findings": []})
    _, d = corpus.summarise([dev, val], "dev", show_repos=False)
    _, v = corpus.summarise([dev, val], "validation", show_repos=False)
    assert d["overall"]["recall"] == 1.0 and v["overall"]["recall"] == 0.0
    assert Counter(d["categories"]) == Counter({"state": d["categories"]["state"]})
