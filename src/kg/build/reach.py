"""Which focus nodes a change can reach, for each compiled shape query: what a rebuild re-validates.

A published generation conforms, so no shape query found a row in it. After a
change, a query can find a row for a focus node F only if its evaluation at F
reads a triple that was added or removed. The query's triple patterns form a
graph over its terms, rooted at `?this`; take the changed triple nearest F in
a solution: the patterns between `?this` and it match unchanged triples, which
the new store holds. So F lies within (depth − 1) steps of that triple's end
nearer `?this`, where depth is the pattern's distance from `?this`, walking
only triples whose predicates the query names. A solution that matches a
pattern need not match the patterns of an OPTIONAL, UNION, MINUS or EXISTS
group beside it, so a pattern's distance is counted over the patterns of its
own group and of the groups enclosing it only. A query whose patterns do not
all connect to `?this` cannot be bounded so: it runs whole. A repeated path
(`p*`, `p+`, `p?`) matches chains of any length, so walks follow its
predicates without counting the steps. A predicate left open (a variable no
block of values binds, such as an observation's measure, or a negated set)
may be any predicate: every changed triple may match its pattern, and a walk
through it follows every triple.

Walks do not pass through `rdf:type` triples (a class joins all its
instances), but where an open predicate may be `rdf:type`; a query whose
patterns connect only through a pattern that may name `rdf:type` (alone, in
a block of values or in a repeated path) runs whole too. A solution may take
any branch of an alternative path, as of a UNION, so one whose branches are
not all single steps that a walk follows runs whole.
Reading a query's patterns takes rdflib's SPARQL parser, which is slow, so
texts that differ in the IRIs they name alone share one reading
(`kg.build.query_template`), and the analyses are kept on disk between
builds (`kg.build.analyses`).
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
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
    focus_opening,
    plan_texts,
    values_opening,
    with_texts,
)
from kg.store.base import selected
from kg.store.sparql import with_values

TYPE = str(RDF.type)
SUBCLASS = str(RDFS.subClassOf)  # compiled into the queries' class lists, not read by their patterns
FOCUS = focus_opening()
VALUES_OPENING = values_opening()
ReachedNode = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
WALK_LIMIT = 20_000  # beyond this many reached nodes a query is cheaper run whole
ANY = "*"  # the predicates of an open pattern: any at all (no IRI is spelled so)


@dataclass(frozen=True)
class Pattern:
    """A triple pattern of a query as the walk needs it: its predicates, its distance from `?this`,
    and which of its ends (subject, object) is the nearer."""

    predicates: tuple[str, ...]
    depth: int
    near_subject: bool
    near_object: bool
    repeated: bool = False  # a repeated path: its changed triple may lie anywhere along the chain


@dataclass(frozen=True)
class Reach:
    """A query's patterns, or None when the query must run whole."""

    patterns: tuple[Pattern, ...] | None

    @property
    def walked(self) -> frozenset[str]:
        """The predicates a walk may follow: every one the query names, but rdf:type; ANY for all."""
        return frozenset(p for pattern in self.patterns or () for p in pattern.predicates if p != TYPE)

    @property
    def free(self) -> frozenset[str]:
        """The predicates of repeated paths, which a walk follows without counting the steps."""
        return frozenset(p for pattern in self.patterns or () if pattern.repeated for p in pattern.predicates)


WHOLE = Reach(None)


class _Open(Exception):
    """The query reads what its patterns cannot bound: an unparsed sub-SELECT, an open predicate
    repeated, a term that is not a node."""


def analyse(text: str) -> Reach:
    """The reach of one query text (see the module's docstring): that of its template (see
    `kg.build.query_template`), read once for every text of the same template, with the template's
    numbered IRIs named again."""
    shared = template(text)
    if shared is None:
        return _analysed(text)
    try:
        found = _analysed(shared.text)
    except Exception:  # rdflib read the template otherwise: the text's own reading says what and where
        return _analysed(text)
    if found.patterns is None:
        return WHOLE
    patterns = {replace(p, predicates=tuple(sorted(map(shared.named, p.predicates)))) for p in found.patterns}
    return Reach(tuple(sorted(patterns, key=repr)))


@functools.lru_cache(maxsize=512)
def _analysed(text: str) -> Reach:
    """The reach of one query text, read by rdflib's SPARQL parser. The parser is imported here, not
    with the module: a steady rebuild finds every analysis kept, and its import takes a tenth of a
    second of the build's start."""
    from rdflib.plugins.sparql import prepareQuery

    try:
        found = _Found()
        _collect(prepareQuery(text).algebra, _Scope(None, []), found, top=True)
    except _Open:
        return WHOLE
    return _reach(found.triples, found.unions)


class _Scope:
    """Variable names of one sub-SELECT: those it projects are its parent's, the others its own."""

    ids = count()

    def __init__(self, parent: _Scope | None, projected: Iterable[Variable]) -> None:
        self.parent, self.projected, self.id = parent, set(projected), next(self.ids)

    def name(self, variable: Variable) -> str:
        if self.parent is None:
            return f"?{variable}"
        return self.parent.name(variable) if variable in self.projected else f"?{variable}@{self.id}"


