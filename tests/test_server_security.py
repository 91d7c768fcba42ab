"""`kg serve` is safe to expose: read-only, never fetches a URL, stops runaway queries, escapes HTML."""

from __future__ import annotations

import random
import re
import threading
import time
import urllib.error
import urllib.parse
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from server_fixtures import EXPLOSIVE, RunningServer, serving, start_server
from SPARQLWrapper import POST, POSTDIRECTLY, SPARQLWrapper

from kg.store.embedded import create_store

ID = "https://w3id.org/opioid-kg/id/"
KG = "https://w3id.org/opioid-kg/ontology#"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
SIMPLE = f"ASK {{ <{ID}substance/fentanyl> ?p ?o }}"
TIMEOUT = 2.0
SCRIPT_LABEL = "<script>alert('label')</script>"


@pytest.fixture(scope="module")
def server(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from serving(
        built.store_path,
        tmp_path_factory.mktemp("serve"),
        "--timeout",
        str(TIMEOUT),
        "--workers",
        "2",
        "--cache-mb",
        "0",
        "--queue-wait",
        str(3 * TIMEOUT),
    )


def close_http_error(error: BaseException | None) -> None:
    """SPARQLWrapper raises its own error from urllib's, whose open response must be closed."""
    while error is not None:
        if isinstance(error, urllib.error.HTTPError):
            error.close()
        error = error.__cause__ or error.__context__


def triples(server: RunningServer) -> int:
    reply = server.get("/sparql", "text/csv", query=COUNT)
    assert reply.status == 200
    return int(reply.text.split()[1])


def test_updates_are_refused_and_data_unchanged(server, store) -> None:
    before = triples(server)
    assert before == len(store.quads())
    insert = f"INSERT DATA {{ GRAPH <https://w3id.org/opioid-kg/graph/data> {{ <{ID}x> <{KG}y> 1 }} }}"
    delete = "DELETE WHERE { ?s ?p ?o }"
    for update in (insert, delete, "CLEAR ALL", "DROP DEFAULT"):
        by_form = server.post_form("/sparql", {"update": update})
        assert by_form.status == 403, update
        assert "read-only" in by_form.json()["error"]["message"]
        by_body = server.request(
            "/sparql", data=update.encode(), headers={"Content-Type": "application/sparql-update"}
        )
        assert by_body.status == 403
        as_query = server.post_form("/sparql", {"query": update})
        assert as_query.status == 403
    client = SPARQLWrapper(server.endpoint)
    client.setMethod(POST)
    client.setRequestMethod(POSTDIRECTLY)
    client.setQuery(insert)
    with pytest.raises(Exception, match="403|read-only|Forbidden") as refused:
        client.query()
    close_http_error(refused.value)
    assert triples(server) == before
    assert (
        server.get("/sparql", "application/sparql-results+json", query=f"ASK {{ <{ID}x> ?p ?o }}").json()[
            "boolean"
        ]
        is False
    )


def test_service_never_calls_out(server, listener) -> None:
    target = f"{listener.url}sparql"
    disguises = [
        f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent <{target}> {{ ?s ?p ?o }} }}",
        f"PREFIX x: <{listener.url}>\nSELECT * WHERE {{ # a comment\n  SeRvIcE x:sparql {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{target}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }} }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ # a comment to a carriage return\r SERVICE <{target}> {{ ?s ?p ?o }} \n }}",
        f"SELECT * WHERE {{ #\r SERVICE SILENT <{target}> {{ ?s ?p ?o }} \n }}",
    ]
    for query in disguises:
        reply = server.post_form("/sparql", {"query": query})
        assert reply.status == 400, query
        assert "SERVICE" in reply.json()["error"]["message"]
    outside = server.get(
        "/sparql", "text/csv", query=f"SELECT * FROM <{listener.url}data.ttl> WHERE {{ ?s ?p ?o }}"
    )
    assert outside.status == 400
    named = server.get(
        "/sparql", "text/csv", query=f"SELECT * WHERE {{ GRAPH <{listener.url}g> {{ ?s ?p ?o }} }}"
    )
    assert named.status == 200 and sorted(named.text.strip().split(",")) == ["o", "p", "s"]
    by_parameter = server.get("/sparql", "text/csv", query=COUNT, **{"named-graph-uri": f"{listener.url}g"})
    assert by_parameter.status == 400
    time.sleep(0.2)
    assert listener.count_after(0) == 0


