"""The one VoID/DCAT description of the dataset: beside every export, and at the server's
`/.well-known/void`.

Its date is not the clock's: `dcterms:modified` is the newest date of the
source reports the dataset holds. The same data therefore gives the same
description, byte for byte, on any day. An export adds itself as a
distribution and the build's content hash (`dcterms:identifier "sha256:…"`, the
hash of `dist/opioid-kg.nq`); the server adds its endpoint, its dump and the
class partitions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from urllib.parse import quote

import pyoxigraph as ox

from kg.namespaces import BASE, ID, SD, XSD
from kg.query.internal import ask
from kg.store.base import Store

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SPDX = "http://spdx.org/rdf/terms#"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LICENCE = "https://spdx.org/licenses/MIT"
DESCRIPTION_PREFIXES = {
    "dcat": DCAT,
    "dcterms": DCT,
    "sd": str(SD),
    "spdx": SPDX,
    "void": VOID,
    "xsd": str(XSD),
    "document": f"{ID}document/",
}
A = ox.NamedNode(RDF_TYPE)


def _iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_iri(XSD + "integer"))


def source_reports(store: Store) -> list[tuple[str, str | None]]:
    """The reports whose text the dataset quotes (IRI, newest date)."""
    rows = ask(store, "source-reports").rows
    return [(row["report"].value, row["modified"].value if "modified" in row else None) for row in rows]


def dataset_description(
    counts: Mapping[str, int], reports: list[tuple[str, str | None]], base: str = BASE
) -> list[ox.Triple]:
    """The dataset `base`, its named graphs (`counts`: triples by graph IRI) and its source reports."""
    dataset = _iri(base)
    triples = [
        ox.Triple(dataset, A, _iri(VOID + "Dataset")),
        ox.Triple(dataset, A, _iri(DCAT + "Dataset")),
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
                "Code and curated data: MIT. The source reports are works of the United States "
                "Government, not subject to copyright protection in the United States.",
                language="en",
            ),
        ),
        ox.Triple(dataset, _iri(VOID + "uriSpace"), ox.Literal(base + "id/")),
        ox.Triple(dataset, _iri(VOID + "vocabulary"), _iri(base + "ontology#")),
        ox.Triple(dataset, _iri(VOID + "triples"), _integer(sum(counts.values()))),
    ]
    dates = [date for _, date in reports if date]
    if dates:
        triples.append(
            ox.Triple(dataset, _iri(DCT + "modified"), ox.Literal(max(dates), datatype=_iri(XSD + "date")))
        )
    triples += [ox.Triple(dataset, _iri(DCT + "source"), _iri(report)) for report, _ in reports]
    for iri, count in counts.items():
        subset = _iri(iri)
        triples += [
            ox.Triple(dataset, _iri(VOID + "subset"), subset),
            ox.Triple(subset, A, _iri(VOID + "Dataset")),
            ox.Triple(subset, A, _iri(SD + "NamedGraph")),
            ox.Triple(subset, _iri(SD + "name"), subset),
            ox.Triple(subset, _iri(VOID + "triples"), _integer(count)),
        ]
    return triples


def service_description(base: str, root: str, classes: Mapping[str, int]) -> list[ox.Triple]:
    """What a running server adds: its SPARQL endpoint and dump at `root`, and the class partitions."""
    dataset = _iri(base)
    triples = [
        ox.Triple(dataset, _iri(VOID + "sparqlEndpoint"), _iri(root + "sparql")),
        ox.Triple(dataset, _iri(VOID + "dataDump"), _iri(root + "data")),
    ]
    for number, (iri, count) in enumerate(sorted(classes.items())):
        partition = ox.BlankNode(f"class{number}")
        triples += [
            ox.Triple(dataset, _iri(VOID + "classPartition"), partition),
            ox.Triple(partition, _iri(VOID + "class"), _iri(iri)),
            ox.Triple(partition, _iri(VOID + "entities"), _integer(count)),
        ]
    return triples


def distribution_description(
    *, chosen: Mapping[str, int], content_sha256: str, file_name: str, file_bytes: bytes, media_type: str
) -> list[ox.Triple]:
    """What an export adds: the build's content hash, and the file as a distribution of the dataset."""
    dataset = _iri(BASE)
    distribution = _iri(f"{ID}distribution/{quote(file_name)}")
    checksum = _iri(f"{ID}distribution/{quote(file_name)}#sha256")
    triples = [
        ox.Triple(dataset, _iri(DCT + "identifier"), ox.Literal(f"sha256:{content_sha256}")),
        ox.Triple(dataset, _iri(DCAT + "distribution"), distribution),
        ox.Triple(distribution, A, _iri(DCAT + "Distribution")),
        ox.Triple(distribution, _iri(DCT + "title"), ox.Literal(file_name)),
        ox.Triple(
            distribution,
            _iri(DCAT + "mediaType"),
            _iri(f"https://www.iana.org/assignments/media-types/{media_type}"),
        ),
        ox.Triple(distribution, _iri(DCAT + "byteSize"), _integer(len(file_bytes))),
        ox.Triple(distribution, _iri(DCT + "license"), _iri(LICENCE)),
        ox.Triple(distribution, _iri(VOID + "triples"), _integer(sum(chosen.values()))),
        ox.Triple(distribution, _iri(SPDX + "checksum"), checksum),
        ox.Triple(checksum, A, _iri(SPDX + "Checksum")),
        ox.Triple(checksum, _iri(SPDX + "algorithm"), _iri(SPDX + "checksumAlgorithm_sha256")),
        ox.Triple(
            checksum,
            _iri(SPDX + "checksumValue"),
            ox.Literal(hashlib.sha256(file_bytes).hexdigest(), datatype=_iri(XSD + "hexBinary")),
        ),
    ]
    return triples + [ox.Triple(distribution, _iri(DCT + "hasPart"), _iri(iri)) for iri in chosen]


def serialized(triples: list[ox.Triple], rdf_format: ox.RdfFormat = ox.RdfFormat.TURTLE) -> bytes:
    """The description in `rdf_format`, its statements sorted, so the same data gives the same bytes."""
    ordered = sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    if rdf_format.supports_datasets:
        quads = [ox.Quad(t.subject, t.predicate, t.object) for t in ordered]
        return ox.serialize(quads, format=rdf_format) or b""
    return ox.serialize(ordered, format=rdf_format, prefixes=DESCRIPTION_PREFIXES) or b""
