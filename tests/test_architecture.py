"""The package's layering, as CONTRIBUTING.md states it, checked on the source itself.

Layers, lowest first; a module may import (at module level) only from its own layer or below:

0. base:      ddrisk.errors, ddrisk.__version__, ddrisk._hashing, ddrisk._jsonnum, ddrisk._lazy,
              ddrisk.defaults (the one default of every statistical setting),
              ddrisk.report.escape (the escaping rules; imports nothing from ddrisk)
1. core:      ddrisk.catalog, ddrisk.risk, ddrisk.analysis, ddrisk.audit, ddrisk.raters,
              ddrisk.stress.statistics and the stress data model (layer, items, matrix, defaults)
2. boundary:  ddrisk.io (readers and writers, validation at the boundary)
3. services:  ddrisk.stress (runner, store, layers, adapters, datasets, attacks)
4. rendering: ddrisk.report
5. interface: ddrisk.cli, ddrisk.__main__

Core modules also do no file or terminal I/O: no ``open``, ``print``, ``read_text``/``write_text``
or click/rich calls. Imports inside functions are allowed for optional heavy dependencies, but the
module-level import graph has no cycles.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "ddrisk"

# ddrisk.report.escape imports nothing from ddrisk; writers in io/ (CSV, TSV) use its csv_cell.
BASE = {
    "ddrisk.errors",
    "ddrisk.__version__",
    "ddrisk._hashing",
    "ddrisk._jsonnum",
    "ddrisk._lazy",
    "ddrisk.defaults",
    "ddrisk.report.escape",
}
STRESS_CORE = (
    "ddrisk.stress.statistics",
    "ddrisk.stress.layer",
    "ddrisk.stress.items",
    "ddrisk.stress.matrix",
    "ddrisk.stress.defaults",
)
CORE = (
    "ddrisk.catalog",
    "ddrisk.risk",
    "ddrisk.analysis",
    "ddrisk.audit",
    "ddrisk.raters",
    *STRESS_CORE,
)
PURE = ("ddrisk.catalog", "ddrisk.risk", "ddrisk.analysis", "ddrisk.stress.statistics")
IO_CALLS = {
    "open",
    "print",
    "read_text",
    "write_text",
    "read_bytes",
    "write_bytes",
    "echo",
    "savefig",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    name = ".".join(parts)
    return name.removesuffix(".__init__")


def _layer(module: str) -> int:
    if module in BASE or module == "ddrisk":  # the package itself loads its API lazily
        return 0
    if module.startswith(CORE):
        return 1
    if module.startswith("ddrisk.io"):
        return 2
    if module.startswith("ddrisk.stress"):
        return 3
    if module.startswith("ddrisk.report"):
        return 4
    return 5


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (SRC / relative).with_suffix(".py").is_file() or (
        SRC / relative / "__init__.py"
    ).is_file()


def _modules() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text(encoding="utf-8")) for p in SRC.rglob("*.py")}


def _top_level_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """ddrisk imports executed when the module is imported (not inside functions or TYPE_CHECKING)."""
    found: list[tuple[int, str]] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("ddrisk")
            ):
                # ``from ddrisk.risk import structure`` imports the submodule ddrisk.risk.structure
                submodules = [f"{node.module}.{a.name}" for a in node.names]
                real = [m for m in submodules if _is_module(m)]
                found.extend((node.lineno, m) for m in real or [node.module])
            elif isinstance(node, ast.Import):
                found.extend(
                    (node.lineno, a.name) for a in node.names if a.name.startswith("ddrisk")
                )
            elif isinstance(node, ast.If):
                test = ast.unparse(node.test)
                if "TYPE_CHECKING" not in test:
                    visit(node.body)
                    visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)

    visit(tree.body)
    return found


def test_no_module_imports_a_higher_layer():
    violations = []
    for module, tree in _modules().items():
        if module in ("ddrisk", "ddrisk.__main__"):
            continue
        for line, imported in _top_level_imports(tree):
            if _layer(imported) > _layer(module):
                violations.append(f"{module}:{line} imports {imported}")
    assert violations == []


SCRATCH_FILE_USERS = {
    "ddrisk.risk.faulttree_numeric": (
        "CUDD exports a large diagram only to a file path (dd's BDD.dump); the module writes it "
        "to a private temporary file, reads it back and deletes it: no user file is touched"
    ),
}
"""Core modules allowed ``open()`` on their own temporary files, each with the reason."""


def test_core_does_no_file_or_terminal_io():
    violations = []
    for module, tree in _modules().items():
        if not module.startswith(PURE):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name == "open" and module in SCRATCH_FILE_USERS:
                    continue
                if name in IO_CALLS:
                    violations.append(f"{module}:{node.lineno} calls {name}()")
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                for imported in names:
                    if imported.split(".")[0] in {"click", "rich"}:
                        violations.append(f"{module}:{node.lineno} imports {imported}")
    assert violations == []


def test_module_level_imports_have_no_cycles():
    modules = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for module, tree in modules.items():
        for _, imported in _top_level_imports(tree):
            target = imported
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in modules and target != module:
                graph[module].add(target)
    # Tarjan's strongly connected components; a component of two or more modules is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def connect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for neighbour in graph[node]:
            if neighbour not in index:
                connect(neighbour)
                low[node] = min(low[node], low[neighbour])
            elif neighbour in on_stack:
                low[node] = min(low[node], index[neighbour])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(modules):
        if module not in index:
            connect(module)
    # A package __init__ re-exporting its own submodules is not a cycle worth reporting.
    real = [
        c
        for c in cycles
        if len({m.rsplit(".", 1)[0] if m.count(".") > 1 else m for m in c}) > 1 or len(c) > 2
    ]
    assert real == []


def test_large_modules_say_why_at_the_top():
    """Modules above about 550 lines say in their docstring ('Why one module: ...') why they are not split."""
    unexplained = []
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        if len(lines) > 550:
            docstring = (ast.get_docstring(ast.parse(text)) or "").lower()
            if "why one module" not in docstring:
                unexplained.append(f"{path.relative_to(SRC)} ({len(lines)} lines)")
    assert unexplained == []


def test_scratch_file_users_only_open_temporary_files():
    """The exception above holds only while the module's files come from ``tempfile``."""
    modules = _modules()
    for module in SCRATCH_FILE_USERS:
        source = ast.unparse(modules[module])
        assert "tempfile.mkstemp" in source and "os.unlink" in source, module
