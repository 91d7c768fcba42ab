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

import re
from collections.abc import Iterator

import pytest
from algebra import WRAPPERS, algebra_nodes
from rdflib import Graph, URIRef, Variable
from rdflib.paths import Path as PropertyPath
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Node

from kg.build.shape_queries import compile_shapes, plan_texts, shape_classes
from kg.store.sparql import tokens

Triple = tuple[Node, Node, Node]
# The algebra nodes whose solutions are those of the pattern `p` they wrap, a sub-SELECT's too.
_WRAPPERS = (*WRAPPERS, "Project")
# An absolute IRI written whole: what the tokenizer calls an IRI but a comparison such as `?a<?b` is not.
_ABSOLUTE_IRI = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]*:[^<>\"{}|^`\\\s]*>")


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
    for found in algebra_nodes(node):
        if found.name == "LeftJoin":
            yield from (triples for triples in alternatives(found.p2) if triples)


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


def structure(text: str) -> tuple[str, ...]:
    """The query's tokens with every constant term (IRI, prefixed name, string) made alike: two texts of
    one structure differ in constants only, so their patterns have the same variables in the same places
    and `walked_forward`, which looks at variables alone, says the same of both."""
    return tuple(
        "<iri>"
        if token.kind == "iri" and _ABSOLUTE_IRI.fullmatch(token.text)
        else "name:"
        if token.kind == "pname"
        else '"string"'
        if token.kind == "string"
        else token.text
        for token in tokens(text)
    )


def test_texts_of_one_structure_differ_in_constants_only() -> None:
    one = structure('PREFIX kg: <urn:kg#> SELECT ?this WHERE { ?this kg:a <urn:x> FILTER(?this != "a") }')
    assert one == structure(
        'PREFIX ex: <urn:ex#> SELECT ?this WHERE { ?this ex:b <urn:y> FILTER(?this != "b") }'
    )
    assert one != structure(
        'PREFIX kg: <urn:kg#> SELECT ?this WHERE { ?that kg:a <urn:x> FILTER(?this != "a") }'
    )
    assert one != structure('PREFIX kg: <urn:kg#> SELECT ?this WHERE { ?this kg:a ?x FILTER(?this != "a") }')
    # a comparison the tokenizer reads as an IRI keeps its own text
    assert structure("ASK { FILTER(?a<?b)&&(?c>?d) }") != structure("ASK { FILTER(<urn:x>) }")


@pytest.fixture(scope="module")
def shape_sparql(graphs: tuple[Graph, Graph]) -> dict[tuple[str, ...], list[tuple[str, str]]]:
    """Every query the shapes compile to, named by shape and component, grouped by structure."""
    shapes = graphs[1]
    grouped: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for query in compile_shapes(shapes, {c: {c} for c in shape_classes(shapes)}):
        for text in plan_texts(query.plan):
            grouped.setdefault(structure(text), []).append((f"{query.source_shape} {query.component}", text))
    return grouped


def test_every_optional_of_a_validation_query_is_walked_forward(
    shape_sparql: dict[tuple[str, ...], list[tuple[str, str]]],
) -> None:
    """Read with rdflib's parser (slow: about 35 ms a query), one text of each structure stands for all."""
    met = [
        f"{', '.join(name for name, _ in named)}: OPTIONAL {{ {written(triples)} }}"
        for named in shape_sparql.values()
        for triples in optionals(prepareQuery(named[0][1]).algebra)
        if not walked_forward(triples)
    ]
    assert not met, "\n".join(met)


def written(triples: list[Triple]) -> str:
    return " . ".join(" ".join(term.n3() for term in triple) for triple in triples)
