"""A readable label for each IRI, by the first label property present; one query for all of them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

_IRI = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]*$')

LABELS = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://purl.org/dc/terms/title",
    "http://xmlns.com/foaf/0.1/name",
)


def labels_query(iris: Iterable[str]) -> str | None:
    """The SELECT of ?s ?label ?rank for `iris`, best label first; None when there is nothing to ask."""
    values = " ".join(f"<{iri}>" for iri in sorted(set(iris)) if _IRI.match(iri))
    if not values:
        return None
    order = " ".join(f"(<{p}> {i})" for i, p in enumerate(LABELS))
    return (
        f"SELECT ?s ?label ?rank WHERE {{ VALUES ?s {{ {values} }} VALUES (?p ?rank) {{ {order} }} "
        "?s ?p ?label . FILTER(isLiteral(?label)) } ORDER BY ?s ?rank"
    )


def labels_for(select: Callable[[str], Iterable[Mapping[str, str]]], iris: Iterable[str]) -> dict[str, str]:
    """The best label of each IRI that has one."""
    query = labels_query(iris)
    found: dict[str, str] = {}
    for row in select(query) if query else ():
        found.setdefault(row["s"], row["label"])
    return found
