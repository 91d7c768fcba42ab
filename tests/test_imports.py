"""The import contract: the layers of `src/kg/` import one way, with no cycles.

Read from the source with `ast`, imports inside functions included, so that a
lazy import cannot hide a cycle or a reader reaching into the build.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "kg"
FOUNDATIONS = {"kg", "kg.namespaces", "kg.errors", "kg.files", "kg.processes", "kg.literals"}
# What each layer may import of kg, besides itself and the foundations.
LAYERS: dict[str, set[str]] = {
    "store": set(),
    "build": {"store"},
    "query": {"store"},
    "evidence": {"store", "query"},
    "search": {"store", "query", "evidence"},
    "readable": {"store", "query", "evidence", "search"},
    "network": {"store", "query", "evidence"},
    "charts": {"store", "query", "evidence", "network", "readable"},  # numbers written as answers write them
    "exchange": {"store", "query"},
    "server": {"store", "query", "evidence", "search", "readable", "network", "charts", "exchange"},
    "cli": {
        "store",
        "build",
        "query",
        "evidence",
        "search",
        "readable",
        "network",
        "charts",
        "exchange",
        "server",
    },
}
# Modules that belong to a layer other than their package's: those that serve web pages to the server's
# wherever they live, and the `kg` command's entry point (outside kg.cli, whose loading it guards) to the
# command line's.
PLACED = {"kg.network.web": "server", "kg.__main__": "cli"}
WEB_AND_COMMAND_LINE = {"flask", "werkzeug", "click", "waitress"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module `name` imports, anywhere in its text: kg modules by their own name, others by package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & known
            found |= submodules or {base}
    return {item if item.split(".")[0] == "kg" else item.split(".")[0] for item in found}


def layer(name: str) -> str | None:
    if name in PLACED:
        return PLACED[name]
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    found = modules()
    graph = nx.DiGraph()
    for name, path in found.items():
        graph.add_node(name)
        for target in imports(name, path, set(found)):
            graph.add_edge(name, target)
    return graph


def test_no_module_imports_itself_back(graph: nx.DiGraph) -> None:
    cycles = [sorted(part) for part in nx.strongly_connected_components(graph) if len(part) > 1]
    assert cycles == []


def test_layers_import_one_way(graph: nx.DiGraph) -> None:
    wrong = []
    for source, target in graph.edges:
        if not target.startswith("kg") or target in FOUNDATIONS or source in FOUNDATIONS:
            continue
        here, there = layer(source), layer(target)
        if here is not None and there is not None and there != here and there not in LAYERS[here]:
            wrong.append(f"{source} -> {target}")
    assert wrong == []


def test_foundations_import_no_layer(graph: nx.DiGraph) -> None:
    wrong = [f"{s} -> {t}" for s, t in graph.edges if s in FOUNDATIONS and layer(t) is not None and s != "kg"]
    assert wrong == []


def test_only_the_command_line_imports_the_build(graph: nx.DiGraph) -> None:
    readers = [s for s, t in graph.edges if layer(t) == "build" and layer(s) not in {"build", "cli"}]
    assert readers == []


def test_only_the_server_and_the_command_line_speak_web_or_click(graph: nx.DiGraph) -> None:
    wrong = [
        f"{s} -> {t}"
        for s, t in graph.edges
        if t in WEB_AND_COMMAND_LINE and layer(s) not in {"server", "cli"}
    ]
    assert wrong == []


def test_the_contract_sees_every_module(graph: nx.DiGraph) -> None:
    """A module outside every layer and the foundations would escape the contract."""
    assert [
        name
        for name in graph.nodes
        if name.startswith("kg") and name not in FOUNDATIONS and layer(name) is None
    ] == []


def test_no_two_types_share_a_name() -> None:
    """A class or type alias name means one thing across the package."""
    places: dict[str, list[str]] = {}
    for name, path in modules().items():
        for node in ast.parse(path.read_text("utf-8")).body:
            if isinstance(node, ast.ClassDef):
                places.setdefault(node.name, []).append(name)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name) and target.id[:1].isupper() and not target.id.isupper():
                    places.setdefault(target.id, []).append(name)
    shared = {name: where for name, where in places.items() if len(where) > 1}
    assert shared == {}, shared


def test_the_build_command_loads_the_reference_engine_and_the_table_reader_only_when_used() -> None:
    """Every build and rebuild starts with `kg.cli.build`; pyshacl and csvw took a third of a second
    of that start, though a build validates on the store and reads a table only when it changed;
    rdflib's SPARQL parser (with pyparsing) a tenth, though a steady rebuild finds every analysis of
    its queries kept."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, kg.cli.build; print(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "kg.build.pipeline" in loaded
    assert [name for name in loaded if name.split(".")[0] in {"pyshacl", "csvw", "pyparsing"}] == []
    assert [name for name in loaded if name.startswith("rdflib.plugins.sparql")] == []
