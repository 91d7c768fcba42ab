"""The SPARQL 1.1 Protocol at /sparql: query by GET, POST form or POST body; read-only; with limits."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, url_for
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, VOID, XSD

from . import guard
from .responses import FORMAT_MEDIA, GRAPH_MEDIA, SELECT_MEDIA, answer_response, negotiate, offered
from .services import services
from .workers import Answer, ServiceError

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
    output_format: str | None = None,
) -> Answer:
    """Check, then run a query from any client; the format comes from `output_format` or Accept."""
    state = services()
    config = state.config
    in_query = guard.check(text, set(state.graphs), config.max_query_length)
    for iri in (default or []) + (named or []):
        if iri not in state.graphs:
            raise guard.Refused(f"graph <{iri}> is not in this dataset")
    if (default or named) and any(in_query):
        raise guard.Refused("name the dataset either in the query (FROM) or in the request, not both")
    if default or named:
        text = guard.with_dataset(text, default or [], named or [])
    union = not (default or named or any(in_query))
    form = guard.query_form(text)
    chosen = output_format
    if chosen is None and form is not None:
        media = GRAPH_MEDIA if form == "graph" else SELECT_MEDIA
        chosen = negotiate(media, request.args.get("format"))
        if chosen is None:
            raise ServiceError(
                406,
                f"cannot answer a {form} query in {request.headers.get('Accept')}; offered: {offered(media)}",
            )
    return state.pool.run(text, max_rows=config.max_rows, output_format=chosen, union_default_graph=union)


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
    response = Response(body, content_type=FORMAT_MEDIA[chosen])
    response.vary.add("Accept")
    return response
