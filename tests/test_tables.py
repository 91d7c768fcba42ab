"""Tabular sources: the report's poppy cultivation table (graph/<id>/tables/, CSV with CSVW metadata)
becomes Data Cube observations traced to the table, the row and the sentence that states each value,
and is checked like a curated file."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from kg.build.checks import BuildFailed
from kg.build.parsing import InputError
from kg.build.pipeline import build
from kg.build.tables import TableError, table_inputs, table_ntriples

PROJECT = Path(__file__).resolve().parent.parent

REPORT = "000_1bdfefaeb44abb70"
ID = "https://w3id.org/opioid-kg/id/"
CSVW_URL = "http://www.w3.org/ns/csvw#url"
XSD_ANY_URI = "http://www.w3.org/2001/XMLSchema#anyURI"
ROWS = """
PREFIX csvw: <http://www.w3.org/ns/csvw#>
PREFIX kg: <https://w3id.org/opioid-kg/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?table ?source ?rownum ?observation ?year ?hectares ?exact WHERE {
  ?table a csvw:Table ; dcterms:source ?source ; csvw:row ?row .
  ?row csvw:rownum ?rownum ; csvw:describes ?observation .
  ?observation kg:poppyCultivationArea ?hectares ; kg:refPeriod ?year ;
               prov:wasDerivedFrom/oa:hasSelector/oa:exact ?exact .
} ORDER BY ?rownum
"""


def _table(root: Path) -> Path:
    return root / "graph" / REPORT / "tables" / "poppy-cultivation.csv"


def test_each_row_is_an_observation_traced_to_table_row_and_sentence(store) -> None:
    names = ("table", "source", "rownum", "observation", "year", "hectares", "exact")
    rows = [{name: row[name].value for name in names} for row in store.query(ROWS)]
    assert [(row["rownum"], row["year"], row["hectares"]) for row in rows] == [
        ("1", ID + "period/2016", "32000"),
        ("2", ID + "period/2017", "44100"),
    ]
    for row in rows:
        assert row["table"] == ID + f"table/{REPORT}/poppy-cultivation"
        assert row["source"] == ID + "document/crs-2018-heroin-fentanyl-mexico"
        # the verbatim sentence states the row's value for the row's year
        stated = f"{int(row['hectares']):,}"
        assert stated in row["exact"] and row["year"].rsplit("/", 1)[-1] in row["exact"]


def test_a_table_s_url_is_an_any_uri_as_csvw_ranges_it(store, project_root: Path) -> None:
    """The CSVW vocabulary ranges `csvw:url` over xsd:anyURI, which OWL 2 holds apart from xsd:string:
    the plain string the build wrote made Jena's OWL reasoners and owlrl find the graph inconsistent
    once the CSVW vocabulary was read beside it. The ontology says the range, the shapes hold it."""
    urls = [quad.object for quad in store.quads() if quad.predicate == ox.NamedNode(CSVW_URL)]
    assert urls == [ox.Literal("poppy-cultivation.csv", datatype=ox.NamedNode(XSD_ANY_URI))]
    reused = (project_root / "ontology" / "reused.ttl").read_text("utf-8")
    declared = reused.split("csvw:url a owl:DatatypeProperty ;", 1)[1].split(" .\n", 1)[0]
    assert "rdfs:range xsd:anyURI" in declared


def test_the_table_holds_only_values_the_text_states(project_root: Path, source_text: str) -> None:
    lines = _table(project_root).read_text("utf-8").splitlines()[1:]
    for line in lines:
        hectares = line.split(",")[-3]
        assert f"{int(hectares):,}" in source_text


def _failed_build(
    root: Path, tmp_path: Path, old: str, new: str, error: type[Exception], suffix: str = ""
) -> str:
    """The message of the build of `root` once the table's `old` text (or its metadata's, with the
    `suffix` "-metadata.json") reads `new`."""
    table = _table(root).with_name(_table(root).name + suffix)
    table.write_text(table.read_text("utf-8").replace(old, new, 1), "utf-8")
    with pytest.raises(error) as failure:
        build(root, tmp_path / "dist", tmp_path / "store")
    return str(failure.value)


def test_an_ill_typed_cell_names_the_table_line_and_column(project_copy: Path, tmp_path: Path) -> None:
    message = _failed_build(project_copy, tmp_path, ",44100,", ",44100x,", TableError)
    assert f"graph/{REPORT}/tables/poppy-cultivation.csv:3:5 hectares" in message


@pytest.mark.parametrize("digits", ["４４１００", "٤٤١٠٠"], ids=["full-width", "Arabic-Indic"])
def test_a_number_in_digits_of_another_script_is_refused_at_its_cell(
    project_copy: Path, tmp_path: Path, digits: str
) -> None:
    """csvw reads a decimal cell with Python's Decimal, which takes every script's digits: '４４１００'
    was published as 44100 without a word, where XML Schema's numbers are written in ASCII digits."""
    message = _failed_build(project_copy, tmp_path, ",44100,", f",{digits},", TableError)
    assert f"graph/{REPORT}/tables/poppy-cultivation.csv:3:5 hectares" in message, message
    assert "ASCII digits" in message, message


def test_a_cell_past_the_readers_limit_is_said_too_long_not_other_than_csv(
    project_copy: Path, tmp_path: Path
) -> None:
    """A label of 200,000 characters, valid CSV, was refused as "not CSV: field larger than field
    limit (131072)"."""
    label = '"Opium poppy cultivation area, Mexico, 2017"'
    message = _failed_build(project_copy, tmp_path, label, "x" * 200_000, TableError)
    assert "poppy-cultivation.csv:3: a cell longer than 131,072 characters" in message, message
    assert "not CSV" not in message, message


def test_a_missing_required_cell_is_refused(project_copy: Path, tmp_path: Path) -> None:
    message = _failed_build(project_copy, tmp_path, ",ondcp,cultivation-2017\n", ",ondcp,\n", TableError)
    assert "poppy-cultivation.csv:2:7 excerpt" in message


