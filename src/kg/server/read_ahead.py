"""What a build's first visitors would wait for, read when `kg serve` starts.

At a million triples the flow network, the search index and the pages drawn from them take seconds
each to read through a query worker (the first view of /network took 13 s, the first search 16 s).
The server reads them in a thread of its own as soon as it listens, through the same per-build memo
and cache the pages use, so a page asked meanwhile waits for the one read rather than reading it
again. Its queries are counted under a client address of their own, `read-ahead`, so that no
visitor's budget pays for them.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from kg.errors import KgError

log = logging.getLogger(__name__)
PAGES = ("/network", "/charts")
READER = "read-ahead"  # the client address its queries are counted under


def read_ahead(app: Flask) -> threading.Thread:
    """Start reading the current build's search index and network and charts pages."""

    def run() -> None:
        from kg.network.web import charts_page, network_page
        from kg.server.search import search_index

        started = time.perf_counter()
        try:
            for path, page in zip(PAGES, (network_page, charts_page), strict=True):
                with app.test_request_context(path, environ_base={"REMOTE_ADDR": READER}):
                    page()
            with app.app_context():
                search_index()
        except KgError as error:  # a refused query (row cap, time limit): its page says so in turn
            log.warning("read ahead stopped: %s", error)
            return
        log.info(
            "read ahead: %s and the search index in %.1f s", ", ".join(PAGES), time.perf_counter() - started
        )

    thread = threading.Thread(target=run, name="read-ahead", daemon=True)
    thread.start()
    return thread
