"""The statistics are a well-formed RDF Data Cube: the W3C recommendation's 21 integrity constraints hold."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from kg.build.cube import CHECKS, check_cube
from kg.build.pipeline import DATA_GRAPHS, BuildFailed, build, merged
from kg.build.project import load_project

OBSERVATION = "https://w3id.org/opioid-kg/id/observation/"


@pytest.fixture(scope="module")
def cube(project_root: Path) -> Graph:
    """The data, provenance and background with the ontology: what the build checks."""
    return merged(load_project(project_root), ("ontology", *DATA_GRAPHS))


def test_the_checks_are_the_recommendations_twenty_one_constraints(project_root: Path) -> None:
    checks = project_root / CHECKS
    numbers = {int(re.match(r"ic-(\d+)", path.stem).group(1)) for path in checks.glob("ic-*.rq")}
    assert numbers == set(range(1, 22))
    assert sorted(path.name for path in checks.glob("normalize-*.ru")) == [
        "normalize-phase-1.ru",
        "normalize-phase-2.ru",
    ]
    for path in checks.glob("ic-*.rq"):
        assert "REC-vocab-data-cube-20140116" in path.read_text("utf-8"), path


def test_every_integrity_constraint_holds(cube: Graph, project_root: Path) -> None:
    report = check_cube(cube, project_root / CHECKS)
    assert report.constraints == 22  # IC-19 is two queries
    assert [v.message() for v in report.violations] == []


def test_a_duplicate_observation_is_named_by_ic_12(cube: Graph, project_root: Path) -> None:
    graph = Graph()
    graph += cube
    original = URIRef(OBSERVATION + "mx-drug-labs-destroyed-2016")
    twin = URIRef(OBSERVATION + "mx-drug-labs-destroyed-2016-twin")
    for p, o in cube.predicate_objects(original):
        graph.add((twin, p, o))
    report = check_cube(graph, project_root / CHECKS)
    assert [v.constraint for v in report.violations] == ["IC-12. No duplicate observations"]
    assert set(report.violations[0].nodes.values()) == {str(original), str(twin)}


def test_an_observation_without_a_dimension_stops_the_build(project_root: Path, tmp_path: Path) -> None:
    for folder in ("ontology", "graph", "sources", "queries"):
        shutil.copytree(project_root / folder, tmp_path / folder)
    statistics = tmp_path / "graph" / "000_1bdfefaeb44abb70" / "data" / "statistics.ttl"
    text = statistics.read_text("utf-8")
    block = text.index("obs:mx-drug-labs-destroyed-2016 a qb:Observation")
    period = text.index("    kg:refPeriod period:2016 ;\n", block)
    statistics.write_text(text[:period] + text[period:].replace("    kg:refPeriod period:2016 ;\n", "", 1))
    with pytest.raises(BuildFailed) as failure:
        build(tmp_path, tmp_path / "dist", tmp_path / "store")
    message = str(failure.value)
    assert "IC-11. All dimensions required" in message
    assert f"<{OBSERVATION}mx-drug-labs-destroyed-2016>" in message
    assert "refPeriod" in message
