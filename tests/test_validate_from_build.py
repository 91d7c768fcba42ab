"""`kg validate FILE` from the project's build gives the report of the whole project read again.

Both paths are real: the project copied, built by `kg build`, its files then changed; the report
from the build (`validate_from_build`) is compared with the whole path's (`validate_in_project`) in
every form `kg validate` prints, and the build must have served it.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph
from rdflib.compare import isomorphic
from shacl_cases import PREFIXES, broken_graph
from test_input_files import KG

from kg.build.checks import BuildFailed
from kg.build.files_in_build import validate_from_build
from kg.build.files_in_project import validate_in_project
from kg.build.project import input_files
from kg.build.validation import ValidationReport
from kg.cli import main

SOURCE = "000_1bdfefaeb44abb70"


@pytest.fixture
def built_copy(project_copy: Path) -> Path:
    """The project copy with a build of its own."""
    result = CliRunner().invoke(main, ["--project", str(project_copy), "build"])
    assert result.exit_code == 0, result.output
    return project_copy


def both(root: Path, files: list[Path]) -> ValidationReport:
    """The report from the build equals the whole path's: verdict, text, JSON and the SHACL graph."""
    fast = validate_from_build(root, files, root / ".kg" / "store", root / "dist")
    assert fast is not None, "the build did not serve"
    whole = validate_in_project(root, files, "store")
    assert fast.conforms == whole.conforms
    assert fast.as_text() == whole.as_text()
    assert fast.as_json() == whole.as_json()
    assert isomorphic(fast.report_graph, whole.report_graph)
    return whole


def test_curated_files_unchanged_and_new(built_copy: Path) -> None:
    flows = built_copy / "graph" / SOURCE / "data" / "flows.ttl"
    places = built_copy / "graph" / "common" / "data" / "places.ttl"
    assert both(built_copy, [flows]).conforms
    assert both(built_copy, [places]).conforms
    new = built_copy / "graph" / SOURCE / "data" / "new.ttl"
    new.write_text(PREFIXES.replace("PREFIX", "@prefix").replace(">\n", "> .\n") + "\n", "utf-8")
    assert both(built_copy, [new]).conforms


def test_a_violation_in_a_curated_file(built_copy: Path) -> None:
    flows = built_copy / "graph" / SOURCE / "data" / "flows.ttl"
    text = flows.read_text("utf-8")
    wrong = text.replace("kg:substance substance:illicit-fentanyl ;", "kg:substance country:MX ;", 1)
    flows.write_text(wrong, "utf-8")
    assert len(both(built_copy, [flows]).violations) == 1


def test_the_negative_cases_of_the_shapes(built_copy: Path) -> None:
    """Every case applied to the project's files: each file a case changes written again without the
    triples it took away, and the triples the cases add in a new file; all of them validated. (Cases
    on the triples of tables leave the files as they were.)"""
    files = [
        path
        for name in ("data", "provenance", "background")
        for path in input_files(built_copy).get(name, [])
    ]
    parsed = {path: Graph().parse(path, format="turtle") for path in files}
    union = Graph()
    for graph in parsed.values():
        union += graph
    broken = broken_graph(union)
    given = []
    for path, graph in parsed.items():
        kept = [triple for triple in graph if triple in broken]
        if len(kept) < len(graph):
            changed = Graph()
            for triple in kept:
                changed.add(triple)
            changed.serialize(path, format="turtle")
            given.append(path)
    added = built_copy / "graph" / SOURCE / "data" / "cases.ttl"
    inserted = Graph()
    for triple in broken:
        if triple not in union:
            inserted.add(triple)
    inserted.serialize(added, format="turtle")
    assert len(given) > 3 and len(inserted) > 20  # the cases did change the files
    assert len(both(built_copy, [*given, added]).violations) > 50  # the cases the files can show


@pytest.mark.parametrize(
    "turtle",
    [
        "<https://w3id.org/opioid-kg/id/flow/x> a kg:Undeclared .",
        '[] kg:undeclaredPredicate "x" .',
        '[] skos:prefLabel "a thing without a class"@en .',
    ],
    ids=["undeclared class", "undeclared predicate", "untyped blank node"],
)
def test_the_checks_no_shape_makes_fail_alike(built_copy: Path, turtle: str) -> None:
    """The build's checks of terms and classes, run before the shapes, stop both paths with one message."""
    new = built_copy / "graph" / SOURCE / "data" / "new.ttl"
    prefixes = "@prefix kg: <https://w3id.org/opioid-kg/ontology#> .\n"
    new.write_text(prefixes + "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n\n" + turtle + "\n")
    with pytest.raises(BuildFailed) as fast:
        validate_from_build(built_copy, [new], built_copy / ".kg" / "store", built_copy / "dist")
    with pytest.raises(BuildFailed) as whole:
        validate_in_project(built_copy, [new], "store")
    assert str(fast.value) == str(whole.value)


def test_a_scratch_copy_a_killed_validation_left_is_removed_by_the_next(built_copy: Path) -> None:
    """`kg validate FILE` killed while it validates from the build leaves its scratch copy under `.kg/`
    (364 MB at a million triples, kept for good before); the next validation and the next build
    remove it, and leave a scratch folder a live process holds."""
    flows = built_copy / "graph" / SOURCE / "data" / "flows.ttl"
    build_folder = built_copy / ".kg"
    left: list[Path] = []
    for _ in range(5):  # killed as soon as its scratch folder appears, before it ends
        running = subprocess.Popen(
            [str(KG), "validate", str(flows)], cwd=built_copy, stdout=subprocess.DEVNULL
        )
        while running.poll() is None and not (left := list(build_folder.glob(".validate-*"))):
            time.sleep(0.001)
        running.kill()
        running.wait()
        if left := list(build_folder.glob(".validate-*")):
            break
    assert left, "no validation was caught while it held its scratch copy"
    held = build_folder / ".validate-held"
    held.mkdir()
    descriptor = os.open(held, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH)  # as a validation running meanwhile holds its own
        done = subprocess.run(
            [str(KG), "validate", str(flows)], cwd=built_copy, capture_output=True, text=True
        )
        assert (done.returncode, done.stdout) == (0, "conforms: 0 violations\n"), done.stderr
        assert list(build_folder.glob(".validate-*")) == [held]
        (build_folder / ".validate-killed").mkdir()  # as a killed one leaves it: held by no process
        built = subprocess.run([str(KG), "build"], cwd=built_copy, capture_output=True, text=True)
        assert built.returncode == 0, built.stderr
        assert list(build_folder.glob(".validate-*")) == [held]
    finally:
        os.close(descriptor)
