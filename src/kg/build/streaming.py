"""The project's files streamed into one sorted, canonical N-Quads file, and that file split by graph.

Each input file is parsed on its own (its literals checked as they pass, its
blank nodes labelled by content), written out as N-Quads lines and forgotten
(by several processes at once, see `kg.build.parse_workers`); the lines are
sorted outside Python (`kg.store.sorted_nquads`: `sort`, which spills to disk), so memory
holds one file at a time, never the dataset. The sorted file is the build's
canonical dump: the store is bulk-loaded from its graphs' files, and the rest of
dist/ is written from them and from it in pieces (`kg.build.serializations`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from kg.build.parsing import checked_triples
from kg.namespaces import GRAPH_NAMES, graph_iri


def file_nquads(path: Path, name: str, text: bytes | None = None) -> bytes:
    """One input file (its bytes `text` when they were read already) as N-Quads lines in graph `name`,
    every literal as the store keeps it; raises InputError on bad input."""
    graph = ox.NamedNode(str(graph_iri(name)))
    triples = list(checked_triples(path, text))
    quads = stored_form(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)
    if any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in triples):
        quads = _labelled_by_content(quads, name)
    return ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""


def stored_form(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """The quads with every literal as Oxigraph stores it, so dist/ and the store agree term for term.

    Oxigraph keeps values, not spellings: `xsd:nonNegativeInteger` and
    `xsd:positiveInteger` become `xsd:integer`, `"1.50"^^xsd:decimal` becomes
    `"1.5"`. Writing dist/ in that form makes every reader (the store, `/data`,
    a pushed store) see exactly the bytes of `dist/opioid-kg.nq`.
    """
    store = ox.Store()
    store.extend(quads)
    return list(store)


def _labelled_by_content(quads: list[ox.Quad], name: str) -> list[ox.Quad]:
    """The quads with blank nodes renamed by RDFC-1.0 and prefixed with the graph's name and a digest
    of the file's canonical content, so labels are the same on every build and unique across files."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    canonical = sorted(str(quad) for quad in dataset)
    digest = hashlib.sha256("\n".join(canonical).encode()).hexdigest()[:12]

    def term(node: ox.NamedNode | ox.BlankNode | ox.Literal) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        return ox.BlankNode(f"{name}{digest}{node.value}") if isinstance(node, ox.BlankNode) else node

    def subject(node: ox.NamedNode | ox.BlankNode | ox.Triple) -> ox.NamedNode | ox.BlankNode | ox.Triple:
        return ox.BlankNode(f"{name}{digest}{node.value}") if isinstance(node, ox.BlankNode) else node

    return [ox.Quad(subject(q.subject), q.predicate, term(q.object), q.graph_name) for q in dataset]


_GRAPH_NAMES = {f"<{graph_iri(name)}>".encode(): name for name in GRAPH_NAMES}


def graph_of(line: bytes) -> str | None:
    """The name of the graph an N-Quads line (ending ` .\n`) is in, or None for a graph outside the
    dataset's."""
    return _GRAPH_NAMES.get(_graph_term(line))


def _graph_term(line: bytes) -> bytes:
    """The graph term of an N-Quads line: the last ` <` of a line opens it, nothing but it follows."""
    return line[line.rindex(b" <", 0, len(line) - 3) + 1 : -3]


@dataclass
class StatedTwice:
    """The triples a sorted dump gives in two of the graphs `among`, seen line by line: a triple's
    lines differ only in their last term, the graph, so the lines of one triple stand together in
    byte order (its object's text ends where a space follows). Per pair of graphs, the first `keep`
    triples (the smallest, all for None) as N-Triples text, and how many there are."""

    among: frozenset[str]
    keep: int | None
    found: dict[tuple[str, str], list[bytes]] = field(default_factory=dict)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    _triple: bytes = b""  # the last triple seen in a graph of `among`
    _stated_in: list[str] = field(default_factory=list)  # the graphs giving it

    def see(self, line: bytes, cut: int, name: str) -> None:
        """The next line of the dump, whose graph term starts after `cut`, in graph `name`."""
        if name not in self.among:
            return
        if cut != len(self._triple) or not line.startswith(self._triple):
            self._triple, self._stated_in = line[:cut], [name]
            return
        for other in self._stated_in:
            pair = (other, name)
            self.counts[pair] += 1
            kept = self.found.setdefault(pair, [])
            if self.keep is None or len(kept) < self.keep:
                kept.append(self._triple)
        self._stated_in.append(name)


def split_by_graph(nquads: Path, folder: Path, twice: StatedTwice | None = None) -> dict[str, int]:
    """The sorted dump split into one sorted N-Quads file per named graph under `folder`, each holding
    that graph alone (the serializations rely on it); triple counts by graph name, in the dataset's
    graph order. `twice`, when given, sees each line. Raises ValueError on a quad outside the
    dataset's graphs."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(GRAPH_NAMES, 0)
    with ExitStack() as files, nquads.open("rb") as lines:
        outputs: dict[str, BinaryIO] = {}
        for line, cut, name in _graphs_of(nquads, lines):
            if name not in outputs:
                outputs[name] = files.enter_context((folder / f"{name}.nq").open("wb"))
            outputs[name].write(line)
            counts[name] += 1
            if twice is not None:
                twice.see(line, cut, name)
    return {name: count for name, count in counts.items() if count}


def stated_twice(nquads: Path, twice: StatedTwice) -> StatedTwice:
    """`twice`, having seen each line of the sorted dump (one not split again: a rebuild's patched)."""
    with nquads.open("rb") as lines:
        for line, cut, name in _graphs_of(nquads, lines):
            twice.see(line, cut, name)
    return twice


def _graphs_of(nquads: Path, lines: Iterable[bytes]) -> Iterator[tuple[bytes, int, str]]:
    """Each N-Quads line, where its graph term starts (after the last ` <`, nothing but it follows)
    and the name of its graph; raises ValueError on a quad outside the dataset's graphs."""
    for line in lines:
        cut = line.rindex(b" <", 0, len(line) - 3)
        name = _GRAPH_NAMES.get(line[cut + 1 : -3])
        if name is None:
            raise ValueError(f"{nquads}: {_graph_term(line).decode()} is not a graph of the dataset")
        yield line, cut, name


def load_files(files_by_graph: dict[str, list[Path]]) -> ox.Store:
    """An in-memory store of the given files, each in its named graph (for checking files unbuilt).
    The quads go in as parsed, their blank nodes labelled as the build labels them (Oxigraph's loader
    would give each a random label, and a report naming one would differ from run to run)."""
    store = ox.Store()
    for name, paths in files_by_graph.items():
        for path in paths:
            store.extend(ox.parse(file_nquads(path, name), format=ox.RdfFormat.N_QUADS))
    return store
