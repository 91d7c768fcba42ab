"""A figure a statement of the report gives is one its excerpts write: the check that ties numbers to
their quotes.

An excerpt is checked against its source character for character, but the number an observation
gives beside it was not checked against the excerpt: a table's 44,100 changed to 44,000 built, and
was published with "44,100 hectares" as its evidence. A figure is written in a quote in digits
(`44,100`, `2.9`, `38%`), with a scale (`$2.9 billion`, `$59 million`), or in the words the report
uses for a few (`doubled`, `the majority`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from kg.build.locate import SubjectIndex
from kg.build.queries import sparql

SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
# Words that state a figure: a factor of change, or a share in percent ("the majority": more than 50).
WORDS: dict[str, int | Decimal] = {
    "doubled": 2,
    "double": 2,
    "twice": 2,
    "tripled": 3,
    "triple": 3,
    "quadrupled": 4,
    "halved": Decimal("0.5"),
    "half": 50,
    "majority": 50,
    **{
        word: number
        for number, word in enumerate(
            "zero one two three four five six seven eight nine ten eleven twelve".split()
        )
    },
}
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:\s*(thousand|million|billion|trillion)\b)?"
)
_WORD = re.compile(r"\b(" + "|".join(WORDS) + r")\b", re.IGNORECASE)
SHOWN = 20  # statements named in one error; a count of the rest


def written_figures(text: str) -> set[Decimal]:
    """Every number `text` writes, as written and scaled by the word after it."""
    found: set[Decimal] = set()
    for number in _NUMBER.finditer(text):
        value = Decimal(number.group(1).replace(",", "") + (number.group(2) or ""))
        found.add(value)
        if number.group(3):
            found.add(value * SCALES[number.group(3)])
    found.update(Decimal(WORDS[word.group(1).lower()]) for word in _WORD.finditer(text))
    return found


@dataclass(frozen=True)
class UnwrittenFigure:
    """A figure of a statement that none of its quotes writes."""

    statement: str
    property: str
    figure: str
    written: set[Decimal]  # what its quotes do write

    def __str__(self) -> str:
        shown = ", ".join(f"{n:,}" for n in sorted(self.written)) or "no number"
        return (
            f"{self.statement}: its <{self.property}> {self.figure} is not a figure its excerpts write "
            f"(they write {shown})"
        )


def unwritten_figures(store: ox.Store) -> list[UnwrittenFigure]:
    """Each figure of a statement that no quote of its writes. A rebuild checks every statement too,
    in one query (a third of a second at a million triples): its verdict is a clean build's."""
    answer = store.query(sparql("stated-figures"), use_default_graph_as_union=True)
    assert isinstance(answer, ox.QuerySolutions)  # a SELECT
    found = []
    for row in answer:
        written = written_figures(row["quotes"].value)
        try:
            stated = abs(Decimal(row["figure"].value)) in written
        except InvalidOperation:  # NaN or INF, which no quote writes
            stated = False
        if not stated:
            found.append(
                UnwrittenFigure(row["statement"].value, row["property"].value, row["figure"].value, written)
            )
    return found


def describe_unwritten(found: list[UnwrittenFigure], index: SubjectIndex) -> str:
    """The figures, each at the place its statement is written, the first SHOWN."""
    lines = [f"{index.find(one.statement) or one.statement}: {one}" for one in found[:SHOWN]]
    if len(found) > SHOWN:
        lines.append(f"and {len(found) - SHOWN} more")
    return "a figure is not written in its excerpts:\n" + "\n".join(lines)
