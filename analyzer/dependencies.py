"""Dependencies: read every manifest and lockfile, give each dependency a verdict for the target, and turn the
problems into findings on the manifest's line (so every consumer sees them in the one findings list)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..rules import load_kb, load_rules, rules_with_role
from ..rules.classes.native import npm_natives, pep503, pypi_natives, pyodide_for_date
from . import manifests
from .discovery import Discovery
from .model import Dependency, Finding, ScanError
from .parsing.facts import FileFacts
from .settings import Settings, settings_for
from .targets import target_for_ecosystem


def _natives():
    return npm_natives, pypi_natives, pyodide_for_date, pep503


@lru_cache(maxsize=1)
def build_tools() -> frozenset[str]:
    """npm build, test and development tools (rules/kb/build_tools.yaml): never part of the deployed Worker."""
    return frozenset(load_kb("build_tools.yaml").get("npm") or ())


def strong_evidence(ev: Any) -> bool:
    """Lockfile or install evidence that a package itself contains native code: a compiled addon or binding
    found installed, not merely an install script (which may only download or print: core-js, @scarf/scarf)
    or a platform-specific variant (the binaries of another package, reported with that package)."""
    if getattr(ev, "ecosystem", "npm") != "npm":
        return True        # a platform-only wheel is compiled code of its own
    text = (ev.evidence or "").lower()
    return not ("hasinstallscript" in text or "requiresbuild" in text or "onlybuiltdependencies" in text
                or "platform-specific" in text or text.startswith("os:") or "cpu:" in text)


@lru_cache(maxsize=1)
def _replacements() -> dict[tuple[str, str], dict[str, Any]]:
    kb = load_kb("replacements.yaml")
    out = {}
    for eco in ("npm", "pypi"):
        for e in kb.get(eco) or []:
            out[(eco, e["name"])] = e
    return out


_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def lowest_version(spec: str) -> tuple[int, int, int] | None:
    """The lowest version a simple spec admits (`^8.11.3` -> 8.11.3, `>=2,<3` -> 2.0.0); None if unknown."""
    m = _VERSION.search(spec or "")
    if m is None or spec.strip().startswith(("<", "!")):
        return None
    return tuple(int(x or 0) for x in m.groups())  # type: ignore[return-value]


def dated(entry: dict[str, Any], date: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The entry as it applies at a compatibility date: its `from:` variants (each from a date, with the platform
    change behind it) override the base fields; also the next variant the date has not reached, if any."""
    out = {k: v for k, v in entry.items() if k != "from"}
    upcoming = None
    for v in sorted(entry.get("from") or [], key=lambda v: v["date"]):
        if date >= v["date"]:
            out.update({k: x for k, x in v.items() if k not in ("date", "change")})
            out["applies_from"] = v["date"]
        elif upcoming is None:
            upcoming = v
    return out, upcoming


def _apply_replacement(dep: Dependency, entry: dict[str, Any], date: str | None = None) -> None:
    upcoming = None
    if date:
        entry, upcoming = dated(entry, date)
    dep.docs = list(entry.get("docs") or [])
    dep.verdict = entry.get("verdict", "replace")
    dep.category = entry.get("category")
    dep.replacement = entry.get("replacement")
    dep.reason = entry.get("reason")
    dep.severity = entry.get("severity", "warning") if dep.verdict == "replace" else None
    minv = entry.get("min_version")
    if minv:
        low = lowest_version(dep.version)
        need = tuple(int(x) for x in minv.split("."))
        if low is not None and low < need:
            dep.verdict = "replace"
            dep.severity = "warning"
            dep.reason = (f"{dep.reason}; the version spec {dep.version!r} allows versions below {minv}: "
                          f"upgrade to {minv} or later")
    if upcoming is not None:
        dep.reason = (f"{dep.reason} (at compatibility date {date}; from {upcoming['date']} this changes: "
                      f"{upcoming['reason'].rstrip('.')}; raise compatibility_date to {upcoming['date']} or later to "
                      "adopt it)")


