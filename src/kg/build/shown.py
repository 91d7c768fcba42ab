"""How many faults of one kind a failed build names: the first few, found in their files, and a count
of the rest. Finding a fault's file and line reads the Turtle; thousands of them (a shape changed so
that every fact broke it) took minutes and gave an error of megabytes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from kg.build.settings import whole_number

SHOWN_VARIABLE = "KG_VIOLATIONS_SHOWN"
T = TypeVar("T")
SHOWN = 20  # faults of one kind named in one error, unless the variable says otherwise


def faults_shown() -> int:
    """How many faults of one kind an error names: `KG_VIOLATIONS_SHOWN`, or SHOWN; 0 names every
    one. Raises KgError when the variable is not a whole number."""
    return whole_number(SHOWN_VARIABLE, SHOWN, least=0, unit="faults (0 for every one)")


def first_of(
    items: Sequence[T], describe: Callable[[T], str], found: int | None = None, *, by_line: bool = False
) -> list[str]:
    """A line for each of the first `faults_shown()` of `items` (every one for 0), `describe` asked of
    those alone (the lines sorted, `by_line`: by the place each starts with), and a last line counting
    the rest of the `found` (len(items) unless more were found than are given)."""
    shown = faults_shown() or len(items)
    lines = [describe(item) for item in items[:shown]]
    if by_line:
        lines.sort()
    rest = (len(items) if found is None else found) - len(lines)
    return [*lines, f"and {rest:,} more"] if rest > 0 else lines
