"""The build's validation on the store reports exactly what pyshacl, the reference engine, reports.

Both engines validate the curated graph, the graph broken by every negative
case of `test_shapes` at once, and the graph broken by each case alone; the
sets of (focus node, shape, path, value, message) must be equal. Literal values
are compared as the store spells them (it writes `25.0` as `25`), the only
difference the store makes.
"""

from __future__ import annotations

from collections import Counter

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal
from rdflib.namespace import SH
from rdflib.term import Node
from shacl_cases import CASES, broken_graph, case_violations

from kg.build.shape_queries import InvalidShape, Qualified, Unsupported, compile_shapes, plan_texts
from kg.build.store_validation import _Answers, validate_store
from kg.build.validation import Violation, validate

GRAPH = ox.NamedNode("urn:test:data")


def in_store(graph: Graph) -> ox.Store:
    store = ox.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES, to_graph=GRAPH)
    return store


def store_spelling(n3: str | None) -> str | None:
    """A term's N-Triples form as the store writes it back (from rdflib's spelling, which writes a
    literal with a line break in Turtle's long quotes)."""
    if n3 is None:
        return None
    store = ox.Store()
    store.load(f"<urn:s> <urn:p> {n3} .".encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.DefaultGraph())
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


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_each_negative_case_alone_same_results(
    graphs: tuple[Graph, Graph], case: tuple[str, str, str, str, str]
) -> None:
    """Each case alone too, not only all of them at once: a violation one case's change makes could
    be hidden, or made, by another's in the graph broken every way together."""
    data, shapes = graphs
    _, update, focus, shape, message = case
    broken = broken_graph(data, [update])
    fast = validate_store(in_store(broken), [GRAPH], shapes)
    reference = validate(broken, shapes)
    assert case_violations(reference.violations, focus, shape, message)
    assert results(fast.violations) == results(reference.violations)


def test_terms_compared_as_terms_give_one_verdict(graphs: tuple[Graph, Graph]) -> None:
    """A rule that tells two terms apart with `!=` gave pyshacl a violation and the store none where
    both were literals of a datatype neither engine knows (rdflib: unequal; Oxigraph: an error, so no
    row): the rules compare terms with `sameTerm`."""
    _, shapes = graphs
    data = Graph().parse(
        data="""
        @prefix qb: <http://purl.org/linked-data/cube#> .
        @prefix dcterms: <http://purl.org/dc/terms/> .
        @prefix prov: <http://www.w3.org/ns/prov#> .
        @prefix oa: <http://www.w3.org/ns/oa#> .
        @prefix kg: <https://w3id.org/opioid-kg/ontology#> .
        <urn:x:dataset> a qb:DataSet ; dcterms:source "1"^^<urn:x:t> .
        <urn:x:observation> a qb:Observation ; qb:dataSet <urn:x:dataset> ;
            prov:wasDerivedFrom <urn:x:excerpt> ; qb:measureType <urn:x:measure> ; kg:unit "u"^^<urn:x:t> .
        <urn:x:measure> kg:measureUnit "v"^^<urn:x:u> .
        <urn:x:excerpt> oa:hasSource "2"^^<urn:x:u> .
        <urn:x:change> a kg:StatedChange ; kg:fromObservation <urn:x:observation> ;
            prov:wasDerivedFrom <urn:x:excerpt> .
        """,
        format="turtle",
    )
    fast, reference = validate_store(in_store(data), [GRAPH], shapes), validate(data, shapes)
    shapes_found = {violation.shape.rsplit("#", 1)[-1] for violation in reference.violations}
    assert {"ObservationShape", "StatedChangeShape"} <= shapes_found
    assert results(fast.violations) == results(reference.violations)


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


# Shapes the project's own do not use, each compiled by another path: a qualified value shape counted
# from its inner shape's validators, node-level sh:and and sh:not, an sh:or whose second member is
# asked about the failing nodes by name, a focus node targeted both by class and as a subject, and a
# node targeted by sh:targetObjectsOf that is a literal.
COMBINED_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix e: <urn:e:> .
e:Qualified a sh:NodeShape ; sh:targetClass e:C ;
    sh:property [ sh:path e:p ; sh:qualifiedValueShape [ sh:datatype xsd:integer ; sh:minInclusive 2 ] ;
                  sh:qualifiedMinCount 1 ; sh:qualifiedMaxCount 1 ; sh:message "one integer from 2" ] .
