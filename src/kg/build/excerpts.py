"""Excerpts: verbatim spans of a source, written as Web Annotation selectors.

Curators cite a fact by quoting the report; `kg excerpt` turns a quote into the
Turtle of an excerpt with its character position, and the build checks every
excerpt in the graph against the source text again.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF

from kg.build.sources import SourceText, locate_quote
from kg.namespaces import KG, OA


@dataclass(frozen=True)
class ExcerptProblem:
    """An excerpt whose quote or position does not match its source."""

    excerpt: URIRef
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


def check_excerpts(provenance: Graph, texts: dict[URIRef, SourceText]) -> list[ExcerptProblem]:
    """Every excerpt whose quote is not at its stated position in its source's text."""
    problems: list[ExcerptProblem] = []
    for excerpt in sorted(provenance.subjects(RDF.type, KG.Excerpt)):
        excerpt = URIRef(excerpt)
        source = provenance.value(excerpt, OA.hasSource)
        if source not in texts:
            problems.append(ExcerptProblem(excerpt, f"its source {source} has no text under sources/"))
            continue
        text = texts[URIRef(source)].text
        selectors = list(provenance.objects(excerpt, OA.hasSelector))
        exact = _selector_value(provenance, selectors, OA.exact)
        start = _selector_value(provenance, selectors, OA.start)
        end = _selector_value(provenance, selectors, OA.end)
        if exact is None or start is None or end is None:
            problems.append(ExcerptProblem(excerpt, "needs a quote selector and a position selector"))
            continue
        found = text[int(start) : int(end)]
        if found != str(exact):
            problems.append(
                ExcerptProblem(
                    excerpt,
                    f"the source text at {int(start)}-{int(end)} is {found[:60]!r}, "
                    f"not the quoted {str(exact)[:60]!r}",
                )
            )
    return problems


def _selector_value(graph: Graph, selectors: list, predicate: URIRef) -> Literal | None:
    """The value of `predicate` on whichever selector carries it."""
    for selector in selectors:
        value = graph.value(selector, predicate)
        if value is not None:
            return value
    return None
