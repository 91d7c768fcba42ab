"""Fair use of the query workers: each client may run a few queries at once, a few more wait their turn,
the rest are told to come back.

Without it eight slow queries from one client hold every worker and every
HTTP thread, and a bystander waits or is turned away. A browser's page that
asks several things at once waits briefly for its own turn instead of being
refused. A client is its address, as waitress reports it (behind a trusted
reverse proxy, the address the proxy forwards).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class TooMany(Exception):
    """A client already runs, and waits for, as many queries as it may."""


class ClientSlots:
    """At most `limit` queries in flight per client key and as many waiting for at most `wait` seconds;
    None is the server itself, never limited."""

    def __init__(self, limit: int, wait: float) -> None:
        self.limit = limit
        self.wait = wait
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
                    raise TooMany(client)
                self._waiting[client] = self._waiting.get(client, 0) + 1
                deadline = time.monotonic() + self.wait
                try:
                    while self._running.get(client, 0) >= self.limit:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise TooMany(client)
                        self._freed.wait(left)
                finally:
                    self._waiting[client] -= 1
                    if not self._waiting[client]:
                        del self._waiting[client]
            self._running[client] = self._running.get(client, 0) + 1
