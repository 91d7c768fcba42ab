"""A SPARQL 1.1 endpoint behind the same `Store` interface as the embedded store.

Two things the embedded store does natively are done here by the protocol:

- the default graph as the union of the dataset's named graphs: the request
  names the dataset's graphs as `default-graph-uri` and `named-graph-uri`, so
  stores whose default graph is empty (Oxigraph) or holds everything,
  system graphs included (Virtuoso), answer alike;
- typed parameter bindings: a `VALUES` block at the top of the query pattern,
  which joins the terms in before anything else is evaluated.
"""

from __future__ import annotations

import html
import io
import re
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import pyoxigraph as ox

from kg.errors import KgError
from kg.namespaces import GRAPH_NAMES, graph_iri
from kg.store.base import (
    ENDPOINT_TIMEOUT,
    Bound,
    Dataset,
    StoreAnswer,
    StoreFailed,
    StreamedSolutions,
    StreamedTriples,
    shown_url,
)
from kg.store.deadline import PASSED, Deadline, checked_seconds
from kg.store.ntriples import canonical_ntriples
from kg.store.sparql import names_its_dataset, projection, query_form, with_values

RESULTS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
# Graphs in the line-based formats only: RDF/XML's entities expand without bound (a kilobyte of them
# is gigabytes of text), and every store writes N-Triples.
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9"
GRAPH_FORMATS = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/turtle": ox.RdfFormat.TURTLE}
NO_GRAPH = str(graph_iri("none"))  # a graph name the dataset never gives a graph: an empty list's stand-in


_per_thread = threading.local()


def tls_context() -> ssl.SSLContext:
    """httpx's default TLS settings, made once per thread and shared by its clients: loading the
    certificate authorities costs about 18 ms of CPU, which a client per query would pay each time.
    Not shared across threads: each connection sets the context's protocols (ALPN), and a context
    changed by one thread while another connects is unsafe (CPython issue 141012)."""
    if not hasattr(_per_thread, "context"):
        _per_thread.context = httpx.create_ssl_context()
    context: ssl.SSLContext = _per_thread.context
    return context


# A URL no request can go to is never shown: where a password holds `/`, `?` or `#`, every reader of
# the URL ends its authority there, so what is password cannot be told.
UNUSABLE_URL = (
    "is not one a request can go to (its host, port or user part; a `/`, `?` or `#` in a password is"
    " written %2F, %3F, %23)"
)
# A host a request can go to: a name of labels of 1 to 63 letters, digits, `-` (not at either end) and
# `_`, joined by single dots, 253 characters at most (as the client sends it, a name beyond ASCII in its
# IDNA form), an IPv4 address, or an IPv6 address (which holds `:`).
_LABEL = rb"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)"
_NAME = rb"(?=.{1,253}\.?\Z)" + _LABEL + rb"(?:\." + _LABEL + rb")*\.?"
_HOST = re.compile(_NAME + rb"|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.%A-Za-z]*")


def check_endpoint_url(url: str, named: str = "the store's URL") -> None:
    """Refuse, before anything shows it, a store URL no request can go to (`kg serve` at its start, each
    of `kg push`'s, `named` as its option): one the HTTP client cannot read, or that names no host
    (`http:///query`), a host no name server holds (`a b`, `a|b`, `a..b`, `-a`) or no port (`:0`,
    `:99999`), which it reads and only refuses as it sends."""
    try:
        parsed: httpx.URL | None = httpx.Request("POST", url).url
    except httpx.InvalidURL:
        parsed = None
    if (
        parsed is None
        or not _HOST.fullmatch(parsed.raw_host)
        or (parsed.port is not None and not 0 < parsed.port < 65536)
    ):
        raise KgError(f"{named} {UNUSABLE_URL}")


class RemoteError(StoreFailed, RuntimeError):
    """The endpoint could not be reached or did not answer."""


class RemoteQueryError(StoreFailed, ValueError):
    """The endpoint refused the query (a 4xx answer): the message holds the endpoint's reply."""

    status = 400


NO_ANSWER = "the store behind this server did not answer"
READER_BUFFER = "buffer maximal size"  # how Oxigraph's reader says a value outgrew it
DETAIL = 4096  # bytes of a refusal's body read for its message
REFUSED = {  # what a store's refusal of a request says
    401: "refused the credentials (401)",
    403: "refused the request (403): the credentials, or a store that takes no writes",
}


def _article(form: str) -> str:
    """A query form with its article: `an ASK`, `a SELECT`."""
    return f"{'an' if form == 'ask' else 'a'} {form.upper()}"


