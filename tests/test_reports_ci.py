"""CI formats: JUnit XML parses and follows --fail-on; GitHub workflow commands are escaped; -o writes several
formats in one run."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cfcompat.analyzer.assessment import scan_and_assess
from cfcompat.analyzer.cli import main
from cfcompat.reports import render
from cfcompat.reports.github import command, escape_data, escape_property

from reports_helpers import make_hostile_repo

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return exc.value.code or 0, out.out, out.err


@pytest.fixture(scope="module")
def express():
    return scan_and_assess(FIXTURES / "express-multer-sqlite-cron")


@pytest.mark.parametrize("fail_on, failing", [("never", set()), ("blocker", {"blocker"}),
                                              ("warning", {"blocker", "warning"})])
def test_junit_follows_fail_on(express, fail_on, failing):
    root = ET.fromstring(render("junit", express, fail_on=fail_on).encode("utf-8"))
    assert root.tag == "testsuites"
    cases = root.findall(".//testcase")
    assert int(root.get("tests")) == len(cases)
    fails = root.findall(".//failure")
    assert int(root.get("failures")) == len(fails)
    assert {f.get("type") for f in fails} <= failing
    expected = {(f.path, f.rule_id) for f in express.findings if f.severity in failing}
    got = {(tc.get("classname"), tc.get("name")) for tc in cases if tc.find("failure") is not None}
    assert got == expected
    for tc in cases:
        if tc.find("failure") is None and tc.get("file"):
            assert tc.find("system-out") is not None


def test_junit_with_hostile_text_and_errors(tmp_path):
    result = scan_and_assess(make_hostile_repo(tmp_path))
    root = ET.fromstring(render("junit", result, fail_on="blocker").encode("utf-8"))
    assert any("<script>" in (f.text or "") for f in root.iter("failure"))     # text kept, XML-escaped
    assert root.find(".//testsuite[@name='cfcompat.errors']/testcase/skipped") is not None


def test_github_escaping():
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert command("error", "x:y,z", file="a,b.js", line=3, title="t:1") == \
        "::error file=a%2Cb.js,line=3,title=t%3A1::x:y,z"


def test_github_annotations(tmp_path):
    result = scan_and_assess(make_hostile_repo(tmp_path))
    out = render("github", result)
    lines = out.splitlines()
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    blockers = [f for f in result.findings if f.severity == "blocker"]
    assert sum(1 for line in lines if line.startswith("::error ")) == len(blockers)
    hostile = next(line for line in lines if "fs-persistent-write" in line)
    assert "%250A" in hostile or "%0A" in hostile
    assert "title=fs-persistent-write (filesystem)" in hostile
    assert any("file=src/bad.js" in line for line in lines)


def test_several_outputs_in_one_run(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["scan", str(FIXTURES / "fastapi-apscheduler-psycopg2"), "--format", "json",
            "--requests-per-month", "12000000", "--cpu-ms", "7", "--current-monthly-cost", "80",
            "--workload", "r2_storage_gb=300"]
    for fmt, name in (("markdown", "plan.md"), ("html", "report.html"), ("sarif", "r.sarif"),
                      ("junit", "junit.xml"), ("github", "gh.txt"), ("json", "r.json")):
        args += ["-o", f"{fmt}:{out / name}"]
    code, stdout, err = run(args, capsys)
    assert code == 0, err
    doc = json.loads(stdout)
    for key in ("compatibility", "rewrite_scope", "effort", "cost"):
        assert key in doc
    a = doc["cost"]["assumptions"]
    assert a["requests_per_month"] == 12_000_000 and a["cpu_ms"] == 7 and a["r2_storage_gb"] == 300
    assert doc["cost"]["current_monthly_usd"] == 80.0
    assert json.loads((out / "r.json").read_text()) == doc
    assert (out / "plan.md").read_text().startswith("# Migration plan")
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert json.loads((out / "r.sarif").read_text())["version"] == "2.1.0"
    ET.fromstring((out / "junit.xml").read_bytes())
    assert (out / "gh.txt").read_text().startswith("::")


def test_bad_workload_is_a_usage_error(tmp_path, capsys):
    code, _, err = run(["scan", str(tmp_path), "--workload", "bogus=1"], capsys)
    assert code == 2 and err.count("\n") == 1 and "bogus" in err
