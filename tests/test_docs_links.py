"""Links that help: every documentation link of a rule or a knowledge-base entry is on the documentation site
(or a justified first-party site) and fits the language of what it documents; findings carry only the links
that fit their file's language; package verdicts link the page about that package."""
from __future__ import annotations

from pathlib import Path

from cfcompat.analyzer.engine import ScanOptions, scan
from cfcompat.rules import load_kb, load_rules
from cfcompat.rules.docs import fits, link_languages, on_docs_site

ROOT = Path(__file__).resolve().parents[1]
JS = {"javascript", "typescript"}


def test_rule_links_are_on_the_docs_site_and_fit_the_rule_languages():
    bad = []
    for r in load_rules():
        for url in r.docs:
            if not on_docs_site(url):
                bad.append((r.id, url, "not on the documentation site"))
            if not link_languages(url) & set(r.languages):
                bad.append((r.id, url, f"a page for {sorted(link_languages(url))}, the rule is {r.languages}"))
        for lang in r.languages:
            if not any(fits(u, lang) for u in r.docs):
                bad.append((r.id, lang, "no link fits this language"))
    assert not bad, bad


def test_knowledge_base_links_fit_their_ecosystem():
    bad = []
    entries = [("npm", e) for e in load_kb("native_npm.yaml")["packages"]]
    entries += [("pypi", e) for e in load_kb("native_pypi.yaml")["packages"]]
    rep = load_kb("replacements.yaml")
    entries += [(eco, e) for eco in ("npm", "pypi") for e in rep[eco]]
    entries += [(eco, {**v, "name": e["name"]}) for eco in ("npm", "pypi") for e in rep[eco] for v in e.get("from") or []]
    for eco, e in entries:
        lang = "python" if eco == "pypi" else "javascript"
        for url in e.get("docs") or []:
            if not on_docs_site(url):
                bad.append((eco, e["name"], url, "not on the documentation site"))
            elif not fits(url, lang):
                bad.append((eco, e["name"], url, f"not a page for {lang}"))
            if eco == "npm" and "/languages/python/packages/" in url:
                bad.append((eco, e["name"], url, "the Python packages page is for Python packages only"))
    assert not bad, bad


def test_postgres_drivers_link_hyperdrive_and_flask_links_flask():
    rep = {(eco, e["name"]): e for eco in ("npm", "pypi") for e in load_kb("replacements.yaml")[eco]}
    for name in ("pg", "postgres", "mysql2"):
        assert any("/hyperdrive/" in u for u in rep[("npm", name)]["docs"]), name
    assert rep[("pypi", "flask")]["from"][0]["docs"] == [
        "https://developers.cloudflare.com/workers/languages/python/packages/flask/"]


def test_findings_link_only_pages_for_their_language():
    for fixture in ("express-multer-sqlite-cron", "fastapi-apscheduler-psycopg2"):
        r = scan(ROOT / "fixtures" / fixture, ScanOptions(use_cache=False))
        for f in r.findings:
            lang = "python" if f.path.endswith((".py", ".toml", ".txt", ".cfg")) else "javascript"
            if f.path.endswith(".json") or f.path.endswith(("package.json",)):
                lang = "javascript"
            for url in f.docs:
                assert fits(url, lang), (fixture, f.rule_id, f.path, url)
