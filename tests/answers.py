"""Comparing answers from different stores by value, as the SPARQL spec compares terms.

Stores write the same value differently (Virtuoso and Oxigraph lower-case
language tags and canonicalise numbers) and label blank nodes as they please,
so answers are compared as multisets of value keys, and graphs up to blank
node renaming.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.term import Node

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


def _node(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Node:
    key = value_key(term)
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    return Literal("|".join(key))


def graph(result: QueryResult) -> Graph:
    """A graph answer with every literal replaced by its value key, ready for an isomorphism check."""
    answer = Graph()
    for triple in result.triples:
        answer.add((_node(triple.subject), _node(triple.predicate), _node(triple.object)))
    return answer


def same_answer(expected: QueryResult, actual: QueryResult) -> bool:
    if expected.kind != actual.kind:
        return False
    if expected.kind == "ask":
        return expected.boolean == actual.boolean
    if expected.kind == "graph":
        return isomorphic(graph(expected), graph(actual))
    return expected.variables == actual.variables and solutions(expected) == solutions(actual)
