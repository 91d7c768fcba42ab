"""Every numeric quantity in the source report is in the graph, with the right value and unit.

The test finds every quantity in the report's text (digits, money, fiscal years,
decades, dates, number words), and for each one looks at the facts derived from
the excerpts that cover its position. One of those facts must carry the
expected value: an observation's value with its unit, a stated change, a
period's year, a date, or a count of the things the excerpt introduces.
The table below accounts for every quantity found; a new number in the text
that the table does not name fails the test, so nothing is skipped silently.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

import pytest
from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from kg.namespaces import KG, OA, QB, TIME

PROV_DERIVED = URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")
UNIT = "http://qudt.org/vocab/unit/"
HA, KG_UNIT, TONNE, PERCENT, NUM = (URIRef(UNIT + u) for u in ("HA", "KiloGM", "TONNE", "PERCENT", "NUM"))
USD = URIRef("http://qudt.org/vocab/currency/USD")
PERIOD_KINDS = (KG.CalendarYear, KG.FiscalYear, KG.UnspecifiedYear, KG.Period)

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
QUANTITY = re.compile(
    rf"(?P<date>(?:{MONTHS}) \d{{1,2}}, \d{{4}})"
    r"|(?P<money>\\?\$\d+(?:\.\d+)? (?:million|billion))"
    r"|(?P<fiscal>FY\d{4})"
    r"|(?P<decade>\d{4}s)\b"
    r"|(?P<number>\d+(?:,\d{3})*(?:\.\d+)?)"
    r"|\b(?P<word>one|two|three|four|five|six|seven|eight|nine|ten|dozen)\b"
)

# (quantity as written, its occurrence number) -> the evidence one of its facts must carry.
# Kinds: value (number, unit), change (percent), factor, year, fiscal, decade, date, count, months,
# identifier (a document number), figure (a figure number).
EXPECTED: dict[tuple[str, int], tuple] = {
    ("August 9, 2018", 1): ("date", "2018-08-09"),
    ("2017", 1): ("year", 2017),
    ("2000", 1): ("year", 2000),
    ("2013", 1): ("year", 2013),
    ("2017", 2): ("year", 2017),
    ("10", 1): ("value", "10", PERCENT),
    ("2013", 2): ("year", 2013),
    ("90", 1): ("value", "90", PERCENT),
    ("44,100", 1): ("value", "44100", HA),
    ("2017", 3): ("year", 2017),
    ("32,000", 1): ("value", "32000", HA),
    ("2016", 1): ("year", 2016),
    ("38", 1): ("change", "38"),
    ("1", 1): ("figure", 1),
    ("two", 1): ("count", 2),
    ("111", 1): ("value", "111", TONNE),
    ("2017", 4): ("year", 2017),
    ("37", 1): ("change", "37"),
    ("81", 1): ("value", "81", TONNE),
    ("2016", 2): ("year", 2016),
    ("2010", 1): ("year", 2010),
    ("2015", 1): ("year", 2015),
    ("FY2016", 1): ("fiscal", 2016),
    ("FY2017", 1): ("fiscal", 2017),
    ("2018", 1): ("year", 2018),
    ("two", 2): ("months", 2),
    ("FY2018", 1): ("fiscal", 2018),
    ("FY2017", 2): ("fiscal", 2017),
    ("3,925", 1): ("value", "3925", KG_UNIT),
    ("1", 2): ("figure", 1),
    ("2011", 1): ("year", 2011),
    ("2017", 5): ("year", 2017),
    ("2017", 6): ("year", 2017),
    ("2017", 7): ("year", 2017),
    ("2014", 1): ("year", 2014),
    ("2014", 2): ("year", 2014),
    ("28,750", 1): ("value", "28750", HA),
    ("2017", 8): ("year", 2017),
    ("22,235", 1): ("value", "22235", HA),
    ("2016", 3): ("year", 2016),
    ("1930s", 1): ("decade", 1930),
    ("1,238", 1): ("value", "1238", KG_UNIT),
    ("2015", 2): ("year", 2015),
    ("228", 1): ("value", "228", KG_UNIT),
    ("2016", 4): ("year", 2016),
    ("462", 1): ("value", "462", KG_UNIT),
    ("2017", 9): ("year", 2017),
    ("422", 1): ("value", "422", KG_UNIT),
    ("2015", 3): ("year", 2015),
    ("318", 1): ("value", "318", KG_UNIT),
    ("2016", 5): ("year", 2016),
    ("347", 1): ("value", "347", KG_UNIT),
    ("2017", 10): ("year", 2017),
    ("185", 1): ("value", "185", NUM),
    ("2015", 4): ("year", 2015),
    ("112", 1): ("value", "112", NUM),
    ("2016", 6): ("year", 2016),
    ("97", 1): ("value", "97", NUM),
    ("2017", 11): ("year", 2017),
    # "the 2017 National Drug Threat Assessment": the year is part of the cited document's title.
    ("2017", 12): ("title", "2017 National Drug Threat Assessment"),
    ("two", 3): ("count", 2),
    ("$2.9 billion", 1): ("value", "2900000000", USD),
    ("FY2008", 1): ("fiscal", 2008),
    ("FY2018", 2): ("fiscal", 2018),
    ("December 1, 2017", 1): ("date", "2017-12-01"),
    ("2017", 13): ("year", 2017),
    ("2,000", 1): ("value", "2000", NUM),
    ("1.5", 1): ("value", "1.5", KG_UNIT),
    ("$59 million", 1): ("value", "59000000", USD),
    ("FY2017", 3): ("fiscal", 2017),
    # "CRS In Focus IF10578, Mexico: Evolution of the Mérida Initiative, 2007-2019"
    ("10578", 1): ("identifier", "IF10578"),
    ("2007", 1): ("year", 2007),
    ("2019", 1): ("year", 2019),
}


def quantities(text: str) -> list[tuple[str, int, int]]:
    """(quantity as written, occurrence number, character position) for every quantity in `text`."""
    seen: Counter[str] = Counter()
    found = []
    for match in QUANTITY.finditer(text):
        written = match.group().replace("\\", "")
        seen[written] += 1
        found.append((written, seen[written], match.start()))
    return found


def covering_excerpts(data: Dataset, position: int) -> list[URIRef]:
    excerpts = []
    for excerpt in data.subjects(RDF.type, KG.Excerpt):
        selectors = list(data.objects(excerpt, OA.hasSelector))
        starts = [int(v) for s in selectors for v in data.objects(s, OA.start)]
        ends = [int(v) for s in selectors for v in data.objects(s, OA.end)]
        if starts and ends and starts[0] <= position < ends[0]:
            excerpts.append(URIRef(excerpt))
    return excerpts


def evidence(data: Dataset, excerpts: list[URIRef]) -> set[tuple]:
    """Everything the facts derived from `excerpts` say numerically, as comparable tuples."""
    facts = {URIRef(f) for e in excerpts for f in data.subjects(PROV_DERIVED, e)}
    found: set[tuple] = set()
    for cls, count in Counter(
        c for f in facts for c in data.objects(f, RDF.type) if str(c).startswith(str(KG))
    ).items():
        found.add(("count", count))
        found.add(("count-of", str(cls), count))
    for fact in facts:
        found |= _values_of(data, fact)
        for neighbour in set(data.objects(fact, None)):
            if isinstance(neighbour, URIRef):
                found |= _values_of(data, neighbour, follow_observations=False)
    return found


def _values_of(data: Dataset, node: URIRef, follow_observations: bool = True) -> set[tuple]:
    found: set[tuple] = set()
    measure = data.value(node, QB.measureType)
    if measure is not None:
        found.add(("value", _number(data.value(node, measure)), data.value(node, KG.unit)))
    for pct in data.objects(node, KG.percentChange):
        found.add(("change", _number(pct)))
    for factor in data.objects(node, KG.changeFactor):
        found.add(("factor", _number(factor)))
    for number in data.objects(node, KG.figureNumber):
        found.add(("figure", int(number)))
    for identifier in data.objects(node, KG.reportNumber):
        found.add(("identifier", str(identifier)))
    for title in data.objects(node, URIRef("http://purl.org/dc/terms/title")):
        found.add(("title", str(title)))
    for _, literal in data.predicate_objects(node):
        if isinstance(literal, Literal):
            if literal.datatype == XSD.date:
                found.add(("date", str(literal)))
            elif literal.datatype in (XSD.gYear, XSD.gYearMonth):
                found.add(("year", int(str(literal)[:4])))
            elif literal.datatype == XSD.duration:
                months = re.fullmatch(r"P(\d+)M", str(literal))
                if months:
                    found.add(("months", int(months.group(1))))
    if (node, RDF.type, TIME.ProperInterval) in data or any(
        (node, RDF.type, c) in data for c in PERIOD_KINDS
    ):
        found |= _period_values(data, node)
    for period in data.objects(node, None):
        if any((period, RDF.type, c) in data for c in PERIOD_KINDS):
            found |= _period_values(data, period)
    if follow_observations:
        for observation in list(data.objects(node, KG.fromObservation)) + list(
            data.objects(node, KG.toObservation)
        ):
            found |= _values_of(data, observation, follow_observations=False)
    return found


def _period_values(data: Dataset, period: URIRef) -> set[tuple]:
    found: set[tuple] = set()
    begin = data.value(data.value(period, TIME.hasBeginning), TIME.inXSDDate)
    end_instant = data.value(period, TIME.hasEnd)
    end = data.value(end_instant, TIME.inXSDDate) if end_instant is not None else None
    label = str(data.value(period, RDFS.label) or "")
    if (period, RDF.type, KG.FiscalYear) in data:
        found.add(("fiscal", int(str(end)[:4])))
    for fiscal in re.findall(r"FY(\d{4})", label):
        found.add(("fiscal", int(fiscal)))
    for year in data.objects(period, KG.year):
        found.add(("year", int(str(year))))
    if begin is not None:
        found.add(("year", int(str(begin)[:4])))
        if str(begin).endswith("-01-01") and end is not None and int(str(end)[:4]) == int(str(begin)[:4]) + 9:
            found.add(("decade", int(str(begin)[:4])))
    if end is not None and str(end).endswith("-12-31"):
        found.add(("year", int(str(end)[:4])))
    return found


def _number(value) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def test_every_quantity_in_the_text_is_accounted_for(source_text: str) -> None:
    found = {(written, occurrence) for written, occurrence, _ in quantities(source_text)}
    assert found == set(EXPECTED), (
        f"quantities in the text but not in the table: {sorted(found - set(EXPECTED))}; "
        f"in the table but not in the text: {sorted(set(EXPECTED) - found)}"
    )


@pytest.mark.parametrize("written,occurrence", sorted(EXPECTED), ids=lambda v: str(v))
def test_quantity_is_in_the_graph(dataset: Dataset, source_text: str, written: str, occurrence: int) -> None:
    position = next(p for w, o, p in quantities(source_text) if (w, o) == (written, occurrence))
    excerpts = covering_excerpts(dataset, position)
    assert excerpts, f"{written!r} (#{occurrence}) at {position} is quoted by no excerpt"
    expected = EXPECTED[(written, occurrence)]
    if expected[0] == "value":
        expected = ("value", _number(expected[1]), expected[2])
    found = evidence(dataset, excerpts)
    assert expected in found, f"{written!r} #{occurrence}: {expected} not among {sorted(map(str, found))}"


def test_counted_things_are_the_ones_named(dataset: Dataset, source_text: str) -> None:
    """'two primary zones' are two cultivation zones; 'two key precursor chemicals' two precursors."""
    zones = covering_excerpts(dataset, source_text.index("two primary zones"))
    assert ("count-of", str(KG.CultivationZone), 2) in evidence(dataset, zones)
    precursors = covering_excerpts(dataset, source_text.index("two key precursor"))
    assert ("count-of", str(KG.PrecursorChemical), 2) in evidence(dataset, precursors)
