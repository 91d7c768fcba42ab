"""The store every blueprint reads through: the Store protocol answered by the worker pool.

Nothing in the web process opens a store of its own, so every query the
server asks, for a client's SPARQL or for a network picture, runs under the
same time limit, row cap, memory limit and network isolation, and shares the
one answer cache.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pyoxigraph as ox

from kg.store.base import Bound, BoundTerm, Dataset, StoreAnswer, streamed
from kg.store.queryfiles import Binding, Bindings

from .messages import Answer, Query
from .workers import ServiceError, WorkerPool


def binding(term: BoundTerm) -> Binding:
    """A term as the pipe carries it (kind, lexical form, datatype or `@` and its language)."""
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value, None)
    if term.language:
        return ("literal", term.value, "@" + term.language)
    return ("literal", term.value, term.datatype.value)


def whole(answer: Answer, max_rows: int) -> Answer:
    """An answer to one of the server's own queries, which must be whole: one cut by the row cap is an
    error, never a silently partial picture or index."""
    if answer.truncated:
        raise ServiceError(500, f"a query of the server reached the row cap of {max_rows} rows")
    return answer


class BoundedStore:
    """Store-protocol reads through the pool; an answer cut by the row cap is an error, never a silently
    partial picture."""

    def __init__(self, pool: WorkerPool, max_rows: int, client: Callable[[], str | None]) -> None:
        self.pool = pool
        self.max_rows = max_rows
        self.client = client

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Bound] | None = None,
        *,
        union_default_graph: bool = True,
        dataset: Dataset | None = None,
    ) -> StoreAnswer:
        if dataset is not None:  # only a client's query names one, and it goes through `run_sparql`
            raise ValueError("the server's own queries read the union of the graphs or the default graph")
        typed: Bindings = {
            name: tuple(binding(term) for term in value) if isinstance(value, tuple) else binding(value)
            for name, value in (bindings or {}).items()
        }
        request = Query(
            sparql,
            Query.sorted_bindings(typed),
            max_rows=self.max_rows,
            select_format="json",
            graph_format="ntriples",
            union_default_graph=union_default_graph,
        )
        answer = whole(self.pool.run(request, self.client()), self.max_rows)
        if answer.kind == "graph":
            return [quad.triple for quad in ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES)]
        return streamed(ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON))
