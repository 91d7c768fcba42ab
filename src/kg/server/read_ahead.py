"""What a build's first visitors would wait for, read before they ask.

At a million triples the flow network, the search index and the pages drawn from them take seconds
each to read through a query worker (the first view of /network took 13 s, the first search 16 s),
and so do most catalogue questions (0.2 to 3.6 s each).
`kg serve` reads them for the generation it starts with in a thread of its own as soon as it
listens, and for each generation a new build publishes before that generation takes over, while the
one before keeps answering. The reading goes through the same per-generation memo and cache the
pages use, so a page asked meanwhile waits for the one read rather than reading it again. Its
queries are counted under a client address of their own, `read-ahead`, so that no visitor's budget
pays for them.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask, Response, g

from kg.errors import KgError

from . import frozen

if TYPE_CHECKING:
    from .generation import Live, ServedGenerations

log = logging.getLogger(__name__)
FIRST = ("/network", "/charts", "/search")  # the last stands for the search index
READER = "read-ahead"  # the client address its queries are counted under
PATIENCE = 30  # times one page is asked again after a refusal for the budget, each after the wait it says


def read_ahead(app: Flask) -> threading.Thread:
    """Start reading the current generation's pages, search index and questions, and read each new
    one's before it takes over."""
    generations: ServedGenerations = app.extensions["kg"]
    generations.read_ahead = lambda live: read(app, live)
    return generations.read_current_ahead()


def read(app: Flask, live: Live) -> None:
    """Read the network and charts pages, the search index and each catalogue question's answer to
    its default parameters (as its page asks it) of generation `live`, which the caller holds. A page
    refused (row cap, time limit) is logged and the reading goes on: at ten million triples the network
    is out of reach while most questions are not, and the refused page says why when asked."""
    started = time.perf_counter()
    refused: list[str] = []
    waited = 0
    try:
        for path, page in _pages(live):
            reason, wait = _read_page(app, live, path, page)
            waited += wait
            if reason:
                refused.append(path)
                log.warning("read ahead of generation %s: %s refused: %s", live.generation, path, reason)
    finally:
        frozen.freeze_kept()
    log.info(
        "read ahead of generation %s: /network, /charts, the search index and %d questions in %.1f s%s%s",
        live.generation,
        len(live.services.catalogue),
        time.perf_counter() - started,
        f", {waited} s of it waiting for the client budget" if waited else "",
        "; refused: " + ", ".join(refused) if refused else "",
    )


def _read_page(app: Flask, live: Live, path: str, page: Callable[[], object]) -> tuple[str | None, int]:
    """Read one page of `live`, waiting as long as each refusal for the client budget says: the
    read-ahead is held to the budget like any client, so that it cannot crowd visitors out of the
    workers (at 10 M triples the charts alone took 96 worker-seconds, and every question after them was
    refused). Why it was refused in the end (None when it was read), and the seconds it waited."""
    waited = 0
    for _ in range(PATIENCE):
        with app.test_request_context(path, environ_base={"REMOTE_ADDR": READER}):
            g.kg_generation = app.extensions["kg"].hold(live)  # released as the request ends
            reason, wait = _refusal(page)
        if wait is None:
            break
        time.sleep(wait)
        waited += wait
    return reason, waited


def _refusal(page: Callable[[], object]) -> tuple[str | None, int | None]:
    """Why reading a page failed (a refused query raised, or a page that shows its refusal, a
    question's, answered with an error status) and, for a refusal for the budget, the seconds to wait
    before asking again; (None, None) when it was read."""
    try:
        answer = page()
    except KgError as error:
        return str(error), error.retry_after if error.status == 429 else None
    if isinstance(answer, Response) and answer.status_code >= 400:
        wait = answer.headers.get("Retry-After") if answer.status_code == 429 else None
        return f"answered {answer.status}", int(wait) if wait else None
    return None, None


def _pages(live: Live) -> list[tuple[str, Callable[[], object]]]:
    """Each path read, with the function that answers it."""
    from kg.network.web import charts_page, network_page
    from kg.server.pages import named_page
    from kg.server.search import search_index

    first: list[tuple[str, Callable[[], object]]] = list(
        zip(FIRST, (network_page, charts_page, search_index), strict=True)
    )
    return first + [
        (f"/queries/{name}?run=1", functools.partial(named_page, name)) for name in live.services.catalogue
    ]
