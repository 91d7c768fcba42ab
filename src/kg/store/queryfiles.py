"""SPARQL files with a grlc-style header: the one loader for every query the project asks.

The public questions (queries/), the readers' internal queries (kg/query/internal),
the build's checks (kg/build/queries) and SHACL validators (kg/build/queries/shacl)
are all such files, and so are the push's update operations (kg/exchange/updates,
`.ru`); this module lives in the store layer, which imports nothing of the others,
so that the build and the readers share it without importing each other.

A header is YAML in `#+ ` comment lines at the top of the file:

    #+ summary: Routes by which a substance reaches a destination
    #+ description: By which routes, through which countries and by which means ...?
    #+ answer: select            (select, ask, construct or describe)
    #+ tags: [flows]
    #+ params:
    #+   - name: substance       (binds ?substance in the query)
    #+     type: iri             (iri, string, integer, decimal, date or year)
    #+     default: https://w3id.org/opioid-kg/id/substance/fentanyl
    #+     enum: [...]           (optional list of allowed values)
    #+     many: false           (true: a list of values; `default: []` is none)
    #+     description: The substance that travels.

Parameter values are bound as RDF terms to the query's variables, never pasted
into its text as text: as a VALUES block opening the WHERE pattern, or in each
of the query's own empty `VALUES ?name { }` blocks where it has them. The loader
also checks that the declared answer kind is the query's form, that every
default and allowed value fits its type, and, for SELECT, that every parameter
is projected.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeGuard, TypeVar, cast

import pyoxigraph as ox
import yaml

from kg.errors import KgError
from kg.files import InputError, read_text, text_lines
from kg.literals import canonical_integer, lexical_error
from kg.namespaces import XSD
from kg.store.base import Bound, BoundTerm
from kg.store.sparql import NotAQuery, query_form, substitute, update_form, with_values

# A typed value ready to bind, as the loader checks it and the server's query workers receive it:
# ("iri" or "literal", lexical form, datatype, `@` and a language tag (`english`: "@en"), or None).
Binding = tuple[str, str, str | None]
# Typed values by variable name; a tuple of them binds a variable to each of several values.
# Tuples all the way, so that bindings are hashable (the server caches answers by them).
Bindings = dict[str, Binding | tuple[Binding, ...]]
PARAM_TYPES = {"iri", "string", "english", "integer", "decimal", "date", "year"}
ANSWER_KINDS = {"select", "ask", "construct", "describe"}
_HEADER_LINE = re.compile(r"^#\+ ?(.*)$")
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# libyaml's safe loader where PyYAML was built with it: the same YAML, read several times faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Loaded = TypeVar("Loaded", bound="NamedQuery")


class CatalogueError(KgError, ValueError):
    """A catalogue file with a bad header, or a parameter value that does not fit its type."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    description: str
    default: str | None = None
    enum: tuple[str, ...] = ()
    many: bool = False
    defaults: tuple[str, ...] | None = None  # a `many` parameter's default values (`[]`: none)

    @property
    def fallback(self) -> str | tuple[str, ...] | None:
        """The value used when none is given: the default, or a `many` parameter's defaults."""
        return self.defaults if self.many else self.default

    def bind(self, raw: str | Sequence[str]) -> Binding | tuple[Binding, ...]:
        """One typed value, or for a `many` parameter a list of them, each value once (a row given
        twice to a VALUES block repeats every answer row it joins)."""
        if self.many:
            values = [raw] if isinstance(raw, str) else list(raw)
            return tuple(dict.fromkeys(self.term(value) for value in values))
        if not isinstance(raw, str):
            raise CatalogueError(f"parameter {self.name} takes one value, not {len(raw)}")
        return self.term(raw)

    def term(self, raw: str) -> Binding:
        """`raw` checked against the type: (kind, lexical form, datatype) for binding.

        kind is "iri" or "literal"; the datatype is None for plain strings, and `@` and the language
        for a text in a language (`english`: "@en").
        """
        if self.enum and raw not in self.enum:
            allowed = ", ".join(self.enum)
            raise CatalogueError(f"parameter {self.name}: {raw!r} is not one of: {allowed}")
        if self.type == "iri":
            # ASCII's spaces only: an IRI may hold Unicode's others (RFC 3987), as the store's parser
            # checks below
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:\S+", raw, re.ASCII):
                raise CatalogueError(f"parameter {self.name}: {raw!r} is not an absolute IRI")
            try:
                ox.NamedNode(raw)
            except ValueError as error:
                raise CatalogueError(f"parameter {self.name}: {raw!r} is not a valid IRI ({error})") from None
            return "iri", raw, None
        if self.type == "string":
            return "literal", raw, None
        if self.type == "english":
            return "literal", raw, "@en"
        if self.type == "year":  # what the catalogue's questions compare with: four digits alone
            if not re.fullmatch(r"[0-9]{4}", raw):
                raise CatalogueError(f"parameter {self.name}: {raw!r} is not a year (YYYY)")
            return "literal", raw, XSD + "gYear"
        datatype, spelt = _TYPED[self.type]
        # XML Schema's lexical forms, as the build checks its literals: Python's readers take more
        # ("1e5" and "NaN" as decimals, "20170101" as a date, other scripts' digits), which bound as
        # given would be ill-typed literals no comparison matches
        if lexical_error(raw, XSD + datatype):
            raise CatalogueError(f"parameter {self.name}: {raw!r} is not {spelt}")
        return "literal", canonical_integer(raw) if datatype == "integer" else raw, XSD + datatype


