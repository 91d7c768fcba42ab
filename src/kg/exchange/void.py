"""The VoID/DCAT description written beside every export, so a store's users can see what they loaded.

Its date is not the clock's: `dcterms:modified` is the newest date of the
source reports the dataset holds, and the build is identified by the SHA-256
of its canonical N-Quads (`dcterms:identifier "sha256:…"`, the hash of
`dist/opioid-kg.nq`). The same data therefore gives the same description,
byte for byte, on any day.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import pyoxigraph as ox

from kg.namespaces import BASE, ID, KG, graph_iri

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SD = "http://www.w3.org/ns/sparql-service-description#"
SPDX = "http://spdx.org/rdf/terms#"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
KG_REPORT = f"{KG}Report"
KG_TEXT_FILE = f"{KG}textFile"
XSD = "http://www.w3.org/2001/XMLSchema#"
DATASET = f"{ID}dataset/opioid-kg"
LICENCE = "https://spdx.org/licenses/MIT"
DESCRIPTION_PREFIXES = {
    "dcat": DCAT,
    "dcterms": DCT,
    "sd": SD,
    "spdx": SPDX,
    "void": VOID,
    "xsd": XSD,
    "document": f"{ID}document/",
}


def _iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_iri(XSD + "integer"))


def source_reports(graphs: dict[str, list[ox.Quad]]) -> list[tuple[str, str | None]]:
    """The reports whose text the dataset quotes (IRI, newest date), from the provenance graph."""
    by_subject: dict[str, dict[str, list[str]]] = {}
    for quad in graphs.get("provenance", []):
        values = by_subject.setdefault(quad.subject.value, {})
        values.setdefault(quad.predicate.value, []).append(quad.object.value)
    reports = []
    for subject, values in sorted(by_subject.items()):
        if KG_REPORT in values.get(RDF_TYPE, []) and KG_TEXT_FILE in values:
            dates = values.get(DCT + "modified", []) + values.get(DCT + "issued", [])
            reports.append((subject, max(dates) if dates else None))
    return reports


def describe(
    graphs: dict[str, list[ox.Quad]],
    *,
    chosen: dict[str, int],
    content_sha256: str,
    file_name: str,
    file_bytes: bytes,
    media_type: str,
) -> bytes:
    """Turtle describing the whole dataset, its named graphs, and the exported file as a distribution."""
    dataset = _iri(DATASET)
    distribution = _iri(f"{DATASET}/distribution/{quote(file_name)}")
    checksum = _iri(f"{DATASET}/distribution/{quote(file_name)}#sha256")
    a = _iri(RDF_TYPE)
    triples = [
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
                "Code and curated data: MIT. The source reports are works of the United States "
                "Government, not subject to copyright protection in the United States.",
                language="en",
            ),
        ),
        ox.Triple(dataset, _iri(DCT + "identifier"), ox.Literal(f"sha256:{content_sha256}")),
        ox.Triple(dataset, _iri(VOID + "uriSpace"), ox.Literal(BASE)),
        ox.Triple(dataset, _iri(VOID + "triples"), _integer(sum(len(g) for g in graphs.values()))),
        ox.Triple(dataset, _iri(DCAT + "distribution"), distribution),
    ]
    reports = source_reports(graphs)
    dates = [date for _, date in reports if date]
    if dates:
        triples.append(
            ox.Triple(dataset, _iri(DCT + "modified"), ox.Literal(max(dates), datatype=_iri(XSD + "date")))
        )
    triples += [ox.Triple(dataset, _iri(DCT + "source"), _iri(report)) for report, _ in reports]
    for name, graph in graphs.items():
        subset = _iri(str(graph_iri(name)))
        triples += [
            ox.Triple(dataset, _iri(VOID + "subset"), subset),
            ox.Triple(subset, a, _iri(VOID + "Dataset")),
            ox.Triple(subset, a, _iri(SD + "NamedGraph")),
            ox.Triple(subset, _iri(SD + "name"), subset),
            ox.Triple(subset, _iri(VOID + "triples"), _integer(len(graph))),
        ]
    triples += [
        ox.Triple(distribution, a, _iri(DCAT + "Distribution")),
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
        ox.Triple(checksum, a, _iri(SPDX + "Checksum")),
        ox.Triple(checksum, _iri(SPDX + "algorithm"), _iri(SPDX + "checksumAlgorithm_sha256")),
        ox.Triple(
            checksum,
            _iri(SPDX + "checksumValue"),
            ox.Literal(hashlib.sha256(file_bytes).hexdigest(), datatype=_iri(XSD + "hexBinary")),
        ),
    ]
    triples += [ox.Triple(distribution, _iri(DCT + "hasPart"), _iri(str(graph_iri(name)))) for name in chosen]
    triples.sort(key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=DESCRIPTION_PREFIXES) or b""