def test_load_is_refused(server, listener) -> None:
    load = f"LOAD <{listener.url}data.ttl>"
    assert server.post_form("/sparql", {"update": load}).status == 403
    assert server.post_form("/sparql", {"query": load}).status == 403
    into = f"LOAD SILENT <{listener.url}data.ttl> INTO GRAPH <urn:g>"
    assert (
        server.request(
            "/sparql", data=into.encode(), headers={"Content-Type": "application/sparql-update"}
        ).status
        == 403
    )
    time.sleep(0.2)
    assert listener.count_after(0) == 0


def test_explosive_query_is_stopped_while_others_are_answered(server) -> None:
    outcome: dict[str, object] = {}

    def explode() -> None:
        started = time.monotonic()
        outcome["reply"] = server.post_form("/sparql", {"query": EXPLOSIVE}, source="127.0.0.2")
        outcome["seconds"] = time.monotonic() - started

    runaway = threading.Thread(target=explode)
    runaway.start()
    time.sleep(0.5)
    started = time.monotonic()
    during = server.get("/sparql", "application/sparql-results+json", query=SIMPLE, source="127.0.0.3")
    assert during.status == 200 and during.json()["boolean"] is True
    assert time.monotonic() - started < 1.0
    runaway.join(30)
    reply = outcome["reply"]
    assert reply.status == 504
    assert reply.json()["error"]["status"] == 504
    assert reply.headers["cache-status"] == "kg; fwd=miss"  # it ran, though it got no answer
    assert TIMEOUT <= outcome["seconds"] < TIMEOUT + 3
    after = server.get("/sparql", "application/sparql-results+json", query=SIMPLE)
    assert after.status == 200 and after.json()["boolean"] is True


def test_stopped_queries_free_their_workers(server) -> None:
    """Two runaways from two clients fill both workers; once stopped, queries run at once, so the work
    really ended."""
    replies = []

    def explode(source: str) -> None:
        replies.append(server.post_form("/sparql", {"query": EXPLOSIVE}, source=source))

    runaways = [threading.Thread(target=explode, args=(f"127.0.0.{n}",)) for n in (4, 5)]
    for thread in runaways:
        thread.start()
    for thread in runaways:
        thread.join(30)
    assert [r.status for r in replies] == [504, 504]
    for _ in range(4):  # each within a query's time limit: none waits for a runaway still running
        started = time.monotonic()
        reply = server.get("/sparql", "application/sparql-results+json", query=SIMPLE)
        assert reply.status == 200 and time.monotonic() - started < TIMEOUT


