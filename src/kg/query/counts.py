"""How much a store holds: triples per named graph, instances per class, asked the same way of any store."""

from __future__ import annotations

import pyoxigraph as ox

from kg.query.internal import ask
from kg.store.base import SolutionTerm, Store, StoreFailed


def triples_per_graph(store: Store) -> dict[str, int]:
    """The number of triples in each named graph the store shows (a remote store shows the dataset's)."""
    result = ask(store, "triples-per-graph", union_default_graph=False)
    return {row["graph"].value: _count(row["triples"]) for row in result.rows}


def instances_per_class(store: Store) -> dict[str, int]:
    """The number of distinct instances of each class, across all graphs, commonest first."""
    result = ask(store, "instances-per-class")
    return {row["class"].value: _count(row["instances"]) for row in result.rows}


def _count(term: SolutionTerm) -> int:
    """A count a store answered; one that is not a whole number is the store's failure."""
    if isinstance(term, ox.Literal) and term.value.isdigit():
        return int(term.value)
    raise StoreFailed(f"the store answered a count of {term}", "the store answered what cannot be read")
