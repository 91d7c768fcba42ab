"""Comparing answers from different stores by value, as the SPARQL spec compares terms.

Stores write the same value differently (Virtuoso and Oxigraph lower-case
language tags and canonicalise numbers) and label blank nodes as they please,
so answers are compared as multisets of value keys, and graphs up to blank
node renaming: by their canonical forms (RDFC-1.0, as pyoxigraph computes it), which are equal
exactly when the graphs are isomorphic.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox
from rdflib import Graph

from kg.query.run import QueryResult

XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {
    XSD + name
    for name in (
        "integer decimal double float long int short byte nonNegativeInteger positiveInteger "
        "nonPositiveInteger negativeInteger unsignedLong unsignedInt unsignedShort unsignedByte"
    ).split()
}

Key = tuple[str, ...]


def value_key(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> Key:
    """What a term means, not how it is spelt; blank nodes only say that they are blank."""
    if term is None:
        return ("unbound",)
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("blank",)
    if term.language:
        return ("text", term.value, term.language.lower())
    datatype = term.datatype.value
    if datatype in NUMERIC:
        try:
            return ("number", str(Decimal(term.value).normalize()))
        except InvalidOperation:
            pass
    if datatype == XSD + "boolean":
        return ("boolean", str(term.value.strip() in ("true", "1")))
    return ("literal", term.value, datatype)


def solutions(result: QueryResult) -> list[tuple[Key, ...]]:
    """The rows of a SELECT answer as a sorted multiset of value keys, in the projection's order."""
    return sorted(tuple(value_key(row.get(name)) for name in result.variables) for row in result.rows)


def _valued(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """The term with a literal replaced by its value key, so that graphs compare by value."""
    if isinstance(term, ox.Literal):
        return ox.Literal("|".join(value_key(term)))
    return term


def _canonical(triples: Iterable[ox.Triple] | Iterable[ox.Quad]) -> ox.Dataset:
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return dataset


def _valued_graph(result: QueryResult) -> ox.Dataset:
    """A graph answer with every literal replaced by its value key, in canonical form."""
    return _canonical(
        ox.Triple(_valued(t.subject), _valued(t.predicate), _valued(t.object)) for t in result.triples
    )


def same_graph(one: Graph, other: Graph) -> bool:
    """Whether two rdflib graphs are the same up to blank node renaming, terms compared as pyoxigraph
    reads them: language tags in lower case (RDF compares them so), `xsd:string` literals as plain."""
    return _canonical(_parsed(one)) == _canonical(_parsed(other))


def _parsed(graph: Graph) -> Iterable[ox.Quad]:
    return ox.parse(graph.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)


def same_answer(expected: QueryResult, actual: QueryResult) -> bool:
    if expected.kind != actual.kind:
        return False
    if expected.kind == "ask":
        return expected.boolean == actual.boolean
    if expected.kind == "graph":
        return _valued_graph(expected) == _valued_graph(actual)
    return expected.variables == actual.variables and solutions(expected) == solutions(actual)
