"""The one VoID/DCAT description of the dataset, written by `kg build` as dist/void.ttl.

Every reader starts from this file: `kg serve` adds only its endpoint URLs, and
`kg export` only the distribution it writes. Its date is not the clock's:
`dcterms:modified` is the newest date of the source reports the dataset holds,
and the build is identified by the SHA-256 of its canonical N-Quads
(`dcterms:identifier "sha256:…"`). The same data therefore gives the same
description, byte for byte, on any day.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import pyoxigraph as ox

from kg.errors import KgError
from kg.namespaces import ID, SD, XSD
from kg.store.base import StreamedSolutions, selected
from kg.store.queryfiles import packaged_queries
from kg.store.sparql import RDF_TYPE

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SPDX = "http://spdx.org/rdf/terms#"
DCT = "http://purl.org/dc/terms/"
MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
DATASET = f"{ID}dataset/opioid-kg"
LICENCE = "https://spdx.org/licenses/MIT"
DESCRIPTION_FILE = "void.ttl"
QUERIES = Path(__file__).resolve().parent / "queries"
DUMP_FILE = "opioid-kg.nq.gz"
DESCRIPTION_PREFIXES = {
    "dcat": DCAT,
    "dcterms": DCT,
    "sd": str(SD),
    "spdx": SPDX,
    "void": VOID,
    "xsd": str(XSD),
    "document": f"{ID}document/",
}


def _iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_iri(XSD + "integer"))


@dataclass(frozen=True)
class DatasetFacts:
    """What the description says of the data, asked of a store by aggregate queries (the build asks them
    of each chunk of its dump and sums them, see `kg.build.described`)."""

    triples_per_graph: dict[str, int]  # graph IRI -> triples
    vocabularies: list[str]  # the namespace of every property, class and datatype used
    reports: list[tuple[str, str | None]]  # the reports quoted: IRI, newest date
    classes: dict[str, int]  # class IRI -> distinct instances in the union of the graphs

    @staticmethod
    def from_json(value: dict[str, Any]) -> DatasetFacts:
        reports = [(str(report), None if date is None else str(date)) for report, date in value["reports"]]
        return DatasetFacts(
            dict(value["triples_per_graph"]), list(value["vocabularies"]), reports, dict(value["classes"])
        )


def summed_facts(parts: Iterable[DatasetFacts]) -> DatasetFacts:
    """The facts of data made of parts that share no subject: counts added, the rest joined. Each
    fact is asked of one subject's triples at a time, so it is what the whole data answers."""
    graphs: Counter[str] = Counter()
    classes: Counter[str] = Counter()
    vocabularies: set[str] = set()
    reports: list[tuple[str, str | None]] = []
    for part in parts:
        graphs.update(part.triples_per_graph)
        classes.update(part.classes)
        vocabularies.update(part.vocabularies)
        reports += part.reports
    return DatasetFacts(dict(sorted(graphs.items())), sorted(vocabularies), sorted(reports), dict(classes))


def dataset_facts(store: ox.Store) -> DatasetFacts:
    """The counts, vocabularies and source reports of the named graphs of `store`, each by one query
    over the store, so that nothing of the data is held in memory (the build asks them of each chunk
    of its dump, see `kg.build.described`)."""
    counts = {
        row["graph"].value: int(row["triples"].value) for row in _select(store, "void-triples-per-graph")
    }
    terms = {row["term"].value for row in _select(store, "void-vocabulary-terms")}
    reports = sorted(
        (row["report"].value, row["newest"].value if row["newest"] else None)
        for row in _select(store, "void-source-reports")
    )
    classes = {
        row["class"].value: int(row["entities"].value) for row in _select(store, "void-class-entities")
    }
    return DatasetFacts(counts, sorted({_namespace(term) for term in terms}), reports, classes)


def _select(store: ox.Store, name: str) -> StreamedSolutions:
    solutions = selected(store.query(packaged_queries(QUERIES)[name].standalone()))
    return solutions


def _namespace(term: str) -> str:
    cut = max(term.rfind("#"), term.rfind("/"))
    return term[: cut + 1]


def file_digest(path: Path) -> tuple[int, str]:
    """A file's size and SHA-256, read in blocks."""
    with path.open("rb") as data:
        return path.stat().st_size, hashlib.file_digest(data, "sha256").hexdigest()


