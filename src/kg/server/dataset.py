"""The whole dataset at /data (N-Quads, TriG, JSON-LD) and its VoID/DCAT description at /.well-known/void."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, request, send_file

from kg.query.run import returns_kept
from kg.store.description import DUMP_FILE, DescriptionMissing, as_turtle, built_description, with_endpoints

from .dump import write_dump
from .responses import FORMAT_MEDIA, GRAPH_MEDIA, negotiate, offered
from .services import services
from .workers import ServiceError

blueprint = Blueprint("dataset", __name__)
DUMP_MEDIA = {"application/n-quads": "nquads", "application/trig": "trig", "application/ld+json": "jsonld"}
# The build's files of the whole dataset, in each format (`kg.build.serializations`).
DUMP_FILES = {"nquads": "opioid-kg.nq", "trig": "opioid-kg.trig", "jsonld": "opioid-kg.jsonld"}
DUMP_RETRY = 10  # seconds a request for the dump being written says to wait
DESCRIPTION_FORMATS = {
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}


def _made_dump(output_format: str) -> Path:
    """The dataset in one format, written from the store's graphs once per generation (`kg.server.dump`)
    for a store served without the build output that holds it (an endpoint, or another dist/); a request
    meanwhile waits for that one making at most the queue wait, then is told to ask again, as a search
    is while the index is read."""
    state = services()

    def make() -> Path:
        target = state.spool / DUMP_FILES[output_format]
        return write_dump(target, output_format, list(state.graphs), state.graph_file)

    made = state.derived_within(("dump", output_format), make, state.config.queue_wait)
    if made is None:  # no request holds an HTTP thread for the whole writing (75 s at 1 M triples)
        being_written = "the dataset's dump is being written; try again shortly"
        raise ServiceError(503, being_written, retry_after=DUMP_RETRY)
    return made


@blueprint.get("/data")
def data() -> Response:
    """Every quad of every named graph, by Accept or ?format=nquads|trig|jsonld."""
    chosen = negotiate(DUMP_MEDIA, request.args.get("format"))
    if chosen is None:
        raise ServiceError(406, f"the dataset is offered as: {offered(DUMP_MEDIA)}")
    state = services()
    built = state.dist / DUMP_FILES[chosen]
    # The build's own file where there is one; else one written from the store, once: made in memory
    # for each request, a million triples took 16 s of both workers and 1 GB more of the web process.
    path = built if state.own_dist and built.is_file() else _made_dump(chosen)
    response = send_file(path, mimetype=FORMAT_MEDIA[chosen], conditional=True, etag=True)
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
