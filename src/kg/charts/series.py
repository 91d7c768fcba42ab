"""Time series of the report's statistics, read from the RDF Data Cube observations in the store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from kg.errors import KgError
from kg.network.model import citation, place_key
from kg.network.sparql import local_name, rows, short_label
from kg.readable.values import numeral_text
from kg.store.base import Store

# QUDT units the statistics use, as a reader says them; an unknown unit shows its QUDT name.
UNIT_LABELS = {
    "HA": "hectares",
    "TONNE": "metric tons",
    "KiloGM": "kilograms",
    "NUM": "number",
    "PERCENT": "percent",
    "USD": "U.S. dollars",
}

FACTOR_WORDS = {2: "doubled", 3: "tripled", 4: "quadrupled"}


class UnknownMeasure(KgError, LookupError):
    """A measure name that the ontology does not declare."""

    status = 404


@dataclass(frozen=True)
class Measure:
    iri: str
    key: str
    label: str
    unit: str


@dataclass
class Point:
    """One observation: its value, when, and how firm it is."""

    observation: str
    value: float
    period: str
    begin: date
    end: date
    unit: str
    qualifiers: set[str] = field(default_factory=set)
    agencies: set[str] = field(default_factory=set)
    bound: str | None = None  # "lower" or "upper" when the value is a bound, not the value itself
    as_of: date | None = None  # for a partial period: the last month it counts
    kind: str = "period"  # "fiscal year", "calendar year" or "period": never two on one axis
    unchecked: bool = False  # read from an answer alone: whether it is a bound or a part is not known

    @property
    def partial(self) -> bool:
        return "partial period" in self.qualifiers or self.as_of is not None

    @property
    def firm(self) -> bool:
        """A whole period's value, neither a bound nor a part: the only points a line may join."""
        return self.bound is None and not self.partial and not self.unchecked

    @property
    def middle(self) -> float:
        """The middle of the period as a decimal year, so calendar and fiscal years sit apart."""
        start = self.begin.year + (self.begin.timetuple().tm_yday - 1) / 365.25
        stop = self.end.year + self.end.timetuple().tm_yday / 365.25
        return (start + stop) / 2

    @property
    def is_estimate(self) -> bool:
        return "estimate" in self.qualifiers


@dataclass(frozen=True, order=True)
class Dimension:
    """A dimension of an observation beyond its area and period (its origin, its programme): values that
    differ in one are not one series."""

    name: str  # the dimension property's label: "origin area", "programme"
    label: str  # its value's label: "Mexico"
    value: str  # its value's IRI


@dataclass
class Series:
    """The observations of one measure in one area, alike in every other dimension, in time order."""

    measure: Measure
    area: str
    area_label: str
    points: list[Point] = field(default_factory=list)
    citation: str = ""
    changes: list[str] = field(default_factory=list)  # the changes the report states, in words
    dimensions: tuple[Dimension, ...] = ()
    # Changes of the area as a whole, kept by the first of its series where none is of the area alone
    area_changes: list[str] = field(default_factory=list)
    # The source its figures come from (publisher and date), where another source gives figures of the
    # same measure, area and dimensions: each source's figures are a series of their own
    source: str = ""

    @property
    def unit(self) -> str:
        return self.points[0].unit if self.points else self.measure.unit

    @property
    def label(self) -> str:
        """The area and every other dimension, for titles, legends and words: a series named by its area
        alone said 'United States' for the share of seized heroin that came from Mexico."""
        named = [f"{d.name}: {d.label}" for d in self.dimensions]
        if self.source:
            named.append(f"source: {self.source}")
        return f"{self.area_label} ({'; '.join(named)})" if named else self.area_label


@dataclass
class Observed:
    """One observation as the chart query's rows give it, row by row: its point, place and dimensions."""

    point: Point
    area: str
    area_label: str
    dimensions: set[Dimension] = field(default_factory=set)
    reports: set[str] = field(default_factory=set)


def measures(store: Store) -> list[Measure]:
    """Every measure the ontology declares, with its unit."""
    return [
        Measure(row["measure"], local_name(row["measure"]), row["label"], unit_label(row.get("unit", "")))
        for row in rows(store, "chart-measures")
    ]


def unit_label(iri: str) -> str:
    name = local_name(iri) if iri else ""
    return UNIT_LABELS.get(name, name)


def resolve_measures(store: Store, names: Iterable[str]) -> list[Measure]:
    """The measures a user means (`poppyCultivationArea`, `poppy-cultivation-area` or a label), each
    once, in the order first named; the known measures are read once for all the names."""
    known = measures(store)
    chosen: dict[str, Measure] = {}
    for name in names:
        wanted = name.replace("-", "").replace("_", "").replace(" ", "").casefold()
        found = next(
            (m for m in known if wanted in {m.key.casefold(), m.label.replace(" ", "").casefold()}), None
        )
        if found is None:
            raise UnknownMeasure(f"no measure {name!r}; known: {', '.join(m.key for m in known)}")
        chosen.setdefault(found.iri, found)
    return list(chosen.values())


