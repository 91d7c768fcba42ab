"""Every OPTIONAL of a validation query costs what its own pattern costs, evaluated alone.

Oxigraph evaluates `OPTIONAL { P }` as a hash join: it lists every solution of P
on its own, without the bindings of the pattern before it, then joins. A P that
meets at a shared entity (a flow's destination and a production site's area,
both one country of graph/common/) pairs every resource of every source at that
entity: at 250 synthetic sources the production-site rule alone held 1.1 GB and
took 6.5 s; with P starting from the focus node, 0.02 s and nothing measurable.

So each OPTIONAL's pattern must be a tree walked forward from one variable
(subject to object), every variable reached that way, and no variable predicate
the pattern does not bind itself (it would match every triple of the store).
Such a pattern has at most as many solutions as the triples it starts from; one
that meets at an object from two sides has as many as the pairs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rdflib import Graph, URIRef, Variable
from rdflib.paths import Path as PropertyPath
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Node

from kg.build.shape_queries import Qualified, ValidationPlan, compile_shapes, shape_classes

Triple = tuple[Node, Node, Node]
# The algebra nodes whose solutions are those of the pattern `p` they wrap, filtered or extended.
_WRAPPERS = ("Filter", "Extend", "Graph", "Project", "Distinct", "ToMultiSet")


def alternatives(pattern: object) -> list[list[Triple]]:
    """The triple patterns of each way a pattern can match (one list per UNION branch)."""
    if not isinstance(pattern, CompValue):
        return [[]]
    if pattern.name == "Union":
        return alternatives(pattern.p1) + alternatives(pattern.p2)
    if pattern.name == "BGP":
        return [list(pattern.triples)]
    if pattern.name == "Join":
        return [a + b for a in alternatives(pattern.p1) for b in alternatives(pattern.p2)]
    if pattern.name == "LeftJoin":  # its own OPTIONAL is checked on its own
        return alternatives(pattern.p1)
    if pattern.name in _WRAPPERS:
        return alternatives(pattern.p)
    return [[]]


def optionals(node: object) -> Iterator[list[Triple]]:
    """The triple patterns of every OPTIONAL (each UNION branch of it apart), at any depth."""
    if isinstance(node, CompValue):
        if node.name == "LeftJoin":
            yield from (triples for triples in alternatives(node.p2) if triples)
        children: list[object] = list(node.values())
    elif isinstance(node, list | tuple):
        children = list(node)
    else:
        return
    for child in children:
        yield from optionals(child)


def walked_forward(triples: list[Triple]) -> bool:
    """Whether one variable reaches every other along the patterns, subject to object, and every
    variable predicate is the object of another pattern (else the pattern reads every triple)."""
    objects = {o for _, _, o in triples}
    if any(not isinstance(p, URIRef | PropertyPath) and p not in objects for _, p, _ in triples):
        return False
    variables = {term for triple in triples for term in triple if isinstance(term, Variable)}
    return any(_reached(root, triples) >= variables for root in variables)


def _reached(root: Variable, triples: list[Triple]) -> set[Node]:
    reached: set[Node] = {root}
    while True:
        more = {o for s, _, o in triples if s in reached and isinstance(o, Variable)} - reached
        if not more:
            return reached
        reached |= more


def test_a_pattern_meeting_at_an_object_from_two_sides_is_caught() -> None:
    met = prepareQuery(
        "SELECT ?this WHERE { ?this <urn:feeds> ?site ."
        " OPTIONAL { ?this <urn:destination> ?place . ?site <urn:area> ?place } }"
    )
    walked = prepareQuery(
        "SELECT ?this WHERE { ?this <urn:feeds> ?site ."
        " OPTIONAL { ?this <urn:feeds> ?site ; <urn:destination> ?place . ?site <urn:area> ?place } }"
    )
    every_triple = prepareQuery("SELECT ?this WHERE { ?this <urn:m> ?m OPTIONAL { ?this ?m ?v } }")
    assert [walked_forward(t) for t in optionals(met.algebra)] == [False]
    assert [walked_forward(t) for t in optionals(walked.algebra)] == [True]
    assert [walked_forward(t) for t in optionals(every_triple.algebra)] == [False]


def _texts(plan: ValidationPlan) -> list[str]:
    """Every query a plan asks: its own, or those of the answers it combines."""
    if isinstance(plan, str):
        return [plan]
    if isinstance(plan, Qualified):
        return [plan.focus, plan.values, *plan.failing]
    return [plan.focus, *(text for member in plan.members for inner in member for text in _texts(inner))]


@pytest.fixture(scope="module")
def shape_sparql(graphs: tuple[Graph, Graph]) -> list[tuple[str, str]]:
    shapes = graphs[1]
    queries = compile_shapes(shapes, {c: {c} for c in shape_classes(shapes)})
    return [
        (f"{query.source_shape} {query.component}", text) for query in queries for text in _texts(query.plan)
    ]


def test_every_optional_of_a_validation_query_is_walked_forward(shape_sparql: list[tuple[str, str]]) -> None:
    met = [
        f"{name}: OPTIONAL {{ {' . '.join(' '.join(term.n3() for term in t) for t in triples)} }}"
        for name, text in shape_sparql
        for triples in optionals(prepareQuery(text).algebra)
        if not walked_forward(triples)
    ]
    assert not met, "\n".join(met)