@pytest.fixture(scope="module")
def hostile_server(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The built dataset plus a substance whose label is a script and a link with a javascript: IRI."""
    folder = tmp_path_factory.mktemp("hostile")
    nquads = folder / "hostile.nq"
    escaped = SCRIPT_LABEL.replace("'", "\\'")
    extra = (
        f"<{ID}substance/hostile> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{KG}Substance> "
        f"<https://w3id.org/opioid-kg/graph/data> .\n"
        f'<{ID}substance/hostile> <http://www.w3.org/2004/02/skos/core#prefLabel> "{escaped}" '
        f"<https://w3id.org/opioid-kg/graph/data> .\n"
        f"<{ID}substance/hostile> <http://www.w3.org/2000/01/rdf-schema#seeAlso> <javascript:alert(1)> "
        f"<https://w3id.org/opioid-kg/graph/data> .\n"
    )
    nquads.write_bytes((built.dist / "opioid-kg.nq").read_bytes() + extra.encode())
    create_store(folder / "store", nquads)
    running = start_server(folder / "store", folder)
    yield running
    running.stop()


def test_script_in_a_label_is_escaped(hostile_server) -> None:
    pages = [
        hostile_server.get("/id/substance/hostile", "text/html"),
        hostile_server.get("/", "text/html"),
        hostile_server.get(
            "/query",
            "text/html",
            query=f"SELECT ?s ?l WHERE {{ ?s ?p ?l }} VALUES ?s {{ <{ID}substance/hostile> }}",
        ),
    ]
    for page in pages:
        assert page.status == 200
        assert "&lt;script&gt;alert(" in page.text
        assert "<script>alert(" not in page.text
        assert 'href="javascript:' not in page.text


def test_keywords_inside_strings_iris_and_comments_are_harmless(server) -> None:
    query = (
        "# SERVICE <http://127.0.0.1:1/> LOAD INSERT\n"
        'SELECT ?s WHERE { ?s ?p ?o FILTER(?o = "SERVICE <http://127.0.0.1:1/> and LOAD" '
        "|| ?p = <urn:service:load>) }"
    )
    reply = server.get("/sparql", "application/sparql-results+json", query=query)
    assert reply.status == 200, reply.text


def test_a_quote_escaped_in_a_string_of_the_other_quote_is_read_as_sparql_has_it(server) -> None:
    """SPARQL lets a string of either kind escape either quote (`"it\\'s"`); rdflib, which the guard
    reads with, refused the other quote's escape, so valid queries were turned away."""
    query = (
        r"""ASK { FILTER ("it\'s" = "it's" && 'say \"hi\"' = 'say "hi"' && '''a \"b\"''' = 'a "b"'"""
        r""" && """ + '"""' + r"""it\'s""" + '"""' + r""" = "it's" && 'a\\' = "a\\" && 'a\\"' = "a\\\"") }"""
    )
    reply = server.get("/sparql", "application/sparql-results+json", query=query)
    assert reply.status == 200, reply.text
    assert reply.json()["boolean"] is True, query


@pytest.mark.parametrize(
    ("query", "values"),
    [
        (
            r"""PREFIX e: <urn:e:> SELECT ?x WHERE { BIND(e:it\'s AS ?i) VALUES ?x { "a\" \"b" } } #'""",
            ['a" "b'],
        ),
        (
            r"""PREFIX e: <urn:e:> SELECT ?x WHERE { BIND(e:it\'s AS ?i) BIND("say \"hi\" it's" AS ?x) }""",
            ['say "hi" it\'s'],
        ),
    ],
    ids=["values", "bind"],
)
def test_an_escaped_quote_in_a_name_starts_no_string(server, query: str, values: list[str]) -> None:
    """`e:it\\'s` is one name; read as the start of a string, it hid the rest of its line from the
    guard's rules and had escapes rewritten there, which changed the answer."""
    reply = server.get("/sparql", "application/sparql-results+json", query=query)
    assert reply.status == 200, reply.text
    assert [row["x"]["value"] for row in reply.json()["results"]["bindings"]] == values


@pytest.mark.parametrize(
    ("query", "place"),
    [
        ('SELECT * WHERE {\n  ?s ?p "abc }', "2:9"),
        ("SELECT * WHERE { ?s ?p 'abc\n' }", "1:24"),
        ("SELECT * WHERE { ?s ?p ?o } \\", "1:29"),
    ],
    ids=["double", "single-across-lines", "backslash"],
)
def test_a_string_that_does_not_end_is_refused_where_it_starts(server, query: str, place: str) -> None:
    reply = server.get("/sparql", "application/sparql-results+json", query=query)
    assert reply.status == 400, reply.text
    assert reply.json()["error"]["message"].startswith(f"query:{place}: "), reply.text


def test_cache_status_counts_the_queries_of_pictures_too(server: RunningServer) -> None:
    """A chart's picture reads its series through the server's own bounded store, not through a page's
    query; with no answer cache (this server's `--cache-mb 0`) each drawing runs them, and says so."""
    for preset in ("screen", "memo"):
        reply = server.request("/charts/shareOfSeizedHeroin.svg", params={"area": "US", "preset": preset})
        assert (reply.status, reply.headers.get("cache-status")) == (200, "kg; fwd=miss"), preset


@pytest.mark.parametrize(
    "text",
    [
        "'" + "\\'" * 49_000,
        "\\'" * 49_999,
        '"' + '\\"' * 49_000,
        "'''" + "\\'" * 49_000,
        "\\'''\n" * 19_999,
        "''\n\\'" * 19_999,
        '\\"""\n' * 19_999,
    ],
    ids=[
        "quote-then-escapes",
        "escapes",
        "double-quote-then-escapes",
        "long-quote-then-escapes",
        "escaped-long-quotes",
        "empty-strings-and-escapes",
        "escaped-long-double-quotes",
    ],
)
def test_a_text_of_quotes_that_end_no_string_is_refused_at_once(server, text: str) -> None:
    """Each quote that ends no string was read again to the end of the text, once per later quote:
    100 KB of them held the web process for over two minutes before they were refused."""
    reply = server.request(
        "/sparql",
        data=f"query={quote(text)}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    refusals = ("a string that does not end", "a backslash outside a string")
    assert reply.status == 400 and any(refusal in reply.text for refusal in refusals), reply.text[:300]


def test_a_search_or_a_name_longer_than_the_index_searches_is_refused_at_once(server) -> None:
    """A search of 5,000 letters took the server's whole memory, and a question's value given as a
    name of 1,000 letters a gigabyte: the index took every long word apart."""
    rng = random.Random(7)
    letters = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(5_000))
    for path in ("/api/search", "/search"):
        reply = server.get(path, q=letters)
        assert reply.status == 400 and "at most 500 are searched" in reply.text, (path, reply.text[:300])
    named = server.get("/api/queries/fentanyl-routes", substance=letters[:1_000])
    assert named.status == 400 and "nothing in the graph is named" in named.text, named.text[:300]
    assert "did you mean" not in named.text


def test_a_request_the_http_server_refuses_itself_is_logged_too(server) -> None:
    """A request waitress answers alone (bad bytes in its path) had no line in the access log, which
    promises one per request."""
    import socket

    address = urllib.parse.urlsplit(server.base)
    with socket.create_connection((address.hostname, address.port)) as connection:
        connection.sendall(b"GET /REFUSED-ITSELF\xc2\x85 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert connection.recv(100).startswith(b"HTTP/1.1 400")
    deadline = time.monotonic() + 10
    while not re.search(r"REFUSED-ITSELF.* 400 \d+ \d+ms\n", server.log.read_text("utf-8", errors="replace")):
        assert time.monotonic() < deadline, "the request was logged"
        time.sleep(0.1)


def test_a_request_cannot_write_lines_or_terminal_controls_into_the_log(server) -> None:
    """The access log wrote the path as waitress decoded it: `%0a` began a forged line of its own, and
    an escape sequence reached the operator's terminal."""
    import socket

    forged = "2026-12-05 15:00:00 POST /sparql 200 42 1ms"
    path = "/x%0a" + forged.replace(" ", "%20") + "%0a%1b[31mFORGED-RED%07"
    address = urllib.parse.urlsplit(server.base)
    with socket.create_connection((address.hostname, address.port)) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert connection.recv(100).startswith(b"HTTP/1.1 404")
    deadline = time.monotonic() + 10
    while not re.search(r"FORGED-RED.*ms\n", logged := server.log.read_text("utf-8", errors="replace")):
        assert time.monotonic() < deadline, "the request was logged"  # its whole line, written
        time.sleep(0.1)
    [line] = [line for line in logged.splitlines() if "FORGED-RED" in line]
    assert "\\x0a" in line and "\\x1b" in line and "\\x07" in line, line
    assert not any(line.startswith(forged) for line in logged.splitlines())
    assert "\x1b" not in logged and "\x07" not in logged


@pytest.mark.parametrize(
    ("query", "at"),
    [
        # the engine's error, after a string spelt with escapes
        (
            'SELECT * WHERE {\n  ?s ?p ?o\n  FILTER(?o = "' + "\\u0041" * 6 + 'x8") ?s ?p ?o ?x }',
            "?x }",
        ),
        # the guard's own refusals after an escape, and after a line ended CR LF
        ('SELECT * WHERE { ?s ?p "\\u0041" . ?s ?p "abc }', '"abc'),
        ('SELECT *\r\nWHERE { ?s ?p "\\u0041\\u0041" . ?s ?p "abc }', '"abc'),
        # after a string's escape of the other quote, which the engine reads as the quote itself
        ('SELECT * WHERE { ?s ?p "it\\\'s" . ?s ?p ?o ?x }', "?x }"),
        # a SERVICE the guard refuses, at its keyword, spelt with an escape too (it had no place)
        ("SELECT * WHERE {\n\n  SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", "SERVICE"),
        (
            'SELECT * WHERE { ?s ?p "\\u0041" .\n  ?s ?p ?o \\u0053ERVICE <http://127.0.0.1:9/> {} }',
            "\\u0053",
        ),
        # a graph the dataset does not hold, and a function no store should run: at the term refused
        (
            "PREFIX x: <http://127.0.0.1:9/>\nSELECT * FROM NAMED\n  <http://127.0.0.1:9/g> { ?s ?p ?o }",
            "<http://127.0.0.1:9/g>",
        ),
        ('SELECT * WHERE { ?s ?p "\\u0041" .\n  BIND(<urn:f>(1) AS ?x) }', "<urn:f>"),
    ],
    ids=["engine", "guard", "guard-crlf", "other-quote", "service", "service-escaped", "from", "function"],
)
def test_a_syntax_error_is_placed_in_the_text_the_client_sent(server, query: str, at: str) -> None:
    """Positions were of the text with its escapes expanded: an error after six `\\u0041` was said
    to be 30 columns before where it stands."""
    reply = server.get("/sparql", "application/sparql-results+json", query=query)
    assert reply.status == 400, reply.text
    error = reply.json()["error"]
    before = query.replace("\r\n", "\n")[: query.replace("\r\n", "\n").index(at)]
    line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
    assert error["message"].startswith(f"query:{line}:{column}: "), error
    assert (error["line"], error["column"]) == (line, column)


# Flat chains the engine builds as deep trees: such chains crashed a query worker (SIGSEGV, 9 s of its
# time and a replacement) though no bracket nests more than twice, in texts of 21 to 81 KB.
LONG_CHAINS = {
    "sum": "SELECT ?x WHERE { BIND(1 AS ?a) BIND(" + "+".join(["?a"] * 8000) + " AS ?x) }",
    "minus": "SELECT * WHERE { BIND(1 AS ?a) " + " ".join(["MINUS { BIND(2 AS ?a) }"] * 3000) + " }",
    "union": "SELECT * WHERE { " + " UNION ".join(["{ BIND(1 AS ?a) }"] * 3500) + " }",
    "bind": "SELECT * WHERE { " + " ".join(f"BIND({i} AS ?v{i})" for i in range(4000)) + " }",
    "optional": "SELECT * WHERE { BIND(1 AS ?a) " + " ".join(["OPTIONAL { BIND(2 AS ?b) }"] * 3000) + " }",
    "alternatives": "SELECT * WHERE { ?s " + "|".join(["<http://p>"] * 6000) + " ?o }",
}


@pytest.mark.parametrize("name", sorted(LONG_CHAINS))
def test_a_chain_the_engine_would_recurse_through_is_refused_before_it_runs(server, name: str) -> None:
    reply = server.post_form("/sparql", {"query": LONG_CHAINS[name]})
    assert reply.status == 400, (name, reply.status, reply.text[:200])
    message = reply.json()["error"]["message"]
    assert "operators and patterns in a row" in message and "the limit is 1000" in message, message
