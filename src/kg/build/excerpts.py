"""Excerpts: verbatim spans of a source, written as Web Annotation selectors.

Curators cite a fact by quoting the report; `kg excerpt` turns a quote into the
Turtle of an excerpt with its character position, and the build checks every
excerpt in the graph against the source text again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import Literal, URIRef

from kg.build.queries import sparql
from kg.build.sources import SourceText, in_another_form, locate_quote, parting
from kg.literals import capped_integer
from kg.store.base import selected, term_order


@dataclass(frozen=True)
class ExcerptProblem:
    """An excerpt whose quote or position does not match its source."""

    excerpt: ox.NamedNode | ox.BlankNode  # as the store holds it
    message: str
    quote: ox.Literal | None = None  # the quote that does not match, where that is the problem
    everywhere: bool = False  # named at every place the excerpt is described, which is the problem


def excerpt_turtle(slug: str, document: URIRef, text: str, quote: str, occurrence: int | None = None) -> str:
    """The Turtle block for an excerpt `slug` quoting `quote` from `document`."""
    start, end = locate_quote(text, quote, occurrence)
    iri = f"excerpt:{slug}"
    exact = Literal(quote).n3()
    return (
        f"{iri} a kg:Excerpt ;\n"
        f"    oa:hasSource <{document}> ;\n"
        f"    oa:hasSelector {iri}-quote , {iri}-position .\n"
        f"{iri}-quote a oa:TextQuoteSelector ;\n"
        f"    oa:exact {exact} .\n"
        f"{iri}-position a oa:TextPositionSelector ;\n"
        f'    oa:start "{start}"^^xsd:nonNegativeInteger ;\n'
        f'    oa:end "{end}"^^xsd:nonNegativeInteger .\n'
    )


def check_excerpts(
    store: ox.Store, texts: dict[URIRef, SourceText], only: set[URIRef] | None = None
) -> tuple[int, list[ExcerptProblem]]:
    """The number of excerpts compared, and every excerpt whose quote is not at its stated position in
    its source's text: all of them, or `only` these, in whichever graph they are written. The excerpts
    are compared in source order, so one text is in memory at a time."""
    if only is None:
        text = sparql("excerpt-selectors")
    elif only:
        text = sparql("excerpt-selectors-of", excerpt=sorted(map(str, only)))
    else:
        return 0, []
    rows = sorted(_selectors(store, text), key=_Selectors.order)
    problems: list[ExcerptProblem] = []
    sources: dict[ox.NamedNode | ox.BlankNode, set[SelectorValue]] = {}
    for row in rows:
        sources.setdefault(row.excerpt, set()).update([row.source] if row.source is not None else [])
    twice = {excerpt for excerpt, of in sources.items() if len(of) > 1}
    for excerpt in sorted(twice, key=term_order):  # one name given in two sources: not each row's mismatch
        said = ", ".join(sorted(source.value for source in sources[excerpt]))
        told = f"is described as quoting {len(sources[excerpt])} sources ({said}); name each excerpt once"
        problems.append(ExcerptProblem(excerpt, told, everywhere=True))
    # Two quotes and two positions: the description given again (a second quote alone is named where
    # it is written, by the mismatch of its row).
    quotes = Counter(excerpt for excerpt, _ in {(row.excerpt, row.exact) for row in rows})
    positions = Counter(excerpt for excerpt, *_ in {(row.excerpt, row.start, row.end) for row in rows})
    several = {excerpt for excerpt in quotes if quotes[excerpt] > 1 and positions[excerpt] > 1} - twice
    for excerpt in sorted(several, key=term_order):  # a name given again in its source: not each mix
        told = "has several quotes and positions, where an excerpt is one quote at one position: a name"
        told += " given again describes the same excerpt; name each excerpt once"
        problems.append(ExcerptProblem(excerpt, told, everywhere=True))
    reading: tuple[URIRef | None, str] = (None, "")
    for row in rows:
        if row.excerpt in twice or row.excerpt in several:
            continue
        source = URIRef(row.source.value) if row.source is not None else None
        if source is None:
            problems.append(
                ExcerptProblem(row.excerpt, "names no source (oa:hasSource) whose text it quotes")
            )
            continue
        if source not in texts:
            problems.append(ExcerptProblem(row.excerpt, f"its source {source} has no text under sources/"))
            continue
        if row.exact is None or row.start is None or row.end is None:
            problems.append(ExcerptProblem(row.excerpt, "needs a quote selector and a position selector"))
            continue
        start, end = _whole(row.start), _whole(row.end)
        if start is None or end is None:
            shown = f"start {row.start}, end {row.end}"
            problems.append(ExcerptProblem(row.excerpt, f"needs a position of whole numbers, not {shown}"))
            continue
        if reading[0] != source:
            reading = (source, texts[source].text)
        exact = row.exact.value
        if reading[1][start:end] != exact:
            quote = row.exact if isinstance(row.exact, ox.Literal) else None
            problems.append(ExcerptProblem(row.excerpt, _mismatch(reading[1], exact, start, end), quote))
    return len(rows), problems


def _mismatch(text: str, exact: str, start: int, end: int) -> str:
    """Where the source text and the quote part: both shown from their start, or from a little before
    the first character that differs when that lies further on, so that two texts alike for their first
    60 characters do not look the same; and where the quote stands in the text, if anywhere (a text
    saved again, say with a byte-order mark first, moves every quote)."""
    found = text[start:end]
    differs = next(
        (i for i, (a, b) in enumerate(zip(found, exact, strict=False)) if a != b), min(len(found), len(exact))
    )
    at = differs - 20 if differs > 40 else 0
    cut = "…" if at else ""
    told = (
        f"the source text at {start}-{end} lies past its end (it has {len(text):,} characters)"
        if start >= len(text)
        else f"the source text at {start}-{end} is {cut}{found[at : at + 60]!r}, not the quoted "
        f"{cut}{exact[at : at + 60]!r} (they part at character {start + differs}: "
        f"{parting(found[differs : differs + 1], exact[differs : differs + 1])}"
        f"{in_another_form(found, exact)})"
    )
    return told + _elsewhere(text, exact)


def _elsewhere(text: str, exact: str) -> str:
    """Where the quote stands in the text, when it does, and the byte-order mark an editor may have put
    first, which counts as the text's first character."""
    told = ""
    if exact and (first := text.find(exact)) != -1:
        more = text.count(exact) - 1
        told = f"; the quote is in the text at {first}-{first + len(exact)}" + (
            f" and {more} more place{'s' if more > 1 else ''}" if more else ""
        )
    if text.startswith("\ufeff"):
        told += "; the text starts with a byte-order mark (U+FEFF), which counts as its first character"
    return told


