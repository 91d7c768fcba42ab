"""The query workers are forked from a fork server: how a worker ended reaches its pool, a fork server
that died is started again, and no worker outlives a closed pool. Real processes, killed with signals."""

from __future__ import annotations

import functools
import os
import signal
import time

import pytest
from processes import fork_servers_of, workers_of

from kg.server.forkserver import ForkServer
from kg.server.messages import Query, Setup
from kg.server.workers import ServiceError, Worker, WorkerPool
from kg.store.embedded import EmbeddedStore

RUNAWAY = Query("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }")


def gone(pids: list[int], seconds: float = 10) -> bool:
    """Whether every process of `pids` has ended (or is a zombie) within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        states = []
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    states.append(stat.read().rsplit(")", 1)[1].split()[0])
            except OSError:
                states.append("gone")
        if all(state in ("gone", "Z") for state in states):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        (signal.SIGXCPU, "more CPU time than a query may"),
        (signal.SIGKILL, "more memory than a query worker may use"),
        (signal.SIGSEGV, "crashed its worker (SIGSEGV)"),
    ],
)
def test_the_signal_that_ended_a_worker_reaches_its_pool(built, sent: signal.Signals, reason: str) -> None:
    forks = ForkServer()
    try:
        worker = Worker(
            Setup(functools.partial(EmbeddedStore, built.store_path), False, None, None, 30), forks
        )
        assert worker.ready() is not None
        os.kill(worker.process.pid, sent)
        assert worker.process.wait(30) == -sent
        assert reason in worker.death()
    finally:
        forks.close()


def test_a_fork_server_that_died_is_started_again_and_a_closed_pool_leaves_no_worker(built) -> None:
    pool = WorkerPool(functools.partial(EmbeddedStore, built.store_path), 1, 1.0, queue_wait=30)
    try:
        pool.start()
        [first] = fork_servers_of(os.getpid())  # the process's one fork server, shared by its pools
        workers = workers_of(first)
        os.kill(first, signal.SIGKILL)
        with pytest.raises(ServiceError) as stopped:
            pool.run(RUNAWAY)  # the worker is replaced: by the spare, then a new one is forked
        assert stopped.value.status == 504
        assert pool.run(Query("ASK { ?s ?p ?o }")).body.startswith(b'{"head"')
        with pytest.raises(ServiceError):
            pool.run(RUNAWAY)  # the spare is spent: a worker is forked now
        assert pool.run(Query("ASK { ?s ?p ?o }")).body.startswith(b'{"head"')
        [second] = fork_servers_of(os.getpid())
        assert second != first
        workers += workers_of(second)
    finally:
        pool.close()
    assert gone(workers), workers