e:And a sh:NodeShape ; sh:targetClass e:C ; sh:targetSubjectsOf e:q ;
    sh:and ( [ sh:path e:p ; sh:minCount 1 ] [ sh:path e:q ; sh:maxCount 1 ] ) ; sh:message "and" .
e:Not a sh:NodeShape ; sh:targetClass e:C ;
    sh:not [ sh:path e:q ; sh:minCount 1 ] ; sh:message "not" .
e:Or a sh:NodeShape ; sh:targetClass e:C ;
    sh:or ( [ sh:path e:p ; sh:minCount 2 ] [ sh:path e:q ; sh:nodeKind sh:IRI ; sh:minCount 1 ] ) ;
    sh:message "or" .
e:Objects a sh:NodeShape ; sh:targetObjectsOf e:p ;
    sh:property [ sh:path [ sh:inversePath e:p ] ; sh:class e:C ; sh:message "objects" ] .
"""
COMBINED_DATA = """
@prefix e: <urn:e:> .
e:a a e:C ; e:p 1, 2, 3 .
e:b a e:C ; e:p 2 ; e:q e:x .
e:c a e:C ; e:q "x", "y" .
e:d e:q e:x .
e:f a e:C ; e:p 5, 6 ; e:q e:x .
e:g e:p "lit" .
"""


def test_shapes_the_project_does_not_use_same_verdict() -> None:
    shapes = Graph().parse(data=COMBINED_SHAPES, format="turtle")
    data = Graph().parse(data=COMBINED_DATA, format="turtle")
    assert all(query.plan for query in compile_shapes(shapes, {}))
    fast = validate_store(in_store(data), [GRAPH], shapes)
    reference = validate(data, shapes)
    assert results(fast.violations) == results(reference.violations)
    assert {v.message for v in fast.violations} == {"one integer from 2", "and", "not", "or", "objects"}


TAGGED_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix e: <urn:e:> .
e:Named a sh:NodeShape ; sh:targetClass e:C ;
    sh:property [ sh:path e:name ; sh:minCount 1 ; sh:message "A thing has a name."@en ] ;
    sh:property [ sh:path e:code ; sh:maxCount 1 ; sh:message "One code at most." ] .
"""


def test_a_result_message_keeps_its_language_as_the_reference_engine_does() -> None:
    """The store's report wrote `"A person has exactly one foaf:name."` without its `@en`; pyshacl's
    and Jena's copy the shape's `sh:message` as it is."""
    shapes = Graph().parse(data=TAGGED_SHAPES, format="turtle")
    data = Graph().parse(data="<urn:e:x> a <urn:e:C> ; <urn:e:code> 1, 2 .", format="turtle")
    fast = validate_store(in_store(data), [GRAPH], shapes)
    reference = validate(data, shapes)

    def messages(report: Graph) -> set[Node]:
        return set(report.objects(None, SH.resultMessage))

    assert messages(fast.report_graph) == messages(reference.report_graph)
    assert messages(fast.report_graph) == {
        Literal("A thing has a name.", lang="en"),
        Literal("One code at most."),
    }


# Both bounds of a count on one property shape, plain and qualified by a class; the second pair is
# contradictory (3 at least, 1 at most), so that a node with two values breaks both at once.
BOUNDED_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix e: <urn:e:> .
e:Bounded a sh:NodeShape ; sh:targetClass e:C ;
    sh:property [ sh:path e:p ; sh:minCount 1 ; sh:maxCount 2 ; sh:message "one or two" ] ;
    sh:property [ sh:path e:q ; sh:minCount 3 ; sh:maxCount 1 ; sh:message "never" ] ;
    sh:property [ sh:path e:p ; sh:qualifiedValueShape [ sh:class e:D ] ;
                  sh:qualifiedMinCount 1 ; sh:qualifiedMaxCount 1 ; sh:message "one D" ] .
