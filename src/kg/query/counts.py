"""How much a store holds: triples per named graph, instances per class, asked the same way of any store."""

from __future__ import annotations

from kg.query.internal import ask
from kg.store.base import Store


def triples_per_graph(store: Store) -> dict[str, int]:
    """The number of triples in each named graph the store shows (a remote store shows the dataset's)."""
    result = ask(store, "triples-per-graph", union_default_graph=False)
    return {row["graph"].value: int(row["triples"].value) for row in result.rows}


def instances_per_class(store: Store) -> dict[str, int]:
    """The number of distinct instances of each class, across all graphs, commonest first."""
    result = ask(store, "instances-per-class")
    return {row["class"].value: int(row["instances"].value) for row in result.rows}
