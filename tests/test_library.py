"""The library layout: a source is sources/<id>/ beside graph/<id>/, shared entities live in graph/common/,
and `kg build --source ID` builds one source beside the project's build, never over it."""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Dataset, URIRef

from kg.build.checks import BuildFailed
from kg.build.parsing import InputError
from kg.build.pipeline import build
from kg.charts import series
from kg.charts.chart import chart
from kg.cli import main
from kg.namespaces import graph_iri
from kg.query.catalogue import load_catalogue
from kg.query.run import run_query
from kg.store.embedded import EmbeddedStore
from kg.store.queryfiles import binding_terms

PROJECT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
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


def test_a_file_directly_under_graph_is_named_a_file(project_copy: Path, tmp_path: Path) -> None:
    """A Turtle file put straight under graph/ was refused as a folder with no source of its name
    (`graph/x.ttl: no source sources/x.ttl/ for this folder`)."""
    shutil.copy(project_copy / "graph" / REPORT / "data" / "findings.ttl", project_copy / "graph" / "x.ttl")
    message = _build_error(project_copy, tmp_path)
    assert message.endswith(
        "graph/x.ttl: graph/ holds a folder for each source, graph/<id>/, and graph/common/; move this file"
        " into one"
    ), message


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
    lines = (elsewhere / "source.ttl").read_text("utf-8").splitlines()
    line = lines.index(f'    kg:textFile "{REPORT}/text.txt" ;') + 1
    assert f"elsewhere/source.ttl:{line}: describes no report whose text is in sources/elsewhere/" in message
    assert f"no text file text.txt in {project_copy}/sources/{REPORT}/" in message


@pytest.mark.parametrize("spelling", [".", "whole"])
def test_a_text_named_by_a_whole_path_is_refused_however_the_project_is_named(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    """`kg:textFile` naming the report's own text by its whole path was refused for the project `.`
    and taken for the project named by its whole path, which then published the machine's path."""
    metadata = project_copy / "sources" / REPORT / "source.ttl"
    whole = project_copy / "sources" / REPORT / "text.txt"
    written = f'    kg:textFile "{REPORT}/text.txt" ;'
    metadata.write_text(metadata.read_text("utf-8").replace(written, f'    kg:textFile "{whole}" ;'), "utf-8")
    monkeypatch.chdir(project_copy)
    message = _build_error(Path(".") if spelling == "." else project_copy, tmp_path)
    assert f"its text {whole} is not in a source's folder under sources/" in message, message
    assert f"kg:textFile names it from sources/, as {REPORT}/text.txt" in message, message


def test_a_missing_text_is_said_missing_not_elsewhere(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built from the project's folder (`kg build`, the project `.`), a text file that does not exist
    was also said to lie outside a source's folder: its folder, written relative, was compared with
    the folder resolved."""
    (project_copy / "sources" / REPORT / "text.txt").unlink()
    monkeypatch.chdir(project_copy)
    result = CliRunner().invoke(
        main, ["build", "--dist", str(tmp_path / "dist"), "--store", str(tmp_path / "store")]
    )
    assert result.exit_code == 1, result.output
    assert f"no text file text.txt in sources/{REPORT}/" in result.output
    assert "is not in a source's folder" not in result.output, result.output


@pytest.mark.parametrize(
    ("path", "written", "rewritten", "said"),
    [
        (
            f"sources/{REPORT}/source.ttl",
            f'kg:textFile "{REPORT}/text.txt"',
            f'kg:textFile "{REPORT}/text.txt"@en',
            'A report has at most one text file, its path under sources/ as a plain string ("ID/text.txt").',
        ),
        (
            "graph/common/data/actors.ttl",
            'foaf:name "Clare Ribando Seelke"',
            'foaf:name "Clare Ribando Seelke"@en',
            "A person has exactly one foaf:name, a plain string.",
        ),
        (
            "graph/common/data/programmes.ttl",
            'production through collaboration with UNODC"@en',
            'production through collaboration with UNODC"',
            "A programme activity states its aim, a text with its language tag.",
        ),
    ],
    ids=["a text file", "a name", "an aim"],
)
def test_a_value_of_the_wrong_datatype_is_told_what_it_must_be(
    project_copy: Path, tmp_path: Path, path: str, written: str, rewritten: str, said: str
) -> None:
    """`kg:textFile "ID/text.txt"@en` broke the rule that it is a plain string, and the violation said
    `A report has at most one text file.`, of which the metadata gave one; so did other rules whose
    message named the count alone."""
    changed = project_copy / path
    text = changed.read_text("utf-8")
    assert written in text
    changed.write_text(text.replace(written, rewritten, 1), "utf-8")
    message = _build_error(project_copy, tmp_path)
    assert "rule:       sh:datatype" in message, message
    assert said in message, message


def _copy_source(project: Path, name: str) -> Path:
    """The report's source folder copied as it is to sources/<name>/; returns the copy's metadata."""
    shutil.copytree(project / "sources" / REPORT, project / "sources" / name)
    return project / "sources" / name / "source.ttl"


def test_a_copied_source_folder_is_refused_by_a_build_and_a_rebuild(
    project_copy: Path, tmp_path: Path
) -> None:
    """The copy's metadata repeats the report's triples, which the store holds once: only the folder
    it sits in tells that it describes another folder's text."""
    build(project_copy, tmp_path / "dist", tmp_path / "store")
    before = (tmp_path / "dist" / "opioid-kg.nq").read_bytes()
    metadata = _copy_source(project_copy, "copy")
    line = metadata.read_text("utf-8").splitlines().index(f'    kg:textFile "{REPORT}/text.txt" ;') + 1
    expected = f"sources/copy/source.ttl:{line}: describes no report whose text is in sources/copy/"
    assert expected in _build_error(project_copy, tmp_path)  # a rebuild from the build above
    assert (tmp_path / "dist" / "opioid-kg.nq").read_bytes() == before
    assert expected in _build_error(project_copy, tmp_path / "clean")


def test_two_reports_with_one_text_are_refused(project_copy: Path, tmp_path: Path) -> None:
    metadata = _copy_source(project_copy, "copy")
    text = metadata.read_text("utf-8").replace(f'"{REPORT}/text.txt"', '"copy/text.txt"')
    metadata.write_text(
        text.replace("document:crs-2018-heroin-fentanyl-mexico a", "document:copy a"), "utf-8"
    )
    message = _build_error(project_copy, tmp_path)
    line = text.splitlines().index("document:crs-2018-heroin-fentanyl-mexico a kg:Report ;") + 1
    assert (
        f"sources/copy/source.ttl:{line}: {ID}document/copy records the same SHA-256 as "
        f"{ID}document/crs-2018-heroin-fentanyl-mexico ({project_copy}/sources/{REPORT}/source.ttl:{line})"
    ) in message


@pytest.mark.parametrize("named", ["absolute", "relative"])
def test_a_second_report_whose_text_lies_outside_the_sources_is_refused(
    project_copy: Path, tmp_path: Path, named: str
) -> None:
    """Every folder still holds its one report's text, so only where the second report's text lies
    tells: not in a source's folder."""
    outside = tmp_path / "outside.txt"
    outside.write_text("A text from elsewhere.\n", "utf-8")
    path = str(outside) if named == "absolute" else f"{REPORT}/../../../outside.txt"
    digest = hashlib.sha256(outside.read_bytes()).hexdigest()
    metadata = project_copy / "sources" / REPORT / "source.ttl"
    metadata.write_text(
        metadata.read_text("utf-8")
        + "\ndocument:outside a kg:Report ;\n"
        + '    dcterms:title "Outside"@en ;\n    rdfs:label "Outside"@en ;\n'
        + '    dcterms:modified "2018-08-09"^^xsd:date ;\n    dcterms:publisher organization:crs ;\n'
        + "    dcterms:creator person:liana-w-rosen ;\n"
        + f'    kg:textFile "{path}" ;\n    kg:sha256 "{digest}" .\n',
        "utf-8",
    )
    line = metadata.read_text("utf-8").splitlines().index("document:outside a kg:Report ;") + 1
    message = _build_error(project_copy, tmp_path)
    assert f"sources/{REPORT}/source.ttl:{line}: {ID}document/outside: its text {path} is not in a" in message


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("    dcterms:publisher organization:crs ;\n", "needs its publisher (dcterms:publisher)"),
        (
            "    dcterms:creator person:clare-ribando-seelke , person:liana-w-rosen ;\n",
            "needs its authors (dcterms:creator)",
        ),
        ('    dcterms:modified "2018-08-09"^^xsd:date ;\n', "needs its date (dcterms:modified)"),
    ],
)
def test_metadata_without_one_of_its_fields_names_it_and_the_file_and_line(
    project_copy: Path, tmp_path: Path, line: str, said: str
) -> None:
    """Each missing field was told as "needs its publisher, its authors, its date and the file's
    SHA-256 digest", whichever it was."""
    metadata = project_copy / "sources" / REPORT / "source.ttl"
    text = metadata.read_text("utf-8")
    assert line in text
    metadata.write_text(text.replace(line, ""), "utf-8")
    message = _build_error(project_copy, tmp_path)
    assert f"A report with a text file {said}." in message, message
    assert message.count("Violation: A report with a text file needs") == 1, message
    assert f"sources/{REPORT}/source.ttl:" in message


