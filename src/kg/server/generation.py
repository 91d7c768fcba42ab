"""Which build generation the server answers from, switched for all its workers and caches at once.

`kg build` makes a new generation current by one rename (`kg.store.generations`).
At the start of each request the server looks where the store's path leads; when
it leads to a new generation, a whole new `Services` (its own query workers and
caches) is started for it in the background while the old one keeps answering,
and then one reference is swapped. A request keeps the generation it started
with to its end, so no answer mixes two generations, and every response names
its generation (`KG-Generation`, and a weak `ETag` on a successful GET).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, g, has_request_context, request

from kg.store.generations import GENERATIONS, generation_id
from kg.store.opening import is_endpoint, open_store

from .services import Served

if TYPE_CHECKING:
    from .config import ServerConfig
    from .services import Services

blueprint = Blueprint("generation", __name__)
log = logging.getLogger(__name__)
RETRY_FAILED_AFTER = 30.0  # seconds before a generation that failed to start is tried again


def locate(config: ServerConfig) -> Served:
    """The generation the configured store leads to now. A store inside a generation is served with
    its own dist/ beside it, unless a dist/ was given; any other store with the configured one."""
    if is_endpoint(config.store):
        return Served("remote", functools.partial(open_store, config.store), config.dist)
    real = Path(os.path.realpath(config.store))
    inside = real.parent.parent.name == GENERATIONS and config.built is None
    own = real.parent / "dist" if inside else config.dist
    return Served(generation_id(real), functools.partial(open_store, str(real)), own)


class Live:
    """One generation being served: its Services and how many requests still use it."""

    def __init__(self, generation: str, services: Services) -> None:
        self.generation = generation
        self.services = services
        self.users = 0


class ServedGenerations:
    """The generation the server answers from now; a newer one takes over once it is ready."""

    def __init__(self, config: ServerConfig, start: Callable[[ServerConfig, Served], Services]) -> None:
        self.config = config
        self._start = start
        self._lock = threading.Lock()
        served = locate(config)
        self.current = Live(served.generation, start(config, served))
        self._starting: set[str] = set()  # generations started in the background, not yet taken over
        self._failed: dict[str, float] = {}
        # what a new generation reads before it takes over (`kg.server.read_ahead`); nothing by default
        self.read_ahead: Callable[[Live], None] = lambda _live: None

    def pin(self) -> Live:
        """The generation a request uses from its start to its end; a newer one found here is started."""
        self._notice()
        return self.hold(self.current)

    def hold(self, live: Live) -> Live:
        """Count one more user of `live`, which is not closed before `release` says the last is done."""
        with self._lock:
            live.users += 1
            return live

    def release(self, live: Live) -> None:
        with self._lock:
            live.users -= 1
            retired = live is not self.current and live.users == 0
        if retired:
            live.services.close()

    def _notice(self) -> None:
        """Start the generation the store's path leads to, if it is new, in the background."""
        if is_endpoint(self.config.store):
            return
        generation = generation_id(self.config.store)
        with self._lock:
            if generation == self.current.generation or generation in self._starting:
                return
            if time.monotonic() - self._failed.get(generation, -RETRY_FAILED_AFTER) < RETRY_FAILED_AFTER:
                return
            self._starting.add(generation)
        threading.Thread(target=self._switch, args=(generation,), daemon=True).start()

    def _switch(self, noticed: str) -> None:
        try:
            self._start_and_take_over(locate(self.config))
        finally:
            with self._lock:
                self._starting.discard(noticed)

    def _start_and_take_over(self, served: Served) -> None:
        """Start `served`, read it ahead, and make it current unless a newer build was published
        meanwhile: a generation started later never gives way to one started earlier."""
        generation = served.generation
        services: Services | None = None
        try:
            services = self._start(self.config, served)
            services.graphs  # noqa: B018 - the first query: its workers are up before any request uses it
        except Exception:  # noqa: BLE001 - a generation that cannot start leaves the current one serving
            if services is not None:
                services.close()
            log.exception(
                "generation %s could not start; still answering from %s", generation, self.current.generation
            )
            with self._lock:
                self._failed[generation] = time.monotonic()
            return
        new = self.hold(Live(generation, services))
        try:
            self.read_ahead(new)
        except Exception:  # noqa: BLE001 - a page that cannot be read is read again when asked
            log.exception("generation %s could not be read ahead; it takes over unread", generation)
        retired: Live | None = None
        with self._lock:
            outdated = generation_id(self.config.store) != generation
            if not outdated:
                old, self.current = self.current, new
                retired = old if old.users == 0 else None
        self.release(new)  # closes it if it did not take over
        if outdated:
            log.info("generation %s did not take over: a newer build was published meanwhile", generation)
        if retired is not None:
            retired.services.close()

    def close(self) -> None:
        self.current.services.close()

    def services(self) -> Services:
        """The Services of the generation the current request uses (the current one outside a request)."""
        if not has_request_context():
            return self.current.services
        if "kg_generation" not in g:
            g.kg_generation = self.pin()
        live: Live = g.kg_generation
        return live.services


@blueprint.before_app_request
def pin_generation() -> None:
    current_app.extensions["kg"].services()


@blueprint.after_app_request
def name_generation(response: Response) -> Response:
    """Say which generation answered; a client holding this generation's answer gets 304."""
    live: Live | None = g.get("kg_generation")
    if live is None:
        return response
    response.headers["KG-Generation"] = live.generation
    if request.method in ("GET", "HEAD") and response.status_code == 200 and "ETag" not in response.headers:
        response.set_etag(live.generation, weak=True)
        response.make_conditional(request)
    return response


@blueprint.teardown_app_request
def release_generation(_error: BaseException | None) -> None:
    live: Live | None = g.pop("kg_generation", None)
    if live is not None:
        current_app.extensions["kg"].release(live)
