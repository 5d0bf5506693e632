"""Every rule has a message, remedy, effort and docs link (tests/test_rules_data.py), and every rule fires
somewhere: on an annotated fixture line, or (for repository-file, dependency and info-level rules) on a
fixture or a small repository built here."""
from __future__ import annotations

import json
from pathlib import Path

from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.rules import load_rules

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def _synthetic(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "models").mkdir()
    (root / "public").mkdir()
    (root / "node_modules" / "big").mkdir(parents=True)
    (root / "package.json").write_text(json.dumps(
        {"name": "s", "main": "src/index.js",
         "dependencies": {"better-sqlite3": "^11.0.0", "ws": "^8.18.0", "big": "1.0.0"}}, indent=2))
    (root / "src" / "index.js").write_text("import data from './data.json';\nexport default { fetch() { return "
                                           "new Response(JSON.stringify(data)) } }\n")
    (root / ".env").write_text("API_TOKEN=abc123\n")
    for rel, mb in (("models/small.onnx", 6), ("models/big.gguf", 70), ("public/intro.mp4", 26),
                    ("node_modules/big/blob.bin", 70), ("src/data.json", 12)):
        with open(root / rel, "wb") as fh:
            fh.truncate(mb * 1048576)     # sparse files: sizes without disk use
    return root


def test_every_rule_fires_somewhere(tmp_path: Path):
    fired: set[str] = set()
    repos = [p.parent for p in FIX.glob("*/cfcompat-fixture.yaml")] + [_synthetic(tmp_path / "synthetic")]
    for repo in repos:
        for target in ("workers", "containers"):
            r = scan(repo, ScanOptions(jobs=1, target=target, use_cache=False))
            fired |= {f.rule_id for f in r.findings}
            fired |= {d["rule_id"] for d in r.suppressed}
        fired |= {f.rule_id for f in scan(repo, ScanOptions(jobs=1, compat_date="2025-01-01",
                                                            use_cache=False)).findings}
    missing = sorted(r.id for r in load_rules() if r.id not in fired)
    assert not missing, f"rules that no fixture or synthetic repository triggers: {missing}"
