"""The dataset's other serializations (TriG, JSON-LD, each graph as Turtle and JSON-LD), written by a
process of its own beside the load and the checks.

They are streamed from the sorted per-graph N-Quads files of the build (see
`kg.build.streaming`), so the same data gives the same bytes. Serializing is
Python driving Oxigraph quad by quad, which holds Python's lock, so it goes to
another process rather than a thread: on a second core, it is done by the time
the checks are. The process dies with the build (a kill -9 of the build kills it
too), and a failed build stops it before its staging folder is removed.

    python -m kg.build.serializations SPLIT OUT NAME...
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from itertools import chain
from pathlib import Path

import pyoxigraph as ox

import kg
from kg.namespaces import PREFIXES

_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def graph_quads(folder: Path, name: str) -> Iterator[ox.Quad]:
    """The quads of graph `name`, from its sorted file under `folder`."""
    return ox.parse(path=str(folder / f"{name}.nq"), format=ox.RdfFormat.N_QUADS)


def write_serializations(split: Path, names: list[str], out: Path) -> list[Path]:
    """The whole dataset (TriG, JSON-LD) and each graph (Turtle, JSON-LD) under `out`, streamed from
    the sorted per-graph files under `split`, in the graph order `names`; the paths written."""
    (out / "graphs").mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, rdf_format in (
        ("opioid-kg.trig", ox.RdfFormat.TRIG),
        ("opioid-kg.jsonld", ox.RdfFormat.JSON_LD),
    ):
        every = chain.from_iterable(graph_quads(split, name) for name in names)
        ox.serialize(every, str(out / file_name), format=rdf_format, prefixes=PREFIXES)
        written.append(out / file_name)
    for name in names:
        for suffix, rdf_format in ((".ttl", ox.RdfFormat.TURTLE), (".jsonld", ox.RdfFormat.JSON_LD)):
            path = out / "graphs" / f"{name}{suffix}"
            triples = (quad.triple for quad in graph_quads(split, name))
            ox.serialize(triples, str(path), format=rdf_format, prefixes=PREFIXES)
            written.append(path)
    return written


class Serializing:
    """`write_serializations` running in a child process; `wait` for its paths, `stop` to end it."""

    def __init__(self, split: Path, names: list[str], out: Path) -> None:
        command = [sys.executable, "-m", __name__, str(os.getpid()), str(split), str(out), *names]
        # the child imports this very copy of kg, wherever the build found it
        found = str(Path(kg.__file__).resolve().parent.parent)
        path = os.pathsep.join(filter(None, (found, os.environ.get("PYTHONPATH"))))
        self._process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": path}
        )

    def wait(self) -> list[Path]:
        """The paths written, once the child has finished; raise RuntimeError with its error if it failed."""
        output, errors = self._process.communicate()
        if self._process.returncode != 0:
            reason = errors.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
            raise RuntimeError(f"writing the serializations failed ({self._process.returncode}): {reason[0]}")
        return [Path(line) for line in output.decode().splitlines()]

    def stop(self) -> None:
        """End the child, finished or not, and wait for it."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.communicate()


def _die_with(parent: int) -> None:
    """Be killed when the build that started this process dies, even by kill -9 (Linux); exit at once
    if it died already."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        sys.exit(1)


def main(arguments: list[str]) -> None:
    parent, split, out, *names = arguments
    _die_with(int(parent))
    for path in write_serializations(Path(split), names, Path(out)):
        print(path)


if __name__ == "__main__":
    main(sys.argv[1:])
