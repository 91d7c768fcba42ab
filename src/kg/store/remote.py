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

import re
from collections.abc import Mapping, Sequence

import httpx
import pyoxigraph as ox

from kg.errors import KgError
from kg.namespaces import GRAPH_NAMES, graph_iri
from kg.store.base import Answer, Term
from kg.store.ntriples import canonical_ntriples

RESULTS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.8"
_TOKEN = re.compile(
    r"""(?P<comment>\#[^\n]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<brace>[{}])
    | (?P<variable>[?$]\w+)
    | (?P<word>[A-Za-z][\w.-]*(?::[^\s{}()<>"',;]*)?)
    | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}


class RemoteError(KgError, RuntimeError):
    """The endpoint could not be reached or did not answer."""

    status = 502


class RemoteQueryError(KgError, ValueError):
    """The endpoint refused the query (a 4xx answer): the message is the endpoint's."""


def query_form(sparql: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first such keyword outside comments, strings and IRIs."""
    for match in _TOKEN.finditer(sparql):
        if match.lastgroup == "word" and match.group().upper() in _FORMS:
            return match.group().upper()
    raise RemoteQueryError("not a SPARQL query: no SELECT, ASK, CONSTRUCT or DESCRIBE")


def with_values(sparql: str, bindings: Mapping[str, Term]) -> str:
    """`sparql` with `VALUES (?a ?b) { (term term) }` opening its WHERE pattern.

    The short form `CONSTRUCT WHERE { P }` becomes `CONSTRUCT { P } WHERE { VALUES … P }`,
    because a template cannot hold VALUES.
    """
    if not bindings:
        return sparql
    names = " ".join(f"?{name}" for name in bindings)
    terms = " ".join(str(term) for term in bindings.values())
    values = f" VALUES ({names}) {{ ({terms}) }} "
    tokens = [m for m in _TOKEN.finditer(sparql) if m.lastgroup not in ("comment", "string", "iri")]
    form_at = next(i for i, m in enumerate(tokens) if m.lastgroup == "word" and m.group().upper() in _FORMS)
    start = form_at + 1
    if tokens[form_at].group().upper() == "CONSTRUCT":
        following = next(m for m in tokens[start:] if not m.group().isspace())
        if following.lastgroup == "brace":
            start = _after_block(tokens, tokens.index(following)) + 1
        elif following.group().upper() == "WHERE":
            open_at = next(i for i in range(start, len(tokens)) if tokens[i].group() == "{")
            close_at = _after_block(tokens, open_at)
            body = sparql[tokens[open_at].end() : tokens[close_at].start()]
            return (
                sparql[: following.start()]
                + f"{{{body}}} WHERE {{{values}{body}}}"
                + sparql[tokens[close_at].end() :]
            )
    open_brace = next(m for m in tokens[start:] if m.group() == "{")
    return sparql[: open_brace.end()] + values + sparql[open_brace.end() :]


def _after_block(tokens: list[re.Match[str]], open_at: int) -> int:
    """The index of the brace closing the one at `open_at`."""
    depth = 0
    for index in range(open_at, len(tokens)):
        depth += {"{": 1, "}": -1}.get(tokens[index].group(), 0)
        if depth == 0:
            return index
    raise RemoteQueryError("unbalanced braces in the query")


def _rdf_format(response: httpx.Response) -> ox.RdfFormat:
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    return ox.RdfFormat.from_media_type(media_type) or ox.RdfFormat.N_TRIPLES


def _triples_answer(triples: list[ox.Triple]) -> ox.QueryTriples:
    """A graph answer of the same type the embedded store gives, so every reader handles both alike."""
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    return store.query("CONSTRUCT WHERE { ?s ?p ?o }")  # type: ignore[return-value]


class RemoteStore:
    """A read-only view of a SPARQL 1.1 endpoint holding the dataset's named graphs."""

    def __init__(
        self,
        endpoint: str,
        *,
        graphs: Sequence[str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.endpoint = endpoint
        self.graphs = list(graphs) if graphs is not None else [str(graph_iri(name)) for name in GRAPH_NAMES]
        self.auth = auth
        self.headers = dict(headers or {})
        self.timeout = timeout

    def query(
        self, sparql: str, bindings: Mapping[str, Term] | None = None, *, union_default_graph: bool = True
    ) -> Answer:
        """Run a read-only SPARQL query on the endpoint; `bindings` are joined in as VALUES."""
        graph_answer = query_form(sparql) in ("CONSTRUCT", "DESCRIBE")
        text = with_values(sparql, bindings or {})
        form: dict[str, str | list[str]] = {"query": text, "named-graph-uri": self.graphs}
        if union_default_graph:
            form["default-graph-uri"] = self.graphs
        response = self._post(form, GRAPH_ACCEPT if graph_answer else RESULTS_ACCEPT)
        if graph_answer:
            triples = [quad.triple for quad in ox.parse(response.content, format=_rdf_format(response))]
            return _triples_answer(triples)
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        results_format = ox.QueryResultsFormat.from_media_type(media_type) or ox.QueryResultsFormat.JSON
        return ox.parse_query_results(response.content, format=results_format)

    def graph_ntriples(self, iri: str) -> bytes:
        """One named graph as canonical N-Triples (see `kg.store.ntriples`)."""
        sparql = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"
        response = self._post({"query": sparql, "named-graph-uri": [iri]}, GRAPH_ACCEPT)
        return canonical_ntriples(response.content, _rdf_format(response))

    def _post(self, form: dict[str, str | list[str]], accept: str) -> httpx.Response:
        """POST as an HTML form, the one request shape every store accepts (Virtuoso 7 waits forever
        on a bare `application/sparql-query` body)."""
        try:
            # A client per query: nothing stays open between questions, whoever holds the store.
            with httpx.Client(auth=self.auth, headers=self.headers, timeout=self.timeout) as client:
                response = client.post(self.endpoint, data=form, headers={"accept": accept})
        except httpx.TimeoutException:
            raise RemoteError(f"{self.endpoint} did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as error:
            raise RemoteError(f"{self.endpoint} cannot be reached: {error}") from None
        if response.status_code in (401, 403):
            raise RemoteError(f"{self.endpoint} refused the credentials ({response.status_code})")
        if 400 <= response.status_code < 500:
            detail = " ".join(response.text.split())[:300]
            raise RemoteQueryError(f"{self.endpoint} rejected the query ({response.status_code}): {detail}")
        if response.status_code >= 300:
            raise RemoteError(f"{self.endpoint} answered {response.status_code} {response.reason_phrase}")
        return response
