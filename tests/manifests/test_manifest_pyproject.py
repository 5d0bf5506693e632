"""pyproject.toml (PEP 621, PEP 735, Poetry, PDM, uv) with uv.lock and poetry.lock."""
from __future__ import annotations

from cfcompat.analyzer.manifests import attribute_transitive
from cfcompat.analyzer.manifests.pyproject import read_pyproject

from manifest_helpers import FIXTURES, dep, locked, scan_dir, scan_fixture, write


def test_pep621_and_dependency_groups_with_lines():
    scan = scan_fixture("python-uv")
    got = [(d.name, d.version, d.line, d.dev) for d in scan.dependencies]
    assert got == [
        ("fastapi", ">=0.110", 7, False),
        ("uvicorn", "[standard]>=0.29", 8, False),
        ("numpy", ">=1.26,<2", 9, False),
        ("httpx", "", 10, False),
        ("tomli", '>=2; python_version < "3.11"', 11, False),
        ("psycopg", "[binary]>=3.1", 15, False),        # optional group "postgres" is not dev
        ("pytest-asyncio", ">=0.23", 17, True),         # optional group "test" is dev
        ("pytest", ">=8", 25, True),                    # [dependency-groups] dev
        ("ruff", ">=0.4", 26, True),
    ]
    (proj,) = scan.projects
    assert (proj.root, proj.ecosystem, proj.name) == ("", "pypi", "ml-service")
    assert proj.manifests == ["pyproject.toml", "uv.lock"]


def test_scripts_and_compose_entry_points():
    scan = scan_fixture("python-uv")
    eps = {(e.source, e.line): (e.path, e.kind, e.command) for e in scan.projects[0].entry_points}
    assert eps[("pyproject.toml", 21)] == ("src/ml_service/main.py", "runtime", "ml-service = ml_service.main:run")
    # compose: build context '.', --app-dir src
    assert eps[("docker-compose.yml", 5)][0] == "src/ml_service/main.py"
    assert eps[("docker-compose.yml", 10)][:2] == ("ml_service/worker.py", "runtime")


def test_uv_lock_wheel_evidence():
    scan = scan_fixture("python-uv")
    np_ = locked(scan, "numpy")
    assert (np_.version, np_.line, np_.native) == ("1.26.4", 58, True)
    assert np_.evidence.startswith("only platform wheels (cp312-cp312-macosx_11_0_arm64")
    assert "no pure-Python wheel" in np_.evidence
    fa = locked(scan, "fastapi")
    assert (fa.native, fa.evidence) == (False, "pure-Python wheel (py3-none-any) in uv.lock")
    assert locked(scan, "pydantic-core").native is True
    assert locked(scan, "ruff").native is True                     # py3-none-manylinux: still a binary
    assert not any(e.name == "ml-service" for e in scan.locked)   # the editable root is the project


def test_uv_lock_graph_transitive_and_dev():
    scan = scan_fixture("python-uv")
    assert locked(scan, "pydantic-core").dependents == ["pydantic"]
    via = attribute_transitive(scan)
    assert via["pydantic-core"] == ["fastapi"]
    assert via["uvloop"] == ["uvicorn"]                  # through uvicorn's "standard" extra
    assert via["psycopg-binary"] == ["psycopg"]
    assert locked(scan, "pytest").dev is True
    assert locked(scan, "pydantic-core").dev is False


def test_poetry_project_and_lock():
    scan = scan_fixture("python-poetry")
    got = [(d.name, d.version, d.line, d.dev) for d in scan.dependencies]
    assert got == [
        ("django", "^5.0", 10, False),
        ("psycopg2", "^2.9.9", 11, False),
        ("pillow", "[avif]^10.3", 12, False),
        ("django-storages", "git https://github.com/jschneier/django-storages.git@1.14.3", 13, False),
        ("pytest-django", "^4.8", 16, True),
        ("black", "^24.4", 17, True),
        ("mkdocs", "^1.6", 23, True),
    ]
    assert scan.projects[0].name == "blog"
    (ep,) = scan.projects[0].entry_points
    assert (ep.path, ep.line, ep.command) == ("blog/manage.py", 26, "blog-admin = blog.manage:main")
    pil = locked(scan, "pillow")
    assert (pil.native, pil.line) == (True, 73) and "no pure-Python wheel" in pil.evidence
    assert locked(scan, "black").native is False                  # a py3-none-any wheel exists too
    assert locked(scan, "psycopg2").native is None                # sdist only: cannot tell
    assert locked(scan, "django-storages").native is None         # git source, no files
    assert locked(scan, "sqlparse").dependents == ["django"]
    assert locked(scan, "mkdocs").dev is True and locked(scan, "asgiref").dev is False


