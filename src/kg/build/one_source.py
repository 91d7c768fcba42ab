"""What a build of one source reads: graph/common/ and the source's facts name what other sources hold.

The shared entities of graph/common/ rest on excerpts of whichever source first
named them. A build of one source takes, besides that source and graph/common/,
what graph/common/ and the source's own files reach in the other sources'
provenance (those excerpts, their selectors, their reports and what those cite),
and what the source's own files (its Turtle and its tables) name in the other
sources' curated facts (a thing another source's Turtle or table describes, and
what that reaches in turn), so it checks exactly what the full build checks for
that source, and no other source's unused facts or evidence.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from kg.build.locate import ORIGIN, SubjectIndex
from kg.build.parsing import checked_triples
from kg.build.project import COMMON, source_files, source_ids, turtle_files
from kg.build.tables import table_ntriples, write_tables

CITED = "cited"  # the folder, in `reached_files`' own, of what a build takes from the other sources


def reached_files(
    root: Path,
    source: str,
    out: Path,
    own_tables: dict[str, list[Path]],
    convert: Callable[[Path], dict[str, bytes]] = table_ntriples,
) -> dict[str, Path]:
    """What a build of `source` takes from the other sources, as files written into the new folder
    `out`, one per named graph (none when there is no other source). `own_tables` are the source's
    tables' files as written for the build; `convert` turns the other sources' tables into triples."""
    others = [other for other in source_ids(root) if other != source]
    if not others:
        return {}
    out.mkdir()
    held: dict[str, list[Path]] = {}
    for other in others:
        for name, paths in source_files(root, other).items():
            held.setdefault(name, []).extend(paths)
    for name, paths in write_tables([root / "graph" / other for other in others], out, convert).items():
        held.setdefault(name, []).extend(paths)
    own = [path for paths in source_files(root, source).values() for path in paths]
    own += [path for paths in own_tables.values() for path in paths]
    reached = out / CITED
    reached.mkdir()
    return write_reached(turtle_files(root / "graph" / COMMON), own, held, reached, out)


def write_reached(
    common: list[Path], own: list[Path], held: dict[str, list[Path]], out: Path, generated: Path
) -> dict[str, Path]:
    """Write to `out`, as N-Triples (which is Turtle), one file per named graph: every triple of the
    files `held` (by graph) about a resource that the files `common` reach in the provenance graph, or
    that the files `own` name (as subject or object), directly or through other such triples. Each
    resource's triples follow the place it is written in `held` (`#@ FILE:LINE`, a table's row where
    the held file is one of the build's own, under `generated`), which an error about it names: `out`
    is gone once the build ended; a resource without a name (or a place) comes first, before any
    place is said. Returns the files written, by graph.

    The held files are every other source's: the first reading keeps only what the reach needs (each
    resource's links and files, its names held once), and only the files holding a resource reached
    are read again for their triples. Held as triples, the other sources' 1 M triples took a build of
    one source of 600 to 773 MB."""
    links = _Links()
    for name, paths in held.items():
        for path in paths:
            for triple in checked_triples(path):
                links.add(name, path, triple)
    cited = [_key(t.object, path) for path in common for t in checked_triples(path)]
    stated = [(path, triple) for path in own for triple in checked_triples(path)]
    named = [_key(term, path) for path, triple in stated for term in (triple.subject, triple.object)]
    reached = _reach(cited + named, links.evidence) | _reach(named, links.every)
    triples = _triples_of(reached, held, {path for node in reached for path in links.files(node)})
    index = SubjectIndex([path for paths in held.values() for path in paths], generated)
    placed = {
        node: index.find_in(node[1:-1], links.files(node)) if node[0] == "<" else None for node in reached
    }
    written: dict[str, list[bytes]] = {}
    for node in sorted(reached, key=lambda node: (placed[node] is not None, node)):
        place = placed[node]
        said = f"{ORIGIN}{place.path}:{place.line}\n".encode() if place is not None else b""
        for name in dict.fromkeys(name for name, _ in triples[node]):
            about = [triple for graph, triple in triples[node] if graph == name]
            text = ox.serialize(about, format=ox.RdfFormat.N_TRIPLES) or b""
            written.setdefault(name, []).append(said + text)
    files = {}
    for name, blocks in written.items():
        files[name] = out / f"{name}.ttl"
        files[name].write_bytes(b"".join(blocks))
    return files


class _Links:
    """What the reach needs of the held files: for each resource (as a key, `_key`) the resources its
    triples name (no literal), in every graph and in the provenance graph alone, and the files that
    hold its triples. A key is held once however many triples name it (`sys.intern`)."""

    def __init__(self) -> None:
        self.every: dict[str, list[str]] = {}
        self.evidence: dict[str, list[str]] = {}
        self._files: dict[str, Path | set[Path]] = {}

    def add(self, name: str, path: Path, triple: ox.Triple) -> None:
        node = sys.intern(_key(triple.subject, path))
        named = [] if isinstance(triple.object, ox.Literal) else [sys.intern(_key(triple.object, path))]
        self.every.setdefault(node, []).extend(named)
        if name == "provenance":
            self.evidence.setdefault(node, []).extend(named)
        known = self._files.setdefault(node, path)
        if known != path:
            self._files[node] = (known if isinstance(known, set) else {known}) | {path}

    def files(self, node: str) -> set[Path]:
        known = self._files[node]
        return known if isinstance(known, set) else {known}


def _triples_of(
    reached: set[str], held: dict[str, list[Path]], holding: set[Path]
) -> dict[str, list[tuple[str, ox.Triple]]]:
    """Each reached resource's triples with their graph, in the order of the held files, read again
    from the files `holding` them alone."""
    triples: dict[str, list[tuple[str, ox.Triple]]] = {node: [] for node in reached}
    for name, paths in held.items():
        for path in paths:
            if path in holding:
                for triple in checked_triples(path):
                    if (about := triples.get(_key(triple.subject, path))) is not None:
                        about.append((name, triple))
    return triples


def _reach(named: list[str], links: dict[str, list[str]]) -> set[str]:
    """The resources `links` holds that `named` names, and those they link to, in turn."""
    reached: set[str] = set()
    waiting = list(named)
    while waiting:
        node = waiting.pop()
        if node in reached or node not in links:
            continue
        reached.add(node)
        waiting += links[node]
    return reached


def _key(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple, path: Path) -> str:
    """A term as a key; a blank node's label means something only within its own file."""
    return f"{path}#{term}" if isinstance(term, ox.BlankNode) else str(term)
