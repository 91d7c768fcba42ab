"""A loopback HTTP listener that counts every connection made to it, and answers like a SPARQL endpoint."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from server_fixtures import free_port

EMPTY_RESULTS = b'{"head":{"vars":["s","p","o"]},"results":{"bindings":[]}}'


class Listener:
    """Counts connections (not requests: a connection that sends nothing counts too), keeps the path
    of every request, and counts the connections that sent no request at all."""

    def __init__(self) -> None:
        self.connections = 0
        self.finished = 0  # connections whose handler is done: every other one is still open
        self.silent = 0
        self.paths: list[str] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            requested = False

            def setup(self) -> None:
                with outer._lock:
                    outer.connections += 1
                super().setup()

            def finish(self) -> None:
                with outer._lock:
                    outer.finished += 1
                    outer.silent += not self.requested
                super().finish()

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                self.requested = True
                with outer._lock:
                    outer.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(EMPTY_RESULTS)))
                self.end_headers()
                self.wfile.write(EMPTY_RESULTS)

            do_POST = do_GET  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self.port = free_port()
        self.http = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.port}/"

    def count_after(self, before: int, settle: float = 0.05) -> int:
        """Connections since `before`, once the listener's accept loop caught up."""
        time.sleep(settle)
        return self.connections - before

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()
