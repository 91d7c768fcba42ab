"""What every blueprint shares: the settings, the worker pool and the store over it, the one cache,
the catalogue, and term helpers.

There is one Services for each build generation the server answers from; blueprints reach the one
of their request's generation through `services()`. Building one starts nothing: its workers start
on its first query (or in `kg serve`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TypeVar, cast

from flask import current_app, has_request_context, request

from kg.literals import cut
from kg.network.canvas import waiting_at_most
from kg.query.catalogue import NamedQuery, load_catalogue
from kg.query.counts import counted
from kg.query.internal import typed
from kg.readable.labels import labels_for
from kg.store.base import Store, StoreFailed
from kg.store.description import DescribedCounts, built_description, described_counts
from kg.store.opening import is_endpoint
from kg.store.queryfiles import Bindings

from . import cache_status
from .admission import Gate, client_key
from .bounded import BoundedStore, whole
from .cache import BudgetCache
from .config import ServerConfig
from .fairness import MADE_FOR_ALL, held_to_budget, in_background
from .forkserver import ForkServer
from .held import held_store
from .messages import Answer, Query
from .workers import ServiceError, WorkerPool

T = TypeVar("T")
log = logging.getLogger(__name__)
# What an object made once for every visitor (a network model, the search index) asks is counted under
# a name of its own (`fairness.MADE_FOR_ALL`), not the address of the visitor whose request happened to
# make it: that visitor would be charged for work all share, and after one such reading at the time
# limit held to be heavy and kept from the reserve of idle workers. The making is bounded without it:
# once per generation, a refusal kept a while, and started only by a client within its budget. Its
# queries are charged to that name, ranked behind every visitor known to be light, and never refused
# for a budget.
_MAKER: ContextVar[str | None] = ContextVar("maker", default=None)
SHOWN_CHARACTERS = 2_000  # of one value or label on a page or in a picture; CSV and JSON hold it whole
REFUSAL_KEPT = 600.0  # seconds a lasting refusal of a derived object is kept before it is made again


@dataclass(frozen=True)
class Term:
    """One RDF term of a SPARQL JSON answer."""

    type: str  # uri, literal, bnode or triple
    value: str
    datatype: str | None = None
    lang: str | None = None

    @property
    def is_iri(self) -> bool:
        return self.type == "uri"


@dataclass(frozen=True)
class Served:
    """What one generation is answered from: its name, a factory opening exactly its store (picklable,
    for the query workers), and its dist/ folder."""

    generation: str
    store_factory: Callable[[], Store]
    dist: Path
    own_dist: bool = False  # dist/ is the one the build of this very store wrote: its counts are the store's
    local: Path | None = None  # the embedded store's real folder; None for a remote store


class Services:
    """The state of the server for one generation of the build, read-only after start: its query
    workers opening that generation's store, the bounded store over them, and its one cache."""

    def __init__(self, config: ServerConfig, served: Served) -> None:
        self.config = config
        self.dist = served.dist  # this generation's build output (its dataset description)
        self.own_dist = served.own_dist
        self.cache = BudgetCache(config.cache_mb * 2**20)
        holding = config.in_memory and served.local is not None
        self.pool = WorkerPool(
            held_store if holding else served.store_factory,
            config.workers,
            config.timeout,
            cache=self.cache if config.cache_mb > 0 else None,
            queue_wait=config.queue_wait,
            client_limit=config.queries_per_client,
            client_budget=config.client_budget,
            isolate_network=config.isolate_network,
            memory_mb=config.worker_memory_mb or None,
            on_answer=cache_status.note,
            forks=ForkServer(holding=str(served.local)) if holding else None,
            gate=Gate(*config.costly_threads, wait=config.queue_wait),
        )
        self.store = BoundedStore(self.pool, config.own_max_rows, client)
        self._derived: dict[Hashable, object] = {}
        self._making: dict[Hashable, threading.Lock] = {}  # one lock per object: one is made at a time
        self._deriving = threading.Lock()  # guards `_making`
        self._refused: dict[Hashable, _Refused] = {}
        self.catalogue: dict[str, NamedQuery] = (
            load_catalogue(config.queries) if config.queries.is_dir() else {}
        )

    def close(self) -> None:
        self.pool.close()
        if "spool" in self.__dict__:
            shutil.rmtree(self.spool, ignore_errors=True)

    @cached_property
    def spool(self) -> Path:
        """A folder of this generation's own for the files it writes once and sends (the dataset's
        dump made from the store), removed when the generation is no longer served."""
        return Path(tempfile.mkdtemp(prefix="kg-serve-"))

    def derived(self, key: Hashable, make: Callable[[], T]) -> T:
        """An object computed from this generation's read-only store (a network model, the search
        index), made once and kept while the generation is served. A few such objects exist, so unlike
        answers and pictures they are not held to the cache's budget; requests that need one while it
        is made wait for it rather than make it again, and requests for another object do not wait.

        Making one refused in a way that would come again (no Retry-After: the row cap, the time limit,
        a worker's memory) is refused at once for REFUSAL_KEPT seconds: at 10 M triples each request
        would otherwise wait out the time limit again. The limit is wall-clock, so a making refused on
        a loaded machine is tried again later. One refused in a way that may pass (every worker busy,
        stopped for a lighter client) is refused at once for 1, 2, 4 … seconds after each such refusal
        in a row, up to REFUSAL_KEPT: a long making stopped for every light visitor would otherwise be
        started again, for nothing, by each request. A making that fails otherwise (a defect) is kept as
        one that would come again, with status 500. A client past its budget does not start one."""
        making = self._making_lock(key)
        with making:
            if key in self._derived:
                return cast(T, self._derived[key])
            self._may_make(key)
            return self._make(key, make)

    def derived_within(self, key: Hashable, make: Callable[[], T], seconds: float) -> T | None:
        """`derived`, waited for at most `seconds`: None while the making goes on after that, in the
        background (started there by this request when no one is making it), so that a request which
        can answer without the object is not held for the whole making (the search index took 16 s
        at 1 M triples). A refusal is raised as `derived` raises it, and so is the refusal of a making
        this request waited for; no request makes the object in its own thread."""
        making = self._making_lock(key)
        waiting_since = time.monotonic()
        deadline = waiting_since + seconds
        while True:
            if key in self._derived:
                return cast(T, self._derived[key])
            if making.acquire(blocking=False):  # no one is making it
                self._start_making(making, key, make)
            left = deadline - time.monotonic()
            if left <= 0 or not making.acquire(timeout=left):
                return None
            making.release()
            refused = self._refused.get(key)
            if key not in self._derived and refused is not None and refused.when >= waiting_since:
                # the outcome of a making waited for, even where it is kept no longer (REFUSAL_KEPT)
                raise ServiceError(
                    refused.status, refused.message, retry_after=refused.retry_after(refused.left())
                )
            # made, or the lock was held only a moment (a client past its budget asking): look again

    def _start_making(self, making: threading.Lock, key: Hashable, make: Callable[[], T]) -> None:
        """Make the object in a thread of its own, handed the lock the caller took, so that no request
        can take it first and make it itself; where nothing is to be started (made meanwhile, a kept
        refusal, a client past its budget, no thread to be had), release the lock, raising why."""
        try:
            if key not in self._derived:
                self._may_make(key)
                threading.Thread(target=self._make_holding, args=(making, key, make), daemon=True).start()
                return
        except BaseException:
            making.release()
            raise
        making.release()

    def _making_lock(self, key: Hashable) -> threading.Lock:
        with self._deriving:
            return self._making.setdefault(key, threading.Lock())

    def _may_make(self, key: Hashable) -> None:
        """Raise the refusal of the object still kept, or the 429 of a client past its budget, which
        is not charged for the making but cannot start one."""
        refused = self._refused.get(key)
        if refused and (left := refused.left()) > 0:
            raise ServiceError(refused.status, refused.message, retry_after=refused.retry_after(left))
        if held_to_budget():
            self.pool.within_budget(client())

    def _make(self, key: Hashable, make: Callable[[], T]) -> T:
        """Make the object under its own name (`MADE_FOR_ALL`) and keep it, or keep why not: its refusal,
        or any other failure as a refusal that would come again (500); the caller holds its making lock."""
        refused = self._refused.get(key)
        token = _MAKER.set(f"{MADE_FOR_ALL}{key!r}")
        try:
            with in_background():
                made = self._derived[key] = make()
        except Exception as failure:
            if isinstance(failure, ServiceError):
                status, message, passes = failure.status, failure.message, failure.retry_after is not None
            elif isinstance(failure, StoreFailed):
                # the store behind sent what cannot be read: it may not again
                status, message, passes = failure.status, failure.public, True
            else:  # a defect: kept like a refusal that would come again, not met again by each request
                log.exception("making %r for every visitor failed", key)
                status, message, passes = 500, f"it could not be made ({type(failure).__name__})", False
            tries = refused.tries + 1 if refused and refused.passes and passes else 1
            self._refused[key] = _Refused(status, message, time.monotonic(), passes, tries)
            raise
        finally:
            _MAKER.reset(token)
        return made

    def _make_holding(self, making: threading.Lock, key: Hashable, make: Callable[[], T]) -> None:
        """`_make` in a thread of its own, releasing the making lock the request handed it."""
        try:
            with contextlib.suppress(Exception):  # kept by `_make` for the requests after
                self._make(key, make)
        finally:
            making.release()

    def picture(self, key: Hashable, draw: Callable[[], bytes]) -> bytes:
        """A picture (or another whole thing this process makes: the ontology's page, a dump of the
        dataset) kept in the cache under `key`, made when it is not there for the current request's
        client, held to its budget and charged for the making (`WorkerPool.worked`)."""
        asking = client()
        wait = self.config.queue_wait  # for a turn to draw, as for a worker

        def drawn() -> bytes:
            return self.pool.worked(asking, lambda: waiting_at_most(wait, draw))

        return self.cache.get_or_make(key, drawn)

    def run(self, query: Query) -> Answer:
        """Answer a query for the client of the current request, within every limit."""
        return self.pool.run(query, client())

    def graph(self, iri: str, output_format: str) -> Answer:
        """Every triple of one named graph of the dataset (the caller checks `iri` is one)."""
        return self.run(_graph_query(iri, output_format))

    def graph_file(self, iri: str, path: Path) -> Path:
        """Every triple of one named graph as N-Triples in the file `path`, written there by the worker
        that reads them: at a million triples the data graph's 125 MB never pass through this process."""
        self.run(_graph_query(iri, "ntriples", str(path)))
        return path

    @cached_property
    def graphs(self) -> dict[str, int]:
        """Triples per named graph; the graphs a query may name in FROM or default-graph-uri."""
        if self._counted:
            return self._counted.graphs
        return counted(self.select(*typed("triples-per-graph")), "graph", "triples")

    @cached_property
    def predicates(self) -> frozenset[str] | None:
        """The only predicates a client's query may name in front of a remote store: those the dataset
        holds or declares, asked of the store once. A store may run code under a predicate's IRI (Jena's
        property functions); the embedded store does not: None there, any predicate."""
        if not is_endpoint(self.config.store):
            return None
        return frozenset(row["predicate"].value for row in self.select(*typed("predicates")))

    @cached_property
    def classes(self) -> dict[str, int]:
        """Instances per class in the union of the graphs, commonest first."""
        if self._counted:
            return dict(sorted(self._counted.classes.items(), key=lambda item: (-item[1], item[0])))
        return counted(self.select(*typed("instances-per-class")), "class", "instances")

    @cached_property
    def _counted(self) -> DescribedCounts | None:
        """The counts the build wrote beside this very store, if it did. Counting in the store took
        5.5 s (graphs) and 1.2 s (classes) at 10 M triples, and every SPARQL query waits for the
        graphs; None for a remote store, one served with another dist/, or a description that cannot be
        read or names no graph: those are counted."""
        if not self.own_dist:
            return None
        try:
            counted = described_counts(built_description(self.dist))
        except (OSError, SyntaxError, ValueError):  # missing (DescriptionMissing is one), unreadable
            log.warning("the description in %s cannot be read; the store is counted instead", self.dist)
            return None
        return counted if counted.graphs else None  # a store holds at least its ontology's graph

    def select(self, text: str, bindings: Bindings | None = None) -> list[dict[str, Term]]:
        """Rows of a SELECT the server itself asks, within every limit but under its own row cap."""
        return _terms(self._solutions(text, bindings))

    def first(self, text: str, bindings: Bindings | None, rows: int) -> tuple[list[dict[str, Term]], bool]:
        """The first `rows` rows of a SELECT in the order the store makes them, and whether there are
        more: a page that shows a few of many reads only those, where an ORDER BY would sort them all."""
        answer = self.run(Query(text, Query.sorted_bindings(bindings), max_rows=rows))
        return _terms(_solutions_of(answer)), answer.truncated

    def values(self, text: str, bindings: Bindings | None = None) -> list[dict[str, str]]:
        """`select`'s rows as each term's value alone: what the search index and evidence read, without
        a term object per value (a library's index reads hundreds of thousands)."""
        return [
            {name: value["value"] for name, value in row.items()} for row in self._solutions(text, bindings)
        ]

    def _solutions(self, text: str, bindings: Bindings | None) -> list[dict[str, dict[str, str]]]:
        cap = self.config.own_max_rows
        return _solutions_of(whole(self.run(Query(text, Query.sorted_bindings(bindings), max_rows=cap)), cap))

    def link(self, iri: str) -> str | None:
        """Where a link to an IRI goes: dataset IRIs to this server, absolute web IRIs out, anything else
        (a relative or protocol-relative reference, another scheme such as `javascript:`) nowhere."""
        local = self.local_path(iri)
        if local != iri:
            return local
        return iri if iri.startswith(("http://", "https://")) else None

    def local_path(self, iri: str) -> str:
        """Where a dataset IRI resolves on this server: the canonical base maps onto '/'."""
        base = self.config.canonical_base
        # A rest starting with a slash would make `//host/...`, which browsers read as another site.
        if iri.startswith(base) and not iri[len(base) :].startswith(("/", "\\")):
            rest = iri[len(base) :]
            path, hash_, fragment = rest.partition("#")
            return "/" + path + (hash_ + fragment)
        return iri

    def public_url(self, path: str) -> str:
        """The absolute URL of a path on this server, from its configured base URL, never the Host
        a request names."""
        return self.config.base_url + path.lstrip("/")

    def canonical(self, path: str) -> str:
        """The dataset IRI served at a local path (the inverse of local_path)."""
        return self.config.canonical_base + path.lstrip("/")

    def labels(self, iris: set[str]) -> dict[str, str]:
        """A readable label for each IRI that has one, by the first label property that is present, cut
        at SHOWN_CHARACTERS as a page shows a value: a label of megabytes was shown whole."""
        found = labels_for(
            lambda query: ({k: v.value for k, v in row.items()} for row in self.select(query)), iris
        )
        return {iri: cut(label, SHOWN_CHARACTERS) for iri, label in found.items()}


