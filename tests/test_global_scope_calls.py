"""I/O and timers reached through a function the module calls at top level run while the Worker starts: the
global-scope rules report them as blockers (workerd: "Disallowed operation called within global scope"; the
oracle test test_verify.py starts such a module)."""
from __future__ import annotations

from cfcompat.analyzer.engine import ScanOptions, scan

SRC = """let cache = null;
function startPolling() {
  setInterval(() => { cache = null; }, 60_000);
}
async function warmUp() {
  cache = await fetch("https://example.com/config.json");
}
function later() {
  setTimeout(() => {}, 10);
}
export function notCalled() {
  fetch("https://example.com/");
}
startPolling();
await warmUp();
export default { fetch() { later(); return new Response("ok"); } };
"""


def test_calls_inside_functions_called_at_top_level_are_blockers(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.js").write_text(SRC)
    (tmp_path / "wrangler.json").write_text('{"name": "g", "main": "src/index.js", "compatibility_date": "2026-11-17"}')
    r = scan(tmp_path, ScanOptions(use_cache=False))
    got = {(f.rule_id, f.line, f.severity) for f in r.findings if f.rule_id in ("timer-global-scope", "global-scope-io")}
    assert got == {("timer-global-scope", 3, "blocker"), ("global-scope-io", 6, "blocker")}, got
    msg = next(f.message for f in r.findings if f.rule_id == "timer-global-scope")
    assert "startPolling()" in msg and "line 14" in msg
