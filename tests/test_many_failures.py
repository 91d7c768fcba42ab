"""A build that finds thousands of faults names a few of each kind and counts the rest.

A shape changed so that every label broke it gave 48,637 violations at 600 sources: the build spent
four minutes finding the file and line of each, and its error ran to 19 MB.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kg.build.pipeline import BuildFailed, build

REPORT = "000_1bdfefaeb44abb70"
SHAPES = "https://w3id.org/opioid-kg/shapes#"


def _labels_must_be_german(project: Path) -> None:
    """Every English label now breaks the label shapes: two constraints, one failure a thing."""
    shapes = project / "ontology" / "shapes.ttl"
    text = shapes.read_text("utf-8")
    assert text.count('sh:languageIn ( "en" ) ;') == 2
    shapes.write_text(text.replace('sh:languageIn ( "en" ) ;', 'sh:languageIn ( "de" ) ;'), "utf-8")


def _number(pattern: str, text: str) -> int:
    """The number the first group of `pattern` matches on a line of `text`, its thousands separated."""
    found = re.search(pattern, text, re.M)
    assert found, text
    return int(found[1].replace(",", ""))


def _build_failure(project: Path, tmp_path: Path) -> str:
    with pytest.raises(BuildFailed) as failure:
        build(project, tmp_path / "dist", tmp_path / "store")
    assert not (tmp_path / "dist").exists()
    return str(failure.value)


def test_many_violations_are_named_a_few_of_each_constraint_and_counted(
    project_copy: Path, tmp_path: Path
) -> None:
    _labels_must_be_german(project_copy)
    failure = _build_failure(project_copy, tmp_path)
    total = _number(r"^([0-9,]+) violations; the first 20 are named", failure)
    assert total > 100, failure
    assert failure.count("  focus node: ") == 20, failure
    assert failure.count("  written at: ") == 20, failure  # each named one is found in its file
    counts = {}
    for shape, path, message in (
        ("LabelShape", "http://www.w3.org/2000/01/rdf-schema#label", "rdfs:label"),
        ("PreferredLabelShape", "http://www.w3.org/2004/02/skos/core#prefLabel", "skos:prefLabel"),
    ):
        line = (
            rf"^ +([0-9,]+)  {SHAPES}{shape}  {path}  LanguageInConstraintComponent  "
            rf"Needs exactly one English {message}\.$"
        )
        counts[shape] = _number(line, failure)
        assert f"  shape:      {SHAPES}{shape}\n" in failure, failure  # named in turn, the other too
    assert sum(counts.values()) == total, failure
    assert "KG_VIOLATIONS_SHOWN=0 kg build" in failure, failure


def test_every_violation_is_named_when_asked(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _labels_must_be_german(project_copy)
    monkeypatch.setenv("KG_VIOLATIONS_SHOWN", "0")
    failure = _build_failure(project_copy, tmp_path)
    total = _number(r"^([0-9]+) violation\(s\)$", failure)
    assert total > 100 and failure.count("  focus node: ") == total, failure
    assert failure.count("  written at: ") == total, failure
    assert "KG_VIOLATIONS_SHOWN" not in failure, failure


def test_a_wrong_number_of_violations_to_show_stops_the_build_before_it_starts(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KG_VIOLATIONS_SHOWN", "all")
    with pytest.raises(Exception, match="KG_VIOLATIONS_SHOWN='all': give a whole number"):
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert not (tmp_path / "dist").exists()


def test_a_file_stated_in_two_graphs_names_a_few_of_its_triples_and_counts_the_rest(
    project_copy: Path, tmp_path: Path
) -> None:
    """A data file copied into the provenance folder stated each of its triples twice: each was named
    with the places of its subject, thousands of lines found one by one."""
    build(project_copy, tmp_path / "work" / "dist", tmp_path / "work" / "store")  # for the rebuild
    flows = project_copy / "graph" / REPORT / "data" / "flows.ttl"
    shutil.copy(flows, project_copy / "graph" / REPORT / "provenance" / "zz-flows.ttl")
    failure = _build_failure(project_copy, tmp_path)
    with pytest.raises(BuildFailed) as rebuilt:  # names the same 20, where it named others
        build(project_copy, tmp_path / "work" / "dist", tmp_path / "work" / "store")
    assert str(rebuilt.value) == failure
    twice = "is stated in the data and the provenance graph"
    assert len([line for line in failure.splitlines() if twice in line]) == 20, failure
    assert _number(r"^and ([0-9,]+) more$", failure) > 100, failure


def test_a_constraint_broken_once_is_named_beside_one_broken_many_times_under_one_message(
    project_copy: Path, tmp_path: Path
) -> None:
    """The label shape's minCount, maxCount and languageIn share one message: a fact left without a
    label was grouped with the hundreds of labels in another language, and not named."""
    _labels_must_be_german(project_copy)
    changes = project_copy / "graph" / REPORT / "data" / "changes.ttl"
    label = '    rdfs:label "Increase in opium poppy cultivation area, Afghanistan, 2017"@en ;\n'
    text = changes.read_text("utf-8")
    assert label in text
    changes.write_text(text.replace(label, ""), "utf-8")
    failure = _build_failure(project_copy, tmp_path)
    unlabelled = "https://w3id.org/opioid-kg/id/change/af-poppy-cultivation-2017"
    assert f"  focus node: {unlabelled}\n" in failure, failure
    rdfs_label = "http://www.w3.org/2000/01/rdf-schema#label"
    counted = rf"^ +([0-9,]+)  {SHAPES}LabelShape  {rdfs_label}  MinCountConstraintComponent  "
    assert _number(counted, failure) == 1, failure


NOWHERE = ", ".join(f"<https://w3id.org/opioid-kg/id/country/nowhere-{n:02}>" for n in range(25))
UNCLASSED = "".join(
    f'<https://w3id.org/opioid-kg/id/flow/unclassed-{n:02}> rdfs:comment "x" .\n' for n in range(25)
)


@pytest.mark.parametrize(
    ("statements", "fault"),
    [
        (f"<https://w3id.org/opioid-kg/id/country/MX> rdfs:seeAlso {NOWHERE} .\n", "is described nowhere"),
        (UNCLASSED, "has no rdf:type"),
    ],
    ids=["values described nowhere", "things without a class"],
)
def test_many_faults_of_a_kind_are_named_twenty_and_counted(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, statements: str, fault: str
) -> None:
    """The first twenty were named and the rest dropped without a word."""
    (project_copy / "graph" / REPORT / "data" / "zz-faults.ttl").write_text(
        f"@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n\n{statements}", "utf-8"
    )
    failure = _build_failure(project_copy, tmp_path)
    assert failure.count(fault) == 20 and "\nand 5 more" in failure, failure
    monkeypatch.setenv("KG_VIOLATIONS_SHOWN", "0")
    failure = _build_failure(project_copy, tmp_path)
    assert failure.count(fault) == 25 and " more" not in failure, failure


def test_a_thing_without_a_class_is_found_among_thousands_of_parts_of_descriptions(
    project_copy: Path, tmp_path: Path
) -> None:
    """Blank nodes that only blank nodes refer to are looked at one by one; the query listing them
    stopped at 200, so a thing of its own among more parts of descriptions than that went unseen."""
    parts = "".join(f'  rdfs:seeAlso [ rdfs:seeAlso [ rdfs:comment "part {n}" ] ] ;\n' for n in range(3000))
    text = (
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n\n"
        f'<https://w3id.org/opioid-kg/id/country/MX>\n{parts}  rdfs:comment "parts" .\n\n'
        '[] rdfs:comment "a thing of its own" .\n'
    )
    (project_copy / "graph" / REPORT / "data" / "zz-parts.ttl").write_text(text, "utf-8")
    failure = _build_failure(project_copy, tmp_path)
    assert failure.count("has no rdf:type") == 1, failure
    line = text.count("\n")
    comment = '<http://www.w3.org/2000/01/rdf-schema#comment> "a thing of its own"'
    assert f"zz-parts.ttl:{line}: [ {comment} ] has no rdf:type" in failure, failure
