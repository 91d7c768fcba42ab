"""Queries that differ only in the IRIs they name are read once: the reach of each text must be the
one a reading of that very text finds."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rdflib import Graph
from test_store_validation import in_store

from kg.build import reach
from kg.build.query_template import NUMBERED, template
from kg.build.reach import Reach
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


EX = "PREFIX ex: <urn:ex:> "


def outcome(analysis: Callable[[str], Reach], text: str) -> Reach | str:
    """The reach an analysis finds, or the error it raises."""
    try:
        return analysis(text)
    except Exception as error:
        return f"{type(error).__name__}: {error}"


# Texts that rdflib reads otherwise than the tokens say, or refuses where a template would not.
@pytest.mark.parametrize(
    "text",
    [
        # rdflib replaces \u and \U escapes before it parses: a comment or a string ends elsewhere
        "PREFIX schema: <urn:my-schema:> "
        "SELECT ?this WHERE { ?this schema:p ?x # n\\u000A . ?x schema:name ?y\n }",
        "SELECT ?this WHERE { ?this <urn:p> ?x # \\u000A . ?x <urn:x-opioid-kg:iri:0> ?y\n }",
        "SELECT ?this WHERE { ?this <urn:p> ?x # \\U0000000A . ?x <urn:x-opioid-kg:iri:0> ?y\n }",
        'SELECT ?this WHERE { ?this <urn:p> ?x . ?x <urn:q> "\\u0022 . ?x <urn:x-opioid-kg:iri:0> ?y #"\n }',
        "PREFIX foaf: <urn:f:> "
        'SELECT ?this WHERE { ?this foaf:p ?x . ?x foaf:q "\\u0022 . ?x foaf:knows ?y #"\n }',
        'SELECT ?this WHERE { ?this <urn:p> \\u0022<urn:a>\\u0022 . ?y <urn:q> "<urn:x-opioid-kg:iri:1>" . '
        "?y <urn:r> ?z }",
        EX + "SELECT ?this WHERE { ?this ex:p\\u0041 ?x }",
        "PREFIX urn: <urn:> SELECT ?this WHERE { ?this <urn:a\\u0062> ?x }",
        # a less-than glued to an IRI-like run: two comparisons to rdflib
        EX + "SELECT ?this WHERE { ?this ex:p ?x . ?x ex:q ?z FILTER(?x<ex:b&&ex:c>?z) }",
        EX + "SELECT ?this WHERE { ?this ex:p ?a FILTER(?a<=<urn:b>) FILTER(?a <= <urn:b>) FILTER(?a<?b) }",
        # names outside SPARQL's grammar
        EX + "SELECT ?this WHERE { ?this ex:p ex:.ex:s ex:q ?y }",
        "PREFIX _a: <urn:u:> SELECT ?this WHERE { ?this _a:p ?x }",
        EX + "SELECT ?this WHERE { ?this ex:a%zz ?x }",
        EX + "SELECT ?this WHERE { ?this ex:p ex:-1 }",
        EX + "SELECT ?this WHERE { ?this ex:p ?x FILTER(?x = ex:-1) }",
        # two prefixes of one namespace (rdflib keeps the last), a declaration after the query
        "PREFIX a: <urn:x#> PREFIX b: <urn:x#> SELECT ?this WHERE { ?this a:p ?x }",
        "PREFIX o: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> "
        "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> SELECT ?this WHERE { ?this o:type ?x }",
        "SELECT ?this WHERE { ?this <urn:p> ?x } PREFIX ex: <urn:ex:>",
        "SELECT ?this WHERE { ?this <urn:p> ?x } PREFIX",
        # a comment ends at a line feed to rdflib, not at a lone carriage return
        "PREFIX ex: <urn:ex:> #\rPREFIX foaf: <urn:f:>\nSELECT ?this WHERE { ?this foaf:knows ?x }",
        "PREFIX ex: <urn:ex:> #\rPREFIX ey: <urn:ey:>\nSELECT ?this WHERE { ?this ey:p ?x }",
        "PREFIX ex: <urn:ex:> #\rSELECT ?this WHERE { ?this ex:p ?x }\n",
        'PREFIX foaf: <urn:f:> SELECT ?this WHERE { ?this foaf:p ?x . # \r"""\n ?x foaf:knows ?y . # """\n }',
        'SELECT ?this WHERE { ?this <urn:a> ?x . # \r"""\n ?x <urn:x-opioid-kg:iri:0> ?y . # """\n }',
        # a keyword is compared in ASCII capitals: PRE\ufb01X is none
        "PRE\ufb01X ex: <urn:ex:> SELECT ?this WHERE { ?this ex:p ?x }",
        # a tab becomes spaces to the next column stop, in a string too
        'PREFIX ex: <urn:ex:> SELECT ?this WHERE { ?this ex:p "\t" .     ?y <urn:q> "\t" . ?y ex:r ?z }',
        'PREFIX ex: <urn:ex:>\nSELECT ?this WHERE {\n?this ex:p "\t" .\n?y <urn:q> "\t" .\n?y ex:r ?z }',
        # a syntax error is reported in the text's own terms
        EX + "SELECT ?this WHERE { ?this ex:p }",
        # and what a template serves as the text does
        EX + "SELECT ?this WHERE { ?this a ex:C ; ex:p ?x . ?o a ex:C . ?o ex:q ?z }",
        "PREFIX : <urn:e:> SELECT ?this WHERE { ?this :p ?x . ?x : ?y . ?y :p.ex ?z . }",
        "prefix ex: <urn:ex:> select ?this where { ?this ex:p ?x }",
        "PREFIX ex: <urn:a:> PREFIX EX: <urn:b:> SELECT ?this WHERE { ?this ex:p ?x . ?x EX:p ?y }",
        EX + 'SELECT ?this WHERE { ?this ex:p "01"^^ex:dt . ?y ex:q "1"^^ex:dt . ?y ex:r ?z }',
        EX + 'SELECT ?this WHERE { ?this ex:p "a"@EN . ?y ex:q "a"@en . ?y ex:r ?z }',
        EX + "SELECT ?this WHERE { VALUES (?p ?o) { (ex:a ex:o) (<urn:b> UNDEF) } ?this ?p ?o . ?o ex:c ?z }",
        EX + "SELECT ?this WHERE { ?this !(ex:a|^ex:b) ?x . ?x ^ex:c/ex:d* ?y . "
        "?y (ex:e|ex:f)+ ?z . ?z ex:g? ?w }",
        EX + "SELECT ?this WHERE { ?this ex:a%41 ?x . ?x <urn:ex:aA> ?y }",
        EX + "SELECT ?this WHERE { ?this ex:p ex:o.ex:q . ex:o.ex:q ex:r ?z }",
        EX + "SELECT ?this WHERE { GRAPH ex:g { ?this ex:p ex:g } . ex:g ex:q ?z }",
        EX + 'SELECT ?this WHERE { ?this ex:p "\\u0041" . ?y ex:q "A" . ?y ex:r ?z }',
        "SELECT ?this WHERE { ?this <urn:x-opioid-kg:iri:1> ?x . ?x <urn:x-opioid-kg:iri:0> ?y }",
    ],
)
def test_a_text_rdflib_might_read_otherwise_has_the_reach_or_the_error_of_its_own_reading(text: str) -> None:
    assert outcome(reach.analyse, text) == outcome(reach._analysed.__wrapped__, text)


