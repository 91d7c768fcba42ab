"""The build's validation gives Apache Jena's SHACL verdict, on the curated graph and on the graph
broken by every negative case of `test_shapes`: the same (focus node, shape, constraint component,
path, value) results. And Jena reads the build's gzipped dump, a gzip member per chunk, whole.

Jena reads what the build's engine reads: the store's triples (literals as the store spells them)
as N-Triples, and the shapes as Turtle. Blank nodes compare as `[]` (each engine labels its own).
"""

from __future__ import annotations

import subprocess
import zlib
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from jena import Key, jena_classpath, jena_report, needs_jena, read_verdict
from rdflib import Graph
from shacl_cases import broken_graph

from kg.build import pieces
from kg.build.serializations import DUMP_PART, write_serializations
from kg.build.store_validation import validate_store
from kg.store.description import DUMP_FILE

pytestmark = needs_jena
GRAPH = ox.NamedNode("urn:test:data")
Verdict = tuple[str, set[Key]]  # conforms, distinct results


def both_verdicts(data: Graph, shapes: Graph, work: Path) -> tuple[Verdict, Verdict]:
    """The build's engine's verdict and Jena's."""
    store = ox.Store()
    store.load(data.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES, to_graph=GRAPH)
    data_file, shapes_file = work / "data.nt", work / "shapes.ttl"
    store.dump(data_file, format=ox.RdfFormat.N_TRIPLES, from_graph=GRAPH)
    shapes.serialize(shapes_file, format="turtle")
    kg_conforms, kg_results, _ = read_verdict(validate_store(store, [GRAPH], shapes).report_graph)
    jena_conforms, jena_results, _ = read_verdict(jena_report(data_file, shapes_file, work))
    return (kg_conforms, kg_results), (jena_conforms, jena_results)


def test_curated_graph_conforms_for_both(graphs: tuple[Graph, Graph], tmp_path: Path) -> None:
    kg, jena = both_verdicts(*graphs, tmp_path)
    assert kg == jena == ("true", set())


def test_broken_graph_same_results(graphs: tuple[Graph, Graph], tmp_path: Path) -> None:
    data, shapes = graphs
    kg, jena = both_verdicts(broken_graph(data), shapes, tmp_path)
    assert kg[0] == jena[0] == "false"
    assert len(kg[1]) > 80, "the negative cases break the graph in many places"
    assert kg[1] - jena[1] == set(), "reported by the build's engine only"
    assert jena[1] - kg[1] == set(), "reported by Jena only"


def gzip_members(data: bytes) -> int:
    count = 0
    while data:
        reader = zlib.decompressobj(wbits=31)  # one gzip member
        reader.decompress(data)
        data, count = reader.unused_data, count + 1
    return count


def test_jena_reads_a_gzipped_dump_of_many_members_whole(
    built: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dump is written as one gzip member per chunk (RFC 1952 allows several); Jena's reader, Java's
    GZIPInputStream, reads them all."""
    monkeypatch.setattr(pieces, "CUT_MASK", 0x3)  # many chunks
    out = tmp_path / "generation" / "dist"
    write_serializations(tmp_path, [], out, (DUMP_PART,), dump=built.dist / "opioid-kg.nq")
    assert gzip_members((out / DUMP_FILE).read_bytes()) > 100
    command = [
        "java",
        "-cp",
        jena_classpath(tmp_path),
        "riotcmd.riot",
        "--output=nquads",
        str(out / DUMP_FILE),
    ]
    done = subprocess.run(command, capture_output=True, check=True, timeout=120)
    read, written = (
        ox.Dataset(ox.parse(data, format=ox.RdfFormat.N_QUADS))
        for data in (done.stdout, (built.dist / "opioid-kg.nq").read_bytes())
    )
    for dataset in (read, written):
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)  # Jena names blank nodes its own way
    assert read == written
