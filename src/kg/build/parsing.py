"""Reading Turtle files into rdflib graphs, with errors that name the file, line and column."""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from kg.build.literals import lexical_error
from kg.errors import KgError

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class InputError(KgError):
    """Bad input at a place a curator can go to: the message starts with file:line:column."""

    def __init__(self, path: Path, line: int | None, column: int | None, problem: str) -> None:
        where = str(path)
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {problem}", line=line, column=column)
        self.path = path
        self.problem = problem


def parse_turtle(path: Path) -> Graph:
    """Parse one Turtle file into an rdflib graph (see `checked_triples`)."""
    graph = Graph()
    for triple in checked_triples(path):
        graph.add((rdflib_term(triple.subject), rdflib_term(triple.predicate), rdflib_term(triple.object)))
    return graph


def checked_triples(path: Path, text: bytes | None = None) -> Iterator[ox.Triple]:
    """The triples of one Turtle file (its bytes `text` when they were read already), read by
    Oxigraph's parser, with the lexical form of every XSD-typed literal checked; the first problem
    raises an InputError naming the file and line."""
    text = read_input(path) if text is None else text
    try:
        for triple in ox.parse(text, format=ox.RdfFormat.TURTLE):
            term = triple.object
            if isinstance(term, ox.Literal) and not term.language:
                problem = lexical_error(term.value, term.datatype.value)
                if problem:
                    raise InputError(path, _line_of(path, term.value), None, f"ill-typed literal: {problem}")
            yield triple
    except SyntaxError as error:
        line, column = (error.lineno, error.offset) if error.lineno else (None, None)
        message = re.sub(r"^Parser error (at|between) [^:]*: ", "", str(error.msg))
        raise InputError(path, line, column, f"Turtle syntax error: {message}") from None


def read_input(path: Path) -> bytes:
    """The bytes of an input file, without the byte-order mark some editors put first; what stands in
    the way of reading it (a folder, a link to nothing, a permission) is said in words."""
    if path.is_symlink() and not path.exists():
        raise InputError(path, None, None, f"a link to {os.readlink(path)}, which does not exist")
    if path.is_dir():
        raise InputError(path, None, None, "is a folder, not a Turtle file")
    try:
        return path.read_bytes().removeprefix(codecs.BOM_UTF8)
    except OSError as error:
        raise InputError(path, None, None, f"cannot read: {error.strerror or error}") from None


def rdflib_term(term: object) -> Node:
    """The rdflib term for an Oxigraph term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"unsupported term {term!r}")


def _line_of(path: Path, lexical: str) -> int | None:
    """The first line of `path` that holds the quoted lexical form (the parser gives no positions)."""
    needle = f'"{lexical}"'
    for number, line in enumerate(path.read_text("utf-8-sig").splitlines(), start=1):
        if needle in line:
            return number
    return None
