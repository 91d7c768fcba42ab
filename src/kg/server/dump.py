"""The whole dataset written to a file from the store's graphs, for a store served without the build
files that hold it (an endpoint, or another dist/).

Made in memory, the dump held every quad of the dataset as objects, then its text, then its sorted
lines: about 1 GB more of the web process at a million triples, and as much again for each client
asking at once, since it was too large to cache. Written here, the process holds one graph's answer
from the store at a time, and the N-Quads are sorted on disk as the build sorts its own; the file is
made once per generation and sent like the build's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from ..build.streaming import sort_nquads
from ..namespaces import PREFIXES

DUMP_FORMATS = {"nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}


def write_dump(
    path: Path,
    output_format: str,
    graphs: Iterable[str],
    read: Callable[[str], bytes],
) -> Path:
    """Write every quad of `graphs` (each graph's triples as N-Triples, from `read`) to `path` in
    `output_format`: N-Quads as sorted lines, TriG and JSON-LD graph by graph. Written beside `path`
    and moved there whole, so no reader meets a file half made."""
    quads = _quads(graphs, read)
    partial = path.with_name(path.name + ".part")
    unsorted = path.with_name(path.name + ".unsorted")
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


def _quads(graphs: Iterable[str], read: Callable[[str], bytes]) -> Iterator[ox.Quad]:
    """The quads of each graph in turn, parsed as they are needed: one graph's answer is held at a time."""
    for iri in graphs:
        graph = ox.NamedNode(iri)
        for triple in ox.parse(read(iri), format=ox.RdfFormat.N_TRIPLES):
            yield ox.Quad(triple.subject, triple.predicate, triple.object, graph)
