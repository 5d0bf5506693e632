"""Entry points from commands, Procfile, Dockerfile and docker-compose; attachment to projects."""
from __future__ import annotations

import json

import pytest

from cfcompat.analyzer.manifests.entry_points import (entry_points_for, read_compose, read_dockerfile,
                                                      read_procfile, script_kind)

from manifest_helpers import FIXTURES, scan_dir, scan_fixture, write

KNOWN = frozenset({"app/main.py", "src/pkg/server.py", "server.js", "src/index.ts", "mypkg/__main__.py",
                   "dist/index.js", "api/wsgi.py"})


@pytest.mark.parametrize("command,paths", [
    ("node server.js", ["server.js"]),
    ("node --require dotenv/config --inspect=9229 dist/index.js", ["dist/index.js"]),
    ("cross-env NODE_ENV=production node dist/index", ["dist/index.js"]),     # extension resolved from known files
    ("npm run build && node dist/index.js", ["dist/index.js"]),
    ("tsx watch src/index.ts", ["src/index.ts"]),
    ("ts-node -P tsconfig.json src/index.ts", ["src/index.ts"]),
    ("nodemon --watch src -e ts --exec 'ts-node src/index.ts'", ["src/index.ts"]),
    ("bun run src/index.ts", ["src/index.ts"]),
    ("bun run dev", [None]),                                                  # a package.json script, not a file
    ("deno run --allow-net src/index.ts", ["src/index.ts"]),
    ("npx wrangler dev src/index.ts", ["src/index.ts"]),
    ("wrangler dev", [None]),
    ("node -e 'console.log(1)'", [None]),
    ("python -m mypkg", ["mypkg/__main__.py"]),
    ("python3 -u app/main.py", ["app/main.py"]),
    ("python -m uvicorn app.main:app --port 80", ["app/main.py"]),
    ("python -m pytest -q", [None]),
    ("python -m http.server 8000", [None]),
    ("uvicorn app.main:app --reload --port 8000", ["app/main.py"]),
    ("uvicorn pkg.server:app --app-dir src", ["src/pkg/server.py"]),
    ("gunicorn -w 4 -k uvicorn.workers.UvicornWorker -b 0.0.0.0:8000 app.main:app", ["app/main.py"]),
    ("gunicorn 'app.main:create_app()'", ["app/main.py"]),
    ("gunicorn api.wsgi", ["api/wsgi.py"]),
    ("hypercorn app.main:app --bind 0.0.0.0:80", ["app/main.py"]),
    ("FLASK_APP=app/main.py flask run --host 0.0.0.0", ["app/main.py"]),
    ("flask --app app.main run", ["app/main.py"]),
    ("fastapi run app/main.py", ["app/main.py"]),
    ("streamlit run app/main.py --server.port 8501", ["app/main.py"]),
    ("poetry run uvicorn app.main:app", ["app/main.py"]),
    ("uv run --with httpx python app/main.py", ["app/main.py"]),
    ("sh -c 'python manage.py migrate && gunicorn api.wsgi'", ["manage.py", "api/wsgi.py"]),
    ("exec node server.js > /var/log/out.log 2>&1", ["server.js"]),
    ("next start", [None]),
    ("echo 'unbalanced", [None]),
])
def test_command_targets(command, paths):
    eps = entry_points_for(command, "", KNOWN, "Procfile", 1, "runtime")
    assert [e.path for e in eps] == paths
    assert all(e.command == command for e in eps)


def test_exec_form_list_and_base_dir():
    eps = entry_points_for(["python", "-m", "mypkg"], "svc", frozenset({"svc/mypkg/__main__.py"}), "svc/Dockerfile", 3,
                           "runtime")
    assert [(e.path, e.command) for e in eps] == [("svc/mypkg/__main__.py", "python -m mypkg")]
    assert entry_points_for("node ../../etc/x.js", "a", frozenset(), "a/Procfile", 1, "runtime")[0].path is None


@pytest.mark.parametrize("name,kind", [
    ("start", "runtime"), ("start:prod", "runtime"), ("serve", "runtime"), ("dev", "dev"), ("watch", "dev"),
    ("build", "build"), ("build:css", "build"), ("postinstall", "build"), ("prestart", "build"),
    ("test", "test"), ("test:e2e", "test"), ("lint", "test"), ("typecheck", "test"), ("deploy", "build"),
    ("migrate-db", "build"), ("my-task", "runtime"),
])
def test_script_kind(name, kind):
    assert script_kind(name)[0] == kind


def test_procfile_fixture():
    res = read_procfile(FIXTURES / "python-pipenv", "Procfile", frozenset({"app.py", "tasks.py"}))
    assert [(e.line, e.kind, e.path) for e in res.entry_points] == [
        (2, "runtime", "app.py"), (3, "runtime", "tasks.py"), (4, "build", "manage.py")]


