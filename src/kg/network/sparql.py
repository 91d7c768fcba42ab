"""Small helpers for asking the store: plain-string rows, labels, short keys from IRIs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from kg.query.internal import bound
from kg.store.base import Solutions, Store, value_rows


def rows(store: Store, name: str, **given: str | Sequence[str]) -> list[dict[str, str]]:
    """Internal query `name` answered as dictionaries of strings, so callers never touch term objects;
    a query without an ORDER BY in one order whatever the store: each store gives its rows in its own,
    and a network built in that order wrote its nodes and edges so (and kept the first of a place's
    types, an observation's labels)."""
    text, terms = bound(name, **given)
    answer = store.query(text, terms)
    if not isinstance(answer, Solutions):
        raise TypeError(f"{name} is not a SELECT query")
    found = list(value_rows(answer))
    return found if _ordered(text) else sorted(found, key=lambda row: sorted(row.items()))


def _ordered(text: str) -> bool:
    """Whether an internal query (the project's own text) orders its rows, outside its comments."""
    said = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return re.search(r"\bORDER\s+BY\b", said, re.IGNORECASE) is not None


def local_name(iri: str) -> str:
    """The last segment of an IRI: `…/id/country/MX` -> `MX`, `…#heroinSeizures` -> `heroinSeizures`."""
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def long_label(row: Mapping[str, str], target: str, fallback: str = "") -> str:
    """The preferred label a query binds as `{target}Pref`, else `{target}Rdfs`, else `fallback`."""
    return row.get(f"{target}Pref") or row.get(f"{target}Rdfs") or fallback


def short_label(row: Mapping[str, str], target: str, fallback: str = "") -> str:
    """The shortest of `{target}Alt`, `Pref` and `Rdfs` (agencies read better as ONDCP than in full)."""
    found = [row[f"{target}{kind}"] for kind in ("Alt", "Pref", "Rdfs") if f"{target}{kind}" in row]
    return min(found, key=len) if found else fallback
