"""`kg serve` speaks the SPARQL 1.1 Protocol to the clients people use: SPARQLWrapper and SPARQLStore."""

from __future__ import annotations

import csv
import gzip
import hashlib
import html
import http.client
import io
import json
import re
import time
import urllib.error
import urllib.parse
import uuid
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
from answers import same_graph
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import graph_diff, to_isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from server_fixtures import RunningServer, start_server
from SPARQLWrapper import (
    CSV,
    JSON,
    JSONLD,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)

from kg.query.counts import triples_per_graph

KG = "https://w3id.org/opioid-kg/ontology#"
ID = "https://w3id.org/opioid-kg/id/"
DATA_GRAPH = "https://w3id.org/opioid-kg/graph/data"
DATASET = "https://w3id.org/opioid-kg/id/dataset/opioid-kg"
COUNTRIES = f"SELECT ?c WHERE {{ ?c a <{KG}Country> }} ORDER BY ?c"
IS_FENTANYL = f"ASK {{ <{ID}substance/fentanyl> a ?type }}"
CONSTRUCT = f"CONSTRUCT {{ ?c a <{KG}Country> }} WHERE {{ ?c a <{KG}Country> }}"
MAX_ROWS = 1000


@pytest.fixture(scope="module")
def server(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(built.store_path, tmp_path_factory.mktemp("serve"), "--max-rows", str(MAX_ROWS))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def countries(store) -> list[str]:
    """The answer the embedded store gives directly, to compare every client's answer with."""
    return [row["c"].value for row in store.query(COUNTRIES)]


SYNTAXES = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
}


def parse(body: bytes, syntax: str) -> list[ox.Quad]:
    return list(ox.parse(body, format=SYNTAXES[syntax]))


def subjects(body: bytes, syntax: str) -> list[str]:
    return sorted(quad.subject.value for quad in parse(body, syntax))


def wrapper(server: RunningServer, query: str, return_format: str, method: str = "GET", direct: bool = False):
    client = SPARQLWrapper(server.endpoint)
    client.setQuery(query)
    client.setReturnFormat(return_format)
    if method == POST:
        client.setMethod(POST)
        client.setRequestMethod(POSTDIRECTLY if direct else URLENCODED)
    return client.query()


def close_http_error(error: BaseException) -> None:
    """SPARQLWrapper raises its own error from urllib's, whose open response must be closed."""
    while error is not None:
        if isinstance(error, urllib.error.HTTPError):
            error.close()
        error = error.__cause__ or error.__context__


def converted(
    server: RunningServer, query: str, return_format: str, method: str = "GET", direct: bool = False
):
    """SPARQLWrapper's parsed answer, its HTTP response closed."""
    result = wrapper(server, query, return_format, method, direct)
    with result.response:
        return result.convert()


METHODS = [("GET", False), (POST, False), (POST, True)]


@pytest.mark.parametrize(("method", "direct"), METHODS, ids=["get", "post-form", "post-body"])
def test_select_in_every_results_format(server, countries, method, direct) -> None:
    as_json = converted(server, COUNTRIES, JSON, method, direct)
    assert [b["c"]["value"] for b in as_json["results"]["bindings"]] == countries
    as_xml = converted(server, COUNTRIES, XML, method, direct)
    uris = [node.firstChild.data for node in as_xml.getElementsByTagName("uri")]
    assert uris == countries
    as_csv = converted(server, COUNTRIES, CSV, method, direct).decode("utf-8")
    assert [row["c"] for row in csv.DictReader(io.StringIO(as_csv))] == countries
    as_tsv = converted(server, COUNTRIES, TSV, method, direct).decode("utf-8")
    assert as_tsv.splitlines()[1:] == [f"<{iri}>" for iri in countries]


@pytest.mark.parametrize(("method", "direct"), METHODS, ids=["get", "post-form", "post-body"])
def test_ask_in_every_results_format(server, method, direct) -> None:
    assert converted(server, IS_FENTANYL, JSON, method, direct)["boolean"] is True
    xml = converted(server, IS_FENTANYL, XML, method, direct)
    assert xml.getElementsByTagName("boolean")[0].firstChild.data == "true"
    no = f"ASK {{ <{ID}substance/nothing> ?p ?o }}"
    assert converted(server, no, JSON, method, direct)["boolean"] is False
    # CSV and TSV are SELECT formats: test_ask_is_not_answered_as_csv_or_tsv


@pytest.mark.parametrize(("method", "direct"), METHODS, ids=["get", "post-form", "post-body"])
def test_construct_with_sparqlwrapper(server, countries, method, direct) -> None:
    for fmt, syntax in ((TURTLE, "turtle"), (RDFXML, "rdfxml"), (JSONLD, "jsonld")):
        with wrapper(server, CONSTRUCT, fmt, method, direct).response as response:
            assert subjects(response.read(), syntax) == countries, fmt


@pytest.mark.parametrize(
    ("accept", "parse_as"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "ntriples"),
        ("application/ld+json", "jsonld"),
        ("application/rdf+xml", "rdfxml"),
        ("application/n-quads", "nquads"),
    ],
)
def test_construct_in_every_graph_format(server, countries, accept, parse_as) -> None:
    for reply in (
        server.get("/sparql", accept, query=CONSTRUCT),
        server.post_form("/sparql", {"query": CONSTRUCT}, accept),
        server.request(
            "/sparql",
            data=CONSTRUCT.encode(),
            headers={"Content-Type": "application/sparql-query", "Accept": accept},
        ),
    ):
        assert reply.status == 200
        assert reply.content_type == accept
        assert subjects(reply.body, parse_as) == countries


def test_describe_answers_triples(server) -> None:
    reply = server.get("/sparql", "application/n-triples", query=f"DESCRIBE <{ID}substance/fentanyl>")
    assert reply.status == 200
    assert (
        f"<{ID}substance/fentanyl> <{KG}analogueOf>" in reply.text
        or f"<{ID}substance/fentanyl>" in reply.text
    )


def test_describe_star_answers_the_triples_of_every_variable(server) -> None:
    """`DESCRIBE *` is SPARQL 1.1; the guard's reading (rdflib's algebra) failed on it, and it was
    refused as "the query cannot be read: 'NoneType' object is not iterable"."""
    query = f"DESCRIBE * WHERE {{ VALUES ?thing {{ <{ID}substance/fentanyl> }} }}"
    reply = server.get("/sparql", "application/n-triples", query=query)
    assert reply.status == 200, reply.text
    assert (
        f"<{ID}substance/fentanyl> <{KG}analogueOf>" in reply.text
        or f"<{ID}substance/fentanyl> " in reply.text
    )
    # still read whole by the guard: a graph the dataset does not hold is refused
    elsewhere = server.get(
        "/sparql", "application/n-triples", query="DESCRIBE * FROM <http://127.0.0.1:9/g> { ?s ?p ?o }"
    )
    assert elsewhere.status == 400 and "127.0.0.1:9" in elsewhere.text, elsewhere.text


