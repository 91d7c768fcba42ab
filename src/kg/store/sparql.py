"""SPARQL text as tokens: the one tokenizer, the query's form, and VALUES blocks that bind terms.

Tokens set strings, IRIs and comments aside, so a keyword or a brace inside a
literal or a comment is never mistaken for the query's own.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

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
    return _form_keyword(tokens(text)).text.lower()


def _form_keyword(found: list[Token]) -> Token:
    """The first keyword after the prologue, which must be a query form."""
    first = next((t for t in found if t.kind == "word" and t.text.upper() not in PROLOGUE), None)
    if first is None or first.text.lower() not in FORMS:
        raise NotAQuery("not a SPARQL query: it does not start with SELECT, ASK, CONSTRUCT or DESCRIBE")
    return first


def values_block(bindings: Mapping[str, Bound]) -> str:
    """`VALUES (?a ?b) { (x y) … }`: one row per combination of the bound terms."""
    names = " ".join(f"?{name}" for name in bindings)
    columns = [value if isinstance(value, tuple) else (value,) for value in bindings.values()]
    rows = " ".join("(" + " ".join(str(term) for term in row) + ")" for row in itertools.product(*columns))
    return f" VALUES ({names}) {{ {rows} }} "


def with_values(sparql: str, bindings: Mapping[str, Bound]) -> str:
    """`sparql` with a VALUES block binding `bindings` opening its WHERE pattern.

    The short form `CONSTRUCT WHERE { P }` becomes `CONSTRUCT { P } WHERE { VALUES … P }`,
    because a template cannot hold VALUES.
    """
    if not bindings:
        return sparql
    values = values_block(bindings)
    where = _where(sparql)
    if where.body is None:
        return sparql[: where.opening] + values + sparql[where.opening :]
    body = sparql[where.body[0] : where.body[1]]
    return sparql[: where.opening] + f"{{{body}}} WHERE {{{values}{body}}}" + sparql[where.rest :]


@dataclass(frozen=True)
class _Where:
    """Where a VALUES block goes: just inside the brace opening the WHERE pattern (`opening`), or, for
    the short form `CONSTRUCT WHERE { P }`, from `opening` (the WHERE keyword) to `rest` is rewritten
    around P (`body`, its start and end)."""

    opening: int
    rest: int = 0
    body: tuple[int, int] | None = None


@lru_cache(maxsize=256)
def _where(sparql: str) -> _Where:
    """One pass of the tokenizer per text: the same catalogue questions are asked again and again,
    and tokenizing cost as much as answering a small one."""
    found = tokens(sparql)
    first = _form_keyword(found)
    start = found.index(first) + 1
    if first.text.lower() == "construct" and start < len(found):
        following = found[start]
        if following.text == "{":
            start = _closing(found, start) + 1
        elif following.text.upper() == "WHERE":
            open_at = _next_brace(found, start)
            close_at = _closing(found, open_at)
            return _Where(following.start, found[close_at].end, (found[open_at].end, found[close_at].start))
    return _Where(found[_next_brace(found, start)].end)


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
