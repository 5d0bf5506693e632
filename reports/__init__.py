"""Output formatters: one module per format, one registry mapping format name -> render function.

Each formatter takes a `ScanResult` and a `RenderOptions` (reports/options.py: fail-on threshold, width, colour,
lowest severity shown, the scanned folder's place in its repository) and returns the output as a string.
"""
from __future__ import annotations

import importlib

from .options import RenderOptions

# format name -> module whose `render` produces it (imported on first use: a JSON scan never loads Jinja2)
FORMATTERS: dict[str, str] = {
    "text": "text",
    "json": "json_report",
    "sarif": "sarif",
    "markdown": "markdown",
    "html": "html",
    "github": "github",
    "junit": "junit",
    "github-summary": "github",
}

FORMATS = tuple(FORMATTERS)     # what --format and -o accept


def render(fmt: str, result, options: RenderOptions | None = None, **kwargs) -> str:
    """Render `result` as `fmt`. `options` (or, for older callers, keyword arguments such as `fail_on=`,
    `color=`) say how."""
    try:
        mod = FORMATTERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(sorted(FORMATTERS))}") from None
    opts = RenderOptions.of(options, **kwargs)
    module = importlib.import_module(f"{__name__}.{mod}")
    fn = getattr(module, "render_summary") if fmt == "github-summary" else module.render
    return fn(result, options=opts)
