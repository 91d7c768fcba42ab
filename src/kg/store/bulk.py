"""Bulk loading into an Oxigraph store with memory bounded by a batch, not by the data.

Oxigraph's bulk loader keeps the quads of a call in memory (up to a million,
about 0.7 kB each, measured) before it writes them to disk, so one call with a
whole dataset holds all of it: 975 MB for 1.4 M quads. Called a batch at a
time, it holds one batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain, islice

import pyoxigraph as ox

LOAD_BATCH = 200_000  # quads per call: about 180 MB held by the loader


def bulk_load(store: ox.Store, quads: Iterable[ox.Quad], batch: int = LOAD_BATCH) -> None:
    """Add `quads` to `store` by Oxigraph's bulk loader, `batch` quads per call."""
    iterator = iter(quads)
    for first in iterator:
        store.bulk_extend(chain((first,), islice(iterator, batch - 1)))
