"""`--format html`: one self-contained page (no network: inline CSS, inline SVG charts, one inline script).

Sections: summary, charts (findings by category and severity, rewrite scope per file, cost per option),
compatibility, findings, dependency changes, schedules and the starter wrangler.jsonc, cost lines.

Findings: grouped by rule across files (one card per rule: the problem and the fix once, then every place it
occurs), or by file; a toolbar filters by severity, category and path and searches the text, and says how many
findings it shows. The filter state lives in the URL fragment (`report.html#severity=blocker&group=file`), so a
filtered view can be linked or screenshotted. Without JavaScript every finding is listed, grouped by rule.

Safety: every value from the scanned code goes through Jinja2 autoescaping; the SVG charts are built here with
`markupsafe.escape` on every label. The script is constant (`templates/report.js`); a Content-Security-Policy
allows only that script (by its SHA-256), inline styles and no network at all. Layout: fluid from a 360 px phone
to a wide screen (wide tables scroll inside their box, long paths break).
"""
from __future__ import annotations

import base64
import hashlib
import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from ..analyzer.model import CATEGORIES
from ..analyzer import planning as plan_mod

TEMPLATES = Path(__file__).resolve().parent / "templates"
SEV_COLORS = {"blocker": "#c62828", "warning": "#e08a00", "info": "#9aa0a6"}


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def hbar_chart(title: str, rows: list[tuple[str, list[tuple[float, str, str]]]], unit: str = "",
               label_width: int = 170, width: int = 560, legend: list[tuple[str, str]] | None = None,
               value_fmt=None) -> Markup:
    """Horizontal (stacked) bars: rows of (label, [(value, colour, part name)])."""
    bar_h, gap, top = 18, 8, 28 if legend else 8
    height = top + len(rows) * (bar_h + gap) + 24
    maxv = max((sum(v for v, _, _ in parts) for _, parts in rows), default=0) or 1
    plot_w = width - label_width - 100
    out = [f'<svg role="img" width="100%" style="max-width:{width}px" viewBox="0 0 {width} {height}" '
           f'class="chart"><title>{escape(title)}</title>']
    if legend:
        x = label_width
        for name, color in legend:
            out.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{color}"/>'
                       f'<text x="{x + 16}" y="16" class="lg">{escape(name)}</text>')
            x += 24 + 7 * len(name)
    for i, (label, parts) in enumerate(rows):
        y = top + i * (bar_h + gap)
        shown = label if len(label) <= 28 else "\u2026" + label[-27:]
        out.append(f'<text x="{label_width - 8}" y="{y + 13}" text-anchor="end" class="lb">'
                   f'<title>{escape(label)}</title>{escape(shown)}</text>')
        x = float(label_width)
        total = 0.0
        for v, color, name in parts:
            w = plot_w * v / maxv
            if w > 0:
                out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}">'
                           f'<title>{escape(name)}: {escape(_fmt(v))}{escape(unit)}</title></rect>')
            x += w
            total += v
        txt = value_fmt(total) if value_fmt else f"{_fmt(total)}{unit}"
        out.append(f'<text x="{x + 6:.1f}" y="{y + 13}" class="vl">{escape(txt)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def charts(data: dict[str, Any], result) -> dict[str, Markup]:
    by_cat: dict[str, dict[str, int]] = defaultdict(lambda: {"blocker": 0, "warning": 0, "info": 0})
    for f in result.findings:
        by_cat[f.category][f.severity] += 1
    cat_rows = [(c, [(by_cat[c][s], SEV_COLORS[s], s) for s in ("blocker", "warning", "info")])
                for c in CATEGORIES if c in by_cat]
    out = {}
    if cat_rows:
        out["categories"] = hbar_chart("Findings by category and severity", cat_rows,
                                       legend=[(s, SEV_COLORS[s]) for s in ("blocker", "warning", "info")])
    files = data["rewrite_scope"]["files"][:15]
    if files:
        rows = []
        for f in files:
            rewrite = f["lines_to_rewrite"]
            change_only = max(0, f["lines_to_change"] - rewrite)
            rest = max(0, f["lines"] - f["lines_to_change"])
            rows.append((f["path"], [(rewrite, "#8e24aa", "rewrite"), (change_only, "#fb8c00", "change"),
                                     (rest, "#cfd8dc", "unchanged")]))
        out["scope"] = hbar_chart("Rewrite scope per file (lines)", rows, unit=" lines", label_width=210,
                                  legend=[("rewrite", "#8e24aa"), ("change", "#fb8c00"), ("unchanged", "#cfd8dc")])
    opts = data["cost"]["options"]
    out["cost"] = hbar_chart("Estimated monthly cost per option (USD)",
                             [(o["label"], [(o["monthly_usd"], "#1565c0", o["label"])]) for o in opts],
                             value_fmt=lambda v: plan_mod.format_usd(v) + "/month", label_width=170)
    return out


def inline_code(text: Any) -> Markup:
    """Prose that quotes code in `backticks`: escaped, with the quoted parts in <code>."""
    parts = re.split(r"(`[^`]+`)", str(text if text is not None else ""))
    return Markup("".join(f"<code>{escape(p[1:-1])}</code>" if i % 2 else str(escape(p))
                          for i, p in enumerate(parts)))


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["ic"] = inline_code
    env.filters["usd"] = lambda x: plan_mod.format_usd(float(x))
    env.filters["cents"] = lambda x: f"${float(x):,.2f}"
    env.filters["num"] = lambda x: "-" if x is None else (f"{x:,.2f}".rstrip("0").rstrip(".")
                                                          if isinstance(x, float) and not x.is_integer()
                                                          else f"{int(x):,}")
    return env


SEVERITIES = ("blocker", "warning", "info")


@lru_cache(maxsize=1)
def script() -> tuple[str, str]:
    """The page's script and its CSP hash source."""
    text = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return text, f"'sha256-{digest}'"


def _counts(fs) -> dict[str, int]:
    return {s: sum(1 for f in fs if f.severity == s) for s in SEVERITIES}


def rule_groups(result) -> list[dict[str, Any]]:
    """One group per rule across files: worst severity first, then the most findings."""
    from ..rules import rules_by_id
    rules = rules_by_id()
    by_rule: dict[str, list] = defaultdict(list)
    for f in result.findings:
        by_rule[f.rule_id].append(f)
    out = []
    for rid, fs in by_rule.items():
        fs = sorted(fs, key=lambda f: (SEVERITIES.index(f.severity), f.path, f.line))
        r = rules.get(rid)
        worst = fs[0].severity
        lead = next((f for f in fs if f.severity == worst), fs[0])
        same = len({f.message for f in fs}) == 1
        out.append({"rule_id": rid, "title": (r.title if r and r.title else rid), "category": fs[0].category,
                    "worst": worst, "counts": _counts(fs), "files": len({f.path for f in fs}),
                    "message": lead.message if same or r is None else r.message, "same_message": same,
                    "remediation": lead.remediation, "docs": lead.docs[:2], "findings": fs})
    out.sort(key=lambda g: (SEVERITIES.index(g["worst"]), -g["counts"][g["worst"]], g["rule_id"]))
    return out


def render(result, workload: dict[str, Any] | None = None, options=None, **_: Any) -> str:
    data = plan_mod.build(result, workload if workload is not None else getattr(options, "workload", None))
    by_file: dict[str, list] = defaultdict(list)
    for f in result.findings:
        by_file[f.path].append(f)
    worst = {p: min(SEVERITIES.index(f.severity) for f in fs) for p, fs in by_file.items()}
    files = [{"path": p, "findings": sorted(by_file[p], key=lambda f: (SEVERITIES.index(f.severity), f.line)),
              "worst": SEVERITIES[worst[p]], "counts": _counts(by_file[p])}
             for p in sorted(by_file, key=lambda p: (worst[p], p))]
    present = {f.category for f in result.findings}
    categories = [(c, sum(1 for f in result.findings if f.category == c)) for c in CATEGORIES if c in present]
    folders = sorted({p.rsplit("/", 1)[0] + "/" for p in by_file if "/" in p})
    js, js_hash = script()
    min_sev = getattr(options, "min_severity", "info") or "info"
    return environment().get_template("report.html.j2").render(
        charts=charts(data, result), files=files, groups=rule_groups(result), sev_colors=SEV_COLORS,
        categories=categories, folders=folders, total=len(result.findings), sev_counts=_counts(result.findings),
        script=Markup(js), script_hash=Markup(js_hash),
        initial_severities=[s for s in SEVERITIES if SEVERITIES.index(s) <= SEVERITIES.index(min_sev)], **data)
