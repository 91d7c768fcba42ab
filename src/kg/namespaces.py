"""The IRIs the project mints: one base, typed paths below it, one IRI per named graph."""

from rdflib import Namespace, URIRef

BASE = "https://w3id.org/opioid-kg/"
KG = Namespace(BASE + "ontology#")
ID = Namespace(BASE + "id/")
SHAPES = Namespace(BASE + "shapes#")

OA = Namespace("http://www.w3.org/ns/oa#")
QB = Namespace("http://purl.org/linked-data/cube#")
TIME = Namespace("http://www.w3.org/2006/time#")
ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("https://schema.org/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
# The schema of the units the ontology names (qudt:Unit); not among PREFIXES, as no output writes it.
QUDT = Namespace("http://qudt.org/schema/qudt/")

GRAPH_NAMES = ("ontology", "shapes", "data", "provenance", "background")


def graph_iri(name: str) -> URIRef:
    """The IRI of the named graph called `name` (one of GRAPH_NAMES)."""
    return URIRef(f"{BASE}graph/{name}")


# Prefixes bound in every Turtle, TriG and JSON-LD file the build writes.
PREFIXES: dict[str, str] = {
    "kg": str(KG),
    "kgsh": str(SHAPES),
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "sh": "http://www.w3.org/ns/shacl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "org": str(ORG),
    "foaf": "http://xmlns.com/foaf/0.1/",
    "schema": str(SCHEMA),
    "qb": str(QB),
    "sdmx-dimension": "http://purl.org/linked-data/sdmx/2009/dimension#",
    "sdmx-attribute": "http://purl.org/linked-data/sdmx/2009/attribute#",
    "time": str(TIME),
    "oa": str(OA),
    "unit": "http://qudt.org/vocab/unit/",
    "currency": "http://qudt.org/vocab/currency/",
    # The same prefixes the curated Turtle files use, so the outputs read like the inputs.
    **{
        prefix: f"{ID}{path}/"
        for prefix, path in {
            "substance": "substance",
            "country": "country",
            "state": "state",
            "region": "region",
            "organization": "organization",
            "person": "person",
            "group": "group",
            "period": "period",
            "instant": "instant",
            "obs": "observation",
            "change": "change",
            "dataset": "dataset",
            "flow": "flow",
            "site": "cultivation-site",
            "production": "production-site",
            "finding": "finding",
            "situation": "situation",
            "program": "program",
            "activity": "activity",
            "policy": "policy",
            "stance": "stance",
            "action": "legislative-action",
            "question": "question",
            "disagreement": "disagreement",
            "document": "document",
            "figure": "figure",
            "credit": "credit",
            "excerpt": "excerpt",
            "qualifier": "qualifier",
            "direction": "direction",
            "mode": "mode",
            "fstatus": "flow-status",
            "tstatus": "temporal-status",
            "pstatus": "policy-status",
            "stancetype": "stance-type",
            "control": "control-status",
            "lakind": "legislative-action-kind",
            "scheme": "scheme",
            "bound": "bound",
        }.items()
    },
}
_LONGEST_FIRST = sorted(PREFIXES.items(), key=lambda pair: -len(pair[1]))


def split_prefixed(iri: str) -> tuple[str, str] | None:
    """The prefix whose namespace starts `iri`, the longest, and the rest; None where none does."""
    return next(((prefix, iri[len(ns) :]) for prefix, ns in _LONGEST_FIRST if iri.startswith(ns)), None)


def prefixed(iri: str) -> str:
    """The IRI as the graph's files write it (`rdf:type`, `excerpt:hsp-share`): a name for a page to
    show where a thing has no label of its own; the IRI itself where no prefix fits."""
    split = split_prefixed(iri)
    if split is None or not split[1] or any(c in split[1] for c in "/#?"):
        return iri
    return f"{split[0]}:{split[1]}"
