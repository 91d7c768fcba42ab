"""The evidence behind facts: each excerpt's clean quote, its report, and the agency the report cites.

Every answer page, network and chart view asks this of the store for the
facts it shows, so the reader sees who says each fact and in which words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from kg.evidence.quotes import clean_quote

Select = Callable[[str], Iterable[Mapping[str, str]]]

EVIDENCE = """
PREFIX kg: <https://w3id.org/opioid-kg/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?fact ?statement ?excerpt ?exact ?start ?document ?file ?title ?date ?agency ?agencyLabel ?agencyShort
WHERE {
  VALUES ?fact { %s }
  BIND (EXISTS { ?fact a ?class . VALUES ?class { %s } } AS ?statement)
  ?fact prov:wasDerivedFrom ?excerpt .
  ?excerpt a kg:Excerpt ; oa:hasSource ?document .
  OPTIONAL { ?excerpt oa:hasSelector/oa:exact ?exact }
  OPTIONAL { ?excerpt oa:hasSelector/oa:start ?start }
  OPTIONAL { ?document kg:textFile ?file }
  OPTIONAL { ?document dcterms:title ?title }
  OPTIONAL { ?document dcterms:modified ?date }
  OPTIONAL {
    ?fact prov:wasAttributedTo ?agency .
    OPTIONAL { ?agency skos:prefLabel ?agencyLabel }
    OPTIONAL { ?agency skos:altLabel ?agencyShort FILTER (STRLEN(?agencyShort) <= 8) }
  }
} ORDER BY ?fact ?start ?agencyLabel
"""
# The classes whose instances are statements of the report rather than things it names: their
# evidence is what an answer row needs. A row without one falls back to its first IRI.
FACT_CLASSES = frozenset(
    "https://w3id.org/opioid-kg/ontology#" + name
    for name in (
        "StatedChange RecordStatement TraffickingFlow FlowLeg PolicyQuestion Stance LegislativeAction "
        "Disagreement ProgramActivity CultivationSite ProductionSite SecuritySituation PolicyMeasure "
        "DataCredit"
    ).split()
) | {"http://purl.org/linked-data/cube#Observation"}


@dataclass(frozen=True)
class Evidence:
    """One excerpt behind one fact: the quote, where it is, and whom the report cites for the fact."""

    fact: str
    excerpt: str
    quote: str
    start: int | None
    document: str
    file: str | None
    title: str
    date: str
    agency: str | None
    agency_label: str | None
    statement: bool  # the fact is a statement of the report, not a thing it names

    @property
    def slug(self) -> str:
        return self.excerpt.rstrip("/").rsplit("/", 1)[-1]

    @property
    def document_slug(self) -> str:
        return self.document.rstrip("/").rsplit("/", 1)[-1]

    def context_path(self) -> str:
        """The source viewer's place for this excerpt, on the server that shows it."""
        return f"/source/{self.document_slug}#excerpt-{self.slug}"

    def citation(self, url: str) -> str:
        """Quote, report title, date and URL: what an analyst pastes into a memo."""
        said = f"{self.agency_label}, cited in " if self.agency_label else ""
        return f"“{self.quote}” — {said}{self.title} ({readable_date(self.date)}). {url}"

    def as_json(self, base_url: str = "") -> dict[str, object]:
        return {
            "fact": self.fact,
            "excerpt": self.excerpt,
            "quote": self.quote,
            "document": self.document,
            "title": self.title,
            "date": self.date,
            "agency": self.agency,
            "agencyLabel": self.agency_label,
            "context": base_url + self.context_path(),
            "citation": self.citation(base_url + self.context_path()),
        }


def readable_date(iso: str) -> str:
    """'2018-08-09' as '9 August 2018'; anything else as it is."""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {day:%B %Y}"


def evidence_for(select: Select, facts: Iterable[str]) -> dict[str, list[Evidence]]:
    """The evidence of each fact IRI, one entry per excerpt and attributed agency, in report order."""
    wanted = sorted({iri for iri in facts if iri and ">" not in iri and " " not in iri})
    found: dict[str, list[Evidence]] = {}
    if not wanted:
        return found
    seen: set[tuple[str, str, str | None]] = set()
    classes = " ".join(f"<{iri}>" for iri in sorted(FACT_CLASSES))
    for row in select(EVIDENCE % (" ".join(f"<{iri}>" for iri in wanted), classes)):
        key = (row["fact"], row["excerpt"], row.get("agency"))
        if key in seen:
            continue
        seen.add(key)
        label = row.get("agencyShort") or row.get("agencyLabel")
        found.setdefault(row["fact"], []).append(
            Evidence(
                fact=row["fact"],
                excerpt=row["excerpt"],
                quote=clean_quote(row.get("exact", "")),
                start=int(row["start"]) if "start" in row else None,
                document=row["document"],
                file=row.get("file"),
                title=row.get("title", row["document"]),
                date=row.get("date", ""),
                agency=row.get("agency"),
                agency_label=label,
                statement=row.get("statement") in ("true", "1"),
            )
        )
    return found