def _misshapen(answer: ox.QuerySolutions | ox.QueryBoolean, form: str, text: str) -> str:
    """What is wrong with the shape of a store's answer to the query `text` of `form`, or ""."""
    if isinstance(answer, ox.QueryBoolean) != (form == "ask"):
        return f"{'a yes or no' if isinstance(answer, ox.QueryBoolean) else 'rows'} to {_article(form)}"
    projected = projection(text)
    if not isinstance(answer, ox.QuerySolutions) or projected is None:  # an ASK's, or a SELECT *'s
        return ""
    sent = [variable.value for variable in answer.variables]
    if set(sent) != set(projected):
        return f"the variables ({' '.join(sent)}) to a query for ({' '.join(projected)})"
    return ""


def capped_at(response: httpx.Response) -> int | None:
    """The rows a store says it cut its answer at: Virtuoso stops an answer at its ResultSetMaxRows and
    says so only in the header X-SPARQL-MaxRows. None where it says nothing (or nothing readable)."""
    said = response.headers.get("x-sparql-maxrows", "").strip()
    return int(said) if said.isdigit() else None


def _media_type(response: httpx.Response) -> str:
    media_type: str = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type


class RemoteStore:
    """A read-only view of a SPARQL 1.1 endpoint holding the dataset's named graphs."""

    def __init__(
        self,
        endpoint: str,
        *,
        graphs: Sequence[str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = ENDPOINT_TIMEOUT,
    ) -> None:
        self.endpoint = endpoint
        self.graphs = list(graphs) if graphs is not None else [str(graph_iri(name)) for name in GRAPH_NAMES]
        self.auth = auth
        self.headers = dict(headers or {})
        self.timeout = checked_seconds(timeout)

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Bound] | None = None,
        *,
        union_default_graph: bool = True,
        dataset: Dataset | None = None,
    ) -> StoreAnswer:
        """Run a read-only SPARQL query on the endpoint; `bindings` are joined in as VALUES. The answer is
        read as it is asked for; one of another kind than the query, or a SELECT's with other variables
        than it projects, is the store's failure (a page reading it would fail as if its own)."""
        form_asked = query_form(sparql)
        text = with_values(sparql, bindings or {})
        form = self._form(text, union_default_graph, dataset)
        if form_asked in ("construct", "describe"):
            quads, capped = self._graph(form)
            return StreamedTriples((quad.triple for quad in quads), self._readable, capped)
        body = self._open(form, RESULTS_ACCEPT)
        results_format = ox.QueryResultsFormat.from_media_type(_media_type(body.response))
        results_format = results_format or ox.QueryResultsFormat.JSON
        read: io.RawIOBase = body
        if results_format in _VIRTUOSO_BLANKS:
            read = BlankNodeLabels(body, results_format)
        with self._readable():
            answer = ox.parse_query_results(io.BufferedReader(read), format=results_format)
        wrong = _misshapen(answer, form_asked, sparql)
        if wrong:
            del answer  # dropped here, not with the frames of the error (see StreamedSolutions)
            body.close()
            raise RemoteError(self._said(f"sent {wrong}"), NO_ANSWER)
        if isinstance(answer, ox.QuerySolutions):
            return StreamedSolutions(answer, self._readable, capped_at(body.response))
        return answer

    def _graph(self, form: dict[str, str | list[str]]) -> tuple[ox.QuadParser, int | None]:
        """A graph answer's triples, parsed as they are read, in the formats `GRAPH_ACCEPT` names, and
        the count the store cut it at, if it says it did."""
        body = self._open(form, GRAPH_ACCEPT)
        rdf_format = self._graph_format(body)
        with self._readable():
            return ox.parse(io.BufferedReader(body), format=rdf_format), capped_at(body.response)

    def _graph_format(self, body: Body) -> ox.RdfFormat:
        """The format of a graph answer, one `GRAPH_ACCEPT` names; any other is the store's failure
        (the answer closed unread)."""
        media_type = _media_type(body.response)
        if media_type not in GRAPH_FORMATS:
            body.close()
            raise RemoteError(self._said(f"sent a graph as {media_type or 'no media type'}"), NO_ANSWER)
        return GRAPH_FORMATS[media_type]

    @contextmanager
    def _readable(self) -> Iterator[None]:
        """An answer the store sent that cannot be read is the store's failure, never the query's
        syntax error: its words go to the operator, not to a client."""
        try:
            yield
        except SyntaxError as error:
            raise RemoteError(self._said(f"sent an answer that cannot be read: {error}"), NO_ANSWER) from None
        except MemoryError as error:  # Oxigraph's reader holds one value of at most 16 MB
            if READER_BUFFER not in str(error):
                raise  # this process's own memory: not the store's doing
            said = "sent a value larger than the 16 MB a reader holds at once"
            raise RemoteError(self._said(said), NO_ANSWER) from None

    def construct_ntriples(
        self, sparql: str, bindings: Mapping[str, Bound] | None = None, most: int = 1 << 30
    ) -> bytes | None:
        """The graph a CONSTRUCT answers, as canonical N-Triples (see `kg.store.ntriples`), made from the
        response's bytes without turning every triple into terms first: it may be a whole graph. None
        for an answer of more than `most` bytes, which is not read further."""
        text = with_values(sparql, bindings or {})
        body = self._open(self._form(text, False, None), GRAPH_ACCEPT)
        rdf_format = self._graph_format(body)
        try:
            content = body.whole(most)
        finally:
            body.close()
        with self._readable():
            return None if content is None else canonical_ntriples(content, rdf_format)

    def _form(
        self, text: str, union_default_graph: bool, dataset: Dataset | None
    ) -> dict[str, str | list[str]]:
        """The request's form: the query, and the dataset it reads.

        Given `dataset`, exactly its graphs, however the store would read the clauses of the text. The
        protocol has no way to say "none": an empty list is sent as a graph that holds nothing
        (`NO_GRAPH`), since a store may read an absent list as "every graph" (Virtuoso lets GRAPH ?g
        reach every graph of a query that names no FROM NAMED). Otherwise the protocol's graph
        parameters would replace a query's own FROM and FROM NAMED, so a query that names its dataset
        is sent without them, and any other reads the project's graphs as named graphs (and, with
        `union_default_graph`, as its default graph), not whatever else the store holds."""
        if dataset is not None:
            default, named = list(dataset.default) or [NO_GRAPH], list(dataset.named) or [NO_GRAPH]
            return {"query": text, "default-graph-uri": default, "named-graph-uri": named}
        if names_its_dataset(text):
            return {"query": text}
        form: dict[str, str | list[str]] = {"query": text, "named-graph-uri": self.graphs}
        if union_default_graph:
            form["default-graph-uri"] = self.graphs
        return form

    def _open(self, form: dict[str, str | list[str]], accept: str) -> Body:
        """The store's answer, its body read as it is asked for. POST as an HTML form, the one request
        shape every store accepts (Virtuoso 7 waits forever on a bare `application/sparql-query` body).
        A client per query: nothing stays open between questions, whoever holds the store."""
        client = httpx.Client(
            auth=self.auth, headers=self.headers, timeout=self.timeout, verify=tls_context()
        )
        try:
            request = client.build_request("POST", self.endpoint, data=form, headers={"accept": accept})
        except httpx.InvalidURL:  # its words may quote part of the password
            client.close()
            raise RemoteError(
                f"the store's URL {UNUSABLE_URL}", NO_ANSWER
            ) from None  # not shown: what a password is cannot be told
        deadline = Deadline(self.timeout)
        request.extensions.update(deadline.extensions)
        try:
            response = client.send(request, stream=True)
        except BaseException as error:  # an authentication flow's own failure too: nothing left running
            deadline.cancel()
            client.close()
            if isinstance(error, httpx.HTTPError):
                raise self._broken(deadline.broken(error)) from None
            raise
        body = Body(response, deadline, self._broken, client)
        status = body.response.status_code
        if status < 300:
            return body
        detail = body.said() if status < 500 else body.reason()
        body.close()
        if status in (401, 403):
            raise RemoteError(self._said(REFUSED[status]), NO_ANSWER)
        if 400 <= status < 500:
            raise RemoteQueryError(
                self._said(f"rejected the query ({status}): {detail}"),
                f"the store behind this server refused the query (HTTP {status})",
            )
        answered = f"answered {status} {body.response.reason_phrase}"
        raise RemoteError(self._said(f"{answered}: {detail}" if detail else answered), NO_ANSWER)

    def _broken(self, error: httpx.HTTPError) -> RemoteError:
        """The store did not answer, or its answer broke off."""
        if isinstance(error, httpx.TimeoutException):
            said = self._said(f"did not answer within {self.timeout:g} s")
            return RemoteError(said, "the store behind this server did not answer in time", 504)
        return RemoteError(self._said(f"cannot be reached: {error}"), NO_ANSWER)

    def _said(self, what: str) -> str:
        """What the store did, for its operator: after its URL, the password hidden."""
        return shown_url(f"{self.endpoint} {what}", self.endpoint)


