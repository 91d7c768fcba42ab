"""Running SPARQL against the store and writing answers in the standard result formats."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import accumulate
from operator import sub
from xml.parsers import expat

import pyoxigraph as ox

from kg.errors import KgError
from kg.namespaces import PREFIXES, split_prefixed
from kg.query import results
from kg.store.base import Bound, Store, StoreAnswer, StreamedSolutions, StreamedTriples
from kg.store.sparql import Token, each_token, kept_for_short_texts, query_form, syntax_place

SELECT_FORMATS = ("json", "xml", "csv", "tsv")
ASK_FORMATS = ("json", "xml")  # SPARQL's CSV and TSV results hold solutions, not a boolean
GRAPH_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}
FORMATS_BY_KIND = {"select": SELECT_FORMATS, "ask": ASK_FORMATS, "graph": tuple(GRAPH_FORMATS)}
_KIND_NAMES = {"select": "a SELECT", "ask": "an ASK", "graph": "a CONSTRUCT or DESCRIBE"}
# Engines parse nesting by recursion: Oxigraph's parser overflows its stack at about a thousand
# levels (a crash, not an error), so a query is refused well before that.
MAX_NESTING = 64
_STEPS = {"{": 1, "(": 1, "[": 1, "}": -1, ")": -1, "]": -1}
_NOT_BRACKETS = re.compile(r"[^{}()\[\]]+")
# Oxigraph also builds a flat chain as a tree as deep as the chain is long, and walks it by recursion:
# 8,000 terms added up, 3,000 MINUS groups in a row, 4,000 BINDs or OPTIONALs, 3,000 expressions
# projected crash it (SIGSEGV) with no bracket nested twice. What it chains so: operators (`&&` and
# `||` once each; a sign after an opening bracket or a comma, and a datatype's `^^`, are none), path
# modifiers, and what a group joins or wraps one after another (UNION, MINUS, OPTIONAL, GRAPH, SERVICE,
# FILTER, `AS`, which every BIND and projected expression has, and group patterns `{ … }`); counted
# through every nesting. A VALUES block's terms are data, no chain.
MAX_CHAIN = 1000
_CHAINING_PUNCT = frozenset("+-*/|&!^?")
_CHAINING_WORDS = frozenset({"UNION", "MINUS", "OPTIONAL", "GRAPH", "SERVICE", "FILTER", "AS"})
_OPENING = "({["
_CLOSING = ")}]"


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting of the text as written, brackets in strings included.

    One pass in C over the text: the depth after each bracket is the running sum of +1 and -1, less
    the lowest running sum so far (a closing bracket at depth 0 does not go below 0).
    """
    sums = list(accumulate(map(_STEPS.__getitem__, _NOT_BRACKETS.sub("", text)), initial=0))
    return int(max(map(sub, sums, accumulate(sums, min))))


def chain_depth(text: str) -> int:
    """The most operators and patterns in a row the engine's tree of the query holds on one path: each
    group's own (see MAX_CHAIN), plus one for the group, plus its deepest group's, from the top."""
    groups = [_Group()]
    previous: Token | None = None
    values_next = False  # a VALUES keyword read, its block not yet opened
    for token in each_token(text):
        if token.kind == "punct" and token.text in _OPENING:
            data = groups[-1].data or (values_next and token.text == "{")
            values_next = values_next and token.text != "{"
            groups.append(_Group(data=data, pattern=token.text == "{" and not data))
        elif token.kind == "punct" and token.text in _CLOSING:
            if len(groups) > 1:
                groups[-2].holds(groups.pop())
        elif not groups[-1].data:
            # `AS` stands in the brackets of the BIND or projected expression it names: a pattern of
            # the group around them, one after another
            named = token.kind == "word" and token.text.upper() == "AS" and len(groups) > 1
            groups[-2 if named else -1].count += _chains(token, previous)
        if token.kind == "word" and token.text.upper() == "VALUES":
            values_next = True
        previous = token
    while len(groups) > 1:  # groups left open: the parser will say so, but they count
        groups[-2].holds(groups.pop())
    return groups[0].count + groups[0].deepest


@dataclass
class _Group:
    """A bracketed group as `chain_depth` reads it."""

    count: int = 0  # its own operators and patterns in a row
    deepest: int = 0  # its deepest inner group's depth
    data: bool = False  # a VALUES block, or within one
    pattern: bool = False  # a group pattern `{ … }`, which its group joins with the patterns beside it

    def holds(self, inner: _Group) -> None:
        self.deepest = max(self.deepest, 1 + inner.count + inner.deepest)
        self.count += inner.pattern


