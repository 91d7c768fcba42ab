"""The push's SPARQL Update operations, kept as `.ru` files beside this module.

Each file has a `#+` header whose parameters are typed like a catalogue query's;
the graph names are written in place as checked IRIs, and the triples an
operation adds or removes (`$data`) as the canonical N-Triples lines the store's
serializer wrote: data, not query text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kg.store.queryfiles import NamedUpdate, packaged_updates

FOLDER = Path(__file__).resolve().parent


def updates() -> dict[str, NamedUpdate]:
    """Every update operation of the push, by name."""
    return packaged_updates(FOLDER)


def update(name: str, data: Sequence[str] = (), **given: str) -> str:
    """Update operation `name` with the `given` graph names, checked as IRIs, and `data` lines."""
    return updates()[name].operation(given, data)
