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

import os
import subprocess
import sys
from collections.abc import Iterator
from itertools import chain
from pathlib import Path

import pyoxigraph as ox

import kg
from kg.errors import EXIT_FAILED, KgError
from kg.namespaces import PREFIXES
from kg.processes import die_with


def graph_quads(folder: Path, name: str) -> Iterator[ox.Quad]:
    """The quads of graph `name`, from its sorted file under `folder`."""
    return ox.parse(path=str(folder / f"{name}.nq"), format=ox.RdfFormat.N_QUADS)


def serialization_paths(names: list[str], out: Path) -> list[Path]:
    """The files `write_serializations` writes under `out`, in the order it writes them."""
    whole = [out / "opioid-kg.trig", out / "opioid-kg.jsonld"]
    return whole + [out / "graphs" / f"{name}{suffix}" for name in names for suffix in (".ttl", ".jsonld")]


def write_serializations(split: Path, names: list[str], out: Path) -> None:
    """The whole dataset (TriG, JSON-LD) and each graph (Turtle, JSON-LD) under `out`, streamed from
    the sorted per-graph files under `split`, in the graph order `names`."""
    (out / "graphs").mkdir(parents=True, exist_ok=True)
    formats = {".trig": ox.RdfFormat.TRIG, ".jsonld": ox.RdfFormat.JSON_LD, ".ttl": ox.RdfFormat.TURTLE}
    paths = serialization_paths(names, out)
    for path in paths[:2]:  # the whole dataset
        every = chain.from_iterable(graph_quads(split, name) for name in names)
        ox.serialize(every, str(path), format=formats[path.suffix], prefixes=PREFIXES)
    for path in paths[2:]:  # each graph, named by its file
        triples = (quad.triple for quad in graph_quads(split, path.stem))
        ox.serialize(triples, str(path), format=formats[path.suffix], prefixes=PREFIXES)


class SerializationFailed(KgError):
    """The child writing the serializations failed (a full disk, a kill): the build fails whole."""

    exit_code = EXIT_FAILED


class Serializing:
    """`write_serializations` running in a child process; `wait` for its paths, `stop` to end it."""

    def __init__(self, split: Path, names: list[str], out: Path) -> None:
        self.paths = serialization_paths(names, out)
        # -P and PYTHONPATH: the child imports this very copy of kg, wherever the build found it, and
        # never a `kg` of the working folder
        command = [sys.executable, "-P", "-m", __name__, str(os.getpid()), str(split), str(out), *names]
        found = str(Path(kg.__file__).resolve().parent.parent)
        path = os.pathsep.join(filter(None, (found, os.environ.get("PYTHONPATH"))))
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": path}
        )

    def wait(self) -> list[Path]:
        """The paths written, once the child has finished; raise SerializationFailed with its error if
        it failed or did not write them all."""
        _, errors = self._process.communicate()
        missing = [path.name for path in self.paths if not path.is_file()]
        if self._process.returncode != 0 or missing:
            reason = errors.decode(errors="replace").strip().splitlines()[-1:] or [f"no {', '.join(missing)}"]
            code = self._process.returncode
            raise SerializationFailed(
                f"writing the serializations into {self.paths[0].parent} failed ({code}): {reason[0]}"
            )
        return self.paths

    def stop(self) -> None:
        """End the child, finished or not, and wait for it."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        if self._process.stderr is not None:
            self._process.stderr.close()


def main(arguments: list[str]) -> None:
    parent, split, out, *names = arguments
    if not die_with(int(parent)):
        sys.exit(1)  # the build died already
    write_serializations(Path(split), names, Path(out))


if __name__ == "__main__":
    main(sys.argv[1:])
