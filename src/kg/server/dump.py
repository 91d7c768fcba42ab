"""The whole dataset written to a file from the store's graphs, for a store served without the build
files that hold it (an endpoint, or another dist/).

Made in memory, the dump held every quad of the dataset as objects, then its text, then its sorted
lines: about 1 GB more of the web process at a million triples, and as much again for each client
asking at once, since it was too large to cache. Written here, each graph's answer goes from the
worker that reads it to a file and is parsed from there, the N-Quads are sorted on disk as the build
sorts its own, and the process holds none of it whole; the file is made once per generation and sent
like the build's own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterable
from pathlib import Path

import pyoxigraph as ox

from ..namespaces import PREFIXES
from ..store.sorted_nquads import sort_nquads

DUMP_FORMATS = {"nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}


def write_dump(
    path: Path,
    output_format: str,
    graphs: Iterable[str],
    read: Callable[[str, Path], Path],
) -> Path:
    """Write every quad of `graphs` to `path` in `output_format`: N-Quads as sorted lines, TriG and
    JSON-LD graph by graph. `read(iri, file)` writes a graph's triples as N-Triples into a file beside
    `path`, read from there and removed. Written beside `path` and moved there whole, so no reader
    meets a file half made."""
    partial = path.with_name(path.name + ".part")
    unsorted = path.with_name(path.name + ".unsorted")
    # closed on any way out, so the graph being read has its file removed then, not once the error is
    # no longer held (a stopped generator's `finally` runs only when it is closed)
    with contextlib.closing(_quads(graphs, read, path.with_name(path.name + ".graph"))) as quads:
        try:
            if output_format == "nquads":
                with unsorted.open("wb") as out:
                    ox.serialize(quads, output=out, format=ox.RdfFormat.N_QUADS)
                sort_nquads([unsorted], partial)  # a store holds no quad twice: nothing is repeated
            else:
                with partial.open("wb") as out:
                    ox.serialize(quads, output=out, format=DUMP_FORMATS[output_format], prefixes=PREFIXES)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
            unsorted.unlink(missing_ok=True)
    return path


def _quads(graphs: Iterable[str], read: Callable[[str, Path], Path], file: Path) -> Generator[ox.Quad]:
    """The quads of each graph in turn, parsed from the file `read` writes as they are needed: no
    graph's answer is held whole."""
    for iri in graphs:
        graph = ox.NamedNode(iri)
        try:
            for triple in ox.parse(path=read(iri, file), format=ox.RdfFormat.N_TRIPLES):
                yield ox.Quad(triple.subject, triple.predicate, triple.object, graph)
        finally:
            file.unlink(missing_ok=True)
