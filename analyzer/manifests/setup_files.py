"""setup.cfg (read as INI text with lines) and setup.py (read as a Python syntax tree with `ast`, never run)."""
from __future__ import annotations

import ast
import re
import warnings
from pathlib import Path

from ._common import Parsed, ReadError, dirname, is_dev_name, join_rel, read_text
from ._model import EntryPoint
from .entry_points import module_to_path
from .pip_requirements import parse_requirement_lines

_SECTION = re.compile(r"^\[([^\]]+)\]\s*(?:[#;].*)?$")
_OPTION = re.compile(r"^([^=:\s\[][^=:]*)[=:]\s*(.*)$")   # key stripped by the caller; lazy+\s* was quadratic


def parse_ini(text: str) -> tuple[dict[str, dict[str, list[tuple[int, str]]]], dict[str, dict[str, int]],
                                  list[tuple[int, str]]]:
    """INI -> ({section: {option: [(line, value line)]}}, {section: {option: line}}, [(line, problem)])."""
    sections: dict[str, dict[str, list[tuple[int, str]]]] = {}
    opt_lines: dict[str, dict[str, int]] = {}
    problems: list[tuple[int, str]] = []
    cur_section: str | None = None
    cur_opt: list[tuple[int, str]] | None = None
    for i, raw in enumerate(text.split("\n"), 1):
        stripped = raw.strip()
        if not stripped:
            continue
        if stripped.startswith(("#", ";")):
            continue
        if raw[0] in " \t":
            if cur_opt is None:
                problems.append((i, "indented line outside an option"))
                continue
            cur_opt.append((i, stripped))
            continue
        m = _SECTION.match(stripped)
        if m:
            cur_section = m.group(1).strip()
            sections.setdefault(cur_section, {})
            opt_lines.setdefault(cur_section, {})
            cur_opt = None
            continue
        m = _OPTION.match(stripped)
        if m:
            if cur_section is None:
                problems.append((i, "option before any [section] header"))
                cur_opt = None
                continue
            key = m.group(1).strip().lower()
            cur_opt = []
            if m.group(2).strip():
                cur_opt.append((i, m.group(2).strip()))
            sections[cur_section][key] = cur_opt
            opt_lines[cur_section][key] = i
            continue
        problems.append((i, "expected '[section]' or 'key = value'"))
        cur_opt = None
    return sections, opt_lines, problems


