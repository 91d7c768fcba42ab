"""The query workers are forked from a fork server: how a worker ended reaches its pool, a fork server
that died is started again, and no worker outlives a closed pool. Real processes, killed with signals."""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
import pytest
from processes import children_of, copying, cpu_seconds, fork_servers_of, gone

from kg.server import forkserver
from kg.server.cache import BudgetCache
from kg.server.forkserver import Forked, ForkServer
from kg.server.held import held_store
from kg.server.messages import Answer, Query, Setup
from kg.server.workers import ServiceError, Worker, WorkerPool
from kg.store.embedded import EmbeddedStore

RUNAWAY = Query("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }")


def forked_by(server: int) -> list[int]:
    return [pid for pid, _ in children_of(server)]


@pytest.fixture
def forks() -> Iterator[ForkServer]:
    """A fork server of the test's own, stopped at its end (its workers with it)."""
    server = ForkServer()
    yield server
    server.close()


@pytest.fixture
def setup(built) -> Setup:
    """A worker's setup over the session's build: no network isolation, no memory limit, 30 s of CPU."""
    return Setup(functools.partial(EmbeddedStore, built.store_path), False, None, None, 30)


def ready_worker(setup: Setup, forks: ForkServer) -> tuple[Worker, int]:
    """A worker that opened its store, and the pid of the fork server that forked it."""
    worker = Worker(setup, forks)
    assert worker.ready() is not None
    [server] = [pid for pid in fork_servers_of(os.getpid()) if worker.process.pid in forked_by(pid)]
    return worker, server


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        (signal.SIGXCPU, "more CPU time than a query may"),
        (signal.SIGKILL, "more memory than a query worker may use"),
        (signal.SIGSEGV, "crashed its worker (SIGSEGV)"),
    ],
)
def test_the_signal_that_ended_a_worker_reaches_its_pool(
    setup: Setup, forks: ForkServer, sent: signal.Signals, reason: str
) -> None:
    worker, _ = ready_worker(setup, forks)
    os.kill(worker.process.pid, sent)
    assert worker.process.wait(30) == -sent
    assert reason in worker.death().message


def test_a_fork_server_that_died_takes_its_workers_and_the_next_query_is_answered(built) -> None:
    """Its workers die with it (no process is left that could reap them or report how they ended),
    the pool skips the dead idle ones, and a new fork server forks their replacements."""
    pool = WorkerPool(functools.partial(EmbeddedStore, built.store_path), 1, 1.0, queue_wait=30)
    try:
        pool.start()
        [first] = fork_servers_of(os.getpid())  # the process's one fork server, shared by its pools
        deadline = time.monotonic() + 30
        while len(workers := forked_by(first)) < 2:  # the worker, and the spare started meanwhile
            assert time.monotonic() < deadline, workers
            time.sleep(0.05)
        os.kill(first, signal.SIGKILL)
        assert gone(workers), workers
        assert pool.run(Query("ASK { ?s ?p ?o }")).body.startswith(b'{"head"')
        with pytest.raises(ServiceError) as stopped:
            pool.run(RUNAWAY)
        assert stopped.value.status == 504
        assert pool.run(Query("ASK { ?s ?p ?o }")).body.startswith(b'{"head"')
        [second] = fork_servers_of(os.getpid())
        assert second != first
        workers += forked_by(second)
    finally:
        pool.close()
    assert gone(workers), workers


CROSS = Query("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }")  # seconds of work on the report


def kill_fork_server_mid_query() -> int:
    """Kill the process's fork server once one of its workers is at a query (has used half a second
    of CPU), and wait for its workers to die with it; the fork server's pid. After a kill the pool
    starts the next fork server only as it asks again, a moment later on a loaded machine."""
    deadline = time.monotonic() + 30
    while not (servers := fork_servers_of(os.getpid())):
        assert time.monotonic() < deadline, "no fork server was started again"
        time.sleep(0.05)
    [server] = servers
    workers = forked_by(server)
    while not any(cpu_seconds(pid) > 0.5 for pid in workers):
        assert time.monotonic() < deadline, workers
        time.sleep(0.05)
        workers = forked_by(server)
    os.kill(server, signal.SIGKILL)
    assert gone(workers), workers
    return server


