"""`kg export`: canonical files that read back to the same data, and their VoID/DCAT description."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.exchange.export import FORMATS, ExportError, export, serialize
from kg.namespaces import graph_iri

PROJECT = Path(__file__).resolve().parent.parent
VOID = "http://rdfs.org/ns/void#"
DATASET = "https://w3id.org/opioid-kg/id/dataset/opioid-kg"
DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def dataset(built) -> Path:
    return built.dist / "opioid-kg.nq"


def distinct_triples(built, names: list[str] | None = None) -> int:
    quads = ox.parse(path=str(dataset(built)), format=ox.RdfFormat.N_QUADS)
    chosen = {str(graph_iri(name)) for name in names} if names else None
    return len({q.triple for q in quads if chosen is None or q.graph_name.value in chosen})


@pytest.mark.parametrize("output_format", list(FORMATS))
def test_every_format_is_byte_identical_across_runs_and_reads_back(built, tmp_path, output_format):
    holds_graphs = FORMATS[output_format][1]
    first = export(dataset(built), tmp_path / "one" / "kg.out", output_format, union=not holds_graphs)
    second = export(dataset(built), tmp_path / "two" / "kg.out", output_format, union=not holds_graphs)
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.description.read_bytes() == second.description.read_bytes()
    statements = list(ox.parse(path=str(first.path), format=FORMATS[output_format][0]))
    if holds_graphs:
        assert len(statements) == sum(built.result.triples_per_graph.values())
        assert {q.graph_name.value for q in statements} == {
            str(graph_iri(n)) for n in built.result.triples_per_graph
        }
    else:
        assert len(statements) == distinct_triples(built)


def test_nquads_export_is_the_builds_canonical_file(built, tmp_path):
    result = export(dataset(built), tmp_path / "kg.nq", "nquads")
    assert result.path.read_bytes() == dataset(built).read_bytes()
    assert result.content_sha256 == hashlib.sha256(dataset(built).read_bytes()).hexdigest()


def test_one_graph_in_turtle(built, tmp_path):
    result = export(dataset(built), tmp_path / "data.ttl", "turtle", ("data",))
    triples = list(ox.parse(path=str(result.path), format=ox.RdfFormat.TURTLE))
    assert len(triples) == built.result.triples_per_graph["data"] == result.triples_per_graph["data"]


def test_graphless_formats_need_one_graph_or_the_union(built, tmp_path):
    with pytest.raises(ExportError, match="--union"):
        export(dataset(built), tmp_path / "kg.ttl", "turtle")
    with pytest.raises(ExportError, match="no graph named nonsense"):
        export(dataset(built), tmp_path / "kg.nq", "nquads", ("nonsense",))
    assert not (tmp_path / "kg.ttl").exists()


def test_gzip_round_trip_is_reproducible(built, tmp_path):
    plain = export(dataset(built), tmp_path / "kg.trig", "trig")
    packed = export(dataset(built), tmp_path / "a" / "kg.trig.gz", "trig", compress=True)
    again = export(dataset(built), tmp_path / "b" / "kg.trig.gz", "trig", compress=True)
    data = packed.path.read_bytes()
    assert data == again.path.read_bytes()
    assert data[4:8] == b"\0\0\0\0"  # no time stamp in the gzip header
    assert gzip.decompress(data) == plain.path.read_bytes()


def test_export_description_is_the_built_one_with_the_exported_file(built, tmp_path):
    result = export(dataset(built), tmp_path / "data.nt", "ntriples", ("data", "background"), union=True)
    described = set(ox.parse(path=str(result.description), format=ox.RdfFormat.TURTLE))
    assert set(ox.parse(path=str(built.dist / "void.ttl"), format=ox.RdfFormat.TURTLE)) <= described
    store = ox.Store()
    store.extend(described)

    def values(subject: str | None, predicate: str) -> list[str]:
        node = ox.NamedNode(subject) if subject else None
        return sorted(q.object.value for q in store.quads_for_pattern(node, ox.NamedNode(predicate), None))

    for name, count in built.result.triples_per_graph.items():
        assert values(str(graph_iri(name)), VOID + "triples") == [str(count)]
    digest = hashlib.sha256(dataset(built).read_bytes()).hexdigest()
    assert values(None, DCT + "identifier") == [f"sha256:{digest}"]
    assert values(None, DCT + "modified") == ["2018-08-09"]
    sha256 = hashlib.sha256(result.path.read_bytes()).hexdigest()
    file = f"{DATASET}/distribution/{sha256}/data.nt"
    # DCAT 3 §6.8: a distribution is a form of the dataset it is listed under; a file of two of the five
    # graphs had been listed under the whole dataset. It is the distribution of a selection of it.
    assert file not in values(DATASET, DCAT + "distribution")
    selection = f"{DATASET}/selection/{sha256}"
    assert values(selection, DCAT + "distribution") == [file]
    assert selection in values(DATASET, VOID + "subset")
    assert values(selection, RDF_TYPE) == sorted([DCAT + "Dataset", VOID + "Dataset"])
    assert values(selection, DCT + "hasPart") == [str(graph_iri("background")), str(graph_iri("data"))]
    assert values(file, DCAT + "byteSize") == [str(len(result.path.read_bytes()))]
    assert values(file, DCAT + "mediaType") == [
        "https://www.iana.org/assignments/media-types/application/n-triples"
    ]
    assert values(file, DCAT + "compressFormat") == []
    assert values(file + "#sha256", "http://spdx.org/rdf/terms#checksumValue") == [
        hashlib.sha256(result.path.read_bytes()).hexdigest()
    ]
    chosen = built.result.triples_per_graph["data"] + built.result.triples_per_graph["background"]
    assert values(file, VOID + "triples") == []  # VoID describes datasets: see test_description
    assert (
        sum(int(values(str(graph_iri(name)), VOID + "triples")[0]) for name in ("data", "background"))
        == chosen
    )


def test_a_gzipped_export_keeps_its_media_type_and_says_gzip(built, tmp_path):
    result = export(dataset(built), tmp_path / "all.nq.gz", "nquads", compress=True)
    store = ox.Store()
    store.extend(ox.parse(path=str(result.description), format=ox.RdfFormat.TURTLE))
    file = ox.NamedNode(
        f"{DATASET}/distribution/{hashlib.sha256(result.path.read_bytes()).hexdigest()}/all.nq.gz"
    )
    media = {q.predicate.value: q.object.value for q in store.quads_for_pattern(file, None, None)}
    assert ox.Quad(ox.NamedNode(DATASET), ox.NamedNode(DCAT + "distribution"), file) in store  # every graph
    assert media[DCAT + "mediaType"] == "https://www.iana.org/assignments/media-types/application/n-quads"
    assert media[DCAT + "compressFormat"] == "https://www.iana.org/assignments/media-types/application/gzip"


def test_an_export_named_as_dist_s_own_file_is_a_distribution_of_its_own(built, tmp_path):
    """Exported as `opioid-kg.nq.gz`, the documentation's example, it shared dist/'s distribution's IRI:
    one distribution of two sizes and two checksums."""
    result = export(dataset(built), tmp_path / "opioid-kg.nq.gz", "nquads", compress=True)
    store = ox.Store()
    store.extend(ox.parse(path=str(result.description), format=ox.RdfFormat.TURTLE))
    listed = [
        q.object
        for q in store.quads_for_pattern(ox.NamedNode(DATASET), ox.NamedNode(DCAT + "distribution"), None)
    ]
    assert len(listed) == 2
    for distribution in listed:
        assert len(list(store.quads_for_pattern(distribution, ox.NamedNode(DCAT + "byteSize"), None))) == 1
    exported = hashlib.sha256(result.path.read_bytes()).hexdigest()
    assert ox.NamedNode(f"{DATASET}/distribution/{exported}/opioid-kg.nq.gz") in listed


def test_cli_export_writes_file_and_description(built, tmp_path):
    out = tmp_path / "kg.jsonld.gz"
    args = [
        "--project",
        str(PROJECT),
        "export",
        "--dist",
        str(built.dist),
        "--format",
        "jsonld",
        "--gzip",
        "-o",
    ]
    result = CliRunner().invoke(main, [*args, str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and out.exists() and Path(f"{out}.void.ttl").exists()
    refused = CliRunner().invoke(main, [*args[:-4], "--format", "rdfxml", "-o", str(tmp_path / "x.rdf")])
    assert refused.exit_code == 2
    assert "Traceback" not in refused.output and "--union" in refused.output


def test_an_export_is_gzipped_as_dist_s_dump_is(built, tmp_path):
    """The same data gzipped alike wherever it is written: `--gzip` wrote level 9 (its header's flags
    said so) where dist/'s dump is written at gzip's default level."""
    out = tmp_path / "kg.nq.gz"
    args = ["--project", str(PROJECT), "export", "--dist", str(built.dist), "--gzip", "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    dump = next(built.dist.glob("*.nq.gz")).read_bytes()
    exported = out.read_bytes()
    assert exported[:10] == dump[:10]  # magic, method, flags, time 0, compression flags, system
    assert gzip.decompress(exported) == gzip.decompress(dump)


def test_graphs_rdf_xml_cannot_write_are_refused_not_written_malformed() -> None:
    """A predicate ending in `/` was written as `<oxprefix: …>`, XML no reader reads."""
    quad = ox.Quad(
        ox.NamedNode("http://example.org/s"),
        ox.NamedNode("http://example.org/p/"),
        ox.Literal("x"),
        ox.NamedNode("https://w3id.org/opioid-kg/graph/data"),
    )
    with pytest.raises(ExportError, match=r"predicate <http://example.org/p/> ends in none"):
        serialize({"data": [quad]}, "rdfxml", union=False)
    assert b"example.org/p/" in serialize({"data": [quad]}, "turtle", union=False)
