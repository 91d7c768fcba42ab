"""Bulk loading into an Oxigraph store with memory bounded by a batch, not by the data.

Oxigraph's bulk loader keeps the quads of a call in memory (up to a million,
about 0.7 kB each, measured) before it writes them to disk, so one call with a
whole dataset holds all of it: 975 MB for 1.4 M quads. Called a batch at a
time, it holds one batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain, islice

import pyoxigraph as ox

LOAD_BATCH = 200_000  # quads per call: about 180 MB held by the loader
COPY_BATCH = 10_000  # quads held in Python at a time on their way to a copy (about 5 MB)


def bulk_load(
    store: ox.Store, quads: Iterable[ox.Quad], batch: int = LOAD_BATCH, *, copy: ox.Store | None = None
) -> None:
    """Add `quads` to `store` by Oxigraph's bulk loader, `batch` quads per call, and to `copy` too
    when one is given (read once for both)."""
    iterator = iter(quads) if copy is None else _copied(quads, copy)
    for first in iterator:
        store.bulk_extend(chain((first,), islice(iterator, batch - 1)))


def _copied(quads: Iterable[ox.Quad], copy: ox.Store) -> Iterator[ox.Quad]:
    """`quads`, each also added to `copy` (a few thousand at a time) as it passes."""
    held: list[ox.Quad] = []
    for quad in quads:
        held.append(quad)
        if len(held) == COPY_BATCH:
            copy.extend(held)
            held.clear()
        yield quad
    copy.extend(held)
