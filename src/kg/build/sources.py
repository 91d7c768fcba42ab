"""Source reports: their plain text under sources/, and locating verbatim quotes in it."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import URIRef

from kg.build.queries import sparql
from kg.errors import KgError
from kg.files import read_file, read_source_text
from kg.store.base import selected, term_order


@dataclass(frozen=True)
class SourceText:
    """One report's text file, as the excerpts in the graph quote it (read when asked for)."""

    document: URIRef
    path: Path
    recorded_sha256: str | None = None
    written: str = ""  # kg:textFile as the metadata writes it, a path from sources/

    @property
    def text(self) -> str:
        return read_source_text(self.path)

    def named(self, sources_dir: Path) -> str:
        """The text's path as recorded: under `sources_dir` relative to it, else (a path the checks
        refuse) whole."""
        return (
            self.path.relative_to(sources_dir).as_posix()
            if self.path.is_relative_to(sources_dir)
            else str(self.path)
        )

    @property
    def sha256(self) -> str:
        return hashlib.sha256(read_file(self.path, "source text", whole=True)).hexdigest()

    def converted_line_endings(self) -> bool:
        """Whether the text is the one recorded with its line endings turned into Windows' CR LF, as a
        checkout with git's `core.autocrlf` turns them (the project's `.gitattributes` says not to)."""
        content = read_file(self.path, "source text", whole=True)
        as_written = content.replace(b"\r\n", b"\n")
        return as_written != content and hashlib.sha256(as_written).hexdigest() == self.recorded_sha256


class QuoteNotFound(KgError, ValueError):
    """A quote that does not occur in the source text, or occurs ambiguously: input to correct."""


def source_texts(store: ox.Store, provenance: ox.NamedNode, sources_dir: Path) -> dict[URIRef, SourceText]:
    """Every report in the graph `provenance` that names a text file, with its recorded digest, in the
    order of the reports' IRIs (of several files or digests, the first by value): the store's own
    order differs from one store to another (see `kg.build.checked_store`)."""
    rows = selected(store.query(sparql("source-text-files", graph=provenance.value)))
    texts: dict[URIRef, SourceText] = {}
    parts = [(row["document"], row["file"], row["digest"]) for row in rows]
    for document, file, digest in sorted(parts, key=lambda part: tuple(map(term_order, part))):
        named = URIRef(document.value)
        recorded = digest.value if digest is not None else None
        texts.setdefault(named, SourceText(named, sources_dir / file.value, recorded, file.value))
    return texts


def locate_quote(text: str, quote: str, occurrence: int | None = None) -> tuple[int, int]:
    """Start and end (code-point offsets, end exclusive) of `quote` in `text`.

    A quote found more than once must name its occurrence (1-based), so that a
    curator never cites an ambiguous span by accident. An empty quote quotes nothing (the build
    refuses its `oa:exact ""`), though it is found everywhere.
    """
    if not quote:
        raise QuoteNotFound("an empty quote quotes nothing: give the words of the source it cites")
    starts: list[int] = []
    at = text.find(quote)
    while at != -1:
        starts.append(at)
        at = text.find(quote, at + 1)
    if not starts:
        raise QuoteNotFound(f"quote not found in the source text: {quote[:80]!r}{_nearest(text, quote)}")
    if occurrence is None:
        if len(starts) > 1:
            raise QuoteNotFound(
                f"quote occurs {len(starts)} times; lengthen it or give --occurrence N (1 to {len(starts)}):"
                f" {quote[:80]!r}"
            )
        occurrence = 1
    if not 1 <= occurrence <= len(starts):
        said = f"quote occurs {len(starts)} times, not {occurrence}: give --occurrence 1 to {len(starts)}"
        raise QuoteNotFound(f"{said}: {quote[:80]!r}")
    start = starts[occurrence - 1]
    return start, start + len(quote)


def _nearest(text: str, quote: str) -> str:
    """Where a quote not in the text parts from it: the longest start of the quote the text holds, and
    the two characters that follow (a quote copied from a PDF or an editor, with its accents apart or
    its apostrophes straight, reads as the text's words)."""
    low, high = 0, len(quote)  # the text holds quote[:low], not quote[:high]
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if quote[:middle] in text else (low, middle)
    told = ""
    if low:
        at = text.find(quote[:low])
        following = parting(text[at + low : at + low + 1], quote[low])
        told = f"; its first {low} characters are at {at}-{at + low}, where {following}"
    for form in ("NFC", "NFD"):
        written = unicodedata.normalize(form, quote)
        if written != quote and (at := text.find(written)) != -1:
            return told + in_another_form(text[at : at + len(written)], quote)
    return told


def parting(text: str, quote: str) -> str:
    """The two characters where a text and a quote part, by their code points: an accent written
    apart, a curly quote or an invisible space look the same as what the text has."""

    def named(character: str) -> str:
        return f"{character!r} (U+{ord(character):04X})" if character else "nothing more"

    return f"the text has {named(text)}, the quote {named(quote)}"


def in_another_form(text: str, quote: str) -> str:
    """A hint when `quote` is `text`'s words in another Unicode normalization form (an accent as a
    character of its own, NFD, where the text has it composed, NFC, or the other way round)."""
    if unicodedata.normalize("NFC", text) != unicodedata.normalize("NFC", quote):
        return ""
    form = next((form for form in ("NFC", "NFD") if unicodedata.normalize(form, text) == text), None)
    as_text = f" ({form})" if form else ""
    return f"; the same text in another Unicode form: write it as the text does{as_text}"