def distribution_triples(
    file_name: str,
    file_bytes: bytes | tuple[int, str],
    media_type: str,
    compressed: bool,
    iri: str | None = None,
) -> tuple[ox.NamedNode, list[ox.Triple]]:
    """A DCAT distribution of one file: media type (and gzip), size in bytes, checksum, licence. Not its
    size in triples: every VoID property has the domain void:Dataset, so `void:triples` made the file a
    dataset to a reasoner; the dataset and its graphs count their triples.
    `file_bytes` is the file, or its size and SHA-256 (see `file_digest`); the distribution is `iri`, by
    default the dataset's own distribution of that file name."""
    size, sha256 = (
        (len(file_bytes), hashlib.sha256(file_bytes).hexdigest())
        if isinstance(file_bytes, bytes)
        else file_bytes
    )
    iri = iri or f"{DATASET}/distribution/{quote(file_name)}"
    distribution = _iri(iri)
    checksum = _iri(f"{iri}#sha256")
    a = _iri(RDF_TYPE)
    statements = [
        ox.Triple(distribution, a, _iri(DCAT + "Distribution")),
        ox.Triple(distribution, _iri(DCT + "title"), ox.Literal(file_name)),
        ox.Triple(distribution, _iri(DCAT + "mediaType"), _iri(MEDIA_TYPES + media_type)),
        ox.Triple(distribution, _iri(DCAT + "byteSize"), _integer(size)),
        ox.Triple(distribution, _iri(DCT + "license"), _iri(LICENCE)),
        ox.Triple(distribution, _iri(SPDX + "checksum"), checksum),
        ox.Triple(checksum, a, _iri(SPDX + "Checksum")),
        ox.Triple(checksum, _iri(SPDX + "algorithm"), _iri(SPDX + "checksumAlgorithm_sha256")),
        ox.Triple(
            checksum,
            _iri(SPDX + "checksumValue"),
            ox.Literal(sha256, datatype=_iri(XSD + "hexBinary")),
        ),
    ]
    if compressed:
        statements.append(
            ox.Triple(distribution, _iri(DCAT + "compressFormat"), _iri(MEDIA_TYPES + "application/gzip"))
        )
    return distribution, statements


def describe_dataset(facts: DatasetFacts, nquads_sha256: str, dump: tuple[int, str]) -> bytes:
    """Turtle describing the dataset, its named graphs, vocabularies and classes, and the gzipped dump
    (its size and SHA-256); the dataset is identified by the SHA-256 of its canonical N-Quads."""
    dataset = _iri(DATASET)
    a = _iri(RDF_TYPE)
    total = sum(facts.triples_per_graph.values())
    distribution, statements = distribution_triples(DUMP_FILE, dump, "application/n-quads", True)
    statements += [
        ox.Triple(dataset, a, _iri(VOID + "Dataset")),
        ox.Triple(dataset, a, _iri(DCAT + "Dataset")),
        ox.Triple(dataset, _iri(DCT + "title"), ox.Literal("opioid-kg", language="en")),
        ox.Triple(
            dataset,
            _iri(DCT + "description"),
            ox.Literal(
                "A knowledge graph of the transnational opioid supply, every fact traced to a verbatim "
                "excerpt of its source report.",
                language="en",
            ),
        ),
        ox.Triple(dataset, _iri(DCT + "license"), _iri(LICENCE)),
        ox.Triple(
            dataset,
            _iri(DCT + "rights"),
            ox.Literal(
                "Code and curated data: MIT. Each source report keeps its own rights, which the dataset "
                "states as the report's dcterms:rights where its source gives them.",
                language="en",
            ),
        ),
        ox.Triple(dataset, _iri(DCT + "identifier"), ox.Literal(f"sha256:{nquads_sha256}")),
        ox.Triple(dataset, _iri(VOID + "triples"), _integer(total)),
        ox.Triple(dataset, _iri(DCAT + "distribution"), distribution),
    ]
    statements += [ox.Triple(dataset, _iri(VOID + "vocabulary"), _iri(v)) for v in facts.vocabularies]
    reports = facts.reports
    dates = [date for _, date in reports if date]
    if dates:
        statements.append(
            ox.Triple(dataset, _iri(DCT + "modified"), ox.Literal(max(dates), datatype=_iri(XSD + "date")))
        )
    statements += [ox.Triple(dataset, _iri(DCT + "source"), _iri(report)) for report, _ in reports]
    for graph, triples in facts.triples_per_graph.items():
        subset = _iri(graph)
        statements += [
            ox.Triple(dataset, _iri(VOID + "subset"), subset),
            ox.Triple(subset, a, _iri(VOID + "Dataset")),
            ox.Triple(subset, a, _iri(SD + "NamedGraph")),
            ox.Triple(subset, _iri(SD + "name"), subset),
            ox.Triple(subset, _iri(VOID + "triples"), _integer(triples)),
        ]
    statements += _class_partitions(dataset, facts.classes)
    statements.sort(key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    return as_turtle(statements)


def _class_partitions(dataset: ox.NamedNode, classes: dict[str, int]) -> list[ox.Triple]:
    """One void:classPartition per class, with the number of its instances in the union of the graphs."""
    statements = []
    for index, (cls, count) in enumerate(sorted(classes.items())):
        partition = ox.BlankNode(f"class{index}")
        statements += [
            ox.Triple(dataset, _iri(VOID + "classPartition"), partition),
            ox.Triple(partition, _iri(VOID + "class"), _iri(cls)),
            ox.Triple(partition, _iri(VOID + "entities"), _integer(count)),
        ]
    return statements


class DescriptionMissing(KgError, FileNotFoundError):
    """No built description where one was looked for: run `kg build`."""

    status = 404


def built_description(dist: Path) -> bytes:
    """The description `kg build` wrote into `dist`."""
    path = dist / DESCRIPTION_FILE
    if not path.exists():
        raise DescriptionMissing(f"no dataset description at {path}; run `kg build` first")
    return path.read_bytes()


class DescribedCounts(NamedTuple):
    """The counts a description `kg build` wrote: triples per named graph, instances per class."""

    graphs: dict[str, int]
    classes: dict[str, int]


def described_counts(description: bytes) -> DescribedCounts:
    """The counts of a description `kg build` wrote: its `sd:NamedGraph` subsets' `void:triples` and
    its class partitions' `void:entities` (the instances of each class in the union of the graphs)."""
    triples = [quad.triple for quad in ox.parse(description, format=ox.RdfFormat.TURTLE)]
    named_graph = _iri(SD + "NamedGraph")
    named = {t.subject for t in triples if t.predicate.value == RDF_TYPE and t.object == named_graph}
    graphs = {
        t.subject.value: int(t.object.value)
        for t in triples
        if t.subject in named and t.predicate.value == VOID + "triples"
    }
    of_partition = {t.subject: t.object.value for t in triples if t.predicate.value == VOID + "class"}
    classes = {
        of_partition[t.subject]: int(t.object.value)
        for t in triples
        if t.subject in of_partition and t.predicate.value == VOID + "entities"
    }
    return DescribedCounts(graphs, classes)


def extended(description: bytes, extra: list[ox.Triple]) -> list[ox.Triple]:
    """The description's triples and `extra`, sorted, so the same input gives the same bytes."""
    statements = {quad.triple for quad in ox.parse(description, format=ox.RdfFormat.TURTLE)} | set(extra)
    return sorted(statements, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))


