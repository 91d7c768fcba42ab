"""A readable label for each IRI, by the first label property present; one query for all of them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from kg.evidence.facts import Select
from kg.query.internal import standalone

_IRI = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]*$')


def labels_query(iris: Iterable[str]) -> str | None:
    """The `labels` query of `iris`, best label first; None when there is nothing to ask."""
    wanted = sorted(iri for iri in set(iris) if _IRI.match(iri))
    return standalone("labels", s=wanted) if wanted else None


def labels_for(select: Select, iris: Iterable[str]) -> dict[str, str]:
    """The best label of each IRI that has one."""
    query = labels_query(iris)
    found: dict[str, str] = {}
    for row in select(query) if query else ():
        found.setdefault(row["s"], row["label"])
    return found
