"""The dataset's other serializations (TriG, JSON-LD, each graph as Turtle and JSON-LD) and its gzipped
dump with the description's facts, written by processes of their own beside the load and the checks.

They are streamed from the sorted N-Quads files of the build (see `kg.build.streaming`), so the
same data gives the same bytes, in pieces a rebuild reuses (see `kg.build.pieces`). Serializing is
Python driving Oxigraph quad by quad, which holds Python's lock, so it goes to
another process rather than a thread: on a second core, it is done by the time
the checks are. The processes die with the build (a kill -9 of the build kills
them too), and a failed build stops them before its staging folder is removed.

    python -m kg.build.serializations PARENT-PID

reads its work from its input, one line, a JSON list: PARTS, SPLIT, OUT, PREVIOUS, DUMP, NAME...
PARTS is whole, graphs or dump, or several joined by commas; PREVIOUS the folder of the generation
whose files' pieces may be read, or "" for none; DUMP the sorted dump, or "" without the dump part.
An empty line is no work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from kg.build.described import ChunkFacts
from kg.build.pieces import (
    GZIP,
    JSON_LD,
    JSON_LD_DATASET,
    TRIG,
    TURTLE,
    Index,
    Output,
    previous_pieces,
    write_index,
    write_pieces,
)
from kg.errors import EXIT_FAILED, KgError
from kg.processes import die_with, python_child
from kg.store.description import DUMP_FILE


def graph_quads(folder: Path, name: str) -> Iterator[ox.Quad]:
    """The quads of graph `name`, from its sorted file under `folder`."""
    return ox.parse(path=str(folder / f"{name}.nq"), format=ox.RdfFormat.N_QUADS)


def serialization_paths(names: list[str], out: Path) -> list[Path]:
    """The files `write_serializations` writes under `out`, in the order it writes them."""
    whole = [out / "opioid-kg.trig", out / "opioid-kg.jsonld"]
    return whole + [out / "graphs" / f"{name}{suffix}" for name in names for suffix in (".ttl", ".jsonld")]


# What `write_serializations` writes: the whole dataset's files and each graph's, both from one
# reading of the graphs' files; and the gzipped dump with the description's facts, from the dump.
PARTS = ("whole", "graphs")
DUMP_PART = "dump"
# Below this many quads one process writes every part: another would cost more to start than it saves.
# Above, the dump has a process of its own beside the one writing the other files.
ONE_WRITER_BELOW = 100_000


def write_serializations(
    split: Path,
    names: list[str],
    out: Path,
    parts: tuple[str, ...] = PARTS,
    previous: Path | None = None,
    dump: Path | None = None,
) -> None:
    """The whole dataset (TriG, JSON-LD) and each graph (Turtle, JSON-LD) under `out`, or those of
    `parts` only, streamed from the sorted per-graph files under `split`, in the graph order `names`;
    with the `dump` part, the sorted `dump` gzipped and its facts for the description (see
    `kg.build.described`). All is written in pieces (see `kg.build.pieces`), those the `previous`
    generation's files hold read from them; the indexes go beside `out`, in the generation's folder."""
    (out / "graphs").mkdir(parents=True, exist_ok=True)
    earlier = previous_pieces(previous)
    paths = serialization_paths(names, out)
    sources = [split / f"{name}.nq" for name in names]
    outputs: list[Output] = []
    if "whole" in parts:
        outputs += [(paths[0], TRIG, None), (paths[1], JSON_LD_DATASET, None)]
    if "graphs" in parts:
        for number, source in enumerate(sources):
            turtle, json_ld = paths[2 + 2 * number : 4 + 2 * number]
            outputs += [(turtle, TURTLE, source), (json_ld, JSON_LD, source)]
    index = write_pieces(sources, outputs, earlier, out) if outputs else Index()  # each graph read once
    if DUMP_PART in parts:
        if dump is None:
            raise ValueError("the dump part needs the sorted dump")
        facts = ChunkFacts(previous)
        index |= write_pieces([dump], [(out / DUMP_FILE, GZIP, None)], earlier, out, each=facts)
        facts.write(out.parent)
    write_index(out.parent, "-".join(parts), index)


class SerializationFailed(KgError):
    """The child writing the serializations failed (a full disk, a kill): the build fails whole."""

    exit_code = EXIT_FAILED


class Serializing:
    """`write_serializations` running in child processes: with `quads` enough, one for the dataset's
    and the graphs' files and one for the dump (so that a clean build's writing uses the cores its
    queries leave, and a rebuild's ends with its checks), else one for all; `wait` for the paths,
    `stop` to end them.

    The processes are started `ready` before their work is known (`start` gives it): each takes about
    0.35 s to start Python and import its modules, which then overlaps the build's parsing rather than
    delaying the writing that a rebuild's checks wait for. A process given no work ends at once."""

    def __init__(self, ready: int = 1) -> None:
        self.paths: list[Path] = []
        self._processes: list[subprocess.Popen[bytes]] = []
        self._add(ready)

    def start(
        self,
        split: Path,
        names: list[str],
        out: Path,
        quads: int = ONE_WRITER_BELOW,
        previous: Path | None = None,
        dump: Path | None = None,
    ) -> Serializing:
        """Give the processes their work (starting more if it needs more); this object."""
        self.paths = serialization_paths(names, out) + ([out / DUMP_FILE] if dump else [])
        parts = [",".join(PARTS)] + ([DUMP_PART] if dump else [])
        if quads < ONE_WRITER_BELOW:
            parts = [",".join(parts)]
        self._add(len(parts) - len(self._processes))
        given = [str(split), str(out), str(previous or ""), str(dump or ""), *names]
        for number, process in enumerate(self._processes):
            _send(process, json.dumps([parts[number], *given]) if number < len(parts) else "")
        return self

    def wait(self) -> list[Path]:
        """The paths written, once the children have finished; raise SerializationFailed with the
        first error if one failed or a path was not written."""
        errors = [_error_output(process) for process in self._processes]
        missing = [path.name for path in self.paths if not path.is_file()]
        failed = [
            (p.returncode, e) for p, e in zip(self._processes, errors, strict=True) if p.returncode != 0
        ]
        if failed or missing:
            code, error = failed[0] if failed else (0, b"")
            reason = error.decode(errors="replace").strip().splitlines()[-1:] or [f"no {', '.join(missing)}"]
            raise SerializationFailed(
                f"writing the serializations into {self.paths[0].parent} failed ({code}): {reason[0]}"
            )
        return self.paths

    def stop(self) -> None:
        """End the children, finished or not, and wait for them."""
        for process in self._processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            for pipe in (process.stdin, process.stderr):
                if pipe is not None:
                    pipe.close()

    def _add(self, count: int) -> None:
        """Start `count` more processes, waiting for their work."""
        try:
            for _ in range(count):
                self._processes.append(
                    python_child(
                        __name__, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
                    )
                )
        except OSError:
            self.stop()  # those started, if another could not be
            raise


def _error_output(process: subprocess.Popen[bytes]) -> bytes:
    """What the process wrote on its standard error, once it has ended."""
    assert process.stderr is not None
    with process.stderr:
        error = process.stderr.read()
    process.wait()
    return error


def _send(process: subprocess.Popen[bytes], work: str) -> None:
    """The process's work as one line, then the end of its input; a process that has died meanwhile
    is reported by `wait`."""
    assert process.stdin is not None
    try:  # written past the buffer, so that closing it has nothing left to write to a closed pipe
        os.write(process.stdin.fileno(), work.encode() + b"\n")
    except BrokenPipeError:
        pass
    process.stdin.close()


def main(arguments: list[str]) -> None:
    (parent,) = arguments
    if not die_with(int(parent)):
        sys.exit(1)  # the build died already
    line = sys.stdin.buffer.readline()
    if not line.strip():
        return  # no work: another process writes everything
    part, split, out, previous, dump, *names = json.loads(line)
    earlier, sorted_dump = (Path(path) if path else None for path in (previous, dump))
    write_serializations(Path(split), names, Path(out), tuple(part.split(",")), earlier, sorted_dump)


if __name__ == "__main__":
    main(sys.argv[1:])
