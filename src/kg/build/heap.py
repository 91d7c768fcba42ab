"""Heap memory a query freed, given back to the system before the next query.

glibc's malloc keeps what a finished query freed (its hash tables, its rows) in the arena of the
thread that asked it, for that thread to reuse, and returns little of it: after large queries from
several threads, a build held the sum of their working sets until it ended (at 10 M triples, 4.3 GB
resident for the whole validation). `malloc_trim` hands the free pages back. Where the C library is
not glibc, this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    library = ctypes.CDLL(name) if name else None
    return getattr(library, "malloc_trim", None)


_TRIM = _malloc_trim()


def give_back() -> None:
    """Return the heap's free pages, in every thread's arena, to the system."""
    if _TRIM is not None:
        _TRIM(0)
