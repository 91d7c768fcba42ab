"""Every shape and every SPARQL rule rejects a graph crafted to break it, with its own message.

The project's own graph is changed in many independent places at once (the cases
of `shacl_cases`), validated once by pyshacl, and each case's violation must
appear for its focus node, from its shape.
"""

from __future__ import annotations

import re

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH
from shacl_cases import CASES, case_violations

from kg.build.pipeline import DATA_GRAPHS, merged
from kg.build.project import load_project
from kg.build.validation import Violation
from kg.namespaces import KG


def test_every_shape_has_a_case(project_root) -> None:
    shapes_in_cases = {shape for _, _, _, shape, _ in CASES}
    lines = (project_root / "ontology" / "shapes.ttl").read_text("utf-8").splitlines()
    declared = {line.split()[0].removeprefix("kgsh:") for line in lines if " a sh:NodeShape" in line}
    assert declared <= shapes_in_cases, (
        f"shapes without a negative case: {sorted(declared - shapes_in_cases)}"
    )


@pytest.mark.parametrize("case,update,focus,shape,message", CASES, ids=[c[0] for c in CASES])
def test_broken_graph_is_rejected(
    broken_reference: tuple[bool, list[Violation]],
    case: str,
    update: str,
    focus: str,
    shape: str,
    message: str,
) -> None:
    conforms, violations = broken_reference
    assert not conforms
    matching = case_violations(violations, focus, shape, message)
    assert matching, f"{case}: no {shape} violation mentioning {message!r} on {focus}"


def test_every_class_the_graph_uses_is_targeted_by_a_shape(graphs: tuple[Graph, Graph], project_root) -> None:
    """A class is covered when a shape targets it or one of its superclasses."""
    data, shapes = graphs
    targeted = set(shapes.objects(None, SH.targetClass))
    used = set(merged(load_project(project_root), DATA_GRAPHS).objects(None, RDF.type))
    uncovered = [c for c in used if not targeted & set(data.transitive_objects(c, RDFS.subClassOf))]
    assert not uncovered, f"classes no shape covers: {sorted(uncovered)}"


def test_every_datatype_property_is_held_to_its_range_wherever_it_is_used(
    graphs: tuple[Graph, Graph], project_root
) -> None:
    """A property's declared range is checked on every thing the graph uses it on: a shape whose target
    reaches the thing (its class or a superclass, or the subjects of the property) says the value's
    datatype. A policy measure's aim, a region's terrain and a person's role written without their
    language tag had passed every shape. A data set's measures are checked by the observation's rules
    (one value, of the datatype of its measure's range, in its measure's unit); a number's range may be
    checked by a bound, which a value that is no number fails (a leg's index, written `1`, is an
    xsd:integer)."""
    data, shapes = graphs
    checked: dict[URIRef, set[URIRef]] = {}  # property -> targets (classes, or the property itself)
    checks = (SH.datatype, SH.minInclusive, SH.minExclusive)
    for property_shape in {shape for check in checks for shape in shapes.subjects(check, None)}:
        path = shapes.value(property_shape, SH.path)
        for node_shape in shapes.subjects(SH.property, property_shape):
            targets = set(shapes.objects(node_shape, SH.targetClass))
            targets |= set(shapes.objects(node_shape, SH.targetSubjectsOf))
            checked.setdefault(path, set()).update(targets)
    curated = merged(load_project(project_root), DATA_GRAPHS)
    unchecked = set()
    for prop in data.subjects(RDF.type, OWL.DatatypeProperty):
        if not str(prop).startswith(str(KG)) or (prop, RDF.type, KG.Measure) in data:
            continue
        for thing in set(curated.subjects(prop, None)):
            reach = {prop}
            for cls in curated.objects(thing, RDF.type):
                reach |= set(data.transitive_objects(cls, RDFS.subClassOf))
            if not reach & checked.get(prop, set()):
                classes = sorted(str(c).removeprefix(str(KG)) for c in curated.objects(thing, RDF.type))
                unchecked.add((str(prop).removeprefix(str(KG)), ", ".join(classes)))
    assert not unchecked, (
        f"properties whose datatype no shape checks on things of these classes: {sorted(unchecked)}"
    )


def test_no_pattern_ends_with_a_dollar_that_engines_read_differently(graphs: tuple[Graph, Graph]) -> None:
    """XPath's `$` matches at the end of the text only; Python's (pyshacl) and Java's (Jena) also
    before a last line break, so `"MX\\n"` passed `^[A-Z]{2}$` in two engines and failed in the store.
    A pattern's end is bounded by sh:maxLength, or checked in SPARQL where a line break is refused by
    name."""
    _, shapes = graphs
    patterns = [str(pattern) for pattern in shapes.objects(None, SH.pattern)]
    assert patterns and not [p for p in patterns if p.endswith("$")], patterns


def test_only_the_series_rule_has_a_sub_select_without_this(graphs: tuple[Graph, Graph]) -> None:
    """SHACL-SPARQL (5.3.1.1) asks a sub-SELECT to return every variable pre-bound, $this among them.
    One rule keeps a sub-SELECT that does not, for its cost (docs/curating.md): no other may."""
    _, shapes = graphs
    without = {
        str(shapes.value(predicate=SH.sparql, object=constraint))
        for constraint, text in shapes.subject_objects(SH.select)
        if any("$this" not in p for p in re.findall(r"SELECT(.*?)WHERE", str(text), re.S | re.I)[1:])
    }
    assert without == {"https://w3id.org/opioid-kg/shapes#SeriesPeriodKindShape"}