_Triple = tuple[
    str, tuple[str, ...], str, bool, tuple[int, ...]
]  # subject, predicates, object, repeated, group
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
    bound: dict[str, set[Any]] = field(default_factory=dict)
    fresh: count[int] = field(default_factory=count)
    groups: dict[tuple[int, bool], int] = field(default_factory=dict)  # (algebra node, second part): group
    unions: list[tuple[tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)  # group, branches


def _collect(
    node: Any, scope: _Scope, found: _Found, *, top: bool = False, group: tuple[int, ...] = ()
) -> None:
    """Every triple pattern under `node`, its variables named by their scope, with the `group` it lies
    in: the path of OPTIONAL, UNION, MINUS and EXISTS groups from the query's own."""
    from rdflib.plugins.sparql.parserutils import CompValue  # loaded by `analyse` already

    if isinstance(node, CompValue):
        if node.name == "SubSelect":
            raise _Open  # an unparsed sub-SELECT (inside EXISTS): its scope is not read here
        if node.name == "Join" and any(_no_rows(side) for side in (node.p1, node.p2)):
            return  # joined with an empty block of values (a target the shape does not use): no rows
        if node.name == "ToMultiSet" and isinstance(node.p, CompValue) and node.p.name == "values":
            for row in node.p.res:
                for variable, term in row.items():
                    found.bound.setdefault(scope.name(variable), set()).add(term)
        if node.name == "Project" and not top:
            scope = _Scope(scope, node.get("PV") or [])
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


def _edges(s: str, path: Any, o: str, scope: _Scope, found: _Found, group: tuple[int, ...]) -> None:
    """The triple patterns a (possibly complex) predicate stands for between `s` and `o`."""
    if isinstance(path, URIRef):
        found.triples.append((s, (str(path),), o, False, group))
    elif isinstance(path, Variable) and scope.name(path) in found.bound:
        found.triples.append((s, tuple(sorted(_predicates(*found.bound[scope.name(path)]))), o, False, group))
    elif isinstance(path, InvPath):
        _edges(o, path.arg, s, scope, found, group)
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
        for part in path.args:
            _edges(s, part, o, scope, found, group)
    elif isinstance(path, MulPath):
        found.triples.append((s, tuple(sorted(_predicates(path.path))), o, True, group))
    elif isinstance(path, Variable | NegatedPath):  # open: either way round for a negated inverse
        found.triples.append((s, (ANY,), o, False, group))
        if isinstance(path, NegatedPath):
            found.triples.append((o, (ANY,), s, False, group))
    else:
        raise _Open


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


def _reach(triples: list[_Triple], unions: list[tuple[tuple[int, ...], tuple[int, ...]]]) -> Reach:
    """Each pattern's depth: its distance from ?this over the patterns of its group and of the groups
    enclosing it (not through rdf:type), and through a UNION beside them the longer of its branches'."""
    patterns: set[Pattern] = set()
    for group in {found[4] for found in triples}:
        seen = [found for found in triples if _within(group, found[4])]
        distance = _distances(seen, {"?this": 0})
        through = dict(distance)
        for parent, branches in unions:
            if _within(group, parent) and not any(_within(group, (*parent, b)) for b in branches):
                each = [
                    _distances(seen + [found for found in triples if found[4] == (*parent, b)], distance)
                    for b in branches
                ]
                for name in set(each[0]) & set(each[1]):
                    through[name] = min(through.get(name, 1 << 30), max(each[0][name], each[1][name]))
        placed = _placed([found for found in triples if found[4] == group], _distances(seen, through))
        if placed is None:
            return WHOLE
        patterns |= placed
    return Reach(tuple(sorted(patterns, key=repr)))


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


def _placed(triples: list[_Triple], distance: dict[str, int]) -> set[Pattern] | None:
    """The patterns at their depths, or None when one is not connected to ?this but through a class."""
    patterns = set()
    for s, predicates, o, repeated, _ in triples:
        typed = TYPE in predicates  # its object may be a class, which a walk does not leave
        near = min(distance.get(s, 1 << 30), distance.get(o, 1 << 30) if not typed else 1 << 30)
        if near >= 1 << 30:
            return None
        patterns.add(
            Pattern(
                predicates,
                near + 1,
                repeated or distance.get(s) == near,
                repeated or (distance.get(o) == near and not typed),
                repeated,
            )
        )
    return patterns


class Neighbours:
    """Walks over the new store from the changed triples, each node's neighbours asked once."""

    def __init__(self, store: ox.Store, changed: Iterable[ox.Quad]) -> None:
        self.store = store
        self.changed = list(changed)
        self.by_predicate: dict[str, list[ox.Quad]] = {ANY: self.changed}  # an open pattern's: all
        for quad in self.changed:
            self.by_predicate.setdefault(quad.predicate.value, []).append(quad)
        self._known: dict[ReachedNode, list[tuple[str, ReachedNode]]] = {}
        self._typed: dict[ReachedNode, list[tuple[str, ReachedNode]]] = {}  # over rdf:type, asked apart
        self.whole = SUBCLASS in self.by_predicate  # the compiled queries themselves change

    def focus(self, reach: Reach) -> set[ReachedNode] | None:
        """The focus nodes whose result the change may have changed; None when the query runs whole."""
        if reach.patterns is None or self.whole:
            return None
        anchors: dict[int, set[ReachedNode]] = {}
        for pattern in reach.patterns:
            for predicate in pattern.predicates:
                for quad in self.by_predicate.get(predicate, []):
                    ends = anchors.setdefault(pattern.depth, set())
                    if pattern.near_subject:
                        ends.add(quad.subject)
                    if pattern.near_object:
                        ends.add(quad.object)
        found: set[ReachedNode] = set()
        for depth, ends in anchors.items():
            reached = self.walk(ends, reach.walked, depth - 1, reach.free)
            if reached is None:
                return None
            found |= reached
        return found

    def walk(
        self,
        start: set[ReachedNode],
        predicates: frozenset[str],
        steps: int,
        free: frozenset[str] = frozenset(),
    ) -> set[ReachedNode] | None:
        """The nodes within `steps` triples of `start` over `predicates`, triples over `free` not
        counted; None past the limit or at a blank node (which a query cannot name)."""
        reached: set[ReachedNode] = set()
        frontier = set(start)
        for step in range(steps + 1):
            while frontier:  # the new nodes, closed over the free predicates
                reached |= frontier
                if len(reached) > WALK_LIMIT:
                    return None
                frontier = self._next(frontier, free) - reached
            if step < steps:
                frontier = self._next(reached, predicates) - reached
        return None if any(isinstance(node, ox.BlankNode) for node in reached) else reached

    def _next(self, nodes: set[ReachedNode], predicates: frozenset[str]) -> set[ReachedNode]:
        """The neighbours of `nodes` over `predicates` (over every triple, rdf:type too, for ANY)."""
        if not predicates:
            return set()
        self._ask("neighbours", [node for node in nodes if node not in self._known], self._known)
        if ANY not in predicates:
            return {n for node in nodes for p, n in self._known[node] if p in predicates}
        self._ask("typed", [node for node in nodes if node not in self._typed], self._typed)
        return {n for node in nodes for known in (self._known, self._typed) for _, n in known[node]}

    def _ask(
        self, name: str, nodes: list[ReachedNode], known: dict[ReachedNode, list[tuple[str, ReachedNode]]]
    ) -> None:
        """The (?p, ?n) rows of the build's query `name` about `nodes`, kept in `known` by node."""
        for node in nodes:
            known[node] = []
        # Blank nodes cannot be named in a query; the data holds no quoted triples.
        usable = [node for node in nodes if isinstance(node, ox.NamedNode | ox.Literal)]
        for start in range(0, len(usable), 500):
            asked = with_values(build_queries()[name].text, {"a": tuple(usable[start : start + 500])})
            rows = selected(self.store.query(asked, use_default_graph_as_union=True))
            for row in rows:
                known[row["a"]].append((row["p"].value, row["n"]))


def restricted(text: str, focus: set[ReachedNode], *, compiled: bool = False) -> str | None:
    """The query `text` asked of the `focus` nodes only (VALUES in its focus pattern); None when it has
    no focus pattern to restrict.

    A `compiled` validator reads the path's values in a sub-SELECT that projects `?this` into the
    group the focus nodes bind, so the same VALUES there changes no answer and reads only the reached
    nodes' values. A constraint's own SELECT (sh:sparql) is restricted in its focus pattern only: its
    sub-SELECTs are its author's, and a `?this` in one need not be the focus node."""
    if FOCUS not in text:
        return None
    values = "VALUES ?this { " + " ".join(str(node) for node in _sorted(focus)) + " } "
    narrowed = text.replace(FOCUS, FOCUS + values, 1)
    return narrowed.replace(VALUES_OPENING, VALUES_OPENING + " " + values) if compiled else narrowed


def _sorted(nodes: set[ReachedNode]) -> Iterator[ReachedNode]:
    return iter(sorted(nodes, key=str))


class Revalidation:
    """What a rebuild asks of each compiled constraint: nothing when the change reaches none of its
    focus nodes, the query on the reached ones, or the whole query; counted for the build's summary."""

    def __init__(self, store: ox.Store, changed: Iterable[ox.Quad], reach: Callable[[str], Reach]) -> None:
        self.neighbours = Neighbours(store, changed)
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
            reached = self.neighbours.focus(self.reach(text))
            if reached is None:
                self.counts["whole"] += 1
                return query.plan
            focus |= reached
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
        return ", ".join(f"{count} {kind}" for kind, count in self.counts.items())
