"""The SPARQL 1.1 Protocol at /sparql: query by GET, POST form or POST body; read-only; with limits."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, url_for
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, VOID, XSD

from . import guard
from .messages import Answer, ClientText, Query
from .responses import FORMAT_MEDIA, GRAPH_MEDIA, SELECT_MEDIA, answer_response, negotiate, offered
from .services import services
from .workers import ServiceError

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV")
RDF_FORMATS = ("Turtle", "N-Triples", "JSON-LD", "RDF_XML", "N-Quads")
RDFLIB_FORMATS = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml", "nquads": "nt"}

blueprint = Blueprint("sparql", __name__)


def run_sparql(
    text: str,
    default: list[str] | None = None,
    named: list[str] | None = None,
    formats: tuple[str, str] | None = None,
    max_rows: int | None = None,
) -> Answer:
    """Run a client's query: checked here for length and nesting, read and checked by the worker.

    The format comes from `formats` (select, graph) or from ?format= and Accept;
    the worker picks the one for the kind of query the parser read.
    """
    state = services()
    config = state.config
    guard.precheck(text, config.max_query_length, config.max_nesting)
    select_format, graph_format = formats or _accepted()
    return state.run(
        Query(
            text,
            max_rows=max_rows or config.max_rows,
            select_format=select_format,
            graph_format=graph_format,
            client=ClientText(frozenset(state.graphs), tuple(default or ()), tuple(named or ())),
            not_acceptable=(
                f"cannot answer a {{kind}} query in {request.headers.get('Accept')}; offered: "
                f"{offered(SELECT_MEDIA)} (select, ask), {offered(GRAPH_MEDIA)} (construct, describe)"
            ),
        )
    )


def _accepted() -> tuple[str | None, str | None]:
    """The format a select and a graph answer would take for this request; None where none fits."""
    chosen: list[str | None] = []
    for media in (SELECT_MEDIA, GRAPH_MEDIA):
        try:
            chosen.append(negotiate(media, request.args.get("format")))
        except ServiceError:
            chosen.append(None)
    if chosen == [None, None] and request.args.get("format"):
        negotiate(SELECT_MEDIA, request.args.get("format"))  # raises the 406 naming what is offered
    return chosen[0], chosen[1]


def _values(name: str) -> list[str]:
    return request.args.getlist(name) + (request.form.getlist(name) if request.method == "POST" else [])


@blueprint.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    """Every operation of the protocol's query service; updates are refused with 403."""
    content_type = (request.mimetype or "").lower()
    if content_type == "application/sparql-update" or "update" in request.values:
        raise guard.Refused("this endpoint is read-only: SPARQL Update is refused", 403)
    if request.method == "POST" and content_type == "application/sparql-query":
        text: str | None = request.get_data(as_text=True)
    elif request.method == "POST" and content_type not in ("application/x-www-form-urlencoded", ""):
        raise ServiceError(415, f"POST a query as application/sparql-query or a form, not {content_type}")
    else:
        text = request.values.get("query")
    if text is None:
        return service_description()
    answer = run_sparql(text, _values("default-graph-uri"), _values("named-graph-uri"))
    return answer_response(answer)


def service_description() -> Response:
    """The SPARQL 1.1 Service Description for RDF clients; browsers go to the query page."""
    chosen = negotiate(GRAPH_MEDIA, request.args.get("format"), html=True)
    if chosen == "html":
        return redirect(url_for("pages.query_page"))  # type: ignore[return-value]
    if chosen is None:
        raise ServiceError(406, f"the service description is offered as: {offered(GRAPH_MEDIA, True)}")
    state = services()
    endpoint_iri = URIRef(request.base_url)
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("void", VOID)
    graph.add((endpoint_iri, RDF.type, SD.Service))
    graph.add((endpoint_iri, SD.endpoint, endpoint_iri))
    graph.add((endpoint_iri, SD.supportedLanguage, SD.SPARQL11Query))
    graph.add((endpoint_iri, SD.feature, SD.UnionDefaultGraph))
    for name in RESULT_FORMATS + RDF_FORMATS:
        graph.add((endpoint_iri, SD.resultFormat, FORMATS[name]))
    dataset, default_graph = BNode(), BNode()
    graph.add((endpoint_iri, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, default_graph))
    graph.add((default_graph, RDF.type, SD.Graph))
    for iri, count in state.graphs.items():
        named, described = BNode(), BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, SD.name, URIRef(iri)))
        graph.add((named, SD.graph, described))
        graph.add((described, RDF.type, SD.Graph))
        graph.add((described, VOID.triples, Literal(count, datatype=XSD.integer)))
    body = graph.serialize(format=RDFLIB_FORMATS[chosen], encoding="utf-8")
    response = Response(body, content_type=FORMAT_MEDIA[chosen])
    response.vary.add("Accept")
    return response
