"""The scan's time bound (`--max-seconds`), honoured by every stage, not only by the per-file parse.

`Deadline.run(stage, fn, fallback)` runs a stage with an alarm set for the time left: when the deadline passes
inside it (a regular expression included: the regex engine checks for signals), `OutOfTime` is raised wherever
the stage was, and the stage's fallback answers instead (a partial discovery, no dependency analysis, contexts
from path conventions, no rule findings...); the stage is noted in `cut` and the scan says `partial: true`.
A stage that can keep what it did so far (discovery) catches `OutOfTime` itself. The parse stage has its own
bound per file (extract.py) and is never run under the alarm. The alarm needs POSIX and the main thread;
elsewhere stages are only skipped once the deadline has passed.
"""
from __future__ import annotations

import time
from typing import Any, Callable


class OutOfTime(BaseException):
    """The scan's deadline passed (a BaseException: no stage's `except Exception` swallows it)."""


class Deadline:
    def __init__(self, seconds: float | None = None):
        self.limit = float(seconds or 0.0)
        self.at = time.monotonic() + seconds if seconds else None
        self.cut: list[str] = []          # stages the deadline cut, in order
        self.skipped: list[str] = []      # stages not started because the deadline had passed

    def for_reading(self) -> "Deadline":
        """The deadline of discovery and the parse stage: a quarter of the time is kept for the stages that turn
        what was parsed into findings, so that a cut scan still reports on the files it reached."""
        d = Deadline()
        if self.at is not None:
            d.limit, d.at = self.limit, self.at - self.limit / 4
            d.cut, d.skipped = self.cut, self.skipped
        return d

    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def remaining(self) -> float | None:
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def messages(self) -> list[str]:
        """What the deadline cut, for `errors`: the stage it ran out in, then the stages skipped after it."""
        if not self.cut:
            return []
        out = [f"not finished: the scan reached its time limit ({self.limit:g} s, --max-seconds) during {self.cut[0]}"]
        rest = [s for s in dict.fromkeys(self.skipped) if s != self.cut[0]]
        if rest:
            out.append("not run after the time limit: " + ", ".join(rest))
        return out

    def run(self, stage: str, fn: Callable[[], Any], fallback: Callable[[], Any]) -> Any:
        if self.at is None:
            return fn()
        if self.expired():
            self.skipped.append(stage)
            if not self.cut:
                self.cut.append(stage)
            return fallback()
        try:
            return _alarmed(fn, self.remaining() or 0.0)
        except OutOfTime:
            self.cut.append(stage)
            return fallback()


def _raise(_signum: int, _frame: Any) -> None:
    raise OutOfTime()


def _alarmed(fn: Callable[[], Any], seconds: float) -> Any:
    import signal
    import threading
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return fn()
    old = signal.signal(signal.SIGALRM, _raise)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
            return fn()
        finally:   # an alarm landing here, after fn returned, is still an OutOfTime for the caller
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, old)
