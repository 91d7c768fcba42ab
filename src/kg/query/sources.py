"""The sources of the dataset: each report with a text file, and how much of the graph rests on it."""

from __future__ import annotations

from dataclasses import dataclass

from kg.store.base import Store

SOURCES = """
PREFIX kg: <https://w3id.org/opioid-kg/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?document ?file (SAMPLE(?name) AS ?title) (SAMPLE(?date) AS ?modified)
       (COUNT(DISTINCT ?excerpt) AS ?excerpts) (COUNT(DISTINCT ?fact) AS ?facts)
WHERE {
    ?document kg:textFile ?file .
    OPTIONAL { ?document dcterms:title ?name }
    OPTIONAL { ?document dcterms:modified ?date }
    OPTIONAL { ?excerpt oa:hasSource ?document OPTIONAL { ?fact prov:wasDerivedFrom ?excerpt } }
}
GROUP BY ?document ?file
ORDER BY ?file
"""


@dataclass(frozen=True)
class Source:
    """One source report: where its text is, and the excerpts and facts that cite it."""

    document: str
    text_file: str
    title: str
    modified: str
    excerpts: int
    facts: int


def sources(store: Store) -> list[Source]:
    """Every report of the store that has a text file, in the order of its file name."""
    return [
        Source(
            document=row["document"].value,
            text_file=row["file"].value,
            title=row["title"].value if row["title"] is not None else "",
            modified=row["modified"].value if row["modified"] is not None else "",
            excerpts=int(row["excerpts"].value),
            facts=int(row["facts"].value),
        )
        for row in store.query(SOURCES)
    ]
