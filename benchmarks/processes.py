"""Resident memory of a process and of its whole tree (a server and its query workers), from /proc."""

from __future__ import annotations

from pathlib import Path


def children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(x) for x in found.read_text().split()]
    except OSError:
        return []


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of `pid` in MB (0 once it is gone); `field` VmHWM gives its peak so far."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_rss_mb(pid: int) -> float:
    """RSS of `pid` and every process below it, in MB."""
    return rss_mb(pid) + sum(tree_rss_mb(child) for child in children(pid))
