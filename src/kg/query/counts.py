"""How much a store holds: triples per named graph, sources, instances per class, asked alike of any store."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Protocol

import pyoxigraph as ox

from kg.query.internal import ask
from kg.store.base import Store, StoreFailed


def triples_per_graph(store: Store) -> dict[str, int]:
    """The number of triples in each named graph the store shows (a remote store shows the dataset's)."""
    return counted(ask(store, "triples-per-graph", union_default_graph=False).rows, "graph", "triples")


def instances_per_class(store: Store) -> dict[str, int]:
    """The number of distinct instances of each class, across all graphs, commonest first."""
    return counted(ask(store, "instances-per-class").rows, "class", "instances")


def source_count(store: Store) -> int:
    """The source reports, each a kg:Report with a text of its own: the instances of kg:Report also
    hold the documents the sources cite."""
    return len({row["doc"].value for row in ask(store, "source-documents").rows})


class Valued(Protocol):
    """A term as an answer gives it: Oxigraph's, or the server's reading of a JSON answer (whose `type`
    says what it is)."""

    @property
    def value(self) -> str: ...


def counted(rows: Iterable[Mapping[str, Valued]], name: str, count: str) -> dict[str, int]:
    """Each row's `name` with its `count`, as a store answered them: a row without either, or a count
    that is not a literal of digits, is the store's failure (its answer cannot be read)."""
    found = {}
    for row in rows:
        named, number = row.get(name), row.get(count)
        literal = isinstance(number, ox.Literal) or getattr(number, "type", None) == "literal"
        if named is None or number is None or not (literal and _DIGITS.fullmatch(number.value)):
            said = f"the store answered a count of {number} for {named}"
            raise StoreFailed(said, "the store behind this server sent an answer that cannot be read")
        found[named.value] = int(number.value)
    return found


_DIGITS = re.compile(r"[0-9]+")  # ASCII: `str.isdigit` takes "²", which `int` refuses
