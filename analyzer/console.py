"""The `cfcompat` console script. A `scan` the same as one before, on a repository whose every input the
record's checks find unchanged, is answered from its record (caching/records.py: the standard library and
inputs.py only) before anything else is imported; anything else runs the CLI."""
from __future__ import annotations

import os
import sys

from .caching import records


def main() -> None:
    argv = sys.argv[1:]
    looked_up = False
    if argv[:1] == ["scan"] and "--no-cache" not in argv and not os.environ.get("CFCOMPAT_NO_CACHE"):
        status = records.replay(argv)
        if status is not None:
            sys.exit(status)
        looked_up = True
    from .cli import main as full   # here, not at the top: a replayed run never pays for loading the analyzer
    full(argv, looked_up=looked_up)


if __name__ == "__main__":  # pragma: no cover
    main()
