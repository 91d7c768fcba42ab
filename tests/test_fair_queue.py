"""The queue that hands freed query workers to the lightest waiting client, on its own."""

from __future__ import annotations

import queue
import time

import pytest

from kg.server.fairness import FairQueue, Usage


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
