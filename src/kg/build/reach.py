"""Which focus nodes a change can reach, for each compiled shape query: what a rebuild re-validates.

A published generation conforms, so no shape query found a row in it. After a
change, a query can find a row for a focus node F only if its evaluation at F
reads a triple that was added or removed, matched by some pattern P. Every
solution at F that matches P also matches the patterns of P's own group and
of the groups enclosing it (not those of an OPTIONAL, UNION, MINUS or EXISTS
group beside them), and one branch of each UNION beside them. Those patterns
form a graph over the query's terms, rooted at `?this`; where one end of P is
joined to `?this` over them without P, the solution joins the changed
triple's node at that end to F over triples those patterns match: triples of
the new store, or removed ones. So a walk from that node finds F: it crosses
only those patterns, each the way the query writes it (a subject to its
object, or back), in no more steps than the solution's (`Walk`).

The walk starts at P's subject where it can: in this data the subject is the
particular thing (a fact, a leg, an excerpt) and the object what many share
(a country, an agency, a text), and a walk from a shared node reaches every
fact about it. A query with a pattern joined to `?this` through nothing but
itself or a class runs whole. A repeated path (`p*`, `p+`, `p?`) matches
chains of any length, so walks follow its predicates without counting the
steps. A predicate left open (a variable no block of values binds, such as an
observation's measure, or a negated set) may be any predicate: every changed
triple may match its pattern, and a walk through it follows every triple.
Walks do not pass through `rdf:type` triples (a class joins all its
instances), but where an open predicate may be `rdf:type`. A solution may take
any branch of an alternative path, as of a UNION, so one whose branches are
not all single steps that a walk follows runs whole, and a pattern's own
alternatives do not join its ends.

A `SELECT DISTINCT` of the query's own that holds only joined patterns (a
`Table`) may join many focus nodes through values they share (a measure, an
area), past the walks' limit: where its routes give up, its answer is compared
between the previous store and the new one, and where it is the same, the
change reaches no focus node through its patterns.

Reading a query's patterns takes rdflib's SPARQL parser, which is slow, so
texts that differ in the IRIs they name alone share one reading
(`kg.build.query_template`), and the analyses are kept on disk between
builds (`kg.build.analyses`).
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.namespace import RDF, RDFS, SH
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath

from kg.build.queries import build_queries
from kg.build.query_template import template
from kg.build.shape_queries import (
    ShapeQuery,
    ValidationPlan,
    focus_classes,
    focus_opening,
    plan_texts,
    values_opening,
    with_texts,
)
from kg.store.base import selected
from kg.store.sparql import (
    groups_opened_by,
    hangs_on_plan,
    keyword,
    limited,
    sub_select_query,
    tokens,
    where_opening,
    with_values,
)

TYPE = str(RDF.type)
SUBCLASS = str(RDFS.subClassOf)  # compiled into the queries' class lists, not read by their patterns
FOCUS = focus_opening()
VALUES_OPENING = values_opening()
ReachedNode = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
WALK_LIMIT = 20_000  # beyond this many nodes reached (each as a term) a query is cheaper run whole
_ROWS_ASKED = 1_000  # beyond this many rows of a Table that may differ, they are not asked one by one
ANY = "*"  # the predicates of an open pattern: any at all (no IRI is spelled so)


@dataclass(frozen=True)
class Step:
    """A triple pattern of a query between two terms (variables named by their scope, constants as
    written), with the predicates it may match (ANY for every one)."""

    subject: str
    predicates: tuple[str, ...]
    object: str
    repeated: bool = False  # a repeated path: it matches a chain of triples of any length

    @property
    def typed(self) -> bool:
        """Whether it may match rdf:type: its object may be a class, which a walk does not leave."""
        return TYPE in self.predicates


Distances = tuple[tuple[str, int], ...]  # (term, steps from ?this), sorted


@dataclass(frozen=True)
class Walk:
    """How a walk goes from a triple that `pattern` matches back to the focus node: from the node at
    the pattern's end `start`, crossing `crossed`, in at most `steps` steps.

    `crossed` holds the patterns every solution matching `pattern` also matches (those of its group
    and of the groups enclosing it) and the branches of the UNIONs beside them (a solution matches
    one), but rdf:type, the pattern itself and the other branches of its alternative path. Every
    solution joins `start` to `?this` over them in `steps` or fewer. `lower` gives each term's least
    distance from `?this` over `crossed`: a walk that can no longer reach `?this` in the steps it has
    left is cut there."""

    pattern: Step
    start: str
    steps: int
    crossed: tuple[Step, ...]
    lower: Distances
    within: int = -1  # the Table (its scope) whose pattern `pattern` is, or -1


@dataclass(frozen=True)
class Table:
    """A `SELECT DISTINCT` of the query's own whose group holds nothing but triple patterns, filters
    and values: no BIND, OPTIONAL, UNION, MINUS, EXISTS, GRAPH, aggregate, LIMIT or sub-SELECT. Its
    answer is a set of rows that only triples matching its patterns make, so where it is the same in
    the previous store and in the new one, the change reaches no focus node through its patterns
    (`Neighbours.focus`). `projected` names its variables, and finds its text (`sub_select_query`)."""

    scope: int
    projected: tuple[str, ...]
    # Compared before its routes are walked: it holds no block of values of its own, and does not
    # project ?this. Oxigraph plans a group with two blocks of values from the patterns (the
    # instances of a class took 0.16 s where the nodes the comparison binds took 2 ms), so such a
    # table is compared only where its walks give up. One that projects ?this leads a walk to the
    # focus node within it: it is compared where its walks reach a node that no changed triple
    # states anything of (a structure shared by a new source's data sets), and not where they
    # reach the nodes the change states (a new source's own, whose rows are new).
    first: bool = True


@dataclass(frozen=True)
class Reach:
    """A query's routes, one per pattern, or None when the query must run whole; and its Tables."""

    routes: tuple[Walk, ...] | None
    tables: tuple[Table, ...] = ()