def _list_semi(values: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """setuptools 'list-semi': a dangling list, or one line split at ';'."""
    if len(values) == 1 and ";" in values[0][1] and not re.search(r";\s*(python_|sys_|platform_|os_|implementation_|extra\b)", values[0][1]):
        line, v = values[0]
        return [(line, part.strip()) for part in v.split(";") if part.strip()]
    return values


def _console_scripts(lines: list[tuple[int, str]], base: str, known, rel: str) -> list[EntryPoint]:
    out = []
    for line, spec in lines:
        m = re.match(r"^([^=\s]+)\s*=\s*([A-Za-z_][\w.]*)\s*(?::\s*[\w.]+)?", spec)
        if not m:
            continue
        out.append(EntryPoint(module_to_path(m.group(2), base, known), spec.strip(), rel, line, "runtime"))
    return out


def read_setup_cfg(root: Path, rel: str, known: set[str] | frozenset[str] = frozenset()) -> Parsed:
    res = Parsed(rel, "setup.cfg")
    try:
        text = read_text(root, rel)
    except ReadError as exc:
        res.error(str(exc))
        return res
    sections, opt_lines, problems = parse_ini(text)
    for line, problem in problems:
        res.error(f"invalid setup.cfg at line {line}: {problem}")
    base = dirname(rel)
    name = sections.get("metadata", {}).get("name")
    if name:
        res.name = name[0][1]
    options = sections.get("options", {})

    def reqs(values: list[tuple[int, str]] | None, dev: bool, where: str, key_line: int) -> None:
        if not values:
            return
        if values[0][1].startswith("file:"):
            res.note(key_line, f"{where} is read from {values[0][1][5:].strip()} (read that file instead)")
            return
        deps, errors = parse_requirement_lines(_list_semi(values), rel, dev)
        seen = {(d.name, d.dev) for d in res.dependencies}
        res.dependencies.extend(d for d in deps if (d.name, d.dev) not in seen)
        res.errors.extend(errors)

    ol = opt_lines.get("options", {})
    reqs(options.get("install_requires"), False, "[options] install_requires", ol.get("install_requires", 1))
    reqs(options.get("tests_require"), True, "[options] tests_require", ol.get("tests_require", 1))
    extras = sections.get("options.extras_require", {})
    for group in sorted(extras):
        reqs(extras[group], is_dev_name(group), f"extras_require {group}",
             opt_lines.get("options.extras_require", {}).get(group, 1))
    eps = sections.get("options.entry_points", {})
    for group in ("console_scripts", "gui_scripts"):
        if group in eps:
            res.entry_points.extend(_console_scripts(eps[group], base, known, rel))
    return res


# ------------------------------------------------------------------------------------------------ setup.py

class _NotStatic(Exception):
    def __init__(self, node: ast.AST):
        try:
            snippet = ast.unparse(node)
        except Exception:  # pragma: no cover - unparse of odd trees
            snippet = type(node).__name__
        if len(snippet) > 60:
            snippet = snippet[:57] + "..."
        super().__init__(snippet)
        self.line = getattr(node, "lineno", 1)


class _Resolver:
    def __init__(self, tree: ast.Module):
        self.assigns: dict[str, ast.AST] = {}
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                self.assigns[stmt.targets[0].id] = stmt.value
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
                self.assigns[stmt.target.id] = stmt.value

    def strings(self, node: ast.AST, depth: int = 0) -> list[tuple[int, str]]:
        if depth > 20:
            raise _NotStatic(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [(node.lineno + k, s.strip()) for k, s in enumerate(node.value.split("\n")) if s.strip()]
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            out: list[tuple[int, str]] = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    out.extend(self.strings(elt.value, depth + 1))
                elif isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                    out.append((elt.lineno, elt.value))
                else:
                    raise _NotStatic(elt)
            return out
        if isinstance(node, ast.Name) and node.id in self.assigns:
            return self.strings(self.assigns[node.id], depth + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.strings(node.left, depth + 1) + self.strings(node.right, depth + 1)
        raise _NotStatic(node)

    def mapping(self, node: ast.AST, depth: int = 0) -> list[tuple[str, ast.AST]]:
        if depth > 20:
            raise _NotStatic(node)
        if isinstance(node, ast.Dict):
            out = []
            for k, v in zip(node.keys, node.values):
                if k is None:
                    out.extend(self.mapping(v, depth + 1))
                elif isinstance(k, ast.Constant) and isinstance(k.value, str):
                    out.append((k.value, v))
                else:
                    raise _NotStatic(k)
            return out
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
            return [(kw.arg, kw.value) for kw in node.keywords if kw.arg]
        if isinstance(node, ast.Name) and node.id in self.assigns:
            return self.mapping(self.assigns[node.id], depth + 1)
        raise _NotStatic(node)


def _find_setup_call(tree: ast.Module) -> ast.Call | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Name) and f.id == "setup") or (isinstance(f, ast.Attribute) and f.attr == "setup"):
                return node
    return None


def read_setup_py(root: Path, rel: str, known: set[str] | frozenset[str] = frozenset()) -> Parsed:
    res = Parsed(rel, "setup.py")
    try:
        text = read_text(root, rel)
    except ReadError as exc:
        res.error(str(exc))
        return res
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # SyntaxWarnings from the scanned file are not ours to print
            tree = ast.parse(text, filename=rel)
    except SyntaxError as exc:
        res.error(f"invalid Python syntax at line {exc.lineno or 1}: {exc.msg}")
        return res
    except (ValueError, RecursionError, MemoryError) as exc:
        res.error(f"cannot parse setup.py: {type(exc).__name__}")
        return res
    call = _find_setup_call(tree)
    if call is None:
        res.note(1, "no setup(...) call found; dependencies cannot be read statically")
        return res
    r = _Resolver(tree)
    base = dirname(rel)
    seen: set[tuple[str, bool]] = set()

    def add(values: list[tuple[int, str]], dev: bool) -> None:
        deps, errors = parse_requirement_lines(values, rel, dev)
        for d in deps:
            if (d.name, d.dev) not in seen:
                seen.add((d.name, d.dev))
                res.dependencies.append(d)
        res.errors.extend(errors)

    def not_static(kw: str, exc: _NotStatic) -> None:
        res.note(exc.line, f"setup.py {kw} is not a literal ({exc}); it cannot be read statically")

    for kw in call.keywords:
        if kw.arg is None:
            res.note(kw.value.lineno, "setup(**...) arguments cannot be read statically")
            continue
        try:
            if kw.arg == "name":
                v = r.strings(kw.value)
                if len(v) == 1:
                    res.name = v[0][1]
            elif kw.arg == "install_requires":
                add(r.strings(kw.value), False)
            elif kw.arg == "tests_require":
                add(r.strings(kw.value), True)
            elif kw.arg == "extras_require":
                for group, node in r.mapping(kw.value):
                    try:
                        add(r.strings(node), is_dev_name(group))
                    except _NotStatic as exc:
                        not_static(f"extras_require[{group!r}]", exc)
            elif kw.arg == "entry_points":
                if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                    sections, _ol, _p = parse_ini(kw.value.value)
                    for group in ("console_scripts", "gui_scripts"):
                        vals = []
                        for opt, lines in sections.get(group, {}).items():
                            vals.extend((kw.value.lineno + ln - 1, f"{opt} = {v}") for ln, v in lines)
                        res.entry_points.extend(_console_scripts(vals, base, known, rel))
                else:
                    for group, node in r.mapping(kw.value):
                        if group in ("console_scripts", "gui_scripts"):
                            res.entry_points.extend(_console_scripts(r.strings(node), base, known, rel))
            elif kw.arg == "scripts":
                for line, p in r.strings(kw.value):
                    res.entry_points.append(EntryPoint(join_rel(base, p), None, rel, line, "runtime"))
        except _NotStatic as exc:
            not_static(kw.arg, exc)
    return res


__all__ = ["read_setup_cfg", "read_setup_py", "parse_ini"]
