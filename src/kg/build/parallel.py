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
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

from kg.build.heap import give_back
from kg.build.settings import whole_number
from kg.errors import EXIT_FAILED, KgError

THREADS_VARIABLE = "KG_QUERY_THREADS"
T = TypeVar("T")
R = TypeVar("R")

_turns: dict[int, threading.Semaphore] = {}  # by the number of turns, which the environment may change
_turns_lock = threading.Lock()


def query_threads() -> int:
    """How many queries are asked at once: `KG_QUERY_THREADS`, or one per usable CPU up to four (the
    store's reads scale that far); raises KgError when the variable is not a positive integer."""
    return whole_number(THREADS_VARIABLE, usable_cpus(), least=1, unit="threads")


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


def release_frames(error: BaseException) -> None:
    """Clear the variables of the frames `error`, and the errors it chains, passed through, in this
    thread: an error raised in one thread and handed to another keeps them until that thread drops it,
    and Oxigraph's answers and quad streams may be dropped only by the thread that made them (dropped
    elsewhere they are refused, and leak). The error's message and its lines stay as they were."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)  # a frame still running is left as it is
        pending += [current.__cause__, current.__context__]


class Stopped(KgError):
    """Work not done because other work has failed: the reason is that failure, which the caller
    reports instead."""

    exit_code = EXIT_FAILED

    def __init__(self) -> None:
        super().__init__("stopped: another part of the build failed")


def each_at_once(
    function: Callable[[T], R], items: Iterable[T], stop: threading.Event | None = None
) -> list[R]:
    """`function` of each item, asked from `query_threads()` threads, each call in a `turn`; the results
    in the items' order. The first failure is raised once the calls already running end; the others
    are not made. Once `stop` is set (another part of the work failed), no call is made either, and
    Stopped is raised."""
    failed = threading.Event()

    def in_turn(item: T) -> R:
        with turn():
            if failed.is_set() or (stop is not None and stop.is_set()):
                raise Stopped
            try:
                return function(item)
            except BaseException as error:
                failed.set()
                release_frames(error)  # raised again in the caller's thread
                raise
            finally:
                give_back()  # what the call freed, before the next call's working set

    with ThreadPoolExecutor(query_threads()) as pool:
        futures = [pool.submit(in_turn, item) for item in items]
        wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            future.cancel()  # those not started; the pool waits for those running
    errors = [error for future in futures if not future.cancelled() if (error := future.exception())]
    if errors:  # the first real failure in the items' order, not a call it stopped
        raise next((error for error in errors if not isinstance(error, Stopped)), errors[0])
    return [future.result() for future in futures]
