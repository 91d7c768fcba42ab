"""The queue that hands freed query workers to the lightest waiting client, on its own."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from kg.server.fairness import MADE_FOR_ALL, FairQueue, Usage


def test_a_waiter_that_may_not_stop_a_query_waits_without_spinning() -> None:
    """Past its patience a waiter that may not stop another's query (one not seen before, or a heavy
    one, as the read-ahead is after its first long query) waited with a negative timeout: it spun on
    the lock, a core busy, until its deadline."""
    usage = Usage(60)
    usage.charge("heavy", 5.0)
    fair: FairQueue[object] = FairQueue(usage, 0, heavy=1, preempt=lambda _client: False, patience=0.1)
    for client in ("new", "heavy"):
        started = time.thread_time()
        with pytest.raises(queue.Empty):
            fair.get(client, 1.0)
        assert time.thread_time() - started < 0.2, client  # CPU of one second's wait: none to speak of


def test_what_is_made_for_every_visitor_never_stops_a_visitor_s_query() -> None:
    """A making for every visitor (the search index, a network model) is counted under a name of its
    own; once that name's use had decayed, it ranked as a known light client and, past its patience,
    could have a visitor's query stopped for it. It ranks at best as an address not seen lately."""
    usage = Usage(60)
    maker = MADE_FOR_ALL + "('search-index',)"
    usage.charge(maker, 0.01)  # known, and light
    stopped: list[str | None] = []

    def preempt(client: str | None) -> bool:
        stopped.append(client)
        return False

    fair: FairQueue[str] = FairQueue(usage, 1, heavy=1, preempt=preempt, patience=0.05)
    with pytest.raises(queue.Empty):
        fair.get(maker, 0.2)
    assert stopped == []
    usage.charge("10.0.0.1", 0.01)
    with pytest.raises(queue.Empty):
        fair.get("10.0.0.1", 0.2)
    assert stopped and set(stopped) == {"10.0.0.1"}  # a visitor known to be light may (and asks again)


def test_a_light_waiter_asks_again_until_a_query_can_be_stopped_for_it() -> None:
    """A heavier client's query is stopped only when the spare worker can take its place at once;
    while the spare is being replaced (after a query that ran into the time limit) none can be. A
    light waiter asked once, at its patience, and then waited out its deadline for nothing: it asks
    again until a query is stopped for it, and gets the freed worker."""
    usage = Usage(60)
    usage.charge("10.0.0.1", 0.01)
    asked: list[float] = []
    fair: FairQueue[str] = FairQueue(usage, 0, heavy=1, patience=0.05)

    def preempt(_client: str | None) -> bool:
        asked.append(time.monotonic())
        if len(asked) < 4:
            return False  # no spare yet
        threading.Timer(0.01, fair.put, args=("the freed worker",)).start()
        return True

    fair.preempt = preempt
    assert fair.get("10.0.0.1", 2.0) == "the freed worker"
    assert len(asked) == 4
    assert asked[-1] - asked[0] < 1.0
