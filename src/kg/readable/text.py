"""A readable table in the terminal: one block per row, values in words, the evidence beneath each row.

Wide answers do not fit a terminal as columns, so each row is printed as
"column: value" lines (the way `psql -x` prints), followed by who says it,
the clean quote and where it stands in the report's text file.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from kg.evidence.facts import Evidence
from kg.readable.table import ReadableTable

WIDTH = 100


def evidence_lines(item: Evidence, where: Callable[[Evidence], str], fact: str = "") -> list[str]:
    """One excerpt: whose word it is (and, given `fact`, the statement of the row it backs), the clean
    quote, and where it stands."""
    who = f"{item.who()}, for {fact}" if fact else item.who()
    quote = textwrap.wrap(f"“{item.quote}”", WIDTH - 6, initial_indent="    ", subsequent_indent="    ")
    # a line may be a whole paragraph: the quote's characters, counted from the text's start
    characters = item.characters()
    position = f", {characters} of the text" if characters else ""
    return [f"  {who}:", *quote, f"    in context: {where(item)}{position}"]


def text_table(table: ReadableTable, where: Callable[[Evidence], str], count: int, truncated: bool) -> str:
    """Every row as labelled lines, its evidence beneath; `where` says where an excerpt stands."""
    width = max((len(h) for h in table.headers), default=0)
    blocks = []
    for number, row in enumerate(table.rows, 1):
        lines = [f"[{number}]"]
        for heading, cells in zip(table.headers, row.cells, strict=True):
            if cells:
                value = "; ".join(cell.text for cell in cells)
                lines += textwrap.wrap(
                    value,
                    WIDTH,
                    initial_indent=f"  {heading:<{width}}  ",
                    subsequent_indent=" " * (width + 4),
                )
        # Of a row of several statements (a production and a cultivation figure), each quote names
        # the one it backs; the table leaves the statements' own column out, as the page does.
        several = len(row.facts) > 1
        if row.evidence and not several:  # the statement the evidence backs, as the page heads it
            about = row.fact_labels.get(row.facts[0], row.facts[0])
            lines += textwrap.wrap(
                about, WIDTH, initial_indent=f"  {'about':<{width}}  ", subsequent_indent=" " * (width + 4)
            )
        for item in row.evidence:
            fact = row.fact_labels.get(item.fact, item.fact) if several and not item.is_context else ""
            lines += evidence_lines(item, where, fact)
        if row.more_evidence:
            lines.append(f"  … and {row.more_evidence} more excerpt(s)")
        blocks.append("\n".join(lines))
    grouped = f", shown as {len(table.rows)} grouped row(s)" if len(table.rows) != count else ""
    footer = f"{count} row(s){grouped}" + (" (truncated)" if truncated else "")
    return "\n\n".join([*blocks, footer])
