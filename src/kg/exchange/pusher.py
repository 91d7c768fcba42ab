"""The requests of a push: retried HTTP calls to a store's update, Graph Store and query endpoints.

Blank nodes are local to one request, so a batch never splits the triples that
share a blank node, and a request inserting them is never sent again once the
store may have applied it: it would add them twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pyoxigraph as ox

from kg.errors import EXIT_FAILED, KgError
from kg.exchange.changes import GraphChange, graph_change, insert_operation, repeatable_insert
from kg.exchange.updates import update
from kg.query.counts import triples_per_graph
from kg.query.internal import bound
from kg.store.base import ENDPOINT_TIMEOUT, Solutions, StoreFailed, StreamedTriples, shown_url, value_rows
from kg.store.deadline import Deadline, checked_seconds
from kg.store.embedded import EmbeddedStore
from kg.store.remote import (
    REFUSED,
    Body,
    RemoteError,
    RemoteQueryError,
    RemoteStore,
    check_endpoint_url,
    tls_context,
)

OWN_PREFIX = "urn:opioid-kg:"  # the graphs a push writes for itself, never the dataset's
STAGING_PREFIX = OWN_PREFIX + "staging:"
PROBE_GRAPH = OWN_PREFIX + "probe"  # the literals the target may not keep, written and read back
STAGING_DROPPED = "the staging graphs were dropped"
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
DEFAULT_BATCH = 10_000
LENGTH_WANTED = {411, 501}  # Length Required; Not Implemented, Virtuoso's answer to a body in chunks
# Failures before a request left: the store cannot have seen it.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
# Why a request the store may have applied is not retried.
NOT_AGAIN = "not sent again: the store may have applied it, and a second time would add its blank nodes again"
ACKNOWLEDGED = 1 << 16  # bytes of a success's answer read (its words are not used): the rest is dropped


def _reraised(error: httpx.HTTPError) -> httpx.HTTPError:
    """A failure while an answer is read, as it came: `Pusher.send` says what it means."""
    return error


class PushError(KgError, RuntimeError):
    """A push that stopped; the message is one line saying why and what was written."""

    exit_code = EXIT_FAILED
    status = 502

    def __init__(self, message: str, target_status: int | None = None, *, unsure: bool = False) -> None:
        super().__init__(shown_url(message))
        self.target_status = target_status  # the HTTP status of the store's answer that stopped it, if any
        # The store may have carried the request out: its answer was lost (the connection dropped, a
        # timeout) or was a 5xx, which a store or a proxy in front of it may send after applying it.
        self.unsure = unsure


@dataclass
class Target:
    """Where and how to write: the store's endpoints, credentials and patience."""

    endpoint: str
    update: str
    gsp: str | None = None
    auth: httpx.Auth | None = None
    token: str | None = None
    timeout: float = ENDPOINT_TIMEOUT
    retries: int = 3
    backoff: float = 0.5
    batch_size: int | None = None
    bulk: bool = False  # a graph the store lacks goes through its bulk loader: faster, not atomic

    def __post_init__(self) -> None:
        self.timeout = checked_seconds(self.timeout)
        for option, url in (("--endpoint", self.endpoint), ("--update", self.update), ("--gsp", self.gsp)):
            if url is not None:
                check_usable(option, url)

    @property
    def request_limit(self) -> int:
        """The most triples one SPARQL Update request may carry."""
        return self.batch_size or DEFAULT_BATCH


def check_usable(option: str, url: str) -> None:
    """Refuse, before anything is sent, a URL no request can go to: one of another scheme than http(s),
    which the HTTP client refuses only as it sends, or that cannot be parsed. Wrong input (exit 2), not a
    request of unknown outcome to try again."""
    if not url.lower().startswith(("http://", "https://")):
        said = f"the {option} URL {url} cannot be used: a store's URL starts http:// or https://"
        raise KgError(shown_url(said, url))
    check_endpoint_url(url, f"the {option} URL")


