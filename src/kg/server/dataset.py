"""The whole dataset at /data (N-Quads, TriG, JSON-LD) and its VoID description at /.well-known/void."""

from __future__ import annotations

from functools import cache

import pyoxigraph as ox
from flask import Blueprint, Response, request

from kg.exchange.void import dataset_description, serialized, service_description
from kg.query.internal import typed
from kg.query.run import GRAPH_FORMATS

from ..namespaces import PREFIXES
from .responses import FORMAT_MEDIA, GRAPH_MEDIA, negotiate, offered
from .services import services
from .workers import ServiceError

blueprint = Blueprint("dataset", __name__)
DUMP_MEDIA = {"application/n-quads": "nquads", "application/trig": "trig", "application/ld+json": "jsonld"}
DUMP_FORMATS = {"nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}


@cache
def _dump(output_format: str, _store_id: int) -> bytes:
    """The dataset in one format; the store is read-only, so each format is made once."""
    state = services()
    quads: list[ox.Quad] = []
    for iri in state.graphs:
        answer = state.pool.run(*typed("graph", graph=iri), max_rows=None, output_format="ntriples")
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
    response = Response(_dump(chosen, id(services())), content_type=FORMAT_MEDIA[chosen])
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
    reports = [
        (row["report"].value, row["modified"].value if "modified" in row else None)
        for row in state.select(*typed("source-reports"))
    ]
    counted = state.select(*typed("instances-per-class"))
    classes = {row["class"].value: int(row["instances"].value) for row in counted}
    description = dataset_description(state.graphs, reports, base) + service_description(
        base, request.host_url, classes
    )
    response = Response(serialized(description, GRAPH_FORMATS[chosen]), content_type=FORMAT_MEDIA[chosen])
    response.vary.add("Accept")
    return response
