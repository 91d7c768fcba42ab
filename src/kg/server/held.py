"""The store a fork server holds in memory for its query workers (`kg serve --in-memory`).

Oxigraph reads its store on disk at about 10 µs a lookup, and the catalogue's answers of thousands of
rows make tens of thousands of lookups; the same quads in its in-memory store cost 1.4 to 7 times less
CPU (docs/scale.md). A worker copying the store for itself would read all of it at every start, and
a pool starts one after every query stopped at the time limit. So the fork server copies the store
once, before it forks any worker, and every worker starts with that copy in milliseconds. (They do
not keep sharing its pages: a worker's queries write to the pages they read, even a COUNT, so each
worker comes to hold a private copy of what it read; measured in docs/serving.md.)
"""

from __future__ import annotations

import os
from pathlib import Path

from kg.store.base import StoreMissing
from kg.store.embedded import EmbeddedStore
from kg.store.memory import memory_copy

_held: EmbeddedStore | None = None
_held_mb = 0


def hold(path: str) -> None:
    """Copy the built store at `path` into this process's memory, for the workers it will fork."""
    global _held, _held_mb
    before = address_space_mb()
    _held = EmbeddedStore(Path(path), memory_copy(Path(path)))
    _held_mb = max(0, address_space_mb() - before)


def held_store() -> EmbeddedStore:
    """The copy this process holds: the store factory of a worker forked by a holding fork server."""
    if _held is None:
        raise StoreMissing("this process holds no store in memory")
    return _held


def held_mb() -> int:
    """The address space the held copy added (0 when none is held): a worker's memory limit is counted
    beyond it, since every worker shares that one copy."""
    return _held_mb


def address_space_mb() -> int:
    """This process's address space (VmSize), in MB: what its memory limit (RLIMIT_AS) counts."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE") // 2**20
