"""The query workers cannot reach the network whatever the guard lets through, and stay within memory.

These tests talk to a real WorkerPool over a real built store and send the
worker texts as the server's own queries, which skip the guard: what stops a
SERVICE call here is the worker's empty network namespace alone.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from listener import Listener
from processes import workers_of
from server_fixtures import start_server

from kg.server.forkserver import ForkServer
from kg.server.held import held_store
from kg.server.messages import Query
from kg.server.workers import ServiceError, WorkerPool
from kg.store.embedded import EmbeddedStore


def pool_over(built, *, isolate: bool, memory_mb: int | None = None, held: bool = False) -> WorkerPool:
    """A pool of one worker over the built store: opened on disk by the worker, or (`held`) read from
    the copy its own fork server holds in memory, as `kg serve --in-memory` runs it."""
    return WorkerPool(
        held_store if held else functools.partial(EmbeddedStore, built.store_path),
        1,
        30,
        queue_wait=60,
        isolate_network=isolate,
        memory_mb=memory_mb,
        forks=ForkServer(holding=str(built.store_path)) if held else None,
    )


both_stores = pytest.mark.parametrize("held", [False, True], ids=["on-disk", "held-in-memory"])


def service_call(listener: Listener) -> Query:
    return Query(f"SELECT * WHERE {{ SERVICE <{listener.url}sparql> {{ ?s ?p ?o }} }}")


@both_stores
def test_an_isolated_worker_cannot_connect_even_without_the_guard(built, listener, held: bool) -> None:
    pool = pool_over(built, isolate=True, held=held)
    try:
        assert pool.start().network_isolated
        with pytest.raises(ServiceError) as failed:
            pool.run(service_call(listener))
        assert listener.count_after(0) == 0
        assert failed.value.message == "the query failed while it ran"
        assert str(listener.port) not in failed.value.message
    finally:
        pool.close()


def test_without_isolation_the_same_query_connects(built, listener) -> None:
    """The control: the query of the test above does reach the listener from a worker with network."""
    pool = pool_over(built, isolate=False)
    try:
        pool.run(service_call(listener))
    except ServiceError:
        pass
    finally:
        pool.close()
    assert listener.count_after(0) >= 1


# Runs `kg serve` as root of a user namespace of its own that may make no network namespace: the
# workers' unshare then fails (ENOSPC), as it does where a system forbids them.
NO_NETWORK_NAMESPACES = [
    "unshare",
    "--user",
    "--map-root-user",
    "sh",
    "-c",
    'echo 0 > /proc/sys/user/max_net_namespaces && exec "$@"',
    "sh",
]


def namespaces_can_be_forbidden() -> bool:
    """Whether this system lets a process forbid network namespaces to its children as above."""
    if shutil.which("unshare") is None:
        return False
    return subprocess.run([*NO_NETWORK_NAMESPACES, "true"], capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not namespaces_can_be_forbidden(), reason="needs unshare(1) and user namespaces")
def test_a_server_whose_workers_keep_the_network_refuses_client_queries(built, tmp_path) -> None:
    """Fails closed: a worker that could not leave the network answers no client's text, which the
    guard alone would stand between and a SERVICE; the server's own queries, fixed texts, still run."""
    server = start_server(built.store_path, tmp_path, launcher=NO_NETWORK_NAMESPACES, ready=503)
    try:
        first_line = server.log.read_text().splitlines()[0]
        assert first_line.startswith("query workers: network NOT isolated (unshare failed: ENOSPC)")
        assert "client queries refused" in first_line
        refused = server.get("/sparql", query="SELECT * WHERE { ?s ?p ?o } LIMIT 1")
        assert refused.status == 503
        assert refused.json()["error"]["message"] == (
            "client queries are refused: the query workers could not leave the network "
            "(unshare failed: ENOSPC)"
        )
        assert server.get("/api/queries/fentanyl-sources", "text/csv").status == 200
    finally:
        server.stop()


@both_stores
def test_a_query_over_the_memory_limit_is_answered_and_its_worker_replaced(built, held: bool) -> None:
    values = " ".join(f"<urn:x:{i}>" for i in range(3000))
    hungry = Query(
        f"SELECT ?a ?b WHERE {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} }} ORDER BY ?a ?b"
    )
    pool = pool_over(built, isolate=True, memory_mb=1024, held=held)
    try:
        assert pool.start().memory_mb == 1024
        with pytest.raises(ServiceError) as failed:
            pool.run(hungry)
        assert failed.value.status == 503
        assert "memory" in failed.value.message
        assert failed.value.retry_after is None  # the same query fails again: no Retry-After
        assert pool.run(Query("ASK { ?s ?p ?o }")).body.startswith(b'{"head"')
        with pytest.raises(ServiceError) as again:
            pool.run(hungry)
        assert again.value.message == failed.value.message
    finally:
        pool.close()