def test_metadata_whose_report_names_no_text_file_says_so_at_the_report(
    project_copy: Path, tmp_path: Path
) -> None:
    """Without its kg:textFile, the metadata was said to describe no report, without a line: it does
    describe one, which lacks the link to its text."""
    metadata = project_copy / "sources" / REPORT / "source.ttl"
    text = metadata.read_text("utf-8")
    link = '    kg:textFile "000_1bdfefaeb44abb70/text.txt" ;\n'
    assert link in text
    metadata.write_text(text.replace(link, ""), "utf-8")
    line = text.splitlines().index("document:crs-2018-heroin-fentanyl-mexico a kg:Report ;") + 1
    message = _build_error(project_copy, tmp_path)
    assert (
        f"sources/{REPORT}/source.ttl:{line}: describes no report whose text is in sources/{REPORT}/: "
        "no report in it names its text with kg:textFile"
    ) in message, message


def test_a_revision_names_one_earlier_report_by_its_iri(project_copy: Path, tmp_path: Path) -> None:
    metadata = project_copy / "sources" / REPORT / "source.ttl"
    text = metadata.read_text("utf-8")
    metadata.write_text(
        text.replace(
            "    dcterms:language", '    prov:wasRevisionOf "an earlier one" ;\n    dcterms:language'
        )
    )
    assert "A report revises at most one earlier report" in _build_error(project_copy, tmp_path)


@pytest.mark.parametrize(
    "named", [REPORT, f"{REPORT}/", f"sources/{REPORT}/", f"./sources/{REPORT}", f"graph/{REPORT}/"]
)
def test_build_of_one_source_writes_beside_the_project_build(project_copy: Path, named: str) -> None:
    """A source is named by its id, or by its folder as a shell completes it (`sources/ID/`,
    `./sources/ID`, `graph/ID/`), which was "no such source"."""
    runner = CliRunner()
    result = runner.invoke(main, ["--project", str(project_copy), "build", "--source", named])
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


@pytest.mark.parametrize("option", ["--store", "--dist"])
def test_build_of_one_source_refuses_another_source_s_build(project_copy: Path, option: str) -> None:
    """`--source A --store .kg/sources/B/store` wrote A's build over B's."""
    other = project_copy / ".kg" / "sources" / "another-source" / option.removeprefix("--")
    result = CliRunner().invoke(
        main, ["--project", str(project_copy), "build", "--source", REPORT, option, str(other)]
    )
    assert result.exit_code == 2, result.output
    assert "not into another source's build" in result.output
    assert not other.exists()


def _built_once(project: Path) -> str:
    """The project built as `kg build` leaves it; the SHA-256 of its dump."""
    result = CliRunner().invoke(main, ["--project", str(project), "build"])
    assert result.exit_code == 0, result.output
    return hashlib.sha256((project / "dist" / "opioid-kg.nq").read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "outputs",
    [
        ("graph/../dist", "graph/../.kg/store"),  # the project's own, spelt another way
        (".kg/generations/current/dist", ".kg/generations/current/store"),  # inside its generation
        ("linked/dist", "linked/store"),  # through a link to the project's .kg
        ("dist/one", ".kg/sources/x/store"),  # inside the project's dist/
        (".kg", ".kg/sources/x/store"),  # over the folder of its build
    ],
    ids=["dot-dot", "generation", "link", "inside-dist", "over-kg"],
)
def test_build_of_one_source_never_writes_over_the_project_build(project_copy: Path, outputs) -> None:
    """Refused before anything is written, however the project's outputs are named."""
    dump = _built_once(project_copy)
    (project_copy / "linked").symlink_to(project_copy / ".kg")
    generations = sorted(path.name for path in (project_copy / ".kg" / "generations").iterdir())
    dist, store = (str(project_copy / path) for path in outputs)
    result = CliRunner().invoke(
        main, ["--project", str(project_copy), "build", "--source", REPORT, "--dist", dist, "--store", store]
    )
    assert result.exit_code == 2, result.output
    assert "kg build --source writes beside the project's build" in result.output
    assert hashlib.sha256((project_copy / "dist" / "opioid-kg.nq").read_bytes()).hexdigest() == dump
    assert sorted(path.name for path in (project_copy / ".kg" / "generations").iterdir()) == generations


def test_an_unknown_source_among_many_names_the_closest_and_counts_the_rest(project_copy: Path) -> None:
    """A library of hundreds of sources listed every id in the one line of the error."""
    for number in range(1, 31):
        (project_copy / "sources" / f"report-{number:02}").mkdir()
    result = CliRunner().invoke(main, ["--project", str(project_copy), "build", "--source", "report-7"])
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    assert "no such source (the closest: report-07, " in line
    named = line.split("the closest: ")[1].split(";")[0].split(", ")
    assert len(named) <= 10 and len(set(named)) == len(named)
    assert f"and {31 - len(named)} more, the folders under sources/)" in line


