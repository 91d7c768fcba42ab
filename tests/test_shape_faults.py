"""A shape no SHACL engine can validate with stops the build, named: it raised Python's own errors, or,
a pattern that is no regular expression, passed every value without a word."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.build.pipeline import build
from kg.build.shape_queries import InvalidShape
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
        r'CountryShape: sh:pattern "\^\[A-Z\{2" \(sh:flags \'\'\) is no regular expression',
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
    assert "no regular expression" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "d").exists()
