"""Who gets a freed query worker: the waiting client that has used the workers least lately.

First come, first served lets clients on many addresses, each within its
per-client limit, queue ahead of a bystander, who then waits for every one of
their queries and is turned away. Charging each client the worker-seconds its
queries took, forgotten with a half-life, and handing each freed worker to the
waiter with the smallest charge puts a light client ahead of every heavy one.
That alone is not enough when heavy queries hold every worker until the time
limit kills them and each killed worker must be replaced: a worker rarely
frees, and a client on a new address is as light as the bystander. So a few
idle workers are reserved for light clients (a heavy client, one that ran a
query longer than a threshold lately, only gets a worker while more than the
reserve are idle);
clients known to be light go before clients not seen lately (a new address is
where an attacker's next query comes from); and a client known to be light
that has waited its patience may have the longest-running query of a heavier
client stopped, the freed worker going to it first (asking again every
ASK_AGAIN seconds while none can be stopped, as while the spare worker that
takes a stopped worker's place is itself being replaced). A client whose charge is
past the budget is told when to come back instead of queueing at all (the
server's own reading ahead, `in_background`, is charged but never refused).
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
# Clients remembered at most; past it the lightest half is forgotten (they would be first anyway).
MAX_CLIENTS = 10_000
# How the names of what the server makes once for every visitor begin (`Services.derived`): such a
# client ranks at best as an address not seen lately, behind every visitor known to be light, and
# never stops a visitor's query.
MADE_FOR_ALL = "made for all: "


class Usage:
    """Worker-seconds each client used, and its longest query, both halving every `half_life` seconds;
    None (the server) uses none.

    Whether a client is heavy is read from its longest query, not its total:
    on a busy machine many cheap queries add up to seconds of wall time, while
    a query run to the time limit is long however busy the machine is. A query
    stopped for a lighter client counts as one run to the time limit
    (`count_as_long`).
    """

    def __init__(self, half_life: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.half_life = half_life
        self._clock = clock
        self._charged: dict[str, tuple[float, float, float]] = {}  # total, longest, when
        self._first: dict[str, float] = {}  # when each client remembered was first charged
        self._lock = threading.Lock()

    def of(self, client: str | None) -> float:
        if client is None:
            return 0.0
        with self._lock:
            return self._now(client)[0]

    def longest(self, client: str | None) -> float:
        if client is None:
            return 0.0
        with self._lock:
            return self._now(client)[1]

    def charge(self, client: str | None, seconds: float) -> None:
        if client is None:
            return
        with self._lock:
            total, longest = self._now(client)
            self._charged[client] = (total + seconds, max(longest, seconds), self._clock())
            self._first.setdefault(client, self._clock())
            if len(self._charged) > MAX_CLIENTS:
                lightest = sorted(self._charged, key=lambda key: self._now(key)[0])[: MAX_CLIENTS // 2]
                for key in lightest:
                    del self._charged[key]
                    self._first.pop(key, None)

    def count_as_long(self, client: str | None, seconds: float) -> None:
        """Count `client` as having run a query of `seconds` lately, its charge unchanged: a query stopped
        for a lighter client never grew long, and clients on many addresses whose queries were each
        stopped in turn stayed light, and held every thread a bystander could have had."""
        if client is None:
            return
        with self._lock:
            total, longest = self._now(client)
            self._charged[client] = (total, max(longest, seconds), self._clock())
            self._first.setdefault(client, self._clock())

    def known_for(self, client: str | None) -> float:
        """Seconds since `client` was first charged, of those remembered; 0 for one not remembered
        (the server itself is known forever)."""
        if client is None:
            return math.inf
        with self._lock:
            first = self._first.get(client)
            return 0.0 if first is None else self._clock() - first

    def known(self, client: str | None) -> bool:
        """Whether `client` ran a query lately (the server itself is always known)."""
        return client is None or client in self._charged

    def wait_for(self, client: str | None, budget: float) -> float:
        """Seconds until `client`'s charge is back within `budget`; 0 if it is now."""
        used = self.of(client)
        # A difference of logarithms: used / budget overflows to infinity for a tiny budget.
        return 0.0 if used <= budget else self.half_life * (math.log2(used) - math.log2(budget))

    def _now(self, client: str) -> tuple[float, float]:
        total, longest, since = self._charged.get(client, (0.0, 0.0, 0.0))
        kept = 0.5 ** ((self._clock() - since) / self.half_life) if total else 0.0
        return total * kept, longest * kept


