"""pyshacl's repeated queries are parsed once, and answered as rdflib answers them."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef, plugin
from rdflib.plugin import get
from rdflib.plugins.sparql.processor import SPARQLProcessor
from rdflib.query import Processor

from kg.build.prepared import PreparedProcessor, prepared_queries, prepared_query


def test_a_query_asked_for_each_focus_node_is_parsed_once_and_answers_as_rdflib_does() -> None:
    graph = Graph()
    subjects = [URIRef(f"urn:s{number}") for number in range(5)]
    for number, subject in enumerate(subjects):
        graph.add((subject, URIRef("urn:p"), Literal(number)))
    text = "SELECT ?value WHERE { ?this <urn:p> ?value FILTER (?value > 1) }"
    plain = [sorted(graph.query(text, initBindings={"this": subject})) for subject in subjects]
    with prepared_queries():
        assert get("sparql", Processor) is PreparedProcessor
        parsed = prepared_query.cache_info().misses
        prepared = [sorted(graph.query(text, initBindings={"this": subject})) for subject in subjects]
        assert prepared_query.cache_info().misses == parsed + 1
    assert prepared == plain
    assert [len(rows) for rows in plain] == [0, 0, 1, 1, 1]
    assert get("sparql", Processor) is SPARQLProcessor  # rdflib's own again after the block


class _Custom(SPARQLProcessor):
    """A processor some other code registered before."""


def test_the_processor_registered_before_the_block_is_registered_again_after_it() -> None:
    plugin.register("sparql", Processor, __name__, _Custom.__qualname__)
    try:
        with prepared_queries():
            assert get("sparql", Processor) is PreparedProcessor
        assert get("sparql", Processor) is _Custom
    finally:
        plugin.register("sparql", Processor, "rdflib.plugins.sparql.processor", "SPARQLProcessor")
