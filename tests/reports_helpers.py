"""A small repository whose code carries hostile text, for the report tests."""
from __future__ import annotations

from pathlib import Path

HOSTILE = '</details><script>alert(1)</script> @octocat #123 ```x``` | <img src=x onerror=alert(2)> %0A:,'


def make_hostile_repo(root: Path) -> Path:
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "index.js").write_text(
        "const fs = require('fs');\n"
        "const cron = require('node-cron');\n"
        f"function save() {{ fs.writeFileSync('data/out.json', \"{HOSTILE}\"); }}\n"
        "cron.schedule('*/5 * * * 1-5', save);\n"
        "module.exports = save;\n", encoding="utf-8")
    (root / "src" / "bad.js").write_bytes(b'const x = "\xff\xfe bad utf8";\n')
    (root / "package.json").write_text('{"name": "hostile-app", "dependencies": {"node-cron": "^3.0.0"}}\n',
                                       encoding="utf-8")
    return root
