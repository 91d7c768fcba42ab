"""/ontology: documentation generated from the ontology graph by pyLODE, and its RDF by Accept.

The page is made from the store's ontology graph once, on first request, so it
always matches the data being served and is never written by hand.
"""

from __future__ import annotations

import warnings

from flask import Blueprint, Response, request
from rdflib import Graph
from rdflib.namespace import RDF, SKOS

from .headers import allow_inline
from .resources import RESOURCE_MEDIA, graph_answer
from .responses import negotiate, offered
from .services import services
from .workers import ServiceError

blueprint = Blueprint("ontology", __name__)


def ontology_graph() -> Graph:
    """The ontology named graph, read from the store through the worker pool."""
    state = services()
    iri = state.canonical("graph/ontology")
    answer = state.graph(iri, "ntriples")
    return Graph().parse(data=answer.body.decode("utf-8"), format="nt")


def documentation(graph: Graph) -> str:
    """pyLODE's page for the ontology (imported here: only this page needs it)."""
    from pylode import OntPub

    # pyLODE takes each SKOS concept scheme for an ontology of its own; the page is about the OWL one.
    described = Graph()
    schemes = set(graph.subjects(RDF.type, SKOS.ConceptScheme))
    for triple in graph:
        if triple[0] not in schemes:
            described.add(triple)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(OntPub(ontology=described).make_html())


@blueprint.get("/ontology")
def ontology() -> Response:
    """The ontology's documentation for browsers; Turtle, N-Triples, JSON-LD or RDF/XML for clients."""
    chosen = negotiate(RESOURCE_MEDIA, request.args.get("format"), html=True)
    if chosen is None:
        raise ServiceError(406, f"the ontology is offered as: {offered(RESOURCE_MEDIA, True)}")
    state = services()
    if chosen != "html":
        return graph_answer(state.canonical("graph/ontology"), chosen)
    page = state.cache.get_or_make(("ontology page",), lambda: documentation(ontology_graph()).encode())
    return allow_inline(Response(page, content_type="text/html; charset=utf-8"))


@blueprint.get("/ontology.<extension>")
def ontology_file(extension: str) -> Response:
    from .responses import EXTENSIONS

    if extension not in EXTENSIONS or EXTENSIONS[extension] == "nquads":
        raise ServiceError(404, f"no /ontology.{extension}; try /ontology.ttl")
    return graph_answer(services().canonical("graph/ontology"), EXTENSIONS[extension])