def staging_iri(iri: str) -> str:
    return STAGING_PREFIX + iri


def local_triples(store: EmbeddedStore, iri: str) -> StreamedTriples:
    answer = store.query(*bound("graph", graph=iri), union_default_graph=False)
    assert isinstance(answer, StreamedTriples)
    return answer


def batches(triples: Iterable[ox.Triple], size: int) -> Iterator[list[str]]:
    """N-Triples lines in batches of about `size`, the triples linked by a blank node kept together."""
    batch: list[str] = []
    linked: list[ox.Triple] = []
    for triple in triples:
        if isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode):
            linked.append(triple)
            continue
        batch.append(f"{triple} .")
        if len(batch) >= size:
            yield batch
            batch = []
    parent: dict[str, str] = {}

    def root(label: str) -> str:
        while parent.setdefault(label, label) != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    for triple in linked:
        labels = [t.value for t in (triple.subject, triple.object) if isinstance(t, ox.BlankNode)]
        for label in labels[1:]:
            parent[root(label)] = root(labels[0])
    components: dict[str, list[str]] = {}
    for triple in linked:
        blank = triple.subject if isinstance(triple.subject, ox.BlankNode) else triple.object
        label = blank.value if isinstance(blank, ox.BlankNode) else str(blank)
        components.setdefault(root(label), []).append(f"{triple} .")
    for lines in components.values():
        if batch and len(batch) + len(lines) > size:
            yield batch
            batch = []
        batch.extend(lines)
    if batch:
        yield batch