def test_a_header_lacking_columns_names_them_in_the_descriptions_order(
    project_copy: Path, tmp_path: Path
) -> None:
    """A renamed header cell was named by the description (not the CSV's line), and several missing
    columns as a Python set, in another order on each run."""
    message = _failed_build(project_copy, tmp_path, ",hectares,agency,", ",area_ha,agency_id,", TableError)
    assert message == (
        f"{_table(project_copy)}:1: the header names no column hectares, agency, which the description"
        " requires; it has observation, label, year, area, area_ha, agency_id, excerpt"
    )


def test_a_table_of_another_delimiter_is_said_to_be_one(project_copy: Path, tmp_path: Path) -> None:
    """A table saved with semicolons (as spreadsheets set to many European languages write CSV) reads
    as one column: the message says so rather than list every column as missing."""
    table = _table(project_copy)
    table.write_text(table.read_text("utf-8").replace(",", ";"), "utf-8")
    with pytest.raises(TableError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert str(failure.value).startswith(
        f"{table}:1: the header names no column observation, label, year, area, hectares, agency, excerpt,"
    )
    assert str(failure.value).endswith("; its one cell holds ';': the table's delimiter is ','")


def test_a_mapped_row_is_validated_like_a_curated_fact(project_copy: Path, tmp_path: Path) -> None:
    """A row naming a country the graph does not know breaks the shapes, as a curated fact would."""
    message = _failed_build(project_copy, tmp_path, ",2017,MX,", ",2017,XX,", BuildFailed)
    assert f"focus node: {ID}observation/mx-poppy-cultivation-2017" in message
    assert f"written at: {_table(project_copy)}:3" in message


def test_a_figure_of_another_datatype_than_its_measure_s_range_is_refused(
    project_copy: Path, tmp_path: Path
) -> None:
    """A column typed `double` for a measure whose range is `xsd:decimal` passed every check, as a
    number of the measure's unit; OWL 2 holds the two value spaces apart, so a reasoner reading the
    ontology with the data found it inconsistent. Each row is refused at its line."""
    message = _failed_build(
        project_copy, tmp_path, '{"base": "decimal", "minimum": 0}', '"double"', BuildFailed, "-metadata.json"
    )
    assert message.endswith("2 violation(s)") and "datatype of its measure's range" in message
    for year, line, figure in ((2016, 2, 32000), (2017, 3, 44100)):
        assert (
            f"  focus node: {ID}observation/mx-poppy-cultivation-{year}\n"
            "  shape:      https://w3id.org/opioid-kg/shapes#ObservationShape\n"
            "  rule:       sh:sparql\n"
            f'  value:      "{figure}"^^<http://www.w3.org/2001/XMLSchema#double>\n'
            f"  written at: {_table(project_copy)}:{line}\n"
        ) in message, message


def test_an_integer_figure_is_in_a_decimal_range(project_copy: Path, tmp_path: Path) -> None:
    """An xsd:integer is an xsd:decimal (its value space lies within), so a column typed `integer`
    for a measure whose range is `xsd:decimal` builds: the rule refuses only the datatypes OWL 2 holds
    apart."""
    metadata = _table(project_copy).with_name(_table(project_copy).name + "-metadata.json")
    metadata.write_text(
        metadata.read_text("utf-8").replace('{"base": "decimal", "minimum": 0}', '"integer"'), "utf-8"
    )
    result = build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert result.triples_per_graph["data"] > 0
    assert '"44100"^^<http://www.w3.org/2001/XMLSchema#integer>' in (
        tmp_path / "dist" / "opioid-kg.nq"
    ).read_text("utf-8")


def test_a_curated_value_at_odds_with_a_row_names_both_places(project_copy: Path, tmp_path: Path) -> None:
    """The observation is described by the table's row and by a Turtle statement; the violation is
    written at both, so the curator sees which two disagree. (The second value is a figure its excerpt
    writes, 2017's, so that the shapes alone find it wrong.)"""
    findings = project_copy / "graph" / REPORT / "data" / "findings.ttl"
    lines = len(findings.read_text("utf-8").splitlines())
    with findings.open("a", encoding="utf-8") as turtle:
        turtle.write(
            f"\n<{ID}observation/mx-poppy-cultivation-2016>"
            " <https://w3id.org/opioid-kg/ontology#poppyCultivationArea> 44100 .\n"
        )
    with pytest.raises(BuildFailed) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    shown = str(failure.value).split(f"focus node: {ID}observation/mx-poppy-cultivation-2016\n")[1]
    assert f"written at: {findings}:{lines + 2}\n" in shown, shown
    assert f"\n  also at:    {_table(project_copy)}:2\n" in shown, shown


def test_an_undeclared_term_in_a_table_s_mapping_names_the_table_and_row(
    project_copy: Path, tmp_path: Path
) -> None:
    """The converted rows are a file of the build's own, gone once it ends: the error names the row."""
    area = 'ontology#poppyCultivationArea"'
    message = _failed_build(project_copy, tmp_path, area, area[:-1] + 'X"', BuildFailed, "-metadata.json")
    assert f"{_table(project_copy)}:2: undeclared predicate" in message, message


@pytest.mark.parametrize(
    "change",
    [
        {
            "@context": ["http://www.w3.org/ns/csvw", {"@base": "elsewhere/"}]
        },  # the CSV read from another folder
        {"dialect": "dialect.json"},  # a dialect of its own file
        {"tableSchema": "schema.json"},  # a schema of its own file
        {"url": "file:///tmp/other.csv"},
        {"url": "poppy-cultivation.csv?version=2"},
        {"tables": []},  # a group of tables
    ],
    ids=["base", "dialect file", "schema file", "absolute url", "url with a query", "table group"],
)
def test_a_table_read_from_more_than_its_two_files_is_not_kept_between_builds(
    tmp_path: Path, change: dict[str, object]
) -> None:
    """A table's triples are kept by the bytes of its description and its CSV, so only a description
    that reads nothing else may be kept; any other is converted again on every build."""
    folder = PROJECT / "graph" / "000_1bdfefaeb44abb70" / "tables"
    for name in ("poppy-cultivation.csv", "poppy-cultivation.csv-metadata.json"):
        shutil.copy(folder / name, tmp_path / name)
    metadata = tmp_path / "poppy-cultivation.csv-metadata.json"
    assert table_inputs(metadata) == [metadata, tmp_path / "poppy-cultivation.csv"]
    description = json.loads(metadata.read_text("utf-8"))
    metadata.write_text(json.dumps({**description, **change}), "utf-8")
    assert table_inputs(metadata) is None


def test_a_cell_past_the_header_is_refused_at_its_line(project_copy: Path, tmp_path: Path) -> None:
    message = _failed_build(
        project_copy, tmp_path, ",ondcp,cultivation-2017\n", ",ondcp,cultivation-2017,EXTRA\n", TableError
    )
    assert (
        f"graph/{REPORT}/tables/poppy-cultivation.csv:2: 8 cells, where the header (line 1) has 7" in message
    )
    assert "ends with" not in message, message  # its last cell holds something


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (
            "excerpt\n",
            "excerpt,\n",
            "csv:2: 7 cells, where the header (line 1) has 8; line 1 ends with an empty cell",
        ),
        (
            "excerpt\n",
            "excerpt,,\n",
            "csv:2: 7 cells, where the header (line 1) has 9; line 1 ends with 2 empty cells",
        ),
        (
            ",ondcp,cultivation-2017\n",
            ",ondcp,cultivation-2017,\n",
            "csv:2: 8 cells, where the header (line 1) has 7; line 2 ends with an empty cell",
        ),
    ],
    ids=["header", "header twice", "row"],
)
def test_a_line_ending_with_its_delimiter_is_named_as_such(
    project_copy: Path, tmp_path: Path, old: str, new: str, said: str
) -> None:
    """A spreadsheet's trailing comma: the header's was named at the first row as "7 cells, where the
    table has 8 columns", the header's extra empty column unsaid."""
    message = _failed_build(project_copy, tmp_path, old, new, TableError)
    assert message.endswith(f"graph/{REPORT}/tables/poppy-cultivation.{said}"), message


