"""`kg build` writes the one VoID/DCAT description of the dataset: every vocabulary, the gzipped dump."""

from __future__ import annotations

import gzip
import hashlib

import pyoxigraph as ox
from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import RDF, RDFS

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DATASET = "https://w3id.org/opioid-kg/id/dataset/opioid-kg"
MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"


def described(built) -> dict[tuple[str, str], list[str]]:
    """The description's objects by (subject, predicate)."""
    values: dict[tuple[str, str], list[str]] = {}
    for quad in ox.parse(path=str(built.dist / "void.ttl"), format=ox.RdfFormat.TURTLE):
        values.setdefault((quad.subject.value, quad.predicate.value), []).append(quad.object.value)
    return values


def namespace(term: str) -> str:
    return term[: max(term.rfind("#"), term.rfind("/")) + 1]


def test_every_vocabulary_used_is_listed(built) -> None:
    data = Dataset()
    data.parse(built.dist / "opioid-kg.nq", format="nquads")
    used = set()
    for _, p, o, _ in data.quads():
        used.add(namespace(str(p)))
        if isinstance(o, Literal) and o.datatype:
            used.add(namespace(str(o.datatype)))
        if p in (RDF.type, RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range) and isinstance(
            o, URIRef
        ):
            used.add(namespace(str(o)))
    listed = set(described(built)[(DATASET, VOID + "vocabulary")])
    assert listed == used
    assert {
        "http://www.w3.org/ns/prov#",
        "http://purl.org/linked-data/cube#",
        "https://schema.org/",
    } <= listed


def test_the_dump_is_a_gzipped_n_quads_distribution(built) -> None:
    values = described(built)
    (distribution,) = values[(DATASET, DCAT + "distribution")]
    dump = (built.dist / "opioid-kg.nq.gz").read_bytes()
    assert gzip.decompress(dump) == (built.dist / "opioid-kg.nq").read_bytes()
    assert values[(distribution, DCAT + "mediaType")] == [MEDIA_TYPES + "application/n-quads"]
    assert values[(distribution, DCAT + "compressFormat")] == [MEDIA_TYPES + "application/gzip"]
    assert values[(distribution, DCAT + "byteSize")] == [str(len(dump))]
    (checksum,) = values[(distribution, "http://spdx.org/rdf/terms#checksum")]
    assert values[(checksum, "http://spdx.org/rdf/terms#checksumValue")] == [hashlib.sha256(dump).hexdigest()]


def test_class_partitions_count_instances(built) -> None:
    values = described(built)
    partitions = values[(DATASET, VOID + "classPartition")]
    counts = {values[(p, VOID + "class")][0]: int(values[(p, VOID + "entities")][0]) for p in partitions}
    assert counts["http://purl.org/linked-data/cube#Observation"] == 24


def test_the_counts_are_those_of_the_dump(built) -> None:
    """Each graph's triples and each class's instances, as the description gives them, counted again
    from the canonical N-Quads by another parser."""
    data = Dataset()
    data.parse(built.dist / "opioid-kg.nq", format="nquads")
    per_graph: dict[str, int] = {}
    members: set[tuple[str, str]] = set()
    for s, p, o, g in data.quads():
        per_graph[str(g)] = per_graph.get(str(g), 0) + 1
        if p == RDF.type and isinstance(o, URIRef):
            members.add((str(s), str(o)))
    classes: dict[str, int] = {}
    for _, cls in members:
        classes[cls] = classes.get(cls, 0) + 1
    values = described(built)
    subsets = values[(DATASET, VOID + "subset")]
    assert {g: int(values[(g, VOID + "triples")][0]) for g in subsets} == per_graph
    assert values[(DATASET, VOID + "triples")] == [str(sum(per_graph.values()))]
    partitions = values[(DATASET, VOID + "classPartition")]
    assert {
        values[(p, VOID + "class")][0]: int(values[(p, VOID + "entities")][0]) for p in partitions
    } == classes


def test_a_distribution_says_nothing_in_void(built) -> None:
    """Every VoID property has the domain void:Dataset, so a reasoner makes whatever carries one a
    dataset: a file's size in triples on its dcat:Distribution made the dump a void:Dataset. A
    distribution's size is in bytes (`dcat:byteSize`); the dataset and its graphs count triples."""
    values = described(built)
    rdf_type = str(RDF.type)
    distributions = {
        s for (s, p), objects in values.items() if p == rdf_type and DCAT + "Distribution" in objects
    }
    assert distributions
    assert [(s, p) for s, p in values if s in distributions and p.startswith(VOID)] == []


def test_a_uri_space_stated_is_the_prefix_of_every_entity_it_speaks_for(built) -> None:
    """VoID's `void:uriSpace` is a prefix of every entity IRI of the dataset it is stated of. The dataset
    was given `https://w3id.org/opioid-kg/` while its ontology graph describes the terms it reuses
    (`prov:Entity`, `dcterms:source`, QUDT's units): 79 subjects outside. Where one is stated, of the
    dataset or a graph, every subject IRI of what it describes starts with it."""
    data = Dataset()
    data.parse(built.dist / "opioid-kg.nq", format="nquads")
    values = described(built)
    for (described_by, predicate), spaces in values.items():
        if predicate != VOID + "uriSpace":
            continue
        graphs = None if described_by == DATASET else {described_by}
        subjects = {
            str(s)
            for s, _, _, g in data.quads()
            if isinstance(s, URIRef) and (graphs is None or str(g) in graphs)
        }
        for space in spaces:
            outside = sorted(subject for subject in subjects if not subject.startswith(space))
            assert not outside, (described_by, space, len(outside), outside[:5])
