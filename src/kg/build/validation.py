"""SHACL validation, and violations reported so a curator can find and fix them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from rdflib import Graph, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from kg.build.locate import SubjectIndex
from kg.build.shape_queries import InvalidShape, check_pre_binding


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

    def describe(self) -> str:
        lines = [f"{self.severity}: {self.message}", f"  focus node: {self.focus_node}"]
        lines.append(f"  shape:      {self.shape}")
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


@dataclass
class ValidationReport:
    conforms: bool
    violations: list[Violation]
    report_graph: Graph

    def as_json(self) -> str:
        return json.dumps(
            {"conforms": self.conforms, "violations": [asdict(v) for v in self.violations]},
            indent=2,
            ensure_ascii=False,
        )

    def as_text(self) -> str:
        if self.conforms:
            return "conforms: 0 violations"
        body = "\n\n".join(v.describe() for v in self.violations)
        return f"{body}\n\n{len(self.violations)} violation(s)"


ALSO_AT = 5  # how many other places a violation names where its focus node is described


def validate(data: Graph, shapes: Graph, index: SubjectIndex | None = None) -> ValidationReport:
    """Validate `data` (ontology merged in, so subclass links count) against `shapes`."""
    import pyshacl  # imported here: the build validates on the store, and pyshacl takes long to load
    from pyshacl.errors import ValidationFailure

    from kg.build.prepared import prepared_queries  # rdflib's SPARQL processor, as slow to load

    check_pre_binding(shapes)
    with prepared_queries():
        conforms, report_graph, _ = pyshacl.validate(
            data, shacl_graph=shapes, inference="none", abort_on_first=False, allow_warnings=False
        )
    if isinstance(report_graph, ValidationFailure):  # pyshacl returns, not raises, a shape it refuses
        raise InvalidShape(f"shapes: the reference engine (pyshacl) refuses them: {report_graph.message}")
    return read_report(bool(conforms), report_graph, shapes, index)


def read_report(
    conforms: bool, report_graph: Graph, shapes: Graph, index: SubjectIndex | None = None
) -> ValidationReport:
    """The violations of a SHACL report graph, whichever engine wrote it, in a stable order."""
    violations = [
        _violation(report_graph, shapes, result, index)
        for result in report_graph.subjects(SH.resultSeverity, None)
    ]
    violations.sort(key=lambda v: (v.location or "~", v.focus_node, v.shape, v.message, *_path_and_value(v)))
    return ValidationReport(conforms, violations, report_graph)


def _violation(report: Graph, shapes: Graph, result: Node, index: SubjectIndex | None) -> Violation:
    focus = report.value(result, SH.focusNode)
    source_shape = report.value(result, SH.sourceShape)
    path = report.value(result, SH.resultPath)
    value = report.value(result, SH.value)
    message = report.value(result, SH.resultMessage)
    severity = report.value(result, SH.resultSeverity)
    places = [str(place) for place in index.find_all(str(focus))] if index is not None else []
    return Violation(
        focus_node=str(focus),
        shape=_shape_name(shapes, source_shape),
        message=str(message) if message is not None else "constraint not met",
        path=_path_text(path),
        value=value.n3() if value is not None else None,
        severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
        location=places[0] if places else None,
        also_at=tuple(places[1 : ALSO_AT + 1]),
        more_places=max(len(places) - ALSO_AT - 1, 0),
    )


def _shape_name(shapes: Graph, shape: Node | None) -> str:
    """The IRI of the node shape a (possibly blank) property shape or SPARQL constraint belongs to."""
    if isinstance(shape, URIRef):
        return str(shape)
    for parent in list(shapes.subjects(SH.property, shape)) + list(shapes.subjects(SH.sparql, shape)):
        if isinstance(parent, URIRef):
            return str(parent)
    return str(shape)


def _path_text(path: Node | None) -> str | None:
    if path is None:
        return None
    if isinstance(path, URIRef):
        return str(path)
    return "(complex path)"


def _path_and_value(violation: Violation) -> tuple[str, str]:
    return violation.path or "", violation.value or ""
