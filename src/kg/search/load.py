"""The search index read from the store: names, definitions, excerpt quotes and what kind each thing is."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from kg.evidence.quotes import clean_quote
from kg.search.index import Entry, Field, SearchIndex, normalize
from kg.store.base import Store

Select = Callable[[str], Iterable[Mapping[str, str]]]

PREFIXES = """
PREFIX kg: <https://w3id.org/opioid-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX org: <http://www.w3.org/ns/org#>
"""
TEXTS = (
    PREFIXES
    + """
SELECT ?s ?field ?text WHERE {
  VALUES (?p ?field) { (skos:prefLabel "name") (rdfs:label "name") (dcterms:title "name") (foaf:name "name")
                       (skos:altLabel "alternative name") (skos:definition "definition")
                       (rdfs:comment "definition") (kg:questionText "text") }
  { ?s ?p ?text } UNION { ?s a kg:Excerpt ; oa:hasSelector/oa:exact ?text . BIND ("text" AS ?field) }
  FILTER (isIRI(?s) && isLiteral(?text) && (lang(?text) = "" || langMatches(lang(?text), "en")))
  FILTER NOT EXISTS { GRAPH <https://w3id.org/opioid-kg/graph/shapes> { ?s ?anyPredicate ?anyObject } }
}
"""
)
# What a thing is, in the words of the search box; the first kind that fits wins.
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("substance", ("kg:Substance",)),
    ("place", ("kg:Place",)),
    ("agency", ("kg:GovernmentAgency", "kg:IntergovernmentalOrganization", "kg:Legislature")),
    ("actor", ("kg:CriminalGroup", "kg:ActorGroup", "kg:Person", "kg:Company", "org:Organization")),
    ("programme", ("kg:Program", "kg:Forum", "kg:ProgramActivity")),
    ("statistic", ("qb:Observation", "kg:StatedChange", "kg:RecordStatement")),
    ("route", ("kg:TraffickingFlow",)),
    ("policy", ("kg:PolicyMeasure", "kg:PolicyQuestion", "kg:LegislativeAction", "kg:Disagreement")),
    (
        "fact",
        ("kg:CultivationSite", "kg:ProductionSite", "kg:SecuritySituation", "kg:Stance", "kg:DataCredit"),
    ),
    ("excerpt", ("kg:Excerpt",)),
    ("document", ("kg:Report", "kg:Figure")),
    ("period", ("kg:Period", "kg:CalendarYear", "kg:FiscalYear")),
    (
        "term",
        (
            "owl:Class",
            "rdf:Property",
            "owl:ObjectProperty",
            "owl:DatatypeProperty",
            "owl:AnnotationProperty",
            "skos:Concept",
            "skos:ConceptScheme",
        ),
    ),
)
TYPES = (
    PREFIXES
    + "SELECT ?s ?class WHERE { ?s a ?direct . ?direct rdfs:subClassOf* ?class . FILTER (isIRI(?s)) }"
)
NAMESPACES = {
    "kg:": "https://w3id.org/opioid-kg/ontology#",
    "qb:": "http://purl.org/linked-data/cube#",
    "org:": "http://www.w3.org/ns/org#",
    "owl:": "http://www.w3.org/2002/07/owl#",
    "rdf:": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "skos:": "http://www.w3.org/2004/02/skos/core#",
}


def _expand(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    return NAMESPACES[prefix + ":"] + local


def index_from_store(select: Select) -> SearchIndex:
    """Every named or quoted thing in the store, kinded by its classes (subclasses included)."""
    entries: dict[str, Entry] = {}
    for row in select(TEXTS):
        text = clean_quote(row["text"]) if row["field"] == "text" else row["text"].strip()
        words = normalize(text)
        if words:
            entry = entries.setdefault(row["s"], Entry(row["s"]))
            entry.fields.append(Field(row["field"], text, words, frozenset(words.split())))
    classes: dict[str, set[str]] = defaultdict(set)
    instances: dict[str, list[str]] = defaultdict(list)
    for row in select(TYPES):
        classes[row["s"]].add(row["class"])
        if row["s"] in entries and row["s"] not in instances[row["class"]]:
            instances[row["class"]].append(row["s"])
    order = [(kind, {_expand(c) for c in curies}) for kind, curies in KINDS]
    for iri, entry in entries.items():
        entry.kind = next((kind for kind, wanted in order if classes[iri] & wanted), "other")
    for members in instances.values():
        members.sort(key=lambda iri: entries[iri].label.casefold())
    return SearchIndex(entries.values(), instances)


def store_select(store: Store) -> Callable[[str], Iterable[Mapping[str, str]]]:
    """The store's SELECT answers as plain strings, the shape the index and evidence loaders read."""

    def select(sparql: str) -> Iterable[dict[str, str]]:
        solutions = store.query(sparql)
        names = [variable.value for variable in solutions.variables]  # type: ignore[union-attr]
        for row in solutions:  # type: ignore[union-attr]
            yield {name: row[name].value for name in names if row[name] is not None}

    return select


def store_exists(store: Store) -> Callable[[str], bool]:
    """Whether the store mentions an IRI, as subject, predicate or object."""

    def exists(iri: str) -> bool:
        if ">" in iri or " " in iri:
            return False
        ask = f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} UNION {{ ?s <{iri}> ?o }} }}"
        return bool(store.query(ask))

    return exists


def store_index(store: Store) -> Callable[[], SearchIndex]:
    """The store's search index, built the first time it is asked for."""
    built: list[SearchIndex] = []

    def index() -> SearchIndex:
        if not built:
            built.append(index_from_store(store_select(store)))
        return built[0]

    return index
