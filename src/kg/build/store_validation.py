"""SHACL validation on the store: every constraint answered by validators over all its focus nodes.

The build validates here (see `shape_queries`, which says what each constraint runs; the answers of
qualified value shapes and of sh:or, sh:and, sh:not and sh:xone are combined here as sets), the
constraints asked from several threads at once (see `kg.build.parallel`); pyshacl
stays the reference
engine, used when the shapes need a feature the compiler does not translate,
and by the tests, which require both engines to report the same results.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from kg.build.locate import SubjectIndex
from kg.build.parallel import each_at_once, turn
from kg.build.parsing import rdflib_term
from kg.build.queries import sparql
from kg.build.shape_queries import (
    Combined,
    Counted,
    InvalidShape,
    Qualified,
    ShapeQuery,
    Unsupported,
    ValidationPlan,
    compile_shapes,
    plan_texts,
    shape_classes,
)
from kg.build.validation import ValidationReport, path_text, report_of, validate, violation_of
from kg.store.base import StreamedSolutions, selected


def validate_store(
    store: ox.Store,
    graphs: Sequence[ox.NamedNode] | None,
    shapes: Graph,
    index: SubjectIndex | None = None,
    asked: Callable[[ShapeQuery], ValidationPlan | None] | None = None,
    stop: threading.Event | None = None,
) -> ValidationReport:
    """Validate the union of `graphs` in `store` (ontology included) against `shapes`; `asked` gives the
    plan to ask for each constraint instead of its own, or None to skip it (see `kg.build.reach`).
    Raises `kg.build.parallel.Stopped` once `stop` is set (other checks failed).

    `graphs=None` validates every graph of the store: Oxigraph answers a query over its union
    default graph several times faster than over a list of graphs, so the build validates before
    the shapes themselves are loaded.
    """
    with turn():  # the queries asked from this thread alone, then those `asked` walks
        queries = _compiled(store, graphs, shapes)
        if queries is None:
            return _with_pyshacl(store, graphs, shapes, index)
        plans = [query.plan if asked is None else asked(query) for query in queries]
    # The dearest first, so that the threads end together rather than one running the last long
    # query alone: a plan asked whole before one restricted to the nodes a change reaches, and a
    # SPARQL-based constraint, one query that joins across the graph, before the compiled validators.
    # The report is sorted, whatever the order.
    queries, plans = _dearest_first(queries, plans)
    answers = _Answers(store, graphs, [plan for plan in plans if plan is not None])

    def violations(pair: tuple[ShapeQuery, ValidationPlan | None]) -> set[tuple[Node, Node | None]]:
        query, plan = pair
        if plan is None:
            return set()
        try:
            found = _violations(answers, query, plan)
        except SyntaxError as error:  # what the compiler's checks of a shape did not foresee
            raise InvalidShape(
                f"{query.source_shape}: its constraint makes no query Oxigraph reads: {error}"
            ) from None
        answers.done(plan)
        return found

    found = each_at_once(violations, zip(queries, plans, strict=True), stop)
    results = [
        (query, focus, value) for query, pairs in zip(queries, found, strict=True) for focus, value in pairs
    ]
    paths = {query.path: path_text(shapes, query.path) for query in queries}  # written once, not per result
    read = [
        violation_of(shapes, focus, q.source_shape, paths[q.path], value, q.message, q.severity, q.component)
        for q, focus, value in results
    ]
    return report_of(not results, read, lambda: _report_graph(shapes, results), index)


Result = tuple[ShapeQuery, Node, Node | None]  # a constraint, the focus node failing it, and the value


def _dearest_first(
    queries: list[ShapeQuery], plans: list[ValidationPlan | None]
) -> tuple[list[ShapeQuery], list[ValidationPlan | None]]:
    """The queries and their plans, those asked whole first, then SPARQL-based constraints first."""
    order = sorted(
        range(len(queries)),
        key=lambda at: (
            plans[at] is not queries[at].plan,
            queries[at].component != SH.SPARQLConstraintComponent,
        ),
    )
    return [queries[at] for at in order], [plans[at] for at in order]


def _report_graph(shapes: Graph, results: list[Result]) -> Graph:
    """The SHACL validation report of `results` as RDF, as the recommendation words it."""
    report = Graph()
    for query, focus, value in results:
        _add_result(report, shapes, query, focus, value)
    root = BNode()
    report.add((root, RDF.type, SH.ValidationReport))
    report.add((root, SH.conforms, Literal(not results)))
    for result in report.subjects(RDF.type, SH.ValidationResult):
        report.add((root, SH.result, result))
    return report


def validation_texts(store: ox.Store, shapes: Graph) -> list[str]:
    """Every query `validate_store` asks of the union of `store`'s graphs for `shapes`, in the order it
    compiles them; none when the shapes fall back to pyshacl."""
    queries = _compiled(store, None, shapes) or []
    return [text for query in queries for text in plan_texts(query.plan)]


def _compiled(
    store: ox.Store, graphs: Sequence[ox.NamedNode] | None, shapes: Graph
) -> list[ShapeQuery] | None:
    """The shapes compiled into queries on `store`, or None when they use what the compiler cannot
    translate (pyshacl then validates)."""
    try:
        return compile_shapes(shapes, _subclasses(store, graphs, shape_classes(shapes)))
    except Unsupported:
        return None


def _query(store: ox.Store, graphs: Sequence[ox.NamedNode] | None, sparql: str) -> StreamedSolutions:
    if graphs is None:
        return selected(store.query(sparql, use_default_graph_as_union=True))
    return selected(store.query(sparql, default_graph=list(graphs)))


def _subclasses(
    store: ox.Store, graphs: Sequence[ox.NamedNode] | None, classes: set[URIRef]
) -> dict[URIRef, set[URIRef]]:
    """Each class with itself and all its subclasses in the validated graphs (one query)."""
    found: dict[URIRef, set[URIRef]] = {c: {c} for c in classes}
    if classes:
        text = sparql("subclasses", **{"class": sorted(map(str, classes))})
        for row in _query(store, graphs, text):
            if isinstance(row["sub"], ox.NamedNode):
                found[URIRef(row["class"].value)].add(URIRef(row["sub"].value))
    return found


# How many focus nodes a member of an sh:or is asked about by name rather than by the shape's targets.
_FEW = 1_000
StoreNode = ox.NamedNode | ox.BlankNode | ox.Literal
Pair = tuple[StoreNode, StoreNode | None]


def _violations(answers: _Answers, query: ShapeQuery, plan: ValidationPlan) -> set[tuple[Node, Node | None]]:
    """The distinct (focus node, value) pairs the constraint's plan (or the one asked instead) finds."""
    found: set[tuple[Node, Node | None]] = set()
    for focus, value in answers.evaluate(plan):
        if value is None and query.value_is_focus:
            value = focus
        found.add((rdflib_term(focus), None if value is None else rdflib_term(value)))
    return found


