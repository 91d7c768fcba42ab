"""Tabular sources: a CSV table and its W3C CSVW metadata, turned into RDF like a curated file.

A source's tables sit in `graph/<id>/tables/` as `NAME.csv` beside `NAME.csv-metadata.json`.
The metadata's column descriptions are the declarative mapping (CSV on the Web: `aboutUrl`,
`propertyUrl`, `valueUrl`, `datatype`, `lang`, virtual columns); the csvw library reads the
table and types and checks every cell against them. Each row gives the triples of its subject
(for a time series, one Data Cube observation) into the data graph, and is itself a `csvw:Row`
of a `csvw:Table` in the provenance graph that says which subject it describes, so every value
traces to its table and row as well as to the excerpt its row cites. The triples then go
through every check a curated Turtle file goes through.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import decimal
import json
import os
import re
import warnings
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from kg.build.locate import ORIGIN
from kg.errors import KgError
from kg.files import read_file, read_text, utf8_text, visible, whole_path
from kg.literals import character_error, lexical_error
from kg.namespaces import BASE

if TYPE_CHECKING:
    from csvw import Table

METADATA_SUFFIX = ".csv-metadata.json"
CSVW = "http://www.w3.org/ns/csvw#"
_READ_INLINE = ("tableSchema", "dialect")  # what a description may name by a file of its own
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")  # a name with a scheme: a URL, never a file
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DCTERMS = "http://purl.org/dc/terms/"
# The decimal types and those derived from them: a NaN or an infinity is no value of theirs.
_DECIMAL_TYPES = frozenset(
    """decimal integer long int short byte nonNegativeInteger positiveInteger unsignedLong unsignedInt
    unsignedShort unsignedByte nonPositiveInteger negativeInteger""".split()
)


_NUMBER_TYPES = _DECIMAL_TYPES | {"double", "float"}


class TableError(KgError):
    """A table that does not match its description; the message names the file, line and column. A
    character a terminal would not show is written as its code point, as in every input's error: a
    cell's zero-width space or NUL, quoted in csvw's words, left a number that looked valid."""

    def __init__(self, message: str) -> None:
        super().__init__(visible(message))


@dataclass
class TableTriples:
    """What the tables of a project give: triples for the data graph and for the provenance graph,
    each block of them with the file and line (a table's row) it comes from."""

    data: list[tuple[str, list[ox.Triple]]] = field(default_factory=list)
    provenance: list[tuple[str, list[ox.Triple]]] = field(default_factory=list)

    def triples(self, name: str) -> list[ox.Triple]:
        return [triple for _, block in getattr(self, name) for triple in block]


def table_files(tables: Path) -> set[Path]:
    """The files a source's tables/ folder holds for its tables: each description and the files it
    names (its CSV, a dialect or schema of a file of its own). The CSV of the description's name
    counts only where the description reads no other file of the folder (one that cannot be read,
    or reads elsewhere, is reported by its conversion): one reading another CSV leaves it out."""
    named = set()
    read_by: dict[Path, Path] = {}  # each CSV file a description reads, and that description
    for metadata in table_descriptions(tables.parent):
        named.add(metadata)
        description = _description(metadata) or {}
        url = description.get("url")
        if not (isinstance(url, str) and _a_file_of(tables, url)):  # else its conversion says what is wrong
            named.add(metadata.with_name(metadata.name.removesuffix("-metadata.json")))
        else:
            data_file = (tables / url).resolve()
            if (other := read_by.setdefault(data_file, metadata)) != metadata:
                raise TableError(
                    f"{metadata}: its url names {url}, which {other.name} reads too: one table, one"
                    " description (its rows would be published twice)"
                )
        for key in ("url", "dialect", "tableSchema"):
            if isinstance(description.get(key), str):
                named |= _paths_to(tables, description[key])
    return named


def _a_file_of(tables: Path, name: str) -> bool:
    """`name` is a file of the folder `tables`, not a URL, a whole path or a file elsewhere."""
    path = Path(os.path.normpath(tables / name))
    inside = path.is_file() and path.resolve().is_relative_to(tables.resolve())
    return "://" not in name and not whole_path(name) and inside


def _paths_to(tables: Path, name: str) -> set[Path]:
    """The file `name` in the folder `tables` names, as a file under the folder would be listed: the
    name made plain (`sub/../x` is `x`), and the file a link in the folder leads to."""
    path = Path(os.path.normpath(tables / name))
    found = {path}
    if path.is_symlink() and path.resolve().is_relative_to(tables.resolve()):
        found.add(tables / path.resolve().relative_to(tables.resolve()))
    return found


def _description(metadata: Path) -> dict[str, Any] | None:
    """A table's description as JSON, None where it cannot be read (a FIFO or a folder is refused, not
    waited on) or is no object: its conversion then says why. One that is not JSON is named at its
    line, before the files it would name are missed."""
    try:
        description = _json(metadata, "CSVW table description")
    except TableError:
        raise
    except (KgError, ValueError):
        return None
    return description if isinstance(description, dict) else None


def _json(path: Path, kind: str, named: str = "") -> Any:
    """The JSON of a table's description, schema or dialect (`kind`), or a TableError naming the line
    where it is not JSON, and after it what `named` it."""
    try:
        return json.loads(read_text(path, kind))
    except json.JSONDecodeError as error:
        raise TableError(f"{path}:{error.lineno}: not JSON ({error.msg}){named}") from None
    except RecursionError:
        raise TableError(f"{path}: not JSON (nested too deeply){named}") from None


def table_descriptions(graph_folder: Path) -> list[Path]:
    """The CSVW metadata files of one source's curated folder (`graph/<id>/`), in a stable order."""
    return sorted((graph_folder / "tables").glob(f"*{METADATA_SUFFIX}"))


def table_triples(metadata: Path, into: TableTriples) -> None:
    """Add the triples of the table that `metadata` describes to `into`; raise TableError. The table
    is read from its own folder only: csvw would fetch a URL or read a file elsewhere that the
    description names, and here it cannot."""
    from csvw import Table  # imported here: a build whose tables are all kept never reads one

    read_text(metadata, "CSVW table description")  # what stands in the way of reading it, in words
    _confine_csvw()
    reading = _TABLE.set(metadata)
    try:
        description = _description(metadata)  # one csvw cannot read either is reported by csvw
        shown = f"{metadata}{_files_named(description or {})}"
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            try:
                table = Table.from_file(metadata, data=description and _inlined(metadata, description))
            except (
                ValueError,
                KeyError,
                TypeError,
                AttributeError,
                AssertionError,
                json.JSONDecodeError,
            ) as error:
                raise TableError(f"{shown}: csvw cannot read the description: {error!r}") from None
            except OSError as error:
                raise TableError(f"{metadata}: cannot read the table: {error.strerror or error}") from None
            _no_warning(warned, shown)
            _columns_map(table, metadata)
            rows = _rows(table, metadata, shown, warned)
        _no_warning(warned, shown)
        _keys_once(table, rows)
        if not rows:  # nothing would be added, and nothing said
            raise _no_rows(table, metadata)
        _mapped(table, metadata, rows, into)
    finally:
        _TABLE.reset(reading)


def _no_warning(warned: list[warnings.WarningMessage], shown: str) -> None:
    """What csvw leaves out with a warning (a property it ignores, a column not described) stops the
    build before anything that would read the table without it."""
    if warned:
        raise TableError(f"{shown}: {warned[0].message}")


def _files_named(description: dict[str, Any]) -> str:
    """The schema and dialect files a description names, as a message shows them beside it."""
    named = [f"its {key} {description[key]}" for key in _READ_INLINE if isinstance(description.get(key), str)]
    return f" (with {' and '.join(named)})" if named else ""


def _inlined(metadata: Path, description: dict[str, Any]) -> dict[str, Any]:
    """The description with a schema or dialect it names by a file of its own written inline. CSVW
    resolves such a name against the description's place; csvw reads a dialect's against the working
    directory and a schema's not at all."""
    inlined = dict(description)
    for key in ("url", *_READ_INLINE):
        name = description.get(key)
        if not isinstance(name, str):
            continue
        if _URL.match(name) or name.startswith("//"):
            raise TableError(f"{metadata}: its {key} names {name}, which is never fetched")
        if whole_path(name):
            raise TableError(
                f"{metadata}: its {key} names {name}, a whole path: a table names its files from its"
                f" folder ({Path(name).name}), as the published csvw:url does"
            )
        if key == "url":
            continue
        path = metadata.parent / name
        _in_table_folder(path)
        named = f"the {key} {metadata.name} names"
        try:
            value = _json(path, f"CSVW {key}", f", {named}")
        except TableError:
            raise
        except (KgError, ValueError) as error:
            raise TableError(f"{metadata}: {named}: {error}") from None
        if not isinstance(value, dict):
            raise TableError(f"{path}: not a JSON object, as {named} must be")
        inlined[key] = value
    return inlined


def _mapped(
    table: Table, metadata: Path, rows: list[tuple[str, int, dict[str, Any]]], into: TableTriples
) -> None:
    """The rows' triples, by the description's mapping; a template that gives no IRI is named at its row."""
    where = str(metadata)
    try:
        source = metadata.parent.parent.name
        iri = ox.NamedNode(f"{BASE}id/table/{source}/{metadata.name.removesuffix(METADATA_SUFFIX)}")
        into.provenance.append((f"{metadata}:1", _described(table, iri)))
        about = table.tableSchema.inherit("aboutUrl")  # the schema's, or the table's, as CSVW inherits it
        if about is None:
            raise TableError(f"{metadata}: the table needs an aboutUrl, the IRI of what each row describes")
        _templates_name_columns(table, metadata)
        positions = _positions(table)
        for number, (file_name, line, row) in enumerate(rows, start=1):
            where = f"{file_name}:{line}"
            _row_triples(table, about, number, row, (where, positions), iri, into)
    except (ValueError, TypeError, AttributeError) as error:
        hint = (
            " (write aboutUrl, propertyUrl and valueUrl as absolute IRI templates)"
            if isinstance(error, TypeError)
            else ""
        )
        raise TableError(
            f"{where}: the description's mapping gives no RDF term here: {error}{hint}"
        ) from None


def _columns_map(table: Table, metadata: Path) -> None:
    """Every column of the description has a name of its own and gives its cells a property (its own
    propertyUrl, or one its table schema or table gives it) unless it is suppressed, and the table has
    one header row: csvw reads a second one as data, a column named twice gave the other's cells, and
    one without a propertyUrl was left out without a word (CSVW would name the property after the
    table's own file, which is no IRI of the graph)."""
    seen: set[str] = set()
    for column in table.tableSchema.columns:
        if column.name in seen:
            raise TableError(f"{metadata}: the description names the column {column.name} twice")
        seen.add(column.name)
        if not column.suppressOutput and column.inherit("propertyUrl") is None:
            raise TableError(
                f"{metadata}: column {column.name} gives its cells no property: give it a propertyUrl,"
                " or suppressOutput if its cells only fill templates"
            )
    if (count := table._get_dialect().headerRowCount) > 1:
        raise TableError(
            f"{metadata}: headerRowCount {count}: a table has one header row, and the rows after it are data"
        )


def _templates_name_columns(table: Table, metadata: Path) -> None:
    """Every name in the mapping's templates is one the build fills in: a column's, `_row`, and in a
    column's own templates `_name`. Any other (`{yeer}`, CSVW's `{_sourceRow}`, which the build does
    not give) is expanded as nothing, which made every row's IRI alike (`…/period/`) and was told only
    by the checks it broke."""
    columns = [column.name for column in table.tableSchema.columns if column.name]
    templates = [("aboutUrl", table.tableSchema.inherit("aboutUrl"), {"_row"})] + [
        (f"{key} of column {column.name}", column.inherit(key), {"_row", "_name"})
        for column in table.tableSchema.columns
        for key in ("aboutUrl", "propertyUrl", "valueUrl")
    ]
    for where, template, filled in templates:
        unknown = [
            name for name in getattr(template, "variable_names", ()) if name not in {*columns, *filled}
        ]
        if unknown:
            raise TableError(
                f"{metadata}: its {where} ({template}) names {{{unknown[0]}}}, which is no column"
                f" of the table nor a name the build fills in ({', '.join([*columns, *sorted(filled)])})"
            )


def _row_triples(
    table: Table,
    about: Any,
    number: int,
    row: dict[str, Any],
    place: tuple[str, dict[str, int]],
    iri: ox.NamedNode,
    into: TableTriples,
) -> None:
    """One row's triples into the data graph, and its `csvw:Row` into the provenance graph, by CSVW's
    mapping: each column's aboutUrl, propertyUrl, valueUrl and lang its own or inherited from its
    table. `place` is the row's file and line, and the column of the file each column's cells stand in.
    A cell is one value: a column with a `separator` (a list in each cell) is refused, as a template
    would join the list into one IRI."""
    where, positions = place
    for name, value in row.items():
        if isinstance(value, list):
            raise TableError(f"{where}: {name}: a cell holds one value; this column has a separator")
    subject = ox.NamedNode(table.expand(about, row, _row=number))
    facts: list[ox.Triple] = []
    for column in table.tableSchema.columns:
        value = row.get(column.name)
        cell_at = f"{where}:{positions[column.name]}"  # as csvw names a cell: file, line, column
        if column.suppressOutput or value is None:
            continue
        expanded = {
            key: table.expand(template, row, _row=number, _name=column.name)
            for key in ("aboutUrl", "propertyUrl", "valueUrl")
            if (template := column.inherit(key)) is not None
        }
        if "valueUrl" in expanded:
            _lexical(value, column, cell_at)  # a typed cell is checked, whatever IRI it then makes
            cell: ox.NamedNode | ox.Literal = ox.NamedNode(expanded["valueUrl"])
        else:
            cell = _literal(value, column, cell_at)
        own = ox.NamedNode(expanded["aboutUrl"]) if "aboutUrl" in expanded else subject
        facts.append(ox.Triple(own, ox.NamedNode(expanded["propertyUrl"]), cell))
    row_iri = ox.NamedNode(f"{iri.value}/row/{number}")
    into.data.append((where, facts))
    into.provenance.append(
        (
            where,
            [
                ox.Triple(iri, ox.NamedNode(CSVW + "row"), row_iri),
                ox.Triple(row_iri, RDF_TYPE, ox.NamedNode(CSVW + "Row")),
                ox.Triple(
                    row_iri,
                    ox.NamedNode(CSVW + "rownum"),
                    ox.Literal(str(number), datatype=_xsd("integer")),
                ),
                ox.Triple(row_iri, ox.NamedNode(CSVW + "describes"), subject),
            ],
        )
    )


def _rows(
    table: Table, metadata: Path, shown: str, warned: list[warnings.WarningMessage]
) -> list[tuple[str, int, dict[str, Any]]]:
    """The table's rows, typed and checked by csvw, each with its file and line; a CSV file that cannot
    be read, or is not CSV, is named at its line, and so is a cell csvw reads with a warning (`NaN` in
    a decimal column), or fails on (the same against the column's minimum), as it reads its record."""
    data_file = _data_file(table)
    dialect = table._get_dialect()  # csvw's own rule: the table's dialect, else its group's, else CSV's
    if data_file is not None:
        _in_table_folder(data_file)
        data = read_file(data_file, "CSV table")  # a folder or a FIFO is refused, not waited on
        if dialect.python_encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig"):
            utf8_text(data_file, data)
        _header_once(table, data_file, dialect)
    rows: list[tuple[str, int, dict[str, Any]]] = []
    try:
        for name, line, row in table.iterdicts(with_metadata=True):
            if warned:  # csvw warned as it read this record, or, with the first, maybe the header
                said = str(warned[0].message)
                if data_file is not None and (header := _unnamed_column(table, data_file, dialect, said)):
                    raise header
                cell = _special_cell(table, data_file, dialect, line) if data_file is not None else ""
                read = f"{name}:{line}{cell}: " if rows or cell else f"{shown}: the header or line {line}: "
                raise TableError(f"{read}{said}")
            rows.append((name, line, row))
        if data_file is None:
            return rows
        records = list(_records(table, data_file, dialect))
        starts = _cells_as_described(records, data_file, dialect)
        _numbers_in_ascii_digits(table, records[1:] if dialect.header else records, data_file, dialect)
        # csvw numbers a record by its last line; a record quoting line breaks is named where it starts.
        return [(name, starts.get(line, line), row) for name, line, row in rows]
    except csv.Error as error:
        where = data_file or metadata
        line = _record_start(data_file, dialect) if data_file is not None else None
        said = (
            f"a cell longer than {csv.field_size_limit():,} characters, the most a cell may hold"
            if str(error).startswith("field larger than field limit")
            else f"not CSV: {error}"
        )
        raise TableError(f"{where}{f':{line}' if line else ''}: {said}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:  # csvw's words name the cell
        missing = _MISSING_COLUMNS.search(str(error)) if data_file is not None else None
        if data_file is not None and missing is not None:
            raise _header_error(table, data_file, dialect, ast.literal_eval(missing.group(1))) from None
        words = str(error)  # csvw names the cell of a value against its column's bounds itself
        if data_file is None or not words.startswith(f"{data_file}:"):
            raise TableError(f"{metadata}: {words}") from None
        named = _LINE.search(words[len(str(data_file)) :])  # the line csvw names
        line = int(named.group(1)) if named else 0
        if "cannot convert" in words and (cell := _special_cell(table, data_file, dialect, line)):
            # Python's words ("cannot convert NaN to integer ratio"), where csvw has none of its own
            raise TableError(
                f"{data_file}:{line}{cell}: a NaN or an infinity is no value of its type"
            ) from None
        raise TableError(words + _blank_line(table, data_file, dialect, line)) from None
    except ArithmeticError as error:  # NaN or INF against a decimal column's bounds, as csvw reads a record:
        line = rows[-1][1] + 1 if rows else dialect.skipRows + dialect.headerRowCount + 1  # the one after
        said = str(warned[0].message) if warned else "a cell no decimal can be compared with"
        cell = _special_cell(table, data_file, dialect, line) if data_file is not None else ""
        raise TableError(f"{data_file or metadata}:{line}{cell}: {said} ({type(error).__name__})") from None
    except OSError as error:
        raise TableError(f"{metadata}: cannot read the table: {error.strerror or error}") from None


def _data_file(table: Table) -> Path | None:
    """The CSV file of the table, where it names one rather than a URL."""
    located = table.url.resolve(table.base)
    return Path(located) if isinstance(located, Path | str) and "://" not in str(located) else None


def _no_rows(table: Table, metadata: Path) -> TableError:
    """A table that gives no row, named at its CSV file when that is empty or holds its header alone,
    else at its description (a dialect skipping every row)."""
    data_file = _data_file(table)
    dialect = table._get_dialect()
    if data_file is not None:
        with data_file.open(encoding=dialect.python_encoding, newline="") as lines:
            reader = csv.reader(lines, **dialect.as_python_formatting_parameters())
            records = [reader.line_num for record in reader if any(cell.strip() for cell in record)][:2]
        if not records:
            return TableError(f"{data_file}: the file is empty; a table needs its header and its rows")
        if len(records) == 1 and dialect.header:
            return TableError(
                f"{data_file}:{records[0]}: a header and no row; a table stands for the facts of its rows"
            )
    return TableError(f"{metadata}: the table gives no row; a table stands for the facts of its rows")


_MISSING_COLUMNS = re.compile(r" is missing required columns (\{.*\})$")  # csvw's words, naming a set


def _header_error(table: Table, data_file: Path, dialect: Any, missing: set[str]) -> TableError:
    """The header of a table lacking required columns, at its line: the columns in the description's
    order (csvw names them as a set, in another order on each run), what the header has, and, where it
    is one cell holding another delimiter (a spreadsheet's semicolons), that delimiter."""
    with contextlib.ExitStack() as stack:
        line, header = next(iter(table._get_csv_reader(data_file, dialect, stack)), (1, []))
    named = ", ".join(column.header for column in table.tableSchema.columns if column.header in missing)
    found = f"it has {', '.join(header)}" if header else "it is empty"
    marks = (mark for mark in ",;\t|" if mark != dialect.delimiter)
    apart = next((mark for mark in marks if len(header) == 1 and mark in header[0]), None)
    if apart is not None:
        found = f"its one cell holds {apart!r}: the table's delimiter is {dialect.delimiter!r}"
    return TableError(
        f"{data_file}:{line}: the header names no column {named}, which the description requires; {found}"
    )


def _records(table: Table, data_file: Path, dialect: Any) -> Iterator[tuple[int, int, list[str]]]:
    """The CSV file's records as csvw reads them, each with the lines it starts and ends on (csvw
    numbers a record by its last line; rows it skips and line breaks quoted in cells lie between)."""
    with contextlib.ExitStack() as stack:
        for line, record in table._get_csv_reader(data_file, dialect, stack):
            yield line - sum(cell.count("\n") for cell in record), line, record


def _first_record(table: Table, data_file: Path, dialect: Any) -> tuple[int, list[str]]:
    """The line the CSV file's first record (its header, where it has one) starts on, and its cells."""
    start, _end, record = next(_records(table, data_file, dialect), (1, 1, []))
    return start, record


def _cells_as_described(
    records: list[tuple[int, int, list[str]]], data_file: Path, dialect: Any
) -> dict[int, int]:
    """Every record has as many cells as the first: csvw, once it has checked the table, drops a cell
    past the header, which is data to lose without a word. The error names the first record and, where
    the longer record's extra cells are empty, the delimiter that ends its line (a spreadsheet's
    trailing comma). Returns the line each record starts on, by the line it ends on."""
    starts: dict[int, int] = {}
    first: tuple[int, list[str]] | None = None
    for start, line, record in records:
        starts[line] = start
        first = first or (start, record)
        if record and len(record) != len(first[1]):
            named = (
                f"the header (line {first[0]})" if dialect.header else f"the first record (line {first[0]})"
            )
            longer = max((start, record), first, key=lambda at: len(at[1]))
            extra = longer[1][min(len(record), len(first[1])) :]
            cells = "an empty cell" if len(extra) == 1 else f"{len(extra)} empty cells"
            trailing = "" if any(cell.strip() for cell in extra) else f"; line {longer[0]} ends with {cells}"
            raise TableError(
                f"{data_file}:{start}: {len(record)} cells, where {named} has {len(first[1])}{trailing}"
            )
    return starts


def _numbers_in_ascii_digits(
    table: Table, rows: list[tuple[int, int, list[str]]], data_file: Path, dialect: Any
) -> None:
    """A number's digits are ASCII, as XML Schema writes its numbers: csvw reads a number with Python's
    Decimal and float, which take every script's digits ('４４１００', '٤٤١٠٠') for these. `rows`: the
    records after the header."""
    positions = _positions(table)
    numeric = [
        (column.name, positions[column.name])
        for column in table.tableSchema.columns
        if column.datatype is not None and column.datatype.base in _NUMBER_TYPES and not column.virtual
    ]
    for start, _end, record in rows:
        for name, at in numeric:
            cell = at - dialect.skipColumns - 1
            if 0 <= cell < len(record) and any(c.isdecimal() and not c.isascii() for c in record[cell]):
                raise TableError(
                    f"{data_file}:{start}:{at} {name}: {record[cell]!r} is no number XML Schema writes:"
                    " a number is written in ASCII digits (0-9)"
                )


_UNSPECIFIED = re.compile(r'Unspecified column "(.*)" in table ')  # csvw's words for a column it leaves out
_LINE = re.compile(r":(\d+):")


def _unnamed_column(table: Table, data_file: Path, dialect: Any, said: str) -> TableError | None:
    """A header cell the description does not name, at the header's line (csvw warns of it with the
    first row); an empty last one is the delimiter that ends the header, a spreadsheet's habit."""
    found = _UNSPECIFIED.match(said)
    if found is None:
        return None
    start, header = _first_record(table, data_file, dialect)
    if found.group(1) == "" and header and not header[-1].strip():
        why = f"the header ends with {dialect.delimiter!r}, an empty column the description does not name"
    else:
        why = f"the header names a column the description does not, {found.group(1)!r}"
    return TableError(f"{data_file}:{start}: {why}")


def _record_at(table: Table, data_file: Path, dialect: Any, line: int) -> list[str] | None:
    """The cells of the record that holds `line` (a blank line's: none), or None where no record does."""
    found = (record for start, end, record in _records(table, data_file, dialect) if start <= line <= end)
    return next(found, None)


def _blank_line(table: Table, data_file: Path, dialect: Any, line: int) -> str:
    """ "; line N is blank" where `line` is a blank line: a row of empty cells."""
    record = _record_at(table, data_file, dialect, line)
    blank = record is not None and not any(cell.strip() for cell in record)
    return f"; line {line} is blank, a row of empty cells" if blank else ""


def _special_cell(table: Table, data_file: Path, dialect: Any, line: int) -> str:
    """Where in the record holding `line` a special value (NaN, INF, in any case) stands in a column of
    a decimal or integer type, which has none, as `:COLUMN NAME`; empty if none does."""
    record = _record_at(table, data_file, dialect, line) or []  # csvw's: the columns skipped left out
    positions = _positions(table)
    for column in table.tableSchema.columns:
        base = column.datatype.base if column.datatype is not None else "string"
        at = positions[column.name]
        cell = at - dialect.skipColumns - 1
        if base in _DECIMAL_TYPES and 0 <= cell < len(record) and _special(record[cell]):
            return f":{at} {column.name}"
    return ""


def _positions(table: Table) -> dict[str, int]:
    """The column of the CSV file (from 1) each column's cells stand in: where the header names it
    (a CSV's columns may stand in another order than the description's), else in the description's
    order; past every other one, for a virtual column. Either after the columns the dialect skips."""
    dialect = table._get_dialect()
    data_file = _data_file(table)
    header = _first_record(table, data_file, dialect)[1] if data_file and dialect.header else []
    real = [column for column in table.tableSchema.columns if not column.virtual]
    positions = {}
    for index, column in enumerate(table.tableSchema.columns, start=1):
        found = header.index(column.header) + 1 if column.header in header else index
        positions[column.name] = dialect.skipColumns + (found if column in real else len(real) + index)
    return positions


def _header_once(table: Table, data_file: Path, dialect: Any) -> None:
    """No header cell names a column twice: csvw keeps the later of the two cells, so a column pasted
    twice gave a row the second one's value."""
    if not dialect.header:
        return
    start, header = _first_record(table, data_file, dialect)
    for index, name in enumerate(header):
        if name.strip() and name in header[:index]:  # empty ones: a delimiter ending lines, said after
            first = header.index(name) + 1 + dialect.skipColumns
            raise TableError(
                f"{data_file}:{start}: the header names {name!r} twice, in columns {first} and"
                f" {index + 1 + dialect.skipColumns}"
            )


def _special(cell: str) -> bool:
    """A cell Python's decimals read as a NaN or an infinity, as csvw does (`nan`, `-Infinity`)."""
    try:
        return not decimal.Decimal(cell.strip()).is_finite()
    except decimal.InvalidOperation:
        return False


def _keys_once(table: Table, rows: list[tuple[str, int, dict[str, Any]]]) -> None:
    """No two rows share the values of the table's primaryKey, which csvw does not check."""
    key = table.tableSchema.primaryKey or []
    if not key:
        return
    named = {column.name for column in table.tableSchema.columns}
    if not all(isinstance(name, str) and name in named for name in key):
        raise TableError(f"{_TABLE.get()}: the primaryKey {key} names a column the table does not have")
    first: dict[tuple[str, ...], str] = {}
    for file_name, line, row in rows:
        values = tuple(str(row.get(name)) for name in key)
        if values in first:
            shown = ", ".join(f"{name} {value}" for name, value in zip(key, values, strict=True))
            raise TableError(
                f"{file_name}:{line}: the row repeats the primary key ({shown}) of {first[values]}"
            )
        first[values] = f"line {line}"


_TABLE: ContextVar[Path | None] = ContextVar("table", default=None)  # the description being read


def _in_table_folder(path: Path | str) -> None:
    """A file a table reads is in the folder of its description, links followed."""
    metadata = _TABLE.get()
    folder = metadata.parent.resolve() if metadata is not None else None
    if folder is not None and not Path(path).resolve().is_relative_to(folder):
        raise TableError(f"{metadata}: {path} is not in the table's folder, the only one a table reads")


def _confine_csvw() -> None:
    """csvw fetches a URL a description names (its CSV, schema, dialect or context) and opens any JSON
    file; while a table is read (`_TABLE`) it fetches nothing and opens files of the table's folder
    only, and otherwise it does as it did."""
    import csvw.utils

    if getattr(csvw.utils, "_kg_confined", False):
        return
    json_open = csvw.utils.json_open

    fetch = csvw.utils.urlopen

    def no_network(url: object, *args: object, **kwargs: object) -> Any:
        if _TABLE.get() is None:  # csvw used otherwise in this process
            return fetch(url, *args, **kwargs)
        raise TableError(f"{_TABLE.get()}: it names {url}, which is never fetched")

    def folder_json(filename: str, mode: str = "r", encoding: str = "utf-8") -> Any:
        _in_table_folder(filename)
        return json_open(filename, mode, encoding)

    csvw.utils.urlopen = no_network
    csvw.utils.json_open = folder_json
    csvw.utils._kg_confined = True


def _record_start(data_file: Path, dialect: Any) -> int | None:
    """The line where the record Python's csv reader fails on starts (an unterminated quote fails only
    at the end of the file)."""
    with data_file.open(encoding=dialect.python_encoding, newline="") as lines:
        reader = csv.reader(lines, **dialect.as_python_formatting_parameters())
        start = 1
        try:
            for _ in reader:
                start = reader.line_num + 1
        except csv.Error:
            return start
    return None


def _described(table: Table, iri: ox.NamedNode) -> list[ox.Triple]:
    """The table as a csvw:Table, with the title and source its metadata gives (`dc:title`, `dc:source`)."""
    described = [
        ox.Triple(iri, RDF_TYPE, ox.NamedNode(CSVW + "Table")),
        # an xsd:anyURI, the range CSVW gives it, which OWL 2 holds apart from a string
        ox.Triple(
            iri, ox.NamedNode(CSVW + "url"), ox.Literal(str(table.url), datatype=ox.NamedNode(XSD + "anyURI"))
        ),
    ]
    for name, value in table.common_props.items():
        if name in ("dc:title", "dc:source"):
            described.append(ox.Triple(iri, ox.NamedNode(DCTERMS + name[3:]), _common_term(value)))
    return described


def _common_term(value: object) -> ox.NamedNode | ox.Literal:
    """A common property's value as CSVW's metadata reads it (tabular-metadata, 5.8): `{"@id": IRI}` an
    IRI, `{"@value": text, "@language": tag}` a literal in that language, a plain string a plain
    literal, so that any CSVW processor makes of the description what the build makes of it."""
    if isinstance(value, dict) and isinstance(value.get("@id"), str):
        return ox.NamedNode(value["@id"])
    if isinstance(value, dict) and isinstance(value.get("@value"), str):
        language = value.get("@language")
        return ox.Literal(value["@value"], language=language if isinstance(language, str) else None)
    return ox.Literal(str(value))


def _literal(value: object, column: Any, where: str) -> ox.Literal:
    """The cell's typed value as a literal: its datatype's lexical form, or a string in the column's
    language."""
    lexical = _lexical(value, column, where)
    if lexical is None:
        if unwritten := character_error(str(value)):  # checked for typed cells with their datatype
            raise TableError(f"{where} {column.name}: {unwritten}")
        if lang := _language(column):
            return ox.Literal(str(value), language=lang)
        return ox.Literal(str(value))
    return ox.Literal(lexical, datatype=_xsd(column.datatype.base))


def _language(column: Any) -> str | None:
    """The language of a column's texts, its own or one its table schema, table or group gives it, as
    CSVW inherits it: csvw's `inherit` stops at the column, whose language is "und" where none is given."""
    owner = column
    while owner is not None:
        if (lang := getattr(owner, "lang", None)) and lang != "und":
            return str(lang)
        owner = getattr(owner, "_parent", None)
    return None


def _lexical(value: object, column: Any, where: str) -> str | None:
    """A typed cell's value as its datatype's lexical form (XSD's spelling of the infinities and NaN,
    which csvw writes in lower case), checked as the build checks every literal, so that a bad cell
    is named at its table's line and column: csvw reads a gYear, gYearMonth and the like as strings,
    unchecked. None for a string column."""
    datatype = column.datatype
    if datatype is None or datatype.base in ("string", "any"):
        return None
    try:
        lexical = str(datatype.formatted(value))
    except (ValueError, TypeError, ArithmeticError) as error:
        raise TableError(f"{where} {column.name}: {error}") from None
    if datatype.base in ("double", "float"):
        lexical = _XSD_SPECIAL.get(lexical, lexical)
    wrong = lexical_error(lexical, XSD + datatype.base)
    if wrong:
        raise TableError(f"{where} {column.name}: {wrong}")
    return lexical


_XSD_SPECIAL = {"inf": "INF", "-inf": "-INF", "nan": "NaN"}


def _xsd(name: str) -> ox.NamedNode:
    return ox.NamedNode(XSD + name)


def table_ntriples(metadata: Path) -> dict[str, bytes]:
    """The table `metadata` describes as N-Triples per graph name ("data", "provenance"), each row's
    triples after a comment naming the table's file and line (where an error about them points);
    raises TableError."""
    triples = TableTriples()
    table_triples(metadata, triples)
    return {
        name: b"".join(
            f"{ORIGIN}{origin}\n".encode() + (ox.serialize(block, format=ox.RdfFormat.N_TRIPLES) or b"")
            for origin, block in getattr(triples, name)
        )
        for name in ("data", "provenance")
    }


CSVW_CONTEXT = "http://www.w3.org/ns/csvw"
# What a table's description may hold and still be read from these two files alone: its context
# (no base that would move the CSV), the CSV's relative path, and a schema and dialect written inline.
_SELF_CONTAINED = {"@context", "@type", "url", "tableSchema", "dialect"}


def table_inputs(metadata: Path) -> list[Path] | None:
    """The files a table's triples are made from (its metadata and the CSV its `url` names), or None
    unless the description is self-contained: a plain relative `url`, the CSVW context without a base,
    an inline schema without foreign keys, an inline dialect (the conversion then reads what it reads)."""
    description = _description(metadata)  # one that cannot be read is reported by its conversion
    if description is None or description.get("@context") != CSVW_CONTEXT:
        return None
    keys_known = all(key in _SELF_CONTAINED or (":" in key and "@" not in key) for key in description)
    schema, dialect = description.get("tableSchema"), description.get("dialect", {})
    inline = isinstance(schema, dict) and "foreignKeys" not in schema and isinstance(dialect, dict)
    url = description.get("url")
    if not (isinstance(url, str) and url and not any(mark in url for mark in ":?#%\\")):
        return None
    table = metadata.parent / url
    return [metadata, table] if keys_known and inline and table.is_file() else None


def write_tables(
    graph_folders: list[Path], out: Path, convert: Callable[[Path], dict[str, bytes]] = table_ntriples
) -> dict[str, list[Path]]:
    """The tables of the given curated folders as one N-Triples file (which is Turtle) per named graph
    under `out`; the files by graph name, none when there is no table. `convert` turns one table into
    its N-Triples (`table_ntriples`, or a cache of it)."""
    converted = [convert(metadata) for folder in graph_folders for metadata in table_descriptions(folder)]
    written: dict[str, list[Path]] = {}
    for name in ("data", "provenance"):
        blocks = b"".join(table[name] for table in converted)
        if blocks:
            written[name] = [out / f"tables-{name}.ttl"]
            written[name][0].write_bytes(blocks)
    return written
