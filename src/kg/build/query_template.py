"""A query's text with the IRIs it names numbered: queries that differ in those IRIs alone share one.

The validation queries are compiled from a few dozen templates, each written out with the
predicates and classes of many shapes (at 1 M triples, 274 texts from 79 templates). Reading a
text with rdflib's SPARQL parser costs about 30 ms, so `kg.build.reach` reads each template once
and names its IRIs again in what it found. The IRIs of RDF, RDFS, XSD, OWL and SHACL are kept as
they are: rdflib gives some of them a meaning of its own (a literal's datatype, `rdf:type`), while
the others are only names to it.

A template is made only where this module's tokens are sure to be rdflib's: a text with anything
rdflib might read otherwise is read as it is (see `template`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.store.sparql import PREFIXED_NAME, Token, keyword, tokens

# rdflib reads these; any other IRI is opaque to it, so numbering one changes nothing but its name
KEPT = (
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://www.w3.org/2000/01/rdf-schema#",
    "http://www.w3.org/2001/XMLSchema#",
    "http://www.w3.org/2002/07/owl#",
    "http://www.w3.org/ns/shacl#",
)
NUMBERED = "urn:x-opioid-kg:iri:"  # a numbered IRI is this and its number
# rdflib replaces each \u escape (four hex digits) and \U escape (eight) everywhere before it parses,
# in comments and strings too; pyparsing turns each tab into spaces to the next column stop (so a tab
# in a string depends on where the string stands); and a comment ends at a line feed only, not at a
# carriage return as here
_READ_OTHERWISE = re.compile(r"\\[uU]|[\t\r]")
# An IRI as the compiled queries write them: a scheme, then characters that no expression is made of.
# An IRI holding others (`<a:b&&c:d>` may be two comparisons to rdflib) is left to rdflib.
_PLAIN_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9:/#._~%@\-]*")
# What may stand right before and right after an IRI written in a pattern, a list or a path (a text
# with a tab or a carriage return has no template)
_BEFORE = " \n{([,;^/|!"
_AFTER = " \n})],;.^/|*+"
_VARIABLE_AFTER = re.compile(r"\?[^ \n{}()\[\],;.]")  # `<p>?x`: a path's `?`, or a variable?


@dataclass(frozen=True)
class Template:
    """A text with each IRI outside `KEPT` written `<urn:x-opioid-kg:iri:N>`, and the IRI each N was."""

    text: str
    iris: tuple[str, ...]

    def named(self, iri: str) -> str:
        """The IRI a numbered IRI of the template stands for; any other IRI as it is."""
        number = iri.removeprefix(NUMBERED)
        if number != iri and number.isascii() and number.isdigit() and int(number) < len(self.iris):
            return self.iris[int(number)]
        return iri


def template(text: str) -> Template | None:
    """The template of a query text: its prefix declarations left out and every IRI written whole,
    numbered by first appearance unless it is `KEPT`. None where rdflib might read the text's tokens
    otherwise than `kg.store.sparql` does, or its names otherwise than written: a Unicode escape, a
    tab or a carriage return, a BASE or a relative IRI, a prefix declared after the prologue, twice,
    or for a namespace another prefix has, a prefixed name outside SPARQL's grammar or with an
    escaped character, an IRI holding characters an expression is made of, or glued to what stands
    beside it. Such a text is read as it is."""
    if _READ_OTHERWISE.search(text):
        return None
    found = tokens(text)
    declared = _prologue(found)
    if declared is None:
        return None
    prefixes, body = declared
    parts: list[str] = []
    numbers: dict[str, int] = {}
    written = found[body].start if body < len(found) else len(text)
    for token in found[body:]:
        if keyword(token) in ("PREFIX", "BASE"):
            return None
        if token.kind not in ("iri", "pname"):
            continue
        iri = _iri(token, prefixes) if token.kind == "pname" else _plain_iri(text, token)
        if iri is None:
            return None
        parts.append(text[written : token.start])
        parts.append(
            f"<{iri}>" if iri.startswith(KEPT) else f"<{NUMBERED}{numbers.setdefault(iri, len(numbers))}>"
        )
        written = token.end
    parts.append(text[written:])
    return Template("".join(parts), tuple(numbers))


def _prologue(found: list[Token]) -> tuple[dict[str, str], int] | None:
    """Each prefix the prologue declares (with its colon), and where the query after it starts; None
    when a declaration is not a prefixed name and a plain IRI, or repeats a prefix or a namespace."""
    prefixes: dict[str, str] = {}
    at = 0
    while at < len(found) and keyword(found[at]) == "PREFIX":
        if at + 2 >= len(found):
            return None
        name, iri = found[at + 1], found[at + 2]
        namespace = iri.text[1:-1]
        if (
            name.kind != "pname"
            or not name.text.endswith(":")
            or not PREFIXED_NAME.fullmatch(name.text)
            or iri.kind != "iri"
            or not _PLAIN_IRI.fullmatch(namespace)
            or name.text in prefixes
            or namespace in prefixes.values()
        ):
            return None
        prefixes[name.text] = namespace
        at += 3
    return prefixes, at


def _iri(token: Token, prefixes: dict[str, str]) -> str | None:
    """The IRI a prefixed name names, or None when it is not one SPARQL's grammar allows here."""
    prefix, _, local = token.text.partition(":")
    if not PREFIXED_NAME.fullmatch(token.text) or prefix + ":" not in prefixes:
        return None
    return prefixes[prefix + ":"] + local


def _plain_iri(text: str, token: Token) -> str | None:
    """The IRI an IRI token writes, or None unless it is plain and stands apart from its neighbours."""
    iri = token.text[1:-1]
    before = text[token.start - 1] if token.start > 0 else " "
    after = text[token.end] if token.end < len(text) else " "
    apart = before in _BEFORE and (
        after in _AFTER or after == "?" and not _VARIABLE_AFTER.match(text, token.end)
    )
    return iri if apart and _PLAIN_IRI.fullmatch(iri) else None