@pytest.mark.parametrize(
    "text",
    [
        "BASE <urn:b/> SELECT ?this WHERE { ?this <p> ?x }",  # a relative IRI against a base
        "SELECT ?this WHERE { ?this <p> ?x }",  # relative without one
        "SELECT ?this WHERE { ?this un:p ?x }",  # an undeclared prefix
        "PREFIX ex: <urn:a:> PREFIX ex: <urn:b:> SELECT ?this WHERE { ?this ex:p ?x }",  # declared twice
        r"PREFIX ex: <urn:a:> SELECT ?this WHERE { ?this ex:p\-q ?x }",  # an escaped character
        "PREFIX ex: <rel/> SELECT ?this WHERE { ?this ex:p ?x }",  # a relative prefix
        "PREFIX a: <urn:x#> PREFIX b: <urn:x#> SELECT ?this WHERE { ?this a:p ?x }",  # one namespace twice
        "SELECT ?this WHERE { ?this <urn:p> ?x } PREFIX ex: <urn:ex:>",  # after the query
        r"SELECT ?this WHERE { ?this <urn:p> ?x # \u000A . ?x <urn:q> ?y }",  # a Unicode escape
        "SELECT ?this WHERE { ?this <urn:p> ?x FILTER(?x<urn:b&&urn:c>?x) }",  # glued, not plain
        "SELECT ?this WHERE { ?this <urn:p>?x }",  # a path's `?`, or a variable
        "PREFIX ex: <urn:ex:> SELECT ?this WHERE { ?this ex:-1 ?x }",  # outside the grammar
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
