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
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, g, has_request_context, request

from kg.store.base import StoreUnreadable
from kg.store.generations import Lease, generation_folder, generation_id
from kg.store.integrity import check_intact
from kg.store.opening import is_endpoint, open_store

from . import frozen
from .services import Served
from .workers import ServiceError

if TYPE_CHECKING:
    from .config import ServerConfig
    from .services import Services

blueprint = Blueprint("generation", __name__)
log = logging.getLogger(__name__)
RETRY_FAILED_AFTER = 30.0  # seconds before a generation that failed to start is tried again
_READINGS = itertools.count(1)  # a store given by URL is read as generations remote-1, remote-2, …


def locate(config: ServerConfig) -> tuple[Served, Lease]:
    """The generation the configured store leads to now, leased while it is served. A store inside a
    generation is served with its own dist/ beside it, unless a dist/ was given; any other store with
    the configured one."""
    if is_endpoint(config.store):
        remote = functools.partial(open_store, config.store, config.timeout)  # waited for as a worker is
        return Served(f"remote-{next(_READINGS)}", remote, config.dist), Lease(None)
    real = Path(os.path.realpath(config.store))
    lease = Lease(real)  # before a build can remove it; a generation removed before is not opened
    try:
        check_intact(real)  # once for its workers: each would read every file again at each start
    except StoreUnreadable:
        lease.release()
        raise
    folder = generation_folder(real)
    own = folder / "dist" if folder is not None and config.built is None else None
    opened = functools.partial(open_store, str(real))
    served = Served(generation_id(real), opened, own or config.dist, own_dist=own is not None, local=real)
    return served, lease


class Live:
    """One generation being served: its Services, how many requests still use it, and its lease."""

    def __init__(self, generation: str, services: Services, lease: Lease) -> None:
        self.generation = generation
        self.started = time.monotonic()
        self._services: Services | None = services
        self.users = 0
        self.lease = lease
        self._ending = threading.Lock()
        self._ended = False

    @property
    def services(self) -> Services:
        """Its Services, until it is ended: a request that comes after is refused, not answered
        from stopped workers."""
        if self._services is None:
            closing = f"generation {self.generation} is no longer served: the server is closing"
            raise ServiceError(503, closing)
        return self._services

    def end(self) -> None:
        """Stop its workers, let go of its lease, and drop what it kept, for the collector to free;
        once, whoever asks first (closing the server, the end of its reading, its last request)."""
        with self._ending:
            if self._ended:
                return
            self._ended = True
        try:
            self.services.close()
        finally:
            self.lease.release()
            self._services = None


