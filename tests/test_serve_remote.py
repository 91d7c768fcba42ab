"""`kg serve --store URL` in front of a real Oxigraph server keeps the limits it keeps for the embedded
store: the time limit, the row cap, read-only, and no SERVICE (which the store behind it would follow)."""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pyoxigraph as ox
import pytest
from listener import Listener
from server_fixtures import Reply, RunningServer, free_port, start_server
from triplestores import FailingProxy, OxigraphServer

from kg.exchange.push import Target, push
from kg.query.counts import triples_per_graph
from kg.store.remote import RemoteStore, check_endpoint_url

MAX_ROWS = 7
GRAPH_READ = "Every triple of one named graph"  # the summary heading queries/internal/graph.rq
TIMEOUT = 2.0
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
# Never ends on the served graph: three unrelated patterns, a filter no row passes.
ENDLESS = (
    "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i "
    "FILTER (STRLEN(STR(?c)) + STRLEN(STR(?f)) + STRLEN(STR(?i)) < 0) }"
)


@pytest.fixture(scope="module")
def behind(built, tmp_path_factory) -> Iterator[OxigraphServer]:
    store = OxigraphServer(tmp_path_factory.mktemp("behind") / "oxigraph").start()
    assert push(built.store(), Target(store.query, store.update, store.gsp)).verified
    yield store
    store.stop()


@pytest.fixture(scope="module")
def front(behind, tmp_path_factory) -> Iterator[RunningServer]:
    logs = tmp_path_factory.mktemp("front")
    running = start_server(
        behind.query, logs, "--workers", "2", "--max-rows", str(MAX_ROWS), "--timeout", str(TIMEOUT)
    )
    yield running
    running.stop()


def canonical(body: bytes, syntax: ox.RdfFormat) -> set[ox.Quad]:
    """The quads of a dataset with its blank nodes named canonically: a store behind names them its way."""
    dataset = ox.Dataset(ox.parse(body, format=syntax))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def dump_when_written(running: RunningServer, source: str) -> Reply:
    """/data as N-Quads, asked again as each 503 says (`Retry-After`) while it is written."""
    for _ in range(120):
        reply = running.get("/data", "application/n-quads", source=source)
        if reply.status != 503:
            return reply
        assert reply.headers["retry-after"] == "10" and "being written" in reply.text
        time.sleep(0.5)  # sooner than it says: the test's dataset is small
    raise AssertionError("the dump was still being written after 120 requests")


def test_the_dataset_is_written_from_the_store_behind_once_and_whole(behind, built, tmp_path) -> None:
    """/data of a store served without its build's files is written from the store's graphs once per
    generation and sent as a file: made in memory for each request, it held about 1 GB more of the web
    process per client at a million triples, too large for the cache. Three clients asking at once and
    one after are sent the same bytes, each graph read from the store once (no answer cached here);
    the N-Quads hold what the build wrote, sorted as the build sorts them."""
    built_quads = (built.dist / "opioid-kg.nq").read_bytes()
    graphs = triples_per_graph(built.store())
    with FailingProxy(behind.query, healthy=10**6) as proxy:
        running = start_server(proxy.url("/query"), tmp_path, "--workers", "2", "--cache-mb", "0")
        try:
            asked = len(proxy.bodies)
            replies = []
            clients = [
                threading.Thread(
                    target=lambda n=n: replies.append(dump_when_written(running, f"127.0.0.{20 + n}"))
                )
                for n in range(3)
            ]
            for thread in clients:
                thread.start()
            for thread in clients:
                thread.join()
            replies.append(running.get("/data", "application/n-quads"))  # written: at once
            read = [
                body
                for body in proxy.bodies[asked:]
                if GRAPH_READ in urllib.parse.unquote_plus(body.decode())
            ]
            assert len(read) == len(graphs)
            assert [reply.status for reply in replies] == [200] * 4
            assert {reply.body for reply in replies} == {replies[0].body}
            body = replies[0].body
            assert replies[0].content_type == "application/n-quads"
            assert body.splitlines() == sorted(body.splitlines())
            assert canonical(body, ox.RdfFormat.N_QUADS) == canonical(built_quads, ox.RdfFormat.N_QUADS)
            assert len(body.splitlines()) == sum(graphs.values())
            again = running.request(
                "/data",
                headers={"Accept": "application/n-quads", "If-None-Match": replies[0].headers["etag"]},
            )
            assert again.status == 304
            for media, syntax in (
                ("application/trig", ox.RdfFormat.TRIG),
                ("application/ld+json", ox.RdfFormat.JSON_LD),
            ):
                reply = running.get("/data", media)
                assert reply.status == 200 and reply.content_type == media
                assert canonical(reply.body, syntax) == canonical(built_quads, ox.RdfFormat.N_QUADS), media
        finally:
            running.stop()


