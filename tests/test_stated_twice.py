"""Triples stated in two of the data's graphs are found as the sorted dump is split, not by asking the
store for the triples of each pair of graphs (a minute at 10 M triples).

The lines of one triple stand together in the dump's byte order only if no other triple's line can sort
between them; these dumps hold the objects that come closest (a literal and the same text with a
language, a datatype, a longer text, escapes; IRIs and blank-node labels that extend another).
"""

from __future__ import annotations

import random
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.build.pipeline import BuildFailed, build
from kg.build.streaming import StatedTwice, split_by_graph, stated_twice
from kg.namespaces import graph_iri
from kg.store.sorted_nquads import sort_nquads

REPORT = "000_1bdfefaeb44abb70"
DATA = frozenset({"data", "provenance", "background"})
OBJECTS = [
    '"abc"',
    '"abc"@en',
    '"abc"@en-us',
    '"abc"^^<http://www.w3.org/2001/XMLSchema#token>',
    '"abc d"',
    '"abc\\" <x> d"',
    '"ab"',
    "<urn:o>",
    "<urn:o2>",
    "<urn:o/>",
    "_:b1",
    "_:b10",
    '"7"^^<http://www.w3.org/2001/XMLSchema#integer>',
    '"70"^^<http://www.w3.org/2001/XMLSchema#integer>',
]
GRAPHS = ["data", "provenance", "background", "ontology", "shapes"]


def _line(subject: str, obj: str, graph: str) -> str:
    return f"{subject} <urn:p> {obj} <{graph_iri(graph)}> .\n"


def _expected(stated: dict[tuple[str, str], list[str]]) -> dict[tuple[str, str], list[bytes]]:
    """Each triple in each pair of data graphs stating it, as the dump orders the pair's graphs."""
    found: dict[tuple[str, str], list[bytes]] = {}
    for (subject, obj), graphs in sorted(
        stated.items(), key=lambda item: f"{item[0][0]} <urn:p> {item[0][1]}"
    ):
        named = sorted((g for g in graphs if g in DATA), key=lambda g: str(graph_iri(g)))
        for i, first in enumerate(named):
            for second in named[i + 1 :]:
                found.setdefault((first, second), []).append(f"{subject} <urn:p> {obj}".encode())
    return {pair: sorted(triples) for pair, triples in found.items()}


@pytest.mark.parametrize("seed", range(8))
def test_every_triple_of_two_data_graphs_is_found_in_a_dump_of_near_lines(tmp_path: Path, seed: int) -> None:
    chosen = random.Random(seed)
    stated: dict[tuple[str, str], list[str]] = {}
    lines = []
    for subject in ("<urn:s>", "<urn:s2>", "_:s"):
        for obj in OBJECTS:
            graphs = chosen.sample(GRAPHS, chosen.randint(1, 4))
            stated[subject, obj] = graphs
            lines.extend(_line(subject, obj, graph) for graph in graphs)
    for line in lines:  # each line is valid N-Quads
        list(ox.parse(line.encode(), format=ox.RdfFormat.N_QUADS))
    chosen.shuffle(lines)
    unsorted = tmp_path / "unsorted.nq"
    unsorted.write_text("".join(lines), "utf-8")
    dump = tmp_path / "dump.nq"
    sort_nquads([unsorted], dump)
    split = StatedTwice(DATA, None)
    split_by_graph(dump, tmp_path / "graphs", split)
    read = stated_twice(dump, StatedTwice(DATA, None))
    expected = _expected(stated)
    assert {pair: sorted(kept) for pair, kept in split.found.items()} == expected
    assert read.found == split.found and read.counts == split.counts
    assert split.counts.total() == sum(map(len, expected.values()))
    kept = stated_twice(dump, StatedTwice(DATA, 2))  # the first two of each pair, the smallest
    assert kept.found == {pair: triples[:2] for pair, triples in expected.items()}
    assert kept.counts == split.counts


def test_a_triple_of_all_three_data_graphs_is_named_in_each_pair(project_copy: Path, tmp_path: Path) -> None:
    """The same statement written under data/, provenance/ and background/: three pairs, named and
    counted alike by a clean build and by a rebuild that checks everything again."""
    triple = (
        '<https://w3id.org/opioid-kg/id/country/MX> <http://www.w3.org/2000/01/rdf-schema#comment> "thrice"'
    )
    for folder in (f"{REPORT}/data", f"{REPORT}/provenance", "common/background"):
        (project_copy / "graph" / folder / "zz-thrice.ttl").write_text(f"{triple} .\n", "utf-8")
    with pytest.raises(BuildFailed) as clean:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    failure = str(clean.value)
    for pair in ("background and the data", "background and the provenance", "data and the provenance"):
        assert f'"thrice" is stated in the {pair} graph' in failure, failure
    assert failure.count("is stated in the") == 3, failure


def test_a_rebuild_too_large_to_patch_names_the_same_triples(project_copy: Path, tmp_path: Path) -> None:
    """A change of more than a quarter of the quads is checked whole, from the patched dump, which is
    not split again: the triples it states twice are read from it."""
    build(project_copy, tmp_path / "work" / "dist", tmp_path / "work" / "store")
    graphs = project_copy / "graph"
    for path in sorted((graphs / REPORT / "data").glob("*.ttl")):  # added: more than half the quads
        for copies in (graphs / REPORT / "provenance", graphs / "common" / "background"):
            (copies / f"zz-{path.name}").write_bytes(path.read_bytes())
    with pytest.raises(BuildFailed) as rebuilt:
        build(project_copy, tmp_path / "work" / "dist", tmp_path / "work" / "store")
    with pytest.raises(BuildFailed) as clean:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert str(rebuilt.value) == str(clean.value)
    assert "is stated in the background and the data graph" in str(clean.value)
    assert "is stated in the data and the provenance graph" in str(clean.value)
