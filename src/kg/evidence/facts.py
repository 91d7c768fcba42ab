"""The evidence behind facts: each excerpt's clean quote, its report, and the agency the report cites.

Every answer page, network and chart view asks this of the store for the
facts it shows, so the reader sees who says each fact and in which words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from kg.evidence.quotes import clean_quote
from kg.query.internal import standalone

Select = Callable[[str], Iterable[Mapping[str, str]]]


@dataclass(frozen=True)
class Evidence:
    """One excerpt behind one fact: the quote, where it is, and whom the report cites for the fact."""

    fact: str
    excerpt: str
    quote: str  # as a reader reads it: without the report's Markdown markup, on one line
    exact: str  # as the report's text holds it, at `start`–`end`
    start: int | None
    end: int | None
    document: str
    file: str | None
    title: str
    date: str
    agency: str | None
    agency_label: str | None
    statement: bool  # the fact is a statement of the report, not a thing it names
    is_context: bool = False  # a sentence naming what the quote leaves to it (the agency, the place)
    by_author: bool = False  # the agency published the report: the fact is the report's own word

    @property
    def slug(self) -> str:
        return self.excerpt.rstrip("/").rsplit("/", 1)[-1]

    @property
    def document_slug(self) -> str:
        return self.document.rstrip("/").rsplit("/", 1)[-1]

    def context_path(self) -> str:
        """The source viewer's place for this excerpt, on the server that shows it."""
        return f"/source/{self.document_slug}#excerpt-{self.slug}"

    def who(self) -> str:
        """Whose word the quote is, as a page and the terminal head it: an agency the report cites, or
        the report's own (its author's)."""
        if self.is_context:
            return "Context, the sentence naming what the quote leaves to it"
        if self.agency_label and self.by_author:
            return f"{self.agency_label}, the report's author"
        if self.agency_label:
            return f"{self.agency_label}, cited by the report"
        return "The report"

    def report(self) -> str:
        """The report the quote is from, as a reader names it: its title and date."""
        return f"{self.title} ({readable_date(self.date)})" if self.date else self.title

    def characters(self) -> str:
        """Where the quote stands in the report's text, as its position selector gives it."""
        return characters(self.start, self.end)

    def citation(self, url: str) -> str:
        """Quote, who says it, report title, date and URL: what an analyst pastes into a memo. Who says
        it is the agency the report cites, or its author when the report speaks for itself."""
        said = ""
        if self.agency_label:
            said = f"{self.agency_label}, " if self.by_author else f"{self.agency_label}, cited in "
        return f"“{self.quote}” — {said}{self.report()}. {url}"

    def as_json(self, base_url: str = "") -> dict[str, object]:
        return {
            "fact": self.fact,
            "excerpt": self.excerpt,
            "quote": self.quote,
            "exact": self.exact,
            "document": self.document,
            "title": self.title,
            "date": self.date,
            "agency": self.agency,
            "agencyLabel": self.agency_label,
            "start": self.start,
            "end": self.end,
            "role": "context" if self.is_context else "quote",
            "context": base_url + self.context_path(),
            "citation": self.citation(base_url + self.context_path()),
        }


def offset(lexical: str | None) -> int | None:
    """A position selector's offset, or None where it is none a text could have: a store behind a URL
    may hold any literal there."""
    if lexical is None or not (lexical.isascii() and lexical.isdigit()) or len(lexical) > 18:
        return None
    return int(lexical)


def characters(start: int | None, end: int | None) -> str:
    """Where a quote stands in its report's text, in words ("" where its position is not known)."""
    if start is None or end is None:
        return ""
    return f"characters {start:,}–{end:,}"


def readable_date(iso: str) -> str:
    """'2018-08-09' as '9 August 2018'; anything else as it is."""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {day:%B %Y}"


def evidence_for(select: Select, facts: Iterable[str]) -> dict[str, list[Evidence]]:
    """The evidence of each fact IRI, one entry per excerpt and attributed agency, in report order."""
    wanted = sorted({iri for iri in facts if iri and ">" not in iri and " " not in iri})
    found: dict[str, list[Evidence]] = {}
    if not wanted:
        return found
    seen: set[tuple[str, str, str | None]] = set()
    for row in select(standalone("fact-evidence", fact=wanted)):
        key = (row["fact"], row["excerpt"], row.get("agency"))
        if key in seen:
            continue
        seen.add(key)
        label = row.get("agencyShort") or row.get("agencyLabel")
        found.setdefault(row["fact"], []).append(
            Evidence(
                fact=row["fact"],
                excerpt=row["excerpt"],
                quote=clean_quote(row.get("exact", "")),
                exact=row.get("exact", ""),
                start=offset(row.get("start")),
                end=offset(row.get("end")),
                document=row["document"],
                file=row.get("file"),
                title=row.get("title", row["document"]),
                date=row.get("date", ""),
                agency=row.get("agency"),
                agency_label=label,
                statement=row.get("statement") in ("true", "1"),
                is_context=row.get("role") == "context",
                by_author=row.get("author") in ("true", "1"),
            )
        )
    return found