"""
BOUNDED_DATA = """
@prefix e: <urn:e:> .
e:none a e:C .
e:one a e:C ; e:p e:d1 ; e:q 1 .
e:two a e:C ; e:p e:d1, e:d2 ; e:q 1, 2 .
e:three a e:C ; e:p e:x, e:y, e:z .
e:d1 a e:D . e:d2 a e:D .
"""


def test_both_bounds_of_a_count_are_one_query_with_each_bound_reported() -> None:
    """sh:minCount and sh:maxCount of one property shape (and the qualified pair of one class) are
    answered by one query that counts the values once; each constraint still reports the nodes
    outside its own bound, as often as pyshacl does (a node may break both)."""
    shapes = Graph().parse(data=BOUNDED_SHAPES, format="turtle")
    data = Graph().parse(data=BOUNDED_DATA, format="turtle")
    queries = compile_shapes(shapes, {})
    texts = {}
    for query in queries:
        texts.setdefault((query.source_shape, query.path), set()).update(plan_texts(query.plan))
    assert len(queries) == 6
    assert sorted(len(asked) for asked in texts.values()) == [1, 1, 1]
    fast = validate_store(in_store(data), [GRAPH], shapes)
    reference = validate(data, shapes)

    def counted(violations: list[Violation]) -> Counter[tuple[str, str | None, str]]:
        return Counter((v.focus_node, v.path, v.message) for v in violations)

    assert counted(fast.violations) == counted(reference.violations)
    assert counted(fast.violations)[("urn:e:two", "urn:e:q", "never")] == 2  # below 3 and above 1
    assert counted(fast.violations)[("urn:e:three", "urn:e:p", "one or two")] == 1
    assert counted(fast.violations)[("urn:e:none", "urn:e:p", "one D")] == 1
    assert counted(fast.violations)[("urn:e:two", "urn:e:p", "one D")] == 1


def test_a_rule_that_projects_a_count_reports_the_focus_node_as_its_value() -> None:
    """A SPARQL-based constraint's own `?count` is not a value: only a `Counted` plan reads that
    column, so the rule's result names the focus node as its value, as pyshacl's does."""
    shapes = Graph().parse(
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:e:S> a sh:NodeShape ; sh:targetClass <urn:e:C> ; sh:sparql [ sh:message "too many" ;
            sh:select '''SELECT $this (COUNT(?v) AS ?count) WHERE { $this <urn:e:p> ?v }
                GROUP BY $this HAVING (COUNT(?v) > 1)''' ] ;
            sh:sparql [ sh:message "each" ;
                sh:select "SELECT $this ?count WHERE { $this <urn:e:p> ?count }" ] .
        """,
        format="turtle",
    )
    data = Graph().parse(data="<urn:e:n> a <urn:e:C> ; <urn:e:p> <urn:e:a>, <urn:e:b> .", format="turtle")
    fast = validate_store(in_store(data), [GRAPH], shapes)
    focus = "<urn:e:n>"
    assert {(v.value, v.message) for v in fast.violations} == {(focus, "too many"), (focus, "each")}
    assert results(fast.violations) == results(validate(data, shapes).violations)


