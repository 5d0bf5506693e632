#!/usr/bin/env python3
"""Re-pin the runtime oracle to the newest workerd release on the npm registry: one command.

    python scripts/pin_workerd.py            # newest `workerd` (npm dist-tag latest) + the toolchain of the newest wrangler
    python scripts/pin_workerd.py --check    # print what would change, exit 1 when the pins are behind
    python scripts/pin_workerd.py --workerd 1.20261123.1   # a given release

It asks the npm registry (`npm view`) for the newest installable `workerd` (the `latest` dist-tag; a version
listed in `time` but not installable is skipped), and for the esbuild / unenv / @cloudflare/unenv-preset versions
the newest `wrangler` depends on (what `cfcompat verify` bundles with). It rewrites `PINS` and
`WORKERD_VERSION_LINE` in analyzer/oracle.py. Then run the oracle suite:

    CFCOMPAT_ORACLE_REQUIRED=1 python -m pytest -q -p no:cacheprovider -m oracle tests/oracle

and record the run in rules/kb/sources.yaml (ORACLE). Nothing is installed here; the suite installs the new pins
into its cache folder on first use.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ORACLE_PY = Path(__file__).resolve().parents[1] / "analyzer" / "oracle.py"


def npm_view(spec: str, field: str) -> object:
    npm = shutil.which("npm")
    if not npm:
        raise SystemExit("npm is not on PATH")
    r = subprocess.run([npm, "view", spec, field, "--json"], capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or not r.stdout.strip():
        return None
    return json.loads(r.stdout)


def newest_workerd() -> str:
    latest = npm_view("workerd", "dist-tags.latest")
    if not isinstance(latest, str):
        raise SystemExit("npm did not give workerd's latest dist-tag")
    return latest


def version_line(workerd: str) -> str:
    """`workerd --version` prints the release date encoded in the npm version: 1.20261123.1 -> workerd 2026-11-23."""
    m = re.fullmatch(r"1\.(\d{4})(\d{2})(\d{2})\.\d+", workerd)
    if not m:
        raise SystemExit(f"unexpected workerd version {workerd!r}")
    return f"workerd {m.group(1)}-{m.group(2)}-{m.group(3)}"


def toolchain() -> dict[str, str]:
    deps = npm_view("wrangler@latest", "dependencies") or {}
    out = {}
    for name in ("@cloudflare/unenv-preset", "unenv", "esbuild"):
        v = deps.get(name) if isinstance(deps, dict) else None
        if isinstance(v, str) and re.fullmatch(r"[\w.\-]+", v):
            out[name] = v
    return out


def rewrite(text: str, pins: dict[str, str], line: str) -> str:
    for name, ver in pins.items():
        text = re.sub(r'("' + re.escape(name) + r'":\s*")[^"]+(")', lambda m: m.group(1) + ver + m.group(2), text, count=1)
    return re.sub(r'WORKERD_VERSION_LINE = "[^"]+"', f'WORKERD_VERSION_LINE = "{line}"', text, count=1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workerd", help="pin this workerd version instead of the newest")
    ap.add_argument("--check", action="store_true", help="only report; exit 1 when the pins are behind")
    a = ap.parse_args(argv)
    wd = a.workerd or newest_workerd()
    if npm_view(f"workerd@{wd}", "version") != wd:
        raise SystemExit(f"workerd@{wd} is not installable from the npm registry")
    pins = {"workerd": wd, **toolchain()}
    text = ORACLE_PY.read_text(encoding="utf-8")
    new = rewrite(text, pins, version_line(wd))
    if new == text:
        print(f"pins are current: {', '.join(f'{k}@{v}' for k, v in pins.items())}")
        return 0
    print(f"newest: {', '.join(f'{k}@{v}' for k, v in pins.items())} ({version_line(wd)})")
    if a.check:
        return 1
    ORACLE_PY.write_text(new, encoding="utf-8")
    print(f"rewrote {ORACLE_PY}; now run: CFCOMPAT_ORACLE_REQUIRED=1 python -m pytest -q -p no:cacheprovider -m oracle "
          "tests/oracle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
