"""SPARQL text as tokens: the one tokenizer, the query's form, and VALUES blocks that bind terms.

Tokens set strings, IRIs and comments aside, so a keyword or a brace inside a
literal or a comment is never mistaken for the query's own.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from kg.errors import KgError
from kg.store.base import Bound

# SPARQL's characters, not Python's: its white space is space, tab, carriage return and line feed
# only, while `\s` also takes Unicode spaces that SPARQL reads as characters of a name (U+1680) or of
# an IRI (U+00A0, U+3000); and its names are made of PN_CHARS, not of what `\w` matches.
T = TypeVar("T")
_WHITE = " \t\r\n"
_BASE_CHARS = (  # PN_CHARS_BASE
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d\u2070-\u218f"
    "\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_NAME_START = _BASE_CHARS + "_"
_VARIABLE_CHARS = _NAME_START + "0-9\u00b7\u0300-\u036f\u203f-\u2040"
# A name's characters, its escaped characters (`e:it\'s`, SPARQL's PN_LOCAL_ESC) among them.
_NAME_CHAR = rf"(?:[{_VARIABLE_CHARS}\-:%]|\\[_~.\-!$&'()*+,;=/?\#@%])"
# One alternative per token kind, each matching from where it starts without backtracking into a
# longer scan (the quantifiers are possessive), so tokenizing is linear in the text: the server reads
# clients' queries with it. A quote that starts no string that ends is a token of its own (`unended`)
# that runs to where such a string would have to end (its line, or the text), so that no later quote
# starts the same scan again; three quotes start a long string, or an unended one. A blank node's
# label, a language tag and a number are tokens of their own, which end where SPARQL ends them (a
# prefixed name glued after one is a token of its own too). A word and a prefixed name are one run of
# name characters, dots only inside it as SPARQL allows, told apart afterwards by whether it holds a
# colon. A comment ends at a line feed or a carriage return.
_TOKEN = re.compile(
    rf"""
    (?P<comment>\#[^\n\r]*+)
  | (?P<long>'''(?:[^'\\]|\\.|'(?!''))*+'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*+\"\"\")
  | (?P<long_unended>'''(?:[^'\\]|\\.|'(?!''))*+|\"\"\"(?:[^"\\]|\\.|"(?!""))*+)
  | (?P<short>'(?:[^'\\\n\r]|\\.)*+'|"(?:[^"\\\n\r]|\\.)*+")
  | (?P<short_unended>'(?:[^'\\\n\r]|\\.)*+|"(?:[^"\\\n\r]|\\.)*+)
  | (?P<iri><[^<>"{{}}|^`\\\x00-\x20]*+>)
  | (?P<blank>_:[{_VARIABLE_CHARS}](?:[{_VARIABLE_CHARS}\-.]*[{_VARIABLE_CHARS}\-])?)
  | (?P<language>@[a-zA-Z]++(?:-[a-zA-Z0-9]++)*+)
  | (?P<number>[0-9]++\.[0-9]*+[eE][+-]?[0-9]++|\.[0-9]++[eE][+-]?[0-9]++|[0-9]++[eE][+-]?[0-9]++
              |[0-9]*+\.[0-9]++|[0-9]++)
  | (?P<name>[{_NAME_START}:]{_NAME_CHAR}*+(?:\.++{_NAME_CHAR}++)*+)
  | (?P<var>[?$][{_VARIABLE_CHARS}]++)
  | (?P<punct>[^{_WHITE}])
    """,
    re.VERBOSE | re.DOTALL,
)
# A prefixed name as SPARQL's grammar spells it (PNAME_NS or PNAME_LN), without escaped characters:
# the tokenizer's `name` is looser, taking any run of name characters, as a reader of clients' text.
_PN_CHARS = _VARIABLE_CHARS + "\\-"
_PERCENT = "%[0-9A-Fa-f]{2}"
PREFIXED_NAME = re.compile(
    rf"(?:[{_BASE_CHARS}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)?:"
    rf"(?:(?:[{_NAME_START}:0-9]|{_PERCENT})(?:(?:[{_PN_CHARS}.:]|{_PERCENT})*(?:[{_PN_CHARS}:]|{_PERCENT}))?)?"
)
_KINDS = {"long": "string", "short": "string", "long_unended": "unended", "short_unended": "unended"}
FORMS = ("select", "ask", "construct", "describe")
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PROLOGUE = {"PREFIX", "BASE"}
# Where Oxigraph's SPARQL parser says it stopped: "error at LINE:COLUMN: ...".
_SYNTAX_POSITION = re.compile(r"(?:error )?at (\d+):(\d+)")


def syntax_place(error: SyntaxError) -> tuple[int | None, int | None, str]:
    """The line and column where Oxigraph's SPARQL parser stopped (None when it says none), and what it
    expected there, so that a message names the place in the file rather than in the parser's words."""
    message = str(error.msg if hasattr(error, "msg") else error)
    match = _SYNTAX_POSITION.search(message)
    if match is None:
        return None, None, message
    detail = _SYNTAX_POSITION.sub("", message, count=1).strip(" :")
    return int(match.group(1)), int(match.group(2)), plain_expectation(detail)


def plain_expectation(detail: str) -> str:
    """Oxigraph's "expected one of" in words: its list mixes the tokens it would take, character
    classes of hundreds of characters (`['A' ..= 'Z' | '\\u{00C0}'..`) and, among them, the sentence
    that says what is wrong ("SELECT * is not authorized with GROUP BY"). The sentence, where there is
    one, is the message; otherwise the tokens, a class of name characters said as "a name"."""
    if not detail.startswith(_EXPECTED):
        return detail
    items = _listed(detail[len(_EXPECTED) :])
    sentences = [item for item in items if " " in item and item[0] not in "[\"'"]
    if sentences:
        return sentences[0]
    tokens = [item for item in items if not item.startswith("[")]
    if any(item.startswith("[") and "'A'" in item for item in items):
        tokens.append("a name")
    if "['0'..='9']" in items:  # digits alone: a number (a name's class holds other characters too)
        tokens.append("a number")
    return _EXPECTED + ", ".join(tokens) if tokens else detail


_EXPECTED = "expected one of "


def _listed(text: str) -> list[str]:
    """The items of a list Oxigraph writes with ", " between them, read past commas in quotes and
    brackets."""
    items, start, depth, quoted = [], 0, 0, False
    for at, char in enumerate(text):
        if char == '"' and depth == 0 and not (quoted and text[at - 1] == "\\"):
            quoted = not quoted
        elif not quoted and char == "[":
            depth += 1
        elif not quoted and char == "]":
            depth -= 1
        elif not quoted and depth == 0 and text.startswith(", ", at):
            items.append(text[start:at])
            start = at + 2
    items.append(text[start:])
    return [item.strip() for item in items if item.strip()]


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
    return list(each_token(text))


def each_token(text: str) -> Iterator[Token]:
    """The query's tokens, comments dropped, one at a time (a reader may stop at the first it refuses)."""
    for match in _TOKEN.finditer(text):
        kind = _kind(match)
        if kind == "name":
            kind = "pname" if ":" in match.group() else "word"
        if kind != "comment":
            yield Token(kind, match.group(), match.start(), match.end())


def _kind(match: re.Match[str]) -> str:
    """A token's kind: its group's name, long and short strings alike (`string`, or `unended`)."""
    group = match.lastgroup or "punct"
    return _KINDS.get(group, group)


# A run of characters that no white space, bracket, comma, semicolon or operator parts (none is a
# name's character unless escaped): names, numbers, variables and what is glued to them. An escaped
# character (`\(` in a local name) belongs to the run.
_RUN = re.compile(rf"(?:\\.|[^{_WHITE}(){{}}\[\],;\\|=<>/!^*+&?$])+")


def code_runs(text: str) -> list[re.Match[str]]:
    """The runs of characters outside strings, IRIs and comments that no white space or bracket, comma
    or semicolon parts: where two parsers may cut names differently."""
    blanked = replace_tokens(text, ("comment", "string", "iri"), lambda token: " " * len(token))
    return list(_RUN.finditer(blanked))


def replace_tokens(text: str, kinds: tuple[str, ...], replace: Callable[[str], str]) -> str:
    """The text with each token of `kinds` (comment, string, iri, name, var, punct) replaced."""
    return _TOKEN.sub(lambda match: replace(match.group()) if _kind(match) in kinds else match.group(), text)


def iris_named(text: str) -> set[str]:
    """Every IRI the text names: written whole, as a prefixed name of a prefix it declares, or as the
    keyword `a` (rdf:type). Whatever triple the query reads through a constant predicate or class has
    that IRI among them."""
    found = tokens(text)
    prefixes = {
        name.text: iri.text[1:-1]
        for keyword, name, iri in zip(found, found[1:], found[2:], strict=False)
        if keyword.text.upper() == "PREFIX" and name.kind == "pname" and iri.kind == "iri"
    }
    named = set()
    for token in found:
        if token.kind == "iri":
            named.add(token.text[1:-1])
        elif token.kind == "pname" and token.text not in prefixes:
            prefix, _, local = token.text.partition(":")
            if prefix + ":" in prefixes:
                named.add(prefixes[prefix + ":"] + local)
        elif token.kind == "word" and token.text == "a":
            named.add(RDF_TYPE)
    return named


def kept_for_short_texts(function: Callable[..., T]) -> Callable[..., T]:
    """`function` of a text (and of hashable arguments after it), its answers kept for texts of at
    most 16,384 characters: the code reads the same texts again and again (the catalogue's questions,
    the server's own, the SHACL validators, the push's updates), and tokenizing one costs as much as a
    small answer. A longer text is read each time, so what is kept stays small. An answer kept is
    shared: not to be changed."""
    kept = functools.lru_cache(maxsize=256)(function)

    @functools.wraps(function)
    def answer(text: str, *more: object) -> T:
        return kept(text, *more) if len(text) <= 16_384 else function(text, *more)

    return answer


def query_form(text: str) -> str:
    """select, ask, construct or describe: the first keyword after the prologue."""
    return form_of(tokens(text))


@kept_for_short_texts
def names_its_dataset(text: str) -> bool:
    """Whether the query names its own dataset. FROM is a keyword of dataset clauses only, and they
    stand before the query's pattern, so the reading stops at WHERE or at the pattern's brace (passing
    over brackets and a CONSTRUCT's template): a store asks this of every query it runs, and reading a
    catalogue question whole cost about a millisecond, as much as some answers."""
    depth = 0  # of brackets, and of a CONSTRUCT template's braces
    template = False
    for token in each_token(text):
        word = token.text.upper() if token.kind == "word" else ""
        if depth == 0 and word in ("FROM", "WHERE"):
            return word == "FROM"
        template = template or word == "CONSTRUCT"
        if token.kind != "punct":
            continue
        if token.text == "{" and depth == 0 and not template:
            return False  # the pattern
        depth += {"(": 1, "{": 1, ")": -1, "}": -1}.get(token.text, 0)
        template = template and not (depth == 0 and token.text == "}")
    return False


def form_of(found: list[Token]) -> str:
    """select, ask, construct or describe, read from a text's tokens."""
    first = next((t for t in found if t.kind == "word" and t.text.upper() not in PROLOGUE), None)
    if first is None or first.text.lower() not in FORMS:
        raise NotAQuery("not a SPARQL query: it does not start with SELECT, ASK, CONSTRUCT or DESCRIBE")
    return first.text.lower()


def keyword(token: Token) -> str:
    """A word as a keyword, in capitals, or "" for any other token. ASCII only, as Oxigraph and
    pyparsing compare keywords: Python's capitals of `ı`, `ſ` and `ﬁ` are ASCII (`LıMIT`, `PREﬁX`
    are no keywords to either)."""
    return token.text.upper() if token.kind == "word" and token.text.isascii() else ""


def projection(text: str) -> list[str] | None:
    """The variables a SELECT projects, by name, in order (`?x`, and `?y` of `(… AS ?y)`); None for
    `SELECT *`, a text that is no SELECT, or one whose projection cannot be read so."""
    found = tokens(text)
    start = next((i for i, t in enumerate(found) if keyword(t) == "SELECT"), None)
    return None if start is None else projection_of(found[start + 1 :]) or None


def projection_of(following: list[Token]) -> list[str] | None:
    """The variables projected by the tokens following a SELECT (to its group or further), by name
    and in order; None for `*`."""
    names: list[str] = []
    depth = 0  # of brackets: an expression, whose variable is the one after its AS
    for token, after in zip(following, following[1:] + [None], strict=True):
        if token.kind == "punct" and token.text in "(){":
            if token.text == "{" and depth == 0:
                break
            depth += {"(": 1, ")": -1}.get(token.text, 0)
        elif depth == 0 and token.kind == "var":
            names.append(token.text[1:])
        elif depth == 0 and (token.text == "*" or keyword(token) in ("WHERE", "FROM")):
            return None if token.text == "*" else names
        elif keyword(token) == "AS" and after is not None and after.kind == "var":
            names.append(after.text[1:])
    return names


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


def with_values(sparql: str, bindings: Mapping[str, Bound], written: Mapping[str, str] | None = None) -> str:
    """`sparql` with a VALUES block binding `bindings` opening its WHERE pattern.

    A variable the query gives an empty block of its own (`VALUES ?x { }`) is bound there
    instead: the block stays in its group, so a list of no values empties that group only,
    not the whole query. Every such block of the variable is filled, one per group that Oxigraph
    plans apart (a UNION branch, a sub-SELECT), so that each group starts from the value rather
    than from every node its patterns match. The short form `CONSTRUCT WHERE { P }` becomes
    `CONSTRUCT { P } WHERE { VALUES … P }`, because a template cannot hold VALUES. `written`
    replaces placeholders as `substitute` does, in the same pass.
    """
    found = _tokens(sparql)
    edits = _placeholder_edits(found, written or {})
    blocks = _empty_blocks(found, bindings)
    top: dict[str, Bound] = {}
    for name, value in bindings.items():
        if name in blocks:
            terms = value if isinstance(value, tuple) else (value,)
            written_terms = "".join(f" {term}" for term in terms) + " "
            edits.extend((offset, offset, written_terms) for offset in blocks[name])
        else:
            top[name] = value
    if not top:
        return _edited(sparql, edits)
    values = values_block(top)
    form = form_of(found)
    start = 1 + next(i for i, t in enumerate(found) if t.kind == "word" and t.text.lower() == form)
    if form == "construct" and start < len(found):
        following = found[start]
        if following.text == "{":
            start = _closing(found, start) + 1
        elif following.text.upper() == "WHERE":
            if edits:
                return with_values(_edited(sparql, edits), top)
            open_at = _next_brace(found, start)
            close_at = _closing(found, open_at)
            body = sparql[found[open_at].end : found[close_at].start]
            return (
                sparql[: following.start]
                + f"{{{body}}} WHERE {{{values}{body}}}"
                + sparql[found[close_at].end :]
            )
    try:
        open_brace = found[_next_brace(found, start)]
    except NotAQuery:  # `DESCRIBE ?x` has no pattern: the values close the query, as SPARQL allows
        return _edited(sparql, edits).rstrip() + f"\n{values.strip()}\n"
    return _edited(sparql, [*edits, (open_brace.end, open_brace.end, values)])


def substitute(sparql: str, variable: str, text: str) -> str:
    """`sparql` with the placeholder `$variable` (or `<$variable>`) replaced by `text` wherever it occurs.

    For the places SPARQL takes no variable, where the recommendations write templates: SHACL's
    validators write `$PATH` for a property shape's path, the Data Cube's IC-20 and IC-21 `<$p>`
    for a property inside a path's closure, and SPARQL Update takes none in `DROP GRAPH` or in the
    data of `INSERT DATA`. `text` is a path or a term in SPARQL syntax, or N-Triples lines.
    """
    return _edited(sparql, _placeholder_edits(_tokens(sparql), {variable: text}))


# An edit of a text: the span from start to end (equal for an insertion) replaced by a string.
Edit = tuple[int, int, str]


_tokens = kept_for_short_texts(tokens)  # the tokens of a text the code binds or restricts again and again


def _placeholder_edits(found: list[Token], written: Mapping[str, str]) -> list[Edit]:
    texts = {form: text for name, text in written.items() for form in (f"${name}", f"<${name}>")}
    return [(t.start, t.end, texts[t.text]) for t in found if t.kind in ("var", "iri") and t.text in texts]


def _empty_blocks(found: list[Token], bindings: Mapping[str, Bound]) -> dict[str, list[int]]:
    """For each bound variable with empty blocks of its own (`VALUES ?x { }`), the offset inside each."""
    blocks: dict[str, list[int]] = {}
    for index in range(len(found) - 3):
        keyword, variable, opening, closing = found[index : index + 4]
        if (
            keyword.kind == "word"
            and keyword.text.upper() == "VALUES"
            and variable.kind == "var"
            and (opening.text, closing.text) == ("{", "}")
            and variable.text[1:] in bindings
        ):
            blocks.setdefault(variable.text[1:], []).append(opening.end)
    return blocks


def _edited(text: str, edits: list[Edit]) -> str:
    """`text` with `edits` (spans that do not overlap) made, from its end back."""
    for start, end, replacement in sorted(edits, key=lambda edit: edit[0], reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def where_opening(sparql: str) -> int | None:
    """The offset just after the brace that opens the query's own WHERE group: the first brace after
    its first SELECT outside brackets (a projection's `(EXISTS { … } AS ?x)` is not it, nor is a
    brace in a comment or a string); None for a text without one, or one these tokens may read
    otherwise than Oxigraph does (`less_than_read_as_iri`)."""
    found = _tokens(sparql)
    brace = None if less_than_read_as_iri(found) else _where_brace(found)
    return None if brace is None else found[brace].end


def _where_brace(found: list[Token]) -> int | None:
    """The index of the brace opening the WHERE group of the first SELECT, or None."""
    select = next((index for index, token in enumerate(found) if keyword(token) == "SELECT"), None)
    try:
        return None if select is None else _next_brace(found, select)
    except NotAQuery:
        return None


def limited(sparql: str) -> bool:
    """Whether the query's own SELECT has a LIMIT or an OFFSET (a text without a WHERE group has
    none)."""
    found = _tokens(sparql)
    brace = _where_brace(found)
    try:
        return brace is not None and _limited(found, _closing(found, brace) + 1)
    except NotAQuery:
        return False


_BOUND, _FILTERED = "bound", "filtered"  # the kinds of group `groups_opened_by` finds


def groups_opened_by(sparql: str, variable: str) -> list[int]:
    """Where a VALUES block of `variable` may open a group and change no answer of the query but drop
    the rows binding it to other values, when the caller binds the variable at the opening of the
    query's own WHERE group (`where_opening`) too: the offsets just after those groups' braces.

    Each group is read, outside in, as one of three kinds:

    - *bound*: every row of it binds the variable to a value of the block. The query's own group
      is, and so is each group the block is written in.
    - *filtered*: a row of it binding the variable to another value adds nothing to the answer. A
      group joined as a part of a bound or filtered group is (a plain group, a branch of a UNION, a
      sub-SELECT's brace): each row made from such a row binds the variable to that value too. So is
      an OPTIONAL's group in a bound group, as every row it may extend binds the variable already;
      and the group of a sub-SELECT standing in a filtered group that projects the variable as it is
      (not `(… AS ?x)`, so it is the query's own) and has no LIMIT or OFFSET, which would pick other
      rows from fewer. A sub-SELECT grouped by the variable keeps each value's groups whole.
    - neither: a group in a MINUS, an EXISTS, a GRAPH or a SERVICE, an OPTIONAL's group in a group
      that is not bound, and anything in them. There an empty row, or one of another value, may be
      what the group extends or what decides which rows stay.

    The block is written in a filtered group that opens with a triple pattern of the variable, which
    binds it before anything else in the group reads it: it then only drops the rows of other
    values, and the group is bound."""
    found = _tokens(sparql)
    names = {f"?{variable}", f"${variable}"}
    opened = set(_opening_with(found, names))
    selects = [index for index, token in enumerate(found) if keyword(token) == "SELECT"]
    if not selects or less_than_read_as_iri(found):
        return []
    try:
        where = {select: _next_brace(found, select) for select in selects}
        closing = {select: _closing(found, group) for select, group in where.items()}
    except NotAQuery:
        return []
    projecting = {  # each SELECT's group: whether the SELECT projects the variable as it is, unlimited
        where[at]: _projects(found[at + 1 : where[at]], names) and not _limited(found, closing[at] + 1)
        for at in selects
    }
    top = where[selects[0]]
    kinds = {top: _BOUND}  # the kind of each group found bound or filtered, by its brace
    enclosing = _enclosing_braces(found)
    for index, token in enumerate(found):  # in order: a group before those inside it
        if token.text != "{" or index == top:
            continue
        parent = enclosing[index]
        around = None if parent is None else kinds.get(parent)
        if index in projecting:  # the WHERE group of a sub-SELECT
            kind = _FILTERED if around and projecting[index] else None
        elif keyword(found[index - 1]) == "OPTIONAL":
            kind = _FILTERED if around == _BOUND else None
        else:
            kind = _FILTERED if around and _joined(found, index) else None
        if kind:
            kinds[index] = _BOUND if found[index].end in opened else kind
    return sorted(found[brace].end for brace, kind in kinds.items() if kind == _BOUND and brace != top)


def hangs_on_plan(sparql: str) -> bool:
    """Whether Oxigraph's answer to the query may hang on its plan, which a block of values written
    anywhere in the query may change; also true for a text these tokens may read otherwise than
    Oxigraph does.

    SPARQL evaluates a group in a group (an OPTIONAL's, a UNION's branch, a sub-SELECT's) on its own
    and joins the rows it gives. Oxigraph may instead evaluate it once per row of the rest, with the
    variables the rest binds already bound, as its plan decides. The two agree where the group reads
    such a variable through triple patterns alone, or binds it by a triple pattern of its own before
    reading it otherwise. They may not agree where the group holds, at its own level:

    - a FILTER or a BIND that reads such a variable, an EXISTS in it included, where the group's
      own triple patterns do not bind it (before a BIND) (an OPTIONAL's own FILTER is its condition,
      which reads the row it extends, and a FILTER of an EXISTS's own group reads the row the EXISTS
      tests: neither counts);
    - an OPTIONAL that names one (the pattern is not well designed, as Pérez, Arenas and Gutierrez
      say: a row may or may not have bound it);
    - a MINUS, which removes rows by the variables they share;
    - a sub-SELECT projecting one that keeps some rows of many (LIMIT, OFFSET) or counts them by
      other variables; or, in an OPTIONAL, one that merges or reads rows (DISTINCT, REDUCED, a
      GROUP BY, an aggregate, an expression, a HAVING) where its own triple patterns do not bind it:
      rows that left it unbound then take the value around them.

    Anywhere in the text, these hang on the plan too: a BIND reading a variable its group names only
    after it; an aggregate whose value hangs on the order of the rows (GROUP_CONCAT, SAMPLE); and a
    negated property set (`!<p>`), which Oxigraph 0.5 counts once per predicate where both ends are
    one variable unbound, once where it is bound. So does a text with no SELECT, or one whose
    brackets do not close."""
    found = _tokens(sparql)
    if less_than_read_as_iri(found) or _order_dependent(found) or _negated_property_set(found):
        return True
    try:
        selects = [at for at, token in enumerate(found) if keyword(token) == "SELECT"]
        closing = {at: _closing(found, at) for at, token in enumerate(found) if token.text == "{"}
        reading = _expressions(found)
        wheres = {_next_brace(found, at): at for at in selects}
    except NotAQuery:
        return True
    if not selects:
        return True
    top = _next_brace(found, selects[0])
    enclosing = _enclosing_braces(found)
    groups = _Groups(found, closing, enclosing, reading)
    if _binds_before_bound(groups):
        return True
    around: dict[int, set[str]] = {top: set()}  # per group, the variables the rest may bind first
    optional = {top: False}  # per group, whether it stands in an OPTIONAL's group
    for brace in sorted(closing):  # a group before those inside it
        parent = enclosing[brace]
        if parent not in around:  # the query's own group, or a projection's EXISTS before it
            continue
        optional[brace] = optional[parent] or keyword(found[brace - 1]) == "OPTIONAL"
        if brace in wheres:  # a sub-SELECT's group: what the rest binds of what it projects
            around[brace] = around[parent] & _projected(groups, wheres[brace])
        else:
            apart = [(brace, closing[brace]), *_other_branches(found, closing, brace)]
            around[brace] = around[parent] | _bound_in(found, reading, (parent, closing[parent]), apart)
        if around[brace] and _reads_unbound(groups, brace, around[brace]):
            return True
        if keyword(found[brace + 1]) == "SELECT" and _sub_select_hangs(
            groups, brace, around[brace], in_optional=optional[brace]
        ):
            return True
    return False


@dataclass(frozen=True)
class _Groups:
    """A query's tokens with what `hangs_on_plan` reads of them."""

    found: list[Token]
    closing: dict[int, int]  # each brace's index: the index of the brace closing it
    enclosing: list[int | None]  # each token's innermost group, by its brace's index
    reading: dict[int, int]  # each FILTER's and BIND's index: the index where its expression ends


def _binds_before_bound(groups: _Groups) -> bool:
    """Whether a BIND reads a variable that its group names after it, and not before: SPARQL reads it
    unbound there, and Oxigraph may join what binds it first, as its plan decides."""
    found, closing, enclosing, reading = groups.found, groups.closing, groups.enclosing, groups.reading
    filters = [(start, end) for start, end in reading.items() if keyword(found[start]) == "FILTER"]
    for at, end in reading.items():
        group = enclosing[at]
        if keyword(found[at]) != "BIND" or group is None:
            continue
        read = _names(found, within=(at, end), excluding=_bind_target(found, at, end))
        before = _names(found, within=(group + 1, at - 1), excluding=filters)
        after = _names(found, within=(end + 1, closing[group] - 1), excluding=filters)
        if read & after - before:
            return True
    return False


def _sub_select_hangs(groups: _Groups, brace: int, bound_around: set[str], *, in_optional: bool) -> bool:
    """Whether the sub-SELECT in the braces at `brace` projects a variable of `bound_around` and keeps
    some rows of many, counts rows by other variables, or (`in_optional`) merges or reads its rows
    where its own triple patterns do not bind the variable (see `hangs_on_plan`)."""
    found, closing = groups.found, groups.closing
    select = brace + 1
    where = _next_brace(found, select)
    projection = found[select + 1 : where]
    named = _projected(groups, select) & bound_around
    if not named:
        return False
    modifiers = found[closing[where] + 1 : closing[brace]]
    counts = any(keyword(token) in _COUNTING for token in found[select : closing[brace]])
    if _limited(modifiers, 0) or (counts and named - _grouped(modifiers)):
        return True
    merges = counts or any(
        keyword(t) in ("DISTINCT", "REDUCED", "HAVING") or t.text == "(" for t in projection
    )
    merges = merges or any(keyword(token) == "HAVING" for token in modifiers)
    return in_optional and merges and bool(named - _own_patterns(groups, where))


def _own_patterns(groups: _Groups, group: int) -> set[str]:
    """The variables the triple patterns at the group's own level name (not in a group in it, a FILTER,
    a BIND or a block of values): each of its rows binds them."""
    found, enclosing, reading = groups.found, groups.enclosing, groups.reading
    return {
        _variable_name(found[at])
        for at in range(group + 1, groups.closing[group])
        if enclosing[at] == group
        and found[at].kind == "var"
        and not any(start <= at <= end for start, end in reading.items())
        and not _given_values(found, at)
    }


def _order_dependent(found: list[Token]) -> bool:
    """Whether the text aggregates by what the order of rows decides (GROUP_CONCAT, SAMPLE)."""
    return any(keyword(token) in ("GROUP_CONCAT", "SAMPLE") for token in found)


def _negated_property_set(found: list[Token]) -> bool:
    """Whether a path of the text holds a negated property set (`!<p>`, `!(…)`), told from a `!` of
    an expression by what stands after it (a predicate not called as a function, `^` or `a`) or
    before it (a term or a path's `/`, `|` or `^`, before a bracket)."""
    for at in range(len(found) - 1):
        if found[at].text != "!":
            continue
        after, before = found[at + 1], found[at - 1] if at else None
        called = at + 2 < len(found) and found[at + 2].text == "("  # `!xsd:boolean(?x)`, a function's value
        if (after.kind in ("iri", "pname") and not called) or after.text in ("^", "a"):
            return True
        if after.text == "(" and before is not None:
            if before.kind in ("var", "iri", "pname") or before.text in ("/", "|", "^", "]"):
                return True
    return False


def _reads_unbound(groups: _Groups, group: int, bound_around: set[str]) -> bool:
    """Whether the group at `group` holds, at its own level, what reads a variable of `bound_around`
    otherwise than by triple patterns, where its own triple patterns have not bound it (see
    `hangs_on_plan`)."""
    found, closing, enclosing, reading = groups.found, groups.closing, groups.enclosing, groups.reading
    kind = keyword(found[group - 1])
    at_its_level = [at for at in range(group + 1, closing[group]) if enclosing[at] == group]
    expressions = [(at, reading[at]) for at in at_its_level if at in reading]
    patterns = _own_patterns(groups, group)
    bound: set[str] = set()  # by the group's own patterns so far
    for at in at_its_level:
        token = found[at]
        if any(start < at <= end for start, end in expressions):
            continue  # read with its FILTER or BIND
        if at in reading:  # a FILTER or a BIND, with its expression
            read = _names(found, within=(at, reading[at]), excluding=_bind_target(found, at, reading[at]))
            if kind != "EXISTS" and not (kind == "OPTIONAL" and keyword(token) == "FILTER"):
                if read & bound_around - (patterns if keyword(token) == "FILTER" else bound):
                    return True
        elif at in closing:  # a group in the group
            inner = keyword(found[at - 1])
            named = _names(found, within=(at, closing[at])) & bound_around
            if inner == "MINUS" or (inner == "OPTIONAL" and named - bound):
                return True
        elif token.kind == "var" and not _given_values(found, at):
            bound.add(_variable_name(token))
    return False


def _given_values(found: list[Token], at: int) -> bool:
    """Whether the variable at `at` is one a VALUES block gives values to (maybe none: UNDEF)."""
    while at > 0 and (found[at - 1].kind == "var" or found[at - 1].text == "("):
        at -= 1
    return at > 0 and keyword(found[at - 1]) == "VALUES"


def _names(
    found: list[Token], *, within: tuple[int, int] | None = None, excluding: Sequence[tuple[int, int]] = ()
) -> set[str]:
    """The names of the variables of the tokens from `within[0]` to `within[1]` (all by default) but
    those in the spans `excluding`, both ends of each included."""
    first, last = within or (0, len(found) - 1)
    return {
        _variable_name(token)
        for at, token in enumerate(found[first : last + 1], first)
        if token.kind == "var" and not any(start <= at <= end for start, end in excluding)
    }


def _projected(groups: _Groups, select: int) -> set[str]:
    """The variables a SELECT projects: those it names outside brackets and those it names with `AS`,
    or, for `SELECT *`, those of its WHERE group."""
    found = groups.found
    where = _next_brace(found, select)
    depth, named = 0, set()
    for at in range(select + 1, where):
        depth += {"(": 1, ")": -1}.get(found[at].text, 0)
        if depth == 0 and found[at].text == "*":
            return _names(found, within=(where, groups.closing[where]))
        if found[at].kind == "var" and (depth == 0 or keyword(found[at - 1]) == "AS"):
            named.add(_variable_name(found[at]))
    return named


def _expressions(found: list[Token]) -> dict[int, int]:
    """Each FILTER's and BIND's index, with the index where its expression ends."""
    return {
        at: _expression_end(found, at + 1)
        for at, token in enumerate(found)
        if keyword(token) in ("FILTER", "BIND")
    }


def _bind_target(found: list[Token], start: int, end: int) -> list[tuple[int, int]]:
    """The span of the variable a BIND's `AS` names (which it binds, not reads); none for a FILTER."""
    at = next((at for at in range(start, end) if keyword(found[at]) == "AS"), None)
    return [] if keyword(found[start]) != "BIND" or at is None else [(at + 1, at + 1)]


def _bound_in(
    found: list[Token], reading: dict[int, int], group: tuple[int, int], apart: list[tuple[int, int]]
) -> set[str]:
    """The variables a group's tokens name but those in the spans `apart` and those a FILTER or a
    BIND reads (a BIND binds its `AS` variable alone): those the group's rows may bind."""
    read = [_reading_span(found, start, end) for start, end in reading.items()]
    return _names(found, within=group, excluding=[*apart, *read])


def _reading_span(found: list[Token], start: int, end: int) -> tuple[int, int]:
    """The part of a FILTER or a BIND that reads: all of a FILTER, a BIND but its `AS` variable."""
    target = _bind_target(found, start, end)
    return (start, target[0][0] - 1 if target else end)


def _other_branches(found: list[Token], closing: dict[int, int], brace: int) -> list[tuple[int, int]]:
    """The spans of the other branches of the UNION whose branch opens at `brace` (no row it joins
    comes from them); none when it is no branch of a UNION."""
    opening = {end: start for start, end in closing.items()}
    first = brace
    while first > 1 and keyword(found[first - 1]) == "UNION" and found[first - 2].text == "}":
        first = opening[first - 2]
    branches, at = [], first
    while True:
        branches.append((at, closing[at]))
        after = closing[at] + 1
        if after + 1 < len(found) and keyword(found[after]) == "UNION" and found[after + 1].text == "{":
            at = after + 1
        else:
            break
    return [branch for branch in branches if branch[0] != brace] if len(branches) > 1 else []


def _grouped(modifiers: list[Token]) -> set[str]:
    """The variables a sub-SELECT's GROUP BY names (its solution modifiers' tokens)."""
    words = [keyword(token) for token in modifiers]
    if "GROUP" not in words:
        return set()
    start = words.index("GROUP") + 1
    end = next((at for at in range(start + 1, len(words)) if words[at] in _AFTER_GROUP_BY), len(words))
    return {_variable_name(token) for token in modifiers[start:end] if token.kind == "var"}


_AFTER_GROUP_BY = {"HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES"}
# What makes a sub-SELECT count its rows.
_COUNTING = {"GROUP", "COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT"}


def _variable_name(token: Token) -> str:
    """A variable's name, whether written `?x` or `$x`."""
    return token.text[1:]


def _expression_end(found: list[Token], start: int) -> int:
    """The index of the bracket closing the expression from `start`: a FILTER's or a BIND's, its
    first bracket or brace (after a function's name or `NOT EXISTS`) with all it holds."""
    depth = 0
    for index in range(start, len(found)):
        depth += {"(": 1, "{": 1, ")": -1, "}": -1}.get(found[index].text, 0)
        if depth == 0 and found[index].text in (")", "}"):
            return index
        if depth < 0:
            break
    raise NotAQuery("an expression the query does not close")


def sub_select_query(sparql: str, projected: Sequence[str]) -> str | None:
    """The sub-SELECT of `sparql` that projects `projected` (as they are, in this order), asked as a
    query of its own: the text's prologue, then the sub-SELECT from its SELECT to the brace closing
    its group. None unless exactly one sub-SELECT projects them, and that one is `SELECT DISTINCT`
    of those variables alone, with nothing after its group but the brace closing it (no solution
    modifier, no VALUES); or where these tokens may read the text otherwise than Oxigraph does
    (`less_than_read_as_iri`)."""
    found = tokens(sparql)
    selects = [index for index, token in enumerate(found) if keyword(token) == "SELECT"]
    if len(selects) < 2 or less_than_read_as_iri(found):
        return None
    spans = []
    for at in selects[1:]:
        try:
            brace = _next_brace(found, at)
            closing = _closing(found, brace)
        except NotAQuery:
            return None
        head = found[at + 1 : brace]
        if head and keyword(head[-1]) == "WHERE":
            head = head[:-1]
        if projection_of(head) == list(projected):
            wrapped = (
                found[at - 1].text == "{" and closing + 1 < len(found) and found[closing + 1].text == "}"
            )
            plain = bool(head) and keyword(head[0]) == "DISTINCT" and all(t.kind == "var" for t in head[1:])
            spans.append((found[at].start, found[closing].end) if wrapped and plain else None)
    if len(spans) != 1 or spans[0] is None:
        return None
    return sparql[: found[selects[0]].start] + sparql[spans[0][0] : spans[0][1]]


_ENDS_A_TERM = {"var", "string", "iri", "pname", "word", "number", "blank", "language"}  # kinds of token


def less_than_read_as_iri(found: list[Token]) -> bool:
    """Whether a token these tokens read as an IRI may be a less-than sign and what follows to
    Oxigraph: one standing in brackets right after a term or a closing bracket, where an expression
    compares (`FILTER(?x<'>')`, written without spaces, reads `<'>` as an IRI here and a string
    opening after it). A list of terms (`( ?x <p> )`) is taken for one too: what reads the text's
    groups then reads none rather than read them wrong."""
    depths = [0]  # brackets open in each group, the innermost last
    before: Token | None = None
    for token in found:
        if token.kind == "iri" and depths[-1] > 0 and before is not None:
            if before.kind in _ENDS_A_TERM or before.text in {")", "]"}:
                return True
        if token.text == "{":
            depths.append(0)
        elif token.text == "}" and len(depths) > 1:
            depths.pop()
        else:
            depths[-1] += {"(": 1, ")": -1}.get(token.text, 0)
        before = token
    return False


def _projects(projection: list[Token], names: set[str]) -> bool:
    """Whether a SELECT's projection (the tokens from SELECT to its group) names the variable as it
    is, outside brackets."""
    depth = 0
    for token in projection:
        depth += {"(": 1, ")": -1}.get(token.text, 0)
        if depth == 0 and token.kind == "var" and token.text in names:
            return True
    return False


def _joined(found: list[Token], brace: int) -> bool:
    """Whether the group opened at `brace` is joined with the group around it (a part of it, or a
    branch of a UNION that is), not the group of a MINUS, an EXISTS, a GRAPH or a SERVICE."""
    before = [keyword(token) for token in found[max(0, brace - 3) : brace]]
    return not (before[-1:] in (["MINUS"], ["EXISTS"]) or "GRAPH" in before[-2:-1] or "SERVICE" in before)


def _enclosing_braces(found: list[Token]) -> list[int | None]:
    """For each token, the index of the brace of the innermost group it stands in (None outside)."""
    enclosing: list[int | None] = []
    open_braces: list[int] = []
    for index, token in enumerate(found):
        if token.text == "}" and open_braces:
            open_braces.pop()
        enclosing.append(open_braces[-1] if open_braces else None)
        if token.text == "{":
            open_braces.append(index)
    return enclosing


def groups_opening_with(sparql: str, variable: str) -> list[int]:
    """The offsets just after each brace whose group opens with `variable` (the subject of its first
    triple pattern)."""
    return _opening_with(tokens(sparql), {f"?{variable}", f"${variable}"})


def _opening_with(found: list[Token], names: set[str]) -> list[int]:
    return [
        brace.end
        for brace, first in zip(found, found[1:], strict=False)
        if brace.text == "{" and first.kind == "var" and first.text in names
    ]


def _limited(found: list[Token], start: int) -> bool:
    """Whether the solution modifiers from `start`, to the end of the group that holds them, hold a
    LIMIT or an OFFSET."""
    depth = 0
    for token in found[start:]:
        depth += {"{": 1, "(": 1, "}": -1, ")": -1}.get(token.text, 0)
        if depth < 0:
            return False
        if depth == 0 and keyword(token) in ("LIMIT", "OFFSET"):
            return True
    return False


def _next_brace(found: list[Token], start: int) -> int:
    """The first brace from `start` outside brackets: a projection's `(EXISTS { … } AS ?x)` is not
    the WHERE pattern."""
    depth = 0
    for index in range(start, len(found)):
        text = found[index].text
        depth += {"(": 1, ")": -1}.get(text, 0)
        if text == "{" and depth == 0:
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
