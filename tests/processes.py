"""The processes tests start, read from /proc: a pool's fork servers and the workers they forked, a
build's writers."""

from __future__ import annotations

import os
import time
from pathlib import Path

# A command as a shell starts it in the foreground: SIGINT and SIGTERM neither blocked nor ignored, so
# that Python turns SIGINT into KeyboardInterrupt and a command's handler sees SIGTERM. A process passes
# both states on to what it starts, and a test process may be left with them by other tests run in it,
# or by the test runner's worker (the command then never saw the signal). Run as
# `[sys.executable, "-c", FOREGROUND, program, *arguments]`.
FOREGROUND = (
    "import os, signal, sys; stopping = {signal.SIGINT, signal.SIGTERM}; "
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, stopping); "
    "[signal.signal(sent, signal.SIG_DFL) for sent in stopping]; os.execv(sys.argv[1], sys.argv[1:])"
)


def stat_fields(pid: int | str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command's name (state, parent's pid, ...; a name may
    hold spaces and `)`), None once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def running() -> list[tuple[int, int, bytes]]:
    """Every process that runs, a zombie left out (it has ended; its parent has not yet read its
    status): its pid, its parent's pid and its command line (arguments joined by NULs)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := stat_fields(entry)) is not None and stat[0] != "Z":
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            found.append((int(entry), int(stat[1]), command))
    return found


def children_of(pid: int) -> list[tuple[int, bytes]]:
    """The processes whose parent is `pid`, each with its command line."""
    return [(child, command) for child, parent, command in running() if parent == pid]


def fork_servers_of(pid: int) -> list[int]:
    """The fork servers of the worker pools `pid` runs."""
    return [child for child, command in children_of(pid) if b"kg.server.forkserver" in command]


def workers_of(pid: int) -> list[int]:
    """The query workers of the pools `pid` runs: the processes their fork servers forked."""
    return [worker for server in fork_servers_of(pid) for worker, _ in children_of(server)]


def workers_when(pid: int, count: int, seconds: float = 30) -> set[int]:
    """The query workers of `pid` once there are `count` of them (a worker that ended is replaced as
    soon as the pool notices, which a busy machine delays), or as they are after `seconds`."""
    deadline = time.monotonic() + seconds
    while len(workers := set(workers_of(pid))) != count and time.monotonic() < deadline:
        time.sleep(0.05)
    return workers


def cpu_seconds(pid: int) -> float:
    """The CPU time process `pid` used so far (user and system), 0 once it is gone."""
    fields = stat_fields(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def handles(pid: int, sent: int, seconds: float = 60) -> bool:
    """Whether process `pid` has a handler of its own for signal `sent` within `seconds` (a command
    installs it once its imports are done, which a busy machine delays)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
        caught = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:"))
        if int(caught, 16) >> (sent - 1) & 1:
            return True
        time.sleep(0.05)
    return False


def busy_for(pid: int, seconds: float, within: float = 120) -> bool:
    """Whether process `pid` uses `seconds` more of CPU time within `within` seconds."""
    start = cpu_seconds(pid)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if cpu_seconds(pid) - start >= seconds:
            return True
        time.sleep(0.05)
    return False


def gone(pids: list[int], seconds: float = 10) -> bool:
    """Whether every process of `pids` has ended (or is a zombie) within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all((stat := stat_fields(pid)) is None or stat[0] == "Z" for pid in pids):
            return True
        time.sleep(0.05)
    return False


def copying(parent: int) -> tuple[int, int]:
    """The fork server `parent` started to hold a store, and the process reading the store for it,
    once both run."""
    deadline = time.monotonic() + 30
    while True:
        for server in fork_servers_of(parent):
            readers = [pid for pid, command in children_of(server) if b"kg.store.memory" in command]
            if readers:
                return server, readers[0]
        assert time.monotonic() < deadline, "no store is being copied"
        time.sleep(0.05)
