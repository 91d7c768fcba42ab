"""A store that answers slowly, without end, or in the wrong shape, behind `kg query --store`, `kg push`
and `kg serve --store`: each is stopped within its time limit and reads no more than it needs, and
what the store did is its failure (one line, or a 502), never a traceback or the server's 500."""

from __future__ import annotations

import itertools
import os
import re
import select
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from certificate import self_signed
from server_fixtures import _SERVING, KG, PROJECT, RunningServer

from kg.exchange.push import PushError, Target, push
from kg.exchange.pusher import Pusher
from kg.query.counts import triples_per_graph
from kg.query.run import collect
from kg.store.base import StoreFailed
from kg.store.remote import RemoteError, RemoteStore, tls_context
from kg.store.sparql import projection

ROWS = b'{"head":{"vars":["s"]},"results":{"bindings":['
ROW = b'{"s":{"type":"uri","value":"urn:s"}},'
TRIPLE = b"<urn:s> <urn:p> <urn:o> .\n"


def _counts(graph: bytes, triples: bytes) -> bytes:
    """An answer to the count of triples per graph, with what the store put in its one row."""
    return b'{"head":{"vars":["graph","triples"]},"results":{"bindings":[{' + graph + triples + b"}]}}"


class _Hostile(BaseHTTPRequestHandler):
    """A store that answers every request with `status`, `media_type` and the chunks `body` yields,
    one every `pause` seconds, in chunked encoding (so that it may never end)."""

    protocol_version = "HTTP/1.1"
    status = 200
    media_type = "application/sparql-results+json"
    pause = 0.0
    body: Callable[[], Iterator[bytes]] = staticmethod(lambda: iter([ROWS + b"]}}"]))

    def _any(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(self.status)
        self.send_header("Content-Type", self.media_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for chunk in self.body():
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                time.sleep(self.pause)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the reader left: what it did not read is never sent
            pass
        self.close_connection = True

    do_GET = do_POST = do_PUT = _any  # noqa: N815 - the http.server API

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


class Store:
    """A hostile store on a port of its own, for one test."""

    def __init__(
        self, kind: type[_Hostile] = _Hostile, tls: ssl.SSLContext | None = None, **behaviour: object
    ) -> None:
        """With `tls`, the store answers HTTPS with that context's certificate."""
        if "body" in behaviour:
            behaviour["body"] = staticmethod(behaviour["body"])  # type: ignore[arg-type]  # a callable
        handler = type("Handler", (kind,), behaviour)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class Raised:
    """What a failure was, read in the thread that raised it: its frames may hold Oxigraph's answers,
    which may be dropped in that thread only."""

    kind: type[BaseException]
    text: str
    status: int | None


def finished(work: Callable[[], object], seconds: float = 60) -> object:
    """What `work` returned, or a `Raised`, once it ended; fails if it is still running after `seconds`
    (it would never end: the bound is what is tested, not how fast)."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as error:  # noqa: BLE001 - handed to the test, which says what it expects
            outcome.append(Raised(type(error), str(error), getattr(error, "status", None)))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still running after {seconds} s"
    return outcome[0]


def failure(outcome: object, kind: type[BaseException]) -> Raised:
    """`outcome` as a failure of `kind`; else the test fails, showing what it was."""
    assert isinstance(outcome, Raised) and issubclass(outcome.kind, kind), outcome
    return outcome


def endless(chunk: bytes, first: bytes = b"") -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        if first:  # an empty chunk would end the answer
            yield first
        while True:
            yield chunk

    return chunks


def test_an_answer_trickled_a_byte_at_a_time_is_stopped_at_the_time_limit() -> None:
    """Each byte comes well within the time a read may wait: the whole answer's limit stops it."""
    with Store(pause=0.2, body=endless(b" ", ROWS)) as store:
        failed = finished(
            lambda: list(RemoteStore(store.url, timeout=1.0).query("SELECT ?s WHERE { ?s ?p ?o }"))
        )
    stopped = failure(failed, RemoteError)
    assert "did not answer within 1 s" in stopped.text and stopped.status == 504, stopped


def test_kg_query_waits_for_a_store_as_long_as_its_store_timeout() -> None:
    """`kg query --store URL` waited 60 s for an endpoint, whatever its user needed."""
    with Store(pause=0.2, body=endless(b" ", ROWS)) as store:
        query = [
            "query",
            "--store",
            store.url,
            "--store-timeout",
            "1.5",
            "-e",
            "SELECT ?s WHERE { ?s ?p ?o }",
        ]
        ran = subprocess.run(
            [str(KG), "--project", str(PROJECT), *query], capture_output=True, text=True, timeout=60
        )
    assert ran.returncode == 1 and "did not answer within 1.5 s" in ran.stderr, ran.stderr


class _RefusingUpdates(_Hostile):
    """A store that holds nothing (every query's answer has its variables and no row) and answers every
    update as its `status`, `body` and `pause` say."""

    def _any(self) -> None:
        if not self.path.startswith("/update"):
            form = urllib.parse.parse_qs(self.rfile.read(int(self.headers.get("content-length", 0))).decode())
            names = projection(form["query"][0])
            empty = b""  # a graph's answer, in N-Triples
            if names is not None:
                listed = ",".join(f'"{name}"' for name in names)
                empty = f'{{"head":{{"vars":[{listed}]}},"results":{{"bindings":[]}}}}'.encode()
            self.send_response(200)
            self.send_header(
                "Content-Type",
                "application/n-triples" if names is None else "application/sparql-results+json",
            )
            self.send_header("Content-Length", str(len(empty)))
            self.end_headers()
            self.wfile.write(empty)
            return
        super()._any()

    do_GET = do_POST = do_PUT = _any  # noqa: N815 - the http.server API


def test_a_push_to_a_store_that_trickles_its_answers_stops_at_its_time_limit(built) -> None:
    """Queries answered at once, each update acknowledged a byte at a time: the push stops at its limit."""
    with Store(_RefusingUpdates, pause=0.2, body=endless(b" ")) as store:
        target = Target(store.url + "/query", store.url + "/update", timeout=1.0, retries=0)
        failed = finished(lambda: push(built.store(), target))
    said = failure(failed, PushError).text
    assert "no answer from" in said and "the whole answer took longer than allowed" in said, said


def test_a_refusal_without_end_is_read_no_further_than_its_first_words(built) -> None:
    """`kg push` read a refusal's whole body: one that never ends held gigabytes within a minute."""
    refusing = {"status": 400, "media_type": "text/plain", "body": endless(b"no " * 1000)}
    with Store(_RefusingUpdates, **refusing) as store:
        target = Target(store.url + "/query", store.url + "/update", timeout=30.0, retries=0)
        failed = finished(lambda: push(built.store(), target))
    said = failure(failed, PushError).text
    assert "answered 400" in said and "no no no" in said, said
    refusals = re.findall(r"(?:no )+", said)  # the update's, and the probe's once for all its literals
    assert len(refusals) == 2 and max(len(words) for words in refusals) <= 300, said


def test_a_refusal_s_escape_sequences_never_reach_the_terminal() -> None:
    """A store's 400 was shown as it sent it, squeezed into one line: a terminal-title escape sequence,
    a colour and U+202E acted on the terminal that showed `kg query --store`'s error."""
    said = b"Bad query \x1b]0;PWNED\x07\x1b[31mRED \xe2\x80\xaeevil"
    with Store(status=400, media_type="text/plain", body=lambda: iter([said])) as store:
        failed = finished(lambda: RemoteStore(store.url + "/sparql").query("ASK {}"))
    text = failure(failed, StoreFailed).text
    assert "Bad query" in text and "evil" in text, text
    assert all(character.isprintable() for character in text), repr(text)


class _TrickledHeaders(_Hostile):
    """A store whose status line comes at once and its headers a byte every `pause` seconds, `padding`
    bytes of them (200 s of them, by default), before the whole of its `body`: each byte well within
    a read's wait."""

    padding = 1000

    def _any(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = b"".join(self.body())
        head = b"HTTP/1.1 %d OK\r\nContent-Type: %s\r\nContent-Length: %d\r\nX-Padding: " % (
            self.status,
            self.media_type.encode(),
            len(body),
        )
        try:
            self.wfile.write(head)
            for _ in range(self.padding):
                self.wfile.write(b".")
                self.wfile.flush()
                time.sleep(self.pause)
            self.wfile.write(b"\r\n\r\n" + body)
        except OSError:  # the reader left
            pass
        self.close_connection = True

    do_GET = do_POST = do_PUT = _any  # noqa: N815 - the http.server API


class _RefusingUpdatesSlowly(_RefusingUpdates, _TrickledHeaders):
    """Queries answered at once, each update's headers trickled."""


class _EndlessContinue(_Hostile):
    """A store that answers `100 Continue` every `pause` seconds, never a final status."""

    def _any(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            while True:
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                self.wfile.flush()
                time.sleep(self.pause)
        except OSError:  # the reader left
            self.close_connection = True

    do_GET = do_POST = do_PUT = _any  # noqa: N815 - the http.server API


@pytest.mark.parametrize(
    "hostile", [_TrickledHeaders, _EndlessContinue], ids=["headers trickled", "100 Continue without end"]
)
def test_an_answer_that_never_ends_its_headers_is_stopped_at_the_time_limit(hostile: type[_Hostile]) -> None:
    """The limit is the whole answer's from its first byte, headers too: httpx bounds each read only,
    so headers trickled a byte at a time, or interim `100 Continue`s without end, held the reader."""
    with Store(hostile, pause=0.2) as store:
        failed = finished(
            lambda: list(RemoteStore(store.url, timeout=1.0).query("SELECT ?s WHERE { ?s ?p ?o }"))
        )
    stopped = failure(failed, RemoteError)
    assert "did not answer within 1 s" in stopped.text and stopped.status == 504, stopped


def test_headers_trickled_over_tls_are_stopped_at_the_time_limit(tmp_path: Path) -> None:
    """Under TLS the plain socket is shut beneath the TLS object the reading thread holds."""
    served, certificate = self_signed(tmp_path)

    def query() -> object:  # in a thread of its own, whose TLS context (its own) trusts the certificate
        tls_context().load_verify_locations(certificate)
        return list(RemoteStore(store.url, timeout=1.0).query("SELECT ?s WHERE { ?s ?p ?o }"))

    with Store(_TrickledHeaders, tls=served, pause=0.2) as store:
        failed = finished(query)
    stopped = failure(failed, RemoteError)
    assert "did not answer within 1 s" in stopped.text and stopped.status == 504, stopped


class _Tunnel(BaseHTTPRequestHandler):
    """An HTTP proxy that tunnels each CONNECT to the port it names on 127.0.0.1, as HTTPS_PROXY does."""

    def do_CONNECT(self) -> None:  # noqa: N802 - the http.server API
        upstream = socket.create_connection(("127.0.0.1", int(self.path.rsplit(":", 1)[1])))
        self.send_response(200, "Connection established")
        self.end_headers()
        ends = [self.connection, upstream]
        with upstream:
            while True:
                readable, _, _ = select.select(ends, [], [], 60)
                data = readable[0].recv(1 << 16) if readable else b""
                if not data:
                    return
                ends[readable[0] is self.connection].sendall(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


def test_headers_trickled_through_a_proxy_tunnel_are_stopped_at_the_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through an HTTPS_PROXY the TLS connection is made by the proxy's code (httpcore's "proxy."
    events), which the time limit did not hear of: it shut the plain socket TLS had taken over."""
    served, certificate = self_signed(tmp_path)
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _Tunnel)
    proxy.daemon_threads = True
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")

    def query() -> object:
        tls_context().load_verify_locations(certificate)
        return list(RemoteStore(store.url, timeout=1.0).query("SELECT ?s WHERE { ?s ?p ?o }"))

    try:
        with Store(_TrickledHeaders, tls=served, pause=0.2) as store:
            failed = finished(query)
    finally:
        proxy.shutdown()
        proxy.server_close()
    stopped = failure(failed, RemoteError)
    assert "did not answer within 1 s" in stopped.text and stopped.status == 504, stopped


class _KeptThenTrickled(_TrickledHeaders):
    """Keeps each connection alive and answers at once, until its `trickle_from`-th request (counted by
    `seen`, across connections): from then on, each answer's headers come a byte at a time."""

    trickle_from = 2
    seen: Iterator[int] = itertools.count(1)

    def _any(self) -> None:
        if next(self.seen) >= self.trickle_from:
            super()._any()
            return
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = _any  # noqa: N815 - the http.server API


def test_each_request_of_a_push_to_two_stores_is_held_to_its_own_time_limit() -> None:
    """Update and Graph Store endpoints on two origins: the second update, on the connection kept from
    the first, was never bounded, and its time limit shut the other origin's connection instead."""
    with (
        Store(_KeptThenTrickled, pause=0.2, seen=itertools.count(1)) as updates,
        Store(_KeptThenTrickled, seen=itertools.count(1), trickle_from=10**9) as graphs,
    ):
        target = Target(updates.url + "/q", updates.url + "/u", gsp=graphs.url + "/g", timeout=1.0, retries=0)
        pusher = Pusher(target)

        def push_three() -> None:
            pusher.update("INSERT DATA {}")
            pusher.send("PUT", graphs.url + "/g", content=b"", retry=False)
            pusher.update("INSERT DATA {}", retry=False)

        failed = finished(push_three)
    said = failure(failed, PushError).text
    assert "no answer from" in said and "the whole answer took longer than allowed" in said, said


def test_a_push_to_a_store_that_trickles_its_headers_stops_at_its_time_limit(built) -> None:
    with Store(_RefusingUpdatesSlowly, pause=0.2, body=lambda: iter([b"done"])) as store:
        target = Target(store.url + "/query", store.url + "/update", timeout=1.0, retries=0)
        failed = finished(lambda: push(built.store(), target))
    said = failure(failed, PushError).text
    assert "no answer from" in said and "the whole answer took longer than allowed" in said, said


def test_a_graph_answer_is_read_as_far_as_the_row_cap() -> None:
    """A CONSTRUCT's answer was read whole before its first triple was counted: one without end, never."""
    with Store(media_type="application/n-triples", body=endless(TRIPLE * 100)) as store:
        read = finished(lambda: collect(RemoteStore(store.url).query("CONSTRUCT WHERE { ?s ?p ?o }"), 5))
    assert not isinstance(read, Exception), read
    assert len(read.triples) == 5 and read.truncated  # type: ignore[attr-defined]  # a QueryResult


@pytest.mark.parametrize("media_type", ["application/rdf+xml", "text/html", "application/ld+json"])
def test_a_graph_answer_in_another_format_is_refused_unread(media_type: str) -> None:
    """RDF/XML's entities expand without bound (a kilobyte of them, gigabytes): graphs are asked for, and
    read, in N-Triples or Turtle only."""
    laughs = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">]><r>&a;</r>'
    with Store(media_type=media_type, body=lambda: iter([laughs])) as store:
        failed = finished(lambda: RemoteStore(store.url).query("CONSTRUCT WHERE { ?s ?p ?o }"))
    said = failure(failed, RemoteError).text
    assert f"sent a graph as {media_type}" in said, said


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (
            _counts(
                b'"graph":{"type":"uri","value":"urn:g"},', b'"triples":{"type":"literal","value":"\xc2\xb2"}'
            ),
            "count",
        ),
        (_counts(b"", b'"triples":{"type":"literal","value":"1"}'), "count"),
        (
            b'{"head":{"vars":["s"]},"results":{"bindings":[]}}',
            "the variables (s) to a query for (graph triples)",
        ),
    ],
    ids=["a digit that is no digit", "a row without its graph", "other variables"],
)
def test_a_count_the_store_sent_in_the_wrong_shape_is_its_failure(answer: bytes, said: str) -> None:
    """A count of "²" (a digit to `str.isdigit`, not to `int`) or a row without its graph was a
    traceback of `kg push` after it had written; an answer of other variables than asked, a page's 500."""
    with Store(body=lambda: iter([answer])) as store:
        failed = finished(lambda: triples_per_graph(RemoteStore(store.url)))
    text = failure(failed, StoreFailed).text
    assert said in text, text


def _serving(store: str, logs: Path) -> RunningServer:
    """`kg serve --store` in front of `store`, once it listens (its own pages may fail)."""
    handle, name = tempfile.mkstemp(prefix="serve-", suffix=".log", dir=logs)
    with os.fdopen(handle, "wb") as output:
        process = subprocess.Popen(
            [str(KG), "--project", str(PROJECT), "serve", "--store", store, "--port", "0"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if found := _SERVING.search(Path(name).read_text(errors="replace")):
            return RunningServer(found.group(1), process, Path(name))
        time.sleep(0.1)
    process.kill()
    raise AssertionError(Path(name).read_text(errors="replace"))


def test_pages_in_front_of_a_store_whose_counts_cannot_be_read_are_its_failure(tmp_path: Path) -> None:
    """Every SELECT answered with a count of "abc": the SPARQL endpoint, the front page and the network
    were 500s, the server's own fault; they are the store's, 502."""
    count = _counts(b'"graph":{"type":"uri","value":"urn:g"},', b'"triples":{"type":"literal","value":"abc"}')
    with Store(body=lambda: iter([count])) as store:
        server = _serving(store.url + "/query", tmp_path)
        try:
            for path, query in [("/sparql", {"query": "ASK {}"}), ("/", {}), ("/network", {})]:
                reply = server.get(path, "application/json", **query)
                assert reply.status == 502, (path, reply.status, reply.text)
                assert "abc" not in reply.text and "127.0.0.1" not in reply.text
        finally:
            server.stop()
