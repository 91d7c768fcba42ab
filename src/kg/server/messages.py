"""What the web process and a query worker say to each other over their pipe: typed, frozen messages.

A request is also its own cache key: every field but the message of a 406 is part
of what the answer depends on, in one canonical spelling (bindings sorted,
formats resolved), so two spellings of the same question share one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kg.store.base import Store
from kg.store.queryfiles import Binding, Bindings

from .engine_plan import PlanCheck
from .sandbox import Protections


@dataclass(frozen=True)
class Setup:
    """The first message to a new worker: how to open the store and what to protect it with."""

    store_factory: Callable[[], Store]
    isolate_network: bool
    probe_port: int | None
    memory_mb: int | None
    query_cpu_s: float  # CPU time a query may use before the kernel stops the worker
    # Where client queries are also planned by Oxigraph offline (a store reached over the network), or
    # why they cannot be (then they are refused); None when the workers have no network to lose.
    plans: PlanCheck | str | None = None


@dataclass(frozen=True)
class Ready:
    """A worker opened its store; these protections are in force in it."""

    protections: Protections


@dataclass(frozen=True)
class Unready:
    """A worker could not open its store, and why (a store damaged outside the tool, say)."""

    reason: str


@dataclass(frozen=True)
class ClientText:
    """A query text from a client: the worker reads it with the guard before the engine sees it."""

    graphs: frozenset[str]
    default: tuple[str, ...] = ()  # the protocol's default-graph-uri values
    named: tuple[str, ...] = ()  # the protocol's named-graph-uri values
    predicates: frozenset[str] | None = None  # the only ones its patterns may name; None: any


@dataclass(frozen=True)
class Query:
    """One query to answer: text, typed bindings, the row cap and the format per kind of answer.

    `select_format` serves SELECT answers, `ask_format` ASK answers and
    `graph_format` CONSTRUCT and DESCRIBE; None means the client accepts no
    format for that kind, and `not_acceptable` is the 406 message then. `client` is set for text from
    outside the server, which the worker checks before running it.
    """

    text: str
    bindings: tuple[tuple[str, Binding | tuple[Binding, ...]], ...] = ()
    max_rows: int | None = None
    max_bytes: int | None = None  # of the answer as written; past it, cut to fewer rows and flagged
    select_format: str | None = "json"
    ask_format: str | None = "json"
    graph_format: str | None = "turtle"
    union_default_graph: bool = True
    client: ClientText | None = None
    # The server's own answers too large to pass through the web process (a named graph for the
    # dataset's dump): the worker writes the answer to this file and sends an empty body.
    written_to: str | None = None
    # not part of the cache's key, so it holds nothing of the request: a kept 406 is given to others too
    not_acceptable: str = field(default="", compare=False)

    @staticmethod
    def sorted_bindings(bindings: Bindings | None) -> tuple[tuple[str, Binding | tuple[Binding, ...]], ...]:
        return tuple(sorted((bindings or {}).items()))


@dataclass(frozen=True)
class Answer:
    """A serialized answer: its kind (select, ask, graph), format, bytes and whether rows were capped."""

    kind: str
    output_format: str
    body: bytes
    truncated: bool
    count: int


@dataclass(frozen=True)
class Failure:
    """A query that got no answer: the HTTP status, one sentence, and for syntax errors where.

    `spent` says the worker must not be used again (it ran out of memory).
    """

    status: int
    message: str
    line: int | None = None
    column: int | None = None
    spent: bool = False
