"""Patterns naming a predicate the dataset does not hold, for both readings of a client's query in
front of a remote store: the guard's (rdflib's parse) and the engine's (Oxigraph's plan)."""

from __future__ import annotations

HELD = "http://www.w3.org/2004/02/skos/core#prefLabel"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PREDICATES = frozenset({HELD, RDF + "type", RDF + "first", RDF + "rest"})
NOT_HELD = "is not one this dataset holds"
# Each names <urn:p> as a predicate, in another place or spelling.
FOREIGN = [
    "?s <urn:p> ?o",
    "?s a ?c ; <urn:p> ?o",
    "?s a ?c , [ <urn:p> ?o ]",
    "[ a ?c ; <urn:p> [ a ?d ] ]",
    f"?s <{HELD}>|<urn:p> ?o",
    f"?s <{HELD}>/^<urn:p> ?o",
    "?s <urn:p>* ?o",
    "?s (<urn:p>)+ ?o",
    "?s !<urn:p> ?o",
    f"?s !(<{HELD}>|<urn:p>) ?o",
    "?s ?x ( [ <urn:p> 1 ] )",
    "GRAPH ?g { ?s <urn:p> ?o }",
    "OPTIONAL { ?s <urn:p> ?o }",
    "?s ?x ?y MINUS { ?s <urn:p> ?o }",
    "{ ?s ?x ?y } UNION { ?s <urn:p> ?o }",
    "FILTER EXISTS { ?s <urn:p> ?o }",
    "FILTER (!EXISTS { ?s <urn:p> ?o })",
    "BIND (EXISTS { ?s <urn:p> ?o } AS ?e)",
    "{ SELECT ?s { ?s <urn:p> ?o } }",
]


def forms(pattern: str) -> tuple[str, ...]:
    """The pattern in each form of query that matches it."""
    return (f"SELECT * {{ {pattern} }}", f"ASK {{ {pattern} }}", f"CONSTRUCT {{ ?s ?x ?y }} {{ {pattern} }}")


# Queries that name only held predicates, however written: variables, a CONSTRUCT template (which the
# store writes into its answer and never matches: mapping the graph onto another vocabulary is a common
# use), a held predicate spelt with an escape both parsers read alike, a collection's rdf:first/rest.
ADMITTED = (
    f"SELECT * {{ ?s <{HELD}> ?o ; a ?c ; ?p ?x }}",
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\nSELECT * { ?s skos:prefLabel|^a ?o }",
    "SELECT * { ?s !a ?o }",
    "SELECT * { ?s <http://www.w3.org/2004/02/skos/core#pref\\u004Cabel> ?o }",
    "SELECT * { ?s ?p (<urn:p> 2) }",
    f"CONSTRUCT {{ ?s <http://schema.org/name> ?o ; <urn:p> [ <urn:q> 1 ] }} WHERE {{ ?s <{HELD}> ?o }}",
    f"SELECT * {{ ?o !(<{HELD}>) ?s }}",
)