def test_a_bound_that_is_not_an_integer_is_refused_by_both_engines() -> None:
    """A bound that is no integer is refused, naming the shape, before either engine validates: the
    store's compiler raised Python's ValueError, and pyshacl its own error."""
    shapes = Graph().parse(
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:e:S> a sh:NodeShape ; sh:targetClass <urn:e:C> ;
            sh:property [ sh:path <urn:e:p> ; sh:minCount "x" ; sh:maxCount 1 ; sh:equals <urn:e:q> ] .
        """,
        format="turtle",
    )
    data = Graph().parse(data="<urn:e:n> a <urn:e:C> .", format="turtle")
    refused = 'urn:e:S: sh:minCount "x", where SHACL needs a non-negative integer'
    with pytest.raises(InvalidShape, match=refused):
        validate(data, shapes)
    with pytest.raises(InvalidShape, match=refused):
        validate_store(in_store(data), [GRAPH], shapes)


def test_an_answer_is_kept_until_the_last_plan_that_asks_it_is_done() -> None:
    """A shape's focus query serves several of its constraints: asked once, kept while a plan still
    wants it, then forgotten, so validation holds the answers still wanted rather than all of them."""
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:a"), ox.NamedNode("urn:p"), ox.NamedNode("urn:b"), GRAPH))
    focus = "SELECT ?this WHERE { ?this <urn:p> ?any }"
    values = "SELECT ?this ?value WHERE { ?this <urn:p> ?value }"
    failing = "SELECT ?this ?value WHERE { ?this <urn:none> ?value }"
    qualified = Qualified(focus=focus, values=values, failing=(failing,), minimum=2)
    answers = _Answers(store, None, [focus, qualified])
    assert answers.pairs(focus) == {(ox.NamedNode("urn:a"), None)}
    answers.done(focus)
    assert set(answers.asked) == {focus}  # the qualified count still wants it
    assert answers.evaluate(qualified) == {(ox.NamedNode("urn:a"), None)}  # one value, two wanted
    answers.done(qualified)
    assert answers.asked == {}
    unplanned = "SELECT ?this WHERE { ?this ?p <urn:b> }"  # a query of fewer nodes, asked once
    assert answers.pairs(unplanned) == {(ox.NamedNode("urn:a"), None)}
    assert answers.asked == {}


def test_a_property_shapes_own_select_is_validated_as_pyshacl_does() -> None:
    """sh:sparql on a property shape, which the compiler does not translate: the shape falls back to
    pyshacl rather than being left out."""
    shapes = Graph().parse(
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:S> a sh:NodeShape ; sh:targetClass <urn:C> ;
            sh:property [ sh:path <urn:p> ; sh:sparql [ a sh:SPARQLConstraint ; sh:message "p is 2" ;
                sh:select "SELECT $this ?value WHERE { $this $PATH ?value FILTER (?value = 2) }" ] ] .
        """,
        format="turtle",
    )
    data = Graph().parse(data="<urn:x> a <urn:C> ; <urn:p> 1, 2 .", format="turtle")
    fast = validate_store(in_store(data), [GRAPH], shapes)
    assert [(v.focus_node, v.message) for v in fast.violations] == [("urn:x", "p is 2")]
    assert results(fast.violations) == results(validate(data, shapes).violations)


