"""What only a garbage collection would drop: Oxigraph's objects bound to the thread that made them.

Oxigraph's streams of answers and of quads may be dropped only in the thread that made them. One held
in a cycle (an error kept with the frames it passed through, as pytest and click keep errors) waits for
the collector, which runs in whichever thread happens to allocate next: there it is refused ("is
unsendable, but is being dropped on another thread") and leaks, with whatever it holds open.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

THREAD_BOUND = {"QuerySolutions", "QueryTriples", "QuadIter", "GraphNameIter"}


def kept_in_a_cycle(action: Callable[[], object]) -> str:
    """Run `action`, which fails: its error is kept in a cycle with the frames it passed through, so
    that only a garbage collection drops them, as a handler that keeps an error leaves them. What the
    error says."""
    try:
        action()
    except Exception as error:  # any failure: what its frames hold is the question
        kept = error  # this frame holds the error, whose traceback holds this frame
        return str(kept)
    raise AssertionError("the action did not fail")


def thread_bound_garbage() -> list[str]:
    """The thread-bound objects only a garbage collection would now drop, found with the collector
    keeping what it finds (none is dropped here, in the wrong thread or the right one)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
    finally:
        gc.set_debug(0)
    found = [type(thing).__name__ for thing in gc.garbage if _thread_bound(thing)]
    gc.garbage.clear()
    return found


def _thread_bound(thing: object) -> bool:
    return type(thing).__module__ == "pyoxigraph" and type(thing).__name__ in THREAD_BOUND


@contextmanager
def refusals() -> Iterator[list[str]]:
    """What the interpreter reports, while the block runs, as an object it could not drop."""
    reported: list[str] = []

    def hook(unraisable: Any) -> None:
        reported.append(f"{type(unraisable.exc_value).__name__}: {unraisable.exc_value}")

    previous, sys.unraisablehook = sys.unraisablehook, hook
    try:
        yield reported
    finally:
        sys.unraisablehook = previous