def test_a_change_to_the_store_behind_is_seen_once_it_is_read_again(built, tmp_path) -> None:
    """The server keeps answers, pictures and the search index for a generation; in front of a store
    given by URL there was one generation for the server's life, so after a push changed the store
    the same question kept its old answer (`Cache-Status: hit`) until a restart. The store is read
    again every `--store-refresh` seconds, as a new generation: a change that keeps every count (one
    label for another) is seen too, and the generation's name changes with it."""
    behind = OxigraphServer(tmp_path / "oxigraph").start()
    try:
        assert push(built.store(), Target(behind.query, behind.update, behind.gsp)).verified
        running = start_server(behind.query, tmp_path, "--workers", "1", "--store-refresh", "1")
        try:
            label = "SELECT ?l WHERE { <https://w3id.org/opioid-kg/id/country/MX> skos:prefLabel ?l }"
            asked = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> " + label
            first = running.get("/sparql", "text/csv", query=asked)
            assert first.status == 200 and first.text.split("\r\n")[1] == "Mexico", first.text
            assert running.get("/sparql", "text/csv", query=asked).headers["cache-status"].endswith("hit")
            renamed = (
                "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
                "DELETE { GRAPH ?g { ?c skos:prefLabel ?l } } "
                'INSERT { GRAPH ?g { ?c skos:prefLabel "Estados Unidos Mexicanos"@en } } WHERE { GRAPH ?g { '
                "?c skos:prefLabel ?l } FILTER(?c = <https://w3id.org/opioid-kg/id/country/MX>) }"
            )
            httpx.post(
                behind.update, content=renamed, headers={"content-type": "application/sparql-update"}
            ).raise_for_status()
            deadline = time.monotonic() + 60
            now = first
            while time.monotonic() < deadline:
                now = running.get("/sparql", "text/csv", query=asked)
                if "Estados" in now.text:
                    break
                time.sleep(0.5)
            assert now.text.split("\r\n")[1] == "Estados Unidos Mexicanos", now.text
            assert now.headers["kg-generation"] != first.headers["kg-generation"]
        finally:
            running.stop()
    finally:
        behind.stop()


def test_rows_are_capped(front) -> None:
    reply = front.get("/sparql", "application/sparql-results+json", query="SELECT * WHERE { ?s ?p ?o }")
    assert reply.status == 200, reply.text
    assert len(reply.json()["results"]["bindings"]) == MAX_ROWS  # type: ignore[index]  # a results document
    assert reply.headers["kg-truncated"] == "true"


def test_rows_past_the_cap_are_never_read_from_the_store(front) -> None:
    """The answer is read as the store sends it and the reading stops at the cap: an answer of 27 M
    rows, which the store streams, is cut at once rather than read whole past the time limit."""
    product = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"
    reply = front.get("/sparql", "application/sparql-results+json", query=product)
    assert reply.status == 200, reply.text
    assert len(reply.json()["results"]["bindings"]) == MAX_ROWS  # type: ignore[index]  # a results document
    assert reply.headers["kg-truncated"] == "true"


