"""Limits rules: CPU-heavy work judged against the plan's CPU limit, and data files bundled into the Worker.

Facts (cloudflare-facts.md section a): CPU time per HTTP request is 10 ms on Free and 30 s by default on Paid
(configurable to 5 min with `limits.cpu_ms`); over the limit the request fails with Error 1102 (exceededCpu).
The global scope must finish within the 1 s startup limit (deploy error 10021). Memory is 128 MB per isolate.
Worker size: 64 MiB uncompressed with no compressed limit (wrangler 4.130.0 and later, 2026-09-08; before that
3 MB gzip on Free / 10 MB gzip on Paid).
"""
from __future__ import annotations

import posixpath
import re
from typing import Any

from ..model import Hit, RuleContext
from ...analyzer.parsing.facts import Arg, Call, FileFacts

FREE_CPU = "10 ms of CPU per request on the Free plan"
PAID_CPU = "30 s of CPU per request by default on Paid (configurable to 5 min with limits.cpu_ms)"
STARTUP = "it runs at module top level, where the whole global scope must finish within the 1 s startup limit"

# --------------------------------------------------------------------------------------------- hashing

# qualified name -> (kind, where the cost is: ("arg", i) | ("kw", name) | ("argkw", i, name) | None)
_BCRYPT_JS = re.compile(r"^(bcrypt|bcryptjs)(\.default)?\.(hash|hashSync|genSalt|genSaltSync|compare|compareSync)$")
_PBKDF2_JS = re.compile(r"^crypto\.(pbkdf2|pbkdf2Sync)$")
_PY_HASH = {
    "bcrypt.gensalt": "bcrypt",
    "bcrypt.hashpw": "bcrypt-hashpw",
    "bcrypt.checkpw": "bcrypt-compare",
    "hashlib.pbkdf2_hmac": "pbkdf2",
    "passlib.hash.bcrypt.hash": "bcrypt-passlib",
    "passlib.hash.bcrypt.using": "bcrypt-passlib",
    "passlib.context.CryptContext": "bcrypt-context",
}
BCRYPT_HEAVY = 12        # cost factor from which bcrypt is reported on Paid (each +1 doubles the work)
PBKDF2_HEAVY = 100_000   # iterations from which PBKDF2 is reported on Paid
PBKDF2_FREE = 10_000     # iterations from which PBKDF2 is reported on Free


def _num(a: Arg | None) -> float | None:
    if a is None or a.kind != "number":
        return None
    try:
        return float((a.value or "").replace("_", ""))
    except ValueError:
        return None


def _arg(c: Call, i: int) -> Arg | None:
    return c.args[i] if i < len(c.args) else None


def _bcrypt_cost(c: Call) -> tuple[float | None, bool]:
    """(cost factor if literal, whether the call hashes/compares at all)."""
    method = c.qname.rsplit(".", 1)[-1]
    if method in ("genSalt", "genSaltSync"):
        return _num(_arg(c, 0)), True
    if method in ("hash", "hashSync"):
        a = _arg(c, 1)
        if a is not None and a.kind == "call" and (a.value or "").endswith(("genSaltSync", "genSalt")):
            return (_num(a.inner[0]) if a.inner else 10.0), True
        return (_num(a) if a is not None and a.kind == "number" else None), True
    return None, True   # compare: cost comes from the stored hash


