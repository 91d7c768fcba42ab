"""Fair use of the query workers: each client may run a few queries at once, the rest are told to wait.

Without it eight slow queries from one client hold every worker and every
HTTP thread, and a bystander waits or is turned away. A client is its
address, as waitress reports it (behind a trusted reverse proxy, the address
the proxy forwards).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class TooMany(Exception):
    """A client already runs as many queries as it may."""


class ClientSlots:
    """At most `limit` queries in flight per client key; None is the server itself, never limited."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, client: str | None) -> Iterator[None]:
        if client is None:
            yield
            return
        with self._lock:
            running = self._running.get(client, 0)
            if running >= self.limit:
                raise TooMany(client)
            self._running[client] = running + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._running[client] - 1
                if left:
                    self._running[client] = left
                else:
                    del self._running[client]
