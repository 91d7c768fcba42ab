"""Canonical, byte-for-byte reproducible serializations of the named graphs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.term import Node

from kg.namespaces import PREFIXES, graph_iri


def canonical_graph(name: str, graph: Graph) -> Graph:
    """`graph` with blank nodes relabelled by content (prefixed with the graph's name),
    its triples added in sorted order, and the project's prefixes bound."""
    relabelled = to_canonical_graph(graph)
    result = Graph()
    for prefix, namespace in PREFIXES.items():
        result.bind(prefix, namespace, override=True)

    def term(node: Node) -> Node:
        return BNode(f"{name}{node}") if isinstance(node, BNode) else node

    for s, p, o in sorted(relabelled, key=lambda t: (t[0].n3(), t[1].n3(), t[2].n3())):
        result.add((term(s), term(p), term(o)))
    return result


def to_oxigraph(node: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """The Oxigraph term for an rdflib term."""
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, BNode):
        return ox.BlankNode(str(node))
    if isinstance(node, Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        if node.datatype:
            return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
        return ox.Literal(str(node))
    raise TypeError(f"unsupported term {node!r}")


def _quads(name: str, graph: Graph) -> list[ox.Quad]:
    """The triples of `graph` as quads in graph `name`, as the store keeps them, in a stable order."""
    quads = stored_form(
        ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), ox.NamedNode(str(graph_iri(name))))
        for s, p, o in graph
    )
    return sorted(quads, key=lambda q: (str(q.subject), str(q.predicate), str(q.object)))


def stored_form(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """The quads with every literal as Oxigraph stores it, so dist/ and the store agree term for term.

    Oxigraph keeps values, not spellings: `xsd:nonNegativeInteger` and
    `xsd:positiveInteger` become `xsd:integer`, `"1.50"^^xsd:decimal` becomes
    `"1.5"`. Writing dist/ in that form makes every reader (the store, `/data`,
    a pushed store) see exactly the bytes of `dist/opioid-kg.nq`.
    """
    store = ox.Store()
    store.extend(quads)
    return list(store)


def _serialize(quads: list[ox.Quad] | list[ox.Triple], rdf_format: ox.RdfFormat) -> bytes:
    return ox.serialize(quads, format=rdf_format, prefixes=PREFIXES) or b""


def nquads(graphs: dict[str, Graph]) -> bytes:
    """Every triple of every named graph as sorted N-Quads lines."""
    quads = [quad for name, graph in graphs.items() for quad in _quads(name, graph)]
    lines = sorted(set(_serialize(quads, ox.RdfFormat.N_QUADS).decode("utf-8").splitlines()))
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_serializations(graphs: dict[str, Graph], out: Path) -> list[Path]:
    """Write the whole dataset (N-Quads, TriG, JSON-LD) and each graph (Turtle, JSON-LD) under `out`.

    Oxigraph's serializers write quads in the order given, so sorted input gives
    byte-identical files from run to run.
    """
    quads_by_graph = {name: _quads(name, graph) for name, graph in graphs.items()}
    every_quad = [quad for quads in quads_by_graph.values() for quad in quads]
    written = {
        out / "opioid-kg.nq": nquads(graphs),
        out / "opioid-kg.trig": _serialize(every_quad, ox.RdfFormat.TRIG),
        out / "opioid-kg.jsonld": _serialize(every_quad, ox.RdfFormat.JSON_LD),
    }
    for name, quads in quads_by_graph.items():
        triples = [quad.triple for quad in quads]
        written[out / "graphs" / f"{name}.ttl"] = _serialize(triples, ox.RdfFormat.TURTLE)
        written[out / "graphs" / f"{name}.jsonld"] = _serialize(triples, ox.RdfFormat.JSON_LD)
    (out / "graphs").mkdir()
    for path, content in written.items():
        path.write_bytes(content)
    return list(written)