@dataclass(frozen=True)
class _Refused:
    """Why making a derived object was refused, when, whether it may pass, and how many such in a row."""

    status: int
    message: str
    when: float
    passes: bool
    tries: int

    def left(self) -> float:
        """Seconds this refusal is still given at once."""
        kept = min(REFUSAL_KEPT, 2.0 ** (self.tries - 1)) if self.passes else REFUSAL_KEPT
        return self.when + kept - time.monotonic()

    def retry_after(self, left: float) -> int | None:
        """The Retry-After of a refusal that may pass; none for one that would come again."""
        return max(1, math.ceil(left)) if self.passes else None


def _solutions_of(answer: Answer) -> list[dict[str, dict[str, str]]]:
    """The rows of a SELECT's answer in the SPARQL JSON results format."""
    solutions: list[dict[str, dict[str, str]]] = json.loads(answer.body)["results"]["bindings"]
    return solutions


def _terms(solutions: list[dict[str, dict[str, str]]]) -> list[dict[str, Term]]:
    """SPARQL JSON results' rows as terms."""
    return [
        {
            name: Term(value["type"], value["value"], value.get("datatype"), value.get("xml:lang"))
            for name, value in row.items()
        }
        for row in solutions
    ]


def client() -> str | None:
    """Who asks: the object being made for every visitor (`Services.derived`), else the address of the
    current request's client; None outside a request (the server)."""
    if (maker := _MAKER.get()) is not None:
        return maker
    return client_key(request.remote_addr or "unknown") if has_request_context() else None


def services() -> Services:
    """The Services of the generation the current request is answered from (see `generation`)."""
    state: Services = current_app.extensions["kg"].services()
    return state


def _graph_query(iri: str, output_format: str, written_to: str | None = None) -> Query:
    """The query for every triple of one named graph, its answer in `output_format`, written to the
    file `written_to` by the worker where one is given."""
    text, bindings = typed("graph", graph=iri)
    return Query(text, Query.sorted_bindings(bindings), graph_format=output_format, written_to=written_to)
