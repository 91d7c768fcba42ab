"""A parameter given by name: an IRI, a short name (`country:MX`) or a label ("Mexico") to one IRI.

What cannot be resolved is refused with the candidates the graph knows, so a
question never answers "0 rows" because of a typo or an unexpanded prefix.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pyoxigraph as ox

from kg.errors import KgError
from kg.evidence.facts import Select
from kg.search.index import SearchIndex, TooLong, normalize
from kg.search.load import kinds_of, named_as

_SCHEME = re.compile(r"^(https?|urn|ftp|mailto|file|tag):", re.IGNORECASE)
_CURIE = re.compile(r"^([A-Za-z][\w.-]*):([^\s/][^\s]*)?$")


class Unresolved(KgError, ValueError):
    """A value that names nothing in the graph, or more than one thing; the message lists candidates."""


def _candidates(index: SearchIndex, text: str, kinds: set[str]) -> str:
    try:
        hits = index.search(text, sorted(kinds), 5).hits or index.search(text, (), 5).hits
    except TooLong:
        return ""  # longer than any text the index searches
    if not hits:
        return ""
    return "; did you mean: " + "; ".join(f"{hit.label} <{hit.iri}>" for hit in hits)


@dataclass(frozen=True)
class Lookups:
    """What resolving a value may ask of the graph, cheapest first: whether it mentions an IRI, what
    bears a name spelt exactly as typed (an index lookup of the store, as fast at any size), and only
    then the whole search index, for a name spelt otherwise or the candidates of a refusal."""

    exists: Callable[[str], bool]
    select: Select
    index: Callable[[], SearchIndex]


def resolve_iri(raw: str, prefixes: Mapping[str, str], lookups: Lookups, like: str | None = None) -> str:
    """The IRI `raw` names, preferring things of the same kind as `like` (a parameter's default).

    A name written as the graph writes it (plain or English), or differing only in case ("mexico"),
    names what bears it, one of the kind of `like` first, whatever else bears it spelt otherwise
    ("México"): a parameter that takes any resource must not need the index for a plain name. Only a
    name found so nowhere is looked up in the search index, accent- and punctuation-blind.
    """
    text = raw.strip(string.whitespace)  # an IRI may hold Unicode's other spaces (RFC 3987)
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
            # not an IRI at all: the parameter's type check says why, quoting what was given in angle
            # brackets as given, and a prefixed name's expansion, which is what failed
            return text if text.startswith("<") else iri
        if lookups.exists(iri):
            return iri
        try:
            found = lookups.index()
        except KgError:  # the index out of reach now: an IRI not in the graph is not, candidates or none
            raise Unresolved(f"{text!r} is not in the graph") from None
        local = re.split(r"[/#:]", iri.rstrip("/#"))[-1]
        raise Unresolved(f"{text!r} is not in the graph{_candidates(found, local, kind_of(found, like))}")
    if spelt := named_as(lookups.select, text):
        like_kind = set(kinds_of(lookups.select, [like]).values()) if like else set()
        return _one(text, [(iri, text, kind) for iri, kind in spelt.items()], like_kind)
    found = lookups.index()
    kinds = kind_of(found, like)
    normalized = normalize(text)
    named = [
        (entry.iri, entry.label, entry.kind)
        for entry in found.entries.values()
        if any(f.normalized == normalized for f in entry.fields if f.kind in ("name", "alternative name"))
    ]
    if not named:
        raise Unresolved(f"nothing in the graph is named {text!r}{_candidates(found, text, kinds)}")
    return _one(text, named, kinds)


def _one(text: str, named: list[tuple[str, str, str]], kinds: set[str]) -> str:
    """The one of the things (IRI, label, kind) named `text`, of the kinds wanted if more than one is."""
    if len(named) > 1 and kinds:
        named = [thing for thing in named if thing[2] in kinds] or named
    if len(named) > 1:
        listed = "; ".join(f"{label} ({kind}) <{iri}>" for iri, label, kind in named[:8])
        raise Unresolved(f"{text!r} names {len(named)} things: {listed}; give one IRI")
    return named[0][0]


def kind_of(index: SearchIndex, iri: str | None) -> set[str]:
    """The kind of a parameter's default value: the kind its other values should have."""
    entry = index.entries.get(iri or "")
    return {entry.kind} if entry else set()


def resolve_parameters(
    parameters: Mapping[str, tuple[str | None, tuple[str, ...]]],
    given: Mapping[str, str],
    prefixes: Mapping[str, str],
    lookups: Lookups,
) -> dict[str, str]:
    """`given` with every IRI parameter resolved to an IRI; `parameters` maps each to (default, enum).

    A parameter with an enum keeps a value it cannot resolve, so that its check lists the allowed values.
    """
    resolved = dict(given)
    for name, (default, allowed) in parameters.items():
        if name in given:
            try:
                resolved[name] = resolve_iri(given[name], prefixes, lookups, default)
            except Unresolved as error:
                if not allowed:
                    raise Unresolved(f"parameter {name}: {error}") from None
    return resolved
