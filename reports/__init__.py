"""Output formatters: one module per format, one registry mapping format name -> render function.

Each formatter takes a `ScanResult` and returns the output as a string (text formatters may use a console).
"""
from __future__ import annotations

from typing import Callable

from . import github, html, json_report, junit, markdown, sarif, text

FORMATTERS: dict[str, Callable[..., str]] = {
    "json": json_report.render,
    "text": text.render,
    "sarif": sarif.render,
    "markdown": markdown.render,
    "html": html.render,
    "github": github.render,
    "junit": junit.render,
}


def render(fmt: str, result, **kwargs) -> str:
    try:
        fn = FORMATTERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(sorted(FORMATTERS))}") from None
    return fn(result, **kwargs)
