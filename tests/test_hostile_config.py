"""Issue 19, item 8: a UTF-8 byte-order mark at the start of wrangler.toml / wrangler.jsonc (settings) and of
pyproject.toml / cfcompat.toml (config) is read like any editor would: the values in the file apply."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci_helpers import run_cli

from cfcompat.analyzer.config import load_config
from cfcompat.analyzer.settings import DEFAULT_COMPAT_DATE, read_wrangler, resolve_settings

BOM = b"\xef\xbb\xbf"
APP = "const fs = require('fs');\nfs.writeFileSync('/data/out.txt', 'x');\n"


@pytest.mark.parametrize("name, text", [
    ("wrangler.toml", 'name = "w"\nmain = "src/index.js"\ncompatibility_date = "2024-09-23"\n'
                      'compatibility_flags = ["nodejs_compat"]\n'),
    ("wrangler.jsonc", '// config\n{"name": "w", "main": "src/index.js",\n "compatibility_date": "2024-09-23",\n'
                       ' "compatibility_flags": ["nodejs_compat"]}\n'),
])
def test_wrangler_config_with_a_bom_is_read(tmp_path: Path, name: str, text: str):
    assert DEFAULT_COMPAT_DATE != "2024-09-23"
    (tmp_path / name).write_bytes(BOM + text.encode())
    errors: list = []
    st = resolve_settings(tmp_path, target=None, compat_date=None, compat_flags=None, languages={}, errors=errors)
    assert errors == []
    assert st.compatibility_date == "2024-09-23" and st.compatibility_date_source == name
    assert st.compatibility_flags == ["nodejs_compat"] and st.main == "src/index.js"
    wr = read_wrangler(tmp_path, [])
    assert wr is not None and wr.line_of["compatibility_date"] == 3


@pytest.mark.parametrize("name, text", [
    ("pyproject.toml", '[project]\nname = "app"\nversion = "1"\n\n[tool.cfcompat]\nfail_on = "blocker"\n'),
    ("cfcompat.toml", 'fail_on = "blocker"\n'),
])
def test_config_with_a_bom_is_applied(tmp_path: Path, capsys, name: str, text: str):
    (tmp_path / name).write_bytes(BOM + text.encode())
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.js").write_text(APP)
    config, source = load_config(tmp_path)
    assert config.get("fail_on") == "blocker" and source is not None
    code, out, err = run_cli(["scan", str(tmp_path), "--format", "json", "--no-cache"], capsys)
    assert json.loads(out)["summary"]["findings"]["blocker"] >= 1
    assert code == 1, err       # the config's fail_on applies (was exit 0: the section was dropped)


def test_config_with_a_bom_and_a_bad_key_still_names_the_problem(tmp_path: Path):
    (tmp_path / "cfcompat.toml").write_bytes(BOM + b'fail_on = "sometimes"\n')
    from cfcompat.analyzer.config import ConfigError
    with pytest.raises(ConfigError, match=r"^cfcompat.toml: fail_on = 'sometimes' is not one of"):
        load_config(tmp_path)
