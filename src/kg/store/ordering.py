"""A SELECT's final ORDER BY done in Python, each row's keys computed once.

pyoxigraph 0.5 sorts an answer by evaluating both rows' keys again at every comparison, reading IRIs
and long strings back from the store's string table each time: n log n lookups. At a million triples
that was half or more of the dearest catalogue questions (`qualified-facts`, 30,612 rows: 4.3 s with
its ORDER BY, 1.8 s without it and sorted here). So the embedded store runs such a query without its
final ORDER BY and OFFSET and does them here, where SPARQL's order is Oxigraph's order.

Only where that is sure and pays: keys that are variables, and in each key column literals of one
kind whose order Python's comparison gives exactly (strings and language-tagged strings, integers and
decimals, doubles, dates and times written in full without a time zone), in an answer read whole. A
query with a LIMIT is left to Oxigraph, which then turns only the rows it keeps into Python's; so is
anything else this cannot order (an expression as a key, booleans, a column mixing numbers and
strings, more rows than `MAX_SORTED_ROWS`), and Oxigraph runs the query as written. Rows whose keys
are all equal keep the order the engine gave them; SPARQL leaves their order open, and Oxigraph's own
sort does not keep it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import pyoxigraph as ox

from kg.store.base import SolutionTerm, SortedRow, SortedSolutions, StreamedSolutions
from kg.store.sparql import NotAQuery, Token, form_of, kept_for_short_texts, keyword, tokens

# More rows than this are sorted by Oxigraph, which then answers the query again: the bound is what
# that may cost (about 0.3 s of reading at most), and each row held here costs more than there.
MAX_SORTED_ROWS = 50_000
_XSD = "http://www.w3.org/2001/XMLSchema#"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_TEXT = {_XSD + "string", _RDF_LANG_STRING}
# A literal's lexical form that both sorts by its value and whose value Python reads exactly. Dates and
# times written in full, in years of four digits, without a time zone or fractions of a second, sort
# as their text does (whether Oxigraph reads them as dates or, when it cannot, as text). An hour of
# 24 is midnight of the next day, so it is not among them.
_INTEGER = r"[+-]?[0-9]{1,18}"
_DECIMAL = rf"{_INTEGER}(?:\.[0-9]{{0,18}})?|[+-]?\.[0-9]{{1,18}}"
_DOUBLE = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?INF"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_LEXICAL = {
    _XSD + "integer": (re.compile(_INTEGER), "exact"),
    _XSD + "decimal": (re.compile(_DECIMAL), "exact"),
    _XSD + "double": (re.compile(_DOUBLE), "double"),
    _XSD + "date": (re.compile(_DATE), "date"),
    _XSD + "dateTime": (re.compile(rf"{_DATE}T(?:[01][0-9]|2[0-3]):[0-9]{{2}}:[0-9]{{2}}"), "dateTime"),
    _XSD + "gYear": (re.compile(r"[0-9]{4}"), "gYear"),
    _XSD + "gYearMonth": (re.compile(r"[0-9]{4}-[0-9]{2}"), "gYearMonth"),
}
_MODIFIERS = {"LIMIT", "OFFSET"}
_LARGEST_COUNT = 2**64 - 1  # the largest OFFSET Oxigraph takes
# What an IRI between brackets may follow: an opening bracket, a comma or an operator.
_BEFORE_AN_OPERAND = {"(", ",", "=", "<", ">", "!", "&", "|", "+", "-", "*", "/", "^"}

SortKey = tuple[object, ...]


@dataclass(frozen=True)
class OrderTail:
    """A query's final ORDER BY on variables, and the OFFSET that follows it."""

    keys: tuple[tuple[str, bool], ...]  # each key's variable, and whether it sorts descending
    offset: int
    start: int  # where ORDER BY starts in the text
    end: int  # where its OFFSET (or its last key) ends
    hidden: tuple[str, ...] = ()  # keys the query does not project, projected last to sort on
    projection_end: int = 0  # where they are projected

    def without(self, text: str) -> str:
        """The query without its ORDER BY and OFFSET, projecting the keys it did not."""
        blanked = re.sub(r"[^\n]", " ", text[self.start : self.end])  # every other line where it was
        hidden = "".join(f" ?{name}" for name in self.hidden)
        middle = text[self.projection_end : self.start]
        return text[: self.projection_end] + hidden + middle + blanked + text[self.end :]


