"""A validation report names each value by the very term the data holds, in every format and from
either engine. rdflib writes a number its own way: `"37"^^xsd:decimal` as `37.0` in Turtle, and
`3.7E1` as `"37.0"^^xsd:double` once it has made a literal of it, so a report read back named a
term the graph does not hold, and a consumer joining the report with the data found nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, SH

from kg.build.validation import exact_turtle
from kg.cli import main

SH_VALUE = ox.NamedNode("http://www.w3.org/ns/shacl#value")
CHANGES = Path("graph/000_1bdfefaeb44abb70/data/changes.ttl")
STATED = 'kg:percentChange "37"^^xsd:decimal'
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_DECIMAL = URIRef(XSD + "decimal")


def as_the_store_holds(literal: str) -> ox.Literal:
    """A Turtle literal as a store holds it once loaded (Oxigraph keeps numbers in a canonical form)."""
    store = ox.Store()
    store.load(f"@prefix xsd: <{XSD}> . <urn:s> <urn:p> {literal} .", format=ox.RdfFormat.TURTLE)
    (quad,) = store
    assert isinstance(quad.object, ox.Literal)
    return quad.object


def reported(project: Path, engine: str, output_format: str) -> str:
    result = CliRunner().invoke(
        main,
        ["--project", str(project), "validate", "--engine", engine, "--format", output_format, str(CHANGES)],
    )
    assert result.exit_code == 1, result.output
    return result.output


def values_in(turtle: str) -> list[object]:
    """The report's values as written (parsed, not stored: a store would make them canonical)."""
    triples = ox.parse(turtle.encode(), format=ox.RdfFormat.TURTLE)
    return [triple.object for triple in triples if triple.predicate == SH_VALUE]


@pytest.mark.parametrize("engine", ["store", "pyshacl"])
@pytest.mark.parametrize(
    ("written", "datatype"),  # not the shape's xsd:decimal: the value itself is reported
    [
        ("3.7E1", "double"),
        ('"INF"^^xsd:double', "double"),
    ],
)
def test_a_value_is_reported_as_the_data_holds_it(
    project_copy: Path, engine: str, written: str, datatype: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project_copy)
    changes = project_copy / CHANGES
    changes.write_text(changes.read_text("utf-8").replace(STATED, f"kg:percentChange {written}", 1), "utf-8")
    held = as_the_store_holds(written)
    assert held.datatype.value == XSD + datatype
    text = reported(project_copy, engine, "text")
    assert f"  value:      {held}\n" in text
    violations = json.loads(reported(project_copy, engine, "json"))["violations"]
    assert str(held) in [violation["value"] for violation in violations]
    assert held in values_in(reported(project_copy, engine, "turtle"))


@pytest.mark.parametrize("engine", ["store", "pyshacl"])
def test_a_computed_value_is_reported_as_the_data_holds_it(
    project_copy: Path, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stated-change rule reports the stated percentage, `"37"^^xsd:decimal`, where the figures it
    compares disagree with it; rdflib's Turtle wrote it `37.0`, another term."""
    monkeypatch.chdir(project_copy)
    statistics = project_copy / CHANGES.with_name("statistics.ttl")
    text = statistics.read_text("utf-8")
    statistics.write_text(
        text.replace(
            'kg:potentialHeroinProduction "111"^^xsd:decimal',
            'kg:potentialHeroinProduction "121"^^xsd:decimal',
            1,
        ),
        "utf-8",
    )
    result = CliRunner().invoke(
        main,
        [
            "--project",
            str(project_copy),
            "validate",
            "--engine",
            engine,
            "--format",
            "turtle",
            str(CHANGES),
            str(CHANGES.with_name("statistics.ttl")),
        ],
    )
    assert result.exit_code == 1, result.output
    assert values_in(result.output) == [ox.Literal("37", datatype=ox.NamedNode(XSD + "decimal"))]


def test_a_report_reads_back_the_same_with_rdflib_and_oxigraph() -> None:
    """Oxigraph writes a prefixed name that ends in a dot escaped (`document:x\\.`), valid Turtle that
    rdflib cannot read: such a name's prefix is left out, and the name written whole."""
    report, result = BNode(), BNode()
    graph = Graph()
    graph.add((report, RDF.type, SH.ValidationReport))
    graph.add((report, SH.result, result))
    for name in ("x.", "a(b)", "plain", "x-y", "1abc", ""):
        graph.add((result, SH.focusNode, URIRef(f"https://w3id.org/opioid-kg/id/document/{name}")))
    graph.add((result, SH.focusNode, URIRef("https://w3id.org/opioid-kg/id/country/MX")))
    graph.add((result, SH.value, Literal("37", datatype=XSD_DECIMAL, normalize=False)))
    turtle = exact_turtle(graph)
    assert "country:MX" in turtle, "a prefix whose names need no escape is kept"
    assert isomorphic(Graph().parse(data=turtle, format="turtle"), graph)
    written = {
        (str(t.subject), str(t.predicate), str(t.object))
        for t in ox.parse(turtle.encode(), format=ox.RdfFormat.TURTLE)
    }
    assert len(written) == len(graph)
