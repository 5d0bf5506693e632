"""Documentation links: which language a developers.cloudflare.com page is written for, so that a finding links
only the pages that fit its file's language (a Python finding never points at the Node.js page, a JavaScript one
never at the Python packages page). tests/test_docs_links.py checks every link of the rules and the knowledge base
against this."""
from __future__ import annotations

from typing import Iterable

DOCS_HOST = "https://developers.cloudflare.com/"
# Other documentation sites a link may point at, with why: Cloudflare's own announcement is the only write-up of
# how node:http servers run on Workers beyond the reference page.
OTHER_SITES = {"https://blog.cloudflare.com/": "Cloudflare's engineering blog (first-party announcements)"}

# path prefixes of pages written for one language only
LANGUAGE_PAGES: dict[str, tuple[str, ...]] = {
    "python": ("/workers/languages/python/",),
    "javascript": ("/workers/runtime-apis/nodejs/", "/workers/wrangler/bundling/", "/hyperdrive/examples/",
                   "/workers/databases/third-party-integrations/", "/bringing-node-js-http-servers"),
}
JS_FAMILY = {"javascript", "typescript"}


def link_languages(url: str) -> frozenset[str]:
    """The languages a page is for: {'python'}, {'javascript', 'typescript'} or both (a language-neutral page)."""
    path = url.split("://", 1)[-1]
    path = path[path.find("/"):] if "/" in path else "/"
    for lang, prefixes in LANGUAGE_PAGES.items():
        if any(path.startswith(p) or p in path for p in prefixes):
            return frozenset({"python"}) if lang == "python" else frozenset(JS_FAMILY)
    return frozenset({"python"} | JS_FAMILY)


def fits(url: str, language: str) -> bool:
    return language in link_languages(url)


def for_language(urls: Iterable[str], language: str) -> list[str]:
    """The links that fit `language`, in order; all of them when none fits (never an empty docs list)."""
    urls = list(urls)
    good = [u for u in urls if fits(u, language)]
    return good or urls


def on_docs_site(url: str) -> bool:
    return url.startswith(DOCS_HOST) or any(url.startswith(s) for s in OTHER_SITES)