def test_a_column_the_description_does_not_name_is_refused(project_copy: Path, tmp_path: Path) -> None:
    table = _table(project_copy)
    lines = table.read_text("utf-8").splitlines()
    table.write_text("\n".join([lines[0] + ",note", *(line + ",x" for line in lines[1:])]) + "\n", "utf-8")
    with pytest.raises(
        TableError, match=r"csv:1: the header names a column the description does not, 'note'$"
    ):
        build(project_copy, tmp_path / "dist", tmp_path / "store")


@pytest.mark.parametrize("skipped", [0, 1, 2])
def test_a_delimiter_ending_every_line_is_named_at_the_header(
    project_copy: Path, tmp_path: Path, skipped: int
) -> None:
    """A spreadsheet's export ends each line with a comma: csvw's "Unspecified column \"\"" was
    named at the description as "the header or line 2"; rows the dialect skips put the header
    lower, where it was named at line 1."""
    table = _table(project_copy)
    lines = table.read_text("utf-8").splitlines()
    table.write_text(
        "".join(f"# note {n}\n" for n in range(skipped)) + "".join(f"{line},\n" for line in lines), "utf-8"
    )
    if skipped:
        metadata = table.with_name(table.name + "-metadata.json")
        description = json.loads(metadata.read_text("utf-8"))
        description["dialect"] = {"skipRows": skipped}
        metadata.write_text(json.dumps(description), "utf-8")
    with pytest.raises(TableError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert str(failure.value) == (
        f"{table}:{skipped + 1}: the header ends with ',', an empty column the description does not name"
    )


def test_a_blank_line_is_named_as_such(project_copy: Path, tmp_path: Path) -> None:
    table = _table(project_copy)
    table.write_text(table.read_text("utf-8") + "\n", "utf-8")
    with pytest.raises(TableError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert str(failure.value).startswith(f"{table}:4:1 observation: ")
    assert str(failure.value).endswith("; line 4 is blank, a row of empty cells")


def test_a_row_repeating_the_primary_key_is_refused(project_copy: Path, tmp_path: Path) -> None:
    table = _table(project_copy)
    table.write_text(table.read_text("utf-8") + table.read_text("utf-8").splitlines()[-1] + "\n", "utf-8")
    with pytest.raises(
        TableError,
        match=r"csv:4: the row repeats the primary key \(observation mx-poppy-cultivation-2017\) of line 3",
    ):
        build(project_copy, tmp_path / "dist", tmp_path / "store")


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('"url": "poppy-cultivation.csv"', '"url": "http://127.0.0.1:9/x.csv"', "which is never fetched"),
        (
            '"url": "poppy-cultivation.csv"',
            '"url": "../../../../../../../../etc/hostname"',
            "is not in the table's folder",
        ),
        (
            '"tableSchema": {',
            '"tableSchema": "http://127.0.0.1:9/schema.json", "dc:description": {',
            "csv-metadata.json: ",
        ),
        (
            '"aboutUrl": "https://w3id.org/opioid-kg/id/observation/{observation}"',
            '"aboutUrl": "#obs-{observation}"',
            "poppy-cultivation.csv:2: the description's mapping gives no RDF term here",
        ),
        (
            '"dc:source": {"@id": "https://w3id.org/opioid-kg/id/document/crs-2018-heroin-fentanyl-mexico"}',
            '"dc:source": {"@id": "not an iri"}',
            "the description's mapping gives no RDF term here",
        ),
    ],
    ids=["remote url", "file elsewhere", "remote schema", "relative aboutUrl", "source not an IRI"],
)
def test_a_description_that_reads_elsewhere_or_maps_to_no_iri_names_its_file(
    project_copy: Path, tmp_path: Path, old: str, new: str, said: str
) -> None:
    """Refused with the file named, never fetched, never read outside the table's folder."""
    message = _failed_build(project_copy, tmp_path, old, new, TableError, "-metadata.json")
    assert said in message and "poppy-cultivation.csv" in message, message


