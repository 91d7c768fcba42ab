"""Queries that differ only in the IRIs they name are read once: the reach of each text must be the
one a reading of that very text finds."""

from __future__ import annotations

import pytest
from rdflib import Graph
from test_store_validation import in_store

from kg.build import reach
from kg.build.query_template import NUMBERED, template
from kg.build.store_validation import validation_texts

PROLOGUE = "PREFIX ex: <urn:ex:> PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> "


def test_every_validation_query_has_the_reach_its_own_reading_finds(graphs: tuple[Graph, Graph]) -> None:
    data, shapes = graphs
    texts = list(dict.fromkeys(validation_texts(in_store(data), shapes)))
    shared = {t.text for t in map(template, texts) if t is not None}
    assert len(texts) > 100 and len(shared) < len(texts) / 2  # the compiled queries share templates
    for text in texts:
        assert reach.analyse(text) == reach._analysed.__wrapped__(text), text


def test_texts_that_differ_in_their_iris_alone_are_read_once() -> None:
    written = "SELECT ?this WHERE {{ ?this a {c} ; {p} ?x . ?x {q} {o} . ?y {q} {o} }}"
    first = template(PROLOGUE + written.format(c="ex:C", p="ex:p", q="<urn:q>", o="ex:o"))
    second = template(PROLOGUE + written.format(c="<urn:D>", p="ex:r", q="ex:s", o="<urn:t>"))
    assert first is not None and second is not None
    assert first.text == second.text
    assert first.iris == ("urn:ex:C", "urn:ex:p", "urn:q", "urn:ex:o")
    assert second.iris == ("urn:D", "urn:ex:r", "urn:ex:s", "urn:t")
    reach._analysed.cache_clear()
    for text in (
        PROLOGUE + written.format(c="ex:C", p="ex:p", q="<urn:q>", o="ex:o"),
        PROLOGUE + written.format(c="<urn:D>", p="ex:r", q="ex:s", o="<urn:t>"),
    ):
        assert reach.analyse(text) == reach._analysed.__wrapped__(text)
    assert reach._analysed.cache_info().misses == 1


@pytest.mark.parametrize(
    "text",
    [
        # a constant object shared by two patterns joins them: numbered alike, it still does
        "SELECT ?this WHERE { ?this ex:a ?d . ?d ex:b ex:k . ?v ex:c ex:k . ?v ex:e ?w }",
        # rdf:type, written as a prefixed name, is not walked through: it keeps its name
        "SELECT ?this WHERE { ?this rdf:type ?c . ?other rdf:type ?c ; ex:p ?v }",
        # a literal's datatype keeps its meaning (rdflib compares xsd:integer values, not spellings)
        'SELECT ?this WHERE { ?this ex:n "01"^^<http://www.w3.org/2001/XMLSchema#integer> . '
        '?x ex:m "1"^^<http://www.w3.org/2001/XMLSchema#integer> ; ex:k ?this }',
        # predicates of a block of values, a path, and an alternative
        "SELECT ?this WHERE { VALUES ?p { ex:z ex:a } ?this ?p ?x . ?x (ex:q|^ex:b) ?y . ?y ex:r+ ?z }",
        # a number that would sort otherwise once numbered
        "SELECT ?this WHERE { ?this <urn:zz> ?x . ?x <urn:aa>/<urn:mm> ?y }",
    ],
)
def test_the_reach_of_a_template_is_named_back_as_its_text_reads(text: str) -> None:
    assert template(PROLOGUE + text) is not None
    assert reach.analyse(PROLOGUE + text) == reach._analysed.__wrapped__(PROLOGUE + text)


@pytest.mark.parametrize(
    "text",
    [
        "BASE <urn:b/> SELECT ?this WHERE { ?this <p> ?x }",  # a relative IRI against a base
        "SELECT ?this WHERE { ?this <p> ?x }",  # relative without one
        "SELECT ?this WHERE { ?this un:p ?x }",  # an undeclared prefix
        "PREFIX ex: <urn:a:> PREFIX ex: <urn:b:> SELECT ?this WHERE { ?this ex:p ?x }",  # declared twice
        r"PREFIX ex: <urn:a:> SELECT ?this WHERE { ?this ex:p\-q ?x }",  # an escaped character
        "PREFIX ex: <rel/> SELECT ?this WHERE { ?this ex:p ?x }",  # a relative prefix
    ],
)
def test_a_text_whose_iris_cannot_be_told_plainly_is_read_as_it_is(text: str) -> None:
    assert template(text) is None


def test_the_kept_vocabularies_keep_their_names_and_numbers_name_nothing_else() -> None:
    found = template(
        PROLOGUE + "SELECT ?this WHERE { ?this rdf:type <urn:C> ; <http://www.w3.org/ns/shacl#p> ?x }"
    )
    assert found is not None
    assert "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>" in found.text
    assert "<http://www.w3.org/ns/shacl#p>" in found.text
    assert found.iris == ("urn:C",)
    assert found.named(NUMBERED + "0") == "urn:C"
    assert found.named(NUMBERED + "1") == NUMBERED + "1"  # no such number: the IRI as written
    assert found.named("urn:other") == "urn:other"
