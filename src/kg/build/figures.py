"""A figure a statement of the report gives is one its excerpts write: the check that ties numbers to
their quotes.

An excerpt is checked against its source character for character, but the number an observation
gives beside it was not checked against the excerpt: a table's 44,100 changed to 44,000 built, and
was published with "44,100 hectares" as its evidence. A figure is written in a quote in digits
(`44,100`, `2.9`, `38%`), with a scale (`$2.9 billion`, `$59 million`), or in the words the report
uses for a few (`doubled`, `the majority`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from kg.build.locate import SubjectIndex
from kg.build.queries import build_queries
from kg.build.shown import first_of
from kg.store.base import selected
from kg.store.queryfiles import binding_terms
from kg.store.sparql import with_values

SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "bn": 10**9, "trillion": 10**12}
_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
# Words that state a figure: a number, a factor of change, or a share in percent ("the majority": more
# than 50; "half": 50% or a factor of 0.5).
WORDS: dict[str, list[Decimal]] = {
    **{word: [Decimal(number)] for number, word in enumerate(_ONES)},
    **{word: [Decimal(10 * tens)] for tens, word in enumerate(_TENS, start=2)},
    **{word: [Decimal(2)] for word in ("doubled", "double", "twice", "twofold")},
    **{word: [Decimal(3)] for word in ("tripled", "trebled", "triple", "threefold")},
    **{word: [Decimal(4)] for word in ("quadrupled", "fourfold")},
    "fivefold": [Decimal(5)],
    "tenfold": [Decimal(10)],
    "hundred": [Decimal(100)],
    "dozen": [Decimal(12)],
    "halved": [Decimal("0.5")],
    "half": [Decimal(50), Decimal("0.5")],
    "majority": [Decimal(50)],
}
# Their letters matched without regard to case in ASCII only: Unicode's case rules match "ſix" and
# "thırty" to words the tables do not hold.
_SCALE = r"(?:\s*(?a:(thousand|million|billion|bn|trillion))\b)?"
# Digits in groups of three (by comma or a no-break space), a fraction, and a scale word after.
_NUMBER = re.compile(
    r"(?<![\w.])(?=\.?[0-9])([0-9]{1,3}(?:[,\u00a0\u202f][0-9]{3})+|[0-9]+)?(\.[0-9]+)?" + _SCALE,
    re.IGNORECASE,
)
_WORD = re.compile(r"\b(?a:(" + "|".join(WORDS) + r"))\b" + _SCALE, re.IGNORECASE)
# Between the two ends of a range whose scale is written once: "$1.5-2 billion", "1.5 to 2 million".
_RANGE = re.compile(r"\s*(?:-|\u2013|to)\s*\$?\s*")
_YEAR = re.compile(r"(-?[0-9]{4,})(?:Z|[+-][0-9]{2}:[0-9]{2})?")  # a gYear's lexical form


@functools.lru_cache(maxsize=4096)
def written_figures(text: str) -> frozenset[Decimal]:
    """Every number `text` writes, in digits or words, as written and scaled by the word after it;
    the first end of a range takes the scale written after the second."""
    found: set[Decimal] = set()
    numbers: list[tuple[Decimal, str | None, int, int]] = []  # value, scale, start, end
    for number in _NUMBER.finditer(text):
        if not number.group(1) and not number.group(2):
            continue
        digits = re.sub(r"[,\u00a0\u202f]", "", number.group(1) or "0") + (number.group(2) or "")
        numbers.append((Decimal(digits), number.group(3), number.start(), number.end()))
    for word in _WORD.finditer(text):
        for value in WORDS[word.group(1).lower()]:
            numbers.append((value, word.group(2), word.start(), word.end()))
    numbers.sort(key=lambda number: number[2])
    for place, (value, scale, _, end) in enumerate(numbers):
        after = numbers[place + 1] if place + 1 < len(numbers) else None
        found.add(value)
        if scale is None and after is not None and after[1] and _RANGE.fullmatch(text[end : after[2]]):
            scale = after[1]
        if scale:
            found.add(value * SCALES[scale.lower()])
    return frozenset(found)


def _figure(lexical: str) -> Decimal | None:
    """A number's value, or a year's number (`2000`, `-0044`, `2000Z`); None for NaN and INF."""
    year = _YEAR.fullmatch(lexical)
    try:
        value = Decimal(year.group(1) if year else lexical)
    except InvalidOperation:
        return None
    return abs(value) if value.is_finite() else None


@dataclass(frozen=True)
class UnwrittenFigure:
    """A figure of a statement that none of its quotes writes."""

    statement: str
    property: str
    figure: str
    written: frozenset[Decimal]  # what its quotes do write

    def __str__(self) -> str:
        shown = (
            ", ".join(f"{n:,}" if abs(n) >= 10_000 else f"{n}" for n in sorted(self.written)) or "no number"
        )
        return (
            f"{self.statement}: its <{self.property}> {self.figure} is not a figure its excerpts write "
            f"(they write {shown})"
        )


def unwritten_figures(store: ox.Store, only: set[str] | None = None) -> list[UnwrittenFigure]:
    """Each figure of a statement (of every one, or of those named `only`: what a rebuild's change
    reached) that no quote of its writes, a year by its number."""
    if only is not None and not only:
        return []
    query = build_queries()["stated-figures"]
    bindings = binding_terms(query.bindings({}))  # the kinds of statements
    if only is not None:  # the statements bound in the block of their kinds, so the query starts there
        bindings["statement"] = tuple(ox.NamedNode(iri) for iri in sorted(only))
    text = with_values(query.text, bindings)
    answer = selected(store.query(text, use_default_graph_as_union=True))
    quotes: dict[tuple[str, str, str], frozenset[Decimal]] = {}
    for row in answer:
        key = (row["statement"].value, row["property"].value, row["figure"].value)
        quotes[key] = quotes.get(key, frozenset()) | written_figures(row["exact"].value)
    found = []
    for (statement, prop, figure), written in sorted(quotes.items()):
        if _figure(figure) not in written:
            found.append(UnwrittenFigure(statement, prop, figure, written))
    return found


def describe_unwritten(found: list[UnwrittenFigure], index: SubjectIndex) -> str:
    """The figures, each at the place its statement is written, the first few (`kg.build.shown`)."""
    lines = first_of(found, lambda one: f"{index.find(one.statement) or one.statement}: {one}")
    return "a figure is not written in its excerpts:\n" + "\n".join(lines)
