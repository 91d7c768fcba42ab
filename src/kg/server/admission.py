"""Fair use of the query workers: each client may run a few queries at once, a few more wait their turn,
the rest are told to come back.

Without it eight slow queries from one client hold every worker and every
HTTP thread, and a bystander waits or is turned away. A browser's page that
asks several things at once waits briefly for its own turn instead of being
refused. A client is its address, as waitress reports it (behind a trusted
reverse proxy, the address the proxy forwards), or for IPv6 its /64 network (`client_key`).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from kg.errors import KgError

# IPv6 prefixes whose last 32 bits are an IPv4 client: RFC 6052's, as IPv4/IPv6 translators write
# them, RFC 2765's IPv4-translated addresses, and the deprecated IPv4-compatible addresses (RFC 4291),
# which `::` and `::1` are not.
_IPV4_WITHIN = tuple(ipaddress.IPv6Network(prefix) for prefix in ("64:ff9b::/96", "::ffff:0:0:0/96", "::/96"))


def client_key(address: str) -> str:
    """The client an address stands for, in budgets, query slots and connections: an IPv4 address
    itself (also when mapped into IPv6, translated into RFC 6052's `64:ff9b::/96`, as an IPv6-only
    server sees IPv4 clients, or written as an IPv4-translated `::ffff:0:a.b.c.d` or an
    IPv4-compatible `::a.b.c.d`); an IPv6 address its /64
    network, since a host is commonly given a whole /64 and could otherwise ask as millions of
    clients; anything else (a socket's name) as is."""
    try:
        ip = ipaddress.ip_address(address.partition("%")[0])  # without an IPv6 zone (`%eth0`)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        if int(ip) > 1 and any(ip in prefix for prefix in _IPV4_WITHIN):
            return str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class TooMany(KgError):
    """A client already runs, and waits for, as many queries as it may; the message names the limit."""

    status = 429


class ClientSlots:
    """At most `limit` of a client's `what` (a plural noun) in flight per client key and as many
    waiting for at most `wait` seconds; None is the server itself, never limited."""

    def __init__(self, limit: int, wait: float, what: str = "queries") -> None:
        self.limit = limit
        self.wait = wait
        self.what = what
        self._running: dict[str, int] = {}
        self._waiting: dict[str, int] = {}
        self._freed = threading.Condition()

    @contextmanager
    def slot(self, client: str | None) -> Iterator[None]:
        if client is None:
            yield
            return
        self._enter(client)
        try:
            yield
        finally:
            with self._freed:
                self._running[client] -= 1
                if not self._running[client]:
                    del self._running[client]
                self._freed.notify_all()

    def _enter(self, client: str) -> None:
        with self._freed:
            if self._running.get(client, 0) >= self.limit:
                if self._waiting.get(client, 0) >= self.limit:
                    raise TooMany(_full(self.limit, self.what))
                self._waiting[client] = self._waiting.get(client, 0) + 1
                deadline = time.monotonic() + self.wait
                try:
                    while self._running.get(client, 0) >= self.limit:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise TooMany(_waited(self.limit, self.what, self.wait))
                        self._freed.wait(left)
                finally:
                    self._waiting[client] -= 1
                    if not self._waiting[client]:
                        del self._waiting[client]
            self._running[client] = self._running.get(client, 0) + 1


def _full(limit: int, what: str) -> str:
    """Why a client's request is refused at once: the limit it reached, as it is set."""
    return (
        f"this client already has {limit} {what} under way at once and {limit} more waiting for their turn, "
        "as many as it may; wait for an answer first"
    )


def _waited(limit: int, what: str, wait: float) -> str:
    """Why a client's request that waited for its turn is refused: none of its own ended in time."""
    return (
        f"this client's {limit} {what} under way at once did not end within the {wait:g} s a request "
        "waits for its turn; ask again"
    )


class Busy(KgError):
    """Every HTTP thread the server keeps for costly work is taken: a query, a picture or a search is
    refused at once rather than parked in a thread."""

    status = 503


COSTLY = "costly requests (queries, pictures, searches)"


class Gate:
    """At most `capacity` requests at once in costly work (a query, a picture drawn, a search), and at
    most `per_client` of one client; `reserve` more for a client that ranks before someone holding the
    gate (the rank the workers' queue gives: 0 known to be light, 1 not known, 2 heavy), so that a
    bystander is answered while heavier clients fill the capacity, and an address new with each
    request cannot take the reserve from a known one; the rest of the HTTP threads stay for what costs
    little (a page, a static file, a cached answer). A request waiting for a worker or for its turn to
    draw holds its thread: without the gate, sixteen requests for pictures, from one client or from
    eight, held every thread and a bystander waited 9–12 s for a static file. Work within work (a
    picture's queries) is one request: a thread already inside passes again. None is the server
    itself, never held to it.

    A client's requests past its `per_client` wait, at most as many and for at most `wait` seconds,
    for one of its own to end, in threads no one else needs: they count in the capacity, and a
    request of another client that finds it full takes the place of the latest of them, which is
    refused (429). A browser asks for every picture of a page at once; refused at once, a first
    visit to the charts page showed two of its five pictures broken."""

    def __init__(self, capacity: int, per_client: int, reserve: int = 0, wait: float = 0.0) -> None:
        self.capacity = capacity
        self.per_client = per_client
        self.reserve = reserve
        self.wait = wait
        self._inside: dict[str, int] = {}
        self._ranks = [0, 0, 0]  # how many holders of each rank
        self._waiting: dict[str, list[object]] = {}  # each client's requests waiting for their turn
        self._gave_way: set[object] = set()  # waiting requests whose place another client took
        self._freed = threading.Condition()
        self._depth = threading.local()

    @contextmanager
    def held(self, client: str | None, rank: int = 1) -> Iterator[None]:
        depth = getattr(self._depth, "value", 0)
        if client is None or depth:
            self._depth.value = depth + 1
            try:
                yield
            finally:
                self._depth.value = depth
            return
        with self._freed:
            self._enter(client, rank)
            self._inside[client] = self._inside.get(client, 0) + 1
            self._ranks[rank] += 1
        self._depth.value = 1
        try:
            yield
        finally:
            self._depth.value = 0
            with self._freed:
                self._ranks[rank] -= 1
                self._inside[client] -= 1
                if not self._inside[client]:
                    del self._inside[client]
                self._freed.notify_all()

    def _enter(self, client: str, rank: int) -> None:
        """Room for one more of `client`'s requests, at once or after its turn; the lock is held."""
        room = self.capacity + (self.reserve if any(self._ranks[rank + 1 :]) else 0)
        full = self._taken() >= room
        within = self._inside.get(client, 0) < self.per_client
        # A request waiting its turn gives way only to one the gate would let in, counting those inside
        # alone: a heavy client took the reserve so, through a light client's request waiting there.
        if full and not (within and sum(self._ranks) < room and self._make_way(client)):
            raise Busy("the server is busy with costly work; try again in a moment")
        if within:
            return
        if len(self._waiting.get(client, ())) >= self.per_client:
            raise TooMany(_full(self.per_client, COSTLY))
        self._wait_for_turn(client)

    def _taken(self) -> int:
        """Threads costly work holds: requests inside the gate and those waiting for their turn."""
        return sum(self._ranks) + sum(len(waiting) for waiting in self._waiting.values())

    def _make_way(self, client: str) -> bool:
        """Tell the latest waiting request of the client with the most waiting (not `client`) to give
        its place up; whether there was one."""
        others = [waiting for owner, waiting in self._waiting.items() if owner != client and waiting]
        if not others:
            return False
        self._gave_way.add(max(others, key=len).pop())
        self._freed.notify_all()
        return True

    def _wait_for_turn(self, client: str) -> None:
        """Wait, counted in the capacity, until one of `client`'s own requests inside ends."""
        me = object()
        waiting = self._waiting.setdefault(client, [])
        waiting.append(me)
        deadline = time.monotonic() + self.wait
        try:
            while me not in self._gave_way:
                if self._inside.get(client, 0) < self.per_client:
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TooMany(_waited(self.per_client, COSTLY, self.wait))
                self._freed.wait(left)
            raise TooMany(
                f"this client already has {self.per_client} {COSTLY} under way at once, and this one's "
                "place in line went to another client's request; ask again"
            )
        finally:
            self._gave_way.discard(me)
            if me in waiting:
                waiting.remove(me)
            if not waiting and self._waiting.get(client) is waiting:
                del self._waiting[client]
