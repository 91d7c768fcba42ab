"""Checks that the graph uses only terms the ontology declares.

A typo in a predicate (`kg:refArae`) is valid RDF and passes every shape that
does not mention it, so undeclared terms are an error of their own. The check
asks the store for the distinct predicates and classes (answered from its
indexes), so it costs the number of terms, not of triples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import URIRef
from rdflib.namespace import RDF, RDFS

from kg.build.locate import SubjectIndex
from kg.build.queries import sparql

# Terms of the RDF, RDFS and OWL languages themselves, which need no declaration.
_BUILT_IN = {RDF.type, RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy}


@dataclass(frozen=True)
class UndeclaredTerm:
    """A class or predicate used in the graph that ontology/ does not declare."""

    term: URIRef
    role: str  # "class" or "predicate"
    example_subject: URIRef


def declared_terms(store: ox.Store, ontology: ox.NamedNode) -> set[URIRef]:
    """Every class and property the ontology graph declares."""
    answer = store.query(sparql("declared-terms", graph=ontology.value))
    assert isinstance(answer, ox.QuerySolutions)  # a SELECT
    return {URIRef(row["term"].value) for row in answer}


def undeclared_terms(
    store: ox.Store, graphs: Sequence[ox.NamedNode], ontology: ox.NamedNode
) -> list[UndeclaredTerm]:
    """Classes and predicates of `graphs` that the ontology does not declare, one example each."""
    declared = declared_terms(store, ontology) | _BUILT_IN
    found: list[UndeclaredTerm] = []
    for role, used_query, example_query in (
        ("predicate", "predicates-used", "predicate-example"),
        ("class", "classes-used", "class-example"),
    ):
        used = store.query(sparql(used_query), default_graph=list(graphs))
        assert isinstance(used, ox.QuerySolutions)  # a SELECT
        for row in used:
            term = URIRef(row["term"].value)
            if term not in declared:
                example = store.query(sparql(example_query, term=term), default_graph=list(graphs))
                assert isinstance(example, ox.QuerySolutions)  # a SELECT
                found.append(UndeclaredTerm(term, role, URIRef(next(iter(example))["s"].value)))
    return sorted({t.term: t for t in found}.values(), key=lambda term: str(term.term))


def describe_undeclared(unknown: list[UndeclaredTerm], index: SubjectIndex) -> str:
    """One line per undeclared term, starting with the file and line where it is used."""
    lines = [
        f"{index.find_use(str(t.term)) or index.find(str(t.example_subject)) or 'graph/'}: "
        f"undeclared {t.role} {t.term} "
        f"(used on {t.example_subject})"
        for t in unknown
    ]
    return "terms declared neither in ontology/ nor in a reused vocabulary:\n" + "\n".join(lines)
