"""The processes a test's pools run, read from /proc: the fork servers and the workers they forked."""

from __future__ import annotations

import os
from pathlib import Path


def children_of(pid: int) -> list[tuple[int, bytes]]:
    """The processes whose parent is `pid`, each with its command line."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                command = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append((int(entry), command))
    return children


def fork_servers_of(pid: int) -> list[int]:
    """The fork servers of the worker pools `pid` runs."""
    return [child for child, command in children_of(pid) if b"kg.server.forkserver" in command]


def workers_of(pid: int) -> list[int]:
    """The query workers of the pools `pid` runs: the processes their fork servers forked."""
    return [worker for server in fork_servers_of(pid) for worker, _ in children_of(server)]
