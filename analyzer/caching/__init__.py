"""Caching, in one package. Two stores, one rule: a cached answer is served only when everything it was made
from is unchanged, and "everything" is what the scan read through `inputs.py`, recorded as it read it.

- `run` (here) is the one call the CLI makes: it answers a scan from its record (records.py) when every check
  still holds, else runs the scan with a `Recorder` set for its duration and stores the outputs with the
  checks. The console script tries `records.replay` before importing the analyzer at all.
- `facts.py` is the per-file facts cache the parse stage uses (keyed by content, parser code and the kept
  call patterns): a changed repository re-parses only what changed.

This module and records.py import only the standard library and inputs.py (the replay must stay cheap);
facts.py is imported by the parse stage only.
"""
from __future__ import annotations

from .. import inputs
from . import records


class Outcome:
    """What a scan command produces: stdout, the `-o` files (path, text), the exit status. `cacheable`: False
    for a degraded result (partial, a file given up on, an input that changed while it was read), which is
    never stored."""

    __slots__ = ("stdout", "files", "exit", "cacheable")

    def __init__(self, stdout: str, files: list[tuple[str, str]] | None = None, exit: int = 0,
                 cacheable: bool = True):
        self.stdout, self.files, self.exit, self.cacheable = stdout, list(files or []), exit, cacheable


def run(argv: list[str] | None, compute: "Callable[[], Outcome]", *, enabled: bool,  # noqa: F821
        looked_up: bool = False) -> Outcome:
    """The outcome of the scan command `argv` (as typed; None when it was not started from the command line).

    With `enabled` (the run is cacheable: caches on, no CI mode, no time bound, no colours), a record whose
    checks all hold answers without scanning (unless `looked_up`: the console script just tried it), else
    `compute` runs with a recorder and a sound outcome is stored with its checks."""
    if not enabled or argv is None:
        return compute()
    if looked_up:
        key = records.command_key(argv)
    else:
        key, rec = records.lookup(argv)
        if rec is not None and key is not None:
            records.touch(key)
            return Outcome(rec["stdout"], [(f, t) for f, t in rec["outputs"]], int(rec["exit"]))
    recorder = inputs.Recorder()
    with inputs.recording(recorder):
        out = compute()
    if key is not None and out.cacheable and not recorder.unstable and out.exit in (0, 1):
        records.store(key, recorder.items(), out.files, out.stdout, out.exit)
    return out