def test_updates_are_refused_and_the_store_behind_unchanged(front, behind, built) -> None:
    before = triples_per_graph(RemoteStore(behind.query))
    insert = "INSERT DATA { GRAPH <https://w3id.org/opioid-kg/graph/data> { <urn:x> <urn:y> 1 } }"
    for update in (insert, "CLEAR ALL", "DROP DEFAULT"):
        assert front.post_form("/sparql", {"update": update}).status == 403, update
        sent = front.request(
            "/sparql", data=update.encode(), headers={"Content-Type": "application/sparql-update"}
        )
        assert sent.status == 403
    assert triples_per_graph(RemoteStore(behind.query)) == before
    assert sum(before.values()) == len(built.store().quads())


def test_service_is_refused_before_it_reaches_the_store(front, listener: Listener) -> None:
    for text in (
        f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}",
        f"ASK {{ ?x ?y ?z OPTIONAL {{ SERVICE SILENT <{listener.url}> {{ ?s ?p ?o }} }} }}",
    ):
        assert front.get("/sparql", "application/sparql-results+json", query=text).status in (400, 403), text
    assert listener.count_after(0, settle=0.5) == 0


def test_client_queries_are_also_planned_by_oxigraph_without_network(front) -> None:
    said = front.log.read_text(errors="replace")
    assert (
        "client queries also planned by oxigraph 0.5" in said and "without network, SERVICE refused" in said
    ), said


def test_only_predicates_the_dataset_holds_reach_the_store(front) -> None:
    """A store may run code under a predicate's IRI (Jena's property functions); the server asks the store
    behind which predicates the dataset holds or declares, and refuses a client's query naming another."""
    split = "http://jena.apache.org/ARQ/property#splitIRI"
    text = f"SELECT * WHERE {{ <http://example.org/ns#local> <{split}> (?namespace ?local) }}"
    reply = front.get("/sparql", "application/sparql-results+json", query=text)
    assert reply.status == 400 and f"the predicate <{split}> is not one this dataset holds" in reply.text
    held = "SELECT ?o WHERE { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> ?o } LIMIT 1"
    assert front.get("/sparql", "application/sparql-results+json", query=held).status == 200


def test_a_query_past_the_time_limit_is_stopped(front) -> None:
    reply = front.get("/sparql", "application/sparql-results+json", query=ENDLESS)
    assert reply.status == 504, reply.text
    assert front.get("/sparql", "text/csv", query=COUNT).status == 200  # and the server answers on


def test_a_query_naming_its_dataset_reads_those_graphs(front, built) -> None:
    """The store behind is asked with the dataset's graphs as the protocol's named-graph-uri; a query
    naming its own dataset (FROM, or the request's default-graph-uri, which the server writes as FROM)
    then read an empty default graph: the protocol's graphs replace the query's, and none was default."""
    data = "https://w3id.org/opioid-kg/graph/data"
    expected = triples_per_graph(built.store())[data]
    count = "SELECT (COUNT(*) AS ?n) {from} WHERE {{ ?s ?p ?o }}"
    named = "SELECT (COUNT(*) AS ?n) FROM NAMED <{data}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    for text, params in (
        (count.format(**{"from": f"FROM <{data}>"}), {}),
        (count.format(**{"from": ""}), {"default-graph-uri": data}),
        (named.format(data=data), {}),
    ):
        reply = front.get("/sparql", "application/sparql-results+json", query=text, **params)
        assert reply.status == 200, reply.text
        rows = reply.json()["results"]["bindings"]  # type: ignore[index]  # a results document
        assert int(rows[0]["n"]["value"]) == expected, (text, params)


