"""The one store interface every consumer reads through, and the values it speaks in.

`kg build` fills it; the CLI, the server and the network code open it read-only
and ask SPARQL of it, so a remote SPARQL endpoint can stand behind the same
interface.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox

from kg.errors import KgError

DEFAULT_STORE = Path(".kg/store")


Term = ox.NamedNode | ox.Literal
Answer = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


class Store(Protocol):
    """What every reader needs of a store, embedded or remote."""

    def query(
        self, sparql: str, bindings: Mapping[str, Term] | None = None, *, union_default_graph: bool = True
    ) -> Answer:
        """Run a read-only SPARQL query, `bindings` substituted as terms."""
        ...


class StoreMissing(KgError, FileNotFoundError):
    """No built store where one was expected."""

    status = 503


def graph_name(iri: str) -> str:
    """The short name of one of the dataset's named graphs (`…/graph/data` -> `data`)."""
    return iri.rsplit("/", 1)[-1]
