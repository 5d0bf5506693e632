"""setup.py (ast only), setup.cfg, environment.yml."""
from __future__ import annotations

import pytest

from cfcompat.analyzer.manifests.conda import read_environment
from cfcompat.analyzer.manifests.setup_files import parse_ini, read_setup_cfg, read_setup_py

from manifest_helpers import FIXTURES, dep, scan_fixture, write


def test_setup_py_literal_lists_names_and_extras():
    res = read_setup_py(FIXTURES / "python-setup", "setup.py")
    got = sorted((d.line, d.name, d.version, d.dev) for d in res.dependencies)
    assert got == [
        (5, "click", ">=8.0", False),             # resolved through BASE_REQUIRES + [...]
        (6, "pillow", ">=9.0", False),
        (10, "boto3", ">=1.28", False),           # extras_require via a module-level dict name
        (11, "moto", "[s3]", True),               # "test" extra is dev
        (11, "pytest", "", True),
        (20, "opencv-python-headless", ">=4.8", False),
    ]
    assert res.name == "imgtools"
    assert res.notes == [] and res.errors == []


def test_setup_py_entry_points_resolve_src_layout():
    known = frozenset({"src/imgtools/cli.py"})
    res = read_setup_py(FIXTURES / "python-setup", "setup.py", known)
    assert [(e.path, e.line, e.kind) for e in res.entry_points] == [("src/imgtools/cli.py", 25, "runtime")]


def test_setup_py_is_never_executed(tmp_path):
    marker = tmp_path / "EXECUTED"
    write(tmp_path, "setup.py", f"open({str(marker)!r}, 'w').write('x')\nfrom setuptools import setup\n"
                                "setup(name='x', install_requires=['six'])\n")
    res = read_setup_py(tmp_path, "setup.py")
    assert [d.name for d in res.dependencies] == ["six"]
    assert not marker.exists()


def test_setup_py_computed_arguments_are_notes_not_errors():
    scan = scan_fixture("python-setup-dynamic")
    assert scan.errors == []
    msgs = [(n.line, n.message) for n in scan.notes]
    assert msgs == [
        (11, "setup.py install_requires is not a literal (requirements); it cannot be read statically"),
        (12, "setup.py extras_require['gpu'] is not a literal (compute_gpu_extras()); it cannot be read statically"),
    ]
    assert [d.name for d in scan.dependencies] == ["orjson"]     # the literal part still counts
    assert scan.projects[0].name == "dynamic-pkg"


def test_setup_py_syntax_error_and_missing_call(tmp_path):
    write(tmp_path, "setup.py", "from setuptools import setup\nsetup(name='x',\n")
    res = read_setup_py(tmp_path, "setup.py")
    assert res.errors[0].message.startswith("invalid Python syntax at line 2: ")
    write(tmp_path, "setup.py", "print('no setup here')\n")
    res = read_setup_py(tmp_path, "setup.py")
    assert res.errors == [] and res.notes[0].message.startswith("no setup(...) call found")


def test_setup_py_string_entry_points_and_kwargs(tmp_path):
    write(tmp_path, "setup.py", 'from setuptools import setup\nopts = {}\nsetup(\n    name="x",\n'
                                '    entry_points="""\n[console_scripts]\nrun-x = x.app:main\n""",\n'
                                '    scripts=["bin/tool"],\n    **opts,\n)\n')
    res = read_setup_py(tmp_path, "setup.py")
    assert [(e.path, e.line) for e in res.entry_points] == [("x/app.py", 7), ("bin/tool", 9)]
    assert [n.message for n in res.notes] == ["setup(**...) arguments cannot be read statically"]


def test_setup_cfg_options_extras_entry_points():
    res = read_setup_cfg(FIXTURES / "python-setup", "setup.cfg", frozenset({"src/imgtools/batch.py"}))
    got = [(d.name, d.version, d.line, d.dev) for d in res.dependencies]
    assert got == [
        ("numpy", ">=1.24", 8, False),
        ("scikit-image", '>=0.21; platform_machine != "armv7l"', 9, False),
        ("ruff", "", 13, True),
        ("mypy", ">=1.8", 14, True),
    ]
    assert [(e.path, e.line) for e in res.entry_points] == [("src/imgtools/batch.py", 18)]
    assert res.name == "imgtools"


def test_setup_cfg_semicolon_list_file_directive_and_errors(tmp_path):
    write(tmp_path, "setup.cfg", "[options]\ninstall_requires = requests; click>=8\ntests_require = file: req-test.txt\n"
                                 "this line is wrong\n")
    res = read_setup_cfg(tmp_path, "setup.cfg")
    assert [(d.name, d.line) for d in res.dependencies] == [("requests", 2), ("click", 2)]
    assert [n.message for n in res.notes] == ["[options] tests_require is read from req-test.txt (read that file instead)"]
    assert [e.message for e in res.errors] == ["invalid setup.cfg at line 4: expected '[section]' or 'key = value'"]


def test_parse_ini_lines():
    sections, lines, problems = parse_ini("[a]\nx =\n  one\n  two\n[b]\ny: 3\n  indented-after-y\n")
    assert sections == {"a": {"x": [(3, "one"), (4, "two")]}, "b": {"y": [(6, "3"), (7, "indented-after-y")]}}
    assert lines == {"a": {"x": 2}, "b": {"y": 6}}
    assert problems == []


def test_environment_yml_conda_and_pip():
    scan = scan_fixture("conda")
    conda = [(d.name, d.version, d.line) for d in scan.dependencies if d.reason]
    assert conda == [("numpy", "=1.26", 7), ("gdal", ">=3.8", 8), ("geopandas", "", 9)]
    assert all("conda package" in d.reason and d.ecosystem == "pypi" for d in scan.dependencies if d.reason)
    assert dep(scan, "gdal").reason == "conda package (channel conda-forge); the PyPI name may differ"
    assert not any(d.name in ("python", "pip") for d in scan.dependencies)
    pip = [(d.name, d.version, d.line) for d in scan.dependencies if d.manifest == "environment.yml" and not d.reason]
    assert pip == [("fastapi", "==0.110.0", 12), ("shapely", ">=2.0", 13)]
    assert dep(scan, "rasterio").manifest == "requirements-pip.txt"     # `-r` inside the pip list
    assert scan.projects[0].manifests == ["environment.yml", "requirements-pip.txt"]


@pytest.mark.parametrize("text,message", [
    ("dependencies: numpy\n", "'dependencies' at line 1 is not a list"),
    ("- a\n- b\n", "invalid environment file: expected a mapping at the top level"),
    ("dependencies:\n  - numpy\n  - [\n", "invalid YAML at line 4"),
])
def test_environment_yml_errors(tmp_path, text, message):
    write(tmp_path, "environment.yml", text)
    res = read_environment(tmp_path, "environment.yml")
    assert res.errors and res.errors[0].message.startswith(message), res.errors
