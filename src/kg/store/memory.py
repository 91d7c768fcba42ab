"""A built store copied into Oxigraph's in-memory store, read through a child process.

The child (`python -m kg.store.memory`) opens the store on disk and writes it as N-Quads into a pipe;
this process parses the pipe into memory. So the engine of the store on disk (RocksDB: its threads,
its block cache, the malloc arenas its threads make) never runs in this process, which matters to a
fork server that forks query workers from it afterwards: they inherit a single-threaded process
holding the copy and nothing else, and the copy's size is what its address space grew by. The two
processes also work at once, one reading, the other parsing. Blank nodes keep their labels, so
answers name them as the store on disk does.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox

from kg.processes import die_with, python_child
from kg.store.bulk import bulk_load
from kg.store.embedded import check_built, read_only

PIPE_BUFFER = 1 << 20  # bytes the child writes into the pipe at a time


def memory_copy(path: Path) -> ox.Store:
    """The built store at `path`, copied into memory; OSError when it cannot be read (the child says
    why on stderr)."""
    check_built(path)
    reader = python_child("kg.store.memory", str(path), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    assert reader.stdout is not None
    memory = ox.Store()
    broken: SyntaxError | None = None
    try:
        bulk_load(memory, ox.parse(path=f"/dev/fd/{reader.stdout.fileno()}", format=ox.RdfFormat.N_QUADS))
    except SyntaxError as error:  # the child stopped half-way through a line: its exit says why
        broken = error
    finally:
        reader.stdout.close()
        code = reader.wait()
    if code != 0 or broken is not None:
        ended = f"exit {code}" if code >= 0 else f"killed by {signal.Signals(-code).name}"
        raise OSError(f"the process reading it failed ({ended}{f'; {broken}' if broken else ''})")
    return memory


def main() -> None:
    """`python -m kg.store.memory PARENT-PID PATH`: the store at PATH as N-Quads on stdout, for the
    parent, with which it dies; exit 1 saying why on stderr when it cannot be read."""
    parent, path = int(sys.argv[1]), sys.argv[2]
    if not die_with(parent):
        sys.exit(1)
    try:
        # through a Python file: given the pipe's path, the store syncs it at the end, which a pipe
        # refuses, and that refusal would look like any failure to read
        with open(sys.stdout.fileno(), "wb", buffering=PIPE_BUFFER, closefd=False) as pipe:
            read_only(Path(path)).dump(pipe, format=ox.RdfFormat.N_QUADS)
    except Exception as error:  # noqa: BLE001 - a corrupt store raises RuntimeError: said, never a traceback
        sys.stderr.write(f"the store at {path} could not be read: {error}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