@pytest.mark.parametrize(
    "place",
    [
        "graph/common/tables/poppy-cultivation.csv",
        f"graph/{REPORT}/data/stray.csv",
        "graph/common/notes.md",
        f"graph/{REPORT}/tables/stray.ttl",  # a table's folder holds tables, no Turtle
        f"graph/{REPORT}/tables/more/stray.ttl",
    ],
)
def test_a_file_the_build_would_leave_out_under_graph_is_refused(
    project_copy: Path, tmp_path: Path, place: str
) -> None:
    stray = project_copy / place
    stray.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(_table(project_copy), stray)
    with pytest.raises(InputError, match="the build would leave this file out"):
        build(project_copy, tmp_path / "dist", tmp_path / "store")


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (
            '"titles": "label", "required": true,',
            '"titles": "label", "required": true, "separator": ";",',
            "a cell holds one value",
        ),
        (
            '"datatype": {"base": "decimal", "minimum": 0},',
            '"datatype": {"base": "decimal", "minimum": 0}, "separator": ";",',
            "a cell holds one value",
        ),
        ('"@context": "http://www.w3.org/ns/csvw",', '"@context": 5,', "csvw cannot read the description"),
        ('"primaryKey": "observation",', '"primaryKey": "nope",', "names a column the table does not have"),
    ],
    ids=["list of strings", "list of decimals", "context not a string", "primary key of no column"],
)
def test_a_description_csvw_reads_otherwise_is_a_one_line_error(
    project_copy: Path, tmp_path: Path, old: str, new: str, said: str
) -> None:
    message = _failed_build(project_copy, tmp_path, old, new, TableError, "-metadata.json")
    assert said in message and "csv" in message, message


@pytest.mark.parametrize("place", ["sub/extra.csv", "stray.csv", "notes.json"])
def test_a_file_of_the_tables_folder_no_description_names_is_refused(
    project_copy: Path, tmp_path: Path, place: str
) -> None:
    stray = _table(project_copy).parent / place
    stray.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(_table(project_copy), stray)
    with pytest.raises(InputError, match="the build would leave this file out"):
        build(project_copy, tmp_path / "dist", tmp_path / "store")


def test_a_hidden_file_under_graph_is_not_a_source(project_copy: Path, tmp_path: Path) -> None:
    (project_copy / "graph" / ".DS_Store").write_bytes(b"\0")
    assert build(project_copy, tmp_path / "dist", tmp_path / "store").excerpts_checked == 65


def test_csvw_fetches_as_before_outside_a_table_s_reading(project_copy: Path, tmp_path: Path) -> None:
    """The confinement holds while a table is read; elsewhere in the process csvw is as it was."""
    import csvw.utils

    build(project_copy, tmp_path / "dist", tmp_path / "store")  # reads the report's table
    with pytest.raises(OSError):  # refused by the port, not by the build
        with csvw.utils.urlopen("http://127.0.0.1:9/"):
            pass


def test_a_list_cell_in_an_iri_column_is_refused(project_copy: Path, tmp_path: Path) -> None:
    """A template joined the list into one IRI (`country/MX,US`)."""
    message = _failed_build(
        project_copy,
        tmp_path,
        '"titles": "area", "required": true,',
        '"titles": "area", "required": true, "separator": ";",',
        TableError,
        "-metadata.json",
    )
    assert "poppy-cultivation.csv:2: area: a cell holds one value" in message


def test_infinite_doubles_are_written_as_xsd_spells_them(project_copy: Path, tmp_path: Path) -> None:
    from kg.build.tables import table_ntriples

    metadata = _table(project_copy).with_name("poppy-cultivation.csv-metadata.json")
    metadata.write_text(
        metadata.read_text("utf-8").replace('{"base": "decimal", "minimum": 0}', '"double"'), "utf-8"
    )
    table = _table(project_copy)
    table.write_text(
        table.read_text("utf-8").replace(",32000,", ",INF,").replace(",44100,", ",NaN,"), "utf-8"
    )
    data = table_ntriples(metadata)["data"].decode()
    assert '"INF"^^<http://www.w3.org/2001/XMLSchema#double>' in data
    assert '"NaN"^^<http://www.w3.org/2001/XMLSchema#double>' in data


@pytest.mark.parametrize("kind", ["a linked folder", "a file for a source's folder"])
def test_what_a_build_would_not_follow_under_graph_is_refused(
    project_copy: Path, tmp_path: Path, kind: str
) -> None:
    if kind == "a linked folder":
        (project_copy / "graph" / REPORT / "data" / "more").symlink_to(tmp_path)
    else:
        shutil.rmtree(project_copy / "graph" / REPORT)
        (project_copy / "graph" / REPORT).write_text("@prefix x: <urn:x#> .\n", "utf-8")
    said = (
        "the build would leave this file out"
        if kind == "a linked folder"
        else "graph/ holds a folder for each"
    )
    with pytest.raises(InputError, match=said):
        build(project_copy, tmp_path / "dist", tmp_path / "store")


def _split_description(project: Path) -> tuple[Path, dict[str, object]]:
    """The report's table description with its schema and dialect moved into files of their own,
    named relatively as CSVW allows; the description (path) and the schema it had inline."""
    metadata = _table(project).with_name("poppy-cultivation.csv-metadata.json")
    description = json.loads(metadata.read_text("utf-8"))
    schema = description.pop("tableSchema")
    (metadata.parent / "schema.json").write_text(json.dumps(schema), "utf-8")
    (metadata.parent / "dialect.json").write_text(json.dumps({"header": True}), "utf-8")
    description |= {"tableSchema": "schema.json", "dialect": "dialect.json"}
    metadata.write_text(json.dumps(description), "utf-8")
    return metadata, schema


