"""The project's input files, and which named graph each one feeds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph

from kg.build.parsing import parse_turtle

SHAPES_FILE = Path("ontology/shapes.ttl")

# Folder (relative to the project root) -> named graph its Turtle files feed.
GRAPH_FOLDERS: tuple[tuple[str, str], ...] = (
    ("ontology", "ontology"),
    ("graph/data", "data"),
    ("graph/provenance", "provenance"),
    ("sources", "provenance"),
    ("graph/background", "background"),
)


@dataclass
class ProjectFiles:
    """Every input file of a project, parsed, grouped by the named graph it feeds."""

    root: Path
    graphs: dict[str, Graph] = field(default_factory=dict)
    files_by_graph: dict[str, list[Path]] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        return [path for paths in self.files_by_graph.values() for path in paths]


def input_files(root: Path) -> dict[str, list[Path]]:
    """The Turtle files of the project under `root`, by named graph, in a stable order."""
    by_graph: dict[str, list[Path]] = {}
    for folder, graph_name in GRAPH_FOLDERS:
        for path in sorted((root / folder).rglob("*.ttl")):
            name = "shapes" if path == root / SHAPES_FILE else graph_name
            by_graph.setdefault(name, []).append(path)
    return by_graph


def load_project(root: Path) -> ProjectFiles:
    """Parse every input file of the project; the first bad file raises an InputError."""
    project = ProjectFiles(root=root, files_by_graph=input_files(root))
    for name, paths in project.files_by_graph.items():
        graph = Graph()
        for path in paths:
            graph += parse_turtle(path)
        project.graphs[name] = graph
    return project
