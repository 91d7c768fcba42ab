"""waitress, with the errors it writes itself in the project's shape.

A malformed request (bad bytes or a NUL in a header, a bad Content-Length or
chunk size, headers too large) never reaches the app: waitress answers it
alone, by default in plain text. Here those answers get the body every other
error has (`{"error": {"status": …, "message": …}}`) and the headers of every
response.

waitress closes a connection only when it sends nothing for the idle timeout,
so a client that trickles a byte now and then holds it for ever. Here a request
(head and body) must arrive whole within a deadline, and one address may hold
only so many connections; the trusted proxy, which carries everyone's, is exempt.

Nor does waitress close a connection with a request under way, however long its
answer waits to be read: past 16 MB of unsent output the thread writing it waits
for the client, so a few clients asking for large answers and never reading held
every thread. Here output that has not moved for the idle timeout closes the
connection, which wakes its thread; and before that, one client whose answers have
stopped moving may hold only a quarter of the threads: the answers that began to
wait after those are cut (their output dropped, their connections closed), so that
one address never reading does not hold every thread until the idle timeout. A
client that reads, however slowly, is never cut.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from typing import Any

from waitress.buffers import OverflowableBuffer
from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.server import create_server as create_waitress_server
from waitress.task import ErrorTask
from waitress.utilities import InternalServerError

from .access import log_request
from .admission import client_key
from .headers import security_headers


def error_body(status: int, message: str) -> bytes:
    """The project's error shape, as JSON bytes."""
    return json.dumps({"error": {"status": status, "message": message}}).encode("utf-8")


class ShapedErrorTask(ErrorTask):
    """An error waitress found in the request, answered in the project's shape."""

    def execute(self) -> None:
        request: Any = self.request  # waitress's stubs do not know the parsed request's error
        error = request.error
        detail = " ".join(str(error.body).split())
        message = f"the request is malformed ({error.reason.lower()}): {detail}" if detail else error.reason
        body = error_body(error.code, message)
        self.status = f"{error.code} {error.reason}"
        self.response_headers = [
            *self.response_headers,
            ("Content-Type", "application/json"),
            *security_headers().items(),
        ]
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)
        if isinstance(error, InternalServerError):
            return  # the app's own failure: the access log's wrapper logged its request
        # logged as the app's answers are: waitress answers these alone
        started = getattr(self.channel, "request_started", 0.0)
        path = getattr(request, "request_uri", None) or "-"  # as sent: it may be what could not be read
        elapsed = (time.time() - started) * 1000 if started else 0.0
        log_request(getattr(request, "command", None) or "-", path, str(error.code), len(body), elapsed)


