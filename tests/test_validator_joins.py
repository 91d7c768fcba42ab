"""Each SHACL validator reads each of its patterns once, not once per focus node.

Oxigraph joins a triple pattern to the rows before it by looking it up once per
row, and evaluates a FILTER EXISTS once per row; a sub-SELECT and a MINUS it
joins by hash, reading each side once. A validator asks about every focus node
of a shape at once, so the per-row lookups made validation at 1 M triples twice
as slow as reading each pattern once (see docs/scale.md). These tests read the
validators' algebra (rdflib's) and name any pattern that would be looked up per
row.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from algebra import algebra_nodes
from rdflib.namespace import RDF
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

from kg.build.queries import shacl_queries

PATH = "<urn:test:p>"


def per_row_patterns(node: object, hashed: bool = False) -> Iterator[str]:
    """Each triple pattern of `node` that is neither in a sub-SELECT nor on the right of a MINUS, and
    each one a FILTER EXISTS reads: the patterns a validator would look up once per row."""
    if not isinstance(node, CompValue):
        if isinstance(node, list | tuple):
            for child in node:
                yield from per_row_patterns(child, hashed)
        return
    if node.name == "BGP" and not hashed and node.triples:
        yield " ".join(term.n3() for term in node.triples[0])
    if node.name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
        for inner in algebra_nodes(node.graph):
            if inner.name == "BGP" and inner.triples:
                yield "in an EXISTS: " + " ".join(term.n3() for term in inner.triples[0])
        return
    for key, child in node.items():
        sub_select = node.name == "Project" and key == "p"
        yield from per_row_patterns(child, hashed or sub_select or (node.name == "Minus" and key == "p2"))


def algebra(name: str) -> CompValue:
    """The validator's algebra below its own SELECT, its parameters bound to their defaults."""
    text = shacl_queries()[name].standalone({}, {"PATH": PATH})
    return prepareQuery(text).algebra.p.p  # the root's projection, and what it projects


@pytest.mark.parametrize("name", sorted(shacl_queries()))
def test_a_validator_reads_each_pattern_once(name: str) -> None:
    assert list(per_row_patterns(algebra(name))) == []


def test_a_pattern_looked_up_per_row_is_named() -> None:
    """The check finds the spellings it exists to catch: a triple pattern beside the focus nodes, and
    a class tested in a FILTER NOT EXISTS."""
    focus = "{ SELECT DISTINCT ?this WHERE { ?this a <urn:test:C> } }"
    beside = prepareQuery(f"SELECT ?this WHERE {{ {focus} ?this {PATH} ?value }}").algebra.p.p
    assert list(per_row_patterns(beside)) == [f"?this {PATH} ?value"]
    exists = prepareQuery(
        f"SELECT ?this WHERE {{ {focus} {{ SELECT ?this ?value WHERE {{ ?this {PATH} ?value }} }} "
        "FILTER NOT EXISTS { ?value a <urn:test:D> } }"
    ).algebra.p.p
    assert list(per_row_patterns(exists)) == [f"in an EXISTS: ?value {RDF.type.n3()} <urn:test:D>"]