@pytest.mark.parametrize(
    "source", ["nope", "../../escaped", "/tmp/kg-absolute-source", ".", "..", "", "two\nlines", "a\rb\x1b[2J"]
)
def test_build_of_an_unknown_source_names_the_known_ones_and_makes_no_folder(
    project_copy: Path, source: str
) -> None:
    """In one line: an id holding a line break (or a carriage return) was written as it is, and the
    error took two lines, the second one looking like a message of its own."""
    before = sorted(str(path) for path in project_copy.rglob("*"))
    result = CliRunner().invoke(main, ["--project", str(project_copy), "build", "--source", source])
    assert result.exit_code == 2, result.output
    assert f"no such source (one of: {REPORT})" in result.output
    assert len(result.output.splitlines()) == 1, result.output
    assert sorted(str(path) for path in project_copy.rglob("*")) == before
    assert not Path("/tmp/kg-absolute-source").exists()
    assert not (project_copy.parent / "escaped").exists()


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("with space", "letters, digits"),
        ("a<b", "letters, digits"),
        ("100%zz", "letters, digits"),
        ("common", "names the shared graph/common/"),
        # graph/Common/ is graph/common/ on macOS and Windows, where a clone merges the two
        ("Common", "names the shared graph/common/"),
        ("COMMON", "names the shared graph/common/"),
        # "résumé" with its accents as combining marks, as some file systems write names
        (
            "re\u0301sume\u0301",
            "its name 're\\u0301sume\\u0301' is not in Unicode's composed form (accents written apart from"
            " their letters, as some file systems write names), and its IRIs would not match one typed:"
            " rename it r\u00e9sum\u00e9",
        ),
    ],
)
def test_a_source_id_that_cannot_stand_in_an_iri_is_refused(
    project_copy: Path, tmp_path: Path, name: str, why: str
) -> None:
    (project_copy / "sources" / REPORT).rename(project_copy / "sources" / name)
    message = _build_error(project_copy, tmp_path)
    assert f"sources/{name}: " in message and why in message


@pytest.mark.parametrize("where", ["graph", "both"])
def test_a_decomposed_name_beside_its_composed_source_is_named_so(
    project_copy: Path, tmp_path: Path, where: str
) -> None:
    """The source `résumé` composed, and its graph folder (or a second sources folder) decomposed, as
    some file systems write names: the graph folder was said to have no source, under a name that
    looks the same."""
    composed, decomposed = "r\u00e9sum\u00e9", "re\u0301sume\u0301"
    (project_copy / "sources" / REPORT).rename(project_copy / "sources" / composed)
    (project_copy / "graph" / REPORT).rename(project_copy / "graph" / decomposed)
    if where == "both":
        (project_copy / "sources" / decomposed).mkdir()
        (project_copy / "graph" / decomposed).rename(project_copy / "graph" / composed)
    message = _build_error(project_copy, tmp_path)
    folder = "graph" if where == "graph" else "sources"
    advice = f"rename it {composed}" if where == "graph" else f"{composed} is there too: keep one"
    assert (
        f"{folder}/{decomposed}: its name 're\\u0301sume\\u0301' is not in Unicode's composed form" in message
    )
    assert message.endswith(advice), message


def test_two_source_ids_that_differ_only_in_case_are_refused(project_copy: Path, tmp_path: Path) -> None:
    """`Report` and `report` are two folders here and one on macOS or Windows, where a clone would
    lose one of them."""
    (project_copy / "sources" / "report").mkdir()
    (project_copy / "sources" / "Report").mkdir()
    message = _build_error(project_copy, tmp_path)
    assert "sources/report: its id differs from Report's only in case: rename one" in message, message


def test_hidden_entries_under_sources_are_not_sources(project_copy: Path, tmp_path: Path) -> None:
    (project_copy / "sources" / ".hidden").mkdir()
    (project_copy / "sources" / ".DS_Store").write_bytes(b"\0")
    assert build(project_copy, tmp_path / "dist", tmp_path / "store").triples_per_graph["data"] > 0


def test_a_folder_that_is_not_a_project_is_not_built(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["--project", str(tmp_path / "empty"), "build"])
    assert result.exit_code == 2, result.output
    assert "not an opioid-kg project: it has no ontology/" in result.output
    assert sorted(path.name for path in (tmp_path / "empty").iterdir()) == []


FIXTURE = "fixture-poppy-estimate"
ID = "https://w3id.org/opioid-kg/id/"


def _answer(store, name: str, **given: str) -> list[dict[str, str]]:
    query = load_catalogue(PROJECT / "queries")[name]
    result = run_query(store, query.text, binding_terms(query.bindings(given)), source=name)
    return [{key: term.value for key, term in row.items() if term is not None} for row in result.rows]


def test_sources_that_disagree_are_found_each_with_its_evidence(library_built) -> None:
    rows = _answer(library_built.store(), "source-disagreements")
    assert {(row["source"], row["value"], row["agency"]) for row in rows} == {
        (ID + "document/crs-2018-heroin-fentanyl-mexico", "44100", ID + "organization/ondcp"),
        (ID + "document/fixture-poppy-estimate", "40000", ID + "organization/fixture-estimates-desk"),
    }
    assert {(row["area"], row["period"], row["unit"]) for row in rows} == {
        (ID + "country/MX", ID + "period/2017", "http://qudt.org/vocab/unit/HA")
    }
    assert any(
        "44,100 hectares of opium poppy were cultivated in Mexico in 2017" in row["exact"] for row in rows
    )
    assert any("in 2017 at 40,000 hectares" in row["exact"] for row in rows)


def test_one_report_alone_disagrees_with_nothing(store) -> None:
    assert _answer(store, "source-disagreements") == []


def test_each_source_says_its_own_figure_about_a_thing(library_built) -> None:
    rows = _answer(library_built.store(), "source-statements", subject=ID + "country/MX")
    said = {(row["source"], row["fact"]) for row in rows}
    assert (
        ID + "document/crs-2018-heroin-fentanyl-mexico",
        ID + "observation/mx-poppy-cultivation-2017",
    ) in said
    assert (
        ID + "document/fixture-poppy-estimate",
        ID + "observation/fixture-mx-poppy-cultivation-2017",
    ) in said
    fixture = [row for row in rows if row["source"] == ID + "document/fixture-poppy-estimate"]
    assert {row["predicate"] for row in fixture} == {"https://w3id.org/opioid-kg/ontology#refArea"}
    assert {row["sourceTitle"] for row in fixture} == {
        "Test fixture: a poppy cultivation estimate that differs from the report's"
    }


def test_what_a_source_says_is_never_a_triple_of_the_background(store, dataset) -> None:
    """The background's 'opium gum is derived from opium poppy' (its source DEA's resource guide)
    stood among what the report says of opium poppy, quoting the report's sentence on opium gum
    seizures: the link came from the background graph, the quote from the linked thing's evidence."""
    background = dataset.graph(graph_iri("background"))
    links = [(s, p, o) for s, p, o in background if isinstance(o, URIRef) and o.startswith(ID)]
    assert any(o == URIRef(ID + "substance/opium-poppy") for _, _, o in links)
    for subject in {o for _, _, o in links}:
        rows = _answer(store, "source-statements", subject=subject)
        said = {(row["fact"], row.get("predicate")) for row in rows}
        assert not {(str(s), str(p)) for s, p, o in links if o == subject} & said, subject


def test_each_source_s_figures_are_a_series_of_their_own(library_built) -> None:
    """The report gives Mexico's cultivation as 32,000 and 44,100 hectares, the fixture as 40,000 for
    2017: one series joined the three, a line from the report's 2017 down to the fixture's, naming
    neither. Each source's figures are a series of their own, named by their source."""
    store = library_built.store()
    (measure,) = series.resolve_measures(store, ["poppyCultivationArea"])
    found = {one.label: one for one in series.time_series(store, measure, "MX")}
    assert {label: [point.value for point in one.points] for label, one in found.items()} == {
        "Mexico (source: Congressional Research Service, 2018-08-09)": [32000.0, 44100.0],
        "Mexico (source: Fixture Estimates Desk, 2026-01-01)": [40000.0],
    }
    assert "rose 38%, 2016 to 2017" in "; ".join(
        found["Mexico (source: Congressional Research Service, 2018-08-09)"].changes
    )


