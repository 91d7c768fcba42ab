"""What a query worker does to itself before it opens the store: no network, bounded memory.

A query engine that can fetch URLs (SPARQL SERVICE) must not be one whose
host can reach anything. The worker moves itself into a new, empty network
namespace (no interface is up, not even loopback), so no query can open a
socket whatever its spelling; the worker then checks that a connection to a
loopback listener of the server really fails. An address-space limit makes a
query that would grow the worker past its memory budget fail inside the
worker instead of starving the machine.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import socket
from dataclasses import dataclass

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
# The network a worker keeps on purpose: it reaches the store over it (client queries are then planned
# offline, `kg.server.engine_plan`). Any other reason a worker kept it makes it refuse client queries.
REMOTE = "the store is remote"
ISOLATED = "isolated"  # what `isolate_network` says when the worker has no network left


def exposure(network: str) -> str | None:
    """Why a worker that should have no network still has it (`network` as `isolate_network` says it),
    None where it has none or keeps it on purpose (REMOTE): such a worker runs no client's query."""
    return None if network in (ISOLATED, REMOTE) else network


def worker_environment() -> dict[str, str]:
    """The environment a query worker (and the process planning a client's query) starts with: the
    server's, with glibc's malloc arenas capped and Rust's backtraces off.

    Under an address-space limit, what counts is address space reserved, not
    memory used: glibc reserves 64 MB for each malloc arena and adds arenas
    when threads contend, which load makes likely. A worker reserved 394 MB of
    its 1,024 MB after one query (202 MB with two arenas), so a query under
    load could fail for memory it never used. A query past that limit ends in
    an abort in Oxigraph's allocator, which with RUST_BACKTRACE set in the
    server's environment wrote some 30 lines of backtrace into its log.
    """
    return {**os.environ, "MALLOC_ARENA_MAX": "2", "RUST_BACKTRACE": "0", "RUST_LIB_BACKTRACE": "0"}


@dataclass(frozen=True)
class Protections:
    """Which protections a worker has in force, as `kg serve` reports them at start."""

    network: str  # ISOLATED, REMOTE or why not
    memory_mb: int | None  # the address-space limit, None when there is none
    # What plans client queries offline ("oxigraph 0.5.13") where a remote store needs it, else None;
    # `unplanned` is why they cannot be planned (and are refused) where they must be.
    planner: str | None = None
    unplanned: str | None = None
    # the store's copy in memory the workers are forked with, which the memory limit is beyond
    held_mb: int = 0

    @property
    def network_isolated(self) -> bool:
        return self.network == ISOLATED

    def describe(self) -> str:
        memory = f"{self.memory_mb} MB address space" if self.memory_mb else "no memory limit"
        if self.held_mb:
            memory = f"the store copied into memory ({self.held_mb} MB); {memory} beyond it"
        if self.network_isolated:
            network = "no network (empty network namespace)"
        elif exposure(self.network) is None:
            network = f"network NOT isolated ({self.network})"
        else:
            network = f"network NOT isolated ({self.network}), so client queries refused"
        plans = ""
        if self.planner:
            plans = f"; client queries also planned by {self.planner} without network, SERVICE refused"
        elif self.unplanned:
            plans = f"; client queries refused: they cannot be planned without network ({self.unplanned})"
        return f"query workers: {network}; {memory}{plans}"


def _unshare(flags: int) -> int:
    """unshare(2) through libc; 0 on success, else the errno (ENOSYS where libc has no unshare)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "unshare"):
        return errno.ENOSYS
    if libc.unshare(flags) == 0:
        return 0
    return ctypes.get_errno()


def isolate_network(probe_port: int | None) -> str:
    """Leave the host's network: "isolated" when a loopback connection then fails, else the reason.

    Root may unshare the network namespace directly; other users need a user
    namespace first, which some systems forbid. Where neither works the
    worker keeps the host's network, says so, and runs the server's own queries alone.
    """
    if not os.path.exists("/proc/self/ns/net"):
        return "this platform has no network namespaces"
    failure = _unshare(CLONE_NEWNET)
    if failure:
        failure = _unshare(CLONE_NEWUSER | CLONE_NEWNET)
    if failure:
        return f"unshare failed: {errno.errorcode.get(failure, failure)}"
    if probe_port is not None and can_connect("127.0.0.1", probe_port):
        return "a loopback connection still succeeds after unshare"
    return ISOLATED


def can_connect(host: str, port: int) -> bool:
    """Whether a TCP connection to host:port opens within a second."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def limit_memory(megabytes: int | None, beyond_mb: int = 0) -> int | None:
    """Cap this process's address space at `megabytes` beyond `beyond_mb` (a store held in memory); an
    allocation past it fails (MemoryError, or an abort in native code), which the pool reports as an
    answer over the memory limit and replaces the worker."""
    if not megabytes:
        return None
    limit = (megabytes + beyond_mb) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return megabytes


def no_core_files() -> None:
    """Write no core file on a crash (the fork server sets it for every worker it forks): a query past
    the memory limit ends its worker with an abort in the engine's allocator, and where the system
    allows core files each such query wrote one of nearly a gigabyte into the server's folder."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def limit_cpu(seconds: float) -> None:
    """Let this process use at most `seconds` more CPU time before the kernel stops it (SIGXCPU).

    Set before each query: a backstop for a query the server can no longer
    stop, such as one left running when the server itself was killed.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    limit = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (limit, resource.RLIM_INFINITY))