_BACKGROUND: ContextVar[bool] = ContextVar("background", default=False)


@contextmanager
def in_background() -> Iterator[None]:
    """Queries asked within, in this thread, are the server's own reading ahead: not refused for their
    client's budget, since they are read once per build and no visitor waits for them, but charged
    to that client like any, so that the queue hands each freed worker to a visitor first, keeps the
    reserve for light clients and lets a visitor who waited stop the longest of them. Nothing here
    sleeps: a budget wait inside a page would hold the lock of what the page makes (the network
    models, the search index), and every visitor asking for it would wait too."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


def held_to_budget() -> bool:
    """Whether the query asked now is a client's, held to the budget (not the server's reading ahead)."""
    return not _BACKGROUND.get()


@dataclass
class _Waiter(Generic[T]):
    client: str | None
    arrived: int
    item: T | None = None
    owed: bool = False  # it had a query stopped for it: the next item is its


# How long a light waiter that could not have a query stopped for it waits before it asks again.
ASK_AGAIN = 0.1
# Given a light client that waited its patience: whether a heavier client's query was stopped for it.
Preempt = Callable[[str | None], bool]


class FairQueue(Generic[T]):
    """Idle items (workers) and the requests waiting for one; an item goes to the waiter whose client
    has the least usage, the earliest arrival among equals, and the last `reserve` idle items only to
    clients whose usage is at most `heavy`."""

    def __init__(
        self,
        usage: Usage,
        reserve: int = 0,
        heavy: float = math.inf,
        preempt: Preempt | None = None,
        patience: float = math.inf,
    ) -> None:
        self.usage = usage
        self.reserve = reserve
        self.heavy = heavy
        self.preempt = preempt
        self.patience = patience
        self._idle: list[T] = []
        self._waiters: list[_Waiter[T]] = []
        self._arrivals = 0
        self._changed = threading.Condition()

    def put(self, item: T) -> None:
        with self._changed:
            self._idle.append(item)
            self._dispatch()

    def get(self, client: str | None, timeout: float) -> T:
        """An idle item for `client`, waiting at most `timeout` seconds; queue.Empty past it."""
        arrived = time.monotonic()
        deadline, impatient = arrived + timeout, arrived + self.patience
        with self._changed:
            self._arrivals += 1
            waiter: _Waiter[T] = _Waiter(client, self._arrivals)
            self._waiters.append(waiter)
            self._dispatch()
            while waiter.item is None:
                now = time.monotonic()
                if now >= deadline:
                    self._waiters.remove(waiter)
                    raise queue.Empty
                if now >= impatient:
                    impatient = math.inf  # past it, a wait would spin
                    if self.preempt and self._rank(client)[0] == 0:  # one stopped query, at most
                        waiter.owed = self.preempt(client)
                        if not waiter.owed:  # none could be stopped now (no spare yet): ask again soon
                            impatient = now + ASK_AGAIN
                self._changed.wait(min(deadline, impatient) - now)
            return waiter.item

    def _rank(self, client: str | None) -> tuple[int, float]:
        """Clients known to be light first (seen lately, and using at most `heavy` in all), then clients
        not seen lately, those using more in shorter queries and what is made for every visitor, then
        heavy ones (that ran a query longer than `heavy` lately); the least used first within each.
        Only the first may stop a query: clients on many addresses stopping each other's used up the
        spare workers a bystander's wait needed."""
        used = self.usage.of(client)
        if self.usage.longest(client) > self.heavy:
            return 2, used
        if (client or "").startswith(MADE_FOR_ALL):
            return 1, used  # never a known light client's rank: a making stops no visitor's query
        return (0 if self.usage.known(client) and used <= self.heavy else 1), used

    def _dispatch(self) -> None:
        """Hand idle items to the lightest waiters (call with the lock held)."""
        while self._idle and self._waiters:
            ranks = {id(w): self._rank(w.client) for w in self._waiters}
            chosen = min(self._waiters, key=lambda w: (not w.owed, ranks[id(w)], w.arrived))
            if ranks[id(chosen)][0] == 2 and len(self._idle) <= self.reserve:
                return  # only heavy clients wait: the reserve stays for a light one
            self._waiters.remove(chosen)
            chosen.item = self._idle.pop()
            self._changed.notify_all()