def asked_while_fork_servers_die(
    built, kills: int, query: Query = CROSS, timeout: float = 60.0
) -> tuple[Answer | ServiceError, list[int], WorkerPool]:
    """`query` asked by client "c" of a pool of one worker whose fork server is killed `kills` times
    while the query is under way: its answer or refusal, the pids of the fork servers killed, and the
    pool (closed)."""
    pool = WorkerPool(
        functools.partial(EmbeddedStore, built.store_path),
        1,
        timeout,
        cache=BudgetCache(2**20),
        queue_wait=30,
    )
    try:
        pool.start()
        with ThreadPoolExecutor(1) as asking:
            reply = asking.submit(_reply, pool, query)
            killed = [kill_fork_server_mid_query() for _ in range(kills)]
            return reply.result(120), killed, pool
    finally:
        pool.close()


def _reply(pool: WorkerPool, query: Query) -> Answer | ServiceError:
    try:
        return pool.run(query, "c")
    except ServiceError as refused:
        return refused


def test_a_query_whose_worker_died_with_its_fork_server_is_asked_again_of_another(built) -> None:
    """The worker died of nothing the query did, so the query is answered, not refused: asked again of
    a worker of a new fork server."""
    answer, [first], pool = asked_while_fork_servers_die(built, 1)
    assert isinstance(answer, Answer), answer
    assert first not in fork_servers_of(os.getpid())
    quads = len(ox.Store.read_only(str(built.store_path)))  # the union default graph keeps each graph's
    assert json.loads(answer.body)["results"]["bindings"][0]["n"]["value"] == str(quads**2)
    assert pool.cache is not None and pool.cache.get(CROSS) == answer


def test_a_query_asked_again_keeps_its_one_time_limit_and_its_lost_run_is_not_charged(built) -> None:
    """The second worker gets what is left of the time limit, not a new one, and the client is charged
    the worker-seconds of that run only: the first was lost to nothing it did."""
    # A limit long enough for the first worker to use half a CPU second on a loaded machine.
    refused, _, pool = asked_while_fork_servers_die(built, 1, RUNAWAY, timeout=10.0)
    assert isinstance(refused, ServiceError) and refused.status == 504, refused
    assert 0 < pool.usage.of("c") < 10.0


def test_a_worker_that_died_before_reading_its_setup_is_not_ready(setup: Setup, forks: ForkServer) -> None:
    """Its pipe is reset, not closed: the pool is told it did not start (and stops it), not an error."""
    worker = Worker(setup, forks)
    worker.process.kill()
    assert worker.ready(30) is None
    worker.stop()


PIDS = Path("/sys/fs/cgroup/pids")


@contextmanager
def one_process_only(pid: int) -> Iterator[Callable[[], None]]:
    """Process `pid` in a cgroup of the pids controller that allows one process, so that it cannot
    fork, until the function given is called; the cgroup is removed afterwards."""
    group = PIDS / f"kg-test-{os.getpid()}-{pid}"
    group.mkdir()

    def release() -> None:
        for held in (group / "cgroup.procs").read_text().split():
            (PIDS / "cgroup.procs").write_text(held)

    try:
        (group / "pids.max").write_text("1")
        (group / "cgroup.procs").write_text(str(pid))
        yield release
    finally:
        release()
        group.rmdir()


@pytest.mark.skipif(not os.access(PIDS, os.W_OK), reason="no writable cgroup pids controller")
def test_a_fork_that_fails_leaves_the_fork_server_serving(setup: Setup, forks: ForkServer) -> None:
    """With no process left to it, the fork server reports the failure and goes on; the next fork,
    once processes are allowed again, comes from the same fork server."""
    first, server = ready_worker(setup, forks)
    with one_process_only(server) as release:
        with pytest.raises(OSError, match="could not fork"):
            Worker(setup, forks)
        release()
        second = Worker(setup, forks)
    assert second.ready() is not None
    assert second.process.pid in forked_by(server)
    first.stop()
    second.stop()