def test_a_schema_and_dialect_in_files_of_their_own_are_read_beside_the_description(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CSVW resolves a relative name against the description's place, not the working directory,
    and a schema named by its file is read as if written inline."""
    from kg.build.tables import table_ntriples

    metadata = _table(project_copy).with_name("poppy-cultivation.csv-metadata.json")
    inline = table_ntriples(metadata)
    _split_description(project_copy)
    monkeypatch.chdir(tmp_path)  # a folder holding neither file
    assert table_ntriples(metadata) == inline
    build(project_copy, tmp_path / "dist", tmp_path / "store")


@pytest.mark.parametrize(
    ("key", "name", "content", "said"),
    [
        ("tableSchema", "../../../schema.json", "{}", "is not in the table's folder"),
        ("dialect", "http://127.0.0.1:9/dialect.json", None, "which is never fetched"),
        ("tableSchema", "schema.json", "[1, 2", "schema.json:1: not JSON"),
        ("dialect", "dialect.json", "[]", "dialect.json: not a JSON object"),
        ("tableSchema", "missing.json", None, "missing.json"),
    ],
    ids=["outside the folder", "a URL", "not JSON", "not an object", "missing"],
)
def test_a_schema_or_dialect_file_that_cannot_be_read_names_it(
    project_copy: Path, tmp_path: Path, key: str, name: str, content: str | None, said: str
) -> None:
    metadata, _ = _split_description(project_copy)
    if content is not None:
        (metadata.parent / name).write_text(content, "utf-8")
    description = json.loads(metadata.read_text("utf-8"))
    metadata.write_text(json.dumps(description | {key: name}), "utf-8")
    replaced = {"tableSchema": "schema.json", "dialect": "dialect.json"}[key]
    if name != replaced:
        (metadata.parent / replaced).unlink()  # a file no description names is refused otherwise
    with pytest.raises(TableError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert said in str(failure.value) and "poppy-cultivation.csv-metadata.json" in str(failure.value)


@pytest.mark.parametrize("nested", ["schema.json", "poppy-cultivation.csv-metadata.json"])
def test_json_nested_past_python_s_depth_is_a_one_line_error(
    project_copy: Path, tmp_path: Path, nested: str
) -> None:
    metadata, _ = _split_description(project_copy)
    (metadata.parent / nested).write_text("[" * 100_000, "utf-8")
    with pytest.raises(TableError, match=f"{nested}: not JSON .nested too deeply"):
        build(project_copy, tmp_path / "dist", tmp_path / "store")


@pytest.mark.parametrize("name", ["sub/../schema.json", "./schema.json", "link.json"])
def test_a_schema_named_by_another_path_to_its_file_is_read(
    project_copy: Path, tmp_path: Path, name: str
) -> None:
    """The file the table reads counts as read, however the description names it, and the table gives
    the triples it gives with its schema inline."""
    from kg.build.tables import table_ntriples

    metadata = _table(project_copy).with_name("poppy-cultivation.csv-metadata.json")
    inline = table_ntriples(metadata)
    _split_description(project_copy)
    (metadata.parent / "sub").mkdir()
    (metadata.parent / "sub" / ".keep").touch()
    (metadata.parent / "link.json").symlink_to("schema.json")
    description = json.loads(metadata.read_text("utf-8"))
    metadata.write_text(json.dumps(description | {"tableSchema": name}), "utf-8")
    if name != "link.json":
        (metadata.parent / "link.json").unlink()
    assert table_ntriples(metadata) == inline
    assert build(project_copy, tmp_path / "dist", tmp_path / "store").violations == 0


@pytest.mark.parametrize("name", ["urn:x:schema", "ftp:/schema.json", "data:application/json,{}"])
def test_a_schema_named_by_any_url_is_never_read(project_copy: Path, tmp_path: Path, name: str) -> None:
    metadata, _ = _split_description(project_copy)
    (metadata.parent / "schema.json").unlink()
    description = json.loads(metadata.read_text("utf-8"))
    metadata.write_text(json.dumps(description | {"tableSchema": name}), "utf-8")
    with pytest.raises(TableError, match="which is never fetched"):
        build(project_copy, tmp_path / "dist", tmp_path / "store")


@pytest.mark.parametrize("spelling", [".", "whole"])
def test_a_table_named_by_a_whole_path_is_refused_however_the_project_is_named(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    """A description's `url` naming its own CSV by its whole path was refused as a file the build
    leaves out for the project `.`, and taken for the project named whole, which then published the
    machine's path as the table's `csvw:url`."""
    metadata = _table(project_copy).with_name("poppy-cultivation.csv-metadata.json")
    description = json.loads(metadata.read_text("utf-8"))
    metadata.write_text(json.dumps(description | {"url": str(_table(project_copy))}), "utf-8")
    monkeypatch.chdir(project_copy)
    with pytest.raises(TableError) as failure:
        build(Path(".") if spelling == "." else project_copy, tmp_path / "dist", tmp_path / "store")
    said = f"its url names {_table(project_copy)}, a whole path: a table names its files from its folder"
    assert said in str(failure.value), failure.value


def test_a_table_that_gives_no_row_is_refused(project_copy: Path, tmp_path: Path) -> None:
    """A dialect skipping every row, or a table of its header alone, would add nothing without a word."""
    metadata, _ = _split_description(project_copy)
    (metadata.parent / "dialect.json").write_text(json.dumps({"header": True, "skipRows": 10**12}), "utf-8")
    with pytest.raises(TableError, match="poppy-cultivation.csv-metadata.json: the table gives no row"):
        build(project_copy, tmp_path / "dist", tmp_path / "store")


@pytest.mark.parametrize(
    ("kept", "said"),
    [
        ("", "poppy-cultivation.csv: the file is empty; a table needs its header and its rows"),
        ("header", "poppy-cultivation.csv:1: a header and no row; a table stands for the facts of its rows"),
    ],
    ids=["empty", "header only"],
)
def test_a_csv_without_rows_is_named_itself(project_copy: Path, tmp_path: Path, kept: str, said: str) -> None:
    """An emptied CSV file, or one left with its header, was named by its description."""
    table = _table(project_copy)
    header = table.read_text("utf-8").splitlines(keepends=True)[0]
    table.write_text(header if kept else "", "utf-8")
    with pytest.raises(TableError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert str(failure.value) == f"{table.parent}/{said}"


def test_what_csvw_leaves_out_of_a_schema_file_names_that_file(project_copy: Path, tmp_path: Path) -> None:
    """Said before anything reads the table without it (the primary key of no column, here)."""
    metadata, schema = _split_description(project_copy)
    (metadata.parent / "schema.json").write_text(json.dumps(schema | {"columns": 5}), "utf-8")
    with pytest.raises(TableError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert str(failure.value).endswith(
        "poppy-cultivation.csv-metadata.json (with its tableSchema schema.json and its dialect dialect.json):"
        " Invalid value for property: 5"
    ), failure.value


def test_a_source_written_as_a_plain_string_is_a_literal_as_csvw_reads_it(
    project_copy: Path, tmp_path: Path
) -> None:
    """CSVW reads a common property's plain string as a literal, so the description says `{"@id": …}`
    for the report it comes from; a plain string was taken for an IRI, which no CSVW processor does."""
    metadata = project_copy / "graph" / REPORT / "tables" / "poppy-cultivation.csv-metadata.json"
    iri = "https://w3id.org/opioid-kg/id/document/crs-2018-heroin-fentanyl-mexico"
    text = metadata.read_text("utf-8")
    assert f'"dc:source": {{"@id": "{iri}"}}' in text
    metadata.write_text(text.replace(f'"dc:source": {{"@id": "{iri}"}}', f'"dc:source": "{iri}"'), "utf-8")
    with pytest.raises(BuildFailed) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert "TableShape" in str(failure.value), failure.value


@pytest.mark.parametrize(
    ("datatype", "good", "bad"),
    [("gYearMonth", "2016-12", "2017-13"), ("gYear", "2016", "2017x"), ("date", "2016-02-29", "2017-02-29")],
)
def test_a_cell_csvw_does_not_check_is_refused_at_its_line_and_column(
    project_copy: Path, tmp_path: Path, datatype: str, good: str, bad: str
) -> None:
    """csvw reads a gYear, gYearMonth or date cell as a string: an ill-typed one was named at a
    staging file the failed build had removed, not at the table."""
    metadata = _table(project_copy).with_name(_table(project_copy).name + "-metadata.json")
    description = json.loads(metadata.read_text("utf-8"))
    label = next(c for c in description["tableSchema"]["columns"] if c["name"] == "label")
    del label["lang"]
    label["datatype"] = datatype
    label["propertyUrl"] = "https://w3id.org/opioid-kg/ontology#asOf"
    metadata.write_text(json.dumps(description), "utf-8")
    table = _table(project_copy)
    table.write_text(table.read_text("utf-8").replace('"Opium poppy cultivation area, Mexico, 2016"', good))
    message = _failed_build(
        project_copy, tmp_path, '"Opium poppy cultivation area, Mexico, 2017"', bad, TableError
    )
    assert f"graph/{REPORT}/tables/poppy-cultivation.csv:3:2 label" in message, message
    assert "staging" not in message and ".new-" not in message


def test_a_csv_of_the_description_s_name_it_does_not_read_is_refused(
    project_copy: Path, tmp_path: Path
) -> None:
    """A description reading other.csv left poppy-cultivation.csv, beside it, out without a word."""
    table = _table(project_copy)
    shutil.copy(table, table.with_name("other.csv"))
    metadata = table.with_name(table.name + "-metadata.json")
    metadata.write_text(
        metadata.read_text("utf-8").replace('"url": "poppy-cultivation.csv"', '"url": "other.csv"')
    )
    with pytest.raises(InputError, match="the build would leave this file out") as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert "poppy-cultivation.csv" in str(failure.value)


def test_a_record_over_several_lines_is_named_where_it_starts(project_copy: Path, tmp_path: Path) -> None:
    """A label quoting two line breaks spans lines 2 to 4; the row repeating its key was said to repeat
    that 'of line 4', where csvw numbers a record by its last line."""
    table = _table(project_copy)
    text = table.read_text("utf-8").replace(
        '"Opium poppy cultivation area, Mexico, 2016"', '"Opium poppy cultivation area,\nMexico,\n2016"'
    )
    table.write_text(text.replace("mx-poppy-cultivation-2017,", "mx-poppy-cultivation-2016,"), "utf-8")
    with pytest.raises(TableError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert "poppy-cultivation.csv:5: the row repeats the primary key" in str(failure.value)
    assert str(failure.value).endswith("of line 2"), failure.value


@pytest.mark.parametrize(
    ("row", "cell", "said"),
    [
        ("44100", "NaN", "poppy-cultivation.csv:3:5 hectares: Invalid special value for decimal"),
        ("44100", "INF", "poppy-cultivation.csv:3:5 hectares: Invalid special value for decimal"),
        ("44100", "-INF", "poppy-cultivation.csv:3:5 hectares: value must be >= 0"),
        ("32000", "NaN", "poppy-cultivation.csv:2:5 hectares: Invalid special value for decimal"),
        ("32000", "INF", "poppy-cultivation.csv:2:5 hectares: Invalid special value for decimal"),
        ("32000", "-INF", "poppy-cultivation.csv:2:5 hectares: value must be >= 0"),
        ("44100", "nan", "poppy-cultivation.csv:3:5 hectares: a cell no decimal can be compared with"),
        ("32000", "-Infinity", "poppy-cultivation.csv:2:5 hectares: value must be >= 0"),
        # a text cell reading NaN is no special value: the decimal column's is named
        (
            '"Opium poppy cultivation area, Mexico, 2017",2017,MX,44100',
            "NaN,2017,MX,NaN",
            "poppy-cultivation.csv:3:5 hectares: Invalid special value for decimal",
        ),
    ],
)
def test_a_special_value_in_a_bounded_decimal_column_names_its_line_and_column(
    project_copy: Path, tmp_path: Path, row: str, cell: str, said: str
) -> None:
    """csvw raised its own error (NaN against the column's minimum: decimal.InvalidOperation, a
    traceback) or named the description alone; then the line without the column (the first row's as
    "the header or line 2"), or the description before the cell csvw named."""
    message = _failed_build(project_copy, tmp_path, f",{row},", f",{cell},", TableError)
    assert message.startswith(f"{project_copy}/graph/{REPORT}/tables/{said}"), message


def test_a_nan_in_an_integer_column_is_named_in_the_build_s_words(project_copy: Path, tmp_path: Path) -> None:
    """It was named in Python's ("cannot convert NaN to integer ratio")."""
    metadata = _table(project_copy).with_name(_table(project_copy).name + "-metadata.json")
    text = metadata.read_text("utf-8")
    metadata.write_text(text.replace('"base": "decimal", "minimum": 0', '"base": "integer"'), "utf-8")
    message = _failed_build(project_copy, tmp_path, ",44100,", ",NaN,", TableError)
    assert message.endswith(
        "poppy-cultivation.csv:3:5 hectares: a NaN or an infinity is no value of its type"
    )


def test_a_control_character_in_a_text_cell_is_named_at_its_line(project_copy: Path, tmp_path: Path) -> None:
    """A text cell in a language was published with it (XML answers then malformed)."""
    message = _failed_build(project_copy, tmp_path, "Mexico, 2017", "Mexico,\x01 2017", TableError)
    assert f"graph/{REPORT}/tables/poppy-cultivation.csv:3:2 label: U+0001 is not a character" in message


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("period/{year}", "period/{yeer}", "valueUrl of column year"),
        ("observation/{observation}", "observation/{obs}", "aboutUrl"),
        ("observation/{observation}", "observation/x{_sourceRow}", "aboutUrl"),  # CSVW's, not filled in
    ],
)
def test_a_template_naming_no_column_is_named_in_its_description(
    project_copy: Path, tmp_path: Path, old: str, new: str, where: str
) -> None:
    """A misspelt name was expanded as nothing: every row's period was `…/period/`, told only by the
    Data Cube's checks (IC-12) or by shapes on `…/observation/`, neither naming the description."""
    metadata = _table(project_copy).with_name("poppy-cultivation.csv-metadata.json")
    assert old in metadata.read_text("utf-8")
    message = _failed_build(project_copy, tmp_path, old, new, TableError, "-metadata.json")
    assert f"poppy-cultivation.csv-metadata.json: its {where} (" in message
    assert f"names {{{new.split('{')[1].rstrip('}')}}}, which is no column of the table nor a name" in message