def judge(dep: Dependency, settings: Settings, lock_native: dict[tuple[str, str], Any]) -> None:
    """Fill verdict, category, replacement and reason of one dependency for the settings' target."""
    npm_natives, pypi_natives, pyodide_for_date, pep503 = _natives()
    target = settings.target
    containers = target == "containers"
    if dep.ecosystem == "npm":
        entry = npm_natives().get(dep.name)
        ev = lock_native.get(("npm", dep.name))
        if entry is not None:
            dep.category = entry.get("category", "native-module")
            dep.replacement = entry.get("replacement")
            dep.docs = list(entry.get("docs") or [])
            if containers:
                dep.verdict, dep.reason = "ok", "native addon; builds and loads in a linux/amd64 Container image"
            else:
                sev = entry.get("severity", "blocker")
                dep.verdict = "replace" if sev == "warning" else "incompatible"
                dep.reason = entry.get("reason")
        elif dep.name in build_tools():
            dep.verdict, dep.reason = "ok", "a build/test/development tool: it runs before deployment, not in the Worker"
        elif ev is not None and ev.native and strong_evidence(ev):
            dep.category = "native-module"
            if containers:
                dep.verdict, dep.reason = "ok", f"native build step ({ev.evidence}); fine in a Container"
            else:
                dep.verdict = "incompatible"
                dep.reason = f"compiles native code at install ({ev.evidence})"
        elif ev is not None and ev.native:
            dep.verdict = "unknown"
            dep.reason = (f"{ev.evidence}: an install script may build native code, or only download or print; "
                          "not in the knowledge base of native packages")
        elif not containers and ("npm", dep.name) in _replacements():
            _apply_replacement(dep, _replacements()[("npm", dep.name)], settings.compatibility_date)
        else:
            dep.verdict = "unknown"
        return
    # PyPI
    name = pep503(dep.name)
    entry = pypi_natives().get(name)
    ev = lock_native.get(("pypi", name))
    if containers:
        dep.verdict = "ok"
        dep.reason = "runs in a linux/amd64 Container image"
        return
    pyo = pyodide_for_date(settings.compatibility_date)
    in_pyodide = name in pyo.get("packages", {})
    if ("pypi", name) in _replacements() and (entry is None or in_pyodide):
        _apply_replacement(dep, _replacements()[("pypi", name)], settings.compatibility_date)
        if in_pyodide:
            dep.reason = f"{dep.reason} (in Pyodide {pyo.get('pyodide_version')})"
        return
    if entry is not None:
        dep.docs = list(entry.get("docs") or [])
    if in_pyodide and entry is not None and entry.get("severity") in ("warning", "blocker"):
        # Pyodide ships it, but it still cannot work here (psycopg, pymongo: they need raw sockets)
        dep.category = entry.get("category", "native-module")
        dep.replacement = entry.get("replacement")
        dep.verdict = "replace"
        dep.severity = "warning"
        dep.reason = f"{entry.get('reason', '').rstrip('.')} (in Pyodide {pyo.get('pyodide_version')})"
        return
    if in_pyodide:
        dep.verdict = "ok"
        dep.reason = f"in Pyodide {pyo.get('pyodide_version')} ({pyo['packages'][name]}), the build Python " \
                     f"Workers use at compatibility date {settings.compatibility_date}"
        if entry is not None:
            dep.category = entry.get("category", "native-module")
        return
    if entry is not None:
        dep.category = entry.get("category", "native-module")
        dep.replacement = entry.get("replacement")
        sev = entry.get("severity", "blocker")
        dep.verdict = "replace" if sev == "warning" else "incompatible"
        dep.reason = f"{entry.get('reason', '').rstrip('.')}; not in Pyodide {pyo.get('pyodide_version')}"
        return
    if ev is not None and ev.native is True:
        dep.category = "native-module"
        dep.verdict = "incompatible"
        dep.reason = f"{ev.evidence}; not in Pyodide {pyo.get('pyodide_version')}"
    elif ev is not None and ev.native is False:
        dep.verdict = "ok"
        dep.reason = f"pure Python ({ev.evidence})"
    else:
        dep.verdict = "unknown"
        dep.reason = (f"not in Pyodide {pyo.get('pyodide_version')}'s package list and not a known native "
                      "package; fine if it is pure Python (a lockfile with wheel names would tell)")


