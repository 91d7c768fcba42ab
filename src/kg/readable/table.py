"""A SELECT answer as a reader's table: labels for IRIs, units and qualifiers beside values, rows grouped.

The query's own columns stay as they are in the CSV and JSON twins; this is
only how the page and the terminal show them. Label columns (and a document's title) fold into
the column they name (origin + originLabel -> origin, source + sourceTitle -> source), a unit
column into the numbers it measures, a qualifier into the value it qualifies ("nearly
$2.9 billion"), and rows that differ in one column only become one row that
lists that column's values (unless a column counts the things of each row).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kg.evidence.facts import Evidence
from kg.evidence.quotes import clean_quote
from kg.readable.values import TermLike, as_number, literal_text, local_name, with_unit

UNITLESS = re.compile(r"percent|factor|count|observations|statements|index|year", re.IGNORECASE)
# Numbers that place or count rather than measure: a qualifier of the fact never stands beside them.
NOT_AMOUNTS = re.compile(r"year|date|rank|index|row|start|end|count", re.IGNORECASE)
# Numbers that count the things of their own row (COUNT(...) AS ?observations): rows merged beside one
# would show one row's count as the count of them all.
COUNTS = re.compile(r"count|observations|statements", re.IGNORECASE)
MAX_EVIDENCE = 3  # excerpts shown per row; the fact's page has them all
QUOTE_COLUMNS = {"exact", "quote"}  # columns of an excerpt's words, as the catalogue names them


@dataclass(frozen=True)
class Cell:
    """One value as shown: its words, the IRI it links to, the exact value behind it."""

    text: str
    iri: str | None = None
    exact: str | None = None  # the raw value, shown on hover
    numeric: bool = False


@dataclass
class Row:
    cells: list[list[Cell]]
    facts: list[str] = field(default_factory=list)  # the statements (or thing) the evidence is of
    fact_labels: dict[str, str] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    more_evidence: int = 0


@dataclass
class ReadableTable:
    columns: list[str]
    headers: list[str]
    rows: list[Row]


def header(name: str) -> str:
    """A variable name as a column heading: 'computedPercent' -> 'computed percent'."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()


def _layout(variables: list[str]) -> tuple[list[str], dict[str, str], dict[str, str], dict[str, str]]:
    """Which columns are shown, and which fold into another: label, unit and qualifier columns."""
    names = set(variables)
    # A label or a title (a document's) names the thing of the column it follows.
    label_of = {
        v: v[: -len(suffix)]
        for v in variables
        for suffix in ("Label", "Title")
        if v.endswith(suffix) and v[: -len(suffix)] in names
    }
    unit_of = {v: v[: -len("Unit")] for v in variables if v.endswith("Unit") and v[: -len("Unit")] in names}
    qualifier_of = {
        v: v[: -len("Qualifier")]
        for v in variables
        if v.endswith("Qualifier") and v[: -len("Qualifier")] in names
    }
    shown = [v for v in variables if v not in label_of and v not in unit_of and v not in qualifier_of]
    return shown, label_of, unit_of, qualifier_of


def _cell(term: TermLike | None, label: str | None, labels: Mapping[str, str]) -> Cell | None:
    if term is None:
        return None
    if term.type == "uri":
        return Cell(label or labels.get(term.value) or local_name(term.value), term.value, term.value)
    if term.type == "bnode":
        return Cell("(blank node)", None, f"_:{term.value}")
    number = as_number(term)
    return Cell(literal_text(term), None, term.value, numeric=number is not None)


def _value_cell(
    name: str, row: Mapping[str, TermLike], unit: TermLike | None, labels: Mapping[str, str]
) -> Cell | None:
    term = row.get(name)
    number = as_number(term) if term is not None else None
    if term is not None and term.type == "literal" and name in QUOTE_COLUMNS:
        # A quote as the evidence beneath a row shows it, without the report's Markdown; the exact
        # text stays the cell's hover and the CSV's and JSON's value.
        return Cell(clean_quote(term.value), None, term.value)
    if number is None:
        return _cell(term, None, labels)
    assert term is not None
    if "percent" in name.lower():
        return Cell(f"{literal_text(term)}%", None, term.value, numeric=True)
    if "year" in name.lower() and term.value.isdigit():  # 2017, not 2,017
        return Cell(term.value, None, term.value, numeric=True)
    if unit is None or unit.type != "uri" or UNITLESS.search(name):
        return Cell(literal_text(term), None, term.value, numeric=True)
    return Cell(with_unit(number, unit.value, labels.get(unit.value)), None, term.value, numeric=True)


