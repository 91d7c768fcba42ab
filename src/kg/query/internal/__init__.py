"""The questions the code itself asks of a store, kept as catalogue files beside the public ones.

Each is a `.rq` file in this folder with a `#+` header, loaded by the catalogue
loader and bound by its typed parameters like any question in `queries/`, and
run on both engines by the tests. They are listed by `kg queries --internal`,
but are not offered as questions to users.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kg.query.catalogue import NamedQuery
from kg.query.questions import answer
from kg.query.run import QueryResult
from kg.store.base import Bound, Store
from kg.store.queryfiles import Bindings, binding_terms, packaged_queries

FOLDER = Path(__file__).resolve().parent


def internal_queries() -> dict[str, NamedQuery]:
    """Every internal query, by name."""
    return packaged_queries(FOLDER)


def internal(name: str) -> NamedQuery:
    return internal_queries()[name]


def typed(name: str, **given: str | Sequence[str]) -> tuple[str, Bindings]:
    """Internal query `name` and its typed values, the form the server's query workers take."""
    query = internal(name)
    return query.text, query.bindings(given)


def bound(name: str, **given: str | Sequence[str]) -> tuple[str, dict[str, Bound]]:
    """Internal query `name` and its parameters as terms, `given` values checked against their types."""
    query = internal(name)
    return query.text, binding_terms(query.bindings(given))


def standalone(name: str, **given: str | Sequence[str]) -> str:
    """Internal query `name` with its typed values joined in as VALUES: one text, for an asker that
    takes text only (the server's worker pool, a select callable)."""
    return internal(name).standalone(given)


def ask(
    store: Store,
    name: str,
    *,
    max_rows: int | None = None,
    union_default_graph: bool = True,
    **given: str | Sequence[str],
) -> QueryResult:
    """Run internal query `name` on `store`, `given` values checked against its parameters' types."""
    return answer(store, internal(name), given, max_rows=max_rows, union_default_graph=union_default_graph)
