"""The IRIs the project mints: one base, typed paths below it, one IRI per named graph."""

from rdflib import Namespace, URIRef

BASE = "https://w3id.org/opioid-kg/"
KG = Namespace(BASE + "ontology#")
ONTOLOGY_IRI = URIRef(BASE + "ontology")
ID = Namespace(BASE + "id/")
SHAPES = Namespace(BASE + "shapes#")

OA = Namespace("http://www.w3.org/ns/oa#")
QB = Namespace("http://purl.org/linked-data/cube#")
TIME = Namespace("http://www.w3.org/2006/time#")
ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("https://schema.org/")

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
    **{
        kind.replace("-", ""): f"{ID}{kind}/"
        for kind in (
            "substance",
            "country",
            "state",
            "region",
            "organization",
            "person",
            "group",
            "period",
            "instant",
            "observation",
            "change",
            "dataset",
            "flow",
            "cultivation-site",
            "situation",
            "program",
            "activity",
            "policy",
            "stance",
            "legislative-action",
            "question",
            "disagreement",
            "document",
            "figure",
            "credit",
            "excerpt",
            "qualifier",
            "direction",
            "mode",
            "flow-status",
            "temporal-status",
            "policy-status",
            "stance-type",
            "control-status",
            "legislative-action-kind",
            "scheme",
            "bound",
        )
    },
}
