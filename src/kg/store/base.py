"""The one store interface every consumer reads through, and the values it speaks in.

`kg build` fills it; the CLI, the server and the network code open it read-only
and ask SPARQL of it, so a remote SPARQL endpoint can stand behind the same
interface.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import pyoxigraph as ox

from kg.errors import EXIT_FAILED, KgError

DEFAULT_STORE = Path(".kg/store")
T = TypeVar("T")
ENDPOINT_TIMEOUT = 60.0  # seconds a SPARQL endpoint's whole answer may take, unless told otherwise


BoundTerm = ox.NamedNode | ox.Literal
# A variable is bound to one term, or to several (a VALUES block, one row each).
Bound = BoundTerm | tuple[BoundTerm, ...]
# A term of a solution: what a variable of a SELECT's answer is bound to.
SolutionTerm = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


class SortedRow:
    """One solution of a SortedSolutions whose keys were projected only to sort on: its terms, read
    by position, by name or by variable, as a QuerySolution's are."""

    __slots__ = ("_names", "_terms")

    def __init__(self, names: list[str], terms: tuple[SolutionTerm | None, ...]) -> None:
        self._names = names  # the answer's variables, one list for all its rows
        self._terms = terms

    def __iter__(self) -> Iterator[SolutionTerm | None]:
        return iter(self._terms)

    def __len__(self) -> int:
        return len(self._terms)

    def __getitem__(self, key: int | str | ox.Variable) -> SolutionTerm | None:
        if isinstance(key, int):
            return self._terms[key]
        return self._terms[self._names.index(key.value if isinstance(key, ox.Variable) else key)]


class SortedSolutions:
    """A SELECT's answer the embedded store sorted itself (`kg.store.ordering`): its variables and its
    solutions, read as Oxigraph's are."""

    def __init__(
        self, variables: list[ox.Variable], solutions: list[ox.QuerySolution] | list[SortedRow]
    ) -> None:
        self.variables = variables
        self._solutions = solutions

    def __iter__(self) -> Iterator[ox.QuerySolution | SortedRow]:
        return iter(self._solutions)


class StreamedSolutions:
    """A SELECT's answer read as it is iterated: the embedded store's, or a remote store's as it is
    sent, whose `readable` turns what reading it raises into the store's failure (an answer broken off,
    or that cannot be read).

    Oxigraph's answer may be dropped only in the thread that made it: dropped in another (by a garbage
    collection there, of an exception's frames that held it) it is refused, and leaks with whatever it
    holds open. So it is held by the iteration alone, and dropped as soon as the reading ends, however
    it ends, in the reading thread: a reader's frames kept with an error it raised hold none of it.
    """

    def __init__(
        self,
        solutions: ox.QuerySolutions,
        readable: Callable[[], AbstractContextManager[None]] = nullcontext,
        capped: int | None = None,
    ) -> None:
        """`capped`: the rows the store cut its answer at, where it said so (Virtuoso's ResultSetMaxRows)."""
        self.variables = solutions.variables
        self._solutions: ox.QuerySolutions | None = solutions
        self._readable = readable
        self.capped = capped

    def __iter__(self) -> Iterator[ox.QuerySolution]:
        """The solutions, once."""
        solutions, self._solutions = self._solutions, None
        return _read_once(solutions, self._readable)


class StreamedTriples:
    """A CONSTRUCT's or DESCRIBE's answer read as it is iterated: the embedded store's, or a remote
    store's triples parsed as they are sent (a reader that stops at a row cap never reads, nor holds,
    the rest). Oxigraph's answer is dropped as `StreamedSolutions` drops it."""

    def __init__(
        self,
        triples: ox.QueryTriples | Iterator[ox.Triple],
        readable: Callable[[], AbstractContextManager[None]] = nullcontext,
        capped: int | None = None,
    ) -> None:
        """`capped`: as `StreamedSolutions`'s, in triples."""
        self._triples: ox.QueryTriples | Iterator[ox.Triple] | None = triples
        self._readable = readable
        self.capped = capped

    def __iter__(self) -> Iterator[ox.Triple]:
        triples, self._triples = self._triples, None
        return _read_once(triples, self._readable)


def _read_once(
    items: Iterable[T] | None, readable: Callable[[], AbstractContextManager[None]]
) -> Iterator[T]:
    """`items` read within `readable`, held by this iteration alone and dropped once it ends, however it
    ends, in the reading thread; nothing when they were read already (None)."""
    if items is None:
        return
    try:
        with readable():
            yield from items
    finally:
        del items


def selected(answer: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> StreamedSolutions:
    """A SELECT's answer, Oxigraph's, as a stream (`StreamedSolutions`): what the build's checks read."""
    assert isinstance(answer, ox.QuerySolutions), "a SELECT"
    return StreamedSolutions(answer)


def constructed(answer: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> StreamedTriples:
    """A CONSTRUCT's answer, Oxigraph's, as a stream (`StreamedTriples`)."""
    assert isinstance(answer, ox.QueryTriples), "a CONSTRUCT"
    return StreamedTriples(answer)


def streamed(
    answer: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples,
    readable: Callable[[], AbstractContextManager[None]] = nullcontext,
) -> StoreAnswer:
    """Oxigraph's answer as a store hands it out: a stream that drops Oxigraph's object in the thread
    that reads it (`StreamedSolutions`), read within `readable`; an ASK's answer is a plain value,
    dropped anywhere."""
    if isinstance(answer, ox.QuerySolutions):
        return StreamedSolutions(answer, readable)
    if isinstance(answer, ox.QueryTriples):
        return StreamedTriples(answer, readable)
    return answer


# A SELECT's answer is a store's stream of solutions or the embedded store's sorted list of them.
Solutions = SortedSolutions | StreamedSolutions
# A graph answer is a store's stream of triples, or the triples the server's workers sent.
StoreAnswer = Solutions | ox.QueryBoolean | StreamedTriples | list[ox.Triple]


@dataclass(frozen=True)
class Dataset:
    """The graphs a query reads, as the SPARQL protocol names them (default-graph-uri, named-graph-uri):
    given with a query, they replace whatever dataset its text names, as the store would read it."""

    default: tuple[str, ...]
    named: tuple[str, ...]


class Store(Protocol):
    """What every reader needs of a store, embedded or remote."""

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Bound] | None = None,
        *,
        union_default_graph: bool = True,
        dataset: Dataset | None = None,
    ) -> StoreAnswer:
        """Run a read-only SPARQL query, `bindings` bound as terms, never pasted in as text; on
        `dataset`'s graphs, when given."""
        ...


