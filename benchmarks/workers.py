"""What a query worker costs to start: the server starts one after every query stopped at the time limit.

Starts a fork server, then the given number of workers one after the other on the built store (each
until it reports ready, then stopped), and prints one table: the fork server's own start, and per
worker the wall time to ready (median and worst) and the CPU time of the processes (the fork server's
and every worker's, read once all have been reaped, less the fork server's own).

    .venv/bin/python benchmarks/workers.py [--workers 50]

It needs a build (`kg build`).
"""

from __future__ import annotations

import argparse
import functools
import resource
import statistics
import time
from pathlib import Path

from kg.server.forkserver import ForkServer
from kg.server.messages import Setup
from kg.server.workers import Worker
from kg.store.embedded import EmbeddedStore

PROJECT = Path(__file__).resolve().parent.parent


def children_cpu() -> float:
    """CPU seconds of every child process reaped so far (and of the processes they reaped)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def started(count: int, setup: Setup) -> tuple[float, list[float], float]:
    """Seconds to a fork server's first ready worker, the seconds to ready of `count` more, and the
    CPU seconds all of it cost."""
    cpu = children_cpu()
    forks = ForkServer()
    try:
        began = time.perf_counter()
        first = Worker(setup, forks)
        assert first.ready() is not None
        first_s = time.perf_counter() - began
        first.stop()
        times = []
        for _ in range(count):
            began = time.perf_counter()
            worker = Worker(setup, forks)
            assert worker.ready() is not None
            times.append(time.perf_counter() - began)
            worker.stop()
    finally:
        forks.close()
    return first_s, times, children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--store", type=Path, default=PROJECT / ".kg" / "store")
    options = parser.parse_args()
    setup = Setup(functools.partial(EmbeddedStore, options.store), True, None, 1024, 30)
    alone_s, _, alone_cpu = started(0, setup)
    first_s, times, cpu = started(options.workers, setup)
    per_worker_cpu = (cpu - alone_cpu) / options.workers
    print("| what | wall | CPU |")
    print("|---|---|---|")
    print(f"| fork server and its first worker | {alone_s * 1000:.0f} ms | {alone_cpu * 1000:.0f} ms |")
    print(
        f"| each further worker ({options.workers}) | median {statistics.median(times) * 1000:.1f} ms, "
        f"worst {max(times) * 1000:.1f} ms | {per_worker_cpu * 1000:.1f} ms |"
    )
    print(f"(second run's first worker: {first_s * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
