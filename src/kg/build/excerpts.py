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
from kg.errors import KgError
from kg.store.sparql import with_values


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
    its source's text: all of them, or `only` these. Excerpts come from the store in source order, so one
    text is in memory at a time."""
    text = sparql("excerpt-selectors", graph=provenance.value)
    if only is not None:
        if not only:
            return 0, []
        text = with_values(text, {"excerpt": tuple(ox.NamedNode(str(e)) for e in sorted(only))})
    rows = store.query(text)
    assert isinstance(rows, ox.QuerySolutions)  # a SELECT
    problems: list[ExcerptProblem] = []
    count = 0
    reading: tuple[URIRef | None, str] = (None, "")
    for row in rows:
        count += 1
        excerpt = row["excerpt"]
        source = URIRef(row["source"].value) if row["source"] is not None else None
        if source not in texts:
            problems.append(ExcerptProblem(excerpt, f"its source {source} has no text under sources/"))
            continue
        if None in (row["exact"], row["start"], row["end"]):
            problems.append(ExcerptProblem(excerpt, "needs a quote selector and a position selector"))
            continue
        if reading[0] != source:
            try:
                reading = (source, texts[source].text)
            except KgError:
                # Oxigraph frees an answer only in the thread that asked for it: not held by the
                # error's frame, which the build's main thread drops
                del rows, row
                raise
        exact, start, end = row["exact"].value, int(row["start"].value), int(row["end"].value)
        found = reading[1][start:end]
        if found != exact:
            problems.append(
                ExcerptProblem(
                    excerpt,
                    f"the source text at {start}-{end} is {found[:60]!r}, not the quoted {exact[:60]!r}",
                )
            )
    return count, problems