def as_turtle(statements: list[ox.Triple]) -> bytes:
    return ox.serialize(statements, format=ox.RdfFormat.TURTLE, prefixes=DESCRIPTION_PREFIXES) or b""


def with_distribution(
    description: bytes,
    *,
    file_name: str,
    file_bytes: bytes,
    media_type: str,
    compressed: bool,
    parts: list[str],
    whole: bool,
) -> bytes:
    """The dataset's description with one more distribution: an exported file, named by its file name
    and SHA-256, so that an export is never taken for dist/'s own file of that name (`opioid-kg.nq.gz`:
    one distribution of two sizes and two checksums) nor for another export. A file of every graph
    (`whole`) is a distribution of the dataset; one of some of its graphs (`parts`) is that of a
    selection of the dataset holding those graphs (DCAT 3 §6.8: a distribution is a form of the dataset
    it is listed under; such a file had been listed under the whole dataset)."""
    sha256 = hashlib.sha256(file_bytes).hexdigest()
    distribution, statements = distribution_triples(
        file_name,
        (len(file_bytes), sha256),
        media_type,
        compressed,
        iri=f"{DATASET}/distribution/{sha256}/{quote(file_name)}",
    )
    dataset = _iri(DATASET)
    if not whole:
        dataset, selection = _iri(f"{DATASET}/selection/{sha256}"), dataset
        statements += [
            ox.Triple(selection, _iri(VOID + "subset"), dataset),
            ox.Triple(dataset, _iri(RDF_TYPE), _iri(DCAT + "Dataset")),
            ox.Triple(dataset, _iri(RDF_TYPE), _iri(VOID + "Dataset")),
            ox.Triple(
                dataset,
                _iri(DCT + "title"),
                ox.Literal(f"opioid-kg: {len(parts)} of its graphs", language="en"),
            ),
        ]
        statements += [ox.Triple(dataset, _iri(DCT + "hasPart"), _iri(part)) for part in parts]
    statements.append(ox.Triple(dataset, _iri(DCAT + "distribution"), distribution))
    return as_turtle(extended(description, statements))


def with_endpoints(
    description: bytes, sparql_endpoint: str, data_dump: str, download: str | None = None
) -> list[ox.Triple]:
    """The dataset's description with where a server answers queries and serves the dump, and, given
    `download`, where it serves the gzipped dump the description's distribution lists (a harvester
    given its checksum and no URL could not fetch it)."""
    dataset = _iri(DATASET)
    added = [
        ox.Triple(dataset, _iri(VOID + "sparqlEndpoint"), _iri(sparql_endpoint)),
        ox.Triple(dataset, _iri(VOID + "dataDump"), _iri(data_dump)),
    ]
    if download is not None:
        distribution = _iri(f"{DATASET}/distribution/{quote(DUMP_FILE)}")
        added += [
            ox.Triple(distribution, _iri(DCAT + "downloadURL"), _iri(download)),
            ox.Triple(distribution, _iri(DCAT + "accessURL"), _iri(download)),
        ]
    return extended(description, added)
