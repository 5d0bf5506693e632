"""Base of the Python codemods (LibCST), in the Fixit manner: one codemod per module, its documentation and its
own test cases as class attributes. `VALID` sources must come out unchanged; each `INVALID` case gives the source
before and the exact source expected after. tests/test_fix_codemods.py turns every case into a pytest case.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import libcst as cst

from ...rules.loader import rules_fixed_by
from .model import MARK


@dataclass(frozen=True)
class Valid:
    code: str
    ctx: Any = None             # keyword arguments for transform()


@dataclass(frozen=True)
class Invalid:
    code: str
    expected: str
    ctx: Any = None


@dataclass
class CodemodResult:
    code: str
    changed: list[str] = field(default_factory=list)    # what it changed (one sentence each)
    left: list[str] = field(default_factory=list)       # what it left for a person
    data: dict[str, Any] = field(default_factory=dict)  # what other fixes need (jobs, app name...)


class Codemod:
    NAME: ClassVar[str] = ""
    FIX: ClassVar[str] = ""          # the `cfcompat fix` id whose rules it resolves (default: NAME)

    @classmethod
    def rules(cls) -> tuple[str, ...]:
        """The rules whose findings this codemod resolves: those that name its fix in `fixes:` (rules/packs)."""
        return rules_fixed_by(cls.FIX or cls.NAME)
    MESSAGE: ClassVar[str] = ""
    VALID: ClassVar[list[Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []

    def transform(self, source: str, path: str = "<string>", **ctx: Any) -> CodemodResult:
        raise NotImplementedError


# --------------------------------------------------------------------------------------------- helpers

def comment_line(text: str) -> cst.EmptyLine:
    return cst.EmptyLine(comment=cst.Comment(f"# {MARK} {text}"))


def has_comment(node: cst.CSTNode, text: str) -> bool:
    want = f"# {MARK} {text}"
    return any(ln.comment is not None and ln.comment.value == want for ln in getattr(node, "leading_lines", ()))


def with_comment(node: Any, text: str) -> Any:
    """`node` with a `# cfcompat-fix: text` line above it, unless it already has one (idempotent)."""
    if has_comment(node, text):
        return node
    return node.with_changes(leading_lines=[*node.leading_lines, comment_line(text)])


def dotted(node: cst.CSTNode | None) -> str | None:
    """`a.b.c` of a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None


def literal(module: cst.Module, node: cst.CSTNode) -> Any:
    """The Python value of a literal expression, or raise ValueError."""
    import ast
    return ast.literal_eval(module.code_for_node(node).strip())


class ImportMap(cst.CSTVisitor):
    """Local names bound by top-level imports -> qualified names (`import requests as rq` -> rq: requests)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Import(self, node: cst.Import) -> None:
        for a in node.names:
            full = dotted(a.name) or ""
            if a.asname is not None and isinstance(a.asname.name, cst.Name):
                self.names[a.asname.name.value] = full
            else:
                self.names[full.split(".")[0]] = full.split(".")[0]

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or isinstance(node.names, cst.ImportStar):
            return
        mod = dotted(node.module) or ""
        for a in node.names:
            name = dotted(a.name) or ""
            local = a.asname.name.value if a.asname is not None and isinstance(a.asname.name, cst.Name) else name
            self.names[local] = f"{mod}.{name}"


def imports_of(module: cst.Module) -> dict[str, str]:
    v = ImportMap()
    module.visit(v)
    return v.names


def qualify(node: cst.CSTNode, names: dict[str, str]) -> str | None:
    """Qualified name of a Name/Attribute through the import map (`rq.get` -> `requests.get`)."""
    d = dotted(node)
    if d is None:
        return None
    head, _, rest = d.partition(".")
    if head not in names:
        return None
    q = names[head]
    return f"{q}.{rest}" if rest else q


class NameCounter(cst.CSTVisitor):
    """How often each name is used outside import statements."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.counts[node.value] = self.counts.get(node.value, 0) + 1


def name_counts(node: cst.CSTNode) -> dict[str, int]:
    v = NameCounter()
    node.visit(v)
    return v.counts


def last_import_index(body: list[cst.BaseStatement]) -> int:
    """Index after the leading docstring / __future__ / import block of a module body."""
    idx = 0
    for i, st in enumerate(body):
        if isinstance(st, cst.SimpleStatementLine) and all(
                isinstance(s, (cst.Import, cst.ImportFrom)) or
                (i == 0 and isinstance(s, cst.Expr) and isinstance(s.value, (cst.SimpleString,
                                                                                cst.ConcatenatedString)))
                for s in st.body):
            idx = i + 1
        else:
            break
    return idx


def add_import(module: cst.Module, stmt: str) -> cst.Module:
    """Insert `import x` after the module's imports unless an identical statement is already there."""
    for st in module.body:
        if isinstance(st, cst.SimpleStatementLine) and module.code_for_node(st).strip() == stmt:
            return module
    new = cst.parse_statement(stmt + "\n")
    body = list(module.body)
    i = last_import_index(body)
    body.insert(i, new)
    return module.with_changes(body=body)


def remove_import_names(module: cst.Module, names: set[str]) -> cst.Module:
    """Drop top-level import aliases whose local name is in `names` (and empty import statements)."""
    body = []
    for st in module.body:
        if isinstance(st, cst.SimpleStatementLine) and len(st.body) == 1 and \
                isinstance(st.body[0], (cst.Import, cst.ImportFrom)) and \
                not isinstance(st.body[0].names, cst.ImportStar):
            imp = st.body[0]
            keep = []
            for a in imp.names:
                if a.asname is not None and isinstance(a.asname.name, cst.Name):
                    local = a.asname.name.value
                else:
                    local = (dotted(a.name) or "").split(".")[0] if isinstance(imp, cst.Import) else \
                        (dotted(a.name) or "")
                if local not in names:
                    keep.append(a)
            if not keep:
                continue
            if len(keep) != len(imp.names):
                keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                st = st.with_changes(body=[imp.with_changes(names=keep)])
        body.append(st)
    return module.with_changes(body=body)
