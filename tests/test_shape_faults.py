"""A shape no SHACL engine can validate with stops the build, named: it raised Python's own errors, or,
a pattern that is no regular expression, passed every value without a word."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph
from test_store_validation import GRAPH, in_store

from kg.build.pipeline import build
from kg.build.shape_queries import InvalidShape
from kg.build.store_validation import validate_store
from kg.build.validation import validate
from kg.cli import main

FAULTS = {
    "a select that is no SPARQL": (
        "SELECT $this ?value WHERE {\n                $this <http://www.w3.org/ns/prov#wasAttributedTo>",
        "SELEC $this ?value WHERE {\n                $this <http://www.w3.org/ns/prov#wasAttributedTo>",
        "AttributionShape: .*its sh:select is no SPARQL query",
    ),
    "prefixes declared nowhere": (
        "sh:prefixes kgsh: ;",
        "sh:prefixes <urn:nothing> ;",
        "its sh:select is no SPARQL",
    ),
    "an alternative path of one": (
        "sh:path kg:isoCode ;",
        "sh:path [ sh:alternativePath kg:isoCode ] ;",
        "CountryShape: a path of 0 where SHACL needs a list of two paths",
    ),
    "a count in words": (
        "sh:path kg:isoCode ; sh:maxCount 1 ;",
        'sh:path kg:isoCode ; sh:maxCount "x" ;',
        'CountryShape: sh:maxCount "x", where SHACL needs a non-negative integer',
    ),
    "a pattern that is no regular expression": (
        'sh:pattern "^[A-Z]{2}"',
        'sh:pattern "^[A-Z{2"',
        r'CountryShape: sh:pattern "\^\[A-Z\{2" \(sh:flags \'\'\) is a regular expression neither',
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_shape_no_engine_reads_stops_the_build_named(
    project_copy: Path, tmp_path: Path, fault: str
) -> None:
    old, new, message = FAULTS[fault]
    shapes = project_copy / "ontology" / "shapes.ttl"
    text = shapes.read_text("utf-8")
    assert old in text
    shapes.write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(InvalidShape, match=message):
        build(project_copy, tmp_path / "dist", tmp_path / "store")


def test_a_pattern_no_engine_reads_is_a_clear_error_of_the_command(
    project_copy: Path, tmp_path: Path
) -> None:
    """The data a country's code breaks (`"c1"`) was published with the pattern switched off."""
    shapes = project_copy / "ontology" / "shapes.ttl"
    shapes.write_text(
        shapes.read_text("utf-8").replace('sh:pattern "^[A-Z]{2}"', 'sh:pattern "^[A-Z{2"'), "utf-8"
    )
    result = CliRunner().invoke(
        main, ["--project", str(project_copy), "build", "--dist", str(tmp_path / "d")]
    )
    assert result.exit_code == 2  # bad input
    assert "is a regular expression neither SPARQL's REGEX" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "d").exists()


def _pattern_shape(pattern: str) -> Graph:
    """A shape of the values of <urn:p> of each <urn:C>, with the `pattern` written in Turtle."""
    return Graph().parse(
        data=f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:S> a sh:NodeShape ; sh:targetClass <urn:C> ;
            sh:property [ sh:path <urn:p> ; sh:pattern {pattern} ] .
        """,
        format="turtle",
    )


def test_both_engines_refuse_a_shape_no_engine_reads_before_validating() -> None:
    """pyshacl (which validates what the compiler cannot translate, and `--engine pyshacl`) raised
    Python's `re.error` for such a pattern: a traceback."""
    shapes = _pattern_shape('"^[A-Z{2"')
    data = Graph().parse(data='<urn:x> a <urn:C> ; <urn:p> "c1" .', format="turtle")
    for engine in (validate, lambda data, shapes: validate_store(in_store(data), [GRAPH], shapes)):
        with pytest.raises(InvalidShape, match="urn:S: sh:pattern .* neither SPARQL's REGEX"):
            engine(data, shapes)


def test_a_pattern_only_python_reads_is_validated_by_the_reference_engine() -> None:
    """A back-reference is XPath's and Python's, not Oxigraph's: the store hands the shapes to pyshacl,
    whose verdict stands (it was refused as no regular expression)."""
    shapes = _pattern_shape('"^(a)\\\\1$"')
    data = Graph().parse(
        data='<urn:x> a <urn:C> ; <urn:p> "aa" . <urn:y> a <urn:C> ; <urn:p> "ab" .', format="turtle"
    )
    store_report = validate_store(in_store(data), [GRAPH], shapes)
    reference = validate(data, shapes)
    assert [v.focus_node for v in store_report.violations] == ["urn:y"]
    assert {(v.focus_node, v.value) for v in store_report.violations} == {
        (v.focus_node, v.value) for v in reference.violations
    }
