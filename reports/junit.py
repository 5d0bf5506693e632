"""`--format junit`: JUnit XML for CI test reporters.

One <testsuite> per category and one <testcase> per rule and file (classname = the file relative to the repository
root, name = the rule id), so a CI dashboard lists "services/chat/src/db.js / <rule id>" like a failing test.
Which findings fail: blockers by default, whatever the exit status does (a blocked repository is never reported
as all green); `--fail-on` given on the command line or in the config file sets the threshold instead
(`warning`: blockers and warnings, `never`: none). Findings below the threshold are passing testcases whose
<system-out> lists them, so nothing is hidden. Categories without findings among the core four
get one passing testcase each, so a clean scan still reports tests. Deterministic: no timestamps or durations.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any

from ..analyzer.model import CATEGORIES, SEVERITY_RANK, fails as fails_run
from .escape import printable
from .options import RenderOptions

CORE = ("filesystem", "native-module", "model-loading", "long-running")


_NOT_XML = re.compile(r"[\ud800-\udfff\ufffe\uffff]")


def _clean(text: str, keep_breaks: bool = True) -> str:
    """XML 1.0 cannot hold most control characters, even escaped, nor lone surrogates (a file name that is not
    UTF-8) or U+FFFE/U+FFFF: they are shown as `\\x1b`-style escapes (line breaks too in attributes such as a
    file name)."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group(0)):04x}", printable(text, keep_breaks=keep_breaks))


def render(result, options: RenderOptions | None = None, **kwargs: Any) -> str:
    opts = RenderOptions.of(options, **kwargs)
    fail_on = opts.junit_fail_on

    groups: dict[str, dict[tuple[str, str], list]] = defaultdict(lambda: defaultdict(list))
    for f in result.findings:
        groups[f.category][(opts.repo_path(f.path), f.rule_id)].append(f)
    root = ET.Element("testsuites", name="cfcompat", tests="0", failures="0", errors="0")
    total = fails = 0
    for cat in CATEGORIES:
        if cat not in groups and cat not in CORE:
            continue
        suite = ET.SubElement(root, "testsuite", name=f"cfcompat.{cat}", tests="0", failures="0", errors="0",
                              skipped="0")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="target", value=result.settings.target)
        ET.SubElement(props, "property", name="compatibility_date", value=result.settings.compatibility_date)
        n = nf = 0
        if cat not in groups:
            ET.SubElement(suite, "testcase", classname=f"cfcompat.{cat}", name=f"{cat} compatible")
            n = 1
        for (path, rule_id), fs in sorted(groups.get(cat, {}).items()):
            fs.sort(key=lambda f: f.line)
            tc = ET.SubElement(suite, "testcase", classname=_clean(path, False), name=rule_id, file=_clean(path, False),
                               line=str(fs[0].line))
            n += 1
            failing = [f for f in fs if fails_run(SEVERITY_RANK[f.severity], fail_on)]
            body = "\n".join(_clean(f"{path}:{f.line}:{f.column} {f.severity} {f.rule_id}: {f.message}\n"
                                    f"    {f.snippet.strip()}\n    fix: {f.remediation}"
                                    + (f"\n    note: {f.note}" if f.note else "")) for f in fs)
            if failing:
                worst = max(failing, key=lambda f: SEVERITY_RANK[f.severity])
                fail = ET.SubElement(tc, "failure", type=worst.severity,
                                     message=_clean(f"{len(failing)} {worst.severity}(s): {worst.message}"))
                fail.text = body
                nf += 1
            else:
                out = ET.SubElement(tc, "system-out")
                out.text = body
        suite.set("tests", str(n))
        suite.set("failures", str(nf))
        total += n
        fails += nf
    if result.errors:
        suite = ET.SubElement(root, "testsuite", name="cfcompat.errors", tests="0", failures="0", errors="0",
                              skipped="0")
        for e in result.errors:
            tc = ET.SubElement(suite, "testcase", classname=_clean(opts.repo_path(e.path), False), name="analysed",
                               file=_clean(opts.repo_path(e.path), False))
            sk = ET.SubElement(tc, "skipped", message=_clean(e.message))
            sk.text = _clean(e.message)
        suite.set("tests", str(len(result.errors)))
        suite.set("skipped", str(len(result.errors)))
        total += len(result.errors)
    root.set("tests", str(total))
    root.set("failures", str(fails))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
