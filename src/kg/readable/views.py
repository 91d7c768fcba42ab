"""Which views of a SELECT answer apply: the table always; a chart, a network when the answer allows.

Decided from the answer itself, never from the query text, so a typed query and a catalogue question
are treated alike (as Wikidata's query service offers its views): a chart needs a numeric column and
a period column (years, fiscal years, dates, or period entities whose labels name one); a network
needs two entity columns in a row. A view that does not apply says why in words.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from kg.namespaces import ID, PREFIXES, XSD
from kg.readable.table import header
from kg.readable.values import TermLike, as_number

VIEWS = ("table", "chart", "network")
MAX_NODES = 60  # entities a network picture can show legibly; past it the view says so
MAX_ARROWS = 150  # and arrows
# Vocabulary terms (classes, properties, units) are what rows say about entities, not entities.
VOCABULARIES = tuple(sorted({ns for ns in PREFIXES.values() if not ns.startswith(str(ID))}))
YEAR = re.compile(r"^(\d{4})$")
FISCAL_YEAR = re.compile(r"^FY\s?(\d{4})$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """When a value holds, as the chart places it; kinds never share an axis."""

    label: str
    kind: str  # "calendar year", "fiscal year" or "period"
    begin: date
    end: date


@dataclass(frozen=True)
class ChartPlan:
    value: str  # the numeric column drawn
    period: str  # the column saying when
    style: str  # "line" for years, "bar" for other periods


@dataclass(frozen=True)
class NetworkPlan:
    source: str  # the column of the edges' start
    target: str  # the column of their end
    label: str | None  # the column naming each edge, if any


@dataclass(frozen=True)
class Views:
    """The views an answer allows; for each one that does not apply, the reason in words."""

    chart: ChartPlan | None
    network: NetworkPlan | None
    reasons: dict[str, str]

    def applies(self, view: str) -> bool:
        return (
            view == "table"
            or (view == "chart" and self.chart is not None)
            or (view == "network" and self.network is not None)
        )


def period_of(term: TermLike | None, labels: Mapping[str, str]) -> Period | None:
    """The period a term names: an xsd:gYear, xsd:gYearMonth or xsd:date literal, a year ('2017') or
    a U.S. fiscal year ('FY2017', 1 October 2016 to 30 September 2017) as text or as an entity's label."""
    if term is None or term.type == "bnode":
        return None
    if term.type == "uri":
        text = labels.get(term.value, "")
    elif term.datatype in (XSD + "date", XSD + "dateTime"):
        try:
            day = date.fromisoformat(term.value[:10])
        except ValueError:
            return None
        return Period(day.isoformat(), "period", day, day)
    elif term.datatype == XSD + "gYearMonth":
        try:
            first = date.fromisoformat(term.value[:7] + "-01")
        except ValueError:
            return None
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        return Period(f"{first:%b %Y}", "period", first, last)
    elif term.datatype in (None, XSD + "string", XSD + "gYear") or term.lang:
        text = term.value
    else:
        return None
    text = text.strip()
    try:  # a year a calendar holds: year 0, and fiscal year 1, which starts in it, are none
        if match := YEAR.match(text):
            year = int(match.group(1))
            return Period(text, "calendar year", date(year, 1, 1), date(year, 12, 31))
        if match := FISCAL_YEAR.match(text):
            year = int(match.group(1))
            return Period(f"FY{year}", "fiscal year", date(year - 1, 10, 1), date(year, 9, 30))
    except ValueError:
        return None
    return None


def is_entity(term: TermLike) -> bool:
    """An IRI naming a thing (a place, an agency, a flow), not a term of a vocabulary."""
    return term.type == "uri" and not term.value.startswith(VOCABULARIES)


def views_of(
    variables: Sequence[str], rows: Sequence[Mapping[str, TermLike]], labels: Mapping[str, str]
) -> Views:
    """Which views the answer allows, from its columns' datatypes and kinds of terms."""
    reasons: dict[str, str] = {}
    chart, reasons["chart"] = _chart_plan(variables, rows, labels)
    network, reasons["network"] = _network_plan(variables, rows, labels)
    return Views(chart, network, {view: why for view, why in reasons.items() if why})


def _chart_plan(
    variables: Sequence[str], rows: Sequence[Mapping[str, TermLike]], labels: Mapping[str, str]
) -> tuple[ChartPlan | None, str]:
    """The first numeric column whose every value has a period in its row, and that period column."""
    numeric = [
        v
        for v in variables
        if any(v in row for row in rows) and all(as_number(row[v]) is not None for row in rows if v in row)
    ]
    if not numeric:
        return None, "no numeric column"
    read: dict[str, list[Period | None]] = {}  # each column's periods, row by row, read once

    def periods_of(column: str) -> list[Period | None]:
        if column not in read:
            read[column] = [period_of(row.get(column), labels) for row in rows]
        return read[column]

    for value in numeric:
        valued = [i for i, row in enumerate(rows) if value in row]
        for column in variables:
            periods = [periods_of(column)[i] for i in valued] if column != value else []
            if periods and all(periods):
                years = all(p is not None and p.kind != "period" for p in periods)
                return ChartPlan(value, column, "line" if years else "bar"), ""
    return None, f"no period column (a year, fiscal year or date) beside the numbers of {header(numeric[0])}"


ENDS = (("origin", "destination"), ("input", "output"), ("source", "target"), ("from", "to"))


def _ends(columns: Sequence[str], rows: Sequence[Mapping[str, TermLike]]) -> tuple[str, str]:
    """The two of the entity `columns` an arrow joins: a pair named as one, else the first two ("" where
    there are fewer)."""
    for pair in ENDS:
        if all(end in columns for end in pair) and any(all(end in row for end in pair) for row in rows):
            return pair
    first, second, *_ = [*columns, "", ""]
    return first, second


def _network_plan(
    variables: Sequence[str], rows: Sequence[Mapping[str, TermLike]], labels: Mapping[str, str]
) -> tuple[NetworkPlan | None, str]:
    """Two entity columns are the edges' ends: a pair named as one (origin and destination, input and
    output, ...), else the first two (a route question's first two, its own parameters echoed in every
    row, drew "fentanyl to United States" for every route). The first other column that is not an
    end's label (a relation, a mode, a number) names the edge. Periods say when, so they are no ends."""
    entity_columns = [
        v
        for v in variables
        if any(v in row for row in rows)
        and all(is_entity(row[v]) for row in rows if v in row)
        and not all(period_of(row[v], labels) for row in rows if v in row)
    ]
    source, target = _ends(entity_columns, rows)
    if not source or not target or not any(source in row and target in row for row in rows):
        return None, "needs two entity columns per row"
    nodes = {row[c].value for row in rows for c in (source, target) if c in row}
    if len(nodes) > MAX_NODES:
        return None, f"{len(nodes)} entities are more than a picture can show ({MAX_NODES}); narrow the query"
    # Label columns of other columns (originLabel beside origin) name a thing, not the edge.
    label_columns = {v for v in variables if v.endswith("Label") and v[: -len("Label")] in variables}
    label = next((v for v in variables if v not in label_columns and v not in entity_columns), None)
    arrows = {
        tuple(row[c].value if c in row else "" for c in (source, target, label or source))
        for row in rows
        if source in row and target in row
    }
    if len(arrows) > MAX_ARROWS:
        return None, f"{len(arrows)} arrows are more than a picture can show ({MAX_ARROWS}); narrow the query"
    return NetworkPlan(source, target, label), ""
