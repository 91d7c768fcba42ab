"""A request's whole time limit, kept by shutting its connection when the time is up.

httpx bounds each read's and each write's wait, not a request's: a store that sends its status line
and headers a byte at a time, each within a read's wait, holds its reader for as long as it likes
(h11 takes up to 16 KB of headers). A `Deadline` goes with a request as httpx's `trace` extension,
which hands it each connection as httpcore makes it; when the time is up it shuts that connection's
socket, so the read waiting on it ends at once, whichever part of the answer it is in, and the reader
tells the broken read for the time limit it is (`Deadline.broken`).
"""

from __future__ import annotations

import math
import socket
import threading
import time
from typing import Any

import httpx

CONNECTED = frozenset({"connection.connect_tcp.complete", "connection.start_tls.complete"})
SENT = "http11.send_request_body.complete"  # the request's body is all written
PASSED = "the whole answer took longer than allowed"


class Connection:
    """The socket of the latest connection a client made, as its requests' traces tell it. A client
    that keeps its connection from one request to the next (a push's) shares one among their
    deadlines: a request on a kept connection makes none of its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None

    def made(self, stream: Any) -> None:
        """Hold the socket of httpcore's network `stream` (its TLS socket once TLS is started)."""
        with self._lock:
            self._socket = stream.get_extra_info("socket")

    def shut(self) -> None:
        """End every read and write waiting on the connection. `socket.shutdown` of the plain socket,
        even under TLS: the TLS object stays whole for the thread reading through it, which sees the
        connection end."""
        with self._lock:
            if self._socket is not None:
                try:
                    socket.socket.shutdown(self._socket, socket.SHUT_RDWR)
                except OSError:  # closed already: its descriptor is -1, never another connection's
                    pass


class Deadline:
    """`seconds` for a request's answer, from now or, with `after_upload`, from when its body is all
    sent (an upload takes as long as its size needs; each write is bounded by httpx). Cancel it once
    the answer is read: a deadline cancelled never shuts the connection after."""

    def __init__(
        self, seconds: float, connection: Connection | None = None, *, after_upload: bool = False
    ) -> None:
        self.seconds = seconds
        self.connection = connection or Connection()
        self.until = math.inf  # by `time.monotonic()`
        self.passed = False
        self._after_upload = after_upload
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._cancelled = False
        if not after_upload:
            self._start()

    @property
    def extensions(self) -> dict[str, Any]:
        """The request's extensions that let the deadline see its connections and its upload."""
        return {"trace": self._trace}

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        if event in CONNECTED:
            self.connection.made(info["return_value"])
            if self.passed:  # made after the time was up: shut before anything is read from it
                self.connection.shut()
        elif event == SENT and self._after_upload:
            self._start()  # again for a request sent twice (Digest authentication's challenge)

    def _start(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self.until = time.monotonic() + self.seconds
            self._timer = threading.Timer(self.seconds, self._cut)
            self._timer.daemon = True
            self._timer.start()

    def _cut(self) -> None:
        with self._lock:
            if self._cancelled:
                return
            self.passed = True
        self.connection.shut()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._timer is not None:
                self._timer.cancel()

    def over(self) -> bool:
        """Whether the time is up, shut or not yet."""
        return self.passed or time.monotonic() > self.until

    def broken(self, error: httpx.HTTPError) -> httpx.HTTPError:
        """`error`, or the time limit's timeout when the time was up: a read the deadline broke off
        fails as a connection the store closed would."""
        return httpx.ReadTimeout(PASSED) if self.over() else error
