"""Queries asked of one store from several threads at once: Oxigraph evaluates a query without
holding Python's lock, so the threads use as many cores.

`KG_QUERY_THREADS` sets how many (1 asks one query at a time, which holds one query's working set
in memory rather than several); by default one per usable CPU, four at most. The bound holds for the
whole process: work asked from several pools at once takes turns (`turn`), so memory holds that many
working sets however the work is divided.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from kg.errors import KgError

THREADS_VARIABLE = "KG_QUERY_THREADS"
T = TypeVar("T")
R = TypeVar("R")

_turns: dict[int, threading.Semaphore] = {}  # by the number of turns, which the environment may change
_turns_lock = threading.Lock()


def query_threads() -> int:
    """How many queries are asked at once: `KG_QUERY_THREADS`, or one per usable CPU up to four (the
    store's reads scale that far); raises KgError when the variable is not a positive integer."""
    given = os.environ.get(THREADS_VARIABLE, "").strip()
    if not given:
        return usable_cpus()
    if not given.isdigit() or int(given) < 1:
        raise KgError(f"{THREADS_VARIABLE}={given!r}: give a whole number of threads, 1 or more")
    return int(given)


def usable_cpus() -> int:
    """The CPUs this process may run on, four at most: the most the build's work divides into."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(4, usable or 1)


@contextmanager
def turn() -> Iterator[None]:
    """One of the process's `query_threads()` turns, held while the block runs: no more blocks than
    that run at once, from whichever threads. A block must not wait for other turns while it holds one."""
    count = query_threads()
    with _turns_lock:
        turns = _turns.setdefault(count, threading.Semaphore(count))
    with turns:
        yield


def each_at_once(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """`function` of each item, asked from `query_threads()` threads, each call in a `turn`; the results
    in the items' order. The first failure is raised once the calls already running end: the others
    are cancelled."""

    def in_turn(item: T) -> R:
        with turn():
            return function(item)

    with ThreadPoolExecutor(query_threads()) as pool:
        return list(pool.map(in_turn, items))
