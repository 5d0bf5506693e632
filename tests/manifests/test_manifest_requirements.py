"""requirements*.txt / constraints: includes, markers, extras, URLs, hashes, dev files, pip-compile."""
from __future__ import annotations

from cfcompat.analyzer.manifests import attribute_transitive, is_manifest
from cfcompat.analyzer.manifests.pip_requirements import file_is_dev, read_requirements

from manifest_helpers import dep, locked, scan_dir, scan_fixture, write


def test_requirements_names_versions_lines():
    scan = scan_fixture("python-requirements")
    got = [(d.name, d.version, d.line) for d in scan.dependencies if d.manifest == "requirements.txt"]
    assert got == [
        ("django", ">=4.2,<5.0", 5),
        ("uvicorn", '[standard]>=0.29 ; python_version >= "3.9"', 6),
        ("psycopg2-binary", "==2.9.9", 7),                 # backslash continuation + --hash options
        ("requests", "[socks,security] >= 2.31", 10),
        ("mylib", "@ https://example.com/packages/mylib-1.0.tar.gz", 11),
        ("django-tenants", "git+https://github.com/acme/django-tenants.git@v3.6.1#egg=django-tenants", 12),
        ("tomli", '; python_version<"3.11"', 13),
        ("numpy", '==1.26.4; sys_platform != "win32" and python_version >= "3.10"', 15),
        ("flask-sqlalchemy", "==3.1.1", 16),               # PEP 503 normalised
    ]
    assert all(d.ecosystem == "pypi" and not d.dev for d in scan.dependencies if d.manifest == "requirements.txt")
    assert scan.errors == []


def test_includes_cycle_and_dev_files():
    scan = scan_fixture("python-requirements")
    assert dep(scan, "celery").manifest == "requirements/base.txt"
    assert dep(scan, "celery").version == "[redis]==5.4.0"
    assert dep(scan, "python-dateutil").manifest == "requirements/common.txt"   # base <-> common cycle
    for name in ("pytest", "pytest-cov", "black"):
        d = dep(scan, name)
        assert d.manifest == "requirements-dev.txt" and d.dev is True
    (proj,) = scan.projects
    assert proj.manifests == ["constraints.txt", "requirements-dev.txt", "requirements.txt",
                              "requirements/base.txt", "requirements/common.txt"]


def test_constraints_are_pins_not_dependencies():
    scan = scan_fixture("python-requirements")
    assert not any(d.name in ("urllib3", "cryptography") for d in scan.dependencies)
    u = locked(scan, "urllib3")
    assert (u.version, u.lockfile, u.line, u.native) == ("2.2.1", "constraints.txt", 2, None)


def test_pip_compile_annotations_split_direct_and_transitive():
    scan = scan_fixture("python-pip-compile")
    direct = [(d.name, d.version, d.line) for d in scan.dependencies if d.manifest == "requirements.txt"]
    assert direct == [("fastapi", "==0.111.0", 11), ("orjson", "==3.10.3", 15)]
    assert [(d.name, d.manifest) for d in scan.dependencies if d.manifest == "requirements.in"] == [
        ("fastapi", "requirements.in"), ("orjson", "requirements.in")]
    pc = locked(scan, "pydantic-core")
    assert (pc.version, pc.line, pc.dependents) == ("2.18.2", 21, ["pydantic"])
    assert locked(scan, "typing-extensions").dependents == ["fastapi", "pydantic", "pydantic-core"]
    assert attribute_transitive(scan)["pydantic-core"] == ["fastapi"]


def test_file_is_dev():
    assert file_is_dev("requirements-dev.txt")
    assert file_is_dev("dev-requirements.txt")
    assert file_is_dev("requirements/test.txt")
    assert file_is_dev("requirements_lint.in")
    assert not file_is_dev("requirements.txt")
    assert not file_is_dev("requirements/production.txt")
    assert not file_is_dev("requirements/base.txt")
    assert file_is_dev("docs/requirements.txt")
    assert file_is_dev("tests/requirements/base.txt")
    assert not file_is_dev("services/api/requirements.txt")