class _Answers:
    """The answers of the plans on one store, each distinct query asked once (a shape's focus nodes
    and value nodes serve several of its constraints), whichever thread asks it first: the others
    asking it meanwhile wait for its answer. An answer is kept only until the last plan that asks it
    is done, so memory holds the answers still wanted, not all of them."""

    def __init__(
        self, store: ox.Store, graphs: Sequence[ox.NamedNode] | None, plans: list[ValidationPlan]
    ) -> None:
        self.store = store
        self.graphs = graphs
        self.asked: dict[str, frozenset[Pair]] = {}
        self.wanted = Counter(text for plan in plans for text in set(plan_texts(plan)))  # plans not done
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()  # guards `_locks`, `asked` and `wanted`

    def pairs(self, sparql: str, second: str = "value") -> frozenset[Pair]:
        """The (?this, ?value or None) pairs of a query's rows; the pairs' second member is the column
        `second` names (a `Counted` plan's ?count)."""
        with self._lock:
            asking = self._locks.setdefault(sparql, threading.Lock())
        with asking:
            with self._lock:
                if sparql in self.asked:
                    return self.asked[sparql]
            solutions = _query(self.store, self.graphs, sparql)
            names = [variable.value for variable in solutions.variables]
            this = names.index("this")
            value = names.index(second) if second in names else None
            answer = frozenset((row[this], None if value is None else row[value]) for row in solutions)
            with self._lock:
                if self.wanted.get(sparql, 0) > 0:  # not a query of fewer nodes that `on_nodes` made
                    self.asked[sparql] = answer
                else:
                    self._locks.pop(sparql, None)
        return answer

    def done(self, plan: ValidationPlan) -> None:
        """The plan is answered: forget the answers no other plan still wants."""
        with self._lock:
            for text in set(plan_texts(plan)):
                self.wanted[text] -= 1
                if self.wanted[text] <= 0:
                    self.asked.pop(text, None)
                    self._locks.pop(text, None)

    def focus_nodes(self, sparql: str) -> set[StoreNode]:
        return {focus for focus, _ in self.pairs(sparql)}

    def evaluate(self, plan: ValidationPlan) -> set[Pair] | frozenset[Pair]:
        """The (focus node, value or None) pairs a plan reports: a query's rows, or answers combined."""
        if isinstance(plan, str):
            return self.pairs(plan)
        if isinstance(plan, Counted):
            outside: set[Pair] = set()
            for node, count in self.pairs(plan.query, "count"):
                assert count is not None  # a COUNT is always bound
                if plan.outside(int(count.value)):
                    outside.add((node, None))
            return outside
        if isinstance(plan, Qualified):
            failing = set().union(*(self.pairs(query) for query in plan.failing))
            counts = Counter(focus for focus, value in self.pairs(plan.values) - failing)
            found: set[Pair] = set()
            if plan.minimum is not None:
                found |= {(n, None) for n in self.focus_nodes(plan.focus) if counts[n] < plan.minimum}
            if plan.maximum is not None:
                found |= {(n, None) for n, count in counts.items() if count > plan.maximum}
            return found
        if plan.operator == "or":
            return {(node, None) for node in self.failing_every(plan)}
        fails = [{focus for p in member for focus, _ in self.evaluate(p)} for member in plan.members]
        if plan.operator == "and":
            failed = set().union(*fails)
        else:  # not, xone: the focus nodes conforming to none, or to other than one, of the members
            wanted = 0 if plan.operator == "not" else 1
            failed = {n for n in self.focus_nodes(plan.focus) if sum(n not in f for f in fails) != wanted}
        return {(node, None) for node in failed}

    def failing_every(self, plan: Combined) -> set[StoreNode]:
        """The focus nodes that fail every member of an sh:or: each member after the first is asked
        only about the nodes that failed those before it, when they are few and named by IRIs."""
        failed: set[StoreNode] | None = None
        for index, member in enumerate(plan.members):
            plans = member
            if (
                failed is not None
                and len(failed) <= _FEW
                and all(isinstance(n, ox.NamedNode) for n in failed)
            ):
                plans = plan.on_nodes(index, sorted(node.value for node in failed))
            found = {focus for p in plans for focus, _ in self.evaluate(p)}
            failed = found if failed is None else failed & found
            if not failed:
                break
        return failed or set()


