"""waitress, with the errors it writes itself in the project's shape.

A malformed request (bad bytes or a NUL in a header, a bad Content-Length or
chunk size, headers too large) never reaches the app: waitress answers it
alone, by default in plain text. Here those answers get the body every other
error has (`{"error": {"status": …, "message": …}}`) and the headers of every
response.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.server import create_server as create_waitress_server
from waitress.task import ErrorTask

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


class ShapedChannel(HTTPChannel):
    error_task_class = ShapedErrorTask


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the app is made, so that the address it names in its
    descriptions is the one bound (port 0 takes a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=1024)


def create_server(app: Any, listening: socket.socket, **options: Any) -> Any:
    """waitress serving `app` on `listening` (`options` are waitress's), its own errors in the
    project's shape."""
    sockets: dict[int, Any] = {}
    server = create_waitress_server(app, map=sockets, sockets=[listening], **options)
    for listener in sockets.values():
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = ShapedChannel
    return server