def test_a_worker_that_passes_its_memory_leaves_no_core_file_nor_backtrace(built, tmp_path) -> None:
    """A query past the memory limit ends its worker with an abort in Oxigraph's allocator: under a
    system that allows core files, each wrote one of nearly a gigabyte, as often as a client asked; with
    RUST_BACKTRACE set, each wrote some 30 lines of backtrace into the server's log."""
    folder = tmp_path / "where-it-runs"
    folder.mkdir()
    cores_allowed = [
        *("env", "RUST_BACKTRACE=full"),
        *("sh", "-c", 'cd "$0" && ulimit -c unlimited && exec "$@"', str(folder)),
    ]
    # The memory limit, not the time limit, must stop the query, on a busy machine too.
    limits = ("--timeout", "120", "--worker-memory-mb", "700")
    server = start_server(built.store_path, tmp_path, *limits, launcher=cores_allowed)
    try:
        values = " ".join(f"<urn:x:{i}>" for i in range(3000))
        hungry = f"SELECT ?a ?b WHERE {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} }} ORDER BY ?a ?b"
        reply = server.post_form("/sparql", {"query": hungry})
        assert reply.status == 503 and "memory" in reply.json()["error"]["message"]
        workers = workers_of(server.process.pid)
        assert workers
        assert {core_file_limit(pid) for pid in workers} == {"0"}
    finally:
        server.stop()
    assert list(folder.iterdir()) == []
    assert "stack backtrace" not in server.log.read_text(errors="replace")


def core_file_limit(pid: int) -> str:
    """The largest core file (RLIMIT_CORE) process `pid` may write, as /proc says it."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            return line.split()[4]
    raise AssertionError(f"no core file limit for process {pid}")


def address_space_limit_mb(pid: int) -> int | None:
    """The address-space limit (RLIMIT_AS) process `pid` runs under, in MB; None while it has none."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max address space"):
            soft = line.split()[3]
            return None if soft == "unlimited" else int(soft) // 2**20
    raise AssertionError(f"no address-space limit for process {pid}")


def address_space_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) // 1024
    raise AssertionError(f"no VmSize for process {pid}")


@both_stores
def test_a_fresh_worker_leaves_most_of_its_address_space_to_queries(built, held: bool) -> None:
    """Under an address-space limit, reserved space counts: with glibc's default arenas a worker
    reserved 394 of its 1,024 MB after one query (202 MB with two arenas), and more under load, when
    contended threads get arenas of their own; queries failed for memory they never used."""
    others = set(workers_of(os.getpid()))  # workers of servers other tests of this process keep running
    pool = pool_over(built, isolate=True, memory_mb=1024, held=held)
    try:
        copy = pool.start().held_mb  # the held copy, which the limit is counted beyond
        # the copy of a few thousand triples, not what reading the store on disk left behind (123 MB)
        assert 0 < copy < 50 if held else copy == 0
        pool.run(Query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"))
        workers = set(workers_of(os.getpid())) - others
        assert workers
        sizes = {pid: address_space_mb(pid) - copy for pid in workers}
        assert all(size < 300 for size in sizes.values()), sizes
        # the spare, started in the background, may not have limited itself yet
        deadline = time.monotonic() + 10
        while None in (limits := {pid: address_space_limit_mb(pid) for pid in workers}).values():
            assert time.monotonic() < deadline, limits
            time.sleep(0.05)
        assert set(limits.values()) == {1024 + copy}
    finally:
        pool.close()


def test_what_a_worker_writes_as_it_dies_is_logged_as_one_line_a_minute(built, tmp_path) -> None:
    """Oxigraph's allocator, failing past a worker's memory, writes two lines of its own on the worker's
    stderr and aborts: written straight into the server's log, without a time, once per query. They
    pass through the fork server's log now, each place once a minute, as every other line does."""
    server = start_server(built.store_path, tmp_path, "--timeout", "120", "--worker-memory-mb", "700")
    try:
        values = " ".join(f"<urn:x:{i}>" for i in range(3000))
        for order in ("?a ?b", "?b ?a", "DESC(?a) ?b"):  # three queries, none answered from the cache
            hungry = (
                f"SELECT ?a ?b WHERE {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} }} ORDER BY {order}"
            )
            reply = server.post_form("/sparql", {"query": hungry})
            assert reply.status == 503 and "memory" in reply.json()["error"]["message"]
    finally:
        server.stop()
    lines = server.log.read_text(errors="replace").splitlines()
    said = [line for line in lines if "memory allocation of" in line or "RUST_BACKTRACE" in line]
    assert len(said) == 1, said
    assert re.match(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d a query worker wrote: memory allocation of \d+ bytes", said[0]
    )