# The typed parameters checked by XML Schema's lexical forms: their datatype, and what a value must be.
_TYPED = {
    "integer": ("integer", "an integer"),
    "decimal": ("decimal", "a decimal"),
    "date": ("date", "a date (YYYY-MM-DD)"),
}


@dataclass(frozen=True)
class NamedQuery:
    """One question of the catalogue."""

    name: str
    path: Path
    summary: str
    description: str
    answer: str
    text: str
    parameters: tuple[Parameter, ...] = ()
    tags: tuple[str, ...] = field(default_factory=tuple)

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        known = ", ".join(p.name for p in self.parameters) or "none"
        raise CatalogueError(f"query {self.name} has no parameter {name!r} (parameters: {known})")

    def bindings(self, given: Mapping[str, str | Sequence[str]]) -> Bindings:
        """Typed values for every parameter: the given ones, else the defaults."""
        for name in given:
            self.parameter(name)
        values: Bindings = {}
        for parameter in self.parameters:
            raw = given.get(parameter.name, parameter.fallback)
            if raw is None:
                raise CatalogueError(f"query {self.name} needs a value for parameter {parameter.name}")
            values[parameter.name] = parameter.bind(raw)
        return values

    def standalone(
        self, given: Mapping[str, str | Sequence[str]] | None = None, written: Mapping[str, str] | None = None
    ) -> str:
        """The query with its typed values joined in as a VALUES block: one text, for an engine that
        takes text only (the build's scratch store, the server's worker pool). `written` replaces
        placeholders where SPARQL takes no variable (SHACL's `$PATH`), as `substitute` does."""
        return with_values(self.text, binding_terms(self.bindings(given or {})), written)


@dataclass(frozen=True)
class NamedUpdate(NamedQuery):
    """One SPARQL Update operation a package ships, its parameters typed like a query's.

    SPARQL Update takes no variable where the operations write a graph's name (`DROP GRAPH`,
    `INSERT DATA`) nor in the data it adds or removes, so each `$name` is written in place as
    its checked term, and `$data` as the N-Triples lines the store's serializer wrote.
    """

    def operation(self, given: Mapping[str, str], data: Sequence[str] = ()) -> str:
        """The operation with the `given` values, and `data` (N-Triples lines) where `$data` is."""
        text = _body(self.text)
        for name, term in binding_terms(self.bindings(given)).items():
            text = substitute(text, name, str(term))
        return substitute(text, "data", "\n".join(data))


def _body(text: str) -> str:
    """A file's text after its first lines of comments (its header), the rest as written: a long
    literal's lines are not the file's (`substitute` reads tokens, so comments below are harmless)."""
    lines = text.split("\n")
    start = next((number for number, line in enumerate(lines) if not line.startswith("#")), len(lines))
    return "\n".join(lines[start:]).rstrip("\n")


