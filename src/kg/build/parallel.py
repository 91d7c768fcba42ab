"""Queries asked of one store from several threads at once: Oxigraph evaluates a query without
holding Python's lock, so the threads use as many cores."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar


def _usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# One thread per usable CPU, a few at most: the store's reads scale that far.
QUERY_THREADS = min(4, _usable_cpus())
T = TypeVar("T")
R = TypeVar("R")


def each_at_once(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """`function` of each item, asked from `QUERY_THREADS` threads; the results in the items' order.
    The first failure is raised once the queries already running end: the others are cancelled."""
    with ThreadPoolExecutor(QUERY_THREADS) as pool:
        return list(pool.map(function, items))