def _add_result(report: Graph, shapes: Graph, query: ShapeQuery, focus: Node, value: Node | None) -> None:
    result = BNode()
    report.add((result, RDF.type, SH.ValidationResult))
    report.add((result, SH.focusNode, focus))
    report.add((result, SH.resultSeverity, query.severity))
    report.add((result, SH.sourceShape, query.source_shape))
    report.add((result, SH.sourceConstraintComponent, query.component))
    if query.message is not None:
        report.add((result, SH.resultMessage, _as_the_references_write(query)))
    if value is not None:
        report.add((result, SH.value, value))
    if query.path is not None:
        report.add((result, SH.resultPath, query.path))
        if isinstance(query.path, BNode):
            report += shapes.cbd(query.path)


def _as_the_references_write(query: ShapeQuery) -> Literal:
    """A result's message as pyshacl and Jena both write it: the shape's `sh:message` with its language
    tag for a core constraint, its text alone for a SPARQL-based one."""
    assert query.message is not None
    if query.component == SH.SPARQLConstraintComponent:
        return Literal(str(query.message))
    return query.message


def _with_pyshacl(
    store: ox.Store, graphs: Sequence[ox.NamedNode] | None, shapes: Graph, index: SubjectIndex | None
) -> ValidationReport:
    """The reference engine on the same data, for shapes the compiler cannot translate."""
    data = Graph()
    for graph in graphs if graphs is not None else store.named_graphs():
        for quad in store.quads_for_pattern(None, None, None, graph):
            data.add((rdflib_term(quad.subject), rdflib_term(quad.predicate), rdflib_term(quad.object)))
    return validate(data, shapes, index)
