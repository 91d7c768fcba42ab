"""A readable label for each IRI, by the first label property present; one query for all of them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from kg.evidence.facts import Select
from kg.namespaces import prefixed
from kg.query.internal import standalone

_IRI = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]*$')


def labels_query(iris: Iterable[str]) -> str | None:
    """The `labels` query of `iris`, best label first; None when there is nothing to ask."""
    wanted = sorted(iri for iri in set(iris) if _IRI.match(iri))
    return standalone("labels", s=wanted) if wanted else None


def labels_for(select: Select, iris: Iterable[str]) -> dict[str, str]:
    """The best label of each IRI that has one; a route's leg, which has none, named by its route."""
    wanted = set(iris)
    found = _labelled(select, wanted)
    legs = _leg_parts(select, wanted - found.keys())
    parts = _labelled(select, {iri for leg in legs.values() for iri in (leg["flow"], leg["from"], leg["to"])})
    for iri, leg in legs.items():
        named = {part: parts.get(leg[part]) or prefixed(leg[part]) for part in ("flow", "from", "to")}
        found[iri] = f"leg {leg['index']}, {named['from']} to {named['to']}, of {named['flow']}"
    return found


def _labelled(select: Select, iris: Iterable[str]) -> dict[str, str]:
    query = labels_query(iris)
    found: dict[str, str] = {}
    for row in select(query) if query else ():
        found.setdefault(row["s"], row["label"])
    return found


def _leg_parts(select: Select, iris: Iterable[str]) -> dict[str, Mapping[str, str]]:
    """The route, index and places of each of `iris` that is a leg (the first route, if several)."""
    wanted = sorted(iri for iri in set(iris) if _IRI.match(iri))
    legs: dict[str, Mapping[str, str]] = {}
    for row in select(standalone("leg-parts", s=wanted)) if wanted else ():
        legs.setdefault(row["s"], row)
    return legs