class ShapedChannel(HTTPChannel):
    """A connection with the project's errors, a deadline for each request and a cap per client (an
    address, or an IPv6 /64: `client_key`)."""

    error_task_class = ShapedErrorTask
    request_deadline: float = 30.0
    per_address: int = 100
    exempt: str | None = None  # the trusted proxy's address
    request_started = 0.0
    output_waiting = 0.0  # when a cleanup pass first saw output waiting to be sent (0: none waits)
    output_moved = 0.0  # when output was last sent
    client: str | None = None  # the client this connection counts for, its key worked out once
    output_waits = 2  # threads that may wait at once for one client that does not read (a quarter)
    stuck_after = 2.5  # seconds without output moving that make a waiting answer stuck
    waiting: dict[str | None, dict[ShapedChannel, float]]  # the server's connections waiting, since when
    waiting_lock: threading.Lock
    cut = False  # an answer was cut: the connection is shut down by the next cleanup pass

    def __init__(self, server: Any, sock: Any, addr: Any, adj: Any, map: Any = None) -> None:
        super().__init__(server, sock, addr, adj, map)
        if addr and addr[0] != self.exempt:
            self.client = client_key(str(addr[0]))
            same = sum(
                1
                for other in server.active_channels.values()
                if getattr(other, "client", None) == self.client
            )
            if same > self.per_address:
                self.will_close = True  # closed by the next loop, before it reads anything

    def received(self, data: bytes) -> bool:
        if self.request is None:
            self.request_started = time.time()  # these bytes begin a request
        return super().received(data)

    def overdue(self, now: float) -> bool:
        """Whether a request began arriving longer ago than the deadline and is still not whole."""
        return self.request is not None and now - self.request_started > self.request_deadline

    def _flush_some(self, do_close: bool = True) -> bool:
        sent: bool = super()._flush_some(do_close=do_close)  # type: ignore[misc]  # private, not in the stubs
        if sent:
            self.output_moved = time.time()
        return sent

    def _flush_outbufs_below_high_watermark(self) -> None:
        """Past the high-water mark the writing thread waits for the client to read (as waitress's own,
        called with the output's lock held). While it waits, a client whose answers have not moved for
        `stuck_after` seconds on more threads than `output_waits` has the latest of them cut: a client
        that reads, however slowly, is never cut."""
        if self.total_outbufs_len <= self.adj.outbuf_high_watermark:
            return
        with self.outbuf_lock:
            _, failed = self._flush_exception(  # type: ignore[attr-defined]  # private, not in the stubs
                self._flush_some, do_close=False
            )
            if failed:  # the loop's thread decides what follows (a close, most likely)
                self.server.pull_trigger()
                self.outbuf_lock.wait()
                return
            since = time.time()
            with self.waiting_lock:
                self.waiting.setdefault(self.client, {})[self] = since
            try:
                while self.connected and self.total_outbufs_len > self.adj.outbuf_high_watermark:
                    self.server.pull_trigger()
                    self.outbuf_lock.wait(self.stuck_after / 2)
                    # Send what the client has room for: the loop sends only once poll finds a third of
                    # the socket's buffer free, so a client reading slowly looked stuck between sends.
                    self._flush_exception(self._flush_some, do_close=False)  # type: ignore[attr-defined]  # private, not in the stubs
                    if self.connected and self._crowded(since):
                        self._cut()
            finally:
                with self.waiting_lock:
                    waiting = self.waiting[self.client]
                    del waiting[self]
                    if not waiting:
                        del self.waiting[self.client]

    def _crowded(self, since: float) -> bool:
        """Whether this connection's output has not moved for `stuck_after` seconds and as many of
        its client's connections, stuck too, began waiting before it as may wait (the exempt proxy's
        never: it carries everyone's)."""
        now = time.time()
        if self.client is None or now - max(since, self.output_moved) < self.stuck_after:
            return False
        with self.waiting_lock:
            ahead = sum(
                1
                for other, began in self.waiting[self.client].items()
                if other is not self
                and (began, id(other)) < (since, id(self))
                and now - max(began, other.output_moved) >= self.stuck_after
            )
        return ahead >= self.output_waits

    def _cut(self) -> None:
        """Drop the unsent output and end the answer: its thread is free at once, and the connection
        is shut down by the next cleanup pass."""
        for outbuf in self.outbufs:
            outbuf.close()
        self.outbufs = [OverflowableBuffer(self.adj.outbuf_overflow)]
        self.total_outbufs_len = self.current_outbuf_count = 0
        self.cut = self.will_close = True
        raise ClientDisconnected

    def stalled(self, now: float, deadline: float) -> bool:
        """Whether output has waited to be sent, and none of it gone, for `deadline` seconds."""
        if not self.total_outbufs_len:
            self.output_waiting = 0.0
            return False
        self.output_waiting = self.output_waiting or now  # first seen waiting by this pass
        return now - max(self.output_waiting, self.output_moved) > deadline


def _maintenance(listener: BaseWSGIServer) -> Any:
    """waitress's cleanup pass, also closing connections whose request is overdue, and those whose
    output has not moved for the idle timeout or whose answer was cut. Such a connection's socket
    never becomes writable, and waitress acts on `will_close` only when it writes, so it is shut down
    here: the loop then sees it hung up and closes it, which wakes the thread waiting for its output.
    Not closed here: this pass runs while the loop gathers what to watch, so a socket closed now left
    its number watched, and a connection accepted in the same round took that number and was closed
    for the old one's event (a bystander's connection reset)."""
    idle_cleanup = listener.maintenance

    def maintenance(now: float) -> None:
        idle_cleanup(now)  # type: ignore[arg-type]  # waitress passes time.time(); its stubs say int
        channels: dict[int, Any] = listener.active_channels  # type: ignore[assignment]  # a dict, not one channel as the stubs say
        for channel in list(channels.values()):
            if not isinstance(channel, ShapedChannel):
                continue
            if channel.cut or channel.stalled(now, listener.adj.channel_timeout):
                channel.will_close = True
                held = channel.socket  # read once: a task thread may close the channel meanwhile
                if held is not None:  # None: gone already
                    with contextlib.suppress(OSError):  # closed by the client meanwhile
                        held.shutdown(socket.SHUT_RDWR)
            elif channel.overdue(now):
                channel.will_close = True

    return maintenance


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the app is made, so that the address it names in its
    descriptions is the one bound (port 0 takes a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=1024)


def create_server(
    app: Any,
    listening: socket.socket,
    *,
    request_deadline: float = 30.0,
    per_address: int = 100,
    **options: Any,
) -> Any:
    """waitress serving `app` on `listening` (`options` are waitress's), its own errors in the
    project's shape, each request due whole within `request_deadline` seconds and at most
    `per_address` connections from one address."""
    sockets: dict[int, Any] = {}
    server = create_waitress_server(app, map=sockets, sockets=[listening], **options)
    channel = type(
        "Channel",
        (ShapedChannel,),
        {
            "request_deadline": request_deadline,
            "per_address": per_address,
            "exempt": options.get("trusted_proxy"),
            "output_waits": max(1, server.adj.threads // 4),
            "stuck_after": server.adj.channel_timeout / 4,
            "waiting": {},
            "waiting_lock": threading.Lock(),
        },
    )
    for listener in sockets.values():
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = channel
            listener.maintenance = _maintenance(listener)  # type: ignore[method-assign]  # per listener
    return server
