"""A query's text with the IRIs it names numbered: queries that differ in those IRIs alone share one.

The validation queries are compiled from a few dozen templates, each written out with the
predicates and classes of many shapes (at 1 M triples, 274 texts from 79 templates). Reading a
text with rdflib's SPARQL parser costs about 30 ms, so `kg.build.reach` reads each template once
and names its IRIs again in what it found. The IRIs of RDF, RDFS, XSD, OWL and SHACL are kept as
they are: rdflib gives some of them a meaning of its own (a literal's datatype, `rdf:type`), while
the others are only names to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.store.sparql import Token, tokens

# rdflib reads these; any other IRI is opaque to it, so numbering one changes nothing but its name
KEPT = (
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://www.w3.org/2000/01/rdf-schema#",
    "http://www.w3.org/2001/XMLSchema#",
    "http://www.w3.org/2002/07/owl#",
    "http://www.w3.org/ns/shacl#",
)
NUMBERED = "urn:x-opioid-kg:iri:"  # a numbered IRI is this and its number
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")  # a scheme: the IRI is not relative


@dataclass(frozen=True)
class Template:
    """A text with each IRI outside `KEPT` written `<urn:x-opioid-kg:iri:N>`, and the IRI each N was."""

    text: str
    iris: tuple[str, ...]

    def named(self, iri: str) -> str:
        """The IRI a numbered IRI of the template stands for; any other IRI as it is."""
        if iri.startswith(NUMBERED):
            number = iri[len(NUMBERED) :]
            if number.isdigit() and int(number) < len(self.iris):
                return self.iris[int(number)]
        return iri


def template(text: str) -> Template | None:
    """The template of a query text: its prefix declarations left out and every IRI written whole,
    numbered by first appearance unless it is `KEPT`. None where the text is not plain enough to be
    sure of the IRIs it names (a BASE, a relative IRI, an undeclared or twice-declared prefix, an
    escaped character in a prefixed name): such a text is read as it is."""
    found = tokens(text)
    declared = _prefixes(found)
    if declared is None:
        return None
    prefixes, declarations = declared
    parts: list[str] = []
    numbers: dict[str, int] = {}
    written = 0
    for at, token in enumerate(found):
        if at in declarations:
            parts.append(text[written : token.start])
            written = token.end
            continue
        if token.kind == "word" and token.text.upper() == "BASE":
            return None
        if token.kind not in ("iri", "pname"):
            continue
        iri = _iri(token, prefixes)
        if iri is None:
            return None
        parts.append(text[written : token.start])
        parts.append(
            f"<{iri}>" if iri.startswith(KEPT) else f"<{NUMBERED}{numbers.setdefault(iri, len(numbers))}>"
        )
        written = token.end
    parts.append(text[written:])
    return Template("".join(parts), tuple(numbers))


def _prefixes(found: list[Token]) -> tuple[dict[str, str], set[int]] | None:
    """Each prefix the text declares (with its colon) and the positions of the declarations' tokens;
    None when a declaration is not a prefix and an absolute IRI, or declares a prefix again."""
    prefixes: dict[str, str] = {}
    declarations: set[int] = set()
    for at, token in enumerate(found):
        if token.kind != "word" or token.text.upper() != "PREFIX":
            continue
        if at + 2 >= len(found):
            return None
        name, iri = found[at + 1], found[at + 2]
        declared = name.kind == "pname" and name.text.endswith(":") and name.text.count(":") == 1
        if not declared or iri.kind != "iri" or not _ABSOLUTE.match(iri.text[1:-1]) or name.text in prefixes:
            return None
        prefixes[name.text] = iri.text[1:-1]
        declarations |= {at, at + 1, at + 2}
    return prefixes, declarations


def _iri(token: Token, prefixes: dict[str, str]) -> str | None:
    """The absolute IRI an IRI or prefixed-name token names, or None when it cannot be told here."""
    if token.kind == "iri":
        iri = token.text[1:-1]
        return iri if _ABSOLUTE.match(iri) else None
    prefix, _, local = token.text.partition(":")
    if "\\" in local or prefix + ":" not in prefixes:
        return None
    return prefixes[prefix + ":"] + local