@pytest.mark.parametrize(
    ("select", "problem"),
    [
        ("SELECT $this WHERE { $this <urn:p> ?v MINUS { ?v a <urn:D> } }", "MINUS"),
        ("SELECT $this WHERE { $this <urn:p> ?v VALUES ?v { 1 } }", "VALUES"),
        ("SELECT $this WHERE { $this <urn:p> ?v BIND (?v AS $this) }", "AS"),
        ("SELECT $this WHERE { $this <urn:p> ?v BIND (?v AS ?currentShape) }", "AS"),
        ("SELECT $this WHERE { SERVICE <http://example.org/sparql> { $this <urn:p> ?v } }", "SERVICE"),
        ("SELECT $this WHERE { $this <urn:p> true.MINUS { $this <urn:q> ?v } }", "MINUS"),
    ],
)
def test_a_select_shacl_forbids_is_refused_by_both_engines(select: str, problem: str) -> None:
    """SHACL pre-binds `$this`, so a constraint's SELECT must not use MINUS, VALUES or SERVICE, nor bind
    `$this` with AS (SHACL 5.3.1): both engines refuse it, naming the shape."""
    shapes = Graph().parse(
        data=f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:S> a sh:NodeShape ; sh:targetClass <urn:C> ;
            sh:sparql [ a sh:SPARQLConstraint ; sh:select "{select}" ] .
        """,
        format="turtle",
    )
    data = Graph().parse(data="<urn:x> a <urn:C> ; <urn:p> 1 .", format="turtle")
    with pytest.raises(InvalidShape, match=f"urn:S.*{problem}"):
        validate_store(in_store(data), [GRAPH], shapes)
    with pytest.raises(InvalidShape, match=f"urn:S.*{problem}"):
        validate(data, shapes)


# Shapes whose constraints the compiler once left out without a word: each is now translated or
# falls back to pyshacl, so the store's verdict is the reference engine's.
UNTRANSLATED = {
    "a qualified value shape with sh:property": """<urn:S> a sh:NodeShape ; sh:targetClass <urn:C> ;
        sh:property [ sh:path <urn:p> ; sh:qualifiedMinCount 1 ; sh:qualifiedValueShape [ sh:class <urn:D> ;
            sh:property [ sh:path <urn:q> ; sh:minCount 1 ] ] ] .""",
    "a qualified value shape with sh:sparql": """<urn:S> a sh:NodeShape ; sh:targetClass <urn:C> ;
        sh:property [ sh:path <urn:p> ; sh:qualifiedMinCount 1 ; sh:qualifiedValueShape [ sh:class <urn:D> ;
            sh:sparql [ a sh:SPARQLConstraint ;
                sh:select "SELECT $this WHERE { FILTER NOT EXISTS { $this <urn:q> ?any } }" ] ] ] .""",
    "a property shape with targets of its own": """<urn:S> a sh:NodeShape ; sh:targetClass <urn:E> ;
        sh:property <urn:P> .
        <urn:P> a sh:PropertyShape ; sh:targetClass <urn:C> ; sh:path <urn:q> ; sh:minCount 1 .""",
    "a SPARQL constraint whose SELECT does not project $this": """<urn:S> a sh:NodeShape ;
        sh:targetClass <urn:C> ;
        sh:sparql [ a sh:SPARQLConstraint ; sh:select "SELECT ?value WHERE { $this <urn:p> ?value }" ] .""",
    "a shape not typed sh:NodeShape": """<urn:S> sh:targetClass <urn:C> ;
        sh:property [ sh:path <urn:q> ; sh:minCount 1 ; sh:message "q needed" ] .""",
}


@pytest.mark.parametrize("shape", sorted(UNTRANSLATED))
def test_no_constraint_is_left_out(shape: str) -> None:
    shapes = Graph().parse(data="@prefix sh: <http://www.w3.org/ns/shacl#> .\n" + UNTRANSLATED[shape])
    data = Graph().parse(data="<urn:x> a <urn:C> ; <urn:p> <urn:y> . <urn:y> a <urn:D> .", format="turtle")
    reference = validate(data, shapes)
    assert reference.violations, shape  # the case shows a violation
    fast = validate_store(in_store(data), [GRAPH], shapes)
    assert results(fast.violations) == results(reference.violations)


def test_names_spelled_like_those_keywords_are_not_refused() -> None:
    """A variable, a prefixed name or a language tag spelled like MINUS or VALUES is not the keyword:
    the store validates the shape (pyshacl, which checks spelling, refuses some, saying so)."""
    select = 'SELECT $this ?values WHERE { $this <urn:p> ?values . FILTER (?values != "x"@values) }'
    shapes = Graph().parse(
        data=f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:S> a sh:NodeShape ; sh:targetClass <urn:C> ;
            sh:sparql [ a sh:SPARQLConstraint ; sh:message "p" ; sh:select '{select}' ] .
        """,
        format="turtle",
    )
    data = Graph().parse(data="<urn:x> a <urn:C> ; <urn:p> 1 .", format="turtle")
    assert [v.focus_node for v in validate_store(in_store(data), [GRAPH], shapes).violations] == ["urn:x"]
    with pytest.raises(InvalidShape, match="the reference engine"):
        validate(data, shapes)


def test_values_that_compare_as_errors_and_patterns_ends_give_one_verdict(
    graphs: tuple[Graph, Graph],
) -> None:
    """A leg numbered NaN passed the store's sh:minInclusive (Oxigraph's NaN >= 1 is an error, so no
    row) where pyshacl reported it: SHACL counts a comparison that is not true as a violation. A code
    ending in a line break passed pyshacl's sh:pattern `^[A-Z]{2}$` (Python's `$` matches before a
    last line break, as Java's does) where the store, reading XPath's `$`, reported it: the shapes
    bound such a code by its length, which every engine reads alike."""
    _, shapes = graphs
    data = Graph().parse(
        data="""
        @prefix kg: <https://w3id.org/opioid-kg/ontology#> .
        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        <urn:x:leg> a kg:FlowLeg ; kg:legIndex "NaN"^^xsd:double .
        <urn:x:figure> a kg:Figure ; kg:figureNumber "NaN"^^xsd:double .
        <urn:x:country> a kg:Country ; kg:isoCode "MX\\n" .
        <urn:x:state> a kg:AdministrativeArea ; kg:isoCode "MX-AB\\n" .
        <urn:x:state-r> a kg:AdministrativeArea ; kg:isoCode "MX-AB\\r" .
        <urn:x:state-ls> a kg:AdministrativeArea ; kg:isoCode "MX-AB\\u2028" .
        <urn:x:report> a kg:Report ; kg:sha256 "%s\\n" .
        """
        % ("0" * 64),
        format="turtle",
    )
    fast, reference = validate_store(in_store(data), [GRAPH], shapes), validate(data, shapes)
    assert results(fast.violations) == results(reference.violations)
    found = {(v.focus_node, v.path) for v in fast.violations}
    kg = "https://w3id.org/opioid-kg/ontology#"
    for focus, path in (("leg", "legIndex"), ("figure", "figureNumber"), ("country", "isoCode")):
        assert (f"urn:x:{focus}", kg + path) in found, (focus, path)
    assert ("urn:x:report", kg + "sha256") in found
    for state in ("urn:x:state", "urn:x:state-r", "urn:x:state-ls"):
        assert any(v.focus_node == state and "ISO 3166-2" in v.message for v in fast.violations), state


