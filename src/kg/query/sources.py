"""The sources of the dataset: each report with a text file, and how much of the graph rests on it."""

from __future__ import annotations

from dataclasses import dataclass

from kg.query.internal import ask
from kg.store.base import Store


@dataclass(frozen=True)
class Source:
    """One source report: where its text is, and the excerpts and facts that cite it."""

    document: str
    text_file: str
    title: str
    modified: str
    excerpts: int
    facts: int
    revises: str = ""
    revises_title: str = ""  # the earlier report's title, where the graph gives it

    @property
    def id(self) -> str:
        """The source's id: its folder under sources/, where its text file lies."""
        return self.text_file.split("/", 1)[0]


def sources(store: Store) -> list[Source]:
    """Every report of the store that has a text file, in the order of its file name."""
    return [
        Source(
            document=row["document"].value,
            text_file=row["file"].value,
            title=row["title"].value if "title" in row else "",
            modified=row["modified"].value if "modified" in row else "",
            excerpts=int(row["excerpts"].value),
            facts=int(row["facts"].value),
            revises=row["revises"].value if "revises" in row else "",
            revises_title=row["revisesTitle"].value if "revisesTitle" in row else "",
        )
        for row in ask(store, "source-reports").rows
    ]
