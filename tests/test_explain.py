"""A missing PREFIX is named with the line that fixes it, not a list of expected characters."""

from __future__ import annotations

from kg.query.explain import explain, missing_prefixes


def test_prefixes_used_but_not_declared_outside_strings_iris_and_comments() -> None:
    text = 'SELECT ?s WHERE { ?s rdfs:label "a:b" ; kg:x <http://x/y:z> } # foo:bar'
    assert missing_prefixes(text) == ["rdfs", "kg"]
    declared = (
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nSELECT ?s WHERE { ?s rdfs:label ?l ; a :T }"
    )
    assert missing_prefixes(declared) == [""]
    assert missing_prefixes('SELECT ?s WHERE { ?s ?p "2017"^^xsd:gYear FILTER(?x > 1.5) }') == ["xsd"]


def test_the_message_says_which_line_to_add() -> None:
    message = explain("SELECT ?s WHERE { ?s rdfs:label ?l }", "error at 1:22: expected one of …")
    assert message == (
        "unknown prefix rdfs: — add PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>"
        " at the top of the query"
    )
    assert explain("SELECT * WHERE { ?s ?p ?o", "expected }") == "expected }"
