"""The whole dataset at /data (N-Quads, TriG, JSON-LD) and its VoID description at /.well-known/void."""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, request
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, VOID, XSD

from ..namespaces import PREFIXES
from .responses import FORMAT_MEDIA, GRAPH_MEDIA, negotiate, offered
from .services import services
from .workers import ServiceError

blueprint = Blueprint("dataset", __name__)
DUMP_MEDIA = {"application/n-quads": "nquads", "application/trig": "trig", "application/ld+json": "jsonld"}
DUMP_FORMATS = {"nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}
RDFLIB_FORMATS = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml", "nquads": "nt"}
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")


def _dump(output_format: str) -> bytes:
    """The dataset in one format; a generation's store is read-only, so each format is made once."""
    state = services()
    quads: list[ox.Quad] = []
    for iri in state.graphs:
        answer = state.pool.run(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}",
            max_rows=None,
            output_format="ntriples",
        )
        graph = ox.NamedNode(iri)
        quads += [
            ox.Quad(t.subject, t.predicate, t.object, graph)
            for t in ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES)
        ]
    if output_format == "nquads":
        return b"".join(sorted((ox.serialize(quads, format=DUMP_FORMATS["nquads"]) or b"").splitlines(True)))
    return ox.serialize(quads, format=DUMP_FORMATS[output_format], prefixes=PREFIXES) or b""


@blueprint.get("/data")
def data() -> Response:
    """Every quad of every named graph, by Accept or ?format=nquads|trig|jsonld."""
    chosen = negotiate(DUMP_MEDIA, request.args.get("format"))
    if chosen is None:
        raise ServiceError(406, f"the dataset is offered as: {offered(DUMP_MEDIA)}")
    body = services().made(("dump", chosen), lambda: _dump(chosen))
    response = Response(body, content_type=FORMAT_MEDIA[chosen])
    response.vary.add("Accept")
    return response


@blueprint.get("/.well-known/void")
def void() -> Response:
    """A VoID description: the dataset, its named graphs as subsets, its endpoint and dump."""
    chosen = negotiate(GRAPH_MEDIA, request.args.get("format"))
    if chosen is None:
        raise ServiceError(406, f"the description is offered as: {offered(GRAPH_MEDIA)}")
    state = services()
    base = state.config.canonical_base
    graph = Graph()
    graph.bind("void", VOID)
    graph.bind("dcterms", DCTERMS)
    graph.bind("sd", SD)
    dataset = URIRef(base)
    graph.add((dataset, RDF.type, VOID.Dataset))
    graph.add(
        (dataset, DCTERMS.title, Literal("opioid-kg: a knowledge graph of the transnational opioid supply"))
    )
    graph.add((dataset, DCTERMS.license, URIRef("https://opensource.org/licenses/MIT")))
    graph.add((dataset, VOID.sparqlEndpoint, URIRef(state.public_url("sparql"))))
    graph.add((dataset, VOID.dataDump, URIRef(state.public_url("data"))))
    graph.add((dataset, VOID.uriSpace, Literal(base + "id/")))
    graph.add((dataset, VOID.vocabulary, URIRef(base + "ontology#")))
    graph.add((dataset, VOID.triples, Literal(sum(state.graphs.values()), datatype=XSD.integer)))
    for iri, count in state.graphs.items():
        subset = URIRef(iri)
        graph.add((dataset, VOID.subset, subset))
        graph.add((subset, RDF.type, VOID.Dataset))
        graph.add((subset, SD.name, subset))
        graph.add((subset, VOID.triples, Literal(count, datatype=XSD.integer)))
    for row in state.select("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY ?c"):
        partition = BNode()
        graph.add((dataset, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], URIRef(row["c"].value)))
        graph.add((partition, VOID.entities, Literal(int(row["n"].value), datatype=XSD.integer)))
    response = Response(
        graph.serialize(format=RDFLIB_FORMATS[chosen], encoding="utf-8"), content_type=FORMAT_MEDIA[chosen]
    )
    response.vary.add("Accept")
    return response
