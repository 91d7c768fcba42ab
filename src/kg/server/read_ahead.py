"""What a build's first visitors would wait for, read before they ask.

At a million triples the flow network, the search index and the pages drawn from them take seconds
each to read through a query worker (the first view of /network took 13 s, the first search 16 s),
and so do most catalogue questions (0.2 to 3.6 s each).
`kg serve` reads them for the generation it starts with in a thread of its own as soon as it
listens, and for each generation a new build publishes before that generation takes over, while the
one before keeps answering. The reading goes through the same per-generation memo and cache the
pages use, so a page asked meanwhile waits for the one read rather than reading it again. Its
queries are counted under a client address of their own, `read-ahead` (what a page makes once for
every visitor under the name of what is made, `Services.derived`), so that no visitor's budget pays for
them; they are charged to it, so that every visitor is handed a worker before the reading
is, but never refused for its budget.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from flask import Flask, Response, g

from kg.errors import KgError

from . import frozen
from .fairness import in_background

if TYPE_CHECKING:
    from .generation import Live, ServedGenerations

log = logging.getLogger(__name__)
FIRST = ("/network", "/charts", "/search")  # the last stands for the search index
READER = "read-ahead"  # the client address its queries are counted under


def read_ahead(app: Flask) -> threading.Thread:
    """Start reading the current generation's pages, search index and questions, and read each new
    one's before it takes over."""
    generations: ServedGenerations = app.extensions["kg"]
    generations.read_ahead = lambda live: read(app, live)
    return generations.read_current_ahead()


def read(app: Flask, live: Live) -> None:
    """Read the network and charts pages, the search index and each catalogue question's answer to
    its default parameters (as its page asks it) of generation `live`, which the caller holds.

    Its queries are not refused for the read-ahead's budget of worker-seconds (`in_background`): at
    10 M triples the charts alone took 96 worker-seconds, and every question after them was refused
    at once. A page refused in a way that may pass (every worker busy: visitors go first) is read
    once more at the end. A page refused otherwise (row cap, time limit) is logged and the reading
    goes on: at that size the network is out of reach while most questions are not, and the page
    says why when asked."""
    started = time.perf_counter()
    refused: list[str] = []
    again: list[tuple[str, Callable[[], object]]] = []

    def refuse(path: str, reason: str) -> None:
        refused.append(path)
        log.warning("read ahead of generation %s: %s refused: %s", live.generation, path, reason)

    try:
        with in_background():
            for path, page in _pages(live):
                refusal = _read_page(app, live, path, page)
                if refusal and refusal.passes:
                    again.append((path, page))
                    log.info(
                        "read ahead of generation %s: %s %s; read again at the end",
                        live.generation,
                        path,
                        refusal.reason,
                    )
                elif refusal:
                    refuse(path, refusal.reason)
            for path, page in again:
                if refusal := _read_page(app, live, path, page):
                    refuse(path, refusal.reason)
    finally:
        frozen.freeze_kept()
    log.info(
        "read ahead of generation %s in %.1f s: /network, /charts, the search index and %d questions%s",
        live.generation,
        time.perf_counter() - started,
        len(live.services.catalogue),
        "; refused: " + ", ".join(refused) if refused else "",
    )


class Refusal(NamedTuple):
    """Why a page could not be read (its status first), and whether it said to ask again (a busy
    server, a lost worker) rather than failed as it would again."""

    reason: str
    passes: bool


def _read_page(app: Flask, live: Live, path: str, page: Callable[[], object]) -> Refusal | None:
    """Read one page of `live` as a request of the read-ahead's; None when it was read. A refusal is
    a refused query raised, a page that shows its refusal (a question's) with an error status, or a
    page that failed otherwise."""
    with app.test_request_context(path, environ_base={"REMOTE_ADDR": READER}):
        g.kg_generation = app.extensions["kg"].hold(live)  # released as the request ends
        try:
            answer = page()
        except KgError as error:
            return Refusal(f"{error.status} {error}", error.retry_after is not None)
        except Exception as error:  # noqa: BLE001 - a defect in one page: logged, the others still read
            log.exception("read ahead of generation %s: %s failed", live.generation, path)
            return Refusal(f"500 {type(error).__name__}", passes=False)
        if isinstance(answer, Response) and answer.status_code >= 400:
            return Refusal(f"{answer.status} (the page says why)", "Retry-After" in answer.headers)
        return None


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
