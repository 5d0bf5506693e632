"""Output formatters: one module per format, one registry mapping format name -> render function.

Each formatter takes a `ScanResult` and returns the output as a string (text formatters may use a console).
"""
from __future__ import annotations

import importlib

# format name -> module whose `render` produces it (imported on first use: a JSON scan never loads Jinja2)
FORMATTERS: dict[str, str] = {
    "text": "text",
    "json": "json_report",
    "sarif": "sarif",
    "markdown": "markdown",
    "html": "html",
    "github": "github",
    "junit": "junit",
}

FORMATS = tuple(FORMATTERS)     # what --format and -o accept


def render(fmt: str, result, **kwargs) -> str:
    try:
        mod = FORMATTERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(sorted(FORMATTERS))}") from None
    return importlib.import_module(f"{__name__}.{mod}").render(result, **kwargs)