class CpuHeavyWork:
    """Password hashing with a high work factor, and image decoding/resizing, against the plan's CPU limit."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        free = ctx.settings.plan == "free"
        hits: list[Hit] = []
        for c in facts.calls:
            if rule.id == "image-processing":
                what = _image_call(c, facts)
                if what is None:
                    continue
                sev = "blocker" if free else "warning"
                msg = (f"Decodes or transforms an image ({what}) in the Worker: pure-JS/Wasm image work on a "
                       "full-size photo takes far more than " + (FREE_CPU if free else "a few milliseconds") +
                       " and the decoded pixels count against the 128 MB isolate memory"
                       + (f" (limit: {PAID_CPU})" if not free else "") + ".")
            else:
                found = _hash_call(c, free)
                if found is None:
                    continue
                sev, msg = found
            if c.top_level and _PY_HASH.get(c.qname) != "bcrypt-context":   # a CryptContext hashes nothing yet
                msg += f" Also, {STARTUP}."
            hits.append(Hit(c.line, c.column, c.end_line, c.snippet, c.symbol, guard=c.guard,
                            severity=sev, message=msg, top_level=c.top_level))
        return hits


def _hash_call(c: Call, free: bool) -> tuple[str, str] | None:
    q = c.qname
    if _BCRYPT_JS.match(q):
        cost, _ = _bcrypt_cost(c)
        lib = "bcryptjs (pure JavaScript)" if q.startswith("bcryptjs") else "bcrypt"
        if free:
            shown = f"cost {cost:g}" if cost is not None else "its cost factor"
            return "blocker", (f"Runs {lib} ({q}, {shown}); a bcrypt hash or compare at any usual cost takes tens "
                               f"to hundreds of milliseconds of CPU, over the {FREE_CPU} (Error 1102).")
        if cost is not None and cost >= BCRYPT_HEAVY:
            return "warning", (f"Runs {lib} with cost factor {cost:g} ({q}); every +1 doubles the work, so one "
                               f"hash or login costs hundreds of milliseconds of CPU or more (limit: {PAID_CPU}; "
                               "billed per CPU-ms).")
        return None
    if _PBKDF2_JS.match(q):
        it = _num(_arg(c, 2))
        return _pbkdf2(q, it, free)
    kind = _PY_HASH.get(q)
    if kind is None:
        return None
    if kind == "pbkdf2":
        return _pbkdf2(q, _num(_arg(c, 3) or c.kwargs.get("iterations")), free)
    if kind == "bcrypt-context":
        # CryptContext(schemes=["bcrypt", ...]): the first scheme hashes new passwords; passlib's bcrypt default
        # is 12 rounds unless `bcrypt__rounds` (or `bcrypt__default_rounds`) says otherwise
        schemes = c.kwargs.get("schemes") or _arg(c, 0)
        names = [x.value for x in (schemes.inner if schemes is not None and schemes.kind == "array" else [])
                 if x.kind == "string"]
        if not names or names[0] not in ("bcrypt", "bcrypt_sha256"):
            return None
        cost = _num(c.kwargs.get("bcrypt__rounds") or c.kwargs.get("bcrypt__default_rounds"))
        cost = 12.0 if cost is None else cost
        if free:
            return "blocker", (f"Hashes passwords with bcrypt through passlib ({cost:g} rounds); one hash or login "
                               f"takes far more than the {FREE_CPU} (Error 1102).")
        if cost >= BCRYPT_HEAVY:
            return "warning", (f"Hashes passwords with bcrypt through passlib ({cost:g} rounds, passlib's default "
                               "when not set) in Pyodide (WebAssembly) on every register and login; one hash costs "
                               f"hundreds of milliseconds of CPU or more (limit: {PAID_CPU}).")
        return None
    if kind in ("bcrypt", "bcrypt-passlib"):
        cost = _num(_arg(c, 0) or c.kwargs.get("rounds"))
        if cost is None and kind == "bcrypt" and not c.args and "rounds" not in c.kwargs:
            cost = 12.0   # bcrypt.gensalt() defaults to 12 rounds
        if free:
            return "blocker", (f"Runs bcrypt ({q}); a bcrypt hash takes far more than the {FREE_CPU} "
                               "(Error 1102).")
        if cost is not None and cost >= BCRYPT_HEAVY:
            return "warning", (f"Runs bcrypt with {cost:g} rounds ({q}) in Pyodide (WebAssembly); one hash costs "
                               f"hundreds of milliseconds of CPU or more (limit: {PAID_CPU}).")
        return None
    if kind in ("bcrypt-hashpw", "bcrypt-compare") and free:
        return "blocker", f"Runs bcrypt ({q}); a bcrypt hash or check takes far more than the {FREE_CPU} (Error 1102)."
    return None


def _pbkdf2(q: str, iterations: float | None, free: bool) -> tuple[str, str] | None:
    if iterations is None:
        return None
    if free and iterations >= PBKDF2_FREE:
        return "blocker", (f"Derives a key with PBKDF2 over {iterations:,.0f} iterations ({q}); that is well over "
                           f"the {FREE_CPU} (Error 1102).")
    if not free and iterations >= PBKDF2_HEAVY:
        return "warning", (f"Derives a key with PBKDF2 over {iterations:,.0f} iterations ({q}); each call costs "
                           f"hundreds of milliseconds of CPU (limit: {PAID_CPU}; billed per CPU-ms).")
    return None


# --------------------------------------------------------------------------------------------- images

_JIMP = re.compile(r"^jimp(\.default|\.Jimp)?(\.(read|fromBuffer|create))?$")
_JS_IMAGE = re.compile(r"^(pngjs\.PNG\.sync\.read|pngjs\.PNG\(\)\.parse|jpeg-js\.decode|jpeg-js\.default\.decode|"
                       r"image-js\.Image\.load|image-js\.decode|upng-js\.decode|gifwrap\.GifUtil\.read)$")
_PIL = re.compile(r"^PIL\.Image\.(open|new|frombytes|fromarray)\(\)(\.\w+\(\))*\.(resize|thumbnail|rotate|filter|"
                  r"transform|convert|quantize|reduce)$")

# Globs (fnmatchcase) over every name _hash_call() and _image_call() accept (BundledDataSize reads imports only).
# The regexes cannot be listed directly, so their alternatives are spelled out here: keep the two in step. _PIL's
# `(\.\w+\(\))*` (any chain of calls) becomes `*`, which is broader.
_PIL_OPEN = ("open", "new", "frombytes", "fromarray")
_PIL_OPS = ("resize", "thumbnail", "rotate", "filter", "transform", "convert", "quantize", "reduce")
CALLS: tuple[str, ...] = (
    *(f"{lib}{d}.{m}" for lib in ("bcrypt", "bcryptjs") for d in ("", ".default")
      for m in ("hash", "hashSync", "genSalt", "genSaltSync", "compare", "compareSync")),       # _BCRYPT_JS
    "crypto.pbkdf2", "crypto.pbkdf2Sync",                                                        # _PBKDF2_JS
    *_PY_HASH,
    *(f"jimp{d}{m}" for d in ("", ".default", ".Jimp") for m in ("", ".read", ".fromBuffer", ".create")),  # _JIMP
    "pngjs.PNG.sync.read", "pngjs.PNG().parse", "jpeg-js.decode", "jpeg-js.default.decode",     # _JS_IMAGE
    "image-js.Image.load", "image-js.decode", "upng-js.decode", "gifwrap.GifUtil.read",
    *(f"PIL.Image.{o}()*.{m}" for o in _PIL_OPEN for m in _PIL_OPS),                             # _PIL
)


def _image_call(c: Call, facts: FileFacts) -> str | None:
    q = c.qname
    if facts.language == "python":
        return q if _PIL.match(q) else None
    m = _JIMP.match(q)
    if m:
        if m.group(2) is None and c.kind != "new":
            return None   # `Jimp` itself called as a function: not the decoder
        return "jimp, pure JavaScript"
    if _JS_IMAGE.match(q):
        return q.split(".")[0]
    return None


# --------------------------------------------------------------------------------------------- bundle size

DATA_EXT = (".json", ".wasm", ".txt", ".bin", ".csv", ".tsv", ".html", ".htm", ".sql", ".dat", ".data", ".xml",
            ".yaml", ".yml", ".md", ".onnx", ".db", ".sqlite", ".proto", ".glb", ".png", ".jpg", ".jpeg", ".gif",
            ".webp", ".svg", ".woff", ".woff2", ".ttf", ".mp3", ".mp4")
MIB = 1048576
SIZE_LIMIT_MIB = 64      # uncompressed, both plans, no compressed limit (wrangler >= 4.130.0, 2026-09-08)
WARN_MIB = 10            # a single bundled data file this large is parsed at startup and held in memory


class BundledDataSize:
    """Data files imported into the bundle (`import rows from "./big.json"`): counted against the Worker size."""

    def check(self, rule: Any, facts: FileFacts, ctx: RuleContext) -> list[Hit]:
        if facts.language == "python":
            return []
        sizes = ctx.discovery.other_sizes
        base = posixpath.dirname(facts.path)
        hits: list[Hit] = []
        for imp in facts.imports:
            mod = imp.module.split("?")[0]
            if imp.type_only or not mod.startswith((".", "/")) or not mod.lower().endswith(DATA_EXT):
                continue
            rel = posixpath.normpath(posixpath.join(base, mod)) if mod.startswith(".") else mod.lstrip("/")
            size = sizes.get(rel)
            if size is None or size < WARN_MIB * MIB:
                continue
            mib = size / MIB
            if mib >= SIZE_LIMIT_MIB:
                sev = "blocker"
                msg = (f"Bundles `{mod}` ({mib:.1f} MiB) into the Worker; on its own it exceeds the {SIZE_LIMIT_MIB} "
                       "MiB Worker size limit (uncompressed, both plans; no compressed limit since wrangler "
                       "4.130.0, 2026-09-08), so the upload is rejected.")
            else:
                sev = "warning"
                msg = (f"Bundles `{mod}` ({mib:.1f} MiB) into the Worker; it counts toward the {SIZE_LIMIT_MIB} MiB "
                       "Worker size limit (uncompressed, both plans; no compressed limit since wrangler 4.130.0, "
                       "2026-09-08), is parsed within the 1 s startup limit and stays in the 128 MB isolate memory.")
            hits.append(Hit(imp.line, imp.column, imp.line, imp.snippet, guard=imp.guard,
                            severity=sev, message=msg, top_level=imp.top_level))
        return hits
