"""Excerpts: verbatim spans of a source, written as Web Annotation selectors.

Curators cite a fact by quoting the report; `kg excerpt` turns a quote into the
Turtle of an excerpt with its character position, and the build checks every
excerpt in the graph against the source text again.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import Literal, URIRef

from kg.build.queries import sparql
from kg.build.sources import SourceText, locate_quote


@dataclass(frozen=True)
class ExcerptProblem:
    """An excerpt whose quote or position does not match its source."""

    excerpt: ox.NamedNode | ox.BlankNode  # as the store holds it
    message: str


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
    store: ox.Store,
    provenance: ox.NamedNode,
    texts: dict[URIRef, SourceText],
    only: set[URIRef] | None = None,
) -> tuple[int, list[ExcerptProblem]]:
    """The number of excerpts compared, and every excerpt whose quote is not at its stated position in
    its source's text: all of them, or `only` these. The excerpts are compared in source order, so one
    text is in memory at a time."""
    if only is None:
        text = sparql("excerpt-selectors", graph=provenance.value)
    elif only:
        text = sparql("excerpt-selectors-of", graph=provenance.value, excerpt=sorted(map(str, only)))
    else:
        return 0, []
    rows = sorted(_selectors(store, text), key=_Selectors.order)
    problems: list[ExcerptProblem] = []
    reading: tuple[str | None, str] = (None, "")
    for row in rows:
        source = URIRef(row.source) if row.source is not None else None
        if source not in texts:
            problems.append(ExcerptProblem(row.excerpt, f"its source {source} has no text under sources/"))
            continue
        if row.exact is None or row.start is None or row.end is None:
            problems.append(ExcerptProblem(row.excerpt, "needs a quote selector and a position selector"))
            continue
        if reading[0] != source:
            reading = (source, texts[source].text)
        found = reading[1][row.start : row.end]
        if found != row.exact:
            problems.append(
                ExcerptProblem(
                    row.excerpt,
                    f"the source text at {row.start}-{row.end} is {found[:60]!r}, "
                    f"not the quoted {row.exact[:60]!r}",
                )
            )
    return len(rows), problems


@dataclass(frozen=True)
class _Selectors:
    """One excerpt's row: its source and its selectors' values, None where missing."""

    excerpt: ox.NamedNode | ox.BlankNode
    source: str | None
    exact: str | None
    start: int | None
    end: int | None

    @classmethod
    def of(cls, row: ox.QuerySolution) -> _Selectors:
        source, exact, start, end = (row[name] for name in ("source", "exact", "start", "end"))
        return cls(
            row["excerpt"],
            source.value if source is not None else None,
            exact.value if exact is not None else None,
            int(start.value) if start is not None else None,
            int(end.value) if end is not None else None,
        )

    def order(self) -> tuple[str, bool, str]:
        """By source, then excerpt (blank nodes first), as SPARQL's ORDER BY would put them."""
        return (self.source or "", isinstance(self.excerpt, ox.NamedNode), self.excerpt.value)


def _selectors(store: ox.Store, text: str) -> list[_Selectors]:
    """Every row of the SELECT `text`, read whole in this thread: Oxigraph frees an answer only in the
    thread that asked for it, so none may outlive the call (in an error's frame, say)."""
    rows = store.query(text)
    assert isinstance(rows, ox.QuerySolutions)  # a SELECT
    return [_Selectors.of(row) for row in rows]
