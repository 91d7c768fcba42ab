"""What a served build keeps for its life, kept out of Python's cyclic garbage collector's passes.

At a million triples the network models, the search index and the answers read ahead are about
half a million Python objects that live as long as their build is served. Each full pass of the
collector walks them all: a catalogue question's page whose answer came from the cache took 0.33 s
or 0.99 s by turns, the slow ones paying for a pass. `gc.freeze()` moves every object alive into a
permanent generation that the passes skip (they still free what their reference counts free); the
same page then took 0.34 s every time. A build that stops being served is unfrozen and collected,
so that its reference cycles are not kept for ever.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()


def freeze_kept() -> None:
    """Collect, then leave every object still alive out of the collector's passes. What was frozen
    before is collected too: a build no longer served, frozen with it, is freed by this pass."""
    with _lock:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
