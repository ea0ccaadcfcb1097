"""The house rules of the code, checked: no import circle, and arrows point down.

intents/ and storage/ import nothing of ours above them; services/ imports no handler, web page or bot wiring;
handlers/ and web/ never import bot/. Imports inside functions count too: a lazy import still ties modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "intents", "services", "storage", "web")
FORBIDDEN = {
    "intents": {"bot", "handlers", "services", "storage", "web"},
    "storage": {"bot", "handlers", "intents", "services", "web"},
    "services": {"bot", "handlers", "web"},
    "handlers": {"bot", "web"},
    "web": {"bot", "handlers"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:  # Alembic's scripts are loaded by Alembic, not imported
                continue
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, except what sits under ``if TYPE_CHECKING:`` (names for annotations, never imported)."""
    for child in ast.iter_child_nodes(tree):
        if _is_type_checking(child):
            continue
        yield child
        yield from _nodes(child)


def _imports(name: str, path: Path) -> Iterator[str]:
    """Our modules that ``name`` imports (``from x import y`` counts y when y is a module of ours)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in _nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


GRAPH = {name: set(_imports(name, path)) for name, path in MODULES.items()}


def _is_package_init(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def test_no_import_circle() -> None:
    """Depth-first search for a back edge; a package importing its own submodules (re-exports) is not a circle."""
    edges = {n: {t for t in ts if not (_is_package_init(n) and t.startswith(n + "."))} for n, ts in GRAPH.items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                circles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not circles, "import circles:\n" + "\n".join(" → ".join(c) for c in circles)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_arrows_point_down(layer: str) -> None:
    upward = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items() if name.split(".")[0] == layer
        for target in targets if target.split(".")[0] in FORBIDDEN[layer]
    )
    assert not upward, "\n".join(upward)


def test_the_checker_sees_imports() -> None:
    """Guard against a checker that passes because it reads nothing."""
    assert "services.cases.tickets" in GRAPH["services.cases.lifecycle"]
    assert "intents" in {t.split(".")[0] for t in GRAPH["handlers.deps"]}
    assert len(MODULES) > 40
