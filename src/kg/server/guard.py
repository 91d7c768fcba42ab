"""Reading a client's query before it runs: whether a public, read-only endpoint may run it.

Two stages. `precheck` runs in the web process on every client query and is
linear in the query's length: it bounds the length and the bracket nesting
depth, so that no parser (ours or the engine's) is ever handed a text that
could exhaust its stack. `read` runs inside a query worker, under the time
and memory limits and without network: it parses the query with rdflib's
SPARQL 1.1 parser and decides on what the parser read, not on a spelling:
SERVICE, LOAD and updates are refused, FROM / FROM NAMED may only name graphs
of the dataset, and a text the parser cannot read is refused (fail closed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType

import pyoxigraph as ox

from kg.errors import KgError
from kg.query.explain import declaration
from kg.query.run import shape_problem
from kg.store.sparql import PREFIXED_NAME, Token, code_runs, each_token, keyword, replace_tokens, tokens

FORMS = {"SelectQuery": "select", "AskQuery": "ask", "ConstructQuery": "graph", "DescribeQuery": "graph"}
READ_ONLY = "this endpoint is read-only: SPARQL Update is refused"
EMPTY = (
    "the query asks for nothing: it has no SELECT, ASK, CONSTRUCT or DESCRIBE, only a prologue or comments"
)
SERVICE_REFUSED = "SERVICE is refused: this endpoint never calls other services"
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_ESCAPE_LEFT = re.compile(r"\\[uU][0-9A-Fa-f]{4}")  # what rdflib would still expand
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)  # a backslash and the character it escapes
MAX_PREFIX_IRI = 1_024  # characters of a prefix's IRI: each prefixed name's IRI is checked whole
_XSD = "http://www.w3.org/2001/XMLSchema#"  # the namespace of the casts, the only functions named by IRIs
_TWO_DOT_GROUPS = re.compile(r"[^.]\.+[^.]+\.+[^.]")  # dots, something, dots again, something


class Refused(KgError, ValueError):
    """A query this endpoint will not run; `status` is the HTTP status to answer with."""

    def __init__(
        self, message: str, status: int = 400, line: int | None = None, column: int | None = None
    ) -> None:
        super().__init__(message, status=status, line=line, column=column)


def precheck(text: str, max_length: int, max_depth: int) -> str:
    """The text to run (`canonical`), once it is neither too long nor nested or chained too deeply to
    parse and run safely; linear in its length. The nesting is that of the canonical text: brackets may
    be spelt as escapes."""
    if len(text) > max_length:
        raise Refused(f"the query is {len(text)} characters long; the limit is {max_length}", 413)
    runnable = canonical(text)
    if problem := shape_problem(runnable, max_depth):
        raise Refused(problem)
    return runnable


def canonical(text: str) -> str:
    """The client's text as the guard reads it and the engine runs it: the two parsers must read the
    same tokens. SPARQL 1.1 (§19.2) expands codepoint escapes (`\\u0022`) over the whole text before
    parsing, as rdflib does, while Oxigraph expands them in strings and IRIs only, so an escaped quote
    could end a string for one and not for the other. Oxigraph ends a comment at a carriage return,
    rdflib only at a line feed, so what follows `# …\\r` could be a comment for one and a pattern for
    the other. Here the escapes are expanded once, as SPARQL 1.1 has it, and every line ends with a line
    feed; a text left with anything rdflib would still expand (escapes spelt by escapes, which one
    pass or two read otherwise; `\\U` with four digits, which rdflib takes as `\\u`) is refused. A
    string's escape of the other quote, which rdflib cannot read, is written as the quote itself; a
    quote that starts no string that ends is refused, so that is where every string is. Applying it
    again changes nothing (the web process and the worker each apply it)."""
    expanded = _CODEPOINT.sub(lambda match: _codepoint(text, match), text)
    if leftover := _ESCAPE_LEFT.search(expanded):
        raise Refused(
            f"{leftover.group()} in the query is read otherwise by other SPARQL parsers (an escape spelt"
            " by escapes, or \\U with four digits); write the character itself"
        )
    lines = expanded.replace("\r\n", "\n").replace("\r", "\n")
    try:
        _strings_end(lines)
    except Refused as refused:
        raise placed(refused, text, quotes=False) from None
    runnable = replace_tokens(lines, ("string",), _quotes_alike)
    try:
        _names_cut_alike(runnable)
        found = tokens(runnable)  # read once for both rules below
        _names_make_iris(runnable, found)
        _less_than_kept_apart(runnable, found)
    except Refused as refused:
        raise placed(refused, text) from None
    return runnable


def placed(error: KgError, text: str, *, quotes: bool = True) -> KgError:
    """`error`, its line and column (and the `query:LINE:COLUMN:` its message starts with) moved from
    the canonical text (or, without `quotes`, the text before its strings' quotes are rewritten) to
    the text the client sent, which the client reads: an error after six `\\u0041` was placed 30
    columns before where it stands."""
    if error.line is None or error.column is None:
        return error
    read, origins = _origins(text, quotes)
    starts = [0] + [at + 1 for at, char in enumerate(read) if char == "\n"]
    if not 1 <= error.line <= len(starts):
        return error
    offset = starts[error.line - 1] + error.column - 1
    origin = origins[offset] if offset < len(origins) else len(text)
    breaks = [match.end() for match in _LINE_BREAK.finditer(text, 0, origin)]
    line, column = len(breaks) + 1, origin - (breaks[-1] if breaks else 0) + 1
    old = f"query:{error.line}:{error.column}: "
    for name in ("message", "public"):
        said = getattr(error, name)
        if said.startswith(old):
            setattr(error, name, f"query:{line}:{column}: " + said[len(old) :])
    error.args = (error.message,)
    error.line, error.column = line, column
    return error


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _origins(text: str, quotes: bool) -> tuple[str, list[int]]:
    """The text as `canonical` makes it (without `quotes`, before its strings' quotes are rewritten),
    and for each of its characters the offset in `text` it comes from."""
    expanded: list[str] = []
    origins: list[int] = []
    at = 0
    for match in _CODEPOINT.finditer(text):
        expanded += text[at : match.start()]
        origins += range(at, match.start())
        expanded.append(chr(int(match.group(1) or match.group(2), 16)))
        origins.append(match.start())
        at = match.end()
    expanded += text[at:]
    origins += range(at, len(text))
    joined = "".join(expanded)
    kept = [i for i, char in enumerate(joined) if not (char == "\r" and joined.startswith("\n", i + 1))]
    lines = "".join("\n" if joined[i] == "\r" else joined[i] for i in kept)
    origins = [origins[i] for i in kept]
    if not quotes:
        return lines, origins
    read: list[str] = []
    moved: list[int] = []
    at = 0
    for token in each_token(lines):
        if token.kind != "string":
            continue
        read += lines[at : token.start]
        moved += origins[at : token.start]
        rewritten, old = _quotes_alike(token.text), token.start
        for char in rewritten:  # the rewriting drops a backslash before a quote: skip it
            if lines[old] != char:
                old += 1
            read.append(char)
            moved.append(origins[old])
            old += 1
        at = token.end
    read += lines[at:]
    moved += origins[at:]
    return "".join(read), moved


def _strings_end(text: str) -> None:
    """Refuse a quote that starts no whole string, and a backslash outside strings and names: neither
    is SPARQL, and where readers disagree on where a string starts and ends, one may read as a pattern
    what another reads as a string. So every quote the guard lets through starts a string that ends."""
    for token in each_token(text):  # the first refused stops the reading
        if token.kind == "unended" or (token.kind == "punct" and token.text == "\\"):
            what = (
                "a backslash outside a string or a name"
                if token.kind == "punct"
                else "a string that does not end (one in single quotes ends on its line)"
            )
            raise _refused_at(what, text, token.start)


def _quotes_alike(string: str) -> str:
    """A string with its escapes of the other quote (`"it\\'s"`, `'say \\"hi\\"'`) written as that
    quote, which means the same: SPARQL lets a string escape either quote, rdflib only its own."""
    other = '"' if string[0] == "'" else "'"
    return _ESCAPE.sub(lambda escape: other if escape.group(1) == other else escape.group(), string)


def _less_than_kept_apart(text: str, found: list[Token]) -> None:
    """Refuse an IRI holding `#`, a quote or a bracket written where `<` could be less-than: after a
    value, in an expression, outside a VALUES block. A tokenizer reads `<…>` as an IRI wherever it
    can; a parser reads less-than there, and then what follows as code up to a `#` it takes for a
    comment, or a quote it takes for a string, so `FILTER(1<2)_:b:1SERVICE#>` hid a name from every
    check; a bracket in it would put this reading of brackets behind the parsers'. An IRI that holds
    none of these ends where the parsers' reading resumes, in the same bracket. In a group pattern
    (`EXISTS { … }` inside a FILTER too) and in a collection or a path, `<` is never less-than, so an
    IRI holding `#` is read whole there by every parser."""
    frames = [_QUERY]  # what each open bracket holds, innermost last
    values, previous, before = "", None, None
    for token in found:
        word = keyword(token)
        if word == "VALUES":
            values = "coming"
        elif token.text == "{" and values == "coming":
            values = "inside"
        elif token.text == "}" and values == "inside":
            values = ""
        if token.kind == "punct" and token.text in "{}()":
            _bracket(frames, token.text, previous, before)
        elif word == "SELECT" and frames[-1] == _GROUP and previous is not None and previous.text == "{":
            frames[-1] = _SUBQUERY  # a sub-SELECT fills its group: its clauses are a query's
        elif (
            token.kind == "iri"
            and frames[-1] == _EXPRESSION
            and values != "inside"
            and previous is not None
            and _is_value(previous)
            and any(character in token.text for character in "#'()")
        ):
            raise _refused_at(
                f"{token.text} may be read as less-than followed by code; write a"
                " space after `<` for less-than, or put the IRI where no value stands before it",
                text,
                token.start,
            )
        previous, before = token, previous


# What a bracket holds: a query's clauses (outside every group, or a sub-SELECT's), a group pattern, an
# expression, or a collection or a path (terms only, no operator).
_QUERY, _SUBQUERY, _GROUP = "query", "sub-query", "group"
_EXPRESSION, _COLLECTION = "expression", "collection"


def _bracket(frames: list[str], bracket: str, previous: Token | None, before: Token | None) -> None:
    """Open or close a bracket in `frames`. In a query's clauses every `(` opens an expression (or a
    list of variables); in a group pattern only one after a word (FILTER, BIND, a function's name) or
    after the IRI of a function a FILTER calls, every other one a collection or a path; in an
    expression every one an expression. Where unsure, an expression: it only refuses more."""
    if bracket == "{":
        frames.append(_GROUP)
    elif bracket == "}":
        while len(frames) > 1 and frames.pop() not in (_GROUP, _SUBQUERY):
            pass
    elif bracket == ")":
        if frames[-1] in (_EXPRESSION, _COLLECTION):
            frames.pop()
    elif frames[-1] in (_GROUP, _COLLECTION) and not _calls(previous, before):
        frames.append(_COLLECTION)
    else:
        frames.append(_EXPRESSION)


def _calls(previous: Token | None, before: Token | None) -> bool:
    """Whether a `(` in a group pattern after `previous` (and `before` it) opens an expression: after a
    word, or after the IRI or name of a function a FILTER calls. A name that starts with FILTER glued
    to it (`FILTERé:boolean`, `FILTER:f`) counts as both: the parsers read FILTER, then a function's
    name, where the tokenizer reads one name."""
    if previous is None or previous.kind == "word" or _starts_filter(previous):
        return True
    return previous.kind in ("iri", "pname") and before is not None and _starts_filter(before)


def _starts_filter(token: Token) -> bool:
    """Whether a word or name starts with FILTER, in any case: neither parser needs a keyword to end
    where the tokenizer ends a name (Oxigraph reads FILTER, then the rest, where nothing else fits)."""
    return token.kind in ("word", "pname") and token.text[:6].upper() == "FILTER"


def _is_value(token: Token) -> bool:
    """Whether a token ends a value, after which `<` may be less-than."""
    if token.kind in ("var", "number", "string", "language", "pname", "blank", "iri"):
        return True
    return token.text in (")", "]") or token.text.lower() in ("true", "false")


def _names_make_iris(text: str, found: list[Token]) -> None:
    """Refuse a prefixed name whose prefix the query does not declare as an absolute IRI, or whose
    prefix and local part make no IRI: Oxigraph, failing to read such a name, reads its prefix alone
    and what follows as new tokens (with `PREFIX e: <http://h>`, `e:SERVICE:y` is `e:` then
    `SERVICE :y`), where rdflib reads one name. Decided with Oxigraph's own IRI rules, once per name;
    a prefix's IRI is at most MAX_PREFIX_IRI characters, so that checking every name stays cheap."""
    prefixes: dict[str, str] = {}
    made: set[tuple[str, str]] = set()  # the names found to make IRIs
    for index, token in enumerate(found):
        if token.kind != "pname":
            continue
        if not PREFIXED_NAME.fullmatch(_ESCAPE.sub("x", token.text)):
            # `e:._:b:1SERVICE` is one name to the tokenizer, and `e:`, `.`, `_:b`, `:1SERVICE` to
            # both parsers: a name no check here had read stood between them
            raise _refused_at(
                f"{token.text} is no prefixed name as SPARQL spells one (its local part starts with a"
                " letter, a digit, `_`, `:` or `%XX`, and ends in no `.`): the parsers read it as"
                " several tokens; write a space where one ends",
                text,
                token.start,
            )
        prefix, _, local = token.text.partition(":")
        declared = index > 0 and found[index - 1].kind == "word" and found[index - 1].text.upper() == "PREFIX"
        problem = None
        if declared and index + 1 < len(found) and found[index + 1].kind == "iri":
            iri = found[index + 1].text[1:-1]
            if len(iri) > MAX_PREFIX_IRI:
                problem = f"names an IRI of {len(iri)} characters; the limit is {MAX_PREFIX_IRI}"
            elif not _is_iri(iri):
                problem = f"names {found[index + 1].text}, no absolute IRI"
            prefixes[prefix] = iri
            made.clear()
        elif declared:
            continue  # a declaration the parser will refuse
        elif prefix not in prefixes:
            problem = f"has a prefix the query does not declare — add {declaration(prefix)} at the top"
            if index > 0 and found[index - 1].text == "<" and found[index - 1].end == token.start:
                problem += (  # `<http://a b>`: no IRI, so `http:` is read as a name
                    "; or, if the `<` before it starts an IRI, that IRI holds what no IRI may: a space,"
                    " a quote or one of <>{}|^`\\"
                )
        elif (prefix, local) not in made:
            whole = prefixes[prefix] + _ESCAPE.sub(lambda escape: escape.group(1), local)
            problem = None if _is_iri(whole) else f"makes <{whole}>, which is no IRI"
            made.add((prefix, local))
        if problem is not None:
            raise _refused_at(f"the name {token.text} {problem}", text, token.start)


def _is_iri(text: str) -> bool:
    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return True


def _at_term(why: str, text: str, written: object, *, called: bool) -> Refused:
    """The refusal `why`, placed at the first token that spells `written` (an IRI as written, or a
    prefixed name) after a FROM (or, `called`, before an opening bracket), where one does."""
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(written, CompValue):  # a prefixed name
        spelt = f"{written.get('prefix') or ''}:{written.get('localname') or ''}"
    else:
        spelt = f"<{written}>"
    found = tokens(text)
    for before, token, after in zip([None, *found[:-1]], found, [*found[1:], None], strict=True):
        if token.text != spelt:
            continue
        if called and after is not None and after.text == "(":
            break
        if not called and before is not None and keyword(before) in ("FROM", "NAMED"):
            break
    else:
        return Refused(why)
    return _refused_at(why, text, token.start)


def _refused_at(why: str, text: str, offset: int) -> Refused:
    """The refusal `why`, at the line and column of `offset` in the text (`query:LINE:COLUMN: …`)."""
    line, column = _place(text, offset)
    return Refused(f"query:{line}:{column}: {why}", 400, line, column)


def _keyword_before(text: str, word: str, end: int) -> int:
    """Where the last keyword `word` before `end` starts (the first of a pattern that ends there and
    holds none other: the parser reads an inner one first), else 0."""
    return max((token.start for token in each_token(text[:end]) if keyword(token) == word), default=0)


def _place(text: str, offset: int) -> tuple[int, int]:
    """The line and column (from 1) of a character of the text."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def _names_cut_alike(text: str) -> None:
    """Refuse a prefixed name whose local part has dots in two places (`e:a.b.c`): SPARQL allows it and
    rdflib reads one name, but Oxigraph ends the name before the second dot, so what follows it
    (`e:a.b.SERVICE:x`) was a SERVICE the guard never saw. Decided on every run of characters outside
    strings, IRIs and comments that holds a colon, whatever the characters around its dots."""
    for run in code_runs(text):
        local = _ESCAPE.sub("x", run.group().partition(":")[2])  # an escaped dot is no dot to cut at
        if local and _TWO_DOT_GROUPS.search(local):
            raise _refused_at(
                f"the name {run.group()!r} has dots in two places after its colon,"
                " which SPARQL engines cut differently; write it as a full IRI",
                text,
                run.start(),
            )


def _codepoint(text: str, match: re.Match[str]) -> str:
    value = int(match.group(1) or match.group(2), 16)
    if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        raise _refused_at(f"{match.group()} is not a character", text, match.start())
    return chr(value)


@dataclass(frozen=True)
class Reading:
    """What the parser read: the query's form (select, ask or graph) and the graphs it names itself."""

    form: str
    default: tuple[str, ...]  # the graphs of its FROM clauses, as the guard resolved them
    named: tuple[str, ...]  # of its FROM NAMED clauses

    @property
    def dataset(self) -> tuple[str, ...]:
        return self.default + self.named


def read(text: str, graphs: frozenset[str], predicates: frozenset[str] | None = None) -> Reading:
    """What the query is, once the parsed query passes every rule; else Refused.

    `predicates`, where given, are the only ones its patterns may name (see `_only_held`).
    Call it only on a text that passed `precheck`: the parser recurses once per nesting level.
    """
    from rdflib.plugins.sparql import algebra
    from rdflib.plugins.sparql.parserutils import CompValue

    try:
        parsed = _parser().parseQuery(text)
    except _ServiceMet as met:
        raise _refused_at(SERVICE_REFUSED, text, _keyword_before(text, "SERVICE", met.args[0])) from None
    except MemoryError:
        raise  # the worker's memory limit, answered as such, never as a syntax error
    except Exception as error:  # noqa: BLE001 - whatever the parser cannot read is refused
        operations = _update_operations(text)
        if operations:
            raise Refused(READ_ONLY, 403) from None
        if operations == 0:
            raise Refused(EMPTY, 400) from None
        raise _unreadable(error) from None
    if not any(clause.name == "Base" for clause in parsed[0]):
        _no_relative_iri(parsed, text)
    declared: dict[str, list[str]] = {}  # each prefix's IRIs, as the prologue declares them
    for clause in parsed[0]:
        if clause.name == "PrefixDecl":
            prefix = clause["prefix"] if "prefix" in clause else ""
            declared.setdefault(prefix, []).append(str(clause["iri"]))
    for node in _nodes(parsed):
        if isinstance(node, CompValue) and node.name == "ServiceGraphPattern":
            raise Refused(SERVICE_REFUSED)
        if isinstance(node, CompValue) and node.name == "DatasetClause":
            clause, written = (
                ("FROM", node["default"]) if "default" in node else ("FROM NAMED", node["named"])
            )
            if why := _not_named_whole(clause, written, graphs, declared):
                raise _at_term(why, text, written, called=False)
        if isinstance(node, CompValue) and node.name == "Function":
            if why := _not_a_cast(node["iri"], declared):
                raise _at_term(why, text, node["iri"], called=True)
        if predicates is not None and isinstance(node, CompValue) and node.name == "TriplesBlock":
            for triples in node["triples"]:
                for predicate in list(triples)[1::3]:  # each block is flat: subject, predicate, object …
                    _only_held(predicate, declared, predicates)
    if parsed[1].name == "DescribeQuery" and "var" not in parsed[1]:
        parsed[1]["var"] = []  # DESCRIBE *: rdflib's algebra reads its variables, which it left out
    try:
        query = algebra.translateQuery(parsed).algebra
    except Exception as error:  # noqa: BLE001 - e.g. an undeclared prefix
        raise Refused(f"the query cannot be read: {_first_line(error)}") from None
    clauses = query["datasetClause"] if "datasetClause" in query else None  # CompValue.get returns the key
    default = tuple(dict.fromkeys(str(c["default"]) for c in clauses or [] if "default" in c))
    named = tuple(dict.fromkeys(str(c["named"]) for c in clauses or [] if "default" not in c))
    for iri in default + named:
        if iri not in graphs:
            raise Refused(
                f"graph <{iri}> is not in this dataset; its graphs are: {', '.join(sorted(graphs))}"
            )
    if query.name not in FORMS:
        raise Refused(f"the query cannot be read: {query.name} is not a query form")
    return Reading(FORMS[query.name], default, named)


def _not_named_whole(
    clause: str, written: object, graphs: frozenset[str], declared: dict[str, list[str]]
) -> str | None:
    """Why to refuse a dataset clause that does not name one of the dataset's graphs whole: by its IRI as
    written, or by a prefixed name (under every declaration of its prefix, each an absolute IRI, as the
    guard has it of every prefix), which every store joins to its local part alike. A relative IRI is
    resolved against a BASE otherwise by rdflib than by RFC 3986's stores (`FROM <private//../data>` was
    the data graph to the guard, `…/graph/private/data` to Virtuoso, whose text overrides the
    protocol's graph parameters)."""
    from rdflib import URIRef

    if all(meaning in graphs for meaning in _meanings(written, declared)):
        return None
    shown = str(written) if isinstance(written, URIRef) else "a prefixed name"
    return (
        f"{clause} {shown}: name one of the dataset's graphs in FROM and FROM NAMED by its whole IRI or a"
        f" prefixed name: {', '.join(sorted(graphs))}"
    )


def _not_a_cast(written: object, declared: dict[str, list[str]]) -> str | None:
    """Why to refuse a function named by an IRI unless it is an XSD cast: it runs whatever the store
    behind has under that name (Virtuoso's `bif:http_get` sent a request). Decided on the parse as
    written, where the functions of an EXISTS pattern are still in place."""
    for iri in _meanings(written, declared):
        if not iri.startswith(_XSD):
            return (
                f"the function <{iri}> is refused: this endpoint calls only SPARQL's own functions and"
                " XSD casts (a function named by an IRI runs whatever the store has under that name)"
            )
    return None


def _only_held(predicate: object, declared: dict[str, list[str]], predicates: frozenset[str]) -> None:
    """Refuse a pattern's predicate (or any IRI of its property path) that the dataset neither holds nor
    declares: a store may run code under a predicate's IRI (Jena's property functions, `java:` class
    names among them; Virtuoso's `bif:contains`), which matches no triple of the dataset anyway. A
    relative IRI is refused as written, as stores resolve it against a BASE otherwise than rdflib."""
    from rdflib import URIRef
    from rdflib.plugins.sparql.parserutils import CompValue

    for node in _nodes(predicate):
        if isinstance(node, CompValue) and node.name == "InversePath" and not node:
            raise Refused(  # rdflib's parser keeps no IRI for `^<p>` in `!( … )`: there is none to check
                "an inverse in a negated property set (`?s !(^<p>) ?o`) cannot be checked in front of"
                " this store: write `?o !(<p>) ?s`"
            )
        if isinstance(node, URIRef) or (isinstance(node, CompValue) and node.name == "pname"):
            for iri in _meanings(node, declared):
                if iri not in predicates:
                    raise Refused(not_held(iri))


def not_held(iri: str) -> str:
    """Why a query naming the predicate `iri` is refused in front of a remote store."""
    return (
        f"the predicate <{iri}> is not one this dataset holds or declares: in front of this store a query"
        " names only those, by their whole IRIs or prefixed names (a store may run code under a"
        " predicate's IRI)"
    )


def _meanings(written: object, declared: dict[str, list[str]]) -> list[str]:
    """What a name as written may stand for: an IRI itself, a prefixed name under every IRI its
    prefix is declared with (the parsers may keep either of two declarations); "" for anything else."""
    from rdflib import URIRef
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(written, CompValue) and written.name == "pname":
        prefix = written["prefix"] if "prefix" in written else ""
        local = written["localname"] if "localname" in written else ""
        return [iri + local for iri in declared.get(prefix, [""])]
    return [str(written)] if isinstance(written, URIRef) else [""]


class _ServiceMet(Exception):
    """Raised by the parser the moment it has read a SERVICE pattern (not a ParseException, so the
    parser cannot backtrack past it), with the offset where the pattern ends."""


def _parser() -> ModuleType:
    """rdflib's SPARQL parser, made to stop at the first SERVICE pattern it reads.

    rdflib's own handling of a SERVICE pattern searches the whole text again
    for it, once per pattern; a query full of them would cost time for a
    query we refuse anyway. This changes rdflib's grammar object for the
    whole process, which is why only query workers (and tests) call `read`.
    """
    from rdflib.plugins.sparql import parser

    def refuse(instring: str, loc: int, tokens: object) -> object:
        raise _ServiceMet(loc)  # where the pattern ends

    parser.ServiceGraphPattern.postParse = refuse  # type: ignore[method-assign,assignment]  # the hook described above
    return parser


def _update_operations(text: str) -> int | None:
    """How many operations `text` holds read as an update; None when it is not one. A text of a
    prologue or comments only is an update of none by the grammar: it asks for nothing, and was
    refused as an update (403)."""
    try:
        parsed = _parser().parseUpdate(text)
    except _ServiceMet:
        return 1
    except Exception:  # noqa: BLE001 - not an update either
        return None
    return len(parsed["request"]) if "request" in parsed else 0


def _unreadable(error: Exception) -> Refused:
    """A text rdflib's parser cannot read, refused with its place and words. Never asked of the engine:
    Oxigraph reads a query only by running it, and a text rdflib cannot read is one whose SERVICE calls
    the guard has not seen (`VERSION "1.2"` before a query made the server send a request)."""
    line, column = getattr(error, "lineno", None), getattr(error, "col", None)
    where = f"{line}:{column}: " if line is not None else ""
    detail = getattr(error, "msg", None) or _first_line(error)
    return Refused(
        f"query:{where}SPARQL syntax error (the query cannot be read): {detail}", 400, line, column
    )


def _no_relative_iri(parsed: object, text: str) -> None:
    """Refuse an IRI written relative (`<s>`) in a query that declares no BASE, at the first place it
    is written: there is nothing to resolve it against, and the engine said "IRI parsing failed", or,
    for one in a BIND, "expected ENCODE_FOR_URI", a column past the end of the query."""
    from rdflib import URIRef

    relative = {
        str(node) for node in _nodes(parsed) if isinstance(node, URIRef) and not _ABSOLUTE.match(node)
    }
    if not relative:
        return
    spelt = next((t for t in tokens(text) if t.kind == "iri" and t.text[1:-1] in relative), None)
    iri = spelt.text if spelt is not None else f"<{min(relative)}>"
    why = f"{iri} is a relative IRI and the query declares no BASE: write it whole, or declare one"
    raise _refused_at(why, text, spelt.start) if spelt is not None else Refused(why)


_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")  # an IRI's scheme


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:200]


def _nodes(root: object) -> Iterator[object]:
    """Every node of a parse result, depth first, without recursion."""
    pending = [root]
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, list | tuple) or type(node).__name__ == "ParseResults":
            pending.extend(node)  # type: ignore[arg-type]  # ParseResults is iterable