@kept_for_short_texts  # the store asks it of every query
def order_tail(text: str) -> OrderTail | None:
    """The final ORDER BY of a SELECT when every key is a variable (`?x`, `ASC(?x)`, `DESC(?x)`), with
    its OFFSET; None for any other query: one with a LIMIT, or with a key it does not project and
    cannot (DISTINCT or REDUCED, a group or an expression in its projection), or whose IRIs may not be
    Oxigraph's. A text with `\\u` or `\\U` escapes is left alone: Oxigraph reads those escapes where
    this tokenizer may not."""
    if "\\u" in text or "\\U" in text:
        return None
    found = tokens(text)
    try:
        if form_of(found) != "select":
            return None
    except NotAQuery:  # the store says what is wrong with it
        return None
    at = _top_level(found, "ORDER")
    if at is None or not _follows(found, at, "BY") or not _iris_are_iris(found):
        return None
    if {keyword(token) for _, token in _outside_brackets(found[:at])} & {"LIMIT", "OFFSET", "VALUES"}:
        return None  # ORDER BY after them: Oxigraph's to refuse, and without it the text is valid
    keys, index = _keys(found, at + 2)
    if not keys:
        return None
    end, offset = found[index - 1].end, 0
    if index + 1 < len(found) and keyword(found[index]) == "OFFSET" and found[index + 1].kind == "number":
        number = found[index + 1].text
        if not number.isdigit() or int(number) > _LARGEST_COUNT:  # Oxigraph's to refuse
            return None
        offset, end, index = int(number), found[index + 1].end, index + 2
    if index < len(found) and keyword(found[index]) != "VALUES":
        return None  # a LIMIT (Oxigraph then reads only the rows it keeps), or what is not SPARQL
    projection = _projection(found)
    if projection is None:
        return None
    projected, projection_end, extendable = projection
    hidden = tuple(dict.fromkeys(name for name, _ in keys if projected is not None and name not in projected))
    if hidden and (not extendable or _top_level(found, "GROUP") is not None):
        return None
    return OrderTail(tuple(keys), offset, found[at].start, end, hidden, projection_end)


def sorted_answer(answer: StreamedSolutions, tail: OrderTail) -> SortedSolutions | None:
    """The answer sorted by `tail`'s keys, its OFFSET applied, without the keys it projected
    only to sort on; None when a key is not among the answer's variables, when a key column holds terms
    this cannot order as Oxigraph does, or when the answer has more than MAX_SORTED_ROWS rows. It stops
    reading at the first row that says so: Oxigraph then answers the query again, as written."""
    variables = list(answer.variables)
    names = [variable.value for variable in variables]
    if any(name not in names for name, _ in tail.keys):
        return None
    columns = [names.index(name) for name, _ in tail.keys]
    kinds: list[str | None] = [None] * len(columns)  # the kind of literal each key column holds
    solutions: list[ox.QuerySolution] = []
    for solution in answer:
        if len(solutions) == MAX_SORTED_ROWS:
            return None
        for index, column in enumerate(columns):
            term = solution[column]
            if isinstance(term, ox.Literal):
                kind = _literal_kind(term)
                if kind is None or kinds[index] not in (None, kind):
                    return None
                kinds[index] = kind
            elif isinstance(term, ox.Triple):
                return None
        solutions.append(solution)
    for (_, descending), column, kind in reversed(list(zip(tail.keys, columns, kinds, strict=True))):
        # Python's sort is stable, also reversed: sorting on the last key first sorts on them all.
        solutions.sort(key=_by(_KEYS[kind or "text"], column), reverse=descending)
    kept = solutions[tail.offset :]
    if not tail.hidden:
        return SortedSolutions(variables, kept)
    shown = variables[: len(variables) - len(tail.hidden)]
    names = [variable.value for variable in shown]
    return SortedSolutions(shown, [SortedRow(names, tuple(row)[: len(names)]) for row in kept])


def _by(
    order: Callable[[SolutionTerm | None], SortKey], column: int
) -> Callable[[ox.QuerySolution], SortKey]:
    return lambda solution: order(solution[column])


def _literal_kind(literal: ox.Literal) -> str | None:
    datatype = literal.datatype.value
    if datatype in _TEXT:
        return "text"
    pattern, kind = _LEXICAL.get(datatype, (None, None))
    if pattern is None or not pattern.fullmatch(literal.value):
        return None
    return kind


def _text_key(term: SolutionTerm | None) -> SortKey:
    """Strings by their characters, then datatype and language: Oxigraph compares two strings (or two
    strings of one language) by their text, and any other two by (text, datatype, language)."""
    if isinstance(term, ox.Literal):
        return (3, term.value, term.datatype.value, term.language or "")
    return _node_key(term)


def _node_key(term: SolutionTerm | None) -> SortKey:
    if term is None:
        return (0,)
    assert isinstance(term, ox.NamedNode | ox.BlankNode)  # no quoted triple reaches here
    return (1 if isinstance(term, ox.BlankNode) else 2, term.value)


def _value_key(read: Callable[[str], object]) -> Callable[[SolutionTerm | None], SortKey]:
    def key(term: SolutionTerm | None) -> SortKey:
        return (3, read(term.value)) if isinstance(term, ox.Literal) else _node_key(term)

    return key


def _lexical(value: str) -> str:
    return value


def _exact(value: str) -> int | Decimal:
    """An integer or a decimal's value: Python compares the two exactly, and reads an int faster."""
    return Decimal(value) if "." in value else int(value)