def _one_printable_line(text: str) -> str:
    """`text` as one line of at most 300 printable characters: a store's words reach a terminal or a
    log, where an escape sequence or a bidi control would act rather than show."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())[:300]


class Body(io.RawIOBase):
    """An HTTP answer's body, read as its reader asks for it and within its `deadline`, which holds
    the whole answer's time limit, headers and body (`kg.store.deadline`): a store that sends a byte
    every few seconds is stopped at it. Closing it (the reader done, or the answer dropped) closes the
    response and `client`, if given: past a row cap, the rest of an answer the store streams is never
    read, nor held."""

    def __init__(
        self,
        response: httpx.Response,
        deadline: Deadline,
        failed: Callable[[httpx.HTTPError], Exception],
        client: httpx.Client | None = None,
    ) -> None:
        super().__init__()
        self.response = response
        self._deadline = deadline
        self._failed = failed
        self._client = client
        self._chunks = response.iter_bytes()
        self._left = memoryview(b"")  # of the chunk being read: no copy of what is left of it

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            if self._deadline.over():
                raise self._failed(httpx.ReadTimeout(PASSED))
            try:
                self._left = memoryview(next(self._chunks))
            except StopIteration:
                return 0
            except httpx.HTTPError as error:  # through the parser to whoever reads the rows
                raise self._failed(self._deadline.broken(error)) from None
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size

    def whole(self, most: int) -> bytes | None:
        """The rest of the body, or None once it holds more than `most` bytes (then left unread)."""
        read = bytearray()
        while chunk := self.read(min(1 << 20, most + 1 - len(read))):
            read += chunk
            if len(read) > most:
                return None
        return bytes(read)

    def said(self) -> str:
        """The first `DETAIL` bytes of a refusal, in one line of at most 300 characters; what could not
        be read of it is left out."""
        return _one_printable_line(self._words())

    def reason(self) -> str:
        """A failure's reason, printable and at most 300 characters: the first line of its words (Virtuoso
        gives a runtime error's reason, such as `SR325`, in a 500's body, then the query it failed), or
        the text of an HTML page (its Graph Store endpoint's, the reason in an `xmp` element)."""
        words = self._words()
        if words.lstrip().startswith("<"):
            text = html.unescape(" ".join(_HTML_TAG.sub("\n", words).split()))
        else:
            text = next((line for line in words.splitlines() if line.strip()), "")
        return _one_printable_line(text)

    def _words(self) -> str:
        """The first `DETAIL` bytes of the body as text; what could not be read of it is left out."""
        try:
            return self.read(DETAIL).decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - a refusal whose words broke off is still a refusal
            return ""

    def close(self) -> None:
        if not self.closed:
            self._deadline.cancel()
            self.response.close()
            if self._client is not None:
                self._client.close()
        super().close()


# An HTML page's markup, by the names of the elements an error page uses: an IRI in its text (`<urn:x>`)
# is no tag.
_HTML_TAG = re.compile(
    r"<(?:!DOCTYPE|/?(?:html|head|title|body|h[1-6]|p|pre|xmp|div|span|br|hr|b|i|em|strong|code)\b)[^<>]*>",
    re.IGNORECASE,
)

# A blank node of a SPARQL answer as Virtuoso writes it, up to its label, in each results format: JSON's
# `"type": "bnode", "value": "nodeID://b10000"` and XML's `<bnode>nodeID://b10000</bnode>`, which the
# results reader refuses. The spaces and a namespace prefix are bounded, so a match spans at most
# `_LABEL_SPAN` bytes.
_VIRTUOSO_BLANKS = {
    ox.QueryResultsFormat.JSON: re.compile(
        rb'("type"\s{0,8}:\s{0,8}"bnode"\s{0,8},\s{0,8}"value"\s{0,8}:\s{0,8}")nodeID://'
    ),
    ox.QueryResultsFormat.XML: re.compile(rb"(<(?:[A-Za-z_][\w.-]{0,32}:)?bnode\s{0,8}>)nodeID://"),
}
_LABEL_SPAN = 128


class BlankNodeLabels(io.RawIOBase):
    """A SPARQL JSON or XML answer read with Virtuoso's blank nodes (`nodeID://b10000`) as plain labels
    (`b10000`), as it is read. Only a blank node's value changes: an IRI or a literal that holds the
    same letters stays as sent. The last bytes of each piece are held back until the next is read, so
    that a blank node split between two pieces is still found."""

    def __init__(self, body: Body, results_format: ox.QueryResultsFormat) -> None:
        super().__init__()
        self._body = body
        self._blank = _VIRTUOSO_BLANKS[results_format]
        self._ready = b""  # rewritten, to be read
        self._held = b""  # rewritten, held back: a blank node may start in it
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._ready and not self._ended:
            piece = self._body.read(1 << 16)
            text = self._blank.sub(rb"\1", self._held + (piece or b""))
            if not piece:
                self._ready, self._held, self._ended = text, b"", True
            else:
                self._ready, self._held = text[:-_LABEL_SPAN], text[-_LABEL_SPAN:]
        size = min(len(buffer), len(self._ready))
        buffer[:size] = self._ready[:size]
        self._ready = self._ready[size:]
        return size

    def close(self) -> None:
        self._body.close()
        super().close()
