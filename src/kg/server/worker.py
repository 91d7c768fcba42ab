"""What a query worker process runs: it protects itself, opens the store and answers the pool's
queries over its pipe, one at a time (`kg.server.workers` holds the pool's side)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from kg.errors import KgError
from kg.query.run import QueryError, collect, syntax_error
from kg.store.base import Dataset, Store, StoreFailed, StoreUnreadable
from kg.store.queryfiles import binding_terms

from . import engine_plan, guard, held
from .engine_plan import PlanCheck
from .messages import Answer, ClientText, Failure, Query, Ready, Setup, Unready
from .sandbox import REMOTE, Protections, exposure, isolate_network, limit_cpu, limit_memory

log = logging.getLogger(__name__)

# The parser recurses about 400 frames per bracket level; guard.precheck bounds the levels.
_RECURSION_LIMIT = 60_000


def worker_main(fd: int) -> None:
    """Entry point of a worker process: protect itself, open the store, then answer until the pipe
    closes."""
    from multiprocessing.connection import Connection

    connection = Connection(fd)
    try:
        setup: Setup = connection.recv()
        network = isolate_network(setup.probe_port) if setup.isolate_network else REMOTE
        # Fails closed: a worker that kept the network answers the server's own queries, never a client's.
        exposed = exposure(network)
        sys.setrecursionlimit(_RECURSION_LIMIT)
        try:
            store = setup.store_factory()
        except KgError as error:  # said to the pool, which says it where the server starts
            connection.send(Unready(error.message))
            return
        guard.read("ASK {}", frozenset())  # the parser builds its grammar now, not on a client's time
        copy_mb = held.held_mb()  # 0 unless the fork server holds the store in memory
        memory = limit_memory(setup.memory_mb, beyond_mb=copy_mb)
        planner, unplanned = _try_plans(setup.plans)
        connection.send(Ready(Protections(network, memory, planner, unplanned, copy_mb)))
        while True:
            query: Query = connection.recv()
            limit_cpu(setup.query_cpu_s)
            reply = answer(store, query, setup.plans, exposed)
            connection.send(reply)
            if isinstance(reply, Failure) and reply.spent:
                return
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return  # the server closed its end (it stopped, perhaps while this worker started): nothing to answer


def _try_plans(plans: PlanCheck | str | None) -> tuple[str | None, str | None]:
    """What plans client queries offline here, found by planning one (the pool's first worker does),
    or why none can (then they are refused); (None, None) where they need not be."""
    if not isinstance(plans, PlanCheck):
        return None, plans
    if plans.tried:
        return plans.version, None
    try:
        engine_plan.check_plan(plans, "ASK {}", False)
    except guard.Refused as refused:
        return None, refused.message
    return plans.version, None


def answer(
    store: Store, query: Query, plans: PlanCheck | str | None = None, exposed: str | None = None
) -> Answer | Failure:
    """One query answered, or the reason it was not; nothing a query does makes the worker raise.
    `plans` is where a client's query is also planned by Oxigraph offline (`kg.server.engine_plan`);
    `exposed` why this worker, which should have none, still has the network: no client's query runs."""
    try:
        text, union, dataset = query.text, query.union_default_graph, None
        if query.client is not None:
            if exposed is not None:
                raise guard.Refused(
                    f"client queries are refused: the query workers could not leave the network ({exposed})",
                    503,
                )
            text, dataset, kind = admit(query.text, query.client)
            union = dataset is None
            if _format(query, kind) is None:  # known from the text: refused before the query runs
                return _not_acceptable(query, kind)
            if isinstance(plans, str):
                raise guard.Refused(f"the query cannot be checked: {plans}", 503)
            if plans is not None:
                engine_plan.check_plan(plans, text, union, query.client.predicates)
        bindings = binding_terms(dict(query.bindings))
        result = collect(
            store.query(text, bindings, union_default_graph=union, dataset=dataset),
            query.max_rows,
            query.max_bytes,
        )
        chosen = _format(query, result.kind)
        if chosen is None:
            return _not_acceptable(query, result.kind)
        result, body = result.within(query.max_bytes, chosen)
        count = len(result.triples) if result.kind == "graph" else len(result.rows)
        if query.written_to is not None:
            try:
                Path(query.written_to).write_bytes(body)
            except OSError as error:  # the cause, for the operator: the answer says only that it failed
                log.warning("the answer could not be written to %s: %s", query.written_to, error)
                raise
            body = b""
        return Answer(result.kind, chosen, body, result.truncated, count)
    except StoreFailed as error:  # before the others: the store's words are never a client's error
        log.warning("the store behind: %s", error)  # for the operator, in the server's log
        own = query.client is None  # the server's own query, which the store refusing is no client's fault
        return Failure(502 if own and error.status == 400 else error.status, error.public)
    except StoreUnreadable as error:  # a block of the store damaged since it was taken up
        log.warning("%s", error)  # for the operator: its path and RocksDB's words are no client's
        return Failure(500, "the store could not be read")
    except guard.Refused as refused:
        return Failure(refused.status, refused.message, refused.line, refused.column)
    except SyntaxError as error:
        failed = syntax_error(error)
        return Failure(400, failed.message, failed.line, failed.column)
    except QueryError as error:
        return Failure(error.status, error.message, error.line, error.column)
    except MemoryError:
        return Failure(503, "the query needed more memory than a query worker may use", spent=True)
    except OSError:
        # Never the error's text: it could carry another server's reply or say whether a port is open.
        return Failure(500, "the query failed while it ran")
    except (RuntimeError, ValueError) as error:
        return Failure(400, f"the query failed: {str(error).splitlines()[0][:200] if str(error) else ''}")
    except Exception as error:  # noqa: BLE001 - a worker reports, it never dies on bad input
        return Failure(500, f"the query failed: {type(error).__name__}")


def _format(query: Query, kind: str) -> str | None:
    """The format an answer of `kind` (select, ask, graph) takes for `query`; None where none fits."""
    return {"graph": query.graph_format, "ask": query.ask_format}.get(kind, query.select_format)


def _not_acceptable(query: Query, kind: str) -> Failure:
    return Failure(
        406,
        query.not_acceptable.replace("{kind}", {"graph": "a graph", "ask": "an ask"}.get(kind, "a select")),
    )


def admit(text: str, client: ClientText) -> tuple[str, Dataset | None, str]:
    """A client's text as it may run, the dataset it reads (None for the union of the named graphs), and
    the kind of its answer (select, ask, graph), known before it runs.

    The text is made canonical (`guard.canonical`), so that the engine reads the tokens the guard
    read; the protocol's dataset (default-graph-uri, named-graph-uri) is written into the text as FROM
    clauses, in place of any the text has, and the result is read again. A dataset the text names is
    given to the store as the graphs the guard read, which replace whatever the store makes of the
    text's clauses: stores resolve a relative `FROM <private//../data>` against a BASE otherwise than
    rdflib does.
    """
    graphs = client.graphs
    default, named = tuple(dict.fromkeys(client.default)), tuple(dict.fromkeys(client.named))  # a set each
    sent, text = text, guard.canonical(text)
    try:
        reading = guard.read(text, graphs, client.predicates)
    except guard.Refused as refused:  # placed in the canonical text: moved to the one sent
        raise guard.placed(refused, sent) from None
    if default or named:
        for iri in default + named:
            if iri not in graphs:
                raise guard.Refused(f"graph <{iri}> is not in this dataset")
        if reading.dataset:  # the request's dataset replaces the query's (SPARQL 1.1 Protocol §2.1.4)
            text = guard.without_dataset(text)
        text = guard.with_dataset(text, list(default), list(named))
        reading = guard.read(text, graphs, client.predicates)
        if (reading.default, reading.named) != (default, named):
            raise guard.Refused("the request's dataset cannot be applied to this query")
    return text, Dataset(reading.default, reading.named) if reading.dataset else None, reading.form