def _chains(token: Token, previous: Token | None) -> int:
    """What `token` adds to its group's chain: 1, 0, or -1 for the second `^` of a datatype's `^^`,
    which takes back the first."""
    if token.kind == "word":
        return int(token.text.upper() in _CHAINING_WORDS)
    if token.kind != "punct" or token.text not in _CHAINING_PUNCT:
        return 0
    glued = previous is not None and previous.kind == "punct" and previous.end == token.start
    if glued and previous is not None and previous.text == token.text == "^":
        return -1
    if glued and previous is not None and previous.text == token.text and token.text in "&|":
        return 0  # the second character of `&&` or `||`
    if token.text in "+-" and (previous is None or (previous.kind == "punct" and previous.text in "(,{[")):
        return 0  # a sign
    return 1


# What XML 1.0 cannot hold, not even as a character reference: C0 controls but tab, line feed and
# carriage return, surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# An IRI ending in an XML name (a letter or `_`, then name characters), which RDF/XML needs of a
# predicate; the message's approximation of XML's rule.
_XML_NAME_END = re.compile(r"[^\W\d][\w.\-\u00b7]*$")


def returns_kept(xml: bytes) -> bytes:
    """`xml` with each carriage return written as a character reference: an XML reader turns a raw one
    (and a CR LF) into a line feed as it reads, so a value holding one was read back otherwise. A CR
    byte of UTF-8 is a CR character, and one stands only in a value where the writers put it."""
    return xml.replace(b"\r", b"&#13;")


def xml_problem(body: bytes, predicates: Iterable[str]) -> str | None:
    """Why `body`, written as XML, is XML no parser reads (a value holding U+0001, a predicate RDF/XML
    cannot name), or None: sent, it would fail its reader. Read with namespaces, as an RDF/XML reader
    reads it (`oxprefix:` is an XML name, but no qualified one)."""
    try:
        expat.ParserCreate(namespace_separator=" ").Parse(body, True)
    except expat.ExpatError as error:
        if found := _NOT_XML.search(body.decode("utf-8", "replace")):
            return f"a value holds U+{ord(found.group()):04X}, which XML 1.0 cannot hold"
        if unnamed := [iri for iri in predicates if not _XML_NAME_END.search(iri)]:
            return f"RDF/XML writes a predicate as an XML name, and the predicate <{unnamed[0]}> ends in none"
        return f"its XML is not well-formed ({error})"
    return None


@kept_for_short_texts  # every query is read so before it runs, the same ones again and again
def shape_problem(text: str, max_nesting: int = MAX_NESTING) -> str | None:
    """Why a query is nested or chained deeper than the engines' recursion takes (see MAX_NESTING and
    MAX_CHAIN), where it is: a crash of the process, not an error, otherwise."""
    depth = nesting_depth(text)
    if depth > max_nesting:
        return f"the query nests brackets {depth} deep; the limit is {max_nesting}"
    chained = chain_depth(text)
    if chained > MAX_CHAIN:
        return (
            f"the query holds {chained:,} operators and patterns in a row (counted through its nesting);"
            f" the limit is {MAX_CHAIN}"
        )
    return None


class QueryError(KgError, ValueError):
    """A query that cannot run: a syntax error (with line and column) or a bad request; or an answer
    that cannot be written in the format asked for (406)."""

    def __init__(
        self, message: str, line: int | None = None, column: int | None = None, *, status: int = 400
    ) -> None:
        super().__init__(message, line=line, column=column, status=status)


def refused_format(kind: str, offered: Sequence[str]) -> QueryError:
    """The refusal of a format an answer of `kind` cannot take, naming the `offered` ones it can."""
    said = f"{_KIND_NAMES[kind]} answer is written as one of: {', '.join(offered)}"
    return QueryError(said, status=406)


def answer_kind(text: str) -> str | None:
    """The kind of answer a query's text asks for (select, ask or graph), read from its form before it
    runs; None where the text names no form, which running it will say."""
    try:
        form = query_form(text)
    except KgError:
        return None
    return "graph" if form in ("construct", "describe") else form