class Pusher:
    """One push's HTTP client, its retries, and a record of what reached the store."""

    def __init__(self, target: Target, progress: Callable[[int], None] = lambda n: None) -> None:
        """`progress` hears how many more local triples are settled on the target, as they are."""
        self.target = target
        self.progress = progress
        headers = {"authorization": f"Bearer {target.token}"} if target.token else {}
        self.client = httpx.Client(  # no connection kept alive: each request's deadline sees its own
            auth=target.auth,
            headers=headers,
            timeout=target.timeout,
            verify=tls_context(),
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self.staged: dict[str, int] = {}  # graph IRI: triples written into its staging graph
        self.notes: list[str] = []  # what went wrong without stopping the push
        self.changed: list[str] = []  # live graphs the store has acknowledged changing, in order
        self.changing: list[str] = []  # live graphs the request under way changes, none between requests
        self.probing = False  # while the probe graph may be on the target

    @contextmanager
    def changing_live(self, iris: list[str]) -> Iterator[None]:
        """While a request changing the live graphs `iris` is under way: said by an interrupted push;
        once the store has acknowledged it, those graphs count as changed."""
        self.changing = iris
        yield  # left set where the request fails or is interrupted: the message names it
        self.changing = []
        self.changed += [iri for iri in iris if iri not in self.changed]

    def send(
        self, method: str, url: str, *, retry: bool = True, repeatable: bool = False, **kwargs: object
    ) -> httpx.Response:
        """One request, retried with back-off on transient failures; refusals become PushError, which
        says whether the store may have carried out any of the attempts. After an attempt the store may
        have carried out (no answer, or a 5xx) it is sent again only if `repeatable`, applying it twice
        giving what applying it once does: whoever catches the PushError reads what the store holds."""
        attempts = self.target.retries + 1 if retry else 1
        unsure = False
        shown = shown_url(url, url)  # the URL as messages show it
        for attempt in range(attempts):
            answered: int | None = None  # the status of the last attempt's answer, if it had one
            try:
                response, detail = self._answer(method, url, kwargs)
            except httpx.InvalidURL:  # its words may quote part of the password
                raise PushError(  # not shown: what a password is in it cannot be told
                    f"the URL of a {method} is not one a request can go to (its host, port or user part)"
                ) from None
            except NOT_SENT as error:
                problem = f"cannot reach {shown}: {error or type(error).__name__}"
            except httpx.TransportError as error:
                problem = f"no answer from {shown}: {error or type(error).__name__}"
                unsure = True
            else:
                answered = response.status_code
                if response.status_code < 300:
                    return response
                problem = f"{method} {shown} answered {response.status_code} {response.reason_phrase}"
                if detail and response.status_code >= 500:  # the store's reason, such as Virtuoso's SR325
                    problem += f": {detail}"
                unsure = unsure or response.status_code >= 500
                if response.status_code in (401, 403):
                    raise PushError(f"{shown} {REFUSED[response.status_code]}", unsure=unsure)
                if response.status_code not in TRANSIENT_STATUS:
                    message = f"{problem}: {detail}" if detail else problem
                    raise PushError(message, response.status_code, unsure=unsure)
            if unsure and not repeatable and attempt + 1 < attempts:
                raise PushError(f"{problem} ({NOT_AGAIN})", answered, unsure=True)
            if attempt + 1 < attempts:
                time.sleep(self.target.backoff * 2**attempt)
        raise PushError(
            problem + (f" (after {attempts} attempts)" if attempts > 1 else ""), answered, unsure=unsure
        )

    def _answer(self, method: str, url: str, options: dict[str, object]) -> tuple[httpx.Response, str]:
        """One request's answer and, for a refusal, the first of its words (of a 5xx, the first line, where
        Virtuoso gives its reason). The answer is read within
        `--timeout` from when the request was all sent, headers and body, whole (a success's, at most
        `ACKNOWLEDGED` bytes) or as far as a refusal's words go: a store that trickles, or sends without
        end, is not waited for nor held. The request itself (a graph's upload) is bounded by each
        write's wait only: it takes as long as its size needs."""
        deadline = Deadline(self.target.timeout, after_upload=True)
        request = self.client.build_request(method, url, extensions=deadline.extensions, **options)  # type: ignore[arg-type]  # httpx's own
        try:
            response = self.client.send(request, stream=True)
        except BaseException as error:  # an authentication flow's own failure too: nothing left running
            deadline.cancel()
            if isinstance(error, httpx.HTTPError):
                raise deadline.broken(error) from None
            raise
        body = Body(response, deadline, _reraised)
        try:
            if response.status_code < 300:
                body.whole(ACKNOWLEDGED)
                return response, ""
            return response, body.said() if response.status_code < 500 else body.reason()
        finally:
            body.close()

    def update(self, sparql: str, *, retry: bool = True, repeatable: bool = False) -> None:
        """One update request; sent again after an unknown outcome only if `repeatable` (see `send`)."""
        self.send(
            "POST",
            self.target.update,
            content=sparql.encode("utf-8"),
            headers={"content-type": "application/sparql-update"},
            retry=retry,
            repeatable=repeatable,
        )

    def apply(self, changes: list[GraphChange]) -> None:
        """Every change in one update request, which the store applies whole or not at all.

        Sent again after a timeout only where applying it twice gives the same graphs (deletes and
        inserts of named triples; blank-node triples cleared before they go in again): a new graph's
        blank nodes would go in twice.
        """
        repeatable = all(change.repeatable for change in changes)
        self.update(
            " ;\n".join(op for change in changes for op in change.operations()), repeatable=repeatable
        )
        self.progress(sum(change.local for change in changes))

    def load_in_part(self) -> str | None:
        """How a new graph's Graph Store POST goes in where a failed one may leave part of the graph:
        to Oxigraph's bulk loader, or to Virtuoso, which loads a POST without one transaction (killed
        while loading, it keeps what it had written); None where the store loads it whole or not at all."""
        if self.target.gsp is None:
            return None
        if self.target.bulk:
            return "went to the bulk loader, which writes without a transaction"
        if virtuoso_graph_store(self.target.gsp):
            return "went by one Graph Store POST, which Virtuoso loads without one transaction"
        return None

    def load_whole(self, store: EmbeddedStore, change: GraphChange) -> None:
        """A graph the target does not hold, in one Graph Store POST: loaded whole or not at all by
        Oxigraph, while Virtuoso and a bulk load may keep part of a failed one (`load_in_part`).

        POST, not PUT: where a store creates the graph before loading, a failed PUT leaves it empty.
        The body streams from the local store as it is written, except where it must be sent twice
        (Digest authentication answers the first sending with a challenge) or where the store wants
        a body with a length (Virtuoso answers 501 to one in chunks): then it is read first. Never
        retried otherwise: a retry after a timeout could add blank nodes twice, and a second push
        sends whatever is missing. With `bulk` the store loads it through its bulk loader
        (Oxigraph's `no_transaction`), which writes as it reads: a failed load may leave part of it,
        as a failed POST to Virtuoso may.
        """
        streamed = not isinstance(self.target.auth, httpx.DigestAuth)
        try:
            if streamed:
                try:
                    body = store.stream_graph(change.iri, change.local)
                    self._graph_request("POST", change.iri, body, retry=False, bulk=self.target.bulk)
                except PushError as error:
                    if error.target_status not in LENGTH_WANTED:
                        raise
                    streamed = False
            if not streamed:
                whole = store.graph_ntriples(change.iri)
                self._graph_request("POST", change.iri, whole, retry=False, bulk=self.target.bulk)
        except OSError as error:  # the local store, not the target: the request was cut short
            raise PushError(f"reading the local graph failed: {error}") from None
        self.progress(change.local)

    def _graph_request(
        self, method: str, iri: str, body: bytes | Iterator[bytes], *, retry: bool = True, bulk: bool = False
    ) -> None:
        """PUT or POST an N-Triples body as graph `iri` on the Graph Store endpoint; with `bulk`, asking
        the store to load it without a transaction."""
        assert self.target.gsp is not None
        params = {_graph_parameter(self.target.gsp): iri} | ({"no_transaction": ""} if bulk else {})
        self.send(
            method,
            self.target.gsp,
            params=params,
            content=body,
            headers={"content-type": "application/n-triples"},
            retry=retry,
            repeatable=method == "PUT",  # a PUT replaces the graph: twice is as once
        )

    def stage(self, store: EmbeddedStore, iri: str, count: int) -> None:
        """Write the local graph `iri` (`count` triples) into its staging graph, replacing whatever a
        failed push left there."""
        staging = staging_iri(iri)
        self.staged[iri] = 0
        if self.target.gsp:
            # Replaces a graph no one reads: safe to retry.
            self._graph_request("PUT", staging, store.graph_ntriples(iri))
            self.staged[iri] = count
            self.progress(count)
            return
        self.update(update("drop-graph", graph=staging), repeatable=True)
        for lines in batches(local_triples(store, iri), self.target.request_limit):
            self.update(insert_operation(staging, lines), repeatable=repeatable_insert(lines))
            self.staged[iri] += len(lines)
            self.progress(len(lines))

    def change(self, store: EmbeddedStore, iri: str, count: int, live: int) -> GraphChange:
        """What must change in the target's graph `iri` (`count` triples here, `live` there). A graph
        the target lacks is read when it is sent (`filled`); one it holds is read on both sides now."""
        if live == 0:
            return GraphChange(iri, count, 0)
        local = store.graph_ntriples(iri)
        # Read as far as twice the local graph: one larger than that is replaced rather than compared.
        remote = self.remote(iri).construct_ntriples(
            *bound("graph", graph=iri), most=2 * len(local) + (1 << 20)
        )
        # A store that caps the size of answers sends fewer: then compare nothing, replace the graph.
        complete = remote is not None and remote.count(b"\n") == live
        return graph_change(iri, local, live, remote if complete else None)

    @staticmethod
    def filled(store: EmbeddedStore, change: GraphChange) -> GraphChange:
        """The change with its content, read from the local store if it is a whole graph not yet read."""
        return change.fill(store.graph_ntriples(change.iri)) if change.whole and not change.add else change

    def remote(self, *graphs: str) -> RemoteStore:
        return RemoteStore(
            self.target.endpoint,
            graphs=list(graphs),
            auth=self.target.auth,
            headers=self.client.headers,
            timeout=self.target.timeout,
        )

    def counts(self, iris: list[str]) -> dict[str, int]:
        try:
            found = triples_per_graph(self.remote(*iris))
        except StoreFailed as error:  # any: what was written before is said by whoever catches this
            raise PushError(str(error)) from None
        return {iri: found.get(iri, 0) for iri in iris}

    def leftover_staging(self, local: list[str]) -> list[str]:
        """The graphs an earlier push left on the target for itself (it stopped before dropping them):
        its staging graphs and its probe graph, listed in one request for every graph named under the
        push's own prefix (any other graph so named is someone else's); where a store cannot list its
        graphs, the staging graphs of the graphs being pushed and the probe graph."""
        try:
            listed = self.remote().query(
                *bound("graphs-under-prefix", prefix=OWN_PREFIX), union_default_graph=False
            )
            assert isinstance(listed, Solutions)  # a SELECT answers solutions
            graphs = (row["g"] for row in value_rows(listed) if "g" in row)
            return sorted(g for g in graphs if g.startswith(STAGING_PREFIX) or g == PROBE_GRAPH)
        except (RemoteError, RemoteQueryError):
            ours = self.counts([*(staging_iri(iri) for iri in local), PROBE_GRAPH])
            return sorted(iri for iri, count in ours.items() if count)

    def drop(self, iris: list[str]) -> None:
        """Drop graphs in one update request, not retried (a retry could drop what a later request wrote)."""
        self.update(" ;\n".join(update("drop-graph", graph=iri) for iri in iris), retry=False)

    def drop_partial(self, iri: str, local: int) -> str:
        """After a failed load of a graph the store did not hold, which may have written part of it
        (`load_in_part`): drop whatever of it was written,
        and say so; where the drop fails, say what the store holds of it, as far as it can be counted."""
        try:
            self.drop([iri])
        except PushError as error:
            try:
                held = f"it holds {self.counts([iri])[iri]} of its {local} triples"
            except PushError:
                held = f"how many of its {local} triples it holds could not be counted"
            return f"it could not be dropped ({error}): {held}; the next push sends what it lacks"
        return "what of it was written has been dropped, as the store did not hold it before"

    def drop_staging(self) -> str:
        """Best effort: drop the staging graphs and say what of them the target still holds; noted
        in the report where any may remain."""
        if not self.staged:
            return "no staging graph was written"
        staging = [staging_iri(iri) for iri in self.staged]
        try:
            self.drop(staging)
        except PushError as error:
            left = self.left_over(staging, error)
            if left is not None:
                self.notes.append(
                    f"the staging graphs could not be dropped: {left} (the next push drops them)"
                )
                return self.notes[-1]
        self.staged.clear()  # none is left: an interrupted push names none
        return STAGING_DROPPED

    def left_over(self, iris: list[str], error: PushError) -> str | None:
        """After a failed drop of `iris`: None when the target holds none of them (the drop went
        through, its answer lost), else what it holds of them, as far as it can be counted."""
        try:
            held = {iri: n for iri, n in self.counts(iris).items() if n}
        except PushError as counting:
            return f"{str(error).rstrip('.')}; whether they remain could not be counted ({counting})"
        if not held:
            return None
        held_now = ", ".join(f"{iri} ({n} triples)" for iri, n in held.items())
        return f"{str(error).rstrip('.')}; the target holds {held_now}"


def virtuoso_graph_store(gsp: str) -> bool:
    """Whether `gsp` is Virtuoso's Graph Store endpoint."""
    return urlsplit(gsp).path.rstrip("/").endswith(("sparql-graph-crud", "sparql-graph-crud-auth"))


def _graph_parameter(gsp: str) -> str:
    """Virtuoso's Graph Store endpoint names the graph `graph-uri`; the standard says `graph`."""
    return "graph-uri" if virtuoso_graph_store(gsp) else "graph"
