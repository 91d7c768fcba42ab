"""The questions the code itself asks of a store, kept as catalogue files beside the public ones.

Each is a `.rq` file in this folder with a `#+` header, loaded by the catalogue
loader and bound by its typed parameters like any question in `queries/`, and
run on both engines by the tests. They are listed by `kg queries --internal`,
but are not offered as questions to users.
"""

from __future__ import annotations

import functools
from pathlib import Path

from kg.query.catalogue import NamedQuery, load_catalogue
from kg.query.run import QueryResult, binding_terms, run_query
from kg.store.base import Store

FOLDER = Path(__file__).resolve().parent


@functools.cache
def internal_queries() -> dict[str, NamedQuery]:
    """Every internal query, by name (loaded once: the files ship with the package)."""
    return load_catalogue(FOLDER)


def internal(name: str) -> NamedQuery:
    return internal_queries()[name]


def ask(
    store: Store, name: str, *, max_rows: int | None = None, union_default_graph: bool = True, **given: str
) -> QueryResult:
    """Run internal query `name` on `store`, `given` values checked against its parameters' types."""
    query = internal(name)
    return run_query(
        store,
        query.text,
        binding_terms(query.bindings(given)),
        max_rows=max_rows,
        source=str(query.path),
        union_default_graph=union_default_graph,
    )
