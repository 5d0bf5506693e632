"""Fetch the benchmark corpora: real code nobody on this project wrote, from the package registries, at pinned
versions, into ``$CFCOMPAT_BENCH_DIR`` (default ``~/.cache/cfcompat/bench``). Nothing fetched is ever run:

- the Django sdist comes through ``pip download --no-deps --no-binary :all:`` with its sha256 pinned. pip reads an
  sdist's metadata by calling the build backend the sdist names (setuptools, which would execute a ``setup.py``
  if the sdist had one), so the download runs in a venv of our own with ``--no-build-isolation`` and, in place of
  setuptools, a stand-in backend (``_STUB_BACKEND``) that copies the sdist's PKG-INFO as text and builds nothing;
- npm tarballs come through ``npm pack --ignore-scripts`` (npm checks the registry's sha512 integrity) and are
  extracted with tarfile's ``data`` filter (no links out of the folder, no device files, no setuid bits);
- the node_modules corpus is ``npm install --ignore-scripts`` in a scratch folder (no install script of any
  package runs; native addons stay unbuilt, as a scanner sees them in a fresh checkout). Its lockfile is kept in
  ``benchmarks/node_modules.package-lock.json`` so later runs get the same tree through ``npm ci``.

A corpus already present (a ``.ok`` marker naming the same pins) is reused. ``python benchmarks/corpora.py``
fetches everything and prints where; ``--semgrep`` also installs Semgrep into its own venv under the bench dir.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent

DJANGO = "5.1.15"                       # newest 5.1.x when this was written
DJANGO_SHA256 = "46a356b5ff867bece73fc6365e081f21c569973403ee7e9b9a0316f27d0eb947"
NPM_TARBALLS = {                        # corpus name -> npm spec
    "typescript": "typescript@5.7.2",
    "next": "next@15.1.0",
    "webpack": "webpack@5.97.1",
    "babel-core": "@babel/core@7.26.0",
    "express": "express@4.21.2",
}
NODE_MODULES = ["express@4.21.2", "better-sqlite3@11.7.0", "sharp@0.33.5"]
NODE_MODULES_LOCK = HERE / "node_modules.package-lock.json"
SEMGREP = "1.160.0"                    # newer ones need a certifi newer than the registry mirror has

# Order in which run.py measures them (smallest first, so a broken setup shows quickly).
ORDER = ["express", "babel-core", "webpack", "typescript", "next", "node_modules", "django"]


def bench_dir() -> Path:
    return Path(os.environ.get("CFCOMPAT_BENCH_DIR") or Path.home() / ".cache" / "cfcompat" / "bench").expanduser()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("npm_config_fund", "false")
    env.setdefault("npm_config_audit", "false")
    env.setdefault("npm_config_update_notifier", "false")
    env["npm_config_ignore_scripts"] = "true"    # belt and braces: no lifecycle script, whatever the command
    return env


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    res = subprocess.run(cmd, cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise SystemExit(f"failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr[-4000:]}")
    return res.stdout


def _marker(dest: Path) -> Path:
    return dest.parent / (dest.name + ".ok")


def _present(dest: Path, pins: str) -> bool:
    m = _marker(dest)
    return dest.is_dir() and m.is_file() and m.read_text() == pins


def _done(dest: Path, pins: str) -> None:
    _marker(dest).write_text(pins)


def _safe_extract(archive: Path, into: Path) -> None:
    with tarfile.open(archive) as tf:
        if hasattr(tarfile, "data_filter"):
            tf.extractall(into, filter="data")
        else:  # Python < 3.10.12 / 3.11.4: refuse anything that is not a plain file or folder inside `into`
            for m in tf.getmembers():
                p = (into / m.name).resolve()
                if not (m.isfile() or m.isdir()) or into.resolve() not in p.parents:
                    raise SystemExit(f"refusing tar member {m.name!r} in {archive}")
            tf.extractall(into)


_STUB_BACKEND = '''"""Stand-in build backend (cfcompat benchmarks): metadata from the sdist's PKG-INFO, read as text.
Nothing in the sdist is imported or run, and nothing is built."""
import os
import re


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    with open("PKG-INFO", encoding="utf-8") as fh:
        text = fh.read()
    name = re.search(r"^Name: (.+)$", text, re.M).group(1).strip()
    version = re.search(r"^Version: (.+)$", text, re.M).group(1).strip()
    dist_info = re.sub(r"[-_.]+", "_", name).lower() + "-" + version + ".dist-info"
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    with open(os.path.join(metadata_directory, dist_info, "METADATA"), "w", encoding="utf-8") as fh:
        fh.write(text)
    return dist_info


def build_wheel(*args, **kwargs):
    raise RuntimeError("the cfcompat benchmark backend builds nothing")
'''


def _pip_only_venv() -> Path:
    """A venv whose `setuptools` is the stand-in backend above: `pip download` of an sdist runs nothing from it."""
    tools = bench_dir() / "tools" / "pip-download"
    py = tools / "bin" / "python"
    stub = tools / "stub-backend-ok"
    if not stub.exists():
        shutil.rmtree(tools, ignore_errors=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(tools)
        subprocess.run([str(py), "-m", "pip", "uninstall", "-q", "-y", "setuptools", "wheel"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
        pkg = Path(purelib) / "setuptools"
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "build_meta.py").write_text(_STUB_BACKEND)
        stub.write_text("1\n")
    return py


def fetch_django() -> Path:
    dest = bench_dir() / "corpora" / "django"
    pins = f"django=={DJANGO} sha256:{DJANGO_SHA256}"
    if _present(dest, pins):
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    py = _pip_only_venv()
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text(f"django=={DJANGO} --hash=sha256:{DJANGO_SHA256}\n")
        _run([str(py), "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", "--no-build-isolation",
              "--require-hashes", "-d", str(Path(tmp) / "out"), "-r", str(req)])
        sdist = next((Path(tmp) / "out").glob("*.tar.gz"))
        if hashlib.sha256(sdist.read_bytes()).hexdigest() != DJANGO_SHA256:
            raise SystemExit(f"{sdist.name}: sha256 differs from the pinned one")
        _safe_extract(sdist, dest)
    _done(dest, pins)
    return dest


def fetch_npm_tarball(name: str) -> Path:
    spec = NPM_TARBALLS[name]
    dest = bench_dir() / "corpora" / name
    if _present(dest, spec):
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = _run(["npm", "pack", "--ignore-scripts", "--json", "--pack-destination", tmp, spec], cwd=Path(tmp))
        info = json.loads(out[out.index("["):])[0]
        tgz = Path(tmp) / info["filename"]
        # npm pack checked the registry's integrity (sha512) while downloading; keep it for the record
        _safe_extract(tgz, dest)
        (dest.parent / f"{name}.integrity").write_text(info.get("integrity", "") + "\n")
    _done(dest, spec)
    return dest


def fetch_node_modules() -> Path:
    work = bench_dir() / "corpora" / "nm"
    dest = work / "node_modules"
    pins = " ".join(NODE_MODULES) + (" lock:" + hashlib.sha256(NODE_MODULES_LOCK.read_bytes()).hexdigest()[:16]
                                     if NODE_MODULES_LOCK.exists() else "")
    if _present(dest, pins):
        return dest
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    deps = {s.rsplit("@", 1)[0]: s.rsplit("@", 1)[1] for s in NODE_MODULES}
    (work / "package.json").write_text(json.dumps({"name": "cfcompat-bench-nm", "private": True,
                                                   "dependencies": deps}, indent=2) + "\n")
    flags = ["--ignore-scripts", "--no-audit", "--no-fund", "--no-save"]
    if NODE_MODULES_LOCK.exists():
        shutil.copy(NODE_MODULES_LOCK, work / "package-lock.json")
        _run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=work)
    else:
        _run(["npm", "install", *flags[:-1], "--save-exact"], cwd=work)
        shutil.copy(work / "package-lock.json", NODE_MODULES_LOCK)
    _done(dest, pins)
    return dest


def ensure_semgrep() -> Path:
    """Semgrep in its own venv under the bench dir; returns the `semgrep` executable."""
    env_dir = bench_dir() / "tools" / f"semgrep-{SEMGREP}"
    exe = env_dir / "bin" / "semgrep"
    if exe.exists():
        return exe
    shutil.rmtree(env_dir, ignore_errors=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    _run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--only-binary", ":all:",
          f"semgrep=={SEMGREP}"])
    return exe


def corpus_paths() -> dict[str, Path]:
    """Every corpus, fetched if missing: name -> the folder to scan."""
    out: dict[str, Path] = {}
    for name in ORDER:
        if name == "django":
            out[name] = fetch_django() / f"django-{DJANGO}"
            if not out[name].is_dir():   # older sdists are named Django-x.y.z
                out[name] = fetch_django() / f"Django-{DJANGO}"
        elif name == "node_modules":
            out[name] = fetch_node_modules()
        else:
            out[name] = fetch_npm_tarball(name) / "package"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--semgrep", action="store_true", help="also install Semgrep into its own venv")
    args = ap.parse_args()
    for name, path in corpus_paths().items():
        print(f"{name:14s} {path}")
    if args.semgrep:
        print(f"{'semgrep':14s} {ensure_semgrep()}")


if __name__ == "__main__":
    sys.exit(main())