def test_a_query_reads_no_graph_of_the_store_outside_the_dataset(front, behind) -> None:
    """The store behind may hold other graphs. A query naming its dataset reads the graphs the guard
    read, whatever the store makes of its text: rdflib and Oxigraph resolve `FROM <private//../data>`
    against a BASE differently (rdflib drops the empty segment first), and a store may let `GRAPH ?g`
    reach every graph of a query with FROM and no FROM NAMED (Virtuoso does)."""
    private = "https://w3id.org/opioid-kg/graph/private/data"
    secret = f'INSERT DATA {{ GRAPH <{private}> {{ <urn:s> <urn:p> "SECRET" }} }}'
    httpx.post(behind.update, data={"update": secret}, timeout=30).raise_for_status()
    try:
        leaked = _replies_with_private_data(front)
    finally:  # the store behind is shared by this module's tests
        httpx.post(behind.update, data={"update": f"DROP GRAPH <{private}>"}, timeout=30).raise_for_status()
    assert leaked == []


def _replies_with_private_data(front) -> list[tuple[str, str]]:
    """Each query that reads outside the dataset, with the server's reply."""
    base = "BASE <https://w3id.org/opioid-kg/graph/>\n"
    texts = (
        f"{base}SELECT ?o FROM <private//../data> WHERE {{ ?s ?p ?o }}",
        f"{base}SELECT ?g ?o FROM NAMED <private//../data> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"{base}SELECT ?o FROM <data?> WHERE {{ ?s ?p ?o }}",
        "SELECT ?g ?o FROM <https://w3id.org/opioid-kg/graph/data> WHERE { GRAPH ?g { ?s ?p ?o } }",
    )
    replies = [
        (text, front.get("/sparql", "application/sparql-results+json", query=text).text) for text in texts
    ]
    return [(text, reply) for text, reply in replies if "SECRET" in reply or "graph/private/data" in reply]


class _Refusing(BaseHTTPRequestHandler):
    """A store that refuses every query with a reply of its own."""

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = b"SECRET-REPLY: the store's own words"
        self.send_response(400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


def test_a_store_s_refusal_reaches_the_client_without_its_reply_or_address() -> None:
    """What a client is told never carries the store's reply, its address or the password in it. A
    query of the server's own (a page's) that the store refuses is the store's failure, 502."""
    from kg.server.messages import Failure, Query
    from kg.server.worker import answer

    refusing = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=refusing.serve_forever, daemon=True).start()
    port = refusing.server_address[1]
    try:
        for url, status in (
            (f"http://user:s3cret@127.0.0.1:{port}/query", 502),
            (f"http://user:s3cret@127.0.0.1:{free_port()}/q", 502),
        ):
            failed = answer(RemoteStore(url), Query("SELECT * WHERE { ?s ?p ?o }"))
            assert isinstance(failed, Failure) and failed.status == status, failed
            for secret in ("SECRET", "s3cret", "127.0.0.1", "Errno", "user"):
                assert secret not in failed.message, failed.message
    finally:
        refusing.shutdown()
        refusing.server_close()


def test_a_store_s_password_is_never_shown(behind, tmp_path) -> None:
    """Not in the messages of the store's failures (which `kg query --store` and the log show), nor in
    the line `kg serve` starts with."""
    from kg.store.remote import RemoteError

    running = start_server(behind.query.replace("http://", "http://user:s3cret@"), tmp_path, "--workers", "1")
    try:
        said = running.log.read_text(errors="replace")
        assert "serving http://user:***@127.0.0.1" in said and "s3cret" not in said, said
    finally:
        running.stop()

    closed = f"http://user:s3cret@127.0.0.1:{free_port()}/query"
    with pytest.raises(RemoteError) as failure:
        RemoteStore(closed).query("ASK {}")
    assert "s3cret" not in str(failure.value) and "user:***@127.0.0.1" in str(failure.value)


RESULTS = b'{"head":{"vars":["graph","triples"]},"results":{"bindings":[' + b",".join(
    b'{"graph":{"type":"uri","value":"urn:g%d"},"triples":{"type":"literal","value":"1"}}' % number
    for number in range(2000)
)