def test_rdflib_sparqlstore_on_the_union_and_on_one_named_graph(server, countries, store) -> None:
    fentanyl = URIRef(f"{ID}substance/fentanyl")
    for method in ("GET", "POST", "POST_FORM"):
        remote = SPARQLStore(query_endpoint=server.endpoint, method=method, returnFormat="json")
        union = Dataset(store=remote, default_union=True)
        assert [str(row.c) for row in union.query(COUNTRIES)] == countries
        assert union.query(IS_FENTANYL).askAnswer is True
        data_only = Graph(store=remote, identifier=URIRef(DATA_GRAPH))
        label = data_only.value(fentanyl, URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"))
        assert isinstance(label, Literal) and str(label) == "fentanyl"
        assert (fentanyl, None, None) in data_only
        count = int(next(iter(data_only.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))[0])
        assert count == triples_per_graph(store)[DATA_GRAPH]
        remote.close()


def test_default_and_named_graph_parameters(server, store) -> None:
    per_graph = triples_per_graph(store)
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    union = server.get("/sparql", "text/csv", query=count).text.split()[1]
    assert int(union) == len(store.quads())
    only_data = server.get("/sparql", "text/csv", query=count, **{"default-graph-uri": DATA_GRAPH})
    assert int(only_data.text.split()[1]) == per_graph[DATA_GRAPH]
    named = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    reply = server.get(
        "/sparql", "application/sparql-results+json", query=named, **{"named-graph-uri": DATA_GRAPH}
    )
    rows = reply.json()["results"]["bindings"]
    assert [(r["g"]["value"], int(r["n"]["value"])) for r in rows] == [(DATA_GRAPH, per_graph[DATA_GRAPH])]
    in_query = f"SELECT (COUNT(*) AS ?n) FROM <{DATA_GRAPH}> WHERE {{ ?s ?p ?o }}"
    assert int(server.get("/sparql", "text/csv", query=in_query).text.split()[1]) == per_graph[DATA_GRAPH]
    # by a prefixed name, as query builders write it (it was refused)
    graphs, local = DATA_GRAPH.rsplit("/", 1)
    prefixed = f"PREFIX g: <{graphs}/>\nSELECT (COUNT(*) AS ?n) FROM g:{local} WHERE {{ ?s ?p ?o }}"
    assert int(server.get("/sparql", "text/csv", query=prefixed).text.split()[1]) == per_graph[DATA_GRAPH]
    outside = server.get("/sparql", "text/csv", query=count, **{"default-graph-uri": "http://example.org/g"})
    assert outside.status == 400
    # a clause written before a brace glued to the projection: `SELECT ?s{` read as `?sFROM`
    glued = server.get(
        "/sparql", "text/csv", query="SELECT ?s{ ?s ?p ?o } LIMIT 1", **{"default-graph-uri": DATA_GRAPH}
    )
    assert glued.status == 200, glued.text
    # the dataset's clause goes after the projection, even one holding a group pattern of its own
    exists = "SELECT (EXISTS { ?s ?p ?o } AS ?e) WHERE { }"
    reply = server.get("/sparql", "text/csv", query=exists, **{"default-graph-uri": DATA_GRAPH})
    assert reply.status == 200 and reply.text.split()[1] == "true", reply.text


def test_the_request_s_dataset_replaces_the_query_s(server, store) -> None:
    """SPARQL 1.1 Protocol §2.1.4: where the request and the query both name a dataset, the request's is
    the one read (it was refused with 400, and the W3C test `query_multiple_dataset` failed). A graph
    named twice is read once: it had been counted twice."""
    per_graph = triples_per_graph(store)
    provenance = DATA_GRAPH.replace("/data", "/provenance")
    count = "SELECT (COUNT(*) AS ?n) FROM <{}> WHERE {{ ?s ?p ?o }}"
    reply = server.get(
        "/sparql", "text/csv", query=count.format(provenance), **{"default-graph-uri": DATA_GRAPH}
    )
    assert reply.status == 200 and int(reply.text.split()[1]) == per_graph[DATA_GRAPH], reply.text
    graphs = "SELECT DISTINCT ?g FROM NAMED <{}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    reply = server.get(
        "/sparql", "text/csv", query=graphs.format(provenance), **{"named-graph-uri": DATA_GRAPH}
    )
    assert reply.status == 200 and reply.text.split()[1:] == [DATA_GRAPH], reply.text
    # only named graphs in the request: the query's FROM goes with the rest of its dataset
    reply = server.get(
        "/sparql", "text/csv", query=count.format(provenance), **{"named-graph-uri": DATA_GRAPH}
    )
    assert reply.status == 200 and int(reply.text.split()[1]) == 0, reply.text
    twice = server.get(
        "/sparql", "text/csv", query=count.format(DATA_GRAPH).replace("FROM", f"FROM <{DATA_GRAPH}> FROM", 1)
    )
    assert twice.status == 200 and int(twice.text.split()[1]) == per_graph[DATA_GRAPH], twice.text
    plain = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    twice = server.get("/sparql", "text/csv", query=plain, **{"default-graph-uri": [DATA_GRAPH, DATA_GRAPH]})
    assert twice.status == 200 and int(twice.text.split()[1]) == per_graph[DATA_GRAPH], twice.text
    named = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    twice = server.get("/sparql", "text/csv", query=named, **{"named-graph-uri": [DATA_GRAPH, DATA_GRAPH]})
    assert twice.status == 200 and twice.text.split()[1:] == [f"{DATA_GRAPH},{per_graph[DATA_GRAPH]}"]


