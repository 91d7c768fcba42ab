"""The build's validation on the store reports exactly what pyshacl, the reference engine, reports.

Both engines validate the curated graph and the graph broken by every negative
case of `test_shapes` at once; the sets of (focus node, shape, path, value,
message) must be equal. Literal values are compared as the store spells them
(it writes `25.0` as `25`), the only difference the store makes.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import Graph
from shacl_cases import CASES, broken_graph

from kg.build.shape_queries import Unsupported, compile_shapes
from kg.build.store_validation import validate_store
from kg.build.validation import Violation, validate

GRAPH = ox.NamedNode("urn:test:data")


def in_store(graph: Graph) -> ox.Store:
    store = ox.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES, to_graph=GRAPH)
    return store


def store_spelling(n3: str | None) -> str | None:
    """A term's N-Triples form as the store writes it back."""
    if n3 is None:
        return None
    store = ox.Store()
    store.load(f"<urn:s> <urn:p> {n3} .".encode(), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
    return str(next(iter(store)).object)


def results(violations: list[Violation]) -> set[tuple[str, str, str | None, str | None, str]]:
    def key(v: Violation) -> tuple[str, str, str | None, str | None, str]:
        return (v.focus_node, v.shape, v.path, store_spelling(v.value), v.message)

    return {key(v) for v in violations}


@pytest.fixture(scope="module")
def broken(graphs: tuple[Graph, Graph]) -> Graph:
    return broken_graph(graphs[0])


def test_the_shapes_compile_without_falling_back(graphs: tuple[Graph, Graph]) -> None:
    _, shapes = graphs
    assert len(compile_shapes(shapes, {})) > 100


def test_curated_graph_same_verdict(graphs: tuple[Graph, Graph]) -> None:
    data, shapes = graphs
    fast = validate_store(in_store(data), [GRAPH], shapes)
    assert fast.conforms, fast.as_text()
    assert results(fast.violations) == results(validate(data, shapes).violations) == set()


def test_every_negative_case_same_results(
    broken: Graph, graphs: tuple[Graph, Graph], broken_reference: tuple[bool, list[Violation]]
) -> None:
    _, shapes = graphs
    fast = validate_store(in_store(broken), [GRAPH], shapes)
    conforms, reference = broken_reference
    assert not fast.conforms and not conforms
    assert len(fast.violations) >= len(CASES)
    assert results(fast.violations) == results(reference)


def test_a_feature_it_cannot_compile_is_named() -> None:
    shapes = Graph().parse(
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:S> a sh:NodeShape ; sh:targetClass <urn:C> ;
            sh:property [ sh:path <urn:p> ; sh:equals <urn:q> ] .
        """,
        format="turtle",
    )
    with pytest.raises(Unsupported, match="equals"):
        compile_shapes(shapes, {})


def test_shapes_it_cannot_compile_are_validated_by_pyshacl() -> None:
    shapes = Graph().parse(
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:S> a sh:NodeShape ; sh:targetClass <urn:C> ;
            sh:property [ sh:path <urn:p> ; sh:equals <urn:q> ; sh:message "p equals q" ] .
        """,
        format="turtle",
    )
    store = ox.Store()
    store.load(b"<urn:x> a <urn:C> ; <urn:p> 1 ; <urn:q> 2 .", format=ox.RdfFormat.TURTLE, to_graph=GRAPH)
    report = validate_store(store, [GRAPH], shapes)
    assert [(v.focus_node, v.message) for v in report.violations] == [("urn:x", "p equals q")] * 2
