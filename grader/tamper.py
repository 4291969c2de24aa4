"""Notice answer code that reaches into the course's checks instead of answering.

Scores never depend on this: the judges decide from the probes' data, outside the kernel. It only
tells the instructor which cells deserve a look (rebinding or patching the checks, builtins or
``sys.modules``, or running code built at run time).
"""

from __future__ import annotations

import ast

from IPython.core.inputtransformer2 import TransformerManager

ALWAYS_PROTECTED = {"builtins", "__builtins__", "sys", "grader", "AssertionError", "print", "type", "str"}
FORBIDDEN_CALLS = {"setattr", "delattr", "exec", "eval", "compile", "__import__", "globals", "vars", "locals"}
FORBIDDEN_MODULES = {"builtins", "ctypes", "gc", "importlib", "inspect"}


def _root(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _bound(node: ast.AST) -> list[str]:
    """Names a statement binds at top level."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [t.id for t in targets if isinstance(t, ast.Name)]
    return []


def _finding(node: ast.AST, protected: set[str]) -> str | None:
    if isinstance(node, ast.Attribute | ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
        root = _root(node)
        if root in protected:
            return f"changes {ast.unparse(node)}"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
        return f"calls {node.func.id}()"
    if isinstance(node, ast.Import | ast.ImportFrom):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        bad = [m for m in modules if m.split(".")[0] in FORBIDDEN_MODULES]
        if bad:
            return f"imports {bad[0]}"
    if not isinstance(node, ast.Attribute):
        return None
    sys_hook = node.attr in {"modules", "settrace", "setprofile"} and _root(node) == "sys"
    if node.attr == "__class__" or sys_hook:
        return f"uses {ast.unparse(node)}"
    return None


def findings(source: str, protected: set[str]) -> list[str]:
    """Why ``source`` tampers with grading (line numbers included); empty when it does not."""
    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return []
    guarded = protected | ALWAYS_PROTECTED
    found = []
    for statement in tree.body:
        rebound = [name for name in _bound(statement) if name in guarded]
        if rebound:
            found.append(f"line {statement.lineno}: rebinds {rebound[0]}")
    for node in ast.walk(tree):
        reason = _finding(node, guarded)
        if reason:
            found.append(f"line {getattr(node, 'lineno', '?')}: {reason}")
    return found


def provided_names(sources: list[str]) -> set[str]:
    """Names the notebook's own (locked) cells define: what answers must leave alone."""
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(TransformerManager().transform_cell(source))
        except (SyntaxError, ValueError):
            continue
        for statement in tree.body:
            names.update(_bound(statement))
    return names
