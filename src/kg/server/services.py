"""What every blueprint shares: the settings, the worker pool, the catalogue, and term helpers.

There is one Services for each build generation the server answers from;
blueprints reach the one of their request's generation through `services()`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from flask import current_app

from kg.query.catalogue import NamedQuery, load_catalogue
from kg.readable.labels import labels_for
from kg.store.base import Store

from .config import ServerConfig
from .workers import Binding, WorkerPool


@dataclass(frozen=True)
class Term:
    """One RDF term of a SPARQL JSON answer."""

    type: str  # uri, literal, bnode or triple
    value: str
    datatype: str | None = None
    lang: str | None = None

    @property
    def is_iri(self) -> bool:
        return self.type == "uri"


@dataclass(frozen=True)
class Served:
    """What one generation is answered from: its name, a factory opening exactly its store (picklable,
    for the query workers), and its dist/ folder."""

    generation: str
    store_factory: Callable[[], Store]
    dist: Path


class Services:
    """The state of the server for one generation of the build, read-only after start: its query
    workers opening that generation's store, and whatever is derived from its answers."""

    def __init__(self, config: ServerConfig, served: Served) -> None:
        self.config = config
        self.store_factory = served.store_factory
        self.dist = served.dist  # this generation's build output (its dataset description)
        self.pool = WorkerPool(served.store_factory, config.workers, config.timeout, config.cache_mb * 2**20)
        self.catalogue: dict[str, NamedQuery] = (
            load_catalogue(config.queries) if config.queries.is_dir() else {}
        )
        self._made: dict[tuple[str, ...], Any] = {}
        self._made_lock = threading.Lock()

    def made(self, key: tuple[str, ...], make: Callable[[], Any]) -> Any:
        """A value derived from this generation's answers (a picture, a page's data), made once."""
        with self._made_lock:
            if key in self._made:
                return self._made[key]
        value = make()  # outside the lock: making one value may need another
        with self._made_lock:
            return self._made.setdefault(key, value)

    def close(self) -> None:
        self.pool.close()

    @cached_property
    def graphs(self) -> dict[str, int]:
        """Triples per named graph; the graphs a query may name in FROM or default-graph-uri."""
        rows = self.select(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
        )
        return {row["g"].value: int(row["n"].value) for row in rows}

    def select(self, text: str, bindings: dict[str, Binding] | None = None) -> list[dict[str, Term]]:
        """Rows of a SELECT the server itself asks, capped like any other query."""
        answer = self.pool.run(text, bindings, max_rows=self.config.max_rows, output_format="json")
        return [
            {
                name: Term(value["type"], value["value"], value.get("datatype"), value.get("xml:lang"))
                for name, value in row.items()
            }
            for row in json.loads(answer.body)["results"]["bindings"]
        ]

    def local_path(self, iri: str) -> str:
        """Where a dataset IRI resolves on this server: the canonical base maps onto '/'."""
        base = self.config.canonical_base
        # A rest starting with a slash would make `//host/...`, which browsers read as another site.
        if iri.startswith(base) and not iri[len(base) :].startswith(("/", "\\")):
            rest = iri[len(base) :]
            path, hash_, fragment = rest.partition("#")
            return "/" + path + (hash_ + fragment)
        return iri

    def public_url(self, path: str) -> str:
        """The absolute URL of a path on this server, from its configured base URL, never the Host
        a request names."""
        return self.config.base_url + path.lstrip("/")

    def canonical(self, path: str) -> str:
        """The dataset IRI served at a local path (the inverse of local_path)."""
        return self.config.canonical_base + path.lstrip("/")

    def labels(self, iris: set[str]) -> dict[str, str]:
        """A readable label for each IRI that has one, by the first label property that is present."""
        return labels_for(
            lambda query: ({k: v.value for k, v in row.items()} for row in self.select(query)), iris
        )


def services() -> Services:
    """The Services of the generation the current request is answered from (see `generation`)."""
    return current_app.extensions["kg"].services()