class _Answering(BaseHTTPRequestHandler):
    """A store whose answer is `body`, cut after `sent` bytes where the header promised them all."""

    protocol_version = "HTTP/1.1"
    body = RESULTS + b"]}}"
    sent = len(body)
    media_type = "application/sparql-results+json"

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", self.media_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body[: self.sent])
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


GARBLED = b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"uri","value":"SECRET-REPLY bad"}}]}}'
# One value past the 16 MB pyoxigraph's reader holds at once: a traceback of `kg query --store`, and a
# 503 of the front server saying its worker ran out of memory, kept in its cache.
HUGE = b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"literal","value":"' + b"a" * (17 << 20)
HUGE += b'"}}]}}'


@pytest.mark.parametrize(
    ("body", "sent"),
    [(RESULTS + b"]}}", len(RESULTS) // 2), (GARBLED, len(GARBLED)), (HUGE, len(HUGE))],
    ids=["broken off", "garbled", "a value past 16 MB"],
)
def test_an_answer_broken_off_or_garbled_is_the_store_s_failure(body: bytes, sent: int) -> None:
    """Never the query's syntax error, nor a traceback of `kg query --store` or `kg push`, nor the
    store's words to a client."""
    from kg.server.messages import Failure, Query
    from kg.server.worker import answer
    from kg.store.remote import RemoteError

    handler = type("Handler", (_Answering,), {"body": body, "sent": sent})
    store = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=store.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{store.server_address[1]}/query"
    try:
        with pytest.raises(RemoteError):
            list(RemoteStore(url).query("SELECT * WHERE { ?s ?p ?o }"))  # type: ignore[arg-type]  # a SELECT
        failed = answer(RemoteStore(url), Query("SELECT * WHERE { ?s ?p ?o }"))
        assert isinstance(failed, Failure) and failed.status == 502, failed
        assert "SECRET" not in failed.message and "syntax" not in failed.message, failed.message
    finally:
        store.shutdown()
        store.server_close()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://alice:s3cret@host/q", "http://alice:***@host/q"),
        ("http://alice:p@ss@host:1/q", "http://alice:***@host:1/q"),
        ("http://alice:top secret@host/q", "http://alice:***@host/q"),
        ("https://TOKEN@host/q", "https://***@host/q"),
        (
            "see http://a:b@[::1]:80/q?x=http://c:d@e/ now",
            "see http://a:***@[::1]:80/q?x=http://c:***@e/ now",
        ),
        ("http://host/q?user=a@b", "http://host/q?user=a@b"),
        ("ftp:/alice:s3cret@host/q", "ftp:/alice:***@host/q"),  # a URL read as a path loses a slash
        ("alice:s3cret@host:1/q", "alice:***@host:1/q"),
        ("http://host/q?api_key=s3cret&x=1", "http://host/q?api_key=***&x=1"),
        ("https://host/q?a=1&Access_Token=s3cret#f", "https://host/q?a=1&Access_Token=***#f"),
        ("http://host/q?pass=s3cret&pw=s3cret", "http://host/q?pass=***&pw=***"),  # short names too
        ("http://host/q#token=s3cret", "http://host/q#token=***"),  # in a fragment
        ("http://host/q?%74oken=s3cret", "http://host/q?%74oken=***"),  # a name with escapes, decoded
        ("http://host/q?jwt=s3cret&bearer=s3cret", "http://host/q?jwt=***&bearer=***"),
        ("http://host/q?query=ASK&format=json", "http://host/q?query=ASK&format=json"),
    ],
)
def test_every_form_of_a_password_in_a_url_is_hidden(url: str, shown: str) -> None:
    """Where the message's URL is known, as the store's own is, its user part is read exactly;
    elsewhere as far as the first white space, so that a message's words are never taken for it."""
    from kg.store.base import shown_url

    assert shown_url(f"{url} cannot be reached", url) == f"{shown} cannot be reached"
    if " " not in url:
        assert shown_url(f"{url} cannot be reached") == f"{shown} cannot be reached"
    said = 'http://127.0.0.1:1 rejected the query near "x"@en; then http://v:s3cret@k/u'
    assert shown_url(said) == 'http://127.0.0.1:1 rejected the query near "x"@en; then http://v:***@k/u'