@dataclass
class DependencyReport:
    """Every declared dependency with its verdict, the findings they give, and what the manifests told besides."""
    dependencies: list[Dependency] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    projects: list[Any] = field(default_factory=list)
    locked: list[Any] = field(default_factory=list)
    entry_points: list[Any] = field(default_factory=list)
    installed_size: dict[str, Any] = field(default_factory=dict)


def _natives_by_platform_binaries(deps: list[Dependency], locked: list, via: dict[str, list[str]],
                                   settings: Settings) -> None:
    """A direct npm dependency that pulls in platform-specific prebuilt packages (napi-rs and prebuildify
    layouts: `@node-rs/argon2` -> `@node-rs/argon2-linux-x64-gnu`) ships a native addon itself: one verdict on
    the package the code imports, not one per platform binary."""
    if settings.target == "containers":
        return
    for ev in locked:
        if ev.ecosystem != "npm" or not ev.native or strong_evidence(ev) or "platform-specific" not in (ev.evidence or ""):
            continue
        for parent in via.get(ev.name) or []:
            for d in deps:
                if d.ecosystem == "npm" and d.name == parent and d.verdict == "unknown" and not d.dev \
                        and d.name not in build_tools():
                    d.verdict, d.category = "incompatible", "native-module"
                    d.reason = (f"ships prebuilt native binaries per platform (such as {ev.name}); Workers run "
                                "JavaScript and WebAssembly and cannot load native .node addons")


def analyse_dependencies(disc: Discovery, settings: Settings, files: list[FileFacts],
                         scoped: dict[str, Settings] | None = None) -> DependencyReport:
    scoped = scoped or {}
    rel_paths = list(disc.other_files)
    scan = manifests.scan_manifests(disc.root, rel_paths)
    errors = list(scan.errors)
    lock_native: dict[tuple[str, str], Any] = {}
    locked = list(scan.locked)
    if disc.vendor_dirs and hasattr(manifests, "installed_native_evidence"):
        try:
            locked += manifests.installed_native_evidence(disc.root, disc.vendor_dirs, errors=errors)
        except Exception as exc:  # evidence is optional; never stop the scan
            errors.append(ScanError(disc.vendor_dirs[0], f"could not read installed packages: {exc}"))
    _, _, _, pep503 = _natives()
    for ev in locked:
        key = (ev.ecosystem, pep503(ev.name) if ev.ecosystem == "pypi" else ev.name)
        if ev.native or key not in lock_native:
            lock_native[key] = ev
    deps = list(scan.dependencies)
    for d in deps:
        judge(d, settings_for(d.manifest, settings, scoped), lock_native)
    # Transitive natives: attribute each to the direct dependency that pulls it in.
    via: dict[str, list[str]] = {}
    try:
        via = manifests.attribute_transitive(scan)
    except Exception:
        via = {}
    direct = {(d.ecosystem, d.name) for d in deps}
    _natives_by_platform_binaries(deps, locked, via, settings)
    trans: list[Dependency] = []
    if settings.target != "containers":
        npm_natives, pypi_natives, pyodide_for_date, _ = _natives()
        pyo = pyodide_for_date(settings.compatibility_date)
        for ev in sorted(locked, key=lambda e: (e.ecosystem, e.name, e.lockfile)):
            key_name = pep503(ev.name) if ev.ecosystem == "pypi" else ev.name
            if (ev.ecosystem, key_name) in direct or (ev.ecosystem, ev.name) in direct:
                continue
            known = (npm_natives() if ev.ecosystem == "npm" else pypi_natives()).get(key_name)
            is_native = (ev.native is True and strong_evidence(ev)) or \
                (known is not None and known.get("severity", "blocker") == "blocker")
            if not is_native:
                continue
            if ev.ecosystem == "pypi" and key_name in pyo.get("packages", {}):
                continue
            parents = via.get(ev.name) or via.get(key_name) or []
            if not parents:
                continue
            # the server's packages only: not through a build tool or a dev dependency, and not under a parent
            # that is itself reported as native (sharp's @img/* binaries are sharp's problem) or whose knowledge-base
            # entry already judged its native pieces (next: the SWC compiler at build time, sharp optional)
            parent_deps = [d for d in deps if d.name in parents and d.ecosystem == ev.ecosystem
                           and d.category != "native-module"
                           and d.name not in build_tools()
                           and not d.dev]
            if not parent_deps:
                continue
            p = parent_deps[0]
            if any(x.name == key_name and x.via == p.name for x in trans):
                continue
            trans.append(Dependency(
                ecosystem=ev.ecosystem, name=key_name, version=ev.version, manifest=p.manifest, line=p.line,
                dev=p.dev or bool(ev.dev), verdict="incompatible", category="native-module",
                replacement=(known or {}).get("replacement"),
                reason=(known or {}).get("reason") or ev.evidence, via=p.name, kind="transitive"))
        trans += _known_pulls(deps, trans, pyo, pypi_natives, pep503)
    deps += trans
    deps.sort(key=lambda d: (d.manifest, d.line, d.name, d.kind))
    findings = []
    for d in deps:
        findings += dependency_findings([d], settings_for(d.manifest, settings, scoped))
    sizes: dict[str, Any] = {}
    findings += size_findings(disc, settings, manifests, locked, errors, sizes)
    return DependencyReport(dependencies=deps, findings=findings, errors=errors, projects=list(scan.projects),
                            locked=locked, entry_points=list(getattr(scan, "entry_points", [])),
                            installed_size=sizes)


