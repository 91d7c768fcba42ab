"""Queries asked from several threads: results in order, and a failure stops what has not started."""

from __future__ import annotations

import threading
import time

import pytest

from kg.build.parallel import QUERY_THREADS, each_at_once


def test_results_come_in_the_items_order() -> None:
    def slower_first(number: int) -> int:
        time.sleep(0.01 * (10 - number))
        return number * number

    assert each_at_once(slower_first, range(10)) == [number * number for number in range(10)]


def test_a_failure_is_raised_and_the_items_not_started_are_not_asked() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def ask(number: int) -> int:
        with lock:
            started.append(number)
        if number == 0:
            raise ValueError("the first query failed")
        time.sleep(0.2)
        return number

    with pytest.raises(ValueError, match="the first query failed"):
        each_at_once(ask, range(40))
    assert 0 in started and len(started) <= 2 * QUERY_THREADS + 1, started
