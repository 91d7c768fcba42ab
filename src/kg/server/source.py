"""/source/<document>: a report's text with every excerpt highlighted and linked to the facts it supports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, render_template

from kg.evidence.quotes import clean_quote

from .services import services
from .workers import ServiceError

blueprint = Blueprint("source", __name__)
PREFIXES = """
PREFIX kg: <https://w3id.org/opioid-kg/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""
DOCUMENTS = (
    PREFIXES
    + "SELECT ?doc ?file ?title WHERE { ?doc kg:textFile ?file OPTIONAL { ?doc dcterms:title ?title } }"
)
EXCERPTS = (
    PREFIXES
    + """
SELECT ?doc ?excerpt ?start ?end ?exact WHERE {
  ?excerpt oa:hasSource ?doc ; oa:hasSelector ?position .
  ?position oa:start ?start ; oa:end ?end .
  OPTIONAL { ?excerpt oa:hasSelector/oa:exact ?exact }
} ORDER BY ?start ?end
"""
)
FACTS = (
    PREFIXES
    + "SELECT ?doc ?excerpt ?fact WHERE { ?excerpt oa:hasSource ?doc . "
    + "?fact prov:wasDerivedFrom|kg:contextExcerpt ?excerpt }"
)


@dataclass(frozen=True)
class Segment:
    """A run of the text covered by the same excerpts (none, one, or overlapping ones)."""

    text: str
    excerpts: tuple[str, ...]
    starts: tuple[str, ...] = ()


def segments(text: str, spans: list[tuple[int, int, str]]) -> list[Segment]:
    """The text cut at every excerpt boundary, each piece knowing which excerpts cover it."""
    cuts = sorted(
        {0, len(text)} | {max(0, min(len(text), p)) for start, end, _ in spans for p in (start, end)}
    )
    pieces = []
    for left, right in zip(cuts, cuts[1:], strict=False):
        covering = tuple(slug for start, end, slug in spans if start <= left and right <= end)
        starting = tuple(slug for start, _, slug in spans if start == left)
        pieces.append(Segment(text[left:right], covering, starting))
    return pieces


def documents() -> dict[str, tuple[str, str, str]]:
    """Reports with a text file, by slug: (IRI, file name, title)."""
    found = {}
    for row in services().select(DOCUMENTS):
        slug = row["doc"].value.rstrip("/").rsplit("/", 1)[-1]
        found[slug] = (row["doc"].value, row["file"].value, row["title"].value if "title" in row else slug)
    return found


@blueprint.get("/source")
def source_list() -> Response:
    return Response(render_template("sources.html", documents=documents()))


@blueprint.get("/source/<document>")
def source_view(document: str) -> Response:
    """The report's text as the build checked it, excerpts highlighted by their character positions."""
    state = services()
    known = documents()
    if document not in known:
        raise ServiceError(404, f"no source document {document!r}; /source lists them")
    iri, file_name, title = known[document]
    path = state.config.sources / Path(file_name).name
    if not path.is_file():
        raise ServiceError(404, f"the text of {document} ({file_name}) is not under {state.config.sources}")
    text = path.read_text("utf-8")
    bound = {"doc": ("iri", iri, None)}
    spans: list[tuple[int, int, str]] = []
    quotes: dict[str, str] = {}
    for row in state.select(EXCERPTS, bound):
        slug = row["excerpt"].value.rsplit("/", 1)[-1]
        spans.append((int(row["start"].value), int(row["end"].value), slug))
        quotes[slug] = clean_quote(row["exact"].value) if "exact" in row else ""
    facts: dict[str, list[str]] = {}
    for row in state.select(FACTS, bound):
        facts.setdefault(row["excerpt"].value.rsplit("/", 1)[-1], []).append(row["fact"].value)
    labels = state.labels({fact for found in facts.values() for fact in found})
    return Response(
        render_template(
            "source.html",
            iri=iri,
            title=title,
            file_name=file_name,
            segments=segments(text, spans),
            quotes=quotes,
            excerpt_base=state.local_path(state.canonical("id/excerpt/")),
            facts=facts,
            labels=labels,
        )
    )