@pytest.mark.skipif(not os.access(PIDS, os.W_OK), reason="no writable cgroup pids controller")
def test_a_pool_whose_workers_cannot_start_for_a_while_is_whole_again_afterwards(built) -> None:
    pool = WorkerPool(functools.partial(EmbeddedStore, built.store_path), 1, 0.5, queue_wait=30)
    try:
        pool.start()
        [server] = fork_servers_of(os.getpid())
        with one_process_only(server) as release:
            for _ in range(2):  # the worker, then the spare that took its place, stopped at the time limit
                with pytest.raises(ServiceError):
                    pool.run(RUNAWAY)
            time.sleep(1)  # the replacements fail to start meanwhile
            release()
            assert pool.run(Query("ASK { ?s ?p ?o }")).body.startswith(b'{"head"')
    finally:
        pool.close()


LAST_PID = Path("/proc/sys/kernel/ns_last_pid")


@pytest.mark.skipif(not os.access(LAST_PID, os.W_OK), reason="cannot choose the next pid (not root)")
def test_a_worker_is_killed_by_what_names_it_never_by_a_pid_another_process_took(
    setup: Setup, forks: ForkServer
) -> None:
    """A worker that died with its fork server leaves a pid the system may give to anyone; the pool
    killing that worker afterwards must not reach the new holder."""
    worker, server = ready_worker(setup, forks)
    forks.close()
    assert gone([server, worker.process.pid])
    deadline = time.monotonic() + 10
    while Path(f"/proc/{worker.process.pid}").exists():  # a zombie until init reaps it
        if time.monotonic() > deadline:
            pytest.skip("the dead worker was not reaped within 10 s")
        time.sleep(0.05)
    holder = None
    for _ in range(50):  # other processes may take the pid first: try again
        LAST_PID.write_text(str(worker.process.pid - 1))
        started = subprocess.Popen(["sleep", "60"])
        if started.pid == worker.process.pid:
            holder = started
            break
        started.kill()
        started.wait()
    if holder is None:
        pytest.skip("the pid went to other processes 50 times")
    try:
        worker.stop()
        with pytest.raises(subprocess.TimeoutExpired):  # a signal sent would have ended it by then
            holder.wait(1)
    finally:
        holder.kill()
        holder.wait()


def test_a_query_whose_workers_died_twice_with_their_fork_servers_is_refused_and_not_remembered(
    built,
) -> None:
    """Asked again once, the query's worker died again with its fork server: how it ended is unknown
    (only its fork server could tell), so the refusal is not remembered: asking again runs the query."""
    refused, [first, second], pool = asked_while_fork_servers_die(built, 2)
    assert first != second
    assert isinstance(refused, ServiceError), refused
    assert refused.status == 503 and "stopped answering" in refused.message
    assert pool.cache is not None and pool.cache.get(CROSS) is None


# --- a fork server holding its store in memory (`kg serve --in-memory`) ---


@pytest.fixture
def endless_store(built, tmp_path: Path) -> Path:
    """A copy of the built store whose reading never ends: its CURRENT file is a FIFO no one writes,
    so the process reading it for a fork server waits there until it is killed."""
    store = tmp_path / "store"
    shutil.copytree(built.store_path, store)
    (store / "CURRENT").unlink()
    os.mkfifo(store / "CURRENT")
    return store


@contextmanager
def fork_in_background(forks: ForkServer) -> Iterator[Future[Forked]]:
    """`forks.fork` asked in a thread of its own (it waits for the copy), its sockets closed after."""
    ours, theirs = socket.socketpair()
    executor = ThreadPoolExecutor(1)
    try:
        yield executor.submit(forks.fork, theirs)
    finally:
        forks.close()
        executor.shutdown(wait=True)
        ours.close()
        theirs.close()


def test_a_server_killed_while_its_store_is_copied_leaves_no_process_copying(endless_store: Path) -> None:
    """kg serve killed (-9) while a fork server copied its store: the fork server, which reads no
    request while it copies, and the process reading the store end with it."""
    script = (
        "import socket; from kg.server.forkserver import ForkServer; "
        f"ForkServer(holding={str(endless_store)!r}).fork(socket.socketpair()[1])"
    )
    pool = subprocess.Popen([sys.executable, "-c", script])
    try:
        server, reader = copying(pool.pid)
    finally:
        pool.kill()
        pool.wait()
    assert gone([server, reader]), "a copy outlived the server"


