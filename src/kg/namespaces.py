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
