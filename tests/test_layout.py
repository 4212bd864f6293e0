"""The import rule of the README's Layout: app.py -> ui/ -> classroom/ -> cnn/, never upwards, and no cycles.

Read from the source with ast, imports inside functions included, so a late import cannot hide a violation."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cnn", "classroom", "ui", "tools")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: str) -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / package).glob("*.py"))}


def imported(path: Path) -> set[str]:
    """Every module name `path` imports, anywhere in it: `from a.b import c` gives a.b and a.b.c, `import a.b` a.b."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            raise AssertionError(f"{path.relative_to(ROOT)}: a relative import; the project imports absolutely")
    return names


def names_any(names: set[str], tops: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n.split(".")[0] in tops)


@pytest.mark.parametrize("name,path", modules("cnn").items(), ids=list(modules("cnn")))
def test_cnn_knows_nothing_of_the_page_the_classroom_or_a_database(name, path):
    assert not names_any(imported(path), ("classroom", "sqlalchemy", "streamlit", "ui", "app")), name


@pytest.mark.parametrize("name,path", modules("classroom").items(), ids=list(modules("classroom")))
def test_the_classroom_draws_nothing(name, path):
    assert not names_any(imported(path), ("ui", "streamlit", "app")), name


@pytest.mark.parametrize("name,path", modules("ui").items(), ids=list(modules("ui")))
def test_the_page_never_imports_the_training_script(name, path):
    assert not [n for n in imported(path) if n == "cnn.train" or n.startswith("cnn.train.")], name


def import_graph() -> dict[str, set[str]]:
    """Each project module (of PACKAGES) -> the project modules it imports."""
    known = {}
    for package in PACKAGES:
        known.update(modules(package))
    # `from cnn import train` names the module cnn.train; `from cnn.model import load` names cnn.model (and
    # cnn.model.load, which is no module and so no edge).
    return {name: {n for n in imported(path) if n in known and n != name} for name, path in known.items()}


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_modules_import_each_other_in_a_cycle():
    graph = import_graph()
    assert "cnn.train" in graph["cnn.evaluate"] or "cnn.evaluate" in graph["cnn.train"]  # the graph sees real edges
    found = cycle(graph)
    assert found is None, "import cycle: " + " -> ".join(found)


def test_the_cycle_finder_finds_a_cycle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None
