"""The search index read from the store: names, definitions, excerpt quotes and what kind each thing is."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from kg.evidence.facts import Select
from kg.evidence.quotes import clean_quote
from kg.namespaces import PREFIXES, QUDT
from kg.query.catalogue import CatalogueError
from kg.query.internal import bound, internal, standalone
from kg.search.index import Entry, Field, SearchIndex, distinct_words, normalize
from kg.store.base import Solutions, Store, value_rows

# What a thing is, in the words of the search box; the first kind that fits wins.
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("substance", ("kg:Substance",)),
    ("place", ("kg:Place",)),
    ("agency", ("kg:GovernmentAgency", "kg:IntergovernmentalOrganization", "kg:Legislature")),
    ("actor", ("kg:CriminalGroup", "kg:ActorGroup", "kg:Person", "kg:Company", "org:Organization")),
    ("programme", ("kg:Program", "kg:Forum", "kg:ProgramActivity")),
    ("statistic", ("qb:Observation", "kg:StatedChange", "kg:RecordStatement")),
    ("route", ("kg:TraffickingFlow",)),
    ("leg", ("kg:FlowLeg",)),
    ("policy", ("kg:PolicyMeasure", "kg:PolicyQuestion", "kg:LegislativeAction", "kg:Disagreement")),
    (
        "fact",
        (
            "kg:Finding",
            "kg:CultivationSite",
            "kg:ProductionSite",
            "kg:SecuritySituation",
            "kg:Stance",
            "kg:DataCredit",
        ),
    ),
    ("excerpt", ("kg:Excerpt",)),
    ("document", ("kg:Report", "kg:Figure")),
    (
        "period",
        (
            "kg:Period",
            "kg:CalendarYear",
            "kg:FiscalYear",
            "kg:VaguePeriod",
            "kg:UnspecifiedYear",
            "time:Instant",
        ),
    ),
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
            "qb:DimensionProperty",
            "qb:AttributeProperty",
            "qb:MeasureProperty",
            "qudt:Unit",
        ),
    ),
)
NAMESPACES = {f"{prefix}:": namespace for prefix, namespace in {**PREFIXES, "qudt": str(QUDT)}.items()}


def _expand(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    return NAMESPACES[prefix + ":"] + local


_KIND_CLASSES = [(kind, {_expand(c) for c in curies}) for kind, curies in KINDS]
OTHER = "other"  # the kind of a thing no kind fits (a data set, a table and its rows, a shape)
KIND_NAMES = (*(kind for kind, _ in KINDS), OTHER)  # every kind a hit may have, and a search may ask for


def kind_for(classes: set[str]) -> str:
    """The kind of a thing of these classes (IRIs, superclasses included): the first of KINDS that fits."""
    return next((kind for kind, wanted in _KIND_CLASSES if classes & wanted), OTHER)


def kinds_of(select: Select, iris: Iterable[str]) -> dict[str, str]:
    """The kind its classes give each of a few IRIs that has a class, read without the index: a
    question's form needs only its defaults' kinds, and at ten million triples the whole index takes
    longer to read than a query may run. The index gives the same kind to a thing with a name; it has
    no entry, so no kind, for a thing without one, and kinds a thing with a name but no class `other`."""
    wanted = sorted(set(iris))
    classes: dict[str, set[str]] = defaultdict(set)
    for row in select(standalone("classes-of", s=wanted)) if wanted else ():
        classes[row["s"]].add(row["class"])
    return {iri: kind_for(found) for iri, found in classes.items()}


def named_exactly(select: Select, spellings: Iterable[str]) -> list[str]:
    """The IRIs whose name or alternative name is one of `spellings`, written exactly so, plain or in
    English: the names the index reads, looked up in the store rather than read whole."""
    wanted = sorted(set(spellings))
    return sorted({row["s"] for row in select(standalone("named-exactly", spelt=wanted, english=wanted))})


def named_as(select: Select, text: str) -> dict[str, str]:
    """The things bearing `text` as a name, in that case or another, each with its kind: what a
    name names without the whole index (a parameter's value, a search whose index is refused)."""
    iris = named_exactly(select, case_spellings(text))
    kind_by_iri = kinds_of(select, iris)
    return {iri: kind_by_iri.get(iri, "other") for iri in iris}


def case_spellings(text: str) -> list[str]:
    """`text` as typed and as a name is commonly cased ("mexico": "Mexico", "MEXICO"), so that a name
    typed in another case is looked up in the store too; accents and punctuation are the index's."""
    text = text.strip()
    return list(dict.fromkeys([text, text.lower(), text[:1].upper() + text[1:], text.title(), text.upper()]))


def index_from_store(select: Select) -> SearchIndex:
    """Every named or quoted thing in the store, kinded by its classes (subclasses included)."""
    entries: dict[str, Entry] = {}
    for row in select(internal("search-texts").text):
        text = clean_quote(row["text"]) if row["field"] == "text" else row["text"].strip()
        words = normalize(text)
        if words:
            entry = entries.setdefault(row["s"], Entry(row["s"]))
            entry.fields.append(Field(row["field"], text, words, distinct_words(words)))
    classes: dict[str, set[str]] = defaultdict(set)
    members: dict[str, set[str]] = defaultdict(set)  # a set: a list's `in` made a library's index quadratic
    for row in select(internal("search-types").text):
        classes[row["s"]].add(row["class"])
        if (named := entries.get(row["s"])) is not None:
            members[row["class"]].add(named.iri)  # the entry's own string: one copy of each IRI held
    for iri, entry in entries.items():
        entry.kind = kind_for(classes[iri])
    instances = {
        class_iri: sorted(found, key=lambda iri: (entries[iri].label.casefold(), iri))
        for class_iri, found in members.items()
    }
    return SearchIndex(entries.values(), instances)


def store_select(store: Store) -> Select:
    """The store's SELECT answers as plain strings, the shape the index and evidence loaders read."""

    def select(sparql: str) -> Iterable[dict[str, str]]:
        solutions = store.query(sparql)
        if not isinstance(solutions, Solutions):
            raise TypeError("a select callable runs SELECT queries only")
        yield from value_rows(solutions)

    return select


def store_exists(store: Store) -> Callable[[str], bool]:
    """Whether the store mentions an IRI, as subject, predicate or object."""

    def exists(iri: str) -> bool:
        try:
            return bool(store.query(*bound("mentions", iri=iri)))
        except CatalogueError:
            return False  # not an IRI at all

    return exists


def store_index(store: Store) -> Callable[[], SearchIndex]:
    """The store's search index, built the first time it is asked for."""
    built: list[SearchIndex] = []

    def index() -> SearchIndex:
        if not built:
            built.append(index_from_store(store_select(store)))
        return built[0]

    return index