class ServedGenerations:
    """The generation the server answers from now; a newer one takes over once it is ready.

    One generation at a time is started and read ahead (`read_ahead`, set by `kg serve`) while the
    current one answers; builds published meanwhile wait, and the next request after the take-over
    starts the newest. So at most two generations' workers run, a generation that takes over is
    always the newest the server has seen, and builds that come faster than the reading cannot keep
    every one of them from taking over."""

    def __init__(self, config: ServerConfig, start: Callable[[ServerConfig, Served], Services]) -> None:
        self.config = config
        self._start = start
        self._lock = threading.Lock()
        served, lease = locate(config)
        self.current = Live(served.generation, start(config, served), lease)
        self._starting = False
        self._closed = False
        self._reading: Live | None = None  # a new generation being read ahead, not yet current
        self._starting_services: Services | None = None  # a new generation's, while its workers start
        self._replaced: set[Live] = set()  # generations taken over from that requests still use
        self._threads: set[threading.Thread] = set()  # starting, reading ahead, ending: closing waits
        self._failed: dict[str, float] = {}
        self._remote_tried = 0.0  # when a store given by URL was last read again
        # what a new generation reads before it takes over (`kg.server.read_ahead`); nothing by default
        self.read_ahead: Callable[[Live], None] = lambda _live: None

    def pin(self) -> Live:
        """The generation a request uses from its start to its end; a newer one found here is started."""
        self._notice()
        return self.hold()

    def hold(self, live: Live | None = None) -> Live:
        """Count one more user of `live` (the current generation by default), which is not closed
        before `release` says the last is done."""
        with self._lock:
            held = live or self.current
            held.users += 1
            return held

    def release(self, live: Live) -> None:
        with self._lock:
            live.users -= 1
            retired = live is not self.current and live.users == 0
        if retired:
            self._retire(live)

    def _retire(self, live: Live) -> None:
        """End a generation its last request let go of, in a thread of its own: stopping its workers
        and the collector's pass over what the server keeps (`frozen`) take half a second or more at
        a million triples, which that request should not wait for. It stays among the replaced until
        it is ended, so that closing meanwhile ends it too."""

        def end() -> None:
            _end(live)
            with self._lock:
                self._replaced.discard(live)

        self._in_background(end, f"retire-{live.generation}", starting=False)

    def _notice(self) -> None:
        """Start the generation the store's path leads to, if it is new and none is starting; in front of
        a store given by URL, which says nothing when it changes, a new reading of it once the current
        one (or the last try) is `store_refresh` seconds old."""
        if is_endpoint(self.config.store):
            self._notice_remote()
            return
        generation = generation_id(self.config.store)
        with self._lock:
            if generation == self.current.generation or self._starting or self._closed:
                return
            if time.monotonic() - self._failed.get(generation, -RETRY_FAILED_AFTER) < RETRY_FAILED_AFTER:
                return
            self._starting = True
        self._in_background(self._start_and_take_over, "switch")

    def _notice_remote(self) -> None:
        refresh = self.config.store_refresh
        now = time.monotonic()
        with self._lock:
            last = max(self.current.started, self._remote_tried)
            if not refresh or now - last < refresh or self._starting or self._closed:
                return
            self._starting = True
            self._remote_tried = now  # a store that cannot be read is tried again a period later
        self._in_background(self._start_and_take_over, "switch")

    def read_current_ahead(self) -> threading.Thread:
        """Read the current generation ahead (`read_ahead`) in a thread of its own, as `kg serve`
        starts; like a new generation's reading, no other generation starts meanwhile."""
        with self._lock:
            self._starting = True
        live = self.hold()

        def read() -> None:
            try:
                self._read(live)
            finally:
                self.release(live)

        try:
            return self._in_background(read, "read-ahead")
        except RuntimeError:
            self.release(live)
            raise

    def _in_background(self, work: Callable[[], None], name: str, starting: bool = True) -> threading.Thread:
        """Run `work` in a thread of its own, which closing waits for; if it is `starting` a
        generation, let the next one start once it is done."""

        def run() -> None:
            try:
                work()
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())
                    if starting:
                        self._starting = False

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._lock:
            self._threads.add(thread)
        try:
            thread.start()
        except RuntimeError:  # no thread to be had: the next request tries again
            with self._lock:
                self._threads.discard(thread)
                if starting:
                    self._starting = False
            raise
        return thread

    def _read(self, live: Live) -> None:
        try:
            self.read_ahead(live)
        except Exception:  # noqa: BLE001 - a page that cannot be read is read again when asked
            with self._lock:
                closed = self._closed
            if closed:  # its workers were stopped under the reading: the stop asked for, no failure
                log.info("reading generation %s ahead stopped: the server is closing", live.generation)
                return
            log.exception("generation %s could not be read ahead", live.generation)

    def _start_and_take_over(self) -> None:
        """Lease, start and read ahead the generation the store's path leads to, then make it current."""
        try:
            served, lease = locate(self.config)
        except OSError as error:  # removed between the look and the lease: the next request looks again
            log.warning("the new generation could not be leased: %s", error)
            return
        except StoreUnreadable as error:  # damaged: tried again after a while, as one that cannot start
            log.warning("the new generation cannot be served: %s", error)
            with self._lock:
                self._failed[generation_id(self.config.store)] = time.monotonic()
            return
        generation = served.generation
        services: Services | None = None
        try:
            services = self._start(self.config, served)
            with self._lock:
                self._starting_services = services  # closing stops it: a copy in memory takes minutes
                closed = self._closed
            if closed:
                raise ServiceError(503, "the server is closing")
            services.pool.start()  # its workers are up, its store opened, before any request uses it
            services.graphs  # noqa: B018 - what every SPARQL query needs, read or counted before it serves
            services.predicates  # noqa: B018 - likewise, in front of a remote store
        except Exception:  # noqa: BLE001 - a generation that cannot start leaves the current one serving
            if services is not None:
                services.close()
            lease.release()
            with self._lock:
                closed = self._closed
                self._failed[generation] = time.monotonic()
            if not closed:
                log.exception(
                    "generation %s could not start; still answering from %s",
                    generation,
                    self.current.generation,
                )
            return
        finally:
            with self._lock:
                self._starting_services = None
        new = self.hold(Live(generation, services, lease))  # its reading's requests let go, not ending it
        with self._lock:
            closed = self._closed
            self._reading = None if closed else new
        if closed:  # closed while it started
            new.end()
            return
        self._read(new)
        with self._lock:
            self._reading = None
            closed = self._closed
            if not closed:
                old, self.current = self.current, new
                retired = old.users == 0
                if not retired:
                    self._replaced.add(old)
        if closed:  # closed while it was read: never takes over
            new.end()
            return
        self.release(new)
        if retired:
            _end(old)  # before the next generation may start: at most two generations' workers

    def close(self, wait: float = 30) -> None:
        """End every generation the server holds: the current one, the one being read ahead, those
        taken over from that requests still use, and one whose workers are starting (its start then
        fails at once); then wait up to `wait` seconds for the threads that start, read or end one (a
        generation still being made is ended as its making returns). No generation starts after, and
        a request still running is refused rather than served."""
        with self._lock:
            self._closed = True
            held = [self.current, *([self._reading] if self._reading else []), *self._replaced]
            starting = self._starting_services
            threads = list(self._threads)
        if starting is not None:  # its start fails at once, rather than after copying a whole store
            starting.close()
        for live in held:
            live.end()
        deadline = time.monotonic() + wait
        for thread in threads:
            if thread.ident is not None:  # one recorded but not yet started has nothing to wait for
                thread.join(max(0.0, deadline - time.monotonic()))

    def services(self) -> Services:
        """The Services of the generation the current request uses (the current one outside a request)."""
        if not has_request_context():
            return self.current.services
        if "kg_generation" not in g:
            g.kg_generation = self.pin()
        live: Live = g.kg_generation
        return live.services


def _end(live: Live) -> None:
    try:
        live.end()
    finally:
        frozen.freeze_kept()


@blueprint.before_app_request
def pin_generation() -> None:
    current_app.extensions["kg"].services()


@blueprint.after_app_request
def name_generation(response: Response) -> Response:
    """Say which generation answered; a client holding this generation's answer gets 304 (but for an
    answer not to be kept: `no-store`). The tag names the answer's media type too: each form of a
    negotiated page is a representation of its own, and one tag for all let a cache revalidate its
    Turtle with a browser's request (RFC 9110 §8.8.3)."""
    live: Live | None = g.get("kg_generation")
    if live is None:
        return response
    response.headers["KG-Generation"] = live.generation
    kept = "no-store" not in response.headers.get("Cache-Control", "") and "ETag" not in response.headers
    if request.method in ("GET", "HEAD") and response.status_code == 200 and kept:
        response.set_etag(f"{live.generation}.{response.mimetype or 'none'}", weak=True)
        response.make_conditional(request)
    return response


@blueprint.teardown_app_request
def release_generation(_error: BaseException | None) -> None:
    live: Live | None = g.pop("kg_generation", None)
    if live is not None:
        current_app.extensions["kg"].release(live)
