"""Finding the file and line where a resource is described, for error messages.

Parsers do not report positions of triples, so this reads the Turtle text with a scanner of its
tokens: strings (long ones across lines too), IRIs, comments and punctuation. A statement starts
with the first token after a directive or after a full stop outside brackets; its subject is that
token, a name resolved as the parser resolves it (prefixes, bases, escapes). An RDF 1.2 reifier
named after a tilde (`~ ex:r`) is the subject of statements too, where its name stands. A term is
used where its name stands as a token outside strings and comments.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

# One token of Turtle: a word (a prefixed name, a keyword, a number, a language tag, a blank node's
# label, its escapes kept), an IRI, a string (long, then short), a comment, or punctuation. What
# shapes statements is named (`b` brackets, `d` the full stop, `c` comments, `r` the tilde before an
# RDF 1.2 reifier's name); the rest is read only at a statement's start, after a tilde, or where uses
# are asked for.
_ENDS_WORD = r"\s.;,\[\]()<>\"'#{}|^~\\"
_TOKEN = re.compile(
    r"[+-]?(?:[0-9]+\.[0-9]*[eE][+-]?[0-9]+|[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+(?:[eE][+-]?[0-9]+)?)"
    r"(?![^{_ENDS_WORD}])".replace("{_ENDS_WORD}", _ENDS_WORD)  # a number, whose full stop ends a statement
    + r"|@[A-Za-z]+(?:-[A-Za-z0-9]+)*(?:--[a-z]+)?"  # a language tag (with its direction) or a directive
    + rf"|[^{_ENDS_WORD}]+(?:(?:\\.|\.(?=[^{_ENDS_WORD}@]))[^{_ENDS_WORD}]*)*|\\.(?:[^{_ENDS_WORD}]|\\.)*"
    r"|(?P<b><<|>>|\{\||\|\}|[\[\]()])"
    r"|<(?:[^<>\"{}|^`\\\x00-\x20]|\\[uU][0-9A-Fa-f]{4,8})*>"
    r'|"""(?:[^"\\]|\\.|"(?!""))*(?:"""|$)'
    r"|'''(?:[^'\\]|\\.|'(?!''))*(?:'''|$)"
    r'|"(?:[^"\\\n]|\\.)*"?'
    r"|'(?:[^'\\\n]|\\.)*'?"
    r"|(?P<c>#[^\n]*)"
    r"|(?P<d>\.)"
    r"|(?P<r>~)"
    r"|\^\^|[;,<>{}|]",
    re.DOTALL,
)
_OPENS = {"[", "(", "<<", "{|"}
_DIRECTIVES = {"@prefix", "@base", "@version", "prefix", "base", "version"}
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LOCAL_ESCAPE = re.compile(r"\\(.)")
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# A generated file (a table's triples) says where the statements that follow come from.
ORIGIN = "#@ "


@dataclass(frozen=True)
class Location:
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class _Statement:
    """One statement of a file: where it is, its subject (an IRI; None for a blank node or a
    collection), and its text's span in the file."""

    place: Location
    subject: str | None
    anonymous: bool
    span: tuple[int, int]


class SubjectIndex:
    """Where each subject IRI's description starts, and where a term is used, across Turtle files.

    Files are read only when an error asks where something is, and scanned only when their text may
    name it (`_may_name`, a search for its spellings): a build that succeeds reads none of them. The
    build's checks and its validation ask from two threads, so one asks at a time. Only the files
    under `generated` (the build's own, a table's triples) may name the place their statements come
    from (`#@ FILE:LINE`); in a curated file such a line is a comment like any other.
    """

    def __init__(self, paths: list[Path], generated: Path | None = None) -> None:
        self.files = tuple(dict.fromkeys(paths))  # every file indexed, in the build's order, once
        self._order = {path: place for place, path in enumerate(self.files)}
        self._generated = generated
        self._where: dict[Path, dict[str, dict[Location, None]]] = {}  # by file scanned: its subjects
        self._reading = threading.Lock()
        self._searches = 0  # names looked for so far
        self._declared: dict[Path, tuple[bool, list[tuple[str, str]]]] = {}  # see `_may_name`
        self._everywhere: dict[str, list[Location]] | None = None  # once every file is scanned

    def _statements(
        self, path: Path, text: str, uses: Callable[[str, Location], None] | None = None
    ) -> Iterator[_Statement]:
        """The statements of one file (its `text`), in order; `uses` hears every name outside a
        directive, resolved, with the place it stands at."""
        made = self._generated is not None and path.is_relative_to(self._generated)
        return _scan(path, text, made, uses)

    def _places(self, path: Path, iri: str) -> list[Location]:
        """Where statements about `iri` start in one file, the file scanned once it may name it (or
        once several names were looked for: each search reads every file not scanned yet)."""
        with self._reading:
            if path not in self._where:
                text = _text(path)
                if self._searches <= SEARCHES and not self._may_name(path, text, iri):
                    return []
                subjects: dict[str, dict[Location, None]] = {}
                for statement in self._statements(path, text):
                    if statement.subject is not None:
                        subjects.setdefault(statement.subject, {})[statement.place] = None
                self._where[path] = subjects
            return list(self._where[path].get(iri, ()))

    def _may_name(self, path: Path, text: str, iri: str) -> bool:
        """Whether a file's text may name `iri`: it holds the IRI whole, or, its escapes taken out, a
        prefixed name that stands for it (a prefix the file declares, by any spelling, for a
        namespace of the IRI, then the rest). A text with numeric escapes or a base is always
        scanned: what it names cannot be seen so. What a file declares is kept once read."""
        if path not in self._declared:
            unseen = "\\u" in text or "\\U" in text or bool(_BASE_WORD.search(text))
            self._declared[path] = (unseen, sorted(set(_PREFIX_WORD.findall(text.replace("\\", "")))))
        unseen, declared = self._declared[path]
        if unseen or iri in text:
            return True
        names = [
            f"{prefix}:{iri[len(namespace) :]}" for prefix, namespace in declared if iri.startswith(namespace)
        ]
        plain = text.replace("\\", "") if names and "\\" in text else text
        return any(name in plain for name in names)

    def find(self, iri: str) -> Location | None:
        """The first place, in file order, where a statement about `iri` starts."""
        everywhere = self._all_scanned()
        if everywhere is not None:
            return next(iter(everywhere.get(iri, ())), None)
        self._searches += 1
        return next((places[0] for path in self.files if (places := self._places(path, iri))), None)

    def find_in(self, iri: str, paths: Collection[Path]) -> Location | None:
        """The first place, in file order, where a statement about `iri` starts among `paths`, the
        files known to hold its triples: the others are not searched (each search of every file took
        seconds for thousands of names)."""
        self._searches += 1
        ordered = sorted(paths, key=self._order.__getitem__)
        return next((places[0] for path in ordered if (places := self._places(path, iri))), None)

    def find_all(self, iri: str) -> list[Location]:
        """Every place a statement about `iri` starts, in file order: what a curator compares when
        two of them disagree (a table's row and a Turtle file, say)."""
        everywhere = self._all_scanned()
        if everywhere is not None:
            return list(everywhere.get(iri, ()))
        self._searches += 1
        return list(dict.fromkeys(place for path in self.files for place in self._places(path, iri)))

    def _all_scanned(self) -> dict[str, list[Location]] | None:
        """Every subject's places, in file order, once every file is scanned: a name is then looked up
        once, not in each of thousands of files (48,637 violations took minutes so)."""
        with self._reading:
            if self._everywhere is None and len(self._where) == len(self.files):
                everywhere: dict[str, dict[Location, None]] = {}
                for path in self.files:
                    for subject, places in self._where[path].items():
                        everywhere.setdefault(subject, {}).update(places)
                self._everywhere = {subject: list(places) for subject, places in everywhere.items()}
            return self._everywhere

    def find_use(self, iri: str, within: Path | None = None) -> Location | None:
        """The first line, in file order, where `iri` stands as a name (a predicate, a class, an
        object, a subject); in the file `within` only, when given."""
        return self._first_heard(iri, self.files if within is None else (within,), self._may_name)

    def find_literal(self, literal: ox.Literal, within: Path) -> Location | None:
        """The first line of the file `within` where `literal` is written (`"x"^^t`, `"x"@en`, `"x"`,
        however its string is quoted and escaped), outside comments and other strings."""
        return self._first_heard(str(literal), (within,), lambda path, text, term: True)

    def _first_heard(
        self, term: str, paths: tuple[Path, ...], may_hold: Callable[[Path, str, str], bool]
    ) -> Location | None:
        """Where the scanner first hears `term` (a name's IRI, a typed literal's N-Triples spelling)
        in `paths`, those whose text `may_hold` it."""
        found: list[Location] = []

        def heard(used: str, place: Location) -> None:
            if used == term and not found:
                found.append(place)

        for path in paths:
            text = _text(path)
            if not may_hold(path, text, term):
                continue
            for _ in self._statements(path, text, heard):
                if found:
                    return found[0]
        return None

    def find_anonymous(self, holding: str = "") -> Location | None:
        """The first statement, in file order, whose subject is a blank node (`[ … ]`, `[]` or
        `_:name`) and whose text holds `holding`: the one way to find what has no name."""
        return self._first_holding(holding, self.files, anonymous=True)

    def find_holding(self, holding: str, within: Path) -> Location | None:
        """The first statement of the file `within` whose text holds `holding` (a string of a
        statement included): what a parser's triple cannot tell, such as where a syntax was used."""
        return self._first_holding(holding, (within,), anonymous=False)

    def _first_holding(self, holding: str, paths: Iterable[Path], *, anonymous: bool) -> Location | None:
        for path in paths:
            text = _text(path)
            if holding not in text:
                continue
            for statement in self._statements(path, text):
                start, end = statement.span
                if (statement.anonymous or not anonymous) and holding in text[start:end]:
                    return statement.place
        return None


# A base or a prefix declared, however spelt: comments may stand between the parts (over-reading a
# string that looks like one only costs a scan).
_BETWEEN = r"(?:\s|#[^\n]*)*"
_BASE_WORD = re.compile(rf"base{_BETWEEN}<", re.IGNORECASE)
_PREFIX_WORD = re.compile(rf"prefix{_BETWEEN}([^\s:<#]*):{_BETWEEN}<([^>]*)>", re.IGNORECASE)
SEARCHES = 8  # names looked for in files that may name them, before every file is scanned


def _text(path: Path) -> str:
    """A file's text, read again each time an error asks: kept, the text of every file would hold
    the whole graph."""
    try:
        return path.read_text("utf-8-sig", errors="replace")
    except OSError:  # gone since it was parsed: nothing to find in it
        return ""


def _scan(
    path: Path, text: str, made: bool, uses: Callable[[str, Location], None] | None
) -> Iterator[_Statement]:
    """The statements of the Turtle file `path`, whose text is `text` (see the module's docstring);
    `made` when its `#@` lines name where its statements come from."""
    prefixes: dict[str, str] = {}
    base = ""
    line, counted = 1, 0
    origin: Location | None = None
    depth = 0
    directive: list[str] = []  # the tokens of a directive being read
    start: tuple[int, Location, str | None, bool] | None = None  # the statement being read
    reifier = False  # the token after a tilde: a reifier's name, whose statements start there
    string: tuple[str, Location, bool] | None = None  # the last string, and whether `^^` followed it
    for token in _TOKEN.finditer(text):
        kind = token.lastgroup
        if start is not None and uses is None and kind is None and not reifier:
            continue  # inside a statement: a word, an IRI or a string shapes nothing
        value = token.group()
        line += text.count("\n", counted, token.start())
        counted = token.start()
        if kind == "c":
            if made and (named := _origin(value)):
                origin = named
            continue
        if directive:
            directive.append(value)
            base = _directive(directive, prefixes, base)
            if not directive[-1:] or directive[-1] == ".":
                directive = []
            continue
        if start is None and depth == 0:
            if value.lower() in _DIRECTIVES:
                directive = [value]
                continue
            if kind == "d":
                continue
            start = (
                token.start(),
                origin or Location(path, line),
                _name(value, prefixes, base),
                value in ("[", "(") or value.startswith("_:"),
            )
        if reifier and (reified := _name(value, prefixes, base)) is not None:
            yield _Statement(origin or Location(path, line), reified, False, (token.start(), token.end()))
        reifier = kind == "r"
        if uses is not None:
            used = _name(value, prefixes, base)
            if used is not None:
                uses(used, origin or Location(path, line))
            string = _typed(string, value, used, uses)
            if value[:1] in ('"', "'"):
                string = (value, origin or Location(path, line), False)
        if kind == "b":
            depth = depth + 1 if value in _OPENS else max(depth - 1, 0)
        elif kind == "d" and depth == 0 and start is not None:
            yield _Statement(start[1], start[2], start[3], (start[0], token.end()))
            start = None
    if start is not None:
        yield _Statement(start[1], start[2], start[3], (start[0], len(text)))


def _typed(
    string: tuple[str, Location, bool] | None,
    token: str,
    named: str | None,
    uses: Callable[[str, Location], None],
) -> tuple[str, Location, bool] | None:
    """After `token`, the string a datatype may yet follow: `uses` hears a literal, in its N-Triples
    spelling, where its string stands: a typed one once its datatype is read, a text in a language
    with its tag, a plain string when anything else follows it."""
    if string is None:
        return None
    written, place, typed = string
    if token == "^^" and not typed:
        return (written, place, True)
    try:
        if typed:
            if named is not None:
                uses(str(ox.Literal(_string_value(written), datatype=ox.NamedNode(named))), place)
        elif token.startswith("@"):
            tag, _, direction = token[1:].partition("--")
            bearing = ox.BaseDirection(direction) if direction else None
            uses(str(ox.Literal(_string_value(written), language=tag, direction=bearing)), place)
        else:
            uses(str(ox.Literal(_string_value(written))), place)
    except ValueError:  # no literal Oxigraph reads (a tag it refuses): the parser names that one
        pass
    return None


def _string_value(token: str) -> str:
    """The text a string token holds, its escapes read (`\n`, `\"`, `\u00e9`)."""
    quote = token[:3] if token[:3] in ('"""', "'''") else token[:1]
    body = token[len(quote) :]
    body = body[: -len(quote)] if body.endswith(quote) and len(body) >= len(quote) else body
    return _STRING_ESCAPE.sub(_escaped, body)


_STRING_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f"}


def _escaped(found: re.Match[str]) -> str:
    if found.group(3) is not None:
        return _ECHAR.get(found.group(3), found.group(3))
    return chr(int(found.group(1) or found.group(2), 16))


def _directive(tokens: list[str], prefixes: dict[str, str], base: str) -> str:
    """Read a directive whose tokens so far are `tokens`, once it is whole: a prefix into `prefixes`,
    resolved against the base then in force; the base after it. A whole directive in SPARQL's
    spelling, which no full stop ends, leaves `tokens` empty."""
    keyword = tokens[0].lower()
    iri = tokens[-1]
    if keyword == "version" and len(tokens) == 2:
        tokens.clear()  # SPARQL's spelling of RDF 1.2's version: its string, and no full stop
    if not (iri.startswith("<") and iri.endswith(">")):
        return base
    if keyword.endswith("prefix") and len(tokens) == 3:
        prefixes[tokens[1].removesuffix(":")] = _resolved(_unescaped(iri[1:-1]), base)
    elif keyword.endswith("base") and len(tokens) == 2:
        base = _resolved(_unescaped(iri[1:-1]), base)
    if not keyword.startswith("@"):
        tokens.clear()  # SPARQL's spelling: no full stop follows
    return base


def _name(token: str, prefixes: dict[str, str], base: str) -> str | None:
    """The IRI a token names: an IRI written whole, or a prefixed name; None for anything else."""
    if token.startswith("<") and token.endswith(">") and token not in ("<<", ">>"):
        return _resolved(_unescaped(token[1:-1]), base)
    prefix, colon, local = token.partition(":")
    if not colon or prefix.startswith(("_", "@")) or prefix not in prefixes:
        return None
    return prefixes[prefix] + _LOCAL_ESCAPE.sub(r"\1", local)


def _unescaped(iri: str) -> str:
    """An IRI as written with its numeric escapes (`\\u0073`) read."""
    return _ESCAPE.sub(lambda found: chr(int(found.group(1) or found.group(2), 16)), iri)


@functools.lru_cache(maxsize=4096)
def _resolved(iri: str, base: str) -> str:
    """`iri` resolved against `base` as the build's parser resolves it (RFC 3986)."""
    if not base or _ABSOLUTE.match(iri):
        return iri
    try:
        (triple,) = ox.parse(f"<{iri}> <urn:p> <urn:o> .", format=ox.RdfFormat.TURTLE, base_iri=base)
    except (SyntaxError, ValueError):
        return iri
    return triple.subject.value if isinstance(triple.subject, ox.NamedNode) else iri


def _origin(line: str) -> Location | None:
    """The place a generated line names as its origin (`#@ FILE:LINE`, written before the triples of
    a table's row), if it is such a line."""
    file_name, _, at = line[len(ORIGIN) :].rpartition(":")
    if line.startswith(ORIGIN) and file_name and at.isdigit():
        return Location(Path(file_name), int(at))
    return None