@pytest.mark.parametrize(
    ("store", "said"),
    [
        ("HTTP://user:s3cret@127.0.0.1:{port}/q", "cannot be reached"),  # a scheme in capitals
        ("http://user:s3/cret@127.0.0.1:{port}/q", "is not one a request can go to"),  # a slash in it
    ],
)
def test_kg_query_on_a_store_it_cannot_reach_says_so_in_one_line(store: str, said: str) -> None:
    from click.testing import CliRunner

    from kg.cli import main

    url = store.format(port=free_port())
    result = CliRunner().invoke(main, ["query", "--store", url, "-e", "ASK {}"])
    assert result.exit_code == 1 and said in result.stderr and "Traceback" not in result.output, result.output
    assert "s3" not in result.output, result.output


@pytest.mark.parametrize(
    "store",
    [
        "ftp://alice:S3cretPW@127.0.0.1:{port}/query",
        "https:/alice:S3cretPW@127.0.0.1:{port}/query",
        "alice:S3cretPW@127.0.0.1:{port}/query",
    ],
)
def test_a_store_written_like_a_url_of_another_kind_is_refused_unshown(store: str) -> None:
    """Taken for a folder, such a store was said missing with its password (`no built store at
    ftp:/alice:S3cretPW@…`); it is refused as wrong input, its user part hidden."""
    from click.testing import CliRunner

    from kg.cli import main

    result = CliRunner().invoke(main, ["query", "--store", store.format(port=free_port()), "-e", "ASK {}"])
    assert result.exit_code == 2 and "cannot be used" in result.stderr, result.output
    assert "S3cretPW" not in result.output and "alice:***@" in result.stderr, result.output


@pytest.mark.parametrize(
    ("endpoint", "update"),
    [
        ("alice:S3cretPW@127.0.0.1:{port}/query", "http://127.0.0.1:{port}/update"),
        ("http://127.0.0.1:{port}/query?api_key=S3cretPW", "http://127.0.0.1:{port}/update?token=S3cretPW"),
    ],
)
def test_a_push_never_prints_a_password_or_key_of_its_endpoints(built, endpoint: str, update: str) -> None:
    from click.testing import CliRunner

    from kg.cli import main

    port = free_port()
    arguments = ["push", "--store", str(built.store_path), "--retries", "0"]
    arguments += ["--endpoint", endpoint.format(port=port), "--update", update.format(port=port)]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code != 0 and result.stderr.startswith("error: "), result.output
    assert "S3cretPW" not in result.output, result.output


def test_a_query_never_prints_a_key_in_its_store_s_query_string() -> None:
    from click.testing import CliRunner

    from kg.cli import main

    store = f"http://127.0.0.1:{free_port()}/query?api_key=S3cretKEY"
    result = CliRunner().invoke(main, ["query", "--store", store, "-e", "ASK {}"])
    assert result.exit_code == 1 and "api_key=***" in result.stderr, result.output
    assert "S3cretKEY" not in result.output, result.output


def test_a_command_that_needs_a_folder_hides_the_password_of_the_endpoint_it_was_given() -> None:
    from click.testing import CliRunner

    from kg.cli import main

    result = CliRunner().invoke(main, ["validate", "--store", "http://user:s3cret@host/q"])
    assert "s3cret" not in result.output and "user:***@host" in result.output, result.output


def test_a_count_that_is_no_number_is_the_store_s_failure() -> None:
    from kg.query.counts import triples_per_graph
    from kg.store.base import StoreFailed

    counts = b'{"head":{"vars":["graph","triples"]},"results":{"bindings":[{"graph":{"type":"uri",'
    counts += b'"value":"urn:g"},"triples":{"type":"literal","value":"abc"}}]}}'
    handler = type("Handler", (_Answering,), {"body": counts, "sent": len(counts)})
    store = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=store.serve_forever, daemon=True).start()
    try:
        with pytest.raises(StoreFailed, match="a count of"):
            triples_per_graph(RemoteStore(f"http://127.0.0.1:{store.server_address[1]}/query"))
    finally:
        store.shutdown()
        store.server_close()


