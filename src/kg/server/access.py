"""One log line per request (method, path, status, size, milliseconds), and quiet libraries.

waitress logs nothing per request; an operator wants to see what was asked
and how long it took, and not matplotlib's font cache at DEBUG level.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("kg.access")
# What a log line must not hold as it is: line breaks and controls (a forged line, a terminal's
# escape sequence), which waitress has decoded from the path's %0a and %1b.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # the path is decoded as Latin-1: its bytes alone
QUIET = ("matplotlib", "PIL", "fontTools", "urllib3", "waitress.queue")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def configure_logging() -> None:
    """Requests and warnings on stderr, one line each; the noisy libraries at WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


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
            method = str(environ.get("REQUEST_METHOD"))
            log.info("%s %s %s %d %.0fms", _shown(method), _shown(path[:300]), status[0], size, elapsed)

    return logged


def _shown(text: str) -> str:
    """`text` with its control characters written as escapes (`\\x0a`)."""
    return _CONTROLS.sub(lambda control: f"\\x{ord(control.group()):02x}", text)
