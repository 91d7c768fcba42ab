"""Checks that the graph uses only terms the ontology declares.

A typo in a predicate (`kg:refArae`) is valid RDF and passes every shape that
does not mention it, so undeclared terms are an error of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kg.build.locate import SubjectIndex

# Terms of the RDF, RDFS and OWL languages themselves, which need no declaration.
_BUILT_IN = {RDF.type, RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy}

_DECLARATION_TYPES = {
    OWL.Class,
    RDFS.Class,
    OWL.ObjectProperty,
    OWL.DatatypeProperty,
    OWL.AnnotationProperty,
    RDF.Property,
}


@dataclass(frozen=True)
class UndeclaredTerm:
    """A class or predicate used in the graph that ontology/ does not declare."""

    term: URIRef
    role: str  # "class" or "predicate"
    example_subject: URIRef


def declared_terms(ontology: Graph) -> set[URIRef]:
    """Every class and property the ontology declares."""
    return {
        URIRef(subject) for subject, kind in ontology.subject_objects(RDF.type) if kind in _DECLARATION_TYPES
    }


def undeclared_terms(data: Graph, ontology: Graph) -> list[UndeclaredTerm]:
    """Classes and predicates of `data` that the ontology does not declare, one example each."""
    declared = declared_terms(ontology) | _BUILT_IN
    found: dict[URIRef, UndeclaredTerm] = {}
    for subject, predicate, obj in data:
        if predicate not in declared and predicate not in found:
            found[URIRef(predicate)] = UndeclaredTerm(URIRef(predicate), "predicate", subject)
        if predicate == RDF.type and obj not in declared and obj not in found:
            found[URIRef(obj)] = UndeclaredTerm(URIRef(obj), "class", subject)
    return sorted(found.values(), key=lambda term: str(term.term))


def describe_undeclared(unknown: list[UndeclaredTerm], index: SubjectIndex) -> str:
    """One line per undeclared term, starting with the file and line where it is used."""
    lines = [
        f"{index.find_use(str(t.term)) or index.find(str(t.example_subject)) or 'graph/'}: "
        f"undeclared {t.role} {t.term} "
        f"(used on {t.example_subject})"
        for t in unknown
    ]
    return "terms declared neither in ontology/ nor in a reused vocabulary:\n" + "\n".join(lines)