def test_csvw_s_own_words_name_a_cell_it_cannot_read(project_copy: Path, tmp_path: Path) -> None:
    """Its message (file, line, column and value) was shown as a Python repr behind another place."""
    message = _failed_build(project_copy, tmp_path, ",44100,", ",44\u00a0100,", TableError)
    assert "poppy-cultivation.csv:3:5 hectares:" in message and "ValueError(" not in message


@pytest.mark.parametrize(
    ("cell", "shown"),
    [("44100\u200b", "44100<U+200B>"), ("44\u00a0100", "44<U+00A0>100"), ("441\x0000", "441<U+0000>00")],
    ids=["a zero-width space", "a no-break space", "a NUL"],
)
def test_a_character_a_terminal_does_not_show_is_written_by_its_code_point(
    project_copy: Path, tmp_path: Path, cell: str, shown: str
) -> None:
    """A cell pasted from a web page or a PDF with an invisible character in its number was refused as
    `invalid lexical value for decimal: 44100`, a value that looks valid: the fault was not shown."""
    message = _failed_build(project_copy, tmp_path, ",44100,", f",{cell},", TableError)
    said = f"poppy-cultivation.csv:3:5 hectares: invalid lexical value for decimal: {shown}"
    assert said in message, message


@pytest.mark.parametrize("broken", ["schema.json", "poppy-cultivation.csv-metadata.json"])
def test_a_description_or_schema_that_is_not_json_names_its_line(
    project_copy: Path, tmp_path: Path, broken: str
) -> None:
    """A description with a quote left out was named with csvw's `JSONDecodeError(...)` and no line,
    where its schema file was named at its line."""
    metadata, _ = _split_description(project_copy)
    path = metadata.parent / broken
    lines = json.dumps(json.loads(path.read_text("utf-8")), indent=2).splitlines()
    lines[3] = lines[3].replace('"', "", 1)  # its fourth line's key unquoted
    path.write_text("\n".join(lines), "utf-8")
    with pytest.raises(TableError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    said = f"{broken}:4: not JSON (Expecting property name enclosed in double quotes)"
    assert said in str(failure.value), str(failure.value)


def test_a_table_whose_source_is_not_the_report_its_rows_quote_is_refused(
    project_copy: Path, tmp_path: Path
) -> None:
    """The report's table described as another report's (its dc:source the report's background
    reading): the table was published as that report's, its rows quoting the report."""
    message = _failed_build(
        project_copy,
        tmp_path,
        "document/crs-2018-heroin-fentanyl-mexico",
        "document/crs-if10578",
        BuildFailed,
        "-metadata.json",
    )
    assert "TableShape" in message and "rest on excerpts of its source report" in message, message
    assert f"{ID}table/{REPORT}/poppy-cultivation" in message, message


def _described(root: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """The table's description changed by `change`, written back."""
    metadata = _table(root).with_name(_table(root).name + "-metadata.json")
    description = json.loads(metadata.read_text("utf-8"))
    change(description)
    metadata.write_text(json.dumps(description, indent=1), "utf-8")


def _columns(description: dict[str, Any]) -> list[dict[str, Any]]:
    return description["tableSchema"]["columns"]


def test_a_header_naming_a_column_twice_is_refused(project_copy: Path, tmp_path: Path) -> None:
    """A column pasted twice: csvw keeps the later cell of the two, so a row's label (or its figure) was
    the second column's, published without a word."""
    table = _table(project_copy)
    lines = table.read_text("utf-8").splitlines()
    table.write_text(
        "\n".join([lines[0] + ",label", *(line + ",HIJACKED" for line in lines[1:])]) + "\n", "utf-8"
    )
    with pytest.raises(TableError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert str(failure.value) == f"{table}:1: the header names 'label' twice, in columns 2 and 8"


def test_a_column_that_would_give_no_triple_is_refused(project_copy: Path, tmp_path: Path) -> None:
    """A described column without a propertyUrl was left out without a word."""
    _described(project_copy, lambda d: _columns(d)[1].pop("propertyUrl"))
    with pytest.raises(TableError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert "column label gives its cells no property" in str(failure.value)


def test_a_column_s_mapping_is_inherited_as_csvw_has_it(project_copy: Path) -> None:
    """A propertyUrl or a lang given on the table schema, and an aboutUrl given on a column, are CSVW's
    mapping: the first two were dropped (no triple, an untagged label), the third ignored."""
    label = "http://www.w3.org/2000/01/rdf-schema#label"

    def inherited(description: dict[str, Any]) -> None:
        schema, column = description["tableSchema"], _columns(description)[1]
        schema["propertyUrl"], schema["lang"] = column.pop("propertyUrl"), column.pop("lang")
        for other in _columns(description)[2:]:
            other.setdefault("propertyUrl", label)  # each keeps its own
        _columns(description)[4]["aboutUrl"] = ID + "observation/{observation}-figure"

    _described(project_copy, inherited)
    metadata = _table(project_copy).with_name(_table(project_copy).name + "-metadata.json")
    data = ox.Store()
    data.load(table_ntriples(metadata)["data"], format=ox.RdfFormat.N_TRIPLES)
    label_of = f"SELECT ?l WHERE {{ <{ID}observation/mx-poppy-cultivation-2017> <{label}> ?l }}"
    assert [row["l"] for row in data.query(label_of)] == [
        ox.Literal("Opium poppy cultivation area, Mexico, 2017", language="en")
    ]
    figure = f"ASK {{ <{ID}observation/mx-poppy-cultivation-2017-figure> ?p ?v FILTER(?v = 44100) }}"
    assert data.query(figure)


def test_a_description_naming_a_column_twice_is_refused(project_copy: Path, tmp_path: Path) -> None:
    """CSVW forbids it; the second column's cells were the first's."""
    _described(project_copy, lambda d: _columns(d)[-1].update(name="observation"))
    with pytest.raises(TableError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert "names the column observation twice" in str(failure.value)


def test_a_cell_is_named_at_its_column_in_the_csv(project_copy: Path, tmp_path: Path) -> None:
    """The description's order named the cell where the CSV's columns stand otherwise: a gYear in the
    CSV's second column was named at the third, a NaN in a moved column at none."""
    table = _table(project_copy)
    rows = list(csv.reader(table.read_text("utf-8").splitlines()))
    moved = [[row[0], row[2], row[4], row[1], row[3], row[5], row[6]] for row in rows]
    for cell, said in (("17", ":3:2 year"), ("NaN", ":3:3 hectares")):
        changed = [list(row) for row in moved]
        changed[2][1 if said.endswith("year") else 2] = cell
        with table.open("w", encoding="utf-8", newline="") as written:
            csv.writer(written, lineterminator="\n").writerows(changed)
        with pytest.raises(TableError) as failure:
            build(project_copy, tmp_path / "dist", tmp_path / "store")
        assert f"{table}{said}" in str(failure.value), str(failure.value)


@pytest.mark.parametrize("url", ["urn:x", "data:text/csv,a", "file:poppy-cultivation.csv"])
def test_a_table_named_by_a_url_of_any_scheme_is_never_read(
    project_copy: Path, tmp_path: Path, url: str
) -> None:
    _described(project_copy, lambda d: d.update(url=url))
    with pytest.raises(TableError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert f"its url names {url}, which is never fetched" in str(failure.value)


def test_a_header_of_more_than_one_row_is_refused(project_copy: Path, tmp_path: Path) -> None:
    """csvw reads the second header row as data."""
    _described(project_copy, lambda d: d.update(dialect={"headerRowCount": 2}))
    with pytest.raises(TableError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert "headerRowCount" in str(failure.value) and "one header row" in str(failure.value)


def test_a_table_read_by_two_descriptions_is_refused(project_copy: Path, tmp_path: Path) -> None:
    """Its rows were published twice, as two tables, and their primary key checked in each alone."""
    metadata = _table(project_copy).with_name(_table(project_copy).name + "-metadata.json")
    (metadata.parent / "second.csv-metadata.json").write_bytes(metadata.read_bytes())
    with pytest.raises(TableError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert "which poppy-cultivation.csv-metadata.json reads too" in str(failure.value)


def test_a_cell_past_skipped_columns_is_named_at_its_column_in_the_file(
    project_copy: Path, tmp_path: Path
) -> None:
    """csvw's records leave the skipped columns out: a NaN was looked for one cell off, and its column
    dropped from the message."""
    _described(project_copy, lambda d: d.update(dialect={"skipColumns": 1}))
    table = _table(project_copy)
    rows = ["junk," + line for line in table.read_text("utf-8").splitlines()]
    table.write_text("\n".join(rows).replace(",44100,", ",NaN,") + "\n", "utf-8")
    with pytest.raises(TableError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert f"{table}:3:6 hectares" in str(failure.value), str(failure.value)


def test_an_about_url_given_on_the_table_is_inherited_by_its_schema(
    project_copy: Path, tmp_path: Path
) -> None:
    """CSVW inherits aboutUrl from the table as from its schema; one given on the table was refused as
    missing."""
    _described(project_copy, lambda d: d.update(aboutUrl=d["tableSchema"].pop("aboutUrl")))
    build(project_copy, tmp_path / "dist", tmp_path / "store")
    store = ox.Store.read_only(str(tmp_path / "store"))
    rows = "SELECT ?o WHERE { ?row <http://www.w3.org/ns/csvw#describes> ?o } ORDER BY ?o"
    described = [row["o"].value for row in store.query(rows, use_default_graph_as_union=True)]
    assert described == [f"{ID}observation/mx-poppy-cultivation-{year}" for year in (2016, 2017)]