def parse_header(path: Path, text: str) -> dict:
    """The YAML mapping in the `#+` lines at the top of a query file."""
    lines: list[str] = []
    indents: list[int] = []  # the width of each line's `#+ `, for the columns of YAML's errors
    for line in text_lines(text):
        match = _HEADER_LINE.match(line)
        if not match:
            break
        lines.append(match.group(1))
        indents.append(match.start(1))
    if not lines:
        raise CatalogueError(f"{path}:1: no '#+' header; a catalogue query starts with '#+ summary: ...'")
    try:
        header = yaml.load("\n".join(lines), Loader=_YAML_LOADER)
    except yaml.YAMLError as error:
        raise _yaml_error(path, error, indents) from None
    if not isinstance(header, dict):
        raise CatalogueError(f"{path}:1: header must be a YAML mapping")
    return header


def load_query(path: Path) -> NamedQuery:
    """Read and check one catalogue file."""
    return _load(path, ANSWER_KINDS, query_form, NamedQuery)


def load_update(path: Path) -> NamedUpdate:
    """Read and check one update file (`#+ answer: update`)."""
    return _load(path, {"update"}, update_form, NamedUpdate)


def _yaml_error(path: Path, error: yaml.YAMLError, indents: list[int]) -> CatalogueError:
    """One line naming the file, line and column where the header's YAML went wrong (PyYAML's own
    message spans several lines and names its own string, not the file)."""
    mark = getattr(error, "problem_mark", None)
    problem = " ".join(str(getattr(error, "problem", None) or error).split())
    if mark is None:
        return CatalogueError(f"{path}: header is not valid YAML: {problem}")
    line = min(mark.line, len(indents) - 1)
    where = f"{path}:{line + 1}:{mark.column + 1 + indents[line]}"
    return CatalogueError(f"{where}: header is not valid YAML: {problem}", line=line + 1)


def named_query(folder: Path, name: str) -> NamedQuery | None:
    """The catalogue question `name` (the file `folder/NAME.rq`) alone, or None when there is none, so
    that a bad file elsewhere in the catalogue does not stop the question asked."""
    path = folder / f"{name}.rq"
    if not _NAME.match(name) or not (path.exists() or path.is_symlink()):
        return None
    return load_query(path)


def _load(path: Path, kinds: set[str], form_of: Callable[[str], str], kind: type[Loaded]) -> Loaded:
    try:
        text = read_text(path, "SPARQL file")
    except InputError as error:
        raise CatalogueError(error.message, line=error.line, column=error.column) from None
    header = parse_header(path, text)
    for key in ("summary", "description", "answer"):
        if not isinstance(header.get(key), str) or not header[key].strip():
            raise CatalogueError(f"{path}: header needs a non-empty '{key}'")
    unknown = set(header) - {"summary", "description", "answer", "params", "tags"}
    if unknown:
        raise CatalogueError(f"{path}: unknown header keys: {', '.join(sorted(unknown))}")
    if header["answer"] not in kinds:
        raise CatalogueError(f"{path}: answer must be one of {', '.join(sorted(kinds))}")
    name = path.stem
    if not _NAME.match(name):
        raise CatalogueError(f"{path}: file names are lower-case words joined by '-'")
    try:
        form = form_of(text)
    except NotAQuery as error:
        raise CatalogueError(f"{path}: {error}") from None
    if form != header["answer"]:
        raise CatalogueError(f"{path}: header says the answer is {header['answer']}, but the query is {form}")
    raw_parameters = header.get("params") or []
    if not isinstance(raw_parameters, list):
        raise CatalogueError(f"{path}: params must be a list of mappings")
    parameters = tuple(_parameter(path, raw) for raw in raw_parameters)
    names = [parameter.name for parameter in parameters]
    if len(set(names)) != len(names):
        raise CatalogueError(f"{path}: a parameter is declared twice")
    body = "\n".join(line for line in text_lines(text) if not line.lstrip().startswith("#"))
    for parameter in parameters:
        if not re.search(rf"[?$]{parameter.name}\b", body):
            raise CatalogueError(f"{path}: parameter {parameter.name} is not a variable of the query")
    if header["answer"] == "select":
        _check_projected(path, text, parameters)
    tags = header.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise CatalogueError(f"{path}: tags must be a list of words")
    return kind(
        name=name,
        path=path,
        summary=header["summary"].strip(),
        description=header["description"].strip(),
        answer=header["answer"],
        text=text,
        parameters=parameters,
        tags=tuple(tags),
    )