@lru_cache(maxsize=1)
def _pypi_requires() -> dict[str, Any]:
    return load_kb("pypi_requires.yaml")


_EXTRAS = re.compile(r"^\s*\[([^\]]*)\]")


def _known_pulls(deps: list[Dependency], trans: list[Dependency], pyo: dict[str, Any], pypi_natives: Any,
                 pep503: Any) -> list[Dependency]:
    """Without a lockfile, a PyPI dependency whose known requirements or requested extras pull a compiled package
    that Pyodide lacks (sentence-transformers -> torch, `uvicorn[standard]` -> uvloop): that package as a
    transitive dependency on the same manifest line, one per line, the others named in its reason."""
    kb = _pypi_requires()
    requires, extras = kb.get("requires") or {}, kb.get("extras") or {}
    natives = pypi_natives()
    direct = {d.name for d in deps if d.ecosystem == "pypi"}
    have = {(t.name, t.via) for t in trans}
    out: list[Dependency] = []
    for d in deps:
        if d.ecosystem != "pypi" or d.kind != "direct":
            continue
        pulled: list[tuple[str, str]] = [(n, "") for n in requires.get(d.name) or ()]
        m = _EXTRAS.match(d.version or "")
        for extra in (m.group(1).split(",") if m else ()):
            extra = pep503(extra.strip())
            pulled += [(n, f"[{extra}]") for n in (extras.get(d.name) or {}).get(extra) or ()]
        blocked = []
        for name, extra in pulled:
            e = natives.get(name)
            if e is None or e.get("severity", "blocker") != "blocker" or name in pyo.get("packages", {}) or \
                    name in direct or any(b[0] == name for b in blocked):
                continue
            blocked.append((name, extra, e))
        if not blocked or (blocked[0][0], d.name) in have:
            continue
        name, extra, e = blocked[0]
        others = [b[0] for b in blocked[1:]]
        how = f"the `{extra}` extra of {d.name}" if extra else f"{d.name}, which requires it"
        reason = f"{e.get('reason', '').rstrip('.')}; pulled in by {how}"
        if others:
            reason += f" (with {', '.join(others)}, which cannot install either)"
        out.append(Dependency(
            ecosystem="pypi", name=name, version="", manifest=d.manifest, line=d.line, dev=d.dev,
            verdict="incompatible", category="native-module", replacement=e.get("replacement"), reason=reason,
            via=d.name + extra, kind="transitive"))
    return out