def test_a_legend_of_long_names_lies_within_its_chart(library_built, tmp_path: Path) -> None:
    """The two sources' series, each named by its source, were set side by side in the legend, which
    began 70 points left of the picture and ended past its right edge: both names were cut."""
    output = tmp_path / "chart.svg"
    command = ["chart", "poppyCultivationArea", "-o", str(output), "--store", str(library_built.store_path)]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 0, result.output
    root = ET.parse(output).getroot()
    placed = [text for text in root.iter(f"{SVG}text") if text.get("x") is not None]
    legend = [text for text in placed if "(source: " in "".join(text.itertext())]
    assert len(legend) == 2, [ET.tostring(text) for text in placed]
    assert all(float(text.get("x", "0")) >= 0 for text in legend), [text.get("x") for text in legend]


# A second report of the fixture's desk and date, giving Mexico's 2017 cultivation once more
SAME_DESK_AND_DATE = f"""
@prefix kg: <https://w3id.org/opioid-kg/ontology#> .
<{ID}document/fixture-second> <http://purl.org/dc/terms/publisher> <{ID}organization/fixture-estimates-desk> ;
    <http://purl.org/dc/terms/modified> "2026-01-01"^^<http://www.w3.org/2001/XMLSchema#date> .
<{ID}excerpt/fixture-second> <http://www.w3.org/ns/oa#hasSource> <{ID}document/fixture-second> .
<{ID}observation/fixture-second> a <http://purl.org/linked-data/cube#Observation> ;
    <http://purl.org/linked-data/cube#measureType> kg:poppyCultivationArea ;
    kg:poppyCultivationArea 38000.0 ;
    kg:unit <http://qudt.org/vocab/unit/HA> ;
    kg:refArea <{ID}country/MX> ;
    kg:refPeriod <{ID}period/2017> ;
    <http://www.w3.org/ns/prov#wasDerivedFrom> <{ID}excerpt/fixture-second> .
"""


def test_two_sources_of_one_desk_and_date_are_two_series_named_apart(library_built) -> None:
    """Series were named by their source's publisher and date alone: two reports of one desk and date
    gave two series of one name, one left out of the chart's title, and the legend cut off the date
    that told the report's series from the others."""
    store = ox.Store()
    store.extend(library_built.store().quads())
    data = ox.NamedNode(graph_iri("data"))
    store.load(SAME_DESK_AND_DATE.encode("utf-8"), ox.RdfFormat.TURTLE, to_graph=data)
    extended = EmbeddedStore(library_built.store_path, copy=store)
    (measure,) = series.resolve_measures(extended, ["poppyCultivationArea"])
    found = series.time_series(extended, measure, "MX")
    assert sorted(one.label for one in found) == [
        "Mexico (source: Congressional Research Service, 2018-08-09)",
        "Mexico (source: Fixture Estimates Desk, 2026-01-01, fixture-poppy-estimate)",
        "Mexico (source: Fixture Estimates Desk, 2026-01-01, fixture-second)",
    ]
    root = ET.fromstring(chart(found))
    shown = ["".join(text.itertext()) for text in root.iter(f"{SVG}text")]
    legend = [text for text in shown if "(source: " in text and "(hectares)" in text]
    assert len(set(legend)) == 3, shown
    assert any("Congressional Research Service, 2018-08-09" in text for text in legend), legend
    assert sum("fixture-second" in text for text in shown) >= 2, shown  # its legend and the title


def test_the_description_of_a_library_claims_no_source_s_rights_for_all(library_built) -> None:
    """dist/void.ttl said every source report was a work of the United States Government, true of
    the first report (whose metadata says so, quoting it) and said of any source added beside it."""
    described = ox.parse(path=str(library_built.dist / "void.ttl"), format=ox.RdfFormat.TURTLE)
    rights = "http://purl.org/dc/terms/rights"
    (said,) = {triple.object.value for triple in described if triple.predicate.value == rights}
    assert "United States Government" not in said and "its own rights" in said