def test_a_store_that_did_not_answer_is_asked_again_in_a_few_seconds() -> None:
    """A page the server makes once for every visitor is not kept refused for minutes."""
    from kg.server.messages import Failure
    from kg.server.workers import STORE_RETRY, ServiceError

    assert (
        ServiceError.of(Failure(502, "the store behind this server did not answer")).retry_after
        == STORE_RETRY
    )


BOOLEAN = b'{"head":{},"boolean":true}'
ROWS = b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"uri","value":"urn:s"}}]}}'


@pytest.mark.parametrize(
    ("query", "body"),
    [("SELECT ?s WHERE { ?s ?p ?o }", BOOLEAN), ("ASK { ?s ?p ?o }", ROWS)],
    ids=["a yes or no to a SELECT", "rows to an ASK"],
)
def test_an_answer_of_another_kind_than_the_query_is_the_store_s_failure(query: str, body: bytes) -> None:
    """A page reading rows from a yes or no failed as the server's own fault (500); it is the store's."""
    from kg.server.messages import Failure, Query
    from kg.server.worker import answer
    from kg.store.remote import RemoteError

    handler = type("Handler", (_Answering,), {"body": body, "sent": len(body)})
    store = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=store.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{store.server_address[1]}/query"
    try:
        with pytest.raises(RemoteError, match="sent .* to an? (SELECT|ASK)"):
            RemoteStore(url).query(query)
        failed = answer(RemoteStore(url), Query(query))
        assert isinstance(failed, Failure) and failed.status == 502, failed
    finally:
        store.shutdown()
        store.server_close()


