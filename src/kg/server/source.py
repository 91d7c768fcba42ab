"""/source/<document>: a report's text with every excerpt highlighted and linked to the facts it supports."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, render_template

from kg.evidence.quotes import clean_quote
from kg.evidence.texts import source_text_path
from kg.files import read_source_text
from kg.query.internal import typed

from .services import services
from .workers import ServiceError

blueprint = Blueprint("source", __name__)


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
    for row in services().select(*typed("source-documents")):
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
    path = source_text_path(state.config.sources, file_name)
    if path is None or not path.is_file():
        raise ServiceError(404, f"the text of {document} ({file_name}) is not under {state.config.sources}")
    text = read_source_text(path)
    spans: list[tuple[int, int, str]] = []
    quotes: dict[str, str] = {}
    for row in state.select(*typed("source-excerpts", doc=iri)):
        slug = row["excerpt"].value.rsplit("/", 1)[-1]
        spans.append((int(row["start"].value), int(row["end"].value), slug))
        quotes[slug] = clean_quote(row["exact"].value) if "exact" in row else ""
    facts: dict[str, list[str]] = {}
    for row in state.select(*typed("source-facts", doc=iri)):
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
