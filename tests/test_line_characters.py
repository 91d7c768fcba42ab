"""Literals holding characters that some readers take for line ends: every written form of the data
and of answers gives them back as they are.

RDF's line formats and SPARQL end a line at LF or CR alone; Python's `splitlines` also ends one at
U+2028, U+2029, U+0085, vertical tab, form feed and the file, group and record separators, which may
stand raw inside a literal. XML turns a raw CR (and CR LF) into LF as it is read, so a CR must be
written as a character reference there.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import Graph

from kg.exchange.export import FORMATS, serialize
from kg.namespaces import graph_iri

# Every character Python's str.splitlines ends a line at, beside plain text; and those XML 1.0 can hold.
TRICKY = "one\u2028two\u2029three\u0085four\x0bfive\x0csix\r\nseven\rEight\x1cnine\x1dten\x1eeleven\nend"
XML_TRICKY = "one\u2028two\u2029three\u0085four\r\nfive\rsix\nseven\tend "
SUBJECT = ox.NamedNode("https://w3id.org/opioid-kg/id/place/tricky")
PREDICATE = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")


def _quads(text: str) -> list[ox.Quad]:
    graph = ox.NamedNode(str(graph_iri("data")))
    return [
        ox.Quad(SUBJECT, PREDICATE, ox.Literal(text), graph),
        ox.Quad(SUBJECT, PREDICATE, ox.Literal(text, language="en"), graph),
        ox.Quad(SUBJECT, PREDICATE, ox.Literal("plain"), graph),
    ]


@pytest.mark.parametrize("output_format", list(FORMATS))
def test_every_export_format_gives_such_a_literal_back(output_format: str) -> None:
    """The line formats were sorted as Python's lines: a literal holding U+2028 was cut in two, its
    halves sorted apart, and the N-Triples and N-Quads exports (and `kg push`'s updates) no longer
    parsed; RDF/XML gave a CR back as LF."""
    rdf_format, holds_graphs = FORMATS[output_format]
    quads = _quads(XML_TRICKY if output_format == "rdfxml" else TRICKY)
    data = serialize({"data": quads}, output_format, union=not holds_graphs)
    if output_format == "rdfxml":  # read as an XML parser must read it (expat), as Jena does
        values = sorted(str(o) for o in Graph().parse(data=data, format="xml").objects())
    else:
        values = sorted(statement.object.value for statement in ox.parse(data, format=rdf_format))
    assert values == sorted(q.object.value for q in quads)


def test_an_xml_answer_gives_a_carriage_return_back() -> None:
    """SPARQL's XML results wrote a CR raw: read as XML it came back a line feed (`kg query --format xml`
    and the endpoint's application/sparql-results+xml)."""
    from xml.dom import minidom

    from kg.query.run import QueryResult

    literal = ox.Literal(XML_TRICKY)
    answer = QueryResult(kind="select", variables=["o"], rows=[{"o": literal}])
    [node] = minidom.parseString(answer.serialize("xml")).getElementsByTagName("literal")
    assert "".join(child.data for child in node.childNodes) == XML_TRICKY
    graph = QueryResult(kind="graph", triples=[ox.Triple(SUBJECT, PREDICATE, literal)])
    assert [str(o) for o in Graph().parse(data=graph.serialize("rdfxml"), format="xml").objects()] == [
        XML_TRICKY
    ]


def test_an_update_file_keeps_such_a_literal(tmp_path) -> None:
    """An update file's text was read as Python's lines, each line that starts with `#` dropped as a
    comment: a literal holding U+2028 before `# …` lost the rest of its line, and the update its end."""
    from kg.store.queryfiles import load_update

    path = tmp_path / "tricky.ru"
    value = "one\u2028# not a comment\u2029end"
    header = "#+ summary: Line characters\n#+ description: A literal holding them\n#+ answer: update\n"
    path.write_text(header + f'INSERT DATA {{ <urn:s> <urn:p> "{value}" }}\n', encoding="utf-8")
    store = ox.Store()
    store.update(load_update(path).operation({}))
    assert [quad.object.value for quad in store] == [value]


def test_an_update_file_keeps_a_long_literal_as_written(tmp_path) -> None:
    """A long literal's lines were read as the file's: its CRs were written as LFs and a line of it
    starting with `#` was dropped as a comment."""
    from kg.store.queryfiles import load_update

    path = tmp_path / "long.ru"
    value = "one\r\ntwo\rthree\n# four\nfive"
    header = "#+ summary: A long literal\n#+ description: Lines inside it\n#+ answer: update\n"
    path.write_bytes((header + f'INSERT DATA {{ <urn:s> <urn:p> """{value}""" }}\n').encode("utf-8"))
    store = ox.Store()
    store.update(load_update(path).operation({}))
    assert [quad.object.value for quad in store] == [value]


def test_a_push_gives_such_a_literal_back(tmp_path) -> None:
    """`kg push` sent each graph's N-Triples cut at U+2028 and the others: an update no store reads."""
    import httpx
    from triplestores import OxigraphServer

    from kg.exchange.push import Target, push
    from kg.store.embedded import EmbeddedStore
    from kg.store.remote import RemoteStore

    local = ox.Store(str(tmp_path / "store"))
    local.extend(_quads(TRICKY))
    local.flush()
    del local
    server = OxigraphServer(tmp_path / "oxigraph").start()
    try:
        for gsp in (None, server.gsp):  # in SPARQL updates, then as a whole graph
            httpx.post(server.update, data={"update": "DROP ALL"}).raise_for_status()
            report = push(EmbeddedStore(tmp_path / "store"), Target(server.query, server.update, gsp))
            assert report.verified
            held = RemoteStore(server.query).query("SELECT ?o WHERE { ?s ?p ?o }")
            assert sorted(row["o"].value for row in held) == sorted(q.object.value for q in _quads(TRICKY))
    finally:
        server.stop()


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_a_network_export_gives_a_carriage_return_back(fmt: str, tmp_path) -> None:
    """`kg network export --format graphml` wrote a label's CR raw: read back, Canada's label was
    `Can\\nada`."""
    import networkx as nx

    from kg.network.export import export

    network = nx.DiGraph()
    network.add_node("country/CA", label=XML_TRICKY)
    path = tmp_path / f"network.{fmt}"
    path.write_bytes(export(network, fmt))
    back = nx.read_graphml(path) if fmt == "graphml" else nx.read_gexf(path)
    assert back.nodes["country/CA"]["label"] == XML_TRICKY


def test_a_picture_s_text_keeps_a_carriage_return() -> None:
    """An SVG picture (a chart, the network) wrote a label's CR raw, read back as a line feed."""
    from xml.dom import minidom

    from kg.network import canvas
    from kg.network.draw import save

    figure = canvas.Figure()
    figure.add_subplot()
    svg = minidom.parseString(save(figure, "svg", title=XML_TRICKY, description="d"))
    [title] = svg.getElementsByTagName("title")[:1]
    assert title.firstChild.data == XML_TRICKY