@pytest.mark.parametrize("password", ["p/w", "pa#ss", "pa?ss"])
def test_a_store_url_no_request_can_go_to_is_refused_at_start_unshown(password: str) -> None:
    """`kg serve` printed `serving http://user:p/w@…` (the password in plain: the URL's authority
    ends at the `/` for every reader of it) and then answered 502 to everything."""
    import subprocess
    import sys
    from pathlib import Path

    kg = Path(sys.executable).parent / "kg"
    url = f"http://user:{password}@127.0.0.1:1/query"
    done = subprocess.run(
        [str(kg), "serve", "--store", url, "--port", "0"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert password not in done.stderr + done.stdout and "serving" not in done.stderr
    assert "is not one a request can go to" in done.stderr and done.stderr.count("\n") == 1, done.stderr


@pytest.mark.parametrize(
    "url",
    [
        "http:///query",
        "http://:8080/query",
        "http://127.0.0.1:99999/query",
        "http://127.0.0.1:0/query",
        "http://a b/query",
        "http://a%20b:8080/query",
        "http://a|b/query",
        'http://a"b/query',
        "http://a..b/query",
        "http://-a/query",
        "http://a-.org/query",
        f"http://{'a' * 64}.org/query",
        f"http://{('a' * 60 + '.') * 5}org/query",
        f"http://{('a' * 62 + '.') * 4}bb/query",
    ],
)
def test_a_store_url_without_a_host_or_with_no_port_is_refused_at_start(url: str) -> None:
    """A URL without a host, or with a port past 65535, started the server, which then answered 502 to
    every request; `kg push` sent with it and failed half-way ("Request URL is missing an 'http://'
    or 'https://' protocol"). A host no name server holds (a space, `|`, a quote, an empty label, a
    label that starts or ends with `-` or is longer than 63, a name longer than 253) was taken and
    failed only when reached. Both refuse each before anything, as wrong input (exit 2)."""
    import subprocess
    import sys
    from pathlib import Path

    kg = Path(sys.executable).parent / "kg"
    done = subprocess.run(
        [str(kg), "serve", "--store", url, "--port", "0"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "serving" not in done.stderr, done.stderr
    assert "is not one a request can go to" in done.stderr and done.stderr.count("\n") == 1, done.stderr
    pushed = subprocess.run(
        [str(kg), "push", "--endpoint", url, "--update", url.replace("query", "update")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert pushed.returncode == 2 and "the --endpoint URL is not one a request can go to" in pushed.stderr, (
        pushed.stderr
    )
    assert pushed.stderr.count("\n") == 1, pushed.stderr


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:7878/query",
        "http://127.0.0.1/query",
        "http://[::1]:7878/query",
        "https://example.org./sparql",
        "http://store_1.lan/sparql",
        "http://bücher.example/sparql",
        f"http://{'a' * 63}.org/query",
        f"http://{('a' * 62 + '.') * 4}b/query",
        f"http://{('a' * 62 + '.') * 4}b./query",
    ],
)
def test_a_store_url_with_a_host_a_name_server_may_hold_is_taken(url: str) -> None:
    """What the check above refuses stops short of a host a request can go to: a name, an IPv4 or
    IPv6 address, a name ending in a dot, one with `_`, one beyond ASCII, a label of 63 characters, a
    name of 253 (and its trailing dot)."""
    check_endpoint_url(url)


# Virtuoso's answers with a blank node, as it writes them in each format: the head, a row whose IRI and
# literal spell `nodeID://` as values, a row of two blank nodes, and the end.
VIRTUOSO_ANSWERS = {
    "application/sparql-results+json": (
        b'{"head":{"vars":["s","o"]},"results":{"bindings":[',
        b'{"s":{"type":"uri","value":"nodeID://kept"},"o":{"type":"literal","value":"nodeID://kept"}},',
        b'{"s":{"type": "bnode", "value": "nodeID://b10000"},"o":{"type":"bnode","value":"nodeID://b2"}}',
        b"]}}",
    ),
    # found unread: "Invalid blank node value 'nodeID://b10000'"
    "application/sparql-results+xml": (
        b'<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head><variable name="s"/>'
        b'<variable name="o"/></head><results>',
        b'<result><binding name="s"><uri>nodeID://kept</uri></binding>'
        b'<binding name="o"><literal>nodeID://kept</literal></binding></result>',
        b'<result><binding name="s"><bnode>nodeID://b10000</bnode></binding>'
        b'<binding name="o"><bnode >nodeID://b2</bnode></binding></result>',
        b"</results></sparql>",
    ),
}


@pytest.mark.parametrize("media_type", VIRTUOSO_ANSWERS)
@pytest.mark.parametrize("offset", range(0, 100, 7))
def test_virtuoso_s_blank_nodes_are_read_wherever_the_answer_is_cut_in_pieces(
    offset: int, media_type: str
) -> None:
    """A blank node written `nodeID://…` is read as a label, in either results format, even where it
    straddles two of the pieces the answer is read in (64 KiB); an IRI and a literal with the same
    letters stay as sent."""
    head, row, blank, end = VIRTUOSO_ANSWERS[media_type]
    rows = row * ((65536 - len(head)) // len(row) - 1)
    padding = b" " * (65536 - len(head) - len(rows) - offset)
    body = head + rows + padding + blank + end
    handler = type("Handler", (_Answering,), {"body": body, "sent": len(body), "media_type": media_type})
    store = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=store.serve_forever, daemon=True).start()
    try:
        answer = list(
            RemoteStore(f"http://127.0.0.1:{store.server_address[1]}/query").query("SELECT ?s ?o {}")
        )
    finally:
        store.shutdown()
        store.server_close()
    assert [(row["s"], row["o"]) for row in answer[-1:]] == [(ox.BlankNode("b10000"), ox.BlankNode("b2"))]
    assert {(row["s"], row["o"]) for row in answer[:-1]} == {
        (ox.NamedNode("nodeID://kept"), ox.Literal("nodeID://kept"))
    }
