"""Queries run in worker processes that are killed at the time limit, cannot reach the network and have
a memory limit.

Oxigraph cannot be interrupted inside a thread, so a time limit that really
stops the work needs a process: each worker opens the store once, answers one
query at a time over a pipe, and is killed and replaced when a query overruns,
runs out of memory or crashes. The server's threads keep answering while a
worker is busy or being replaced. Workers start on first use (or when
`kg serve` starts them), so building the app costs nothing. What a worker
process runs is in `kg.server.worker`; it is forked by `kg.server.forkserver`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import queue
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from kg.errors import EXIT_FAILED, KgError
from kg.store.base import Store

from . import engine_plan, forkserver
from .admission import Busy, ClientSlots, Gate, TooMany
from .cache import BudgetCache
from .engine_plan import PlanCheck
from .fairness import FairQueue, Usage, held_to_budget
from .forkserver import ForkServer
from .messages import Answer, Failure, Query, Ready, Setup, Unready
from .sandbox import Protections

STORE_RETRY = 5  # seconds before asking again a store behind the server that did not answer
CLOSING = "the query workers are stopped: the server is closing"
LOG_AGAIN = 60.0  # seconds before the same reason a worker cannot start is logged again


class ServiceError(KgError):
    """A failure with an HTTP status, a message and, for syntax errors, a line and column."""

    exit_code = EXIT_FAILED

    def __init__(
        self,
        status: int,
        message: str,
        line: int | None = None,
        column: int | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(message, status=status, line=line, column=column)
        self.retry_after = retry_after

    @classmethod
    def of(cls, failure: Failure) -> ServiceError:
        """The error of a failed query; one that may pass (a worker lost, not a query that is sure to
        fail again, which is `spent` and kept) says to ask again in a second."""
        if failure.status == 502:  # the store behind did not answer: it may, in a few seconds
            retry: int | None = STORE_RETRY
        else:
            retry = 1 if failure.status == 503 and not failure.spent else None
        return cls(failure.status, failure.message, failure.line, failure.column, retry)


class Worker:
    """One query worker process and the pipe to it; it starts with `setup` and is ready once `ready`
    says so."""

    def __init__(self, setup: Setup, forks: ForkServer) -> None:
        from multiprocessing.connection import Connection

        for attempt in (1, 2):  # a fork server that died is started again, once, on a new pipe
            ours, theirs = socket.socketpair()
            try:
                self.process = forks.fork(theirs)
                break
            except OSError:
                ours.close()
                if attempt == 2:
                    raise
            finally:
                theirs.close()
        self.connection = Connection(ours.detach())
        self.preempted = False  # killed to free it for a lighter client
        try:
            self.connection.send(setup)
        except OSError:
            self.stop()
            raise

    def ready(self, seconds: float = 60) -> Ready | Unready | None:
        """The worker's protections once it opened its store; why it could not, if it says; else None."""
        if self.connection.poll(seconds):
            try:
                message = self.connection.recv()
            except (EOFError, OSError):  # it died before it read its setup (reset), or after
                return None
            return message if isinstance(message, Ready | Unready) else None
        return None

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(5)
        self.process.close()
        self.connection.close()

    def orphaned(self) -> bool:
        """Whether the worker ended with its fork server (see `death`): nothing the query did."""
        return self.process.returncode is None and self.process.parent.finished

    def death(self) -> Failure:
        """Why a worker that stopped answering stopped, as its query's answer: one to remember (the
        same query would do it again) when the exit code says what the query did, else not."""
        code = self.process.wait(2)
        if code is None:
            return Failure(503, "the query worker stopped answering; it was replaced")
        if code == -signal.SIGXCPU:
            reason = "the query used more CPU time than a query may; the worker was replaced"
        elif code in (-signal.SIGABRT, -signal.SIGKILL):
            reason = "the query needed more memory than a query worker may use; the worker was replaced"
        elif code < 0:
            reason = f"the query crashed its worker ({signal.Signals(-code).name}); the worker was replaced"
        else:
            reason = f"the query worker exited with status {code}; it was replaced"
        return Failure(503, reason, spent=True)