def raw_request(
    server: RunningServer, method: str, path: str, headers: dict[str, str], body: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request as http.client sends it, which, unlike urllib, adds no header of its own (no
    Content-Type to a body): its status, headers (names in lower case) and body."""
    connection = http.client.HTTPConnection("127.0.0.1", int(server.base.rsplit(":", 1)[1]), timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        reply = connection.getresponse()
        content = reply.read()
        return reply.status, {name.lower(): value for name, value in reply.getheaders()}, content
    finally:
        connection.close()


def test_a_post_without_a_content_type_is_refused(server) -> None:
    """SPARQL 1.1 Protocol §2.1.2 and §2.1.3: a POST names its body's type, a form or a query; the W3C
    protocol test `bad_query_missing_form_type` expects a 4xx. Such a body had been read as a form,
    a guess about the client's meaning; it is refused with 415 naming the two types, before any of
    it is read: an update in it is not even seen."""
    for body in (urlencode({"query": "ASK {}"}), "ASK {}", urlencode({"update": "CLEAR ALL"})):
        status, _, content = raw_request(server, "POST", "/sparql", {"Accept": "text/csv"}, body)
        text = content.decode()
        assert status == 415, (body, status, text)
        assert "application/sparql-query" in text and "application/x-www-form-urlencoded" in text, text


def test_an_error_keeps_the_headers_http_gives_it(server) -> None:
    """RFC 9110: a 405 names the methods the resource allows (§15.5.6), a 416 the length of what
    a range was asked of (§15.5.17). The errors written in the server's shape had dropped both."""

    def ask(method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        status, answered, _ = raw_request(server, method, path, headers)
        return status, answered

    for path in ("/sparql", "/id/country/MX", "/"):
        status, headers = ask("PUT", path, {"Accept": "application/json"})
        assert status == 405 and "GET" in headers.get("allow", ""), (path, headers)
    size = int(ask("HEAD", "/data", {})[1]["content-length"])
    status, headers = ask("GET", "/data", {"Range": f"bytes={size + 10}-"})
    assert status == 416 and headers.get("content-range") == f"bytes */{size}", headers
    assert headers["content-type"].startswith("application/json")


def test_a_range_of_several_parts_is_answered_whole(server) -> None:
    """RFC 9110 §14.2: a server MAY ignore a Range; it answers 416 only when no range it reads can be
    satisfied (§15.5.17). The server sends no multipart/byteranges, and a request for two parts of
    the dataset's file, both inside it, had been answered 416 as if neither were: it is answered
    whole (200), as a range the server does not read is; one part is still answered 206."""

    def ask(path: str, ranges: str) -> tuple[int, bytes]:
        status, _, body = raw_request(server, "GET", path, {"Range": ranges, "Accept": "application/n-quads"})
        return status, body

    for path in ("/data", "/static/site.css"):
        whole = ask(path, "bytes=0-")[1]
        assert ask(path, "bytes=0-9") == (206, whole[:10])
        for ranges in ("bytes=0-9,20-29", "bytes=0-0,-1", "bytes=0-9, 5-15", "bytes=0-9;x", "lines=1-2"):
            status, body = ask(path, ranges)
            assert status == 200 and body == whole, (path, ranges, status, len(body))


def test_json_ld_asked_with_the_expanded_profile_is_answered(server) -> None:
    """JSON-LD 1.1 Appendix C: a client may name the form it wants by a `profile` parameter. Every
    JSON-LD this server writes is in expanded form, yet a request naming that profile was refused 406
    everywhere (the Accept reader matches a parameter only where the type offered has it); a form the
    server does not write, compacted, is still refused."""
    expanded = 'application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"'
    compacted = 'application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"'
    for accept in (
        f"{expanded}; charset=utf-8",
        'application/ld+json; charset=utf-8; profile="http://www.w3.org/ns/json-ld#expanded"',
    ):
        reply = server.get("/sparql", accept, query=CONSTRUCT)
        assert reply.status == 200 and reply.content_type == "application/ld+json", (accept, reply.status)
    given = server.get("/sparql", None, query=CONSTRUCT, format=expanded)  # format= reads it as Accept does
    assert given.status == 200 and given.content_type == "application/ld+json", given.status
    assert server.get("/sparql", None, query=CONSTRUCT, format=compacted).status == 406
    for path, params in (
        ("/id/country/MX", {}),
        ("/data", {}),
        ("/.well-known/void", {}),
        ("/sparql", {"query": CONSTRUCT}),
    ):
        reply = server.get(path, expanded, **params)
        assert reply.status == 200 and reply.content_type.startswith("application/ld+json"), (
            path,
            reply.status,
        )
        assert isinstance(json.loads(reply.body), list), path  # expanded form: a top-level array
        assert server.get(path, compacted, **params).status == 406, path


def test_unacceptable_formats_get_406(server) -> None:
    assert server.get("/sparql", "text/turtle", query=COUNTRIES).status == 406
    assert server.get("/sparql", "application/sparql-results+json", query=CONSTRUCT).status == 406
    assert server.get("/sparql", "image/png", query=IS_FENTANYL).status == 406
    reply = server.get("/sparql", "application/n-quads", query=IS_FENTANYL)
    assert reply.status == 406
    assert reply.json()["error"]["status"] == 406


@pytest.mark.parametrize(
    ("path", "query", "accept", "sent"),
    [
        ("/sparql", COUNTRIES, "text/csv; charset=utf-8", "text/csv"),
        (
            "/sparql",
            COUNTRIES,
            "application/sparql-results+json;charset=UTF-8",
            "application/sparql-results+json",
        ),
        ("/sparql", COUNTRIES, 'text/tab-separated-values; charset="utf-8"', "text/tab-separated-values"),
        ("/sparql", CONSTRUCT, "text/turtle; charset=utf-8", "text/turtle"),
        ("/id/country/MX", None, "text/turtle; charset=utf-8", "text/turtle"),
        ("/data", None, "application/n-quads; charset=utf-8", "application/n-quads"),
    ],
)
def test_an_accept_naming_utf8_is_answered_as_without(server, path, query, accept, sent) -> None:
    """Every answer is UTF-8 and says so in its Content-Type, yet an Accept naming that charset was
    refused 406: the Accept reader matches a parameter only where the type offered names it too."""
    reply = server.get(path, accept, **({"query": query} if query else {}))
    assert reply.status == 200, (accept, reply.status, reply.text[:200])
    assert reply.content_type == sent
    refused = server.get(
        path, accept.split(";")[0] + "; charset=iso-8859-1", **({"query": query} if query else {})
    )
    assert refused.status == 406, accept


def test_an_error_page_for_a_browser_naming_utf8_is_a_page(server) -> None:
    """A 404 asked for with `text/html; charset=utf-8` was answered JSON: the error's own choice of
    page or JSON read the Accept without the charset."""
    reply = server.get("/id/country/nowhere-at-all", "text/html; charset=utf-8")
    assert reply.status == 404 and reply.content_type == "text/html", reply.headers


def test_a_406_says_nothing_of_the_accept_header_it_was_asked_with(server) -> None:
    """The header's text was used as a format template: `{kind:>200000000}` answered 200 MB, `{0}` a
    500. The message is kept with the answer for other clients too, so it holds nothing of the request."""
    fresh = f'ASK {{ ?s ?p "{uuid.uuid4()}" }}'
    messages = []
    for accept in ("x/y{kind:>200000000}", "x/y{kind.__class__.__mro__}", "x/y{0}", "x/y <b>a</b>"):
        reply = server.get("/sparql", accept, query=fresh)
        assert reply.status == 406, (accept, reply.status)
        assert len(reply.body) < 2000, (accept, len(reply.body))
        messages.append(reply.json()["error"]["message"])
    assert len(set(messages)) == 1 and "x/y" not in messages[0], messages
    assert messages[0].startswith("cannot answer an ask query in a format the request accepts"), messages


def test_default_format_without_accept_or_with_anything(server) -> None:
    for accept in (None, "*/*"):
        select = server.get("/sparql", accept, query=COUNTRIES)
        assert select.content_type == "application/sparql-results+json"
        graph = server.get("/sparql", accept, query=CONSTRUCT)
        assert graph.content_type == "text/turtle"
    assert server.get("/sparql", None, query=COUNTRIES, format="csv").content_type == "text/csv"


@pytest.mark.parametrize(
    ("path", "query", "asked"),
    [
        ("/sparql", COUNTRIES, "text/csv"),
        ("/sparql", COUNTRIES, "application/sparql-results+json"),
        ("/sparql", CONSTRUCT, "application/n-triples"),
        ("/data", None, "application/n-quads"),
        ("/id/country/MX", None, "text/turtle"),
        ("/id/country/MX", None, "text/html"),
    ],
)
def test_format_takes_a_media_type_the_refusal_offers(
    server, path: str, query: str | None, asked: str
) -> None:
    """`?format=text/csv` was refused 406 with a list of what is offered that named text/csv: only
    the short names (`csv`) were read."""
    reply = server.get(path, None, format=asked, **({"query": query} if query else {}))
    assert (reply.status, reply.content_type) == (200, asked), reply.body[:300]


@pytest.mark.parametrize(
    ("asked", "sent"),
    [
        ("text/csv; charset=utf-8", "text/csv"),
        ("TEXT/CSV;charset=UTF-8", "text/csv"),
        ("CSV", "text/csv"),
        ("Json", "application/sparql-results+json"),
        ("text/csv; charset=latin-1", None),
    ],
)
def test_format_is_read_as_accept_is(server, asked: str, sent: str | None) -> None:
    """`format=` with `charset=utf-8` was refused where Accept took it, and its names were read in lower
    case only (`CSV` was 406, `TEXT/CSV` was not)."""
    reply = server.get("/sparql", None, query=COUNTRIES, format=asked)
    assert (reply.status, reply.content_type if reply.status == 200 else None) == (
        (200, sent) if sent else (406, None)
    ), reply.body[:300]


@pytest.mark.parametrize("content_type", ["application/sparql-query", "application/x-www-form-urlencoded"])
@pytest.mark.parametrize("coding", ["gzip", "deflate, gzip", "br"])
def test_a_body_in_a_content_coding_is_refused_by_name(server, content_type: str, coding: str) -> None:
    """A body sent `Content-Encoding: gzip` was read as if it were not: its compressed bytes as the
    query (400, "not UTF-8") or as a form. The server reads no coding: 415, saying so (RFC 9110 15.5.16)."""
    text = (
        "ASK { ?s ?p ?o }" if content_type.endswith("query") else "query=ASK%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D"
    )
    body = gzip.compress(text.encode())
    headers = {"Content-Type": content_type, "Content-Encoding": coding}
    reply = server.request("/sparql", data=body, headers=headers)
    assert reply.status == 415, reply.body[:300]
    said = json.loads(reply.body)["error"]["message"]
    assert said == f"the request body is sent in the content coding {coding!r}; send it as it is (identity)"
    assert reply.headers["accept-encoding"] == "identity"
    identity = server.request(
        "/sparql", data=text.encode(), headers={**headers, "Content-Encoding": "identity"}
    )
    assert identity.status == 200, identity.body[:300]


def test_a_posted_form_s_format_is_read_as_the_url_s_is(server) -> None:
    """A form's `format=csv` was left unread, and the answer came as JSON, where the URL's is read, and
    every other parameter of the form (the query, its graphs) too."""
    posted = server.post_form("/sparql", {"query": COUNTRIES, "format": "csv"})
    assert (posted.status, posted.content_type) == (200, "text/csv"), posted.body[:300]


def test_service_description_for_rdf_clients_and_query_page_for_browsers(server, store) -> None:
    reply = server.get("/sparql", "text/turtle")
    assert reply.status == 200
    description = Graph().parse(data=reply.text, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    service = URIRef(server.endpoint)
    assert (service, URIRef(sd + "supportedLanguage"), URIRef(sd + "SPARQL11Query")) in description
    assert (service, URIRef(sd + "feature"), URIRef(sd + "UnionDefaultGraph")) in description
    names = {str(o) for o in description.objects(None, URIRef(sd + "name"))}
    assert names == set(triples_per_graph(store))
    page = server.get("/sparql", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert page.status == 200 and page.content_type == "text/html"
    assert 'id="editor"' in page.text


def test_head_asks_what_get_answers_without_the_body(server) -> None:
    """HEAD /sparql said "the query is empty" (400) where GET gives the service description."""
    parsed = urllib.parse.urlsplit(server.base)
    for path, accept in (("/sparql", "text/turtle"), ("/sparql", "text/html"), ("/", "text/html")):
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        try:
            connection.request("HEAD", path, headers={"Accept": accept})
            head = connection.getresponse()
            assert head.read() == b""
        finally:
            connection.close()
        got = server.get_unfollowed(path, accept)
        assert (head.status, head.getheader("Content-Type")) == (got.status, got.headers["content-type"]), (
            path
        )


def test_cors_headers_let_other_origins_query(server) -> None:
    reply = server.get("/sparql", "application/sparql-results+json", query=IS_FENTANYL)
    assert reply.headers["access-control-allow-origin"] == "*"
    preflight = server.request(
        "/sparql", headers={"Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.headers["access-control-allow-origin"] == "*"


def test_rows_are_capped_and_the_answer_says_so(server) -> None:
    reply = server.get("/sparql", "application/sparql-results+json", query="SELECT * WHERE { ?s ?p ?o }")
    assert reply.status == 200
    assert len(reply.json()["results"]["bindings"]) == MAX_ROWS
    assert reply.headers["kg-truncated"] == "true"
    small = server.get("/sparql", "application/sparql-results+json", query=COUNTRIES)
    assert small.headers["kg-truncated"] == "false"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "CONSTRUCT { <s> <p> 1 } WHERE {}",
            "query:1:13: <s> is a relative IRI and the query declares no BASE",
        ),
        (
            "SELECT ?x WHERE { BIND(<rel> AS ?x) }",
            "query:1:24: <rel> is a relative IRI and the query declares",
        ),
        ("SELECT ?x WHERE { ?x a kg:Country }", "add PREFIX kg: <https://w3id.org/opioid-kg/ontology#>"),
        ("SELECT ?x WHERE { ?x <http://a b> ?y }", "if the `<` before it starts an IRI, that IRI holds what"),
    ],
)
def test_a_name_the_guard_refuses_is_said_with_its_fix(server, text: str, said: str) -> None:
    """An undeclared prefix was named without the line to add, an IRI holding a space as a name with a
    prefix the query does not declare (`http:`), and a relative IRI as "IRI parsing failed" or
    "expected ENCODE_FOR_URI", a column past the end of the query."""
    error = server.get("/sparql", "application/sparql-results+json", query=text).json()["error"]
    assert said in error["message"], error


def test_errors_have_one_shape_with_line_and_column(server) -> None:
    reply = server.get("/sparql", "application/sparql-results+json", query="SELECT ?x WHERE {\n  ?x ?y \n}")
    assert reply.status == 400
    error = reply.json()["error"]
    assert set(error) == {"status", "message", "line", "column"}
    assert error["line"] == 2  # the parser stops where the unfinished triple pattern starts
    assert error["message"].startswith(f"query:2:{error['column']}: SPARQL syntax error")
    assert "Traceback" not in reply.text
    missing = server.get("/no/such/page", "application/json")
    assert missing.status == 404 and missing.json()["error"]["status"] == 404
    too_long = server.post_form("/sparql", {"query": "ASK {}" + " " * 200_000})
    assert too_long.status == 413 and too_long.json()["error"]["status"] == 413
    # the same in a URL, where a GET has no body: 414, which tells a client to POST it (it was 413)
    for path in ("/sparql", "/query", "/query/view.svg"):  # the query page shows it in place
        too_long = server.get(path, "application/json", query="ASK {} #" + "a" * 150_000)
        assert too_long.status == 414 and "characters long; the limit is 100000: POST it" in too_long.text, (
            path
        )
    # A body past the limit is refused on its header (tests/test_server_malformed.py), before the
    # client has sent it: urllib, which reads no answer until it has sent the whole body, sees the
    # connection closed instead.


def test_named_query_api_and_openapi(server, store) -> None:
    listing = server.get("/api/queries").json()
    names = {q["name"] for q in listing["queries"]}
    assert "fentanyl-routes" in names
    assert listing["settings"]["max_rows"] == MAX_ROWS
    routes = next(q for q in listing["queries"] if q["name"] == "fentanyl-routes")
    assert {p["name"] for p in routes["parameters"]} >= {"substance", "destination"}
    reply = server.get("/api/queries/fentanyl-routes", "application/sparql-results+json")
    rows = reply.json()["results"]["bindings"]
    assert rows and all(r["destination"]["value"] == f"{ID}country/US" for r in rows)
    as_csv = server.get("/api/queries/fentanyl-routes", None, format="csv")
    assert as_csv.content_type == "text/csv" and len(as_csv.text.strip().splitlines()) == len(rows) + 1
    bad = server.get("/api/queries/fentanyl-routes", None, substance="not an iri")
    assert bad.status == 400 and "substance" in bad.json()["error"]["message"]
    assert server.get("/api/queries/no-such-query").status == 404
    spec = server.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    operation = spec["paths"]["/api/queries/fentanyl-routes"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"substance", "destination", "format"}
    assert len(spec["paths"]) == len(names) + 1


def test_each_listed_question_runs_as_listed_with_its_defaults(server) -> None:
    """A client may paste a listed question's `sparql` into any SPARQL endpoint: it answers what the
    question answers with its defaults. Its `template` is the file's text, whose parameters are free
    variables or empty `VALUES` blocks, and is no query to run as it stands."""
    unanswered = set()
    for question in server.get("/api/queries").json()["queries"]:
        name = question["name"]
        select = question["answer"] == "select"
        media = "application/sparql-results+json" if select else "application/n-triples"
        asked = server.post_form("/sparql", {"query": question["sparql"]}, media)
        named = server.get(f"/api/queries/{name}", media)
        assert asked.status == named.status == 200, name
        if select:
            assert asked.json()["results"] == named.json()["results"], name
            unanswered |= set() if named.json()["results"]["bindings"] else {name}
        else:
            assert sorted(asked.text.splitlines()) == sorted(named.text.splitlines()), name
        assert question["template"].startswith("#+ summary:"), name
    assert unanswered == {"source-disagreements"}  # the report disagrees with no source


def test_named_query_page_has_a_form_and_a_table(server) -> None:
    page = server.get("/queries/fentanyl-routes", "text/html", run="1")
    assert page.status == 200
    assert 'name="substance"' in page.text and "<table" in page.text and "China" in page.text


def test_dataset_iris_resolve_by_content_negotiation(server) -> None:
    fentanyl = f"{ID}substance/fentanyl"
    page = server.get("/id/substance/fentanyl", "text/html")
    assert page.status == 200 and page.content_type == "text/html"
    assert fentanyl in page.text and "What the sources say" in page.text
    for accept, syntax in (
        ("text/turtle", "turtle"),
        ("application/n-triples", "ntriples"),
        ("application/ld+json", "jsonld"),
    ):
        reply = server.get("/id/substance/fentanyl", accept)
        assert reply.content_type == accept
        assert set(subjects(reply.body, syntax)) == {fentanyl}
    by_extension = server.get("/id/substance/fentanyl.ttl", "text/html")
    assert by_extension.content_type == "text/turtle"
    assert server.get("/id/substance/no-such-thing", "text/turtle").status == 404
    # an extension names only a format Accept can ask for too: `.nq` served N-Quads, which Accept could not
    for path in ("/id/substance/fentanyl", "/graph/data"):
        assert server.get(path, "application/n-quads").status == 406
        assert server.get(f"{path}.nq", "text/html").status == 404


def test_the_data_page_s_void_link_opens_in_a_browser(server) -> None:
    """A browser's Accept took the link to RDF/XML (its `application/xml;q=0.9`), an HTML-only one to a
    406: the link asks for the Turtle the build wrote."""
    page = server.get("/downloads", "text/html").text
    [link] = re.findall(r'href="(/\.well-known/void[^"]*)"', page)
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for accept in (browser, "text/html"):
        reply = server.get(html.unescape(link), accept)
        assert (reply.status, reply.content_type) == (200, "text/turtle"), accept


def test_ontology_data_and_void(server, store) -> None:
    docs = server.get("/ontology", "text/html")
    assert docs.status == 200 and "TraffickingFlow" in docs.text
    turtle = Graph().parse(data=server.get("/ontology", "text/turtle").text, format="turtle")
    assert (URIRef(f"{KG}TraffickingFlow"), None, None) in turtle
    expected = {quad for quad in store.quads() if not any(isinstance(t, ox.BlankNode) for t in quad)}
    nquads = server.get("/data", "application/n-quads")
    parsed = list(ox.parse(nquads.body, format=ox.RdfFormat.N_QUADS))
    assert len(parsed) == len(store.quads())
    assert {quad for quad in parsed if not any(isinstance(t, ox.BlankNode) for t in quad)} == expected
    for accept, syntax in (("application/trig", "trig"), ("application/ld+json", "jsonld")):
        reply = server.get("/data", accept)
        assert reply.content_type == accept
        assert len(parse(reply.body, syntax)) == len(parsed)
    void = Graph().parse(data=server.get("/.well-known/void", "text/turtle").text, format="turtle")
    triples = void.value(URIRef(DATASET), URIRef("http://rdfs.org/ns/void#triples"))
    assert int(triples) == len(parsed)


def test_the_dataset_of_a_served_generation_is_its_build_s_own_files(built, tmp_path) -> None:
    """A store served from its generation offers the files its build wrote, the very bytes, streamed:
    made again from the store, /data at a million triples took 16 s of both workers and 1 GB more of
    the web process for each request, too large to cache."""
    import os

    generation = Path(os.path.realpath(built.store_path)).parent
    running = start_server(str(built.store_path), tmp_path)  # a str: no --dist, the generation's own
    try:
        for accept, name in (
            ("application/n-quads", "opioid-kg.nq"),
            ("application/trig", "opioid-kg.trig"),
            ("application/ld+json", "opioid-kg.jsonld"),
        ):
            reply = running.get("/data", accept)
            assert reply.status == 200 and reply.content_type == accept
            assert reply.body == (generation / "dist" / name).read_bytes(), name
        # the gzipped dump the description lists, where the description says, with the digest it gives
        void = Graph().parse(data=running.get("/.well-known/void", "text/turtle").text, format="turtle")
        dcat, spdx = "http://www.w3.org/ns/dcat#", "http://spdx.org/rdf/terms#"
        distribution = void.value(URIRef(DATASET), URIRef(dcat + "distribution"))
        url = str(void.value(distribution, URIRef(dcat + "downloadURL")))
        assert url == running.base + "/data/opioid-kg.nq.gz"
        assert str(void.value(distribution, URIRef(dcat + "accessURL"))) == url
        dump = running.get(url.removeprefix(running.base))
        assert dump.status == 200 and dump.content_type == "application/gzip"
        assert dump.body == (generation / "dist" / "opioid-kg.nq.gz").read_bytes()
        checksum = void.value(distribution, URIRef(spdx + "checksum"))
        assert (
            str(void.value(checksum, URIRef(spdx + "checksumValue"))) == hashlib.sha256(dump.body).hexdigest()
        )
    finally:
        running.stop()


def test_served_description_is_the_built_one_with_its_endpoints(server, built) -> None:
    """One description of the dataset: dist/void.ttl as built, plus only where this server answers."""
    void = "http://rdfs.org/ns/void#"
    built_description = Graph().parse(built.dist / "void.ttl")
    reply = server.get("/.well-known/void", "text/turtle")
    assert reply.status == 200 and "Accept" in reply.headers.get("vary", "")
    served = Graph().parse(data=reply.text, format="turtle")
    _, added, missing = graph_diff(to_isomorphic(served), to_isomorphic(built_description))
    assert len(missing) == 0
    assert sorted((str(s), str(p), str(o)) for s, p, o in added) == [
        (DATASET, void + "dataDump", server.base + "/data"),
        (DATASET, void + "sparqlEndpoint", server.base + "/sparql"),
    ]
    by_iri = server.get("/id/dataset/opioid-kg", "text/turtle")
    assert by_iri.status == 200 and by_iri.content_type == "text/turtle"
    assert same_graph(Graph().parse(data=by_iri.text, format="turtle"), served)
    for_browser = server.get_unfollowed("/id/dataset/opioid-kg", "text/html")
    assert for_browser.status in (302, 303) and for_browser.headers["location"].endswith("/")
    assert "Accept" in for_browser.headers.get("vary", "")


def test_source_view_highlights_excerpts(server) -> None:
    page = server.get("/source/crs-2018-heroin-fentanyl-mexico", "text/html")
    assert page.status == 200
    assert page.text.count('<mark class="excerpt"') >= 50
    assert 'href="/id/excerpt/report-title"' in page.text and 'id="excerpt-report-title"' in page.text


def test_a_resource_page_shows_the_context_sentence_beside_the_quote(server) -> None:
    """'Seizures declined in FY2016 ...' is shown with the sentence naming CBP and the border."""
    page = server.get("/id/change/swb-heroin-seizures-fy2015-fy2016", "text/html")
    assert page.status == 200
    quote = page.text.index("Seizures declined in FY2016")
    context = page.text.index("according to data from U.S. Customs and Border Protection")
    assert quote < context
    assert page.text.count('<li class="context">') == 1


def test_home_page_says_what_the_graph_holds(server) -> None:
    page = server.get("/", "text/html")
    assert page.status == 200
    assert DATA_GRAPH in page.text and 'href="/id/substance/fentanyl"' in page.text


def test_sparqlwrapper_sees_update_refused(server) -> None:
    client = SPARQLWrapper(server.endpoint)
    client.setMethod(POST)
    client.setQuery(f"INSERT DATA {{ <{ID}x> <{KG}y> 1 }}")
    with warnings.catch_warnings(), pytest.raises(Exception) as refused:
        client.query()
    close_http_error(refused.value)
    assert "403" in str(refused.value) or "read-only" in str(refused.value)


@pytest.mark.parametrize(
    "path",
    ["/id/substance/fentanyl", "/ontology", "/graph/data", "/sparql", "/shapes", "/id/dataset/opioid-kg"],
)
def test_every_negotiated_html_answer_varies_by_accept(server, path) -> None:
    """A cache must not hand a browser's page (or redirect) to an RDF client, nor the reverse."""
    reply = server.get_unfollowed(path, "text/html")
    assert reply.status in (200, 302, 303), (path, reply.status)
    assert "accept" in reply.headers.get("vary", "").lower(), (path, reply.headers)


@pytest.mark.parametrize(
    "path", ["/id/substance/fentanyl", "/ontology", "/graph/data", "/shapes", "/sparql?query=ASK%7B%7D"]
)
def test_each_negotiated_form_has_an_etag_of_its_own(server, path) -> None:
    """One ETag for every form of a page let a cache revalidate its Turtle with a browser's request
    and answer 304: the browser then showed the Turtle as the page (RFC 9110 §8.8.3)."""
    where, _, query = path.partition("?")
    params = dict(urllib.parse.parse_qsl(query)) or None
    tags = {}  # the tag of each media type answered, by the Accept that asked for it
    forms = ("text/html", "text/turtle", "application/ld+json")
    for accept in (*forms, "application/sparql-results+json", "application/sparql-results+xml"):
        reply = server.request(where, headers={"Accept": accept}, params=params)
        if reply.status == 200:
            tags[accept] = reply.headers["etag"]
    assert len(tags) >= 2 and len(set(tags.values())) == len(tags), (path, tags)
    for accept in tags:
        for sent_accept, tag in tags.items():
            again = server.request(where, headers={"Accept": accept, "If-None-Match": tag}, params=params)
            assert again.status == (304 if sent_accept == accept else 200), (path, accept, sent_accept)


@pytest.mark.parametrize("path", ["/nonexistent", "/queries/nope", "/source/nope", "/search?limit=x"])
def test_an_error_shown_as_a_page_or_as_json_varies_by_accept(server, path) -> None:
    """An error is a page for a browser and JSON for a client; a shared cache may keep a 404."""
    for accept in ("text/html", "application/json"):
        reply = server.get_unfollowed(path, accept)
        assert reply.status >= 400, (path, reply.status)
        assert "accept" in reply.headers.get("vary", "").lower(), (path, accept, reply.headers)


def test_protocol_requests_without_exactly_one_utf8_query_are_400(server) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json"}
    body = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}
    cases = {
        "empty form POST": server.request("/sparql", data=b"", headers=form),
        "empty body POST": server.request("/sparql", data=b"", headers=body),
        "two query parameters": server.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D", "application/json"),
        "query in URL and in form": server.request(
            "/sparql?query=ASK%7B%7D", data=b"query=ASK%7B%7D", headers=form
        ),
        "body not UTF-8": server.request("/sparql", data="ASK { ?s ?p 'é' }".encode("latin-1"), headers=body),
        "form not UTF-8": server.request("/sparql", data=b"query=ASK%7B%3Fs%3Fp%27%E9%27%7D", headers=form),
        "URL not UTF-8": server.get(
            "/sparql?query=ASK%7B%3Fs%3Fp%27%E9%27%7D", "application/sparql-results+json"
        ),
    }
    for name, reply in cases.items():
        assert reply.status == 400, (name, reply.status, reply.body[:200])
        assert "message" in reply.json()["error"], name


@pytest.mark.parametrize(
    "path",
    [
        "/api/search?q=%C0%AF",
        "/search?q=%ff%fe",
        "/api/queries/mexico-seizures?area=%ff",
        "/queries/mexico-seizures?area=%ff",
        "/id/country/MX?x=%e9",
        "/static/site.css?v=%ff",
        "/id/country/%ff",
        "/%c0%af",
    ],
)
def test_a_url_that_is_not_utf8_is_400_wherever_it_goes(server, path: str) -> None:
    """Only /sparql refused one: elsewhere a byte that is no UTF-8 was read as the text `%FF`, and an
    overlong `%C0%AF` was searched as the words "C0 AF" and answered with Afghanistan."""
    reply = server.get(path, "application/json")
    assert reply.status == 400, (reply.status, reply.body[:200])
    assert "is not UTF-8 (byte " in reply.json()["error"]["message"]  # type: ignore[index]  # an error


def test_a_format_the_query_s_kind_does_not_offer_is_refused_before_it_runs(server) -> None:
    """The 406 was decided once the whole answer was read: a graph query asked for as SELECT results
    ran to the time limit (504) before it was refused."""
    endless = (  # 10^11 rows to count before the one triple
        "CONSTRUCT { <urn:count> <urn:is> ?n } WHERE {"
        " { SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } } }"
    )
    reply = server.get("/sparql", "application/sparql-results+json", query=endless)
    assert reply.status == 406 and "cannot answer a graph query" in reply.text, reply.text


@pytest.mark.parametrize("accept", ["text/csv", "text/tab-separated-values"])
def test_ask_is_not_answered_as_csv_or_tsv(server, accept) -> None:
    assert server.get("/sparql", accept, query=IS_FENTANYL).status == 406
    assert server.get("/sparql", None, query=IS_FENTANYL, format=accept.split("/")[1][:3]).status == 406
    assert server.get("/sparql", accept, query=COUNTRIES).status == 200


def test_rdflib_dataset_quads_by_the_documented_way(server, store) -> None:
    """rdflib's Dataset over SPARQLStore names its own default graph, `urn:x-rdflib:default`, in
    `default-graph-uri`; no endpoint holds it, so kg serve answers 400 and Dataset.quads() raises. The
    documented way reads each named graph the endpoint lists, and gets its quads, and asks every kind
    of query: with `returnFormat="json"` rdflib accepted SELECT results alone, so a CONSTRUCT was 406."""
    refused = server.get(
        "/sparql",
        "application/sparql-results+json",
        query=COUNTRIES,
        **{"default-graph-uri": "urn:x-rdflib:default"},
    )
    assert refused.status == 400 and "urn:x-rdflib:default" in refused.json()["error"]["message"]
    remote = SPARQLStore(query_endpoint=server.endpoint, returnFormat="xml")
    union = Dataset(store=remote, default_union=True)
    assert [str(row.c) for row in union.query(COUNTRIES)]
    assert union.query(IS_FENTANYL).askAnswer is True
    constructed = union.query("CONSTRUCT { ?s a ?t } WHERE { ?s a ?t } LIMIT 3").graph
    assert constructed is not None and len(constructed) == 3
    quads = {
        (s, p, o, URIRef(name))
        for name in remote.contexts()
        for s, p, o in Graph(store=remote, identifier=name).triples((None, None, None))
    }
    per_graph = {name: sum(1 for *_, g in quads if str(g) == name) for name in triples_per_graph(store)}
    # Every graph whole, up to the server's row cap (this test server caps answers at MAX_ROWS).
    assert per_graph == {name: min(n, MAX_ROWS) for name, n in triples_per_graph(store).items()}
    remote.close()


def test_the_server_reads_ahead_what_first_visitors_would_wait_for(built, tmp_path) -> None:
    """At a million triples the first view of /network took 13 s, the first search 16 s and most
    catalogue questions 0.2 to 3.6 s: `kg serve` reads the network and charts pages, the search index
    and each question's answer to its defaults as soon as it listens, so that the first visitor's
    question page is answered from the cache. A server of its own: no other test asked before."""
    server = start_server(built.store_path, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while "read ahead of" not in server.log.read_text(errors="replace") and time.monotonic() < deadline:
            time.sleep(0.2)
        log = server.log.read_text(errors="replace")
        line = next(line for line in log.splitlines() if "read ahead" in line)
        names = [q["name"] for q in server.get("/api/queries", "application/json").json()["queries"]]
        pattern = (
            r"read ahead of generation \S+ in [\d.]+ s: "
            r"/network, /charts, the search index and (\d+) questions$"
        )
        read = re.search(pattern, line)
        assert read and int(read.group(1)) == len(names) > 20, line
        for name in names:
            reply = server.request(f"/queries/{name}", params={"run": "1"})
            assert (reply.status, reply.headers["cache-status"]) == (200, "kg; hit"), name
        for path in ("/network", "/charts", "/search?q=fentanyl"):
            assert server.request(path).status == 200, path
        # Asked with other values, a question is run: the header says so.
        other = server.request("/queries/mexico-seizures", params={"run": "1", "area": "country:US"})
        assert (other.status, other.headers["cache-status"]) == (200, "kg; fwd=miss"), other.text[:300]
    finally:
        server.stop()


def test_cache_status_says_whether_the_answer_was_run_or_kept(server: RunningServer) -> None:
    """RFC 9211: `kg; fwd=miss` when the query ran, `kg; hit` when the same question came from the
    answer cache; a response that needed no query says nothing."""
    fresh = f'ASK {{ ?s ?p "{uuid.uuid4()}" }}'
    first = server.get("/sparql", "application/sparql-results+json", query=fresh)
    again = server.get("/sparql", "application/sparql-results+json", query=fresh)
    assert (first.status, first.headers["cache-status"]) == (200, "kg; fwd=miss")
    assert (again.status, again.headers["cache-status"]) == (200, "kg; hit")
    assert "cache-status" in first.headers["access-control-expose-headers"].lower()
    assert "cache-status" not in server.request("/static/site.css").headers


def test_an_answer_is_kept_once_however_its_format_is_asked_for(server: RunningServer) -> None:
    """The Accept header's text was part of the cache's key (for the message a 406 would give), so each
    spelling of one format ran the query again and kept the answer again."""
    fresh = f'SELECT ?s {{ ?s ?p "{uuid.uuid4()}" }}'
    spellings = ("text/csv", "text/csv;q=1", "text/csv, text/html;q=0.1", "TEXT/CSV")
    replies = [server.get("/sparql", accept, query=fresh) for accept in spellings]
    assert [r.status for r in replies] == [200] * 4
    assert [r.headers["cache-status"] for r in replies] == ["kg; fwd=miss"] + ["kg; hit"] * 3


def test_a_page_refused_in_the_read_ahead_does_not_stop_it(built, tmp_path) -> None:
    """At 10 M triples the network's answer took longer than a query may run, and the read-ahead stopped
    there: no question was read ahead, though most could be. An own row cap that the network and the
    search index do not fit in stands in for that limit here; the reading goes on past them and the log
    names what was refused."""
    server = start_server(built.store_path, tmp_path, "--own-max-rows", "50")
    try:
        deadline = time.monotonic() + 60
        while " questions" not in server.log.read_text(errors="replace") and time.monotonic() < deadline:
            time.sleep(0.2)  # the summary, which follows the warnings
        log = server.log.read_text(errors="replace")
        summary = next(line for line in log.splitlines() if " questions" in line)
        refused = summary.partition("; refused: ")[2].split(", ")
        assert {"/network", "/search"} <= set(refused), summary
        assert re.search(r"read ahead of generation \S+: /network refused: .*row cap of 50 rows", log), log
        reply = server.request("/queries/cooperation-forums", params={"run": "1"})
        assert (reply.status, reply.headers["cache-status"]) == (200, "kg; hit"), reply.text[:300]
        assert server.request("/network").status == 500
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "the query is empty"),
        ("   ", "the query is empty"),
        ("# only a comment", "the query asks for nothing"),
        ("PREFIX kg: <https://w3id.org/opioid-kg/ontology#>", "the query asks for nothing"),
        ("BASE <https://w3id.org/opioid-kg/> # and a comment", "the query asks for nothing"),
    ],
)
def test_a_query_that_asks_for_nothing_is_a_400_that_says_so(server, text: str, said: str) -> None:
    """An empty GET was told "a POST to /sparql needs a query"; a comment or a prologue alone, which
    the grammar reads as an update of no operation, was refused 403 as an update."""
    reply = server.get("/sparql", "application/sparql-results+json", query=text)
    message = reply.json()["error"]["message"]
    assert (reply.status, message.split(":")[0]) == (400, said), message


