"""Reading Turtle files into rdflib graphs, with errors that name the file, line and column."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from kg.build.locate import SubjectIndex
from kg.files import InputError, read_file, utf8_text
from kg.literals import character_error, lexical_error

__all__ = ["InputError", "checked_triples", "parse_turtle", "rdflib_term", "read_input"]

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def parse_turtle(path: Path) -> Graph:
    """Parse one Turtle file into an rdflib graph (see `checked_triples`)."""
    graph = Graph()
    for triple in checked_triples(path):
        graph.add((rdflib_term(triple.subject), rdflib_term(triple.predicate), rdflib_term(triple.object)))
    return graph


def checked_triples(path: Path, text: bytes | None = None) -> Iterator[ox.Triple]:
    """The triples of one Turtle file (its bytes `text` when they were read already), read by
    Oxigraph's parser, with the text checked UTF-8 and the lexical form of every XSD-typed literal
    checked; the first problem raises an InputError naming the file and line."""
    text = read_input(path) if text is None else text
    # UTF-8 throughout: the parser skips a comment's bytes unread, and places others at the file's start
    utf8_text(path, text)
    try:
        for triple in ox.parse(text, format=ox.RdfFormat.TURTLE):
            term = triple.object
            if isinstance(term, ox.Triple) or isinstance(triple.subject, ox.Triple):
                index = SubjectIndex([path])  # the first statement holding a triple term's syntax
                found = (index.find_holding(syntax, path) for syntax in ("<<", "{|", "~"))
                place = next((place for place in found if place is not None), None)
                raise InputError(path, place.line if place is not None else None, None, TRIPLE_TERM)
            if isinstance(term, ox.Literal):
                problem = _literal_error(term)
                if problem:
                    place = SubjectIndex([path]).find_literal(term, path)
                    line = place.line if place is not None else None
                    raise InputError(path, line, None, problem)
            yield triple
    except MemoryError as error:  # Oxigraph's parser holds one token at most in its buffer
        raise _too_long(path, text, error) from None
    except SyntaxError as error:
        line, column = (error.lineno, error.offset) if error.lineno else (None, None)
        message = re.sub(r"^Parser error (at|between) [^:]*: ", "", str(error.msg))
        raise InputError(path, line, column, f"Turtle syntax error: {message}") from None


def _literal_error(literal: ox.Literal) -> str | None:
    """Why `literal` cannot be published: an ill-typed form, a character no text may hold, or an RDF 1.2
    base direction, which the RDF 1.1 formats of dist/ cannot write (rdflib refuses `"x"@en--ltr`)."""
    if literal.direction is not None:
        return BASE_DIRECTION
    if literal.language:
        problem = character_error(literal.value, "a text in a language")
    else:
        problem = lexical_error(literal.value, literal.datatype.value)
    return f"ill-typed literal: {problem}" if problem else None


BASE_DIRECTION = (
    "a text with an RDF 1.2 base direction (--ltr, --rtl): dist/ publishes the graph as RDF 1.1"
    " formats too, which hold none; give the text its language tag alone"
)
TRIPLE_TERM = (
    "an RDF 1.2 triple term (<<( … )>>, or what << … >> and its reifier state): dist/ publishes the"
    " graph as JSON-LD and RDF 1.1 formats too, which hold none; state the triple itself, with its evidence"
)


def read_input(path: Path) -> bytes:
    """The bytes of a Turtle file, without the byte-order mark some editors put first; what stands in
    the way of reading it (a folder, a FIFO, a link to nothing, a permission) is said in words."""
    return read_file(path, "Turtle file")


def rdflib_term(term: object) -> Node:
    """The rdflib term for an Oxigraph term, a literal's lexical form kept as it is: rdflib would make
    its own of a number (`"37"^^xsd:double` as `"37.0"`), a term the graph does not hold, and a report
    naming the value by it could not be joined with the data."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value), normalize=False)
    raise TypeError(f"unsupported term {term!r}")


def _too_long(path: Path, text: bytes, error: MemoryError) -> InputError:
    """The error for a token (a literal, an IRI) longer than the parser's buffer, at the first line
    longer than that where there is one (the parser gives no position)."""
    found = re.search(r"\d+", str(error))
    if found is None:
        return InputError(path, None, None, f"too large for the Turtle parser: {error}")
    limit = int(found.group())
    lines = (number for number, line in enumerate(text.split(b"\n"), start=1) if len(line) > limit)
    problem = (
        "a literal or IRI longer than the Turtle parser reads at once; "
        f"the limit is {limit:,} bytes ({limit / 2**20:g} MiB)"
    )
    return InputError(path, next(lines, None), None, problem)