@dataclass
class QueryResult:
    """The answer to one query: solutions, a boolean, or triples."""

    kind: str  # "select", "ask" or "graph"
    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)
    truncated: bool = False
    store_cap: int | None = None  # the rows the store cut the answer at, where it said so

    def serialize(self, output_format: str) -> bytes:
        """The answer in one of SELECT_FORMATS (solutions, booleans) or GRAPH_FORMATS (triples); an
        XML format is checked well-formed, and refused (406) where XML cannot hold the answer."""
        body = self._written(output_format)
        if output_format in ("xml", "rdfxml"):
            body = returns_kept(body)
            if problem := xml_problem(body, (triple.predicate.value for triple in self.triples)):
                said = f"the answer cannot be written as {output_format}: {problem}; ask for another format"
                raise QueryError(said, status=406)
        return body

    def _written(self, output_format: str) -> bytes:
        if output_format not in FORMATS_BY_KIND[self.kind]:
            raise refused_format(self.kind, FORMATS_BY_KIND[self.kind])
        if self.kind == "graph":
            if output_format == "nquads":
                quads = [ox.Quad(t.subject, t.predicate, t.object) for t in self.triples]
                return ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""
            return ox.serialize(self.triples, format=GRAPH_FORMATS[output_format], prefixes=PREFIXES) or b""
        if self.kind == "ask":
            return results.boolean(bool(self.boolean), output_format)
        return results.select(self.variables, self.rows, output_format)

    def within(self, max_bytes: int | None, output_format: str) -> tuple[QueryResult, bytes]:
        """This answer, and its serialization, cut to its first rows (or triples) that take at most
        `max_bytes` (None: any) in `output_format`; flagged truncated when cut. Each try keeps the share
        of rows that fitted the last one, so a few tries suffice, and no row leaves no row."""
        answer, body = self, self.serialize(output_format)
        while max_bytes is not None and len(body) > max_bytes and (answer.rows or answer.triples):
            kept = int(len(answer.rows or answer.triples) * max_bytes / len(body))
            answer = replace(answer, rows=answer.rows[:kept], triples=answer.triples[:kept], truncated=True)
            body = answer.serialize(output_format)
        return answer, body

    def table(self) -> str:
        """A plain-text table for people, IRIs shortened with the project's prefixes."""
        if self.kind == "ask":
            return "true" if self.boolean else "false"
        if self.kind == "graph":
            return self.serialize("turtle").decode("utf-8")
        header = self.variables
        body = [[short(row.get(name)) for name in header] for row in self.rows]
        widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(header)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
        footer = f"{len(self.rows)} row(s)" + (" (truncated)" if self.truncated else "")
        return "\n".join(lines + [footer])


def short(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    """A readable form of a term: prefixed IRIs, bare literal values."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        split = split_prefixed(term.value)
        return f"{split[0]}:{split[1]}" if split else f"<{term.value}>"
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value


def collect(answer: StoreAnswer, max_rows: int | None, max_bytes: int | None = None) -> QueryResult:
    """Read an Oxigraph answer into a QueryResult, stopping after `max_rows` rows or triples, or once
    their terms' text passes `max_bytes` (the answer is cut to size when written: `QueryResult.within`),
    so that a few values of megabytes are not all read first."""
    if isinstance(answer, ox.QueryBoolean):
        return QueryResult(kind="ask", boolean=bool(answer))
    cap = (
        answer.capped if isinstance(answer, StreamedSolutions | StreamedTriples) else None
    )  # the store's cut
    read = 0  # characters of the terms read so far
    if isinstance(answer, StreamedTriples | list):
        triples: list[ox.Triple] = []
        for triple in answer:
            if _full(len(triples), read, max_rows, max_bytes):
                return QueryResult(kind="graph", triples=triples, truncated=True)
            triples.append(triple)
            read += len(str(triple)) if max_bytes is not None else 0
        return QueryResult(kind="graph", triples=triples, truncated=cap is not None, store_cap=cap)
    variables = [variable.value for variable in answer.variables]
    rows: list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]] = []
    for solution in answer:
        if _full(len(rows), read, max_rows, max_bytes):
            return QueryResult(kind="select", variables=variables, rows=rows, truncated=True)
        # A solution iterates its terms in the order of the variables: a third of the cost of
        # looking each one up by name, twice, which made large answers cost more than the query.
        row = {name: term for name, term in zip(variables, solution, strict=True) if term is not None}
        rows.append(row)
        read += sum(len(str(term)) for term in row.values()) if max_bytes is not None else 0
    return QueryResult(
        kind="select", variables=variables, rows=rows, truncated=cap is not None, store_cap=cap
    )


def _full(count: int, read: int, max_rows: int | None, max_bytes: int | None) -> bool:
    return (max_rows is not None and count >= max_rows) or (max_bytes is not None and read > max_bytes)


def syntax_error(error: SyntaxError, source: str = "query") -> QueryError:
    """A QueryError naming where in the query Oxigraph's parser stopped."""
    line, column, detail = syntax_place(error)
    if line is not None:
        return QueryError(f"{source}:{line}:{column}: SPARQL syntax error: {detail}", line, column)
    return QueryError(f"{source}: SPARQL syntax error: {detail}")


def run_query(
    store: Store,
    text: str,
    bindings: Mapping[str, Bound] | None = None,
    *,
    max_rows: int | None = None,
    source: str = "query",
    union_default_graph: bool = True,
) -> QueryResult:
    """Run `text` with typed `bindings`; a syntax error becomes a QueryError naming `source`."""
    if problem := shape_problem(text):
        raise QueryError(f"{source}: {problem}")
    try:
        return collect(store.query(text, bindings, union_default_graph=union_default_graph), max_rows)
    except KgError:
        raise  # already said for the user, by the store (a remote store's refusal, say)
    except SyntaxError as error:
        raise syntax_error(error, source) from None
    except (RuntimeError, ValueError) as error:
        raise QueryError(f"{source}: {error}") from None