# Two property shapes of one node shape with complex paths and one message, written in three
# languages, the English one neither first nor last.
COMPLEX_PATH_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix e: <urn:e:> .
e:Held a sh:NodeShape ; sh:targetClass e:C ;
    sh:property [ sh:path [ sh:inversePath e:holds ] ; sh:minCount 1 ;
                  sh:message "Gehalten."@de, "Held."@en, "Tenu."@fr ] ;
    sh:property [ sh:path ( e:a [ sh:alternativePath ( e:b [ sh:zeroOrMorePath e:c ] ) ] ) ;
                  sh:minCount 1 ; sh:message "Tenu."@fr, "Gehalten."@de, "Held."@en ] .
"""


def test_complex_paths_are_written_out_and_one_message_is_chosen_by_both_engines() -> None:
    """A complex path was "(complex path)", so a failed build counted two constraints of one shape
    and message as one; pyshacl reports every language's message, and one was read at random."""
    shapes = Graph().parse(data=COMPLEX_PATH_SHAPES, format="turtle")
    data = Graph().parse(data="<urn:e:x> a <urn:e:C> .", format="turtle")
    fast = validate_store(in_store(data), [GRAPH], shapes)
    reference = validate(data, shapes)
    assert results(fast.violations) == results(reference.violations)
    inverse, sequence = "^<urn:e:holds>", "(<urn:e:a> / (<urn:e:b> | <urn:e:c>*))"
    assert {(v.path, v.message) for v in reference.violations} == {(inverse, "Held."), (sequence, "Held.")}
    summary = reference.summary(None, 1)
    assert f"1  urn:e:Held  {inverse}  MinCountConstraintComponent  Held." in summary, summary
    assert f"1  urn:e:Held  {sequence}  MinCountConstraintComponent  Held." in summary, summary


@pytest.mark.parametrize(
    ("path", "written"),
    [
        ("[ sh:oneOrMorePath [ sh:zeroOrMorePath ( e:a e:b ) ] ]", "((<urn:e:a> / <urn:e:b>)*)+"),
        (
            "[ sh:zeroOrOnePath [ sh:oneOrMorePath [ sh:alternativePath ( e:a e:b ) ] ] ]",
            "((<urn:e:a> | <urn:e:b>)+)?",
        ),
        ("[ sh:inversePath [ sh:inversePath e:a ] ]", "^(^<urn:e:a>)"),
        ("[ sh:zeroOrMorePath [ sh:inversePath ( e:a e:b ) ] ]", "(^(<urn:e:a> / <urn:e:b>))*"),
    ],
)
def test_nested_paths_are_written_as_sparql_both_engines_read(path: str, written: str) -> None:
    """A repeat of a repeat of a sequence was written `(<a> / <b>)*+`, which Oxigraph refuses."""
    shapes = Graph().parse(
        data=f"""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix e: <urn:e:> .
        e:S a sh:NodeShape ; sh:targetClass e:C ;
            sh:property [ sh:path {path} ; sh:maxCount 0 ; sh:message "Bee"@fr, "Zed"@EN-gb ] .""",
        format="turtle",
    )
    data = Graph().parse(
        data="<urn:e:x> a <urn:e:C> . <urn:e:y> a <urn:e:C> ; <urn:e:a> <urn:e:z> .", format="turtle"
    )
    fast = validate_store(in_store(data), [GRAPH], shapes)
    reference = validate(data, shapes)
    assert results(fast.violations) == results(reference.violations)
    assert {(v.path, v.message) for v in fast.violations} == {(written, "Zed")}