def test_is_manifest_patterns():
    for p in ("requirements.txt", "requirements-dev.txt", "dev-requirements.txt", "requirements/prod.txt",
              "svc/requirements.in", "constraints.txt", "constraints-py311.txt"):
        assert is_manifest(p), p
    for p in ("notes.txt", "requirements.md", "node_modules/x/requirements.txt", ".venv/lib/requirements.txt"):
        assert not is_manifest(p), p


def test_neutral_included_file_inherits_dev(tmp_path):
    write(tmp_path, "requirements-test.txt", "-r shared/testing-base.txt\npytest\n")
    write(tmp_path, "shared/testing-base.txt", "factory-boy\n")
    write(tmp_path, "requirements.txt", "-rshared/runtime.txt\n")
    write(tmp_path, "shared/runtime.txt", "httpx\n")
    scan = scan_dir(tmp_path)
    assert dep(scan, "factory-boy").dev is True      # only included from a dev file
    assert dep(scan, "httpx").dev is False           # `-rfile` attached form, included from a prod file


def test_missing_and_outside_includes(tmp_path):
    write(tmp_path, "app/requirements.txt", "-r ../../outside.txt\n-r missing.txt\n-c https://x/c.txt\nflask\n")
    res = {r.path: r for r in read_requirements(tmp_path, ["app/requirements.txt"])}["app/requirements.txt"]
    assert [e.message for e in res.errors] == ["included file 'missing.txt' at line 2 not found"]
    assert [(n.line, n.message) for n in res.notes] == [
        (1, "included file ../../outside.txt is outside the repository; not read"),
        (3, "remote constraints file https://x/c.txt is not fetched"),
    ]
    assert [d.name for d in res.dependencies] == ["flask"]


def test_editable_wheels_and_local_paths(tmp_path):
    text = ("-e .\n-e ./libs/core\n-e git+https://github.com/a/b.git#egg=b-lib[x]\n"
            "./wheels/fastcore-2.1.0-cp312-cp312-manylinux_2_17_x86_64.whl\n"
            "https://example.com/dl/Some_Pkg-0.4.tar.gz\n./vendor/unknown\n")
    write(tmp_path, "requirements.txt", text)
    (res,) = read_requirements(tmp_path, ["requirements.txt"])
    assert [(d.name, d.line) for d in res.dependencies] == [("b-lib", 3), ("fastcore", 4), ("some-pkg", 5)]
    assert [n.line for n in res.notes] == [2, 6]


def test_invalid_requirement_line_is_an_error_with_line(tmp_path):
    write(tmp_path, "requirements.txt", "flask\n\n# c\nnot a valid req!!\nrequests\n")
    (res,) = read_requirements(tmp_path, ["requirements.txt"])
    assert len(res.errors) == 1 and res.errors[0].message.startswith("invalid requirement at line 4: ")
    assert [d.name for d in res.dependencies] == ["flask", "requests"]


def test_utf16_and_crlf_files(tmp_path):
    (tmp_path / "requirements.txt").write_bytes("flask==3.0\r\nnumpy\r\n".encode("utf-16"))
    (res,) = read_requirements(tmp_path, ["requirements.txt"])
    assert [(d.name, d.line) for d in res.dependencies] == [("flask", 1), ("numpy", 2)]


def test_inline_via_annotation_style(tmp_path):
    write(tmp_path, "requirements.txt", "anyio==4.3.0  # via httpx, starlette\nhttpx==0.27.0  # via -r requirements.in\n")
    (res,) = read_requirements(tmp_path, ["requirements.txt"])
    assert [d.name for d in res.dependencies] == ["httpx"]
    anyio = next(e for e in res.locked if e.name == "anyio")
    assert anyio.dependents == ["httpx", "starlette"] and anyio.version == "4.3.0"
