"""The RDF Data Cube well-formedness checks of the W3C recommendation, run on every build.

The recommendation defines a normalisation algorithm (SPARQL updates) and integrity
constraints (ASK queries, true on a violation); their text is kept unchanged in
queries/checks/, so any SPARQL engine can re-run them on the published data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from kg.build.queries import sparql

CHECKS = Path("queries") / "checks"
_TEMPLATE = "<$p>"
# IC-20 uses each parent-child property of a hierarchical code list, IC-21 each inverse one.
_HIERARCHY_PROPERTIES = {"ic-20": "hierarchy-properties", "ic-21": "inverse-hierarchy-properties"}


@dataclass(frozen=True)
class CubeViolation:
    """One failed integrity constraint and the nodes of one place where it fails."""

    constraint: str
    file: Path
    nodes: dict[str, str]

    def message(self) -> str:
        where = ", ".join(f"?{name} = <{value}>" for name, value in self.nodes.items())
        return f"{self.constraint} ({self.file}) fails at {where or 'a node the query does not name'}"


@dataclass(frozen=True)
class CubeReport:
    constraints: int
    violations: list[CubeViolation]


def check_cube(graph: Graph, checks: Path) -> CubeReport:
    """Normalise a copy of `graph` and run every integrity constraint in `checks` on it."""
    store = ox.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)
    return check_cube_store(store, checks)


def check_cube_store(store: ox.Store, checks: Path) -> CubeReport:
    """Normalise `store` (a scratch copy: the checks add to its default graph) and run every integrity
    constraint in `checks` on it."""
    for update in sorted(checks.glob("normalize-phase-*.ru")):
        store.update(update.read_text(encoding="utf-8"))
    files = sorted(checks.glob("ic-*.rq"))
    violations = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for query in _instances(store, path.stem, text):
            if store.query(query):
                title = text.splitlines()[0].lstrip("# ").split(" (")[0]
                violations.append(CubeViolation(title, path, _witness(store, query)))
                break
    return CubeReport(len(files), violations)


def _instances(store: ox.Store, name: str, text: str) -> list[str]:
    """The query itself, or for a template one query per hierarchy property the data declares."""
    if _TEMPLATE not in text:
        return [text]
    found = store.query(sparql(_HIERARCHY_PROPERTIES[name[:5]]))
    assert isinstance(found, ox.QuerySolutions)  # a SELECT
    return [text.replace(_TEMPLATE, f"<{row['p'].value}>") for row in found]


def _witness(store: ox.Store, ask: str) -> dict[str, str]:
    """The IRIs of one failing match: the ASK run as a SELECT whose groups also project their keys."""
    select = _project_group_keys(re.sub(r"\bASK\b", "SELECT *", ask, count=1)) + "\nLIMIT 1"
    solutions = store.query(select)
    assert isinstance(solutions, ox.QuerySolutions)  # a SELECT, made from the ASK above
    for row in solutions:
        values = {variable.value: row[variable] for variable in solutions.variables}
        return {name: term.value for name, term in values.items() if isinstance(term, ox.NamedNode)}
    return {}


def _project_group_keys(query: str) -> str:
    """Add each GROUP BY's variables to the projection of the SELECT at the same brace depth."""
    depth = 0
    selects: list[tuple[int, int]] = []
    inserts: list[tuple[int, str]] = []
    for match in re.finditer(r"[{}]|\bSELECT\b|\bGROUP\s+BY((?:\s+\?\w+)+)", query):
        token = match.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif token == "SELECT":
            selects.append((depth, match.end()))
        else:
            position = next(end for level, end in reversed(selects) if level == depth)
            inserts.append((position, " " + " ".join(match.group(1).split())))
    for position, keys in sorted(inserts, reverse=True):
        query = query[:position] + keys + query[position:]
    return query
