"""The whole dataset at /data (N-Quads, TriG, JSON-LD) and its VoID/DCAT description at /.well-known/void."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, request, send_file

from kg.query.run import returns_kept
from kg.store.description import DUMP_FILE, DescriptionMissing, as_turtle, built_description, with_endpoints

from ..namespaces import PREFIXES
from .responses import FORMAT_MEDIA, GRAPH_MEDIA, negotiate, offered
from .services import services
from .workers import ServiceError

blueprint = Blueprint("dataset", __name__)
DUMP_MEDIA = {"application/n-quads": "nquads", "application/trig": "trig", "application/ld+json": "jsonld"}
DUMP_FORMATS = {"nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}
# The build's files of the whole dataset, in each format (`kg.build.serializations`).
DUMP_FILES = {"nquads": "opioid-kg.nq", "trig": "opioid-kg.trig", "jsonld": "opioid-kg.jsonld"}
DESCRIPTION_FORMATS = {
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}


def _dump(output_format: str) -> bytes:
    """The dataset in one format, made from the store's answers (kept in the cache while it fits), for
    a store served without the build output that holds it (an endpoint, or another dist/)."""
    state = services()
    quads: list[ox.Quad] = []
    for iri in state.graphs:
        answer = state.graph(iri, "ntriples")
        graph = ox.NamedNode(iri)
        quads += [
            ox.Quad(t.subject, t.predicate, t.object, graph)
            for t in ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES)
        ]
    if output_format == "nquads":
        return b"".join(sorted((ox.serialize(quads, format=DUMP_FORMATS["nquads"]) or b"").splitlines(True)))
    body = ox.serialize(quads, format=DUMP_FORMATS[output_format], prefixes=PREFIXES) or b""
    return returns_kept(body) if output_format == "rdfxml" else body


@blueprint.get("/data")
def data() -> Response:
    """Every quad of every named graph, by Accept or ?format=nquads|trig|jsonld."""
    chosen = negotiate(DUMP_MEDIA, request.args.get("format"))
    if chosen is None:
        raise ServiceError(406, f"the dataset is offered as: {offered(DUMP_MEDIA)}")
    state = services()
    built = state.dist / DUMP_FILES[chosen]
    if state.own_dist and built.is_file():
        # The build's own file, streamed: made again from the store, a million triples took 16 s of
        # both workers and 1 GB more of the web process, for each request, being too large to cache.
        response = send_file(built, mimetype=FORMAT_MEDIA[chosen], conditional=True, etag=True)
    else:
        response = Response(
            state.picture(("dump", chosen), lambda: _dump(chosen)),
            content_type=FORMAT_MEDIA[chosen],
        )
    response.vary.add("Accept")
    return response


@blueprint.get(f"/data/{DUMP_FILE}")
def gzipped_dump() -> Response:
    """The build's gzipped N-Quads, the file the description's distribution lists with its size and
    checksum, byte for byte; 404 for a store served without its build's files."""
    path = _dump_file()
    if path is None:
        raise ServiceError(404, f"this server's store was not served with its build's {DUMP_FILE}")
    return send_file(path, mimetype="application/gzip", conditional=True, etag=True, download_name=DUMP_FILE)


def _dump_file() -> Path | None:
    """The gzipped dump the build of the store served wrote; None for any other store."""
    state = services()
    path = state.dist / DUMP_FILE
    return path if state.own_dist and path.is_file() else None


@blueprint.get("/.well-known/void")
def void() -> Response:
    """The dataset's VoID/DCAT description as `kg build` wrote it, with this server's endpoints added."""
    chosen = negotiate(GRAPH_MEDIA, request.args.get("format"))
    if chosen is None:
        raise ServiceError(406, f"the description is offered as: {offered(GRAPH_MEDIA)}")
    return description_response(chosen)


def description_response(output_format: str) -> Response:
    """The built description (dist/void.ttl) plus where this server answers queries and serves the dump."""
    try:
        built = built_description(services().dist)
    except DescriptionMissing as error:
        raise ServiceError(404, str(error)) from None
    state = services()
    statements = with_endpoints(
        built,
        sparql_endpoint=state.public_url("sparql"),
        data_dump=state.public_url("data"),
        download=state.public_url(f"data/{DUMP_FILE}") if _dump_file() else None,
    )
    if output_format == "turtle":
        body = as_turtle(statements)
    else:
        body = ox.serialize(statements, format=DESCRIPTION_FORMATS[output_format]) or b""
        body = returns_kept(body) if output_format == "rdfxml" else body
    response = Response(body, content_type=FORMAT_MEDIA[output_format])
    response.vary.add("Accept")
    return response