def test_legacy_poetry_lock_category_and_metadata_files():
    scan = scan_fixture("python-poetry-legacy")
    lx = locked(scan, "lxml")
    assert (lx.native, lx.dev, lx.line) == (True, False, 2)
    assert (locked(scan, "pytest").native, locked(scan, "pytest").dev) == (False, True)


def test_pdm_uv_dev_tables_workspace_and_dynamic(tmp_path):
    text = """[project]
name = "Svc_Core"
dynamic = ["dependencies"]
optional-dependencies = { docs = ["sphinx"], all = ["svc-core[docs]", "redis"] }

[tool.pdm.dev-dependencies]
lint = ["ruff"]

[tool.uv]
dev-dependencies = ["pytest", "pytest"]

[tool.uv.workspace]
members = ["packages/*"]
"""
    write(tmp_path, "pyproject.toml", text)
    res = read_pyproject(tmp_path, "pyproject.toml")
    got = sorted((d.line, d.name, d.dev) for d in res.dependencies)
    assert got == [(4, "redis", False), (4, "sphinx", True), (7, "ruff", True), (10, "pytest", True)]
    assert res.workspaces == ["packages/*"]
    assert res.name == "Svc_Core"
    assert [(n.line, n.message.split(" is ")[0]) for n in res.notes] == [(3, "[project] dependencies")]


def test_same_requirement_in_two_groups_gets_each_line(tmp_path):
    text = '[project]\nname = "x"\ndependencies = ["anyio"]\n\n[project.optional-dependencies]\ntest = [\n  "anyio",\n]\n'
    write(tmp_path, "pyproject.toml", text)
    res = read_pyproject(tmp_path, "pyproject.toml")
    assert [(d.name, d.line, d.dev) for d in res.dependencies] == [("anyio", 3, False), ("anyio", 7, True)]


def test_invalid_requirement_in_pyproject_and_bad_types(tmp_path):
    text = '[project]\nname = "x"\ndependencies = [\n  "ok>=1",\n  "bad req !!",\n]\n[project.optional-dependencies]\ndev = "pytest"\n'
    write(tmp_path, "pyproject.toml", text)
    res = read_pyproject(tmp_path, "pyproject.toml")
    assert [d.name for d in res.dependencies] == ["ok"]
    msgs = [e.message for e in res.errors]
    assert msgs[0].startswith("invalid requirement at line 5 in project.dependencies: ")
    assert msgs[1] == "[project.optional-dependencies] dev at line 8 is not a list; skipped"


def test_broken_pyproject_reports_line():
    res = read_pyproject(FIXTURES / "broken", "pyproject.toml")
    assert [e.message for e in res.errors] == ["invalid TOML at line 7: Unclosed array"]
    assert res.dependencies == []


def test_monorepo_python_projects(tmp_path):
    write(tmp_path, "pyproject.toml", '[project]\nname = "root"\ndependencies = ["httpx"]\n')
    write(tmp_path, "services/api/pyproject.toml", '[project]\nname = "api"\ndependencies = ["fastapi"]\n')
    write(tmp_path, "services/api/uv.lock", 'version = 1\n[[package]]\nname = "fastapi"\nversion = "0.1"\n'
                                           'source = { registry = "https://pypi.org/simple" }\n')
    write(tmp_path, "node_modules/pkg/pyproject.toml", '[project]\nname = "ignored"\n')
    write(tmp_path, "build/pyproject.toml", '[project]\nname = "ignored-too"\n')
    scan = scan_dir(tmp_path)
    assert [(p.root, p.name, p.manifests) for p in scan.projects] == [
        ("", "root", ["pyproject.toml"]),
        ("services/api", "api", ["services/api/pyproject.toml", "services/api/uv.lock"]),
    ]
    assert dep(scan, "fastapi").manifest == "services/api/pyproject.toml"
    assert locked(scan, "fastapi").dev is False
