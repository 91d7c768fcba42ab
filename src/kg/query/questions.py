"""Asking a named question of a store: the catalogue's query, its typed parameters, its answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from kg.query.catalogue import CatalogueError, NamedQuery, named_query
from kg.query.run import QueryResult, run_query
from kg.store.base import Store
from kg.store.queryfiles import binding_terms

QUERIES = Path("queries")


def answer(
    store: Store,
    query: NamedQuery,
    given: Mapping[str, str | Sequence[str]] | None = None,
    *,
    max_rows: int | None = None,
    union_default_graph: bool = True,
) -> QueryResult:
    """Run `query` on `store`, `given` values checked against its parameters' types (else defaults)."""
    return run_query(
        store,
        query.text,
        binding_terms(query.bindings(given or {})),
        max_rows=max_rows,
        source=str(query.path),
        union_default_graph=union_default_graph,
    )


def ask(
    store: Store,
    name: str,
    *,
    queries: Path = QUERIES,
    max_rows: int | None = None,
    **given: str | Sequence[str],
) -> QueryResult:
    """Answer the catalogue question `name` (a file `queries/NAME.rq`) from `store`."""
    named = named_query(queries, name)
    if named is None:
        raise CatalogueError(f"no query named {name!r} in {queries}; `kg queries` lists them")
    return answer(store, named, given, max_rows=max_rows)
