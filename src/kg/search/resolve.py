"""A parameter given by name: an IRI, a short name (`country:MX`) or a label ("Mexico") to one IRI.

What cannot be resolved is refused with the candidates the graph knows, so a
question never answers "0 rows" because of a typo or an unexpanded prefix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import pyoxigraph as ox

from kg.errors import KgError
from kg.search.index import SearchIndex, normalize

_SCHEME = re.compile(r"^(https?|urn|ftp|mailto|file|tag):", re.IGNORECASE)
_CURIE = re.compile(r"^([A-Za-z][\w.-]*):([^\s/][^\s]*)?$")


class Unresolved(KgError, ValueError):
    """A value that names nothing in the graph, or more than one thing; the message lists candidates."""


def _candidates(index: SearchIndex, text: str, kinds: set[str]) -> str:
    hits = index.search(text, sorted(kinds), 5).hits or index.search(text, (), 5).hits
    if not hits:
        return ""
    return "; did you mean: " + "; ".join(f"{hit.label} <{hit.iri}>" for hit in hits)


def resolve_iri(
    raw: str,
    prefixes: Mapping[str, str],
    exists: Callable[[str], bool],
    index: Callable[[], SearchIndex],
    like: str | None = None,
) -> str:
    """The IRI `raw` names, preferring things of the same kind as `like` (a parameter's default).

    `exists` says whether the graph mentions an IRI; `index` is built only when a name must be looked up.
    """
    text = raw.strip()
    iri: str | None = None
    if text.startswith("<") and text.endswith(">"):
        iri = text[1:-1]
    elif _SCHEME.match(text):
        iri = text
    elif (curie := _CURIE.match(text)) and curie.group(1) in prefixes:
        iri = prefixes[curie.group(1)] + (curie.group(2) or "")
    if iri is not None:
        try:
            ox.NamedNode(iri)
        except ValueError:
            return iri  # not an IRI at all: the parameter's type check says why
        if exists(iri):
            return iri
        local = re.split(r"[/#:]", iri.rstrip("/#"))[-1]
        found = index()
        raise Unresolved(f"{text!r} is not in the graph{_candidates(found, local, kind_of(found, like))}")
    found = index()
    kinds = kind_of(found, like)
    wanted = normalize(text)
    named = [
        entry
        for entry in found.entries.values()
        if any(f.normalized == wanted for f in entry.fields if f.kind in ("name", "alternative name"))
    ]
    if len(named) > 1 and kinds:
        named = [entry for entry in named if entry.kind in kinds] or named
    if len(named) == 1:
        return named[0].iri
    if len(named) > 1:
        listed = "; ".join(f"{entry.label} ({entry.kind}) <{entry.iri}>" for entry in named[:8])
        raise Unresolved(f"{text!r} names {len(named)} things: {listed}; give one IRI")
    raise Unresolved(f"nothing in the graph is named {text!r}{_candidates(found, text, kinds)}")


def kind_of(index: SearchIndex, iri: str | None) -> set[str]:
    """The kind of a parameter's default value: the kind its other values should have."""
    entry = index.entries.get(iri or "")
    return {entry.kind} if entry else set()


def resolve_parameters(
    parameters: Mapping[str, tuple[str | None, tuple[str, ...]]],
    given: Mapping[str, str],
    prefixes: Mapping[str, str],
    exists: Callable[[str], bool],
    index: Callable[[], SearchIndex],
) -> dict[str, str]:
    """`given` with every IRI parameter resolved to an IRI; `parameters` maps each to (default, enum).

    A parameter with an enum keeps a value it cannot resolve, so that its check lists the allowed values.
    """
    resolved = dict(given)
    for name, (default, allowed) in parameters.items():
        if name in given:
            try:
                resolved[name] = resolve_iri(given[name], prefixes, exists, index, default)
            except Unresolved as error:
                if not allowed:
                    raise Unresolved(f"parameter {name}: {error}") from None
    return resolved
