"""The dataset written from a store's graphs (`kg.server.dump`): the build's sorted N-Quads, byte for byte,
however the graphs come."""

from __future__ import annotations

import functools
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox

from kg.namespaces import graph_iri
from kg.query.internal import typed
from kg.server.cache import BudgetCache
from kg.server.dump import write_dump
from kg.server.messages import Query
from kg.server.workers import WorkerPool
from kg.store.embedded import EmbeddedStore


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

    def read(iri: str, file: Path) -> Path:
        file.write_bytes(answers[iri])
        return file

    written = write_dump(tmp_path / "dump.nq", "nquads", sorted(answers, reverse=True), read)
    assert written.read_bytes() == built_quads
    assert [path.name for path in tmp_path.iterdir()] == [
        "dump.nq"
    ]  # no graph, unsorted or partial file left
    for output_format, syntax in (("trig", ox.RdfFormat.TRIG), ("jsonld", ox.RdfFormat.JSON_LD)):
        made = write_dump(tmp_path / f"dump.{output_format}", output_format, sorted(answers), read)
        assert len(list(ox.parse(made.read_bytes(), format=syntax))) == len(built_quads.splitlines())


def test_a_graph_written_to_a_file_by_the_worker_never_crosses_the_pipe(built, tmp_path) -> None:
    """The server's own answer written to a file (`Query.written_to`, what the dump reads each graph
    by): the worker writes the very N-Triples it would have sent, sends an empty body, and the answer
    is never kept in the cache, so a second asking writes the file again rather than find it gone."""
    text, bindings = typed("graph", graph=graph_iri("data"))
    sent = Query(text, Query.sorted_bindings(bindings), graph_format="ntriples")
    file = tmp_path / "data.nt"
    written = Query(text, Query.sorted_bindings(bindings), graph_format="ntriples", written_to=str(file))
    pool = WorkerPool(functools.partial(EmbeddedStore, built.store_path), 1, 30.0, cache=BudgetCache(2**26))
    try:
        body = pool.run(sent).body
        assert len(body.splitlines()) > 1000
        for _ in range(2):
            assert pool.run(written).body == b""
            assert file.read_bytes() == body
            file.unlink()
    finally:
        pool.close()