def dependency_findings(deps: list[Dependency], settings: Settings) -> list[Finding]:
    native_rule = next(iter(rules_with_role("native-package")), None)
    replace_rule = next(iter(rules_with_role("replaceable-package")), None)
    out: list[Finding] = []
    for d in deps:
        if d.verdict not in ("incompatible", "replace"):
            continue
        native = d.category == "native-module" or d.kind == "transitive"
        rule = native_rule if native else replace_rule
        if rule is None:
            continue
        tgt = target_for_ecosystem(settings.target, d.ecosystem)
        sev = rule.severity_for(tgt)
        if sev is None:
            continue
        if d.severity:
            sev = d.severity
        elif d.verdict == "replace":
            sev = "warning"
        note = ""
        final = sev
        if d.dev:
            final, note = "info", "development dependency: never deployed, so never a blocker"
        what = f"`{d.name}`" + (f" (via `{d.via}`)" if d.via else "")
        if native:
            msg = f"Depends on {what}, which ships compiled native code that cannot load in a Worker"
        else:
            msg = f"Depends on {what}, which needs a change on {settings.target}"
        if d.reason:
            msg += f": {d.reason.rstrip('.')}"
        msg += "."
        remediation = f"Replace with {d.replacement}." if d.replacement else rule.remediation
        snippet = f"\"{d.via or d.name}\": \"{d.version}\"" if d.ecosystem == "npm" else f"{d.via or d.name} {d.version}".strip()
        out.append(Finding(
            rule_id=rule.id, category=d.category or rule.category, severity=final, path=d.manifest, line=d.line,
            column=1, end_line=d.line, message=msg, snippet=snippet, context="config", remediation=remediation,
            docs=list(d.docs) or list(rule.docs_for("python" if d.ecosystem == "pypi" else "javascript")),
            effort=rule.effort, symbol=d.name, original_severity=sev, note=note))
    return out


WORKER_SIZE_LIMIT = 64 * 1024 * 1024   # bytes, uncompressed; both plans since 2026-09-08 (SIZE-CHG)


def size_findings(disc: Discovery, settings: Settings, manifests: Any, locked: list, errors: list[ScanError],
                  sizes: dict[str, Any]) -> list[Finding]:
    """Installed runtime dependencies (node_modules present in the repository) against the Worker size limit."""
    rule = next((r for r in load_rules() if "installed-size" in r.match.get("dependencies", ())), None)
    if rule is None or rule.severity_for(settings.target) is None:
        return []
    out: list[Finding] = []
    dev_only = {ev.name for ev in locked if ev.ecosystem == "npm" and ev.dev is True}
    for nm in disc.vendor_dirs:
        if not nm.endswith("node_modules"):
            continue
        try:
            sizes = manifests.installed_size(disc.root, nm)
        except Exception as exc:  # never stop the scan over a measurement
            errors.append(ScanError(nm, f"could not measure installed packages: {exc}"))
            continue
        runtime = {k: v for k, v in sizes.items() if k not in dev_only}
        total = sum(runtime.values())
        base = nm[: -len("node_modules")].rstrip("/")
        sizes[nm] = {"runtime_bytes": total, "packages": len(runtime),
                                                       "limit_bytes": WORKER_SIZE_LIMIT}
        if total <= WORKER_SIZE_LIMIT:
            continue
        top = sorted(runtime.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        biggest = ", ".join(f"{k} {v / 1048576:.1f} MiB" for k, v in top)
        manifest = f"{base}/package.json" if base else "package.json"
        out.append(Finding(
            rule_id=rule.id, category=rule.category, severity=rule.severity_for(settings.target) or "warning",
            path=manifest, line=1, column=1, end_line=1,
            message=(f"{rule.message.strip()} Measured: {total / 1048576:.1f} MiB in {len(runtime)} runtime "
                     f"packages under {nm} (largest: {biggest})."),
            snippet=f"{nm}: {total / 1048576:.1f} MiB of runtime packages", context="config",
            remediation=rule.remediation, docs=list(rule.docs), effort=rule.effort, symbol=nm,
            original_severity=rule.severity_for(settings.target) or "warning"))
    return out