def readable(
    variables: list[str],
    rows: Sequence[Mapping[str, TermLike]],
    labels: Mapping[str, str],
    evidence: Mapping[str, list[Evidence]] | None = None,
) -> ReadableTable:
    """The answer as a reader's table, with each row's evidence when `evidence` is given."""
    shown, label_of, unit_of, qualifier_of = _layout(variables)
    # A label names the thing of an IRI column; beside a column of text it is text of its own.
    kept_apart = [lab for lab, of in label_of.items() if any(of in r and r[of].type != "uri" for r in rows)]
    for lab in kept_apart:
        del label_of[lab]
    shown = [v for v in variables if v in shown or v in kept_apart]
    numeric_columns = [v for v in shown if any(as_number(r[v]) is not None for r in rows if v in r)]
    main_value = next((v for v in numeric_columns if not UNITLESS.search(v)), None)
    # Where each qualifier column may fold: its own value column, or (the plain `qualifier`) the
    # row's first amount, the main value first ("more than doubled" qualifies a change factor), never
    # a year, a date or a rank, which a qualifier of the fact does not qualify.
    targets = {q: [of] for q, of in qualifier_of.items()}
    amounts = [v for v in numeric_columns if not NOT_AMOUNTS.search(v)]
    if "qualifier" in shown and amounts:
        targets["qualifier"] = list(dict.fromkeys([v for v in [main_value] if v] + amounts))
    groups = _qualified_groups(rows, [*targets, *(lab for lab, of in label_of.items() if of in targets)])

    def fits(row: Mapping[str, TermLike], qualifier: str, column: str) -> bool:
        """Whether `qualifier` may stand beside the row's `column`: its own column (`originQualifier`
        beside `origin`) whatever it holds, the plain `qualifier` beside a number only."""
        return column in row and (qualifier != "qualifier" or as_number(row[column]) is not None)

    # A qualifier column keeps a column of its own for the rows with nothing to stand beside.
    alone = [
        q
        for q, columns in targets.items()
        if any(
            not any(fits(group[0], q, c) for c in columns) for group in groups if any(q in r for r in group)
        )
    ]
    shown = [v for v in shown if v not in targets or v in alone] + [q for q in alone if q not in shown]
    shared_unit = "unit" if "unit" in shown and numeric_columns else None
    if shared_unit:
        shown.remove("unit")
    relation_pairs = {
        v: shown[i + 1] for i, v in enumerate(shown[:-1]) if v == "relation" or v.endswith("Relation")
    }
    for v in relation_pairs:
        shown.remove(v)
    qualifier_columns = set(targets)
    table_rows = []
    for group in groups:
        row = group[0]
        own_labels = {
            r[c].value: r[lab].value for r in group for lab, c in label_of.items() if c in r and lab in r
        }
        qualifiers = {
            q: list({r[q].value: r[q] for r in group if q in r}.values()) for q in qualifier_columns
        }
        beside = {
            q: next((c for c in columns if fits(row, q, c)), None)
            for q, columns in targets.items()
            if qualifiers[q]
        }
        cells: list[list[Cell]] = []
        for name in shown:
            if name in qualifier_columns:
                alone_here = qualifiers[name] if beside.get(name, "") is None else []
                cells.append(
                    [c for term in alone_here if (c := _cell(term, own_labels.get(term.value), labels))]
                )
                continue
            unit = row.get(next((u for u, of in unit_of.items() if of == name), "")) or (
                row.get(shared_unit) if shared_unit else None
            )
            cell = _value_cell(name, row, unit, labels)
            if cell and cell.iri:
                cell = _cell(row[name], own_labels.get(cell.iri), labels)
            words = [
                own_labels.get(term.value) or labels.get(term.value) or local_name(term.value)
                if term.type == "uri"
                else term.value
                for q, of in beside.items()
                if of == name
                for term in qualifiers[q]
            ]
            relation = next((r for r, of in relation_pairs.items() if of == name and r in row), None)
            prefix = (
                [labels.get(row[relation].value, local_name(row[relation].value)) + ":"] if relation else []
            )
            if cell and (words or prefix):
                # One value, however many qualifiers: the first reads before it, the others after.
                text = " ".join([*prefix, *words[:1], cell.text])
                if words[1:]:
                    text += f" ({', '.join(words[1:])})"
                cell = Cell(text, cell.iri, cell.exact, cell.numeric)
            cells.append([cell] if cell else [])
        # The IRIs of the columns given, not of every column the answer has: a page shows a few.
        iris = list(
            dict.fromkeys(r[v].value for r in group for v in variables if v in r and r[v].type == "uri")
        )
        table_rows.append(Row(cells, iris))
    if not any(COUNTS.search(v) for v in numeric_columns):
        table_rows = _group(table_rows, len(shown))
    if evidence is None:
        return ReadableTable(shown, [header(v) for v in shown], table_rows)
    _attach(table_rows, evidence, labels)
    # A column of the report's statements only (observations, flows) is the row itself: the evidence
    # cell names and links it, so the table does not repeat it as text.
    statement_columns = [
        i
        for i in range(len(shown))
        if any(row.cells[i] for row in table_rows)
        and all(
            cell.iri and any(e.statement for e in evidence.get(cell.iri, ()))
            for row in table_rows
            for cell in row.cells[i]
        )
        and len(shown) > 1
    ]
    keep = [i for i in range(len(shown)) if i not in statement_columns]
    for table_row in table_rows:
        table_row.cells = [table_row.cells[i] for i in keep]
    columns = [shown[i] for i in keep]
    return ReadableTable(columns, [header(v) for v in columns], table_rows)