# Pictures drawn, searches made or queries read in the web process one client may have under way at
# once, and as many waiting: a browser asks for every picture of a page together (the charts page
# shows several), and one at a time made the last of them 429.
WORK_PER_CLIENT = 8
KNOWN_AFTER = 1.0  # seconds after its first charge a client counts as known to the gate
T = TypeVar("T")


class WorkerPool:
    """A fixed number of query workers and a started spare; a caller borrows a worker, waits a bounded
    time, or gets 503. A worker that must go (time limit, memory, crash) is replaced by the spare at
    once, so a query that kills workers does not leave the pool short while a new one starts.

    Each client is charged the worker-seconds its queries take: a freed worker
    goes to the waiting client that used the least lately, a quarter of the
    workers stays for clients that ran no query of half a time limit lately, a
    light client that waited half the queue wait has the longest-running query
    of a heavier client stopped (503, its worker replaced by the spare) and
    gets that worker, and a client past `client_budget` worker-seconds is
    answered 429 until its use decays.

    A failure that cost a worker (memory, crash) is remembered like an answer,
    so the same question asked again costs nothing.
    """

    def __init__(
        self,
        store_factory: Callable[[], Store],
        size: int,
        timeout: float,
        *,
        cache: BudgetCache | None = None,
        queue_wait: float = 2.0,
        client_limit: int = 1,
        isolate_network: bool = True,
        memory_mb: int | None = None,
        client_budget: float = 60.0,
        usage: Usage | None = None,
        on_answer: Callable[[bool], None] = lambda _from_cache: None,
        forks: ForkServer | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.size = size
        self.timeout = timeout
        self.queue_wait = queue_wait
        self.cache = cache
        self.slots = ClientSlots(client_limit, queue_wait, "queries" if client_limit > 1 else "query")
        self.work_slots = ClientSlots(
            WORK_PER_CLIENT, queue_wait, "pictures, searches or readings of queries"
        )
        self.gate = gate or Gate(1 << 30, 1 << 30)  # the HTTP threads costly work may hold; any, unless given
        self.client_budget = client_budget
        self.usage = usage or Usage(half_life=60.0)
        self.protections: Protections | None = None
        self._store_factory = store_factory
        self._forks = forks  # the pool's own fork server (holding its store), closed with it; else shared
        self._isolate = isolate_network
        self._memory_mb = memory_mb
        # told of each query as it is taken from the cache (True) or sent to a worker (False), whether
        # it then answers or fails: what `Cache-Status` says
        self._on_answer = on_answer
        # A client that ran a query of half a time limit lately is heavy; a quarter of the workers, at
        # least one, stays free for the others.
        reserve = max(1, size // 4) if size > 1 else 0
        self._idle: FairQueue[Worker] = FairQueue(
            self.usage, reserve, heavy=timeout / 2, preempt=self._preempt, patience=queue_wait / 2
        )
        self._running: dict[Worker, tuple[str | None, float]] = {}
        self._running_lock = threading.Lock()
        self._spares: queue.Queue[Worker] = queue.Queue()
        self._all: set[Worker] = set()
        self._lock = threading.Lock()  # held while the first workers start
        self._members = threading.Lock()  # held briefly: `_all`, `_started`; never while a worker starts
        self._started = False
        self._closed = False  # for good: a page still running when the server closes starts no worker
        self._cannot_start: str | None = None  # why workers to replace others fail to start, while they do
        self._cannot_start_said: dict[str, float] = {}  # when each such reason was last logged
        self._probe: socket.socket | None = None
        self._probe_port: int | None = None
        # where client queries are also planned by Oxigraph, once started (`kg.server.engine_plan`)
        self.plans: PlanCheck | str | None = None

    @property
    def started(self) -> bool:
        return self._started

    def start(self) -> Protections:
        """Start every worker (once), and a spare in the background; the protections they report."""
        with self._lock:
            if self._closed:
                raise ServiceError(503, CLOSING)
            if not self._started:
                self._probe = socket.create_server(("127.0.0.1", 0))
                self._probe_port = self._probe.getsockname()[1]
                if not self._isolate:  # the store is reached over the network: the engine plans too
                    self.plans = engine_plan.prepare(self._probe_port)
                for _ in range(self.size):
                    try:
                        worker = self._launch()
                    except (OSError, RuntimeError) as failure:
                        raise ServiceError(503, f"the query workers could not start: {failure}") from None
                    with self._members:
                        closed = self._closed
                        if not closed:
                            self._all.add(worker)
                    if closed:  # closed while this one started
                        worker.stop()
                        raise ServiceError(503, CLOSING)
                    self._idle.put(worker)
                with self._members:
                    closed = self._closed
                    self._started = not closed
                if closed:  # closed as the last one started: its workers were stopped with it
                    raise ServiceError(503, CLOSING)
                threading.Thread(target=self._refill, args=(None, self._spares), daemon=True).start()
        assert self.protections is not None
        return self.protections

    def _launch(self) -> Worker:
        """A new worker, once it opened its store."""
        setup = Setup(
            self._store_factory,
            self._isolate,
            self._probe_port,
            self._memory_mb,
            2 * self.timeout + 5,
            self.plans,
        )
        worker = Worker(setup, self._forks or forkserver.shared())
        ready = worker.ready()
        if not isinstance(ready, Ready):
            worker.stop()
            why = ready.reason if ready else f"exit {worker.process.returncode}"
            raise RuntimeError(f"a query worker could not open the store ({why})")
        self.protections = ready.protections
        if isinstance(self.plans, PlanCheck) and not self.plans.tried:  # what one worker found holds for all
            if ready.protections.planner:
                self.plans = dataclasses.replace(self.plans, tried=True)
            else:
                engine_plan.remove(self.plans)
                self.plans = ready.protections.unplanned
        return worker

    def _refill(self, old: Worker | None, into: FairQueue[Worker] | queue.Queue[Worker]) -> None:
        """Stop `old` and start a worker into `into` (the idle workers, or the spare)."""
        if old is not None:
            old.stop()
            if isinstance(self.plans, PlanCheck):  # stopped, perhaps before it removed its plan
                engine_plan.plan_file(self.plans, old.process.pid).unlink(missing_ok=True)
        if not self._started:
            return
        # Started outside any lock, so that retiring other workers meanwhile never waits for it; tried
        # again while the pool is open, so a failure to start one never leaves the pool short for good.
        pause = 0.1
        while True:
            try:
                worker = self._launch()
                with self._members:
                    self._cannot_start = None
                    self._cannot_start_said.clear()
                break
            except (OSError, RuntimeError) as failure:
                if not self._started:
                    return  # the pool closed meanwhile
                self._note_cannot_start(str(failure))
                time.sleep(pause)
                pause = min(2 * pause, 5.0)
        with self._members:
            keep = self._started
            if keep:
                self._all.add(worker)
        if keep:
            into.put(worker)
        else:
            worker.stop()

    def _note_cannot_start(self, reason: str) -> None:
        """Keep why no worker can start, for the queries that wait for one, and log it once a while:
        every thread replacing a worker tries again and again."""
        now = time.monotonic()
        with self._members:
            said = now - self._cannot_start_said.get(reason, -LOG_AGAIN) < LOG_AGAIN
            self._cannot_start = reason
            if not said:
                self._cannot_start_said[reason] = now
        if not said:
            sys.stderr.write(f"a query worker could not start ({reason}); trying again\n")

    def run(self, query: Query, client: str | None = None) -> Answer:
        """Answer `query` within the limits, from the cache when asked before; `client` is who asks
        (None: the server itself)."""
        cached = self.cache.get(query) if self.cache else None
        if cached is not None:
            self._on_answer(True)
        else:
            self.within_budget(client)
            try:
                with self._held(client), self.slots.slot(client):
                    self._on_answer(False)
                    cached = self._run(query, client)
            except TooMany as refused:
                raise self._too_many(refused) from None
            # an answer written to a file is that file, read once: nothing to keep
            if (
                self.cache is not None
                and query.written_to is None
                and (isinstance(cached, Answer) or cached.spent)
            ):
                size = len(cached.body) if isinstance(cached, Answer) else len(cached.message)
                self.cache.put(query, cached, size + len(query.text) + 256)
        if isinstance(cached, Failure):
            raise ServiceError.of(cached)
        return cached

    def worked(self, client: str | None, work: Callable[[], T], *, gated: bool = True) -> T:
        """Work done in this process for `client`, not in a worker (a picture drawn, a search of the
        index held here, a client's query read before a worker reads it): held to its budget, at most
        WORK_PER_CLIENT pieces at once (slots of their own, since a drawing may ask queries), and
        charged the CPU time it took, as a query is charged its worker's time. Uncharged, a client
        asking for pictures of ever new queries (seconds of drawing each), or searches of a hundred
        words, slowed every page for free. Work that is short and waits for nothing (the reading of a
        client's text, of bounded length) is not `gated`: it holds no thread long, and a cached answer
        asked meanwhile must not wait for the gate."""
        self.within_budget(client)
        held = self._held(client) if gated else contextlib.nullcontext()
        try:
            with held, self.work_slots.slot(client):
                started = time.thread_time()
                try:
                    return work()
                finally:
                    self.usage.charge(client, time.thread_time() - started)
        except TooMany as refused:
            raise self._too_many(refused) from None

    @contextmanager
    def _held(self, client: str | None) -> Iterator[None]:
        """Costly work holds one of the HTTP threads the gate allows it, after its turn, or is refused; the
        server's own reading ahead (`in_background`) holds none, in a thread of its own."""
        try:
            with self.gate.held(client if held_to_budget() else None, self._rank(client)):
                yield
        except Busy as busy:
            raise ServiceError(503, str(busy), retry_after=1) from None

    def _rank(self, client: str | None) -> int:
        """Where `client` stands at the gate, as the workers' queue ranks it: 0 known to be light (no
        query of half a time limit lately, first charged more than KNOWN_AFTER ago: from before this
        request), 1 not known, or known but using half a time limit of the workers lately in shorter
        queries, 2 heavy. Clients on many addresses whose queries were each stopped short for another
        had ranked with a light bystander, and held every thread it could have had."""
        heavy = self._idle.heavy  # half a time limit, as the queue reads it
        if self.usage.longest(client) >= heavy:
            return 2
        light = self.usage.of(client) < heavy
        return 0 if light and self.usage.known_for(client) > KNOWN_AFTER else 1

    def _too_many(self, refused: TooMany) -> ServiceError:
        """A client's refusal for its share, as a 429 that says which limit it reached."""
        return ServiceError(429, refused.message, retry_after=1)

    def within_budget(self, client: str | None) -> None:
        """Refuse (429, with Retry-After) a client past its budget of worker-seconds, unless the query
        asked now is the server's own reading (`in_background`)."""
        if not held_to_budget():
            return
        wait = self.usage.wait_for(client, self.client_budget)
        if wait > 0:
            raise ServiceError(
                429,
                f"this client used more than {self.client_budget:g} worker-seconds lately; "
                f"ask again in {math.ceil(wait)} s",
                retry_after=math.ceil(wait),
            )

    def _run(self, query: Query, client: str | None) -> Answer | Failure:
        if not self._started:
            self.start()
        ran = 0.0  # seconds the query ran on workers lost meanwhile: one time limit for all its runs
        for _ in range(2):  # a worker that died with its fork server says nothing of the query: once more
            worker = self._borrow(client)
            started = time.monotonic()
            with self._running_lock:
                self._running[worker] = (client, started)
            lost = False  # with its fork server: not the client's doing, so not charged
            try:
                reply = self._ask(worker, query, max(0.0, self.timeout - ran))
                lost = reply is None
            finally:
                with self._running_lock:
                    del self._running[worker]
                if not lost:
                    self.usage.charge(client, time.monotonic() - started)
            if reply is not None:
                return reply
            ran += time.monotonic() - started
        return Failure(503, "the query worker stopped answering; it was replaced")

    def _borrow(self, client: str | None) -> Worker:
        """An idle worker for `client` within the queue wait, passing over those that died idle."""
        deadline = time.monotonic() + self.queue_wait
        try:
            worker = self._idle.get(client, self.queue_wait)
            while not worker.process.alive():  # it died idle, or dies with its fork server: never asked
                self._retire(worker)
                worker = self._idle.get(client, max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            if self._cannot_start is not None:
                raise ServiceError(
                    503, f"no query worker can start: {self._cannot_start}", retry_after=5
                ) from None
            raise ServiceError(503, "every query worker is busy; try again shortly", retry_after=1) from None
        return worker

    def _preempt(self, client: str | None) -> bool:
        """Stop the longest-running query of a client heavier than `client`, if a spare can take its
        worker's place at once; whether one was stopped."""
        if self._spares.empty():
            return False
        mine, now = self.usage.of(client), time.monotonic()
        with self._running_lock:
            heavier = [
                (started, worker, owner)
                for worker, (owner, started) in self._running.items()
                if owner != client
                and owner is not None
                and not worker.preempted
                and self.usage.of(owner) + now - started > mine + self._idle.heavy
            ]
            if not heavier:
                return False
            _, victim, owner = min(heavier, key=lambda running: running[0])
            victim.preempted = True
            victim.process.kill()
        self.usage.count_as_long(owner, self.timeout)  # heavy for a while, at the gate and in the queue
        return True

    def _ask(self, worker: Worker, query: Query, seconds: float) -> Answer | Failure | None:
        """The worker's reply within `seconds` (what is left of the time limit), or the failure that
        cost it; None if it died with its fork server."""
        try:
            worker.connection.send(query)
            if not worker.connection.poll(seconds):
                self._retire(worker)
                raise ServiceError(504, f"the query was stopped at the time limit of {self.timeout:g} s")
            reply: Answer | Failure = worker.connection.recv()
        except (EOFError, OSError):
            if self._closed:  # stopped with the pool: its exit says nothing of the query (a kill is
                return Failure(503, CLOSING)  # how a worker past its memory ends too)
            failure = worker.death()
            self._retire(worker)
            if worker.preempted:
                return Failure(
                    503, "the query was stopped so that lighter clients could be answered; ask later"
                )
            return None if worker.orphaned() else failure
        if worker.preempted or (isinstance(reply, Failure) and reply.spent):
            self._retire(worker)
        else:
            self._idle.put(worker)
        return reply

    def _retire(self, worker: Worker) -> None:
        """Replace a worker by the spare at once (starting a new spare), or by a new worker as soon as
        it has started; the caller is answered meanwhile."""
        with self._members:
            self._all.discard(worker)
        into: FairQueue[Worker] | queue.Queue[Worker]
        try:
            self._idle.put(self._spares.get_nowait())
            into = self._spares
        except queue.Empty:
            into = self._idle
        threading.Thread(target=self._refill, args=(worker, into), daemon=True).start()

    def close(self) -> None:
        with self._members:
            workers, self._all = list(self._all), set()
            self._started = False
            self._closed = True
        if self._probe is not None:
            self._probe.close()
        for worker in workers:
            worker.stop()
        if self._forks is not None:
            self._forks.close()
        if isinstance(self.plans, PlanCheck):
            engine_plan.remove(self.plans)