def time_series(store: Store, measure: Measure, area: str | None = None) -> list[Series]:
    """One series per area (or only `area`: an ISO code or place key), values of the other dimensions
    and source, oldest point first: two sources' figures for one year are never joined by a line."""
    found: dict[tuple[str, tuple[Dimension, ...], tuple[str, ...]], Series] = {}
    for seen in _observations(store, measure, area).values():
        key = (seen.area, tuple(sorted(seen.dimensions)), tuple(sorted(seen.reports)))
        found.setdefault(key, Series(measure, seen.area, seen.area_label, dimensions=key[1]))
        found[key].points.append(seen.point)
    for place, words, stated_in in _changes(store, measure):
        whole = [key for key in found if key[:2] == (place, ())]  # no other dimension: the area as a whole
        if whole:  # the series of the source that states it, where there is one
            found[next((key for key in whole if stated_in & set(key[2])), whole[0])].changes.append(words)
        elif of_place := sorted(key for key in found if key[0] == place):
            found[of_place[0]].area_changes.append(words)  # said of the area, not of that series
    for key, series in found.items():
        series.points.sort(key=lambda p: (p.begin, p.end))
        series.citation = citation(store, set(key[2]))
        if any(other[:2] == key[:2] and other != key for other in found):
            series.source = citation(store, set(key[2]), short=True)
    # two sources of one publisher and date: each also named by its reports' own names
    alike = [
        key
        for key, one in found.items()
        if one.source and any(o[:2] == key[:2] and o != key and found[o].source == one.source for o in found)
    ]
    for key in alike:
        found[key].source += f", {', '.join(local_name(report) for report in key[2])}"
    order = sorted(found, key=lambda key: (key[0], [(d.name, d.label) for d in key[1]], key[2]))
    return [found[key] for key in order]


def _observations(store: Store, measure: Measure, area: str | None) -> dict[str, Observed]:
    """The observations of `measure` (in `area` only, when given), read from the rows that each give one
    qualifier, agency, report or dimension of one."""
    observed: dict[str, Observed] = {}
    for row in rows(store, "chart-observations", measure=measure.iri):
        key = place_key(row["area"], row.get("iso"))
        if area is not None and area.casefold() not in {key.casefold(), row.get("areaLabel", "").casefold()}:
            continue
        seen = observed.get(row["obs"])
        if seen is None:
            seen = observed[row["obs"]] = Observed(_point(row, measure), key, row.get("areaLabel", key))
        _annotate(seen.point, row)
        if "agency" in row:
            seen.point.agencies.add(short_label(row, "agency"))
        if "report" in row:
            seen.reports.add(row["report"])
        if "dimension" in row:
            seen.dimensions.add(_dimension(row))
    return observed


def _point(row: dict[str, str], measure: Measure) -> Point:
    """An observation's value and period, from the first of its rows."""
    begin = date.fromisoformat(row["begin"])
    return Point(
        observation=row["obs"],
        value=float(row["value"]),
        period=row.get("periodLabel", row["begin"][:4]),
        begin=begin,
        end=date.fromisoformat(row["end"]) if "end" in row else begin,
        unit=unit_label(row.get("unit", "")) or measure.unit,
    )


def _annotate(point: Point, row: dict[str, str]) -> None:
    """What one row says of how firm a point is: a qualifier, a bound, the month it counts to, its kind."""
    if "qualifierLabel" in row:
        point.qualifiers.add(row["qualifierLabel"])
    if "boundKind" in row:
        point.bound = local_name(row["boundKind"])
    if "asOf" in row:
        year, month = row["asOf"][:7].split("-")
        point.as_of = date(int(year), int(month), 1)
    if "periodKind" in row:
        point.kind = "fiscal year" if row["periodKind"].endswith("FiscalYear") else "calendar year"


def _dimension(row: dict[str, str]) -> Dimension:
    """One other dimension of an observation, named by the labels of its property and value."""
    value = row["dimensionValue"]
    return Dimension(
        row.get("dimensionLabel", local_name(row["dimension"])),
        row.get("dimensionValueLabel", local_name(value)),
        value,
    )


def _changes(store: Store, measure: Measure) -> list[tuple[str, str, set[str]]]:
    """The changes of `measure` the sources state: each one's place key, its words and its sources."""
    changes: dict[str, dict[str, str]] = {}
    qualifiers: dict[str, set[str]] = {}
    reports: dict[str, set[str]] = {}
    for row in rows(store, "chart-changes", measure=measure.iri):
        changes.setdefault(row["change"], row)
        qualifiers.setdefault(row["change"], set()).update(
            [row["qualifierLabel"]] if "qualifierLabel" in row else []
        )
        reports.setdefault(row["change"], set()).update([row["report"]] if "report" in row else [])
    return [
        (place_key(row["area"], row.get("iso")), change_words(row, qualifiers[change]), reports[change])
        for change, row in changes.items()
    ]


def change_words(row: dict[str, str], qualifiers: set[str]) -> str:
    """A stated change as the report puts it: 'more than doubled, 2010 to 2015', 'rose 38%, 2016 to 2017'."""
    rising = row["direction"].endswith("increase")
    if "factor" in row and float(row["factor"]) in FACTOR_WORDS:
        verb = FACTOR_WORDS[int(float(row["factor"]))]
    elif "factor" in row:
        verb = f"grew {numeral_text(row['factor'])}-fold"
    else:
        verb = "rose" if rising else "fell"
        if "percent" in row:
            verb += f" {numeral_text(row['percent'])}%"
    bounds = sorted(qualifiers & {"more than", "less than", "nearly", "approximately"})
    if bounds:
        verb = f"{bounds[0]} {verb}"
    if "partial period" in qualifiers:
        verb += " (partial period)"
    span = " to ".join(label for label in (row.get("fromLabel"), row.get("toLabel")) if label)
    return f"{verb}, {span}" if span else verb