def _qualified_groups(
    rows: Sequence[Mapping[str, TermLike]], qualifier_columns: list[str]
) -> list[list[Mapping[str, TermLike]]]:
    """The rows, those that differ in their qualifiers only (a fact more than 3,925 kg and of a
    partial period comes as two rows) taken together, in the order of their first row."""
    groups: dict[tuple[tuple[str, str, str], ...], list[Mapping[str, TermLike]]] = {}
    for row in rows:
        key = tuple((v, t.type, t.value) for v, t in row.items() if v not in qualifier_columns)
        groups.setdefault(key, []).append(row)
    return list(groups.values())


def _group(rows: list[Row], width: int, rounds: int = 2) -> list[Row]:
    """Rows identical but for one column become one row listing that column's values (twice at most).
    Linear in the cells: each column's cells are numbered once, so a row without one column is a
    tuple of small numbers, and merged values and facts are kept as ordered sets."""
    for _ in range(rounds):
        signatures = _signatures(rows, width)
        best: tuple[int, int] | None = None
        for column in range(width):
            keys = {signature[:column] + signature[column + 1 :] for signature in signatures}
            if len(keys) < len(rows) and (best is None or len(keys) < best[1]):
                best = (column, len(keys))
        if best is None:
            return rows
        column = best[0]
        merged: dict[tuple[int, ...], tuple[Row, dict[Cell, None], dict[str, None]]] = {}
        for row, signature in zip(rows, signatures, strict=True):
            key = signature[:column] + signature[column + 1 :]
            if key not in merged:
                target = Row([list(cells) for cells in row.cells], list(row.facts))
                merged[key] = (target, dict.fromkeys(target.cells[column]), dict.fromkeys(target.facts))
                continue
            target, values, facts = merged[key]
            for cell in row.cells[column]:
                if cell not in values:
                    values[cell] = None
                    target.cells[column].append(cell)
            for iri in row.facts:
                if iri not in facts:
                    facts[iri] = None
                    target.facts.append(iri)
        rows = [target for target, _, _ in merged.values()]
    return rows


def _signatures(rows: list[Row], width: int) -> list[tuple[int, ...]]:
    """Each row as a tuple of numbers, one per column, equal where the column's cells are equal."""
    numbers: list[dict[tuple[Cell, ...], int]] = [{} for _ in range(width)]
    return [
        tuple(numbers[i].setdefault(tuple(cells), len(numbers[i])) for i, cells in enumerate(row.cells))
        for row in rows
    ]


def _attach(rows: list[Row], evidence: Mapping[str, list[Evidence]], labels: Mapping[str, str]) -> None:
    """Each row's evidence: the excerpts of the report's statements in it. A row without one shows
    none: the excerpts of a thing it names (a country, an agency) say something of that thing, not
    what the row says of it."""
    for row in rows:
        statements = [iri for iri in row.facts if any(e.statement for e in evidence.get(iri, ()))]
        found: list[Evidence] = []
        for iri in statements:
            for item in evidence.get(iri, ()):
                if all((item.excerpt, item.agency) != (e.excerpt, e.agency) for e in found):
                    found.append(item)
        row.evidence = found[:MAX_EVIDENCE]
        row.more_evidence = max(0, len(found) - MAX_EVIDENCE)
        row.facts = statements
        row.fact_labels = {iri: labels.get(iri) or local_name(iri) for iri in statements}
