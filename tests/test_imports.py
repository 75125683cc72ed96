"""The import graph of the three packages: layered one way, and free of circles.

``syscalls`` imports only itself, ``models`` only itself and ``syscalls``, ``nlshell`` any of them.  Every
import counts, at module level or inside a function (a function-level import is how a circle hides);
only imports under ``if TYPE_CHECKING:`` are left out, since they never run.

    python -m pytest tests/test_imports.py      # names each circle with the modules in it
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("syscalls", "models", "nlshell")
LAYERS = {"syscalls": {"syscalls"}, "models": {"syscalls", "models"}, "nlshell": set(PACKAGES)}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, is_package: bool, modules: set[str]) -> set[str]:
    """The modules of the three packages that ``module`` imports.  ``from pkg import mod`` depends on
    ``pkg.mod``; the package's ``__init__`` runs for every submodule import and is no edge of its own."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x / from .mod import x
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            submodules = {f"{target}.{alias.name}" for alias in node.names} & modules
            found.update(submodules)
            if len(submodules) < len(node.names):  # some names come from the module itself
                found.add(target)
    return (found & modules) - {module}


def import_graph() -> nx.DiGraph:
    files = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph = nx.DiGraph()
    for name, path in files.items():
        graph.add_node(name)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for target in _imports(tree, name, path.name == "__init__.py", set(files)):
            graph.add_edge(name, target)
    return graph


def circles(graph: nx.DiGraph) -> list[list[str]]:
    """Each strongly connected set of modules (more than one module importing each other)."""
    return sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)


def test_no_import_circles() -> None:
    graph = import_graph()
    assert graph.number_of_nodes() > 50
    found = circles(graph)
    assert found == [], "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_only_its_layer(package: str) -> None:
    graph = import_graph()
    wrong = sorted((a, b) for a, b in graph.edges if a.split(".")[0] == package
                   and b.split(".")[0] not in LAYERS[package])
    assert wrong == []


def test_the_checker_sees_a_circle() -> None:
    graph = nx.DiGraph([("models.a", "models.b"), ("models.b", "models.c"), ("models.c", "models.a"),
                        ("models.c", "syscalls.x")])
    assert circles(graph) == [["models.a", "models.b", "models.c"]]
