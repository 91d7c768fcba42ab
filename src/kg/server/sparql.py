"""The SPARQL 1.1 Protocol at /sparql: query by GET, POST form or POST body; read-only; with limits."""

from __future__ import annotations

import functools

from flask import Blueprint, Response, redirect, request, url_for
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, VOID, XSD

from kg.errors import KgError
from kg.namespaces import SD
from kg.query.run import returns_kept

from . import guard
from .messages import Answer, ClientText, Query
from .responses import (
    ASK_MEDIA,
    FORMAT_MEDIA,
    GRAPH_MEDIA,
    SELECT_MEDIA,
    answer_response,
    negotiate,
    offered,
    utf8,
    utf8_pairs,
)
from .services import client, services
from .workers import ServiceError

FORMATS = Namespace("http://www.w3.org/ns/formats/")
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV")
RDF_FORMATS = ("Turtle", "N-Triples", "JSON-LD", "RDF_XML", "N-Quads")
RDFLIB_FORMATS = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml", "nquads": "nt"}

blueprint = Blueprint("sparql", __name__)


def run_sparql(
    text: str,
    default: list[str] | None = None,
    named: list[str] | None = None,
    *,
    formats: tuple[str | None, str | None, str | None],
    max_rows: int | None = None,
) -> Answer:
    """Run a client's query: checked here for length and nesting, read and checked by the worker.

    A query too long for a GET's URL is 414, which tells a client to POST it (on /sparql, the query
    page and its pictures alike). The check here is work of the web process done for the client, held
    to its budget and charged to it as a search is (up to a third of a second of CPU for 100 KB),
    whether or not it admits the text. `formats` gives the format of a select, an ask and a graph
    answer (a page's own, or the endpoint's from its format= and Accept, `_accepted`); the worker picks
    the one for the kind the parser read.
    """
    state = services()
    config = state.config
    limit = config.max_query_length
    if request.method in ("GET", "HEAD") and len(text) > limit:  # RFC 9110 15.5.15
        raise ServiceError(
            414, f"the query in the URL is {len(text)} characters long; the limit is {limit}: POST it"
        )
    sent = text
    text = state.pool.worked(
        client(), lambda: guard.precheck(text, config.max_query_length, config.max_nesting), gated=False
    )
    select_format, ask_format, graph_format = formats
    try:
        return state.run(
            Query(
                text,
                max_rows=max_rows or config.max_rows,
                max_bytes=config.max_answer_mb * 2**20,
                select_format=select_format,
                ask_format=ask_format,
                graph_format=graph_format,
                client=ClientText(
                    frozenset(state.graphs), tuple(default or ()), tuple(named or ()), state.predicates
                ),
                not_acceptable=(
                    "cannot answer {kind} query in a format the request accepts (its Accept header or "
                    f"format=); offered: {offered(SELECT_MEDIA)} (select), {offered(ASK_MEDIA)} (ask), "
                    f"{offered(GRAPH_MEDIA)} (construct, describe)"
                ),
            )
        )
    except KgError as error:
        if error.line is None or text == sent:
            raise
        # The worker read the canonical text: its error is placed in the text the client sent.
        raise state.pool.worked(client(), functools.partial(guard.placed, error, sent), gated=False) from None


def _accepted(asked: list[str]) -> tuple[str | None, str | None, str | None]:
    """The format a select, an ask and a graph answer would take for this request: the first of the
    `format` values it gives that each kind offers (SPARQLWrapper sends two, `rdf+xml` and
    `application/rdf+xml`), else by Accept; None where none fits."""
    chosen = [_first_offered(media, asked) for media in (SELECT_MEDIA, ASK_MEDIA, GRAPH_MEDIA)]
    if chosen == [None, None, None] and asked:
        negotiate(SELECT_MEDIA, asked[0])  # raises the 406 naming what is offered
    return chosen[0], chosen[1], chosen[2]


def _first_offered(media: dict[str, str], asked: list[str]) -> str | None:
    values: list[str | None] = [*asked] or [None]  # none asked: by Accept
    for value in values:
        try:
            return negotiate(media, value)
        except ServiceError:
            continue
    return None


FORM = "application/x-www-form-urlencoded"
QUERY_BODY = "application/sparql-query"


@blueprint.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    """Every operation of the protocol's query service; updates are refused with 403."""
    content_type = (request.mimetype or "").lower()
    if content_type == "application/sparql-update":
        raise guard.Refused(guard.READ_ONLY, 403)
    if request.method == "POST" and content_type not in (FORM, QUERY_BODY):
        # §2.1.2–2.1.3: a POST names its body's type; one without had been read as a form, a guess
        raise ServiceError(
            415, f"POST a query as {QUERY_BODY} or a form ({FORM}), not {content_type or 'untyped'}"
        )
    # read for the client, held to its budget and charged: a megabyte of form cost 0.18 s of CPU here
    parameters = services().pool.worked(client(), lambda: _parameters(content_type), gated=False)
    if "update" in parameters:
        raise guard.Refused(guard.READ_ONLY, 403)
    queries = parameters.get("query", [])
    if request.method == "POST" and content_type == QUERY_BODY:
        queries = [utf8(request.get_data(), "the request body"), *queries]
    if len(queries) > 1:
        raise ServiceError(
            400, f"give one query, not {len(queries)} (a query parameter appears more than once)"
        )
    if not queries and request.method in ("GET", "HEAD"):  # Flask answers HEAD by GET
        return service_description()
    if not "".join(queries).strip():
        raise ServiceError(
            400,
            "the query is empty: give it as query= (in the URL or a form) or as an "
            "application/sparql-query body",
        )
    default, named = parameters.get("default-graph-uri", []), parameters.get("named-graph-uri", [])
    formats = _accepted(parameters.get("format", []))  # the form's or the URL's, as the query is
    return answer_response(run_sparql(queries[0], default, named, formats=formats))


def _parameters(content_type: str) -> dict[str, list[str]]:
    """Every parameter of the request by name, read once, strictly as UTF-8 (400 otherwise): the URL's
    and, for a POST of a form, the body's."""
    pairs = utf8_pairs(request.query_string, "the URL")
    if request.method == "POST" and content_type == FORM:
        pairs = utf8_pairs(request.get_data(), "the form") + pairs
    parameters: dict[str, list[str]] = {}
    for name, value in pairs:
        parameters.setdefault(name, []).append(value)
    return parameters


def service_description() -> Response:
    """The SPARQL 1.1 Service Description for RDF clients; browsers go to the query page."""
    chosen = negotiate(GRAPH_MEDIA, request.args.get("format"), html=True)
    if chosen == "html":
        return redirect(url_for("pages.query_page"))  # type: ignore[return-value]  # werkzeug's redirect Response
    if chosen is None:
        raise ServiceError(406, f"the service description is offered as: {offered(GRAPH_MEDIA, True)}")
    state = services()
    endpoint_iri = URIRef(state.public_url(request.path))
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
    body = returns_kept(body) if chosen == "rdfxml" else body
    response = Response(body, content_type=FORMAT_MEDIA[chosen])
    response.vary.add("Accept")
    return response