def test_procfile_bad_line(tmp_path):
    write(tmp_path, "Procfile", "web gunicorn app:app\nworker: node worker.js\n")
    res = read_procfile(tmp_path, "Procfile", frozenset())
    assert [e.message for e in res.errors] == ["invalid Procfile line 1: expected 'name: command'"]
    assert [e.path for e in res.entry_points] == ["worker.js"]


def test_dockerfile_shell_form_with_continuations():
    res = read_dockerfile(FIXTURES / "python-pipenv", "Dockerfile", frozenset({"app.py"}))
    assert [(e.line, e.kind, e.path, e.command) for e in res.entry_points] == [
        (7, "runtime", "app.py", "gunicorn --bind 0.0.0.0:8000 --workers 2 app:app")]


def test_dockerfile_workdir_comments_heredoc_and_stages(tmp_path):
    text = "\n".join([
        "FROM node:20 AS deps",
        "RUN <<EOF",
        'echo "CMD [\\"fake\\"]"',
        "EOF",
        'CMD ["node", "scripts/seed.js"]',
        "",
        "FROM python:3.12",
        "WORKDIR /srv",
        "WORKDIR app",
        "# a comment",
        'ENTRYPOINT ["uvicorn", \\',
        "  # comment inside a continuation",
        '  "service.main:app"]',
        'CMD ["--port", "80"]',
        "",
    ])
    write(tmp_path, "deploy/Dockerfile.prod", text)
    res = read_dockerfile(tmp_path, "deploy/Dockerfile.prod", frozenset({"deploy/service/main.py"}))
    got = [(e.line, e.kind, e.path) for e in res.entry_points]
    assert got == [(5, "build", "deploy/scripts/seed.js"), (11, "runtime", "deploy/service/main.py"),
                   (14, "runtime", "deploy/service/main.py")]


def test_dockerfile_absolute_path_outside_workdir_is_unresolved(tmp_path):
    write(tmp_path, "Dockerfile", 'FROM node:20\nWORKDIR /app\nCMD ["node", "/opt/other/server.js"]\n')
    res = read_dockerfile(tmp_path, "Dockerfile", frozenset())
    assert [(e.path, e.command) for e in res.entry_points] == [(None, "node /opt/other/server.js")]


def test_compose_fixture_and_errors(tmp_path):
    res = read_compose(FIXTURES / "python-uv", "docker-compose.yml", frozenset({"src/ml_service/main.py"}))
    assert [(e.line, e.path) for e in res.entry_points] == [(5, "src/ml_service/main.py"), (10, "ml_service/worker.py")]
    write(tmp_path, "compose.yaml", "services:\n  web:\n    command: [\n")
    res = read_compose(tmp_path, "compose.yaml", frozenset())
    assert res.errors[0].message.startswith("invalid YAML at line ")


def test_entry_files_attach_to_the_matching_ecosystem(tmp_path):
    write(tmp_path, "package.json", json.dumps({"name": "front", "dependencies": {"vite": "^5"}}))
    write(tmp_path, "pyproject.toml", '[project]\nname = "back"\ndependencies = ["flask"]\n')
    write(tmp_path, "Procfile", "web: gunicorn back.app:app\nassets: node build.js\nclock: ./bin/clock\n")
    write(tmp_path, "services/bot/Dockerfile", 'FROM python:3.12\nCMD ["python", "bot.py"]\n')
    scan = scan_dir(tmp_path)
    projs = {(p.root, p.ecosystem): p for p in scan.projects}
    assert [(e.line, e.path) for e in projs[("", "pypi")].entry_points if e.source == "Procfile"] == [
        (1, "back/app.py")]
    assert [(e.line, e.path) for e in projs[("", "npm")].entry_points if e.source == "Procfile"] == [
        (2, "build.js")]
    # a command of unknown ecosystem at a root with two projects is not attached, but still listed
    assert (3, None) in [(e.line, e.path) for e in scan.entry_points if e.source == "Procfile"]
    # the Dockerfile in a folder without a manifest goes to the nearest project of its ecosystem
    assert ("services/bot/bot.py", "services/bot/Dockerfile") in [
        (e.path, e.source) for e in projs[("", "pypi")].entry_points]


def test_dockerfile_only_repo_creates_a_project(tmp_path):
    write(tmp_path, "Dockerfile", 'FROM node:20\nCMD ["node", "server.js"]\n')
    scan = scan_dir(tmp_path)
    assert [(p.root, p.ecosystem, p.manifests) for p in scan.projects] == [("", "npm", [])]
    assert scan.projects[0].entry_points[0].path == "server.js"


def test_fixture_entry_point_sources_are_listed():
    scan = scan_fixture("python-pipenv")
    assert sorted({e.source for e in scan.entry_points}) == ["Dockerfile", "Pipfile", "Procfile"]
