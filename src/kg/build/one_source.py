"""What a build of one source reads: graph/common/ cites evidence that other sources hold.

The shared entities of graph/common/ rest on excerpts of whichever source first
named them. A build of one source takes, besides that source and graph/common/,
only what graph/common/ and the source's own files reach in the other sources'
provenance (those excerpts, their selectors, their reports and what those cite),
so it checks exactly what the full build checks for that source, and no other
source's unused evidence.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.build.locate import ORIGIN, SubjectIndex
from kg.build.parsing import checked_triples
from kg.build.project import COMMON, input_files, source_files, source_ids, turtle_files

CITED_EVIDENCE = "cited-evidence.ttl"


def one_source_files(root: Path, source: str, scratch: Path) -> dict[str, list[Path]]:
    """The input files of a build of `source`, by named graph; the evidence graph/common/ cites from
    other sources is written to `scratch` as one file."""
    by_graph = input_files(root, source)
    others = [
        path
        for other in source_ids(root)
        if other != source
        for path in source_files(root, other).get("provenance", [])
    ]
    if others:
        own = [path for paths in source_files(root, source).values() for path in paths]
        evidence = scratch / CITED_EVIDENCE
        write_reached(turtle_files(root / "graph" / COMMON) + own, others, evidence)
        by_graph.setdefault("provenance", []).append(evidence)
    return by_graph


def write_reached(citing: list[Path], held: list[Path], out: Path) -> None:
    """Write to `out` (as N-Triples, which is Turtle) every triple of the files `held` about a
    resource that the files `citing` reach, directly or through other such triples. Each resource's
    triples follow the place it is written in `held` (`#@ FILE:LINE`), which an error about it names:
    `out` is gone once the build ended; a resource without a name (or a place) comes first, before any
    place is said."""
    triples: dict[str, list[tuple[Path, ox.Triple]]] = {}
    for path in held:
        for triple in checked_triples(path):
            triples.setdefault(_key(triple.subject, path), []).append((path, triple))
    reached: set[str] = set()
    waiting = [_key(t.object, path) for path in citing for t in checked_triples(path)]
    while waiting:
        node = waiting.pop()
        if node in reached or node not in triples:
            continue
        reached.add(node)
        waiting += [_key(triple.object, path) for path, triple in triples[node]]
    index = SubjectIndex(held)
    placed = {node: index.find(node[1:-1]) if node.startswith("<") else None for node in reached}
    written = []
    for node in sorted(reached, key=lambda node: (placed[node] is not None, node)):
        place = placed[node]
        said = f"{ORIGIN}{place.path}:{place.line}\n".encode() if place is not None else b""
        about = ox.serialize([triple for _, triple in triples[node]], format=ox.RdfFormat.N_TRIPLES)
        written.append(said + (about or b""))
    out.write_bytes(b"".join(written))


def _key(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple, path: Path) -> str:
    """A term as a key; a blank node's label means something only within its own file."""
    return f"{path}#{term}" if isinstance(term, ox.BlankNode) else str(term)