_KEYS: dict[str, Callable[[SolutionTerm | None], SortKey]] = {
    "text": _text_key,
    "exact": _value_key(_exact),
    "double": _value_key(float),
    **{kind: _value_key(_lexical) for kind in ("date", "dateTime", "gYear", "gYearMonth")},
}


def _iris_are_iris(found: list[Token]) -> bool:
    """Whether every IRI the tokenizer read is one to Oxigraph too. Between brackets, in an expression,
    `<` after a term is a comparison: `?n<(?n+1)#>` is `?n` less than `(?n+1)`, then a comment, and the
    tokenizer, reading without a grammar, takes `<(?n+1)#>` for an IRI. So an IRI inside brackets must
    follow a bracket, a comma or an operator, where a comparison cannot stand; but for the rows of a
    VALUES block, which hold terms one after another and no expression."""
    opened: list[str] = []  # the open brackets, a VALUES block's brace and its rows' brackets marked
    previous = ""
    values = False  # a VALUES keyword whose block has not opened yet
    for token in found:
        if token.kind == "iri" and opened[-1:] == ["("] and previous not in _BEFORE_AN_OPERAND:
            return False
        if token.kind == "punct" and token.text in "({[":
            inside_values = opened[-1:] in (["values {"], ["values ("])
            mark = "values " if (values and token.text == "{") or inside_values else ""
            opened.append(mark + token.text)
            values = values and token.text != "{"
        elif token.kind == "punct" and token.text in ")}]" and opened:
            opened.pop()
        values = values or keyword(token) == "VALUES"
        previous = token.text if token.kind == "punct" else token.kind
    return True


def _outside_brackets(found: list[Token]) -> Iterator[tuple[int, Token]]:
    """The tokens outside every bracket that are no bracket, with their index."""
    depth = 0
    for index, token in enumerate(found):
        if token.kind == "punct" and token.text in "{([)}]":
            depth += 1 if token.text in "{([" else -1
        elif depth == 0:
            yield index, token


def _top_level(found: list[Token], word: str) -> int | None:
    """The index of the one keyword `word` outside every bracket, or None (none, or more than one)."""
    at = [index for index, token in _outside_brackets(found) if keyword(token) == word]
    return at[0] if len(at) == 1 else None


def _follows(found: list[Token], index: int, word: str) -> bool:
    return index + 1 < len(found) and keyword(found[index + 1]) == word


def _projection(found: list[Token]) -> tuple[frozenset[str] | None, int, bool] | None:
    """The SELECT's projected variables (None for `*`), where its projection ends, and whether a
    variable may be added to it: not under DISTINCT or REDUCED (another column changes which rows are
    the same), nor beside an expression (it may be an aggregate, which allows no other variable)."""
    select = next((index for index, token in enumerate(found) if keyword(token) == "SELECT"), None)
    if select is None:
        return None
    index = select + 1
    extendable = keyword(found[index]) not in ("DISTINCT", "REDUCED") if index < len(found) else False
    projected: set[str] = set()
    everything = False
    while index < len(found) and keyword(found[index]) not in ("WHERE", "FROM") and found[index].text != "{":
        token = found[index]
        if token.text == "(":
            extendable = False
            close = _closing_bracket(found, index)
            if close is None:
                return None
            if found[close - 1].kind != "var":  # `( … AS ?name )`
                return None
            projected.add(found[close - 1].text[1:])
            index = close
        elif token.text == "*":
            everything = True
        elif token.kind == "var":
            projected.add(token.text[1:])
        index += 1
    if index >= len(found) or not (projected or everything):
        return None  # no projection: Oxigraph's to refuse
    return (None if everything else frozenset(projected)), found[index - 1].end, extendable


def _closing_bracket(found: list[Token], open_at: int) -> int | None:
    depth = 0
    for index in range(open_at, len(found)):
        depth += {"(": 1, ")": -1}.get(found[index].text, 0) if found[index].kind == "punct" else 0
        if depth == 0:
            return index
    return None


def _keys(found: list[Token], index: int) -> tuple[list[tuple[str, bool]], int]:
    """The variables of an ORDER BY from `index`, and the index after them. Any other kind of key
    (an expression, a function call) gives no keys."""
    keys: list[tuple[str, bool]] = []
    while index < len(found):
        token = found[index]
        if token.kind == "var":
            keys.append((token.text[1:], False))
            index += 1
        elif keyword(token) in ("ASC", "DESC") and _is_bracketed_variable(found, index + 1):
            keys.append((found[index + 2].text[1:], keyword(token) == "DESC"))
            index += 4
        elif keyword(token) in _MODIFIERS or keyword(token) == "VALUES":
            break
        else:
            return [], index
    return keys, index


def _is_bracketed_variable(found: list[Token], index: int) -> bool:
    return (
        index + 2 < len(found)
        and found[index].text == "("
        and found[index + 1].kind == "var"
        and found[index + 2].text == ")"
    )