class StoreFailed(KgError):
    """A store behind the server failed a query. The message, for its operator, names the store (its
    password hidden) and what it answered; a client of the server is told `public` alone, with
    `status`: never another server's reply, its address, or whether a port is open."""

    exit_code = EXIT_FAILED
    status = 502

    def __init__(self, message: str, public: str, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.public = public


def shown_url(text: str, *urls: str) -> str:
    """`text` with what stands before the host of every URL in it hidden (`user:***@host`, `***@host`
    for a token), and the values of query parameters named like secrets (`?api_key=***`): a message
    or a log line shows where a store is, never its credentials. The `urls` the text is known to hold
    are read exactly (spaces and `@` in a password included), with a scheme or without one; any other
    URL (a scheme and a slash or more), or word shaped like `user:password@host`, as far as the first
    white space."""
    for url in urls:  # the URLs the message is known to hold, user information read exactly
        text = text.replace(url, _hidden(url))
    text = _AUTHORITY.sub(lambda found: _hidden(found.group()), text)
    text = _BARE_USER.sub(r"\1:***@", text)
    return _secret_values_hidden(text)


def _hidden(url: str) -> str:
    """`url` with the user information of its authority and the values of its secret-looking query
    parameters hidden; a scheme, and the slashes after it, are optional."""
    start = _SCHEME.match(url)
    begin = start.end() if start else 0
    end = min((i for i in (url.find(c, begin) for c in "/?#") if i >= 0), default=len(url))
    authority = url[begin:end]
    if "@" in authority:
        userinfo, host = authority.rsplit("@", 1)
        user = userinfo.split(":", 1)[0] + ":" if ":" in userinfo else ""
        url = url[:begin] + f"{user}***@{host}" + url[end:]
    return _secret_values_hidden(url)


# A scheme, with the slashes after it if any (a path written for a URL may have lost one of two).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/*")
# A URL's scheme and authority, as far as a message shows it: no white space (a password holding some
# is hidden where the message's URLs are given to `shown_url`).
_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/+[^/?#\s]*")
# A word shaped like `user:password@host` without a scheme, the password not starting with a slash
# (that is a URL's, hidden above).
_BARE_USER = re.compile(r"(?:^|(?<=[\s'\"(<\[=]))([\w.~%!$&*+,;-]+):[^\s@/][^\s@]*@(?=[\w\[])")
# A parameter of a URL's query or fragment, up to its `=`, and its value.
_PARAMETER = re.compile(r"([?&;#][^=&#\s]*=)([^&#\s]*)")
# What names a parameter as a secret, its name read with its escapes decoded (`%74oken` is `token`).
_SECRET_NAME = re.compile(
    r"key|token|secret|pass|pw|auth|sig|credential|session|jwt|bearer|cookie", re.IGNORECASE
)


def _secret_values_hidden(text: str) -> str:
    """`text` with the value of every query or fragment parameter named like a secret hidden."""

    def hidden(found: re.Match[str]) -> str:
        secret = _SECRET_NAME.search(urllib.parse.unquote(found.group(1)))
        return found.group(1) + "***" if secret else found.group()

    return _PARAMETER.sub(hidden, text)


class StoreMissing(KgError, FileNotFoundError):
    """No built store where one was expected."""

    status = 503
    retry_after = 1  # a build may be about to publish one


class StoreUnreadable(KgError):
    """A built store that cannot be opened: a file of it deleted or damaged outside the tool."""

    status = 500

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"the store at {path} cannot be read: {reason}")
        self.reason = reason


def value_rows(solutions: Solutions) -> Iterator[dict[str, str]]:
    """A SELECT answer's rows as the lexical value of each bound variable. A solution iterates its
    terms in the order of the variables: reading them so costs a third of looking each up by name,
    which for a large answer cost more than the query."""
    names = [variable.value for variable in solutions.variables]
    for solution in solutions:
        yield {name: term.value for name, term in zip(names, solution, strict=True) if term is not None}


def term_order(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> tuple[int, str, str]:
    """Where a term sorts: by its kind in SPARQL's ORDER BY (unbound, blank nodes, IRIs, literals,
    then quoted triples), then its text (a literal's datatype or language last). Two stores answer
    in orders of their own; rows sorted by this come out alike from both."""
    if term is None:
        return (0, "", "")
    if isinstance(term, ox.Literal):
        return (3, term.value, str(term))
    if isinstance(term, ox.Triple):
        return (4, str(term), "")
    return (1 if isinstance(term, ox.BlankNode) else 2, term.value, "")


def graph_name(iri: str) -> str:
    """The short name of one of the dataset's named graphs (`…/graph/data` -> `data`)."""
    return iri.rsplit("/", 1)[-1]
