"""The whole dataset written to a file from the store's graphs, for a store served without the build
files that hold it (an endpoint, or another dist/).

Made in memory, the dump held every quad of the dataset as objects, then its text, then its sorted
lines: about 1 GB more of the web process at a million triples, and as much again for each client
asking at once, since it was too large to cache. Written here, the process holds one graph's answer
from the store and at most RUN_QUADS quads of it at a time; the file is made once per generation and
sent like the build's own.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from ..namespaces import PREFIXES

DUMP_FORMATS = {"nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}
# N-Quads lines are sorted in runs of this many quads, kept on disk and merged: the sort the build's
# file has, without the whole dataset in memory.
RUN_QUADS = 100_000


def write_dump(
    path: Path,
    output_format: str,
    graphs: Iterable[str],
    read: Callable[[str], bytes],
    run_quads: int = RUN_QUADS,
) -> Path:
    """Write every quad of `graphs` (each graph's triples as N-Triples, from `read`) to `path` in
    `output_format`: N-Quads as sorted lines, TriG and JSON-LD graph by graph. Written beside `path`
    and moved there whole, so no reader meets a file half made."""
    quads = _quads(graphs, read)
    partial = path.with_name(path.name + ".part")
    try:
        if output_format == "nquads":
            _write_sorted(partial, quads, run_quads)
        else:
            with partial.open("wb") as out:
                ox.serialize(quads, output=out, format=DUMP_FORMATS[output_format], prefixes=PREFIXES)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _quads(graphs: Iterable[str], read: Callable[[str], bytes]) -> Iterator[ox.Quad]:
    """The quads of each graph in turn, parsed as they are needed: one graph's answer is held at a time."""
    for iri in graphs:
        graph = ox.NamedNode(iri)
        for triple in ox.parse(read(iri), format=ox.RdfFormat.N_TRIPLES):
            yield ox.Quad(triple.subject, triple.predicate, triple.object, graph)


def _write_sorted(path: Path, quads: Iterator[ox.Quad], run_quads: int) -> None:
    """N-Quads lines in byte order: sorted runs written beside `path`, then merged into it."""
    with tempfile.TemporaryDirectory(dir=path.parent) as folder, contextlib.ExitStack() as files:
        runs: list[BinaryIO] = []
        while run := ox.serialize(itertools.islice(quads, run_quads), format=ox.RdfFormat.N_QUADS):
            written = Path(folder) / f"{len(runs)}.nq"
            written.write_bytes(b"".join(sorted(run.splitlines(True))))
            runs.append(files.enter_context(written.open("rb")))
        with path.open("wb") as out:
            out.writelines(heapq.merge(*runs))