def test_kg_sources_lists_both_sources_with_their_counts(library_built) -> None:
    result = CliRunner().invoke(main, ["sources", "--store", str(library_built.store_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].startswith(f"{REPORT}   2018-08-09")
    # the facts curated from it: an agency and an observation, not its own description
    assert lines[2].startswith(f"{FIXTURE} 2026-01-01        3      2  Test fixture")
    draft = "Test fixture: a draft of the poppy cultivation estimate"
    assert lines[2].endswith(f"(revises {draft} <{ID}document/fixture-poppy-estimate-draft>)")
    assert result.output.rstrip().endswith("2 source(s)")


def test_build_of_the_fixture_source_takes_only_the_evidence_common_cites(library_root: Path) -> None:
    """graph/common/ rests on the report's excerpts: a build of the fixture alone takes those, and not
    the report's other excerpts (which only the report's own facts cite)."""
    result = CliRunner().invoke(main, ["--project", str(library_root), "build", "--source", FIXTURE])
    assert result.exit_code == 0, result.output
    quads = (library_root / ".kg" / "sources" / FIXTURE / "dist" / "opioid-kg.nq").read_text("utf-8")
    assert "<https://w3id.org/opioid-kg/id/observation/fixture-mx-poppy-cultivation-2017>" in quads
    assert "<https://w3id.org/opioid-kg/id/excerpt/cultivation-2017>" in quads  # cited by organization:ondcp
    assert "<https://w3id.org/opioid-kg/id/observation/mx-poppy-cultivation-2017>" not in quads
    assert "<https://w3id.org/opioid-kg/id/excerpt/disclaimer-reliance>" not in quads


def test_a_text_whose_digest_differs_names_its_metadata_and_text(project_copy: Path, tmp_path: Path) -> None:
    metadata = project_copy / "sources" / REPORT / "source.ttl"
    recorded = hashlib.sha256((project_copy / "sources" / REPORT / "text.txt").read_bytes()).hexdigest()
    metadata.write_text(metadata.read_text("utf-8").replace(recorded, "0" * 64), "utf-8")
    message = _build_error(project_copy, tmp_path)
    assert f"sources/{REPORT}/source.ttl:" in message
    assert f"the SHA-256 of {REPORT}/text.txt is {recorded}, not the recorded {'0' * 64}" in message


def test_a_text_whose_line_endings_a_checkout_converted_says_so(project_copy: Path, tmp_path: Path) -> None:
    """Git for Windows converts line endings to CR LF by default: every excerpt and the digest then
    failed, and nothing said why."""
    text = project_copy / "sources" / REPORT / "text.txt"
    text.write_bytes(text.read_bytes().replace(b"\n", b"\r\n"))
    message = _build_error(project_copy, tmp_path)
    assert f"the SHA-256 of {REPORT}/text.txt is " in message
    assert "its line endings are Windows' CR LF, and with LF it is the text recorded" in message, message


def test_a_checkout_that_converts_line_endings_leaves_the_source_texts_as_they_are(
    project_root: Path, tmp_path: Path
) -> None:
    """The project's `.gitattributes`, in a repository cloned with `core.autocrlf=true`: a source
    text keeps its bytes, and any other text file its LF line endings."""
    origin = tmp_path / "origin"
    (origin / "sources" / "x").mkdir(parents=True)
    shutil.copy(project_root / ".gitattributes", origin / ".gitattributes")
    (origin / "sources" / "x" / "text.txt").write_bytes(b"one\ntwo\n")
    (origin / "a.ttl").write_bytes(b"@prefix a: <urn:a#> .\na:b a:c a:d .\n")

    def git(*arguments: str, where: Path = origin) -> None:
        subprocess.run(["git", "-C", str(where), *arguments], check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "files")
    git("-c", "core.autocrlf=true", "clone", "-q", str(origin), str(tmp_path / "clone"), where=tmp_path)
    assert (tmp_path / "clone" / "sources" / "x" / "text.txt").read_bytes() == b"one\ntwo\n"
    assert b"\r\n" not in (tmp_path / "clone" / "a.ttl").read_bytes()


def test_a_text_linked_to_a_file_elsewhere_is_refused(project_copy: Path, tmp_path: Path) -> None:
    text = project_copy / "sources" / REPORT / "text.txt"
    elsewhere = tmp_path / "elsewhere.txt"
    shutil.move(text, elsewhere)
    text.symlink_to(elsewhere)
    message = _build_error(project_copy, tmp_path)
    assert "is not in a source's folder under sources/ (it is a link to a file elsewhere)" in message


def test_a_digest_recorded_in_capitals_is_said_to_be_the_same(project_copy: Path, tmp_path: Path) -> None:
    """It was told as a text that changed ("is 04f2…, not the recorded 04F2…")."""
    metadata = project_copy / "sources" / REPORT / "source.ttl"
    recorded = hashlib.sha256((project_copy / "sources" / REPORT / "text.txt").read_bytes()).hexdigest()
    metadata.write_text(metadata.read_text("utf-8").replace(recorded, recorded.upper()), "utf-8")
    message = _build_error(project_copy, tmp_path)
    assert (
        f"not the recorded {recorded.upper()} (the same digest in capitals: kg:sha256 writes it in lower case"
        in message
    )


@pytest.mark.parametrize("linked", ["a source's folder", "sources/", "graph/"])
def test_a_folder_linked_to_one_elsewhere_is_refused(project_copy: Path, tmp_path: Path, linked: str) -> None:
    """A linked text is refused; a source's folder, or sources/ itself, linked to a copy elsewhere on the
    disk passed, clean build and rebuild, as its text's place was compared with links resolved."""
    folder = {
        "a source's folder": project_copy / "sources" / REPORT,
        "sources/": project_copy / "sources",
        "graph/": project_copy / "graph",
    }[linked]
    elsewhere = tmp_path / "elsewhere"
    shutil.move(folder, elsewhere)
    folder.symlink_to(elsewhere)
    assert f"{folder}: a link to a folder is not followed" in _build_error(project_copy, tmp_path)


@pytest.mark.parametrize("stated", ['"44100"^^xsd:integer', '"44100.0"^^xsd:decimal'])
def test_figures_equal_as_numbers_do_not_disagree(library: Path, tmp_path: Path, stated: str) -> None:
    """The fixture's figure written as the report's own value in another numeric type its measure's
    range takes (a double it does not: `ObservationShape`): the same number, so no disagreement (they
    were counted as two values)."""
    statistics = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    text = statistics.read_text("utf-8").replace('"40000"^^xsd:decimal', stated)
    statistics.write_text(_citing_the_other_estimates(text), "utf-8")
    build(library, tmp_path / "dist", tmp_path / "store")
    assert _answer(EmbeddedStore(tmp_path / "store"), "source-disagreements") == []


def test_a_source_whose_curated_folder_is_gone_is_refused(library: Path, tmp_path: Path) -> None:
    """Its metadata still cites its excerpts and names its publisher, both described in the folder."""
    shutil.rmtree(library / "graph" / FIXTURE)
    message = _build_error(library, tmp_path)
    assert "prov:wasDerivedFrom must point at an excerpt" in message
    assert "publisher is an agent the graph describes" in message
    assert f"sources/{FIXTURE}/source.ttl:" in message


@pytest.mark.parametrize(
    "arguments",
    [
        ["--source", REPORT, "--dist", "sources"],
        ["--source", REPORT, "--store", "ontology"],
        ["--dist", "graph"],
    ],
    ids=["one source over sources/", "one source's store over ontology/", "dist over graph/"],
)
def test_a_build_never_writes_over_a_folder_it_did_not_make(project_copy: Path, arguments: list[str]) -> None:
    """The folder was moved aside as if an older build had made it, then removed."""
    before = sorted(str(path.relative_to(project_copy)) for path in project_copy.rglob("*"))
    named = [
        str(project_copy / value) if value in ("sources", "ontology", "graph") else value
        for value in arguments
    ]
    result = CliRunner().invoke(main, ["--project", str(project_copy), "build", *named])
    assert result.exit_code != 0, result.output
    assert "a build writes outside the folders it reads" in result.output
    after = sorted(str(path.relative_to(project_copy)) for path in project_copy.rglob("*"))
    assert [path for path in before if path not in after] == []


def test_a_loop_of_links_as_an_output_is_a_one_line_error(project_copy: Path, tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    result = CliRunner().invoke(
        main,
        ["--project", str(project_copy), "build", "--source", REPORT, "--dist", str(tmp_path / "loop" / "x")],
    )
    assert result.exit_code == 2, result.output
    assert "cannot follow the links of" in result.output and "Traceback" not in result.output


def test_build_of_one_source_needs_an_embedded_store(project_copy: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["--project", str(project_copy), "build", "--source", REPORT, "--store", "http://127.0.0.1:9/query"],
    )
    assert result.exit_code == 2, result.output
    assert "needs an embedded store's folder, not the endpoint" in result.output
    assert not Path("http:").exists()


def test_build_of_one_source_in_a_folder_that_is_not_a_project(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--project", str(tmp_path), "build", "--source", "x"])
    assert result.exit_code == 2, result.output
    assert "not an opioid-kg project" in result.output


def test_a_selector_written_in_another_graph_is_read_there(project_copy: Path, tmp_path: Path) -> None:
    """Each triple of an excerpt is read in whichever graph it is written: a quote selector moved to a
    data file still matches its source."""
    excerpts = project_copy / "graph" / REPORT / "provenance" / "excerpts.ttl"
    text = excerpts.read_text("utf-8")
    start = text.index("excerpt:cultivation-2017-quote a oa:TextQuoteSelector")
    end = text.index(" .\n", start) + 3
    prefixes = "".join(line + "\n" for line in text.splitlines() if line.startswith("@prefix"))
    excerpts.write_text(text[:start] + text[end:], "utf-8")
    (project_copy / "graph" / REPORT / "data" / "split.ttl").write_text(prefixes + text[start:end], "utf-8")
    assert build(project_copy, tmp_path / "dist", tmp_path / "store").excerpts_checked == 65


def _files_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def _refused(project: Path, *arguments: str) -> str:
    result = CliRunner().invoke(main, ["--project", str(project), "build", *arguments])
    assert result.exit_code != 0, result.output
    return result.output


def test_a_build_leaves_a_folder_beside_its_store_that_it_did_not_make(
    project_copy: Path, tmp_path: Path
) -> None:
    """Its generations, parsed and reach folders were emptied of whatever they held."""
    out = tmp_path / "out"
    for path in (
        "generations/notes.txt",
        "generations/mine/a.txt",
        "reach/sub/b.txt",
        "parsed/c.json",
        ".store.bak-1",
    ):
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_text("kept", "utf-8")
    before = _files_under(out)
    assert "is not a build's" in _refused(
        project_copy, "--store", str(out / "store"), "--dist", str(out / "dist")
    )
    assert _files_under(out) == before


def test_two_stores_in_one_folder_are_refused(project_copy: Path, tmp_path: Path) -> None:
    """They shared one generations folder: the second project's store then showed the first's data."""
    stores = tmp_path / "stores"
    first = CliRunner().invoke(
        main,
        [
            "--project",
            str(project_copy),
            "build",
            "--store",
            str(stores / "a"),
            "--dist",
            str(tmp_path / "a"),
        ],
    )
    assert first.exit_code == 0, first.output
    output = _refused(project_copy, "--store", str(stores / "b"), "--dist", str(tmp_path / "b"))
    assert "holds the builds of the store" in output and "a store needs a folder of its own" in output


@pytest.mark.parametrize(
    ("kept", "option"),
    [(("opioid-kg.nq", "thesis.docx", "photos/1.jpg"), "--dist"), (("CURRENT", "data.sst"), "--store")],
    ids=["a folder holding a dump", "a folder holding a CURRENT file"],
)
def test_a_folder_with_files_a_build_never_writes_is_not_taken_for_an_old_build(
    project_copy: Path, tmp_path: Path, kept: tuple[str, ...], option: str
) -> None:
    folder = tmp_path / "mine"
    for name in kept:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("kept", "utf-8")
    other = "--store" if option == "--dist" else "--dist"
    output = _refused(project_copy, option, str(folder), other, str(tmp_path / "out" / "x"))
    assert "is not a build's output" in output
    assert _files_under(folder) == sorted(kept + (("photos",) if "photos/1.jpg" in kept else ()))


@pytest.mark.parametrize("dist", ["o", "o/generations/mine", "o/parsed", "o/reach/x"])
def test_dist_apart_from_the_build_s_own_folders(project_copy: Path, tmp_path: Path, dist: str) -> None:
    output = _refused(project_copy, "--store", str(tmp_path / "o" / "store"), "--dist", str(tmp_path / dist))
    assert "dist/ must stand apart from the store and the build's own folders" in output
    assert not (tmp_path / "o" / "generations").exists()


def _citing_the_other_estimates(statistics: str) -> str:
    """The fixture's observation derived from the sentence that writes 44,100 and 32,000, which the
    build checks its figure against, in place of the one that writes 40,000."""
    observation = statistics.index("kg:poppyCultivationArea")
    cited = statistics.index("prov:wasDerivedFrom excerpt:fixture-cultivation-2017", observation)
    return (
        statistics[:cited]
        + "prov:wasDerivedFrom excerpt:fixture-other-estimates"
        + statistics[cited + len("prov:wasDerivedFrom excerpt:fixture-cultivation-2017") :]
    )


def _second_estimate(name: str, source: str, value: str, agency: str, excerpt: str) -> str:
    """Turtle of a second data set of `source` giving Mexico's 2017 cultivation as `value`, with
    its one observation: a source may give two figures for one thing (a range's two ends, two
    estimates), each in a data set of its own."""
    return f"""
dataset:{name} a qb:DataSet ;
    rdfs:label "Opium poppy cultivation area: a second estimate ({name})"@en ;
    qb:structure dataset:structure-poppy-cultivation-area ;
    dcterms:source document:{source} .

obs:{name}-mx-2017 a qb:Observation ;
    rdfs:label "Opium poppy cultivation area, Mexico, 2017 ({name})"@en ;
    qb:dataSet dataset:{name} ;
    qb:measureType kg:poppyCultivationArea ;
    kg:substance substance:opium-poppy ;
    kg:poppyCultivationArea "{value}"^^xsd:decimal ;
    kg:unit unit:HA ;
    kg:refArea country:MX ;
    kg:refPeriod period:2017 ;
    prov:wasAttributedTo organization:{agency} ;
    prov:wasDerivedFrom excerpt:{excerpt} .
"""


@pytest.mark.parametrize("both", [True, False], ids=["both give both figures", "one gives a second"])
def test_sources_that_give_the_same_figures_agree(library: Path, tmp_path: Path, both: bool) -> None:
    """Each source gives 32,000 and 44,100 for Mexico in 2017 (figures their excerpts write, as the
    build requires): they agree, though the group holds two values (it was reported as a
    disagreement). With the report's second figure left out, the report lacks one the fixture gives:
    a disagreement, every figure of the group a row."""
    fixture = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    first = _citing_the_other_estimates(
        fixture.read_text("utf-8").replace('"40000"^^xsd:decimal', '"32000"^^xsd:decimal')
    )
    fixture.write_text(
        first
        + _second_estimate(
            "fixture-second", FIXTURE, "44100", "fixture-estimates-desk", "fixture-other-estimates"
        ),
        "utf-8",
    )
    if both:
        report = library / "graph" / REPORT / "data" / "statistics.ttl"
        report.write_text(
            report.read_text("utf-8")
            + _second_estimate(
                "report-second", "crs-2018-heroin-fentanyl-mexico", "32000", "ondcp", "cultivation-2017"
            ),
            "utf-8",
        )
    build(library, tmp_path / "dist", tmp_path / "store")
    rows = _answer(EmbeddedStore(tmp_path / "store"), "source-disagreements")
    if both:
        assert rows == []
    else:
        assert sorted((row["source"].rsplit("/", 1)[1], row["value"]) for row in rows) == [
            ("crs-2018-heroin-fentanyl-mexico", "44100"),
            ("fixture-poppy-estimate", "32000"),
            ("fixture-poppy-estimate", "44100"),
        ]


def _fixture_states(library: Path, sentence: str) -> str:
    """Adds `sentence` to the end of the fixture's text (its digest recorded again, its earlier
    excerpts where they were) and an excerpt quoting it; returns the excerpt's name."""
    text = library / "sources" / FIXTURE / "text.txt"
    before = text.read_text("utf-8")
    text.write_text(before + "\n" + sentence + "\n", "utf-8")
    metadata = library / "sources" / FIXTURE / "source.ttl"
    digest = hashlib.sha256(before.encode("utf-8")).hexdigest()
    now = hashlib.sha256(text.read_bytes()).hexdigest()
    metadata.write_text(metadata.read_text("utf-8").replace(digest, now), "utf-8")
    start = len(before) + 1
    excerpts = library / "graph" / FIXTURE / "provenance" / "excerpts.ttl"
    excerpts.write_text(
        excerpts.read_text("utf-8")
        + f"""
excerpt:fixture-bound a kg:Excerpt ;
    oa:hasSource document:fixture-poppy-estimate ;
    oa:hasSelector excerpt:fixture-bound-quote , excerpt:fixture-bound-position .
excerpt:fixture-bound-quote a oa:TextQuoteSelector ;
    oa:exact "{sentence}" .
excerpt:fixture-bound-position a oa:TextPositionSelector ;
    oa:start "{start}"^^xsd:nonNegativeInteger ;
    oa:end "{start + len(sentence)}"^^xsd:nonNegativeInteger .
""",
        "utf-8",
    )
    return "fixture-bound"


@pytest.mark.parametrize(
    ("words", "qualifier", "value", "disagree"),
    [
        ("more than 40,000", "more-than", "40000", False),
        ("nearly 45,000", "nearly", "45000", False),
        ("less than 40,000", "less-than", "40000", True),
        ("more than 50,000", "more-than", "50000", True),
        ("about 44,000", "approximate", "44000", False),
        ("about 40,000", "approximate", "40000", False),
        ("about 50,000", "approximate", "50000", True),
        ("about 44,150", "approximate", "44150", True),
        ("about 44,100.5", "approximate", "44100.5", True),
    ],
)
def test_a_bound_disagrees_only_with_the_values_outside_it(
    library: Path, tmp_path: Path, words: str, qualifier: str, value: str, disagree: bool
) -> None:
    """The fixture gives Mexico's 2017 cultivation as a bound, the report 44,100 hectares: "more than
    40,000" and "nearly 45,000" both hold of 44,100, so the sources agree (each was a disagreement,
    the bound read as the value); "less than 40,000" and "more than 50,000" do not. An approximate
    figure holds within half a unit of its last non-zero digit: "about 44,000" (43,500 to 44,500) and
    "about 40,000" (35,000 to 45,000) hold of 44,100, "about 50,000", "about 44,150" (44,145 to
    44,155) and "about 44,100.5" (44,100.45 to 44,100.55) do not (each was read as exact)."""
    excerpt = _fixture_states(
        library, f"A later estimate of the desk puts it at {words} hectares for Mexico in 2017."
    )
    statistics = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    text = statistics.read_text("utf-8")
    observation = text.index("obs:fixture-mx-poppy-cultivation-2017")
    text = text[:observation] + text[observation:].replace(
        '"40000"^^xsd:decimal ;',
        f'"{value}"^^xsd:decimal ;\n    kg:qualifier <{ID}qualifier/{qualifier}> ;',
        1,
    ).replace("excerpt:fixture-cultivation-2017 .", f"excerpt:{excerpt} .", 1)
    statistics.write_text(text, "utf-8")
    build(library, tmp_path / "dist", tmp_path / "store")
    rows = _answer(EmbeddedStore(tmp_path / "store"), "source-disagreements")
    found = {(Decimal(row["value"]), row.get("bound", "")) for row in rows}
    if disagree:
        assert found == {(Decimal("44100"), ""), (Decimal(value), f"{ID}qualifier/{qualifier}")}
    else:
        assert rows == []
    # rdflib's engine reads the bounds and ranges alike.
    dataset = Dataset(default_union=True)
    dataset.parse(tmp_path / "dist" / "opioid-kg.nq", format="nquads")
    in_memory = dataset.query(load_catalogue(PROJECT / "queries")["source-disagreements"].text)
    assert {(Decimal(str(row["value"])), str(row["bound"] or "")) for row in in_memory} == found


def test_a_stated_change_quoting_two_excerpts_of_its_source_is_one_row(library: Path, tmp_path: Path) -> None:
    """A change without its observations, stated in two sentences of one source: one row for it (the
    source was read through each excerpt, a row each)."""
    fixture = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    fixture.write_text(
        fixture.read_text("utf-8")
        + """
@prefix change: <https://w3id.org/opioid-kg/id/change/> .
@prefix direction: <https://w3id.org/opioid-kg/id/direction/> .

change:fixture-mx-poppy-cultivation-2016-2017 a kg:StatedChange ;
    rdfs:label "Increase in opium poppy cultivation area, Mexico, 2016 to 2017 (test fixture)"@en ;
    kg:measure kg:poppyCultivationArea ;
    kg:refArea country:MX ;
    kg:fromPeriod period:2016 ;
    kg:toPeriod period:2017 ;
    kg:direction direction:increase ;
    prov:wasAttributedTo organization:fixture-estimates-desk ;
    prov:wasDerivedFrom excerpt:fixture-cultivation-2017 , excerpt:fixture-not-a-report .
""",
        "utf-8",
    )
    build(library, tmp_path / "dist", tmp_path / "store")
    rows = _answer(EmbeddedStore(tmp_path / "store"), "poppy-cultivation-change")
    stated = [
        row for row in rows if row.get("change") == ID + "change/fixture-mx-poppy-cultivation-2016-2017"
    ]
    assert [row["source"] for row in stated] == [ID + "document/fixture-poppy-estimate"]


def test_a_source_build_names_another_source_s_evidence_where_it_is_written(library: Path) -> None:
    """An excerpt of the report that graph/common/ cites, misquoted: the build of the fixture alone
    names the report's file and line, as the full build does, not the copy it reads the evidence from
    (a file gone once the build failed)."""
    excerpts = library / "graph" / REPORT / "provenance" / "excerpts.ttl"
    text = excerpts.read_text("utf-8")
    excerpts.write_text(text.replace('"Mexican farmers may be', '"Mexican farmers must be'), "utf-8")
    line = next(
        n for n, row in enumerate(text.splitlines(), 1) if row.startswith("excerpt:multiple-harvests ")
    )
    result = CliRunner().invoke(main, ["--project", str(library), "build", "--source", FIXTURE])
    assert result.exit_code == 1, result.output
    assert f"{excerpts}:{line}:" in result.output, result.output
    assert "cited-evidence" not in result.output


def test_a_source_build_takes_the_evidence_its_own_facts_cite_in_another_source(library: Path) -> None:
    """The fixture's agency also rests on an excerpt of the report that graph/common/ does not cite: the
    full build passes, and the build of the fixture alone, which checks what the full build checks for
    that source, passes too (it failed: the excerpt was not read)."""
    statistics = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    text = statistics.read_text("utf-8")
    cited = "    prov:wasDerivedFrom excerpt:fixture-cultivation-2017 .\n\ndataset:"
    assert cited in text
    statistics.write_text(text.replace(cited, cited.replace(" .", " , excerpt:disagreements .")), "utf-8")
    for command in (["build"], ["build", "--source", FIXTURE]):
        result = CliRunner().invoke(main, ["--project", str(library), *command])
        assert result.exit_code == 0, (command, result.output)


@pytest.mark.parametrize(
    "named",
    [
        f"<{ID}flow/china-us-fentanyl-direct-mail>",  # described in the report's Turtle
        "obs:mx-poppy-cultivation-2017",  # a row of the report's table
    ],
)
def test_a_source_build_takes_the_things_its_own_facts_name_in_another_source(
    library: Path, named: str
) -> None:
    """The fixture's observation names a thing that the report's curated files describe: the full
    build passes, and the build of the fixture alone passes too (it said the thing was described
    nowhere, as it read no other source's data)."""
    statistics = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    text = statistics.read_text("utf-8")
    period = "    kg:refPeriod period:2017 ;\n"
    assert period in text
    statistics.write_text(text.replace(period, f"{period}    rdfs:seeAlso {named} ;\n"), "utf-8")
    for command in (["build"], ["build", "--source", FIXTURE]):
        result = CliRunner().invoke(main, ["--project", str(library), *command])
        assert result.exit_code == 0, (command, result.output)


def test_a_source_build_names_another_source_s_thing_where_it_is_written(library: Path) -> None:
    """A thing of the report that the fixture names, broken in the report's table (its period not a
    period): the build of the fixture alone names the table's file and line, as the full build does."""
    statistics = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    text = statistics.read_text("utf-8")
    period = "    kg:refPeriod period:2017 ;\n"
    statistics.write_text(
        text.replace(period, f"{period}    rdfs:seeAlso obs:mx-poppy-cultivation-2017 ;\n"), "utf-8"
    )
    table = library / "graph" / REPORT / "tables" / "poppy-cultivation.csv"
    table.write_text(table.read_text("utf-8").replace(",2017,MX,", ",2017,XX,"), "utf-8")
    result = CliRunner().invoke(main, ["--project", str(library), "build", "--source", FIXTURE])
    assert result.exit_code == 1, result.output
    assert f"{table}:3: <{ID}country/XX> is described nowhere" in result.output, result.output


def test_a_data_cube_failure_names_where_its_nodes_are_written(library: Path, tmp_path: Path) -> None:
    """The fixture's table, its description copied from the report's, names its row's observation as
    the report's table names its own (`observation/{observation}`, the same row id): one observation
    of two data sets, which the Data Cube's checks refuse. Their error named the observation and the
    data sets alone; it names the rows and files that describe them."""
    report = library / "graph" / REPORT / "tables"
    tables = library / "graph" / FIXTURE / "tables"
    tables.mkdir()
    (tables / "poppy.csv").write_text(
        "observation,label,year,area,hectares,agency,excerpt\n"
        'mx-poppy-cultivation-2017,"Opium poppy, Mexico, 2017 (desk)",2017,MX,40000,'
        "fixture-estimates-desk,fixture-cultivation-2017\n",
        "utf-8",
    )
    description = (report / "poppy-cultivation.csv-metadata.json").read_text("utf-8")
    for old, new in (
        ('"url": "poppy-cultivation.csv"', '"url": "poppy.csv"'),
        ("document/crs-2018-heroin-fentanyl-mexico", f"document/{FIXTURE}"),
        ("dataset/crs-2018-poppy-cultivation-area", "dataset/fixture-poppy-cultivation-area"),
    ):
        assert old in description
        description = description.replace(old, new)
    (tables / "poppy.csv-metadata.json").write_text(description, "utf-8")
    message = _build_error(library, tmp_path)
    assert "IC-1. Unique DataSet" in message, message
    rows = f"{report / 'poppy-cultivation.csv'}:3, {tables / 'poppy.csv'}:2"
    assert f"  ?obs written at: {rows}" in message, message


@pytest.mark.parametrize("inside", ["graph/x/out", "sources/out", "ontology/out", "graph"])
@pytest.mark.parametrize("option", ["--dist", "--store"])
def test_a_build_writes_nothing_into_the_folders_it_reads(
    project_copy: Path, tmp_path: Path, inside: str, option: str
) -> None:
    """`--dist graph/x/out` left a link under graph/ that every later build refused as an input."""
    other = "--store" if option == "--dist" else "--dist"
    before = _files_under(project_copy)
    output = _refused(project_copy, option, str(project_copy / inside), other, str(tmp_path / "o" / "x"))
    assert "outside the folders it reads" in output, output
    assert _files_under(project_copy) == before


def test_the_scale_generator_copies_the_first_source_of_a_library(library_root: Path, tmp_path: Path) -> None:
    """The generator stopped on any project of more than one source (a curator's second report failed
    `make test`); it copies the first, keeps the others, and the project builds."""
    sys.path.insert(0, str(PROJECT / "benchmarks"))
    from scale import generate  # benchmarks/ is not a package

    out = tmp_path / "generated"
    generate(library_root, out, 3)
    assert sorted(path.name for path in (out / "sources").iterdir()) == [REPORT, FIXTURE, "s0001", "s0002"]
    build(out, out / "dist", out / ".kg" / "store")
    result = CliRunner().invoke(main, ["sources", "--store", str(out / ".kg" / "store")])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("4 source(s)"), result.output


@pytest.mark.parametrize("credited", [True, False], ids=["credits the agency", "credits none"])
def test_a_fact_two_sources_state_is_credited_to_its_agency_by_each(
    library: Path, tmp_path: Path, credited: bool
) -> None:
    """The report credits DEA with the labs in Mexico; a second source restating them showed DEA on its
    own rows of `source-statements` though its sentence credits nobody. Each source a fact quotes
    must name the agency the fact is attributed to (`kgsh:AttributionShape`); one that credits
    another states a fact of its own."""
    sentence = (
        "DEA suspects labs in Mexico of producing fentanyl."
        if credited
        else "Labs in Mexico are said to produce fentanyl."
    )
    excerpt = _fixture_states(library, sentence)
    statistics = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    statistics.write_text(
        statistics.read_text("utf-8")
        + f"\n<{ID}production-site/mexico-fentanyl-labs> prov:wasDerivedFrom excerpt:{excerpt} .\n",
        "utf-8",
    )
    if not credited:
        message = _build_error(library, tmp_path)
        assert "production-site/mexico-fentanyl-labs" in message and "in each source it quotes" in message
        return
    build(library, tmp_path / "dist", tmp_path / "store")
    rows = _answer(
        EmbeddedStore(tmp_path / "store"),
        "source-statements",
        subject=ID + "production-site/mexico-fentanyl-labs",
    )
    said = {(row["source"], row["fact"], row["agency"]) for row in rows}
    assert (
        ID + "document/fixture-poppy-estimate",
        ID + "production-site/mexico-fentanyl-labs",
        ID + "organization/dea",
    ) in said


def test_a_second_source_of_the_same_publisher_does_not_add_its_voice_to_a_fact(
    library: Path, tmp_path: Path
) -> None:
    """A second source published by CRS, as the report is, restated DEA's labs in Mexico and the fact was
    attributed to CRS too: CRS passed for each source as its publisher, and the report's sentence, which
    credits DEA, was shown as CRS's word as well. A publisher speaks for a fact only in a source that
    names none of its other agencies."""
    metadata = library / "sources" / FIXTURE / "source.ttl"
    metadata.write_text(
        metadata.read_text("utf-8").replace(
            "dcterms:publisher organization:fixture-estimates-desk", "dcterms:publisher organization:crs"
        ),
        "utf-8",
    )
    excerpt = _fixture_states(library, "DEA suspects labs in Mexico of producing fentanyl.")
    statistics = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    statistics.write_text(
        statistics.read_text("utf-8")
        + f"\n<{ID}production-site/mexico-fentanyl-labs> prov:wasDerivedFrom excerpt:{excerpt} ;"
        + f" prov:wasAttributedTo <{ID}organization/crs> .\n",
        "utf-8",
    )
    message = _build_error(library, tmp_path)
    assert "production-site/mexico-fentanyl-labs" in message, message
    assert "a sentence has one voice" in message, message


def test_a_place_refused_is_wrong_input_and_a_build_under_way_a_failure(
    project_copy: Path, tmp_path: Path
) -> None:
    """A `--dist` naming a folder of other files was refused with status 1, a failed build's, where the
    README gives 2 for a wrong option; a build refused while another writes has failed for now (1)."""
    foreign = tmp_path / "web-root"
    foreign.mkdir()
    (foreign / "index.html").write_text("<p>theirs</p>", "utf-8")
    result = CliRunner().invoke(main, ["--project", str(project_copy), "build", "--dist", str(foreign)])
    assert (result.exit_code, "is not a build's output" in result.output) == (2, True), result.output
    home = project_copy / ".kg" / "generations"
    home.mkdir(parents=True)
    with (home / ".lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a build under way holds it
        result = CliRunner().invoke(main, ["--project", str(project_copy), "build"])
    assert result.exit_code == 1 and "another kg build is writing into" in result.output, result.output
