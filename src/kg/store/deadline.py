"""A request's whole time limit, kept by shutting its connection when the time is up.

httpx bounds each read's and each write's wait, not a request's: a store that sends its status line
and headers a byte at a time, each within a read's wait, holds its reader for as long as it likes
(h11 takes up to 16 KB of headers). A `Deadline` goes with a request as httpx's `trace` extension,
which hands it each connection as httpcore makes it; when the time is up it shuts that connection's
socket, so the read waiting on it ends at once, whichever part of the answer it is in, and the reader
tells the broken read for the time limit it is (`Deadline.broken`). A connection kept alive from an
earlier request is not handed over again, so a client whose requests have deadlines makes a
connection for each (a remote store's client serves one query; a push's keeps none alive).
"""

from __future__ import annotations

import math
import socket
import threading
import time
from typing import Any

import httpx

# httpcore's events that hand over a connection's stream, whatever made it: directly ("connection."),
# through an HTTP proxy's tunnel ("proxy.start_tls") or a SOCKS proxy ("socks.").
CONNECTED = ("connect_tcp.complete", "start_tls.complete")
SENT = "http11.send_request_body.complete"  # the request's body is all written
PASSED = "the whole answer took longer than allowed"


def checked_seconds(seconds: float) -> float:
    """`seconds` as a request's time limit: above 0 and at most the longest wait a thread takes, or
    ValueError (a NaN, an infinity or a negative number would break the limit or turn it off)."""
    if not 0 < seconds <= threading.TIMEOUT_MAX:
        raise ValueError(f"a time limit of {seconds!r} s: give a number of seconds above 0")
    return float(seconds)


class Deadline:
    """`seconds` for a request's answer, from now or, with `after_upload`, from when its body is all
    sent (an upload takes as long as its size needs; each write is bounded by httpx). The request must
    make its own connection (a client that keeps its connections alive reuses one without a word to
    the trace). Cancel it once the answer is read: a deadline cancelled never shuts anything after."""

    def __init__(self, seconds: float, *, after_upload: bool = False) -> None:
        self.seconds = seconds
        self.until = math.inf  # by `time.monotonic()`
        self.passed = False
        self._after_upload = after_upload
        self._lock = threading.Lock()  # held while the socket is set or shut, and by `cancel`
        self._socket: socket.socket | None = None
        self._timer: threading.Timer | None = None
        self._cancelled = False
        if not after_upload:
            self._start()

    @property
    def extensions(self) -> dict[str, Any]:
        """The request's extensions that let the deadline see its connections and its upload."""
        return {"trace": self._trace}

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        if event.endswith(CONNECTED):
            with self._lock:  # the TLS socket replaces the plain one it wraps (which it detaches)
                self._socket = info["return_value"].get_extra_info("socket")
                if self.passed and not self._cancelled:  # made after the time was up
                    self._shut()
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
            if not self._cancelled:
                self.passed = True
                self._shut()

    def _shut(self) -> None:
        """End every read and write waiting on the connection (the caller holds the lock).
        `socket.shutdown` of the plain socket, even under TLS: the TLS object stays whole for the
        thread reading through it, which sees the connection end."""
        if self._socket is not None:
            try:
                socket.socket.shutdown(self._socket, socket.SHUT_RDWR)
            except OSError:  # closed already: its descriptor is -1, never another connection's
                pass

    def cancel(self) -> None:
        """Stop the clock; once this returns, the deadline shuts nothing."""
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