def test_closing_a_pool_does_not_wait_for_its_store_to_be_copied(endless_store: Path) -> None:
    forks = ForkServer(holding=str(endless_store))
    with fork_in_background(forks) as forked:
        server, reader = copying(os.getpid())
        closing = threading.Thread(target=forks.close)
        closing.start()
        closing.join(15)
        assert not closing.is_alive(), "closing waited for the copy"
        with pytest.raises(OSError):
            forked.result(15)
        assert gone([server, reader])


def test_a_store_that_could_not_be_held_says_how_and_is_not_copied_again_at_once(endless_store: Path) -> None:
    """The copying fork server killed as the kernel kills for memory: the pool is told which store and
    how, and the next worker asked for is refused with the same words, without a second copy."""
    forks = ForkServer(holding=str(endless_store))
    with fork_in_background(forks) as forked:
        server, reader = copying(os.getpid())
        os.kill(server, signal.SIGKILL)
        with pytest.raises(OSError) as failed:
            forked.result(30)
        expected = f"the store at {endless_store} could not be held in memory (killed by SIGKILL"
        assert str(failed.value).startswith(expected), failed.value
        assert gone([server, reader])
        ours, theirs = socket.socketpair()
        with ours, theirs, pytest.raises(OSError) as again:
            forks.fork(theirs)
        assert str(again.value) == str(failed.value)
        holding = [
            pid for pid in fork_servers_of(os.getpid()) if str(endless_store).encode() in command_of(pid)
        ]
        assert holding == [], "the store was copied again at once"


def command_of(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_a_query_whose_worker_the_closing_pool_stopped_is_told_so_not_that_it_ran_out_of_memory(
    built,
) -> None:
    """A pool closing kills its workers, as the kernel kills one past its memory: the query under way
    was answered "needed more memory" (and the server's read-ahead logged it so at every stop)."""
    pool = WorkerPool(functools.partial(EmbeddedStore, built.store_path), 1, 60.0, queue_wait=30)
    pool.start()
    with ThreadPoolExecutor(1) as executor:
        asked = executor.submit(pool.run, CROSS)
        [server] = fork_servers_of(os.getpid())
        deadline = time.monotonic() + 30
        while not any(cpu_seconds(pid) > 0.3 for pid in forked_by(server)):  # the query under way
            assert time.monotonic() < deadline
            time.sleep(0.05)
        pool.close()
        with pytest.raises(ServiceError) as stopped:
            asked.result(30)
    assert stopped.value.status == 503
    assert stopped.value.message == "the query workers are stopped: the server is closing"


def test_a_held_store_whose_fork_server_died_at_once_is_not_copied_again_and_again(
    built, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Its fork server killed (as by the kernel, for memory) soon after it copied the store: every
    worker the pool then starts asked for a new copy at once, and every query was told that every
    worker was busy while none could start, the log saying so for each try."""
    monkeypatch.setattr(forkserver, "HOLD_RETRY", 12.0)
    holding = str(built.store_path)
    pool = WorkerPool(held_store, 1, 30.0, queue_wait=0.5, forks=ForkServer(holding=holding))
    try:
        pool.start()
        [server] = [pid for pid in fork_servers_of(os.getpid()) if holding.encode() in command_of(pid)]
        os.kill(server, signal.SIGKILL)
        deadline = time.monotonic() + 60
        refused = None
        while refused is None or not refused.message.startswith("no query worker can start: "):
            assert time.monotonic() < deadline, "never told why no worker starts"
            try:
                pool.run(Query("ASK { ?s ?p ?o }"))
            except ServiceError as error:
                refused = error
            time.sleep(0.1)
        assert f"the fork server holding the store at {holding} ended (killed by SIGKILL" in refused.message
        assert refused.status == 503 and refused.retry_after
        copies = [pid for pid in fork_servers_of(os.getpid()) if holding.encode() in command_of(pid)]
        assert copies == [], "the store was copied again at once"
        while True:  # the copy is made again once HOLD_RETRY has passed, and the pool answers
            try:
                assert pool.run(Query("ASK { ?s ?p ?o }")).body.startswith(b'{"head"')
                break
            except ServiceError:
                assert time.monotonic() < deadline, "the pool never recovered"
                time.sleep(0.2)
    finally:
        pool.close()
    said = [line for line in capfd.readouterr().err.splitlines() if "a query worker could not start" in line]
    assert said and len(said) == len(set(said)), said  # each reason once (a worker starting as its fork
    # server died has a reason of its own), not once per try
