"""The library layout: a source is sources/<id>/ beside graph/<id>/, shared entities live in graph/common/,
and `kg build --source ID` builds one source beside the project's build, never over it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.build.checks import BuildFailed
from kg.build.parsing import InputError
from kg.build.pipeline import build
from kg.cli import main

REPORT = "000_1bdfefaeb44abb70"


def _build_error(project: Path, tmp_path: Path) -> str:
    with pytest.raises((BuildFailed, InputError)) as error:
        build(project, tmp_path / "dist", tmp_path / "store")
    return str(error.value)


def test_a_text_directly_under_sources_is_refused(project_copy: Path, tmp_path: Path) -> None:
    (project_copy / "sources" / "loose.txt").write_text("a report\n", "utf-8")
    assert "sources/loose.txt: a source is a folder sources/<id>/" in _build_error(project_copy, tmp_path)


def test_a_source_folder_without_its_metadata_is_refused(project_copy: Path, tmp_path: Path) -> None:
    (project_copy / "sources" / REPORT / "source.ttl").unlink()
    message = _build_error(project_copy, tmp_path)
    assert f"sources/{REPORT}: a source folder needs its citation metadata, source.ttl" in message


def test_a_graph_folder_without_its_source_is_refused(project_copy: Path, tmp_path: Path) -> None:
    shutil.copytree(project_copy / "graph" / REPORT, project_copy / "graph" / "unknown-source")
    message = _build_error(project_copy, tmp_path)
    assert "graph/unknown-source: no source sources/unknown-source/" in message


def test_turtle_outside_a_concern_folder_is_refused(project_copy: Path, tmp_path: Path) -> None:
    stray = project_copy / "graph" / REPORT / "facts.ttl"
    shutil.copy(project_copy / "graph" / REPORT / "data" / "findings.ttl", stray)
    message = _build_error(project_copy, tmp_path)
    assert f"graph/{REPORT}/facts.ttl: curated Turtle sits in one of data, provenance, background/" in message


def test_metadata_naming_a_text_outside_its_folder_is_refused(project_copy: Path, tmp_path: Path) -> None:
    metadata = project_copy / "sources" / REPORT / "source.ttl"
    elsewhere = project_copy / "sources" / "elsewhere"
    elsewhere.mkdir()
    shutil.move(project_copy / "sources" / REPORT / "text.txt", elsewhere / "text.txt")
    shutil.move(metadata, elsewhere / "source.ttl")  # a folder of its own with a metadata file
    (project_copy / "sources" / REPORT).rmdir()
    shutil.move(project_copy / "graph" / REPORT, project_copy / "graph" / "elsewhere")
    message = _build_error(project_copy, tmp_path)
    assert "sources/elsewhere/source.ttl:" in message
    assert "no text file text.txt in" in message


def test_metadata_without_its_publisher_names_the_file_and_line(project_copy: Path, tmp_path: Path) -> None:
    metadata = project_copy / "sources" / REPORT / "source.ttl"
    text = metadata.read_text("utf-8")
    metadata.write_text(text.replace("    dcterms:publisher organization:crs ;\n", ""), "utf-8")
    message = _build_error(project_copy, tmp_path)
    assert "needs its publisher, its authors, its date" in message
    assert f"sources/{REPORT}/source.ttl:" in message


def test_a_revision_names_one_earlier_report_by_its_iri(project_copy: Path, tmp_path: Path) -> None:
    metadata = project_copy / "sources" / REPORT / "source.ttl"
    text = metadata.read_text("utf-8")
    metadata.write_text(
        text.replace(
            "    dcterms:language", '    prov:wasRevisionOf "an earlier one" ;\n    dcterms:language'
        )
    )
    assert "A report revises at most one earlier report" in _build_error(project_copy, tmp_path)


def test_build_of_one_source_writes_beside_the_project_build(project_copy: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--project", str(project_copy), "build", "--source", REPORT])
    assert result.exit_code == 0, result.output
    home = project_copy / ".kg" / "sources" / REPORT
    assert f"wrote {home / 'dist'}/" in result.output
    assert (home / "dist" / "opioid-kg.nq").stat().st_size > 0
    assert not (project_copy / "dist").exists() and not (project_copy / ".kg" / "store").exists()


@pytest.mark.parametrize("option", ["--store", "--dist"])
def test_build_of_one_source_refuses_the_project_outputs(project_copy: Path, option: str) -> None:
    target = {"--store": project_copy / ".kg" / "store", "--dist": project_copy / "dist"}[option]
    result = CliRunner().invoke(
        main, ["--project", str(project_copy), "build", "--source", REPORT, option, str(target)]
    )
    assert result.exit_code == 2
    assert "kg build --source writes beside the project's build" in result.output


def test_build_of_an_unknown_source_names_the_known_ones(project_copy: Path) -> None:
    result = CliRunner().invoke(main, ["--project", str(project_copy), "build", "--source", "nope"])
    assert result.exit_code == 2
    assert f"sources/nope: no such source (one of: {REPORT})" in result.output