@pytest.mark.parametrize(
    ("query", "accept", "said"),
    [
        ('SELECT ?x WHERE { BIND("a\\u0001b" AS ?x) }', "application/sparql-results+xml", "U+0001"),
        ('ASK { FILTER(false) } VALUES ?x { "\\u0008" }', "application/sparql-results+xml", None),
        (
            'CONSTRUCT { <http://a/x> <http://b/> "x" } WHERE {}',
            "application/rdf+xml",
            "predicate <http://b/>",
        ),
        ('CONSTRUCT { <http://a/x> <http://b/p> "a\\u0001b" } WHERE {}', "application/rdf+xml", "U+0001"),
    ],
    ids=["control character", "ask", "predicate ending in a slash", "control character in a graph"],
)
def test_an_answer_xml_cannot_hold_is_refused_never_sent_malformed(server, query, accept, said) -> None:
    """A value holding U+0001 went out as raw bytes in the XML results, and a predicate ending in `/`
    as `<oxprefix: …>` in RDF/XML: documents no XML parser reads."""
    reply = server.get("/sparql", accept, query=query)
    if said is None:  # nothing of the value is in the answer
        assert reply.status == 200
        ET.fromstring(reply.body)
        return
    assert reply.status == 406, (reply.status, reply.text[:300])
    message = reply.json()["error"]["message"]
    assert said in message and "ask for another format" in message, message
