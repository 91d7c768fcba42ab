"""Validating a few Turtle files as the build would see them: with the rest of the project around them.

A curated file names things other files describe (a country's class is in graph/common/, an
excerpt in the source's provenance): validated alone with the ontology, each such value has no
class, and a file the build passes gave 174 violations. So the given files are validated with the
project's other files and tables, each given file in place of itself when it is one of them, and the
report keeps the violations of the things the given files describe.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal
from rdflib.namespace import RDF, SH

from kg.build.checks import check_shapes, check_terms, check_typed, named, rdflib_graph
from kg.build.locate import SubjectIndex
from kg.build.project import input_files, source_ids
from kg.build.streaming import load_files
from kg.build.tables import TableTriples, table_descriptions, table_triples
from kg.build.validation import ValidationReport


def validate_in_project(root: Path, files: list[Path], engine: str) -> ValidationReport:
    """The SHACL report of the things `files` describe, validated with the project under `root`
    around them (its files as the build reads them, but the given ones, and its tables); first the
    build's checks that no shape makes, of the terms and of things without a name and a class."""
    given = {path.resolve() for path in files}
    around = {
        name: [path for path in paths if path.resolve() not in given]
        for name, paths in input_files(root).items()
    }
    store = load_files({**around, "data": [*around.get("data", []), *files]})
    _add_tables(store, root)
    index = SubjectIndex(files)
    check_terms(store, index)
    # As the build does, a thing without a class is refused, as no shape reaches it; here of blank
    # nodes, the things no other file can describe.
    subjects = {quad.subject for quad in store.quads_for_pattern(None, None, None, named("data"))}
    check_typed(store, index, {subject for subject in subjects if isinstance(subject, ox.BlankNode)})
    return kept_about(check_shapes(store, rdflib_graph(store, ("shapes",)), index, engine))


def kept_about(report: ValidationReport) -> ValidationReport:
    """The violations of `report` located in the given files (its index's), and its report graph's
    results of their focus nodes only."""
    kept = [violation for violation in report.violations if violation.location is not None]
    focus = {violation.focus_node for violation in kept}
    return ValidationReport(not kept, kept, lambda: _results_about(report.report_graph, focus))


def _add_tables(store: ox.Store, root: Path) -> None:
    """The rows of every table of the project, in the graphs the build puts them in."""
    tables = TableTriples()
    for source in source_ids(root):
        for metadata in table_descriptions(root / "graph" / source):
            table_triples(metadata, tables)
    for name in ("data", "provenance"):
        graph = named(name)
        store.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in tables.triples(name))


def _results_about(report: Graph, focus: set[str]) -> Graph:
    """The SHACL report with the results of the nodes `focus` names only, and conforming without any."""
    for result in list(report.subjects(RDF.type, SH.ValidationResult)):
        if str(report.value(result, SH.focusNode)) not in focus:
            for holder in list(report.subjects(SH.result, result)):
                report.remove((holder, SH.result, result))
            report.remove((result, None, None))
    for root in report.subjects(RDF.type, SH.ValidationReport):
        report.set((root, SH.conforms, Literal(not focus)))
    return report