SelectorValue = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass(frozen=True)
class _Selectors:
    """One row of an excerpt: its source and its selectors' values as the store gives them, None where
    missing. An excerpt with several selectors of a kind has a row for each combination."""

    excerpt: ox.NamedNode | ox.BlankNode
    source: SelectorValue | None
    exact: SelectorValue | None
    start: SelectorValue | None
    end: SelectorValue | None

    @classmethod
    def of(cls, row: ox.QuerySolution) -> _Selectors:
        return cls(*(row[name] for name in ("excerpt", "source", "exact", "start", "end")))

    def order(self) -> tuple[tuple[int, str, str], ...]:
        """By source, then excerpt, as SPARQL's ORDER BY puts them (unbound, blank nodes, IRIs, literals),
        then by their selectors' values: one order for the rows of both queries, which the store
        answers in orders of its own."""
        return tuple(map(term_order, (self.source, self.excerpt, self.exact, self.start, self.end)))


def _whole(term: SelectorValue) -> int | None:
    """A position's value, where it is a whole number; None for any other term."""
    value = term.value if isinstance(term, ox.Literal) else ""
    # Past any text's length, a position's size alone tells (Python reads no more than 4,300 digits).
    return capped_integer(value, 2**63) if value.isascii() and value.isdigit() else None


def _selectors(store: ox.Store, text: str) -> list[_Selectors]:
    """Every row of the SELECT `text`, read whole in this thread: Oxigraph frees an answer only in the
    thread that asked for it, so none may outlive the call (in an error's frame, say)."""
    rows = selected(store.query(text))
    try:
        return [_Selectors.of(row) for row in rows]
    finally:
        del rows