WHOLE = Reach(None)


class _Open(Exception):
    """The query reads what its patterns cannot bound: an unparsed sub-SELECT, an open predicate
    repeated, a term that is not a node."""


def analyse(text: str) -> Reach:
    """The reach of one query text (see the module's docstring): that of its template (see
    `kg.build.query_template`), read once for every text of the same template, with the template's
    numbered IRIs named again."""
    if any(keyword(token) == "BASE" for token in tokens(text)):
        return WHOLE  # rdflib resolves a relative IRI against some bases otherwise than Oxigraph
    shared = template(text)
    if shared is None:
        return _analysed(text)
    try:
        found = _analysed(shared.text)
    except Exception:  # rdflib read the template otherwise: the text's own reading says what and where
        return _analysed(text)
    return found if found.routes is None else renamed(found, shared.named)


def renamed(reach: Reach, named: Callable[[str], str]) -> Reach:
    """`reach` with each IRI it holds, as a predicate or as a term, named by `named`."""

    def term(written: str) -> str:
        return f"<{named(written[1:-1])}>" if written.startswith("<") and written.endswith(">") else written

    def step(found: Step) -> Step:
        predicates = tuple(sorted(named(p) for p in found.predicates))
        return Step(term(found.subject), predicates, term(found.object), found.repeated)

    def walks(routes: Iterable[Walk]) -> tuple[Walk, ...]:
        return tuple(
            sorted(
                (
                    Walk(
                        step(r.pattern),
                        term(r.start),
                        r.steps,
                        tuple(sorted(map(step, r.crossed), key=repr)),
                        tuple(sorted((term(name), steps) for name, steps in r.lower)),
                        r.within,
                    )
                    for r in routes
                ),
                key=repr,
            )
        )

    return Reach(walks(reach.routes or ()), reach.tables)


@functools.lru_cache(maxsize=512)
def _analysed(text: str) -> Reach:
    """The reach of one query text, read by rdflib's SPARQL parser. The parser is imported here, not
    with the module: a steady rebuild finds every analysis kept, and its import takes a tenth of a
    second of the build's start."""
    from rdflib.plugins.sparql import prepareQuery

    try:
        found = _Found()
        _collect(prepareQuery(text).algebra, _Scope(None, [], count()), found, top=True)
    except _Open:
        return WHOLE
    tables = tuple(_tables(found, text))
    reach = _reach(found.triples, found.unions, {table.scope for table in tables})
    return reach if reach.routes is None else Reach(reach.routes, tables)


def _tables(found: _Found, text: str) -> Iterator[Table]:
    """The query's Tables: each plain DISTINCT sub-SELECT with patterns, whose text is found (the one
    sub-SELECT of its projection, in the algebra and in the text)."""
    for scope, (projected, valued) in found.plain.items():
        names = [str(variable) for variable in projected]
        if not any(triple[6] == scope for triple in found.triples):
            continue
        if found.projections.count(tuple(names)) > 1:  # which one the text found would not be known
            continue
        if sub_select_query(text, names) is not None:
            yield Table(scope, tuple(names), first=not valued and "this" not in names)


class _Scope:
    """Variable names of one sub-SELECT: those it projects are its parent's, the others its own."""

    def __init__(self, parent: _Scope | None, projected: Iterable[Variable], ids: count[int]) -> None:
        """`ids` numbers the scopes of one query, so that a query read twice names its terms alike."""
        self.parent, self.projected, self.ids = parent, set(projected), ids
        self.id = next(ids)

    def name(self, variable: Variable) -> str:
        if self.parent is None:
            return f"?{variable}"
        return self.parent.name(variable) if variable in self.projected else f"?{variable}@{self.id}"


_Triple = tuple[
    str, tuple[str, ...], str, bool, tuple[int, ...], int, int
]  # subject, predicates, object, repeated, group, alternative (the path it is a branch of, or -1),
#    and the sub-SELECT (scope) it stands in directly, or -1 for the query's own
# The parts of an algebra node that a solution matching the node's other parts need not match.
_APART = {
    ("LeftJoin", "p2"), ("LeftJoin", "expr"), ("Union", "p1"), ("Union", "p2"), ("Minus", "p2"),
    ("Builtin_EXISTS", "graph"), ("Builtin_NOTEXISTS", "graph"),
}  # fmt: skip