def without_dataset(text: str) -> str:
    """The query without its FROM and FROM NAMED clauses, for a request whose own dataset replaces them
    (SPARQL 1.1 Protocol §2.1.4). FROM is a keyword nowhere else, so each one starts a clause: the
    keyword, NAMED, and the graph's IRI or prefixed name. The result is read again like any text."""
    found = tokens(text)
    kept, at = [], 0
    for index, token in enumerate(found):
        if keyword(token) != "FROM":
            continue
        graph = index + 2 if index + 1 < len(found) and keyword(found[index + 1]) == "NAMED" else index + 1
        if graph < len(found) and found[graph].kind in ("iri", "pname"):
            kept.append(text[at : token.start])
            at = found[graph].end
    return "".join(kept) + text[at:]


def with_dataset(text: str, default: list[str], named: list[str]) -> str:
    """The query with FROM / FROM NAMED clauses for the protocol's default-graph-uri and named-graph-uri.

    They go where SPARQL puts a dataset clause: after the query form (and a
    CONSTRUCT template), before WHERE or the group pattern. The result is
    read by `read` like any client text, so a misplaced clause is refused,
    never run.
    """
    found = tokens(text)
    clauses = " ".join([f"FROM <{iri}>" for iri in default] + [f"FROM NAMED <{iri}>" for iri in named])
    keywords = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
    index = next((i for i, t in enumerate(found) if t.kind == "word" and t.text.upper() in keywords), None)
    if index is None:
        return text
    skip_template = found[index].text.upper() == "CONSTRUCT"
    depth = 0
    brackets = 0  # of the projection's expressions, which may hold group patterns (`EXISTS { … }`)
    previous = found[index]
    for token in found[index + 1 :]:
        brackets += {"(": 1, ")": -1}.get(token.text, 0) if token.kind == "punct" else 0
        if brackets:
            continue
        if token.text == "{" and skip_template and depth == 0 and previous.text.upper() != "WHERE":
            depth = 1
            previous = token
            continue
        previous = token
        if depth:
            depth += {"{": 1, "}": -1}.get(token.text, 0)
            if depth == 0:
                skip_template = False
            continue
        upper = token.text.upper()
        if token.text == "{" or (
            token.kind == "word" and upper in {"WHERE", "ORDER", "GROUP", "LIMIT", "OFFSET", "VALUES"}
        ):
            return f"{text[: token.start]} {clauses} {text[token.start :]}"
    return f"{text} {clauses}"
