"""The dataset written from a store's graphs (`kg.server.dump`): the build's sorted N-Quads, byte for byte,
however the graphs come."""

from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox

from kg.server.dump import write_dump


def test_the_n_quads_sorted_on_disk_are_the_build_s_own(built, tmp_path) -> None:
    """Sorted on disk as the build sorts, never the whole dataset in memory: the very bytes of
    dist/opioid-kg.nq, from graphs read in reverse order, each its triples reversed."""
    built_quads = (built.dist / "opioid-kg.nq").read_bytes()
    triples: dict[str, list[ox.Triple]] = defaultdict(list)
    for quad in ox.parse(built_quads, format=ox.RdfFormat.N_QUADS):
        assert isinstance(quad.graph_name, ox.NamedNode)
        triples[quad.graph_name.value].append(ox.Triple(quad.subject, quad.predicate, quad.object))
    answers = {
        iri: ox.serialize(held[::-1], format=ox.RdfFormat.N_TRIPLES) or b"" for iri, held in triples.items()
    }
    written = write_dump(tmp_path / "dump.nq", "nquads", sorted(answers, reverse=True), answers.__getitem__)
    assert written.read_bytes() == built_quads
    assert [path.name for path in tmp_path.iterdir()] == ["dump.nq"]  # nothing unsorted or partial left
    for output_format, syntax in (("trig", ox.RdfFormat.TRIG), ("jsonld", ox.RdfFormat.JSON_LD)):
        made = write_dump(
            tmp_path / f"dump.{output_format}", output_format, sorted(answers), answers.__getitem__
        )
        assert len(list(ox.parse(made.read_bytes(), format=syntax))) == len(built_quads.splitlines())
