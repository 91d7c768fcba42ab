"""Reading a query's text before it runs: its form, and whether it is safe on a public endpoint.

The server never fetches a URL because of a query and never changes data, so
updates, SERVICE and LOAD are refused, and FROM / FROM NAMED may only name
graphs of the dataset. The checks work on tokens with strings, IRIs and
comments set aside, so a keyword inside a literal or a comment is no threat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kg.errors import KgError

_TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<pname>[A-Za-z][\w.-]*:[\w.:%-]*|:[\w.:%-]*)
  | (?P<var>[?$]\w+)
  | (?P<word>[A-Za-z_]\w*)
  | (?P<punct>\S)
    """,
    re.VERBOSE | re.DOTALL,
)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
FORMS = {"SELECT": "select", "ASK": "ask", "CONSTRUCT": "graph", "DESCRIBE": "graph"}


class Refused(KgError, ValueError):
    """A query this endpoint will not run; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message, status=status)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    """The query's tokens, comments dropped."""
    found = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind != "comment":
            found.append(Token(kind, match.group(), match.start(), match.end()))
    return found


def words(found: list[Token]) -> list[str]:
    return [t.text.upper() for t in found if t.kind == "word"]


@lru_cache(maxsize=1024)
def query_form(text: str) -> str | None:
    """select, ask or graph (CONSTRUCT, DESCRIBE) from the first keyword, None if there is none."""
    for word in words(tokens(text)):
        if word in FORMS:
            return FORMS[word]
    return None


def _prefixes(found: list[Token]) -> dict[str, str]:
    declared: dict[str, str] = {}
    for first, second, third in zip(found, found[1:], found[2:], strict=False):
        if first.kind == "word" and first.text.upper() == "PREFIX" and third.kind == "iri":
            declared[second.text.rstrip(":")] = third.text[1:-1]
    return declared


def dataset_clauses(found: list[Token]) -> tuple[list[str], list[str]]:
    """The graph IRIs after FROM and after FROM NAMED."""
    declared = _prefixes(found)
    default: list[str] = []
    named: list[str] = []
    index = 0
    while index < len(found):
        token = found[index]
        if token.kind == "word" and token.text.upper() == "FROM":
            target = named if index + 1 < len(found) and found[index + 1].text.upper() == "NAMED" else default
            index += 2 if target is named else 1
            if index >= len(found):
                break
            iri = found[index]
            if iri.kind == "iri":
                target.append(iri.text[1:-1])
            elif iri.kind == "pname":
                prefix, _, local = iri.text.partition(":")
                if prefix not in declared:
                    raise Refused(f"FROM names {iri.text} with an undeclared prefix")
                target.append(declared[prefix] + local)
        index += 1
    return default, named


def check(text: str, graphs: set[str], max_length: int) -> tuple[list[str], list[str]]:
    """Refuse what a read-only public endpoint must not run; return the FROM and FROM NAMED graphs."""
    if len(text) > max_length:
        raise Refused(f"the query is {len(text)} characters long; the limit is {max_length}", 413)
    default, named = _checked(text, frozenset(graphs))
    return list(default), list(named)


def _codepoint(match: re.Match[str]) -> str:
    value = int(match.group(1) or match.group(2), 16)
    return chr(value) if value <= 0x10FFFF else "\ufffd"


@lru_cache(maxsize=1024)
def _checked(text: str, graphs: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The checks of one query text, remembered, since clients repeat the same questions.

    SPARQL lets \\u escapes stand anywhere in a query, and some engines decode them before
    parsing, so the checks read the text decoded.
    """
    found = tokens(_CODEPOINT.sub(_codepoint, text))
    used = words(found)
    operation = next((word for word in used if word not in {"PREFIX", "BASE"}), None)
    if operation in UPDATE_WORDS or (operation not in FORMS and UPDATE_WORDS & set(used)):
        raise Refused("this endpoint is read-only: SPARQL Update is refused", 403)
    if "SERVICE" in used:
        raise Refused("SERVICE is refused: this endpoint never calls other services")
    if "LOAD" in used:
        raise Refused("LOAD is refused: this endpoint is read-only and never fetches a URL", 403)
    default, named = dataset_clauses(found)
    for iri in default + named:
        if iri not in graphs:
            raise Refused(
                f"graph <{iri}> is not in this dataset; its graphs are: {', '.join(sorted(graphs))}"
            )
    return tuple(default), tuple(named)


def with_dataset(text: str, default: list[str], named: list[str]) -> str:
    """The query with FROM / FROM NAMED clauses for the protocol's default-graph-uri and named-graph-uri.

    They go where SPARQL puts a dataset clause: after the query form (and a
    CONSTRUCT template), before WHERE or the group pattern.
    """
    found = tokens(text)
    clauses = " ".join([f"FROM <{iri}>" for iri in default] + [f"FROM NAMED <{iri}>" for iri in named])
    index = next((i for i, t in enumerate(found) if t.kind == "word" and t.text.upper() in FORMS), None)
    if index is None:
        return text
    skip_template = found[index].text.upper() == "CONSTRUCT"
    depth = 0
    for token in found[index + 1 :]:
        if token.text == "{" and skip_template and depth == 0 and not _after_where(found, token):
            depth = 1
            continue
        if depth:
            depth += {"{": 1, "}": -1}.get(token.text, 0)
            if depth == 0:
                skip_template = False
            continue
        upper = token.text.upper()
        if token.text == "{" or (
            token.kind == "word" and upper in {"WHERE", "ORDER", "GROUP", "LIMIT", "OFFSET", "VALUES"}
        ):
            return f"{text[: token.start]}{clauses} {text[token.start :]}"
    return f"{text} {clauses}"


def _after_where(found: list[Token], brace: Token) -> bool:
    previous = [t for t in found if t.end <= brace.start]
    return bool(previous) and previous[-1].text.upper() == "WHERE"