@dataclass
class _Found:
    """What a walk over a query's algebra found: its triple patterns, and the terms a block of values
    written before them binds a variable to (a validator's parameters, such as the predicates of
    sh:targetSubjectsOf, are variables so bound)."""

    triples: list[_Triple] = field(default_factory=list)
    bound: dict[tuple[str, tuple[int, ...]], set[Any]] = field(default_factory=dict)  # (variable, group)
    fresh: count[int] = field(default_factory=count)
    groups: dict[tuple[int, bool], int] = field(default_factory=dict)  # (algebra node, second part): group
    unions: list[tuple[tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)  # group, branches
    distinct: set[int] = field(default_factory=set)  # the algebra nodes (ids) of DISTINCT projections
    # a Table's scope: its projection, and whether its group holds a block of values
    plain: dict[int, tuple[list[Variable], bool]] = field(default_factory=dict)
    projections: list[tuple[str, ...]] = field(default_factory=list)  # of every sub-SELECT


def _collect(
    node: Any, scope: _Scope, found: _Found, *, top: bool = False, group: tuple[int, ...] = ()
) -> None:
    """Every triple pattern under `node`, its variables named by their scope, with the `group` it lies
    in: the path of OPTIONAL, UNION, MINUS and EXISTS groups from the query's own."""
    from rdflib.plugins.sparql.parserutils import CompValue  # loaded by `analyse` already

    if isinstance(node, CompValue):
        if node.name == "SubSelect":
            raise _Open  # an unparsed sub-SELECT (inside EXISTS): its scope is not read here
        if node.name == "Slice":
            raise _Open  # a LIMIT or an OFFSET picks among every node's rows: a change may push one out
        if node.name == "Join" and any(_no_rows(side) for side in (node.p1, node.p2)):
            return  # joined with an empty block of values (a target the shape does not use): no rows
        if node.name == "ToMultiSet" and isinstance(node.p, CompValue) and node.p.name == "values":
            for row in node.p.res:
                for variable, term in row.items():
                    found.bound.setdefault((scope.name(variable), group), set()).add(term)
        if node.name == "Distinct" and isinstance(node.p, CompValue):
            found.distinct.add(id(node.p))
        if node.name == "Project" and not top:
            scope = _Scope(scope, node.get("PV") or [], scope.ids)
            found.projections.append(tuple(str(variable) for variable in node.get("PV") or []))
            if id(node) in found.distinct and node.get("PV") and _plain(node.p):
                found.plain[scope.id] = (list(node.PV), _valued(node.p))
        for key, value in node.items():
            if key == "triples":  # (s, p, o) in a BGP; s, p, o, s, p, o… in a block EXISTS holds
                for flat in value:
                    for at in range(0, len(flat), 3):
                        s, p, o = flat[at : at + 3]
                        _edges(_term(s, scope), p, _term(o, scope), scope, found, group)
            elif not key.startswith("_"):
                inner = group
                if (node.name, key) in _APART:  # an OPTIONAL's filter and pattern are one group
                    inner = (*group, found.groups.setdefault((id(node), key != "p1"), len(found.groups)))
                _collect(value, scope, found, top=top and node.name != "Project", group=inner)
        if node.name == "Union":
            branches = tuple(found.groups[(id(node), second)] for second in (False, True))
            found.unions.append((group, branches))
    elif isinstance(node, list | tuple):
        for item in node:
            _collect(item, scope, found, top=top, group=group)


def _plain(node: Any) -> bool:
    """Whether an algebra node is a Table's group: joins of triple patterns and values, filtered by
    expressions of the row alone (see `_beyond_the_row`). Not a BIND: it reads the variables bound
    before it in the group, so a block of values opening the group (as the comparison asks it)
    changes what it reads, and one binding what it makes is refused."""
    from rdflib.plugins.sparql.parserutils import CompValue  # loaded by `analyse` already

    if not isinstance(node, CompValue):
        return True
    if node.name == "Filter":  # a filter reads its group's rows, wherever it is written
        return _plain(node.p) and not _beyond_the_row(node.expr)
    if node.name in ("BGP", "Join", "ToMultiSet", "values"):
        return all(_plain(value) for key, value in node.items() if not key.startswith("_"))
    return False


def _parts(tree: Any) -> Iterator[Any]:
    """Every algebra node of `tree` (an algebra node, an expression, or a list of them), itself first."""
    from rdflib.plugins.sparql.parserutils import CompValue  # loaded by `analyse` already

    if isinstance(tree, CompValue):
        yield tree
        for key, value in tree.items():
            if not key.startswith("_"):
                yield from _parts(value)
    elif isinstance(tree, list | tuple):
        for item in tree:
            yield from _parts(item)


def _valued(node: Any) -> bool:
    """Whether a Table's group holds a block of values of its own."""
    return any(part.name == "values" for part in _parts(node))


# Functions whose value is not the row's: each evaluation may give another.
_UNSTEADY = {"Builtin_RAND", "Builtin_NOW", "Builtin_UUID", "Builtin_STRUUID", "Builtin_BNODE"}


def _beyond_the_row(expression: Any) -> bool:
    """Whether an expression holds an EXISTS or a NOT EXISTS, which read the store beside the row, or
    a function whose value is not the row's (RAND, NOW, UUID, STRUUID, BNODE)."""
    return any("EXISTS" in part.name or part.name in _UNSTEADY for part in _parts(expression))


def _no_rows(node: Any) -> bool:
    """An empty block of values, which no solution passes."""
    from rdflib.plugins.sparql.parserutils import CompValue  # loaded by `analyse` already

    return isinstance(node, CompValue) and node.name == "ToMultiSet" and node.p == []


def _term(term: Any, scope: _Scope) -> str:
    if isinstance(term, Variable):
        return scope.name(term)
    if isinstance(term, BNode):
        return f"?_{term}@{scope.id}"  # `[]` in a pattern is a variable
    if isinstance(term, URIRef | Literal):
        return term.n3()
    raise _Open


def _edges(
    s: str, path: Any, o: str, scope: _Scope, found: _Found, group: tuple[int, ...], alternative: int = -1
) -> None:
    """The triple patterns a (possibly complex) predicate stands for between `s` and `o`; those of the
    branches of one `alternative` path are numbered alike, as a solution matches one of them."""
    table = scope.id if scope.id in found.plain else -1
    if isinstance(path, URIRef):
        found.triples.append((s, (str(path),), o, False, group, alternative, table))
    elif isinstance(path, Variable) and (terms := _bound(found, scope.name(path), group)):
        predicates = tuple(sorted(_predicates(*terms)))
        found.triples.append((s, predicates, o, False, group, alternative, table))
    elif isinstance(path, InvPath):
        _edges(o, path.arg, s, scope, found, group, alternative)
    elif isinstance(path, SequencePath):
        ends = [s] + [f"?_step{next(found.fresh)}" for _ in path.args[1:]] + [o]
        for step, part in enumerate(path.args):
            _edges(ends[step], part, ends[step + 1], scope, found, group)
    elif isinstance(path, AlternativePath):
        # A solution may take any branch, as of a UNION: the branches are patterns of their own only
        # when each is one step that a walk follows (a longer branch, or rdf:type, would be counted
        # by a shorter one that the solution did not take).
        if not all(_one_step(part) for part in path.args):
            raise _Open
        branch = next(found.fresh)
        for part in path.args:
            _edges(s, part, o, scope, found, group, branch)
    elif isinstance(path, MulPath):
        found.triples.append((s, tuple(sorted(_predicates(path.path))), o, True, group, alternative, table))
    elif isinstance(path, Variable):  # open
        found.triples.append((s, (ANY,), o, False, group, alternative, table))
    elif isinstance(path, NegatedPath):  # open, either way round (for a negated inverse)
        either = next(found.fresh) if alternative < 0 else alternative
        found.triples.append((s, (ANY,), o, False, group, either, table))
        found.triples.append((o, (ANY,), s, False, group, either, table))
    else:
        raise _Open


def _bound(found: _Found, name: str, group: tuple[int, ...]) -> set[Any]:
    """The terms blocks of values bind the variable `name` to for a pattern in `group`: those of the
    blocks in that group itself, which every solution of the pattern joins; none when no block binds
    it so. Not a block in a UNION branch, an OPTIONAL or a MINUS beside it, nor one around an
    OPTIONAL, a MINUS or an EXISTS that holds the pattern: SPARQL evaluates such a group apart, with
    the variable unbound, so a triple of another predicate may extend or remove a row there."""
    return {
        term
        for (bound, where), terms in found.bound.items()
        if (bound, where) == (name, group)
        for term in terms
    }


def _one_step(path: Any) -> bool:
    """Whether `path` is one step of a walk: a predicate but rdf:type, its inverse, or a negated set."""
    if isinstance(path, InvPath):
        path = path.arg
    return (isinstance(path, URIRef) and str(path) != TYPE) or isinstance(path, NegatedPath)


def _predicates(*paths: Any) -> set[str]:
    """Every predicate the paths name."""
    found: set[str] = set()
    for path in paths:
        if isinstance(path, URIRef):
            found.add(str(path))
        elif isinstance(path, InvPath | MulPath):
            found |= _predicates(path.arg if isinstance(path, InvPath) else path.path)
        elif isinstance(path, SequencePath | AlternativePath):
            found |= _predicates(*path.args)
        else:
            raise _Open  # a variable, a negated set, or a literal where a predicate goes
    return found


def _reach(
    triples: list[_Triple],
    unions: list[tuple[tuple[int, ...], tuple[int, ...]]],
    within: Container[int],
) -> Reach:
    """Each pattern's route (see `Walk`), over the patterns of its group and of the groups enclosing
    it (not through rdf:type), and through a UNION beside them the longer of its branches'; None when
    a pattern is not joined to ?this but through itself or a class. A route from a pattern of a
    Table whose scope is in `within` says so."""
    routes = set()
    for group in {found[4] for found in triples}:
        seen = [found for found in triples if _within(group, found[4])]
        beside = [
            [[found for found in triples if found[4] == (*parent, b)] for b in branches]
            for parent, branches in unions
            if _within(group, parent) and not any(_within(group, (*parent, b)) for b in branches)
        ]
        branches = [found for taken in beside for branch in taken for found in branch]
        for found in seen:
            if found[4] != group:
                continue
            others = [
                other for other in seen if other is not found and (found[5] < 0 or other[5] != found[5])
            ]
            upper = _upper(others, beside)
            pattern = _step(found)
            start = _start(pattern, upper)
            if start is None:
                return WHOLE
            crossed = {_step(other) for other in others + branches if TYPE not in other[1]} - {pattern}
            lower = _distances(others + branches, {"?this": 0})
            routes.add(
                Walk(
                    pattern,
                    start,
                    upper[start],
                    tuple(sorted(crossed, key=repr)),
                    tuple(sorted(lower.items())),
                    found[6] if found[6] in within else -1,
                )
            )
    return Reach(tuple(sorted(routes, key=repr)))


def _upper(seen: list[_Triple], beside: list[list[list[_Triple]]]) -> dict[str, int]:
    """The distance from ?this within which every solution joins each term: over `seen`, and through
    each UNION `beside` them the longer of its branches'."""
    distance = _distances(seen, {"?this": 0})
    through = dict(distance)
    for taken in beside:
        each = [_distances(seen + branch, distance) for branch in taken]
        for name in set(each[0]) & set(each[1]):
            through[name] = min(through.get(name, 1 << 30), max(each[0][name], each[1][name]))
    return _distances(seen, through)


def _step(found: _Triple) -> Step:
    return Step(found[0], found[1], found[2], found[3])


def _start(step: Step, upper: Mapping[str, int]) -> str | None:
    """The end of `step` a walk starts from: its subject where the other patterns join that to ?this;
    in this data the subject is the more particular (a fact, a leg, an excerpt), the object what many
    share (a place, an agent, a text). Else its object, unless that may be a class; else None."""
    if step.subject in upper:
        return step.subject
    return step.object if step.object in upper and not step.typed else None


def _within(group: tuple[int, ...], enclosing: tuple[int, ...]) -> bool:
    """Whether `group` is `enclosing` or lies in it."""
    return group[: len(enclosing)] == enclosing


def _distances(triples: list[_Triple], start: dict[str, int]) -> dict[str, int]:
    """Distances over the patterns (not through rdf:type) from the terms `start` gives, at theirs."""
    links: dict[str, list[str]] = {}
    for s, predicates, o, *_ in triples:
        if TYPE not in predicates:  # a walk does not follow rdf:type
            links.setdefault(s, []).append(o)
            links.setdefault(o, []).append(s)
    distance = dict(start)
    queue = deque(sorted(distance, key=distance.__getitem__))
    while queue:
        node = queue.popleft()
        for other in links.get(node, []):
            if distance[node] + 1 < distance.get(other, 1 << 30):
                distance[other] = distance[node] + 1
                queue.append(other)
    return distance


class _TooFar(Exception):
    """A walk passed the limit or reached a blank node, which a query cannot name: the query runs whole."""


def _check(reached: int, nodes: Iterable[ReachedNode]) -> None:
    if reached > WALK_LIMIT or any(isinstance(node, ox.BlankNode) for node in nodes):
        raise _TooFar


StoreLink = tuple[str, ReachedNode, bool]  # a predicate, the node at its other end, and whether it leads out
State = tuple[ReachedNode, str]  # a node and the term of the query it stands for


class Neighbours:
    """Walks over the new store from the changed triples, each node's links asked once. A removed
    triple is a link too: a walk from the far end of a pattern crosses the changed triple itself."""

    def __init__(
        self,
        store: ox.Store,
        changed: Iterable[ox.Quad],
        previous: ox.Store | None = None,
        dropped: Iterable[ox.NamedNode] = (),
    ) -> None:
        """`previous`: the store the change was made to, where a Table's answer is asked as it was,
        over its graphs but those `dropped` (the rebuilt store holds them no longer); without it, no
        Table is compared."""
        self.store = store
        self.previous = previous
        self.dropped = set(dropped)
        self.changed = list(changed)
        self.by_predicate: dict[str, list[ox.Quad]] = {ANY: self.changed}  # an open pattern's: all
        self.stated = {quad.subject for quad in self.changed}  # the nodes the change states of
        self._changed_links: dict[ReachedNode, list[StoreLink]] = {}
        for quad in self.changed:
            self.by_predicate.setdefault(quad.predicate.value, []).append(quad)
            self._changed_links.setdefault(quad.subject, []).append((quad.predicate.value, quad.object, True))
            self._changed_links.setdefault(quad.object, []).append(
                (quad.predicate.value, quad.subject, False)
            )
        self._known: dict[ReachedNode, list[StoreLink]] = {}
        self._typed: dict[ReachedNode, list[StoreLink]] = {}  # over rdf:type, asked apart
        self._classes: dict[ReachedNode, frozenset[str]] = {}  # the classes `_typed` gives a node
        self.whole = SUBCLASS in self.by_predicate  # the compiled queries themselves change
        # What was walked, by routes, and where walks start, by pattern and end: a node shape's
        # constraints share routes, and a route's pattern is met in many queries.
        self._focus: dict[tuple[Walk, ...], frozenset[ReachedNode] | None] = {}
        self._starts: dict[tuple[Step, str], frozenset[ReachedNode]] = {}
        self._same: dict[tuple[Table, str], bool] = {}  # a Table of a text: its answer is as it was
        self.compared = 0  # tables compared between the stores, for the build's summary

    def focus(self, reach: Reach, text: str) -> frozenset[ReachedNode] | None:
        """The focus nodes of the query `text` (whose reach is `reach`) whose result the change may
        have changed; None when the query runs whole. Routes that cross the same patterns are walked
        together, a Table's apart: its answer is compared between the two stores (before they are
        walked, or where they give up or reach nodes the change left: see `Table.first`), and where
        it is the same, the change reaches no node through it. A table's rows join the rest on
        values that many focus nodes may share, such as a measure, an area or a structure."""
        if reach.routes is None or self.whole:
            return None
        found = self._walked(tuple(route for route in reach.routes if route.within < 0))
        for table in reach.tables:
            if found is None:
                return None
            if table.first and self._answers_alike(table, reach.routes, text):
                continue
            inside = self._walked(tuple(route for route in reach.routes if route.within == table.scope))
            if inside is None or (inside - self.stated and "this" in table.projected):
                if self._answers_alike(table, reach.routes, text):
                    continue
                if inside is None:
                    return None
            found |= inside
        return found

    @property
    def same(self) -> int:
        """How many of the tables compared had the same answer in both stores."""
        return sum(self._same.values())

    def _answers_alike(self, table: Table, routes: tuple[Walk, ...], text: str) -> bool:
        """Whether the Table's answer in the new store is the one it had in the previous store.

        A row it gains or loses has a solution that matches a changed triple with one of its
        patterns, so it is among the rows of the solutions that bind one end of such a pattern to
        the changed triple's node there (asked of both stores, the end a variable of its text: not a
        blank node nor a step within a sequence path). Those rows are asked of both stores."""
        if (table, text) in self._same:
            return self._same[(table, text)]
        self.compared += 1
        bound: dict[str, set[ReachedNode]] = {}
        alike: bool | None = None
        for route in routes:
            pattern = route.pattern
            quads = self._matching(pattern) if route.within == table.scope else []
            end = next((term for term in (pattern.subject, pattern.object) if _variable(term)), None)
            if quads and (end is None or pattern.repeated):  # the triple may lie along a chain
                alike = False
            elif quads and end is not None:
                nodes = (quad.subject if end == pattern.subject else quad.object for quad in quads)
                bound.setdefault(_variable(end), set()).update(nodes)
        if alike is None:
            try:
                alike = not bound or self._rows_alike(table, text, bound)
            except SyntaxError:  # a text of the comparison Oxigraph refuses: not taken for the same
                alike = False
        self._same[(table, text)] = alike
        return alike

    def _rows_alike(self, table: Table, text: str, bound: dict[str, set[ReachedNode]]) -> bool:
        """Whether the rows of the Table's answer whose solutions bind a variable of `bound` to one
        of its nodes are the same in both stores: those rows, asked of each store, are each found in
        both or in neither (a row asked alone, with LIMIT 1, ends at its first solution)."""
        asked = sub_select_query(text, table.projected)
        if asked is None or self.previous is None:
            return False
        graphs = [ox.DefaultGraph(), *(g for g in self.previous.named_graphs() if g not in self.dropped)]
        stores = (
            (self.store, {"use_default_graph_as_union": True}),
            (self.previous, {"default_graph": graphs}),
        )
        rows: set[tuple[str, ...]] = set()
        for name, nodes in sorted(bound.items()):
            named = tuple(node for node in _sorted(nodes) if isinstance(node, ox.NamedNode | ox.Literal))
            if len(named) < len(nodes):  # a node no query names
                return False
            for store, dataset in stores:
                rows |= _rows(store.query(with_values(asked, {name: named}), **dataset))
        at = where_opening(asked)
        if at is None or len(rows) > _ROWS_ASKED or any(not t or t.startswith("_:") for r in rows for t in r):
            return False  # too many to ask one by one; a variable unbound, or a blank node
        names = " ".join(f"?{name}" for name in table.projected)
        for row in sorted(rows):
            one = f"{asked[:at]} VALUES ({names}) {{ ({' '.join(row)}) }} {asked[at:]} LIMIT 1"
            if len({bool(_rows(store.query(one, **dataset))) for store, dataset in stores}) > 1:
                return False
        return True

    def _matching(self, pattern: Step) -> list[ox.Quad]:
        """The changed quads `pattern` may match, by their predicates."""
        return [quad for predicate in pattern.predicates for quad in self.by_predicate.get(predicate, [])]

    def _walked(self, routes: tuple[Walk, ...]) -> frozenset[ReachedNode] | None:
        """The nodes standing for ?this that walks of `routes` reach; None past the limit."""
        if routes in self._focus:
            return self._focus[routes]
        walks: dict[tuple[tuple[Step, ...], Distances], dict[State, int]] = {}
        found: set[ReachedNode] = set()
        try:
            for route in routes:
                starts = walks.setdefault((route.crossed, route.lower), {})
                for node in self._starting(route):
                    starts[(node, route.start)] = max(starts.get((node, route.start), 0), route.steps)
            for (crossed, lower), starts in walks.items():
                found |= self._walk(crossed, dict(lower), starts)
        except _TooFar:
            self._focus[routes] = None
            return None
        self._focus[routes] = frozenset(found)
        return self._focus[routes]

    def instances(self, nodes: set[ReachedNode], classes: frozenset[str]) -> set[ReachedNode]:
        """Those of `nodes` of one of `classes`, in the new store or by a changed triple (a removed
        one too: this keeps more, never less). Past the walks' limit of links, all of them."""
        try:
            self._ask_links(nodes, typed=True)
        except _TooFar:
            return set(nodes)
        for node in nodes:
            if node not in self._classes:
                self._classes[node] = frozenset(
                    c.value for _, c, out in self._typed[node] if out and isinstance(c, ox.NamedNode)
                )
        return {node for node in nodes if not self._classes[node].isdisjoint(classes)}

    def _starting(self, route: Walk) -> frozenset[ReachedNode]:
        """The nodes a walk of `route` starts from: its start end of every changed triple its pattern
        matches; for a repeated path, every node of the chain through the triple."""
        pattern, key = route.pattern, (route.pattern, route.start)
        if key not in self._starts:
            quads = self._matching(pattern)
            if pattern.repeated:  # the triple may lie anywhere along the chain
                ends = {node for quad in quads for node in (quad.subject, quad.object)}
                self._starts[key] = frozenset(self._closure(ends, pattern))
            else:
                subject = route.start == pattern.subject
                self._starts[key] = frozenset(quad.subject if subject else quad.object for quad in quads)
        return self._starts[key]

    def _walk(
        self, crossed: tuple[Step, ...], lower: dict[str, int], starts: dict[State, int]
    ) -> set[ReachedNode]:
        """The nodes standing for ?this that walks from `starts` reach over `crossed`, each in as many
        steps as it was given."""
        crossing: dict[str, list[Step]] = {}
        for step in crossed:
            for term in {step.subject, step.object}:
                crossing.setdefault(term, []).append(step)
        best = dict(starts)
        frontier = dict(starts)
        found: set[ReachedNode] = set()
        while frontier:
            _check(len(best), (node for node, _ in frontier))
            found |= {node for node, term in frontier if term == "?this"}
            going = [(node, term) for (node, term), left in frontier.items() if left > 0]
            self._ask_links({node for node, _ in going}, typed=False)
            self._ask_links(
                {node for node, term in going if any(ANY in s.predicates for s in crossing.get(term, []))},
                typed=True,
            )
            ahead: dict[State, int] = {}
            for (node, term), left in frontier.items():
                for step in crossing.get(term, []) if left > 0 else []:
                    for state in self._across(step, node, term):
                        if lower.get(state[1], 1 << 30) < left and best.get(state, -1) < left - 1:
                            best[state] = ahead[state] = left - 1
            frontier = ahead
        return found

    def _across(self, step: Step, node: ReachedNode, term: str) -> Iterator[State]:
        """The nodes at the other end of `step` from `node`, which stands for its end `term`."""
        if step.repeated:
            far = step.object if term == step.subject else step.subject
            yield from ((other, far) for other in self._closure({node}, step))
            return
        every = ANY in step.predicates
        for predicate, other, out in self._links(node, every):
            if every or predicate in step.predicates:
                if out and term == step.subject:
                    yield other, step.object
                if not out and term == step.object:
                    yield other, step.subject

    def _closure(self, nodes: set[ReachedNode], step: Step) -> set[ReachedNode]:
        """`nodes` and every node a chain of the repeated path's triples joins to one (either way)."""
        reached: set[ReachedNode] = set()
        frontier = set(nodes)
        every = ANY in step.predicates
        while frontier:
            reached |= frontier
            _check(len(reached), frontier)
            self._ask_links(frontier, typed=every)
            frontier = {
                other
                for node in frontier
                for predicate, other, _ in self._links(node, every)
                if every or predicate in step.predicates
            } - reached
        return reached

    def _links(self, node: ReachedNode, typed: bool) -> list[StoreLink]:
        """The links of `node` asked already: over rdf:type too when `typed`."""
        return self._known.get(node, []) + (self._typed.get(node, []) if typed else [])

    def _ask_links(self, nodes: Iterable[ReachedNode], *, typed: bool) -> None:
        """Ask the links of `nodes` not yet known: over rdf:type when `typed`, else over the others."""
        if typed:
            self._ask("typed", [node for node in nodes if node not in self._typed], self._typed, True)
        else:
            self._ask("neighbours", [node for node in nodes if node not in self._known], self._known, False)

    def _ask(
        self, name: str, nodes: list[ReachedNode], known: dict[ReachedNode, list[StoreLink]], typed: bool
    ) -> None:
        """The (?p, ?n, ?out) rows of the build's query `name` about `nodes`, kept in `known` by node,
        with the changed triples' links over the same predicates (rdf:type alone when `typed`).
        Past WALK_LIMIT rows the walk is given up (a node many things link to, such as a measure every
        observation names) before they are all read, and none of the nodes' links is kept."""
        for node in nodes:
            known[node] = [link for link in self._changed_links.get(node, []) if (link[0] == TYPE) == typed]
        # Blank nodes cannot be named in a query; the data holds no quoted triples.
        usable = [node for node in nodes if isinstance(node, ox.NamedNode | ox.Literal)]
        read = 0
        for start in range(0, len(usable), 500):
            asked = with_values(build_queries()[name].text, {"a": tuple(usable[start : start + 500])})
            rows = selected(self.store.query(asked, use_default_graph_as_union=True))
            for row in rows:
                known[row["a"]].append((row["p"].value, row["n"], row["out"].value == "true"))
                read += 1
                if read > WALK_LIMIT:
                    break
            del rows  # the store's iterator ends in the thread that made it
            if read > WALK_LIMIT:
                for node in nodes:
                    del known[node]
                raise _TooFar


def restricted(text: str, focus: set[ReachedNode], *, compiled: bool = False) -> str | None:
    """The query `text` asked of the `focus` nodes only (VALUES in its focus pattern); None when it
    cannot be so asked.

    A `compiled` validator reads the path's values in a sub-SELECT that projects `?this` into the
    group the focus nodes bind, so the same VALUES there changes no answer and reads only the reached
    nodes' values. A constraint's own SELECT (sh:sparql) is restricted in its focus pattern, and in
    each group `groups_opened_by` finds, where the same VALUES only drops rows of other nodes: one
    that the focus pattern alone restricts is evaluated for every node. It is None where the
    constraint has no focus pattern to restrict, has a LIMIT or an OFFSET of its own (asked of some
    nodes, it would pick among their rows alone), or where its answer may hang on Oxigraph's plan
    (`hangs_on_plan`), which the block would change."""
    if FOCUS not in text:
        return None
    values = "VALUES ?this { " + " ".join(str(node) for node in _sorted(focus)) + " } "
    if compiled:
        narrowed = text.replace(FOCUS, FOCUS + values, 1)
        return narrowed.replace(VALUES_OPENING, VALUES_OPENING + " " + values)
    # The focus pattern is the query, or opens its WHERE group (`sparql_constraint`), whatever a
    # comment or a string before holds: the groups the block may open too take it that it is there.
    opening = where_opening(text)
    if opening is None or hangs_on_plan(text) or limited(text):
        return None
    start = text.find(FOCUS, opening)
    if text[opening - len(FOCUS) : opening] == FOCUS:
        at = opening
    elif start >= 0 and text[opening:start].strip() == "{":
        at = start + len(FOCUS)
    else:
        return None
    for offset in sorted({at, *groups_opened_by(text, "this")}, reverse=True):
        text = text[:offset] + (values if offset == at else f" {values}") + text[offset:]
    return text


def _sorted(nodes: Iterable[ReachedNode]) -> Iterator[ReachedNode]:
    return iter(sorted(nodes, key=str))


def _variable(term: str) -> str:
    """The name a query's text gives the variable a pattern's `term` stands for ("" for a constant, a
    blank node or a step of a sequence path, which no text names)."""
    return term[1:].split("@")[0] if term.startswith("?") and not term.startswith("?_") else ""


def _rows(answer: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> frozenset[tuple[str, ...]]:
    """A SELECT's rows, each term as N-Triples writes it ("" unbound), read in the calling thread."""
    solutions = selected(answer)
    width = len(solutions.variables)
    return frozenset(tuple("" if row[i] is None else str(row[i]) for i in range(width)) for row in solutions)


class Revalidation:
    """What a rebuild asks of each compiled constraint: nothing when the change reaches none of its
    focus nodes, the query on the reached ones, or the whole query; counted for the build's summary."""

    def __init__(
        self,
        store: ox.Store,
        changed: Iterable[ox.Quad],
        reach: Callable[[str], Reach],
        previous: ox.Store | None = None,
        dropped: Iterable[ox.NamedNode] = (),
    ) -> None:
        """`previous`: the store `changed` was made to, `dropped` its graphs the new store no longer
        holds (see `Neighbours`)."""
        self.neighbours = Neighbours(store, changed, previous, dropped)
        self.reach = reach  # a query text's reach: `analyse`, or the analyses kept (`kg.build.analyses`)
        self.counts = {"skipped": 0, "restricted": 0, "whole": 0}

    def __call__(self, query: ShapeQuery) -> ValidationPlan | None:
        """The plan to ask for `query`: None to skip it, its queries restricted to the focus nodes the
        change reaches, or the plan whole. A plan that combines several queries' answers (qualified
        counts, sh:or and the like) judges each focus node by their rows for that node alone, so it
        is asked of the nodes any of its queries reaches."""
        if not self.neighbours.changed:  # no quad changed: each answer is the previous one, empty
            self.counts["skipped"] += 1
            return None
        texts = set(plan_texts(query.plan))
        focus: set[ReachedNode] = set()
        for text in texts:
            reached = self.neighbours.focus(self.reach(text), text)
            if reached is None:
                self.counts["whole"] += 1
                return query.plan
            focus |= reached
        classes = {focus_classes(text) for text in texts}
        if len(classes) == 1 and (only := classes.pop()) is not None:
            focus = self.neighbours.instances(focus, only)  # the nodes the shape targets
        if not focus:
            self.counts["skipped"] += 1
            return None
        asked: dict[str, str] = {}
        compiled = query.component != SH.SPARQLConstraintComponent
        for text in texts:
            if (narrowed := restricted(text, focus, compiled=compiled)) is None:
                self.counts["whole"] += 1
                return query.plan
            asked[text] = narrowed
        self.counts["restricted"] += 1
        return with_texts(query.plan, asked.__getitem__)

    def summary(self) -> str:
        """The counts of the queries skipped, restricted and asked whole, and of the tables compared."""
        said = ", ".join(f"{count} {kind}" for kind, count in self.counts.items())
        if compared := self.neighbours.compared:
            same = self.neighbours.same
            said += f" (sub-SELECTs compared with the previous store: {compared}, the same: {same})"
        return said
