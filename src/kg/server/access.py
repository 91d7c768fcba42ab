"""One log line per request (method, path, status, size, milliseconds), and quiet libraries.

waitress logs nothing per request; an operator wants to see what was asked
and how long it took, and not matplotlib's font cache at DEBUG level.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from .log_lines import ACCESS, configure_logging, shown

log = logging.getLogger(ACCESS)
__all__ = ["access_log", "configure_logging"]

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def access_log(app: WsgiApp) -> WsgiApp:
    """`app` logging each request once its answer has been sent."""

    def logged(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        status = ["-"]

        def start(code: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, *rest)

        size = 0
        try:
            for chunk in app(environ, start):
                size += len(chunk)
                yield chunk
        finally:
            path = environ.get("PATH_INFO", "") + (f"?{q}" if (q := environ.get("QUERY_STRING")) else "")
            elapsed = (time.perf_counter() - started) * 1000
            log_request(str(environ.get("REQUEST_METHOD")), path, status[0], size, elapsed)

    return logged


def log_request(method: str, path: str, status: str, size: int, elapsed_ms: float) -> None:
    """The request's one line: what the app answered, and what the HTTP server refused itself."""
    log.info("%s %s %s %d %.0fms", shown(method), shown(path[:300]), status, size, elapsed_ms)
