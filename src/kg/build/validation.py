"""SHACL validation, and violations reported so a curator can find and fix them."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import cached_property

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from kg.build.locate import SubjectIndex
from kg.build.shape_queries import (
    InvalidShape,
    Unsupported,
    check_shapes_read,
    preferred_message,
    property_path,
    shape_name,
)
from kg.build.shown import SHOWN_VARIABLE
from kg.namespaces import PREFIXES


@dataclass(frozen=True)
class Violation:
    """One SHACL result: which node broke which shape, and where the node is written."""

    focus_node: str
    shape: str
    message: str
    path: str | None = None
    value: str | None = None
    severity: str = "Violation"
    location: str | None = None
    also_at: tuple[str, ...] = ()  # the other places the focus node is described, a few at most
    more_places: int = 0  # and how many more there are
    component: str | None = None  # the constraint component: several of one shape share a message

    def describe(self) -> str:
        lines = [f"{self.severity}: {self.message}", f"  focus node: {self.focus_node}"]
        lines.append(f"  shape:      {self.shape}")
        if self.component:  # a message may be its shape's for several rules (a count and a class)
            lines.append(f"  rule:       {rule_name(self.component)}")
        if self.path:
            lines.append(f"  path:       {self.path}")
        if self.value:
            lines.append(f"  value:      {self.value}")
        if self.location:
            lines.append(f"  written at: {self.location}")
        lines.extend(f"  also at:    {place}" for place in self.also_at)
        if self.more_places:
            lines.append(f"  also at:    and {self.more_places} more place{'s' * (self.more_places > 1)}")
        return "\n".join(lines)


def rule_name(component: str) -> str:
    """The SHACL parameter a constraint component is written with (`sh:ClassConstraintComponent`:
    `sh:class`): the rule a violation broke, as a curator wrote it in the shape."""
    if not component.startswith(str(SH)):  # a component a shapes graph defines is named by its IRI
        return f"<{component}>"
    name = component.removeprefix(str(SH)).removesuffix("ConstraintComponent")
    return "sh:" + (name.lower() if name.isupper() else name[:1].lower() + name[1:])


@dataclass
class ValidationReport:
    conforms: bool
    violations: list[Violation]
    make_graph: Callable[[], Graph]  # the SHACL report as RDF, made when asked: large when many fail

    @cached_property
    def report_graph(self) -> Graph:
        return self.make_graph()

    def as_json(self) -> str:
        return json.dumps(
            {"conforms": self.conforms, "violations": [asdict(v) for v in self.violations]},
            indent=2,
            ensure_ascii=False,
        )

    def as_turtle(self) -> str:
        """The SHACL report as Turtle, each value written as the data holds it (see `exact_turtle`)."""
        return exact_turtle(self.report_graph)

    def as_text(self) -> str:
        if self.conforms:
            return "conforms: 0 violations"
        return _listed(self.violations)

    def summary(self, index: SubjectIndex | None, shown: int) -> str:
        """What a failed build says: `shown` violations (every one for 0), taken in turn from each
        constraint and found in their files, then the count of each constraint's violations. Only
        those named are looked for in the files: finding all of 48,637 took minutes."""
        named = _in_turn(self.violations, shown) if shown else self.violations
        located = _placed(named, index)
        if len(named) == len(self.violations):
            return _listed(located)
        counts = Counter(_constraint(violation) for violation in self.violations)
        table = "\n".join(
            f"{count:>9,}  {shape}  {path or '-'}  {component or '-'}  {message}"
            for (shape, path, component, message), count in sorted(
                counts.items(), key=lambda item: (-item[1], item[0])
            )
        )
        body = "\n\n".join(violation.describe() for violation in located)
        return (
            f"{body}\n\n{len(self.violations):,} violations; the first {len(named)} are named, taken in turn"
            f" from each constraint. By constraint:\n{table}\n"
            f"{SHOWN_VARIABLE}=0 kg build names every one."
        )


def exact_turtle(graph: Graph) -> str:
    """`graph` as Turtle written by Oxigraph, each subject's triples together, the report's root first,
    with the prefixes it uses. Not by rdflib, whose Turtle gives a number its own form:
    `"37"^^xsd:decimal` as `37.0`, another term, which a consumer joining a report's values with the
    data would not find."""
    triples = list(ox.parse(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES))
    roots = {t.subject for t in triples if t.predicate == _RDF_TYPE and t.object == _REPORT}
    triples.sort(key=lambda t: (t.subject not in roots, str(t.subject), t.predicate != _RDF_TYPE, str(t)))
    iris = {
        term.value if isinstance(term, ox.NamedNode) else term.datatype.value
        for t in triples
        for term in t
        if isinstance(term, ox.NamedNode | ox.Literal)
    }
    namespaces = {iri[: max(iri.rfind("/"), iri.rfind("#")) + 1] for iri in iris}
    # A name a prefix would have to escape (`document:x\.`, valid Turtle) is one rdflib cannot read
    # back: such a prefix is left out, and its names written whole.
    used = {
        prefix: namespace
        for prefix, namespace in PREFIXES.items()
        if namespace in namespaces
        and all(_PLAIN_NAME.fullmatch(iri[len(namespace) :]) for iri in iris if iri.startswith(namespace))
    }
    return (ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=used) or b"").decode("utf-8")


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?")  # a local name no prefix escapes
_RDF_TYPE = ox.NamedNode(str(RDF.type))
_REPORT = ox.NamedNode(str(SH.ValidationReport))


def _listed(violations: list[Violation]) -> str:
    return "\n\n".join(v.describe() for v in violations) + f"\n\n{len(violations)} violation(s)"


def _constraint(violation: Violation) -> tuple[str, str, str, str]:
    """The constraint a violation breaks: its shape, path, component (minCount, languageIn …) and
    message."""
    component = (violation.component or "").rsplit("#", 1)[-1]
    return violation.shape, violation.path or "", component, violation.message


def _in_turn(violations: list[Violation], shown: int) -> list[Violation]:
    """The first `shown` of `violations`, one of each constraint in turn, so that a constraint broken
    a thousand times does not hide one broken once."""
    by_constraint: dict[tuple[str, str, str, str], list[Violation]] = {}
    for violation in violations:
        by_constraint.setdefault(_constraint(violation), []).append(violation)
    turns = itertools.zip_longest(*(by_constraint[key] for key in sorted(by_constraint)))
    return [violation for turn in turns for violation in turn if violation is not None][:shown]


ALSO_AT = 5  # how many other places a violation names where its focus node is described


def validate(data: Graph, shapes: Graph, index: SubjectIndex | None = None) -> ValidationReport:
    """Validate `data` (ontology merged in, so subclass links count) against `shapes`."""
    import pyshacl  # imported here: the build validates on the store, and pyshacl takes long to load
    from pyshacl.errors import ReportableRuntimeError, ValidationFailure

    from kg.build.prepared import prepared_queries  # rdflib's SPARQL processor, as slow to load

    check_shapes_read(shapes)
    refused = "shapes: the reference engine (pyshacl) refuses them"
    try:
        with prepared_queries():
            conforms, report_graph, _ = pyshacl.validate(
                data, shacl_graph=shapes, inference="none", abort_on_first=False, allow_warnings=False
            )
    except ReportableRuntimeError as error:  # a shape it cannot load (`sh:minCount "x"`), said so
        raise InvalidShape(f"{refused}: {error.message}") from None
    except re.error as error:  # an sh:pattern Python's `re` does not read
        raise InvalidShape(f"{refused}: sh:pattern {error.pattern!r}: {error}") from None
    if isinstance(report_graph, ValidationFailure):  # or returns, not raises, a shape it refuses
        raise InvalidShape(f"{refused}: {report_graph.message}")
    return read_report(bool(conforms), report_graph, shapes, index)


def read_report(
    conforms: bool, report_graph: Graph, shapes: Graph, index: SubjectIndex | None = None
) -> ValidationReport:
    """The violations of a SHACL report graph, whichever engine wrote it, in a stable order."""
    results = report_graph.subjects(SH.resultSeverity, None)
    violations = [_violation(report_graph, shapes, result) for result in results]
    return report_of(conforms, violations, lambda: report_graph, index)


def report_of(
    conforms: bool, violations: list[Violation], make_graph: Callable[[], Graph], index: SubjectIndex | None
) -> ValidationReport:
    """The report of these violations in a stable order, each found in its files when `index` is given."""
    return ValidationReport(conforms, _placed(violations, index), make_graph)


def _placed(violations: list[Violation], index: SubjectIndex | None) -> list[Violation]:
    """The violations, each found in its files when `index` is given, in a stable order."""
    return sorted((_located(violation, index) for violation in violations), key=_order)


def _order(violation: Violation) -> tuple[str, ...]:
    """Violations by the place they are written, then by what they name."""
    return (
        violation.location or "~",
        violation.focus_node,
        violation.shape,
        violation.message,
        *_path_and_value(violation),
        violation.severity,
        violation.component or "",
    )


def _violation(report: Graph, shapes: Graph, result: Node) -> Violation:
    def said(predicate: URIRef) -> Node | None:
        return report.value(result, predicate)

    return violation_of(
        shapes,
        said(SH.focusNode),
        said(SH.sourceShape),
        path_text(report, said(SH.resultPath)),
        said(SH.value),
        preferred_message(report.objects(result, SH.resultMessage)),
        said(SH.resultSeverity),
        said(SH.sourceConstraintComponent),
    )


def violation_of(
    shapes: Graph,
    focus: Node | None,
    source_shape: Node | None,
    path: str | None,
    value: Node | None,
    message: object | None,
    severity: Node | None,
    component: Node | None,
) -> Violation:
    """The violation a SHACL result's parts say, whether read from a report graph or from a query's
    answer: the one reading, so that both engines' violations compare alike."""
    return Violation(
        focus_node=str(focus),
        shape=shape_name(shapes, source_shape),
        message=str(message) if message is not None else "constraint not met",
        path=path,
        value=value.n3() if value is not None else None,
        severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
        component=str(component) if component is not None else None,
    )


def _located(violation: Violation, index: SubjectIndex | None) -> Violation:
    """The violation with the places its focus node is described."""
    if index is None:
        return violation
    places = [str(place) for place in index.find_all(violation.focus_node)]
    return replace(
        violation,
        location=places[0] if places else None,
        also_at=tuple(places[1 : ALSO_AT + 1]),
        more_places=max(len(places) - ALSO_AT - 1, 0),
    )


def path_text(graph: Graph, path: Node | None) -> str | None:
    """A result's path as its violation names it: an IRI as itself, a complex path written in `graph`
    as a SPARQL property path, so that two constraints with complex paths are told apart."""
    if path is None:
        return None
    if isinstance(path, URIRef):
        return str(path)
    try:
        return property_path(graph, path)
    except Unsupported:
        return "(complex path)"


def _path_and_value(violation: Violation) -> tuple[str, str]:
    return violation.path or "", violation.value or ""