def _parameter(path: Path, raw: object) -> Parameter:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{path}: each entry of params is a mapping with name, type, description")
    name, kind = raw.get("name"), raw.get("type")
    if not isinstance(name, str) or not _VARIABLE.match(name):
        raise CatalogueError(f"{path}: parameter name {name!r} is not a SPARQL variable name")
    if kind not in PARAM_TYPES:
        raise CatalogueError(
            f"{path}: parameter {name} has type {kind!r}; use one of {', '.join(sorted(PARAM_TYPES))}"
        )
    if not isinstance(raw.get("description"), str):
        raise CatalogueError(f"{path}: parameter {name} needs a description")
    unknown = set(raw) - {"name", "type", "default", "enum", "many", "description"}
    if unknown:
        raise CatalogueError(f"{path}: parameter {name} has unknown keys: {', '.join(sorted(unknown))}")
    many = raw.get("many", False)
    if not isinstance(many, bool):
        raise CatalogueError(f"{path}: parameter {name}: many is true or false")
    default = raw.get("default")
    defaults: tuple[str, ...] | None = None
    if many:
        if default is not None:
            defaults = tuple(str(value) for value in (default if isinstance(default, list) else [default]))
        default = None
    elif default is not None:
        default = str(default)
    enum_values = raw.get("enum") or []
    if not isinstance(enum_values, list):
        raise CatalogueError(f"{path}: parameter {name}: enum must be a list of values")
    enum = tuple(str(value) for value in enum_values)
    parameter = Parameter(name, kind, raw["description"], default, enum, many, defaults)
    for value in enum:
        try:
            Parameter(name, kind, parameter.description).term(value)
        except CatalogueError as error:
            raise CatalogueError(f"{path}: allowed value does not fit: {error}") from None
    if parameter.fallback is not None:
        try:
            parameter.bind(parameter.fallback)
        except CatalogueError as error:
            raise CatalogueError(f"{path}: default does not fit: {error}") from None
    return parameter


def _check_projected(path: Path, text: str, parameters: tuple[Parameter, ...]) -> None:
    """Parameters are bound by substitution, which needs each one in the SELECT clause."""
    body = "\n".join(line for line in text_lines(text) if not line.lstrip().startswith("#"))
    match = re.search(r"\bSELECT\b(.*?)(\bWHERE\b|\{)", body, re.IGNORECASE | re.DOTALL)
    projection = match.group(1) if match else ""
    if "*" in projection:
        return
    for parameter in parameters:
        if not parameter.many and not re.search(rf"\?{parameter.name}\b", projection):
            raise CatalogueError(f"{path}: parameter ?{parameter.name} must appear in the SELECT clause")


def load_catalogue(folder: Path) -> dict[str, NamedQuery]:
    """Every query in `folder`, by name."""
    return {query.name: query for query in map(load_query, sorted(folder.glob("*.rq")))}


@functools.cache
def packaged_queries(folder: Path) -> dict[str, NamedQuery]:
    """The queries a package ships in `folder`, by name: loaded once, as they never change."""
    return load_catalogue(folder)


@functools.cache
def packaged_updates(folder: Path) -> dict[str, NamedUpdate]:
    """The update operations (`.ru` files) a package ships in `folder`, by name, loaded once."""
    return {update.name: update for update in map(load_update, sorted(folder.glob("*.ru")))}


def binding_terms(bindings: Bindings) -> dict[str, Bound]:
    """Oxigraph terms for typed parameter values from the catalogue; a list becomes a tuple of terms."""
    return {
        name: tuple(_term(item) for item in value) if is_several(value) else _term(cast(Binding, value))
        for name, value in bindings.items()
    }


def is_several(value: Binding | tuple[Binding, ...]) -> TypeGuard[tuple[Binding, ...]]:
    """Whether `value` is several bindings rather than one (whose parts are strings)."""
    return not value or isinstance(value[0], tuple)


def _term(binding: Binding) -> BoundTerm:
    kind, lexical, datatype = binding
    if kind == "iri":
        return ox.NamedNode(lexical)
    if datatype is None:
        return ox.Literal(lexical)
    if datatype.startswith("@"):
        return ox.Literal(lexical, language=datatype[1:])
    return ox.Literal(lexical, datatype=ox.NamedNode(datatype))
