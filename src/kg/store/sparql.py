"""SPARQL text as tokens: the one tokenizer, the query's form, and VALUES blocks that bind terms.

Tokens set strings, IRIs and comments aside, so a keyword or a brace inside a
literal or a comment is never mistaken for the query's own.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from kg.errors import KgError
from kg.store.base import Bound

# One alternative per token kind, each matching from where it starts without backtracking into a
# longer scan (the quantifiers are possessive), so tokenizing is linear in the text: the server reads
# clients' queries with it. A word and a prefixed name are one run of name characters, dots only
# inside it as SPARQL allows, told apart afterwards by whether it holds a colon. A comment ends at a
# line feed or a carriage return.
_TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<name>[A-Za-z_:][\w:%-]*+(?:\.++[\w:%-]++)*+)
  | (?P<var>[?$]\w+)
  | (?P<punct>\S)
    """,
    re.VERBOSE | re.DOTALL,
)
FORMS = ("select", "ask", "construct", "describe")
PROLOGUE = {"PREFIX", "BASE"}
UPDATES = {"INSERT", "DELETE", "WITH", "LOAD", "CLEAR", "CREATE", "DROP", "ADD", "COPY", "MOVE"}


class NotAQuery(KgError, ValueError):
    """Text whose first keyword after the prologue is not SELECT, ASK, CONSTRUCT or DESCRIBE."""


@dataclass(frozen=True)
class Token:
    kind: str  # string, iri, pname, var, word or punct
    text: str
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    """The query's tokens, comments dropped."""
    found = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind == "name":
            kind = "pname" if ":" in match.group() else "word"
        if kind != "comment":
            found.append(Token(kind, match.group(), match.start(), match.end()))
    return found


def query_form(text: str) -> str:
    """select, ask, construct or describe: the first keyword after the prologue."""
    first = next((t for t in tokens(text) if t.kind == "word" and t.text.upper() not in PROLOGUE), None)
    if first is None or first.text.lower() not in FORMS:
        raise NotAQuery("not a SPARQL query: it does not start with SELECT, ASK, CONSTRUCT or DESCRIBE")
    return first.text.lower()


def update_form(text: str) -> str:
    """The form "update", when the first keyword after the prologue starts a SPARQL Update operation."""
    first = next((t for t in tokens(text) if t.kind == "word" and t.text.upper() not in PROLOGUE), None)
    if first is None or first.text.upper() not in UPDATES:
        raise NotAQuery("not a SPARQL update: it does not start with an update operation")
    return "update"


def values_block(bindings: Mapping[str, Bound]) -> str:
    """`VALUES (?a ?b) { (x y) … }`: one row per combination of the bound terms."""
    names = " ".join(f"?{name}" for name in bindings)
    columns = [value if isinstance(value, tuple) else (value,) for value in bindings.values()]
    rows = " ".join("(" + " ".join(str(term) for term in row) + ")" for row in itertools.product(*columns))
    return f" VALUES ({names}) {{ {rows} }} "


def with_values(sparql: str, bindings: Mapping[str, Bound]) -> str:
    """`sparql` with a VALUES block binding `bindings` opening its WHERE pattern.

    A variable the query gives an empty block of its own (`VALUES ?x { }`) is bound there
    instead: the block stays in its group, so a list of no values empties that group only,
    not the whole query. The short form `CONSTRUCT WHERE { P }` becomes
    `CONSTRUCT { P } WHERE { VALUES … P }`, because a template cannot hold VALUES.
    """
    sparql, bindings = _fill_blocks(sparql, bindings)
    if not bindings:
        return sparql
    values = values_block(bindings)
    found = tokens(sparql)
    form = query_form(sparql)
    start = 1 + next(i for i, t in enumerate(found) if t.kind == "word" and t.text.lower() == form)
    if form == "construct" and start < len(found):
        following = found[start]
        if following.text == "{":
            start = _closing(found, start) + 1
        elif following.text.upper() == "WHERE":
            open_at = _next_brace(found, start)
            close_at = _closing(found, open_at)
            body = sparql[found[open_at].end : found[close_at].start]
            return (
                sparql[: following.start]
                + f"{{{body}}} WHERE {{{values}{body}}}"
                + sparql[found[close_at].end :]
            )
    open_brace = found[_next_brace(found, start)]
    return sparql[: open_brace.end] + values + sparql[open_brace.end :]


def substitute(sparql: str, variable: str, text: str) -> str:
    """`sparql` with the placeholder `$variable` (or `<$variable>`) replaced by `text` wherever it occurs.

    For the places SPARQL takes no variable, where the recommendations write templates: SHACL's
    validators write `$PATH` for a property shape's path, the Data Cube's IC-20 and IC-21 `<$p>`
    for a property inside a path's closure, and SPARQL Update takes none in `DROP GRAPH` or in the
    data of `INSERT DATA`. `text` is a path or a term in SPARQL syntax, or N-Triples lines.
    """
    placeholders = {f"${variable}", f"<${variable}>"}
    found = [t for t in tokens(sparql) if t.kind in ("var", "iri") and t.text in placeholders]
    for token in reversed(found):
        sparql = sparql[: token.start] + text + sparql[token.end :]
    return sparql


def _fill_blocks(sparql: str, bindings: Mapping[str, Bound]) -> tuple[str, dict[str, Bound]]:
    """`sparql` with the values of each variable that has an empty block of its own written into it,
    and the bindings left to bind at the top."""
    found = tokens(sparql)
    blocks: dict[str, int] = {}  # variable name -> offset inside its empty block
    for index in range(len(found) - 3):
        keyword, variable, opening, closing = found[index : index + 4]
        if (
            keyword.kind == "word"
            and keyword.text.upper() == "VALUES"
            and variable.kind == "var"
            and (opening.text, closing.text) == ("{", "}")
            and variable.text[1:] in bindings
        ):
            if variable.text[1:] in blocks:
                raise NotAQuery(f"the query has two blocks of values for {variable.text}")
            blocks[variable.text[1:]] = opening.end
    for name, offset in sorted(blocks.items(), key=lambda item: -item[1]):
        value = bindings[name]
        terms = value if isinstance(value, tuple) else (value,)
        sparql = sparql[:offset] + "".join(f" {term}" for term in terms) + " " + sparql[offset:]
    return sparql, {name: value for name, value in bindings.items() if name not in blocks}


def _next_brace(found: list[Token], start: int) -> int:
    for index in range(start, len(found)):
        if found[index].text == "{":
            return index
    raise NotAQuery("the query has no group pattern to bind values in")


def _closing(found: list[Token], open_at: int) -> int:
    """The index of the brace closing the one at `open_at`."""
    depth = 0
    for index in range(open_at, len(found)):
        depth += {"{": 1, "}": -1}.get(found[index].text, 0)
        if depth == 0:
            return index
    raise NotAQuery("unbalanced braces in the query")
