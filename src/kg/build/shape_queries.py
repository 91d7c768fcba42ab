"""SHACL shapes compiled into validators: fixed queries run once each over the whole store.

pyshacl evaluates a constraint once per focus node, which grows as (nodes ×
constraints) with a query parse each time. Here every constraint of every shape
is answered by queries over all its focus nodes at once (as RDF4J and Jena
validate in bulk), returning the offending (focus node, value) pairs.

The queries are files, one per constraint component, in kg/build/queries/shacl/,
written as SHACL §6 writes the validators of SPARQL-based constraint components:
a SELECT in which `?this` is the focus node, `?value` the value node, and the
component's parameters variables bound to typed terms; `$PATH` is the one place
text is substituted, the property shape's path in SPARQL syntax, as the
recommendation substitutes it. The focus nodes are the same fixed pattern in
every file, the shape's targets typed parameters too.

Each validator reads the path's values in a sub-SELECT of its own (DISTINCT: value
nodes are a set, and a triple in two graphs of the union is one), and tests a
value's class with MINUS rather than FILTER NOT EXISTS. Oxigraph joins a triple
pattern to the rows before it by one index lookup per row and evaluates an EXISTS
once per row; a sub-SELECT and a MINUS it joins by hash, reading each pattern
once. Over every focus node at once that halves the validators' time at 1 M
triples (docs/scale.md); `tests/test_validator_joins.py` keeps them so.

What combines shapes is not one query: a qualified value shape (the values that
conform to a shape, counted; one query when that shape is one sh:class) and
sh:or, sh:and, sh:not and sh:xone on a node shape. The compiler gives their
members' validators as a `Qualified` or `Combined` plan, and `store_validation`
combines the answers as sets, so no query is composed. The two bounds of one
count (sh:minCount with sh:maxCount, or the qualified pair of one class) share
one query of the counts outside either (`Counted`), which reads the values once. A SPARQL-based
constraint (sh:sparql) brings its own SELECT: the focus query opens its WHERE
group, where SHACL pre-binds `$this`, behind the prefixes the shapes declare for
it. A shape that uses any other feature raises
`Unsupported`, and the caller falls back to pyshacl, the reference engine, so the
verdict never depends on which engine ran.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node

from kg.build.queries import shacl_queries, sparql
from kg.errors import KgError
from kg.files import text_lines
from kg.store.base import selected
from kg.store.queryfiles import CatalogueError
from kg.store.sparql import Token, each_token, limited, projection, tokens, where_opening

# Types Oxigraph's store re-types to xsd:integer on load, so a datatype test on them cannot be made there.
_RETYPED = {
    XSD[name]
    for name in (
        "nonNegativeInteger positiveInteger nonPositiveInteger negativeInteger long int short byte "
        "unsignedLong unsignedInt unsignedShort unsignedByte"
    ).split()
}
_NUMBERS = {XSD.integer, XSD.decimal} | _RETYPED
_TARGETS = {
    SH.targetClass: "targetClass",
    SH.targetNode: "targetNode",
    SH.targetSubjectsOf: "targetSubjectsOf",
    SH.targetObjectsOf: "targetObjectsOf",
}
# What a shape may say that constrains nothing by itself.
_DESCRIPTIVE = {
    RDF.type, RDFS.label, RDFS.comment, SH.message, SH.severity, SH.name, SH.description, SH.order,
    SH.group, SH.prefixes, SH.declare,
}  # fmt: skip
# What a node shape says that the compiler reads apart from its constraint components.
_SHAPE_KEYS = _DESCRIPTIVE | {SH.property, SH.sparql, SH.path, *_TARGETS}
# The components tested on each value node, by the parameter that names them: the validator file.
_VALUE_FILES = {
    SH["class"]: "class", SH.datatype: "datatype", SH.nodeKind: "node-kind", SH.pattern: "pattern",
    SH.minLength: "min-length", SH.maxLength: "max-length", SH.minInclusive: "min-inclusive",
    SH.maxInclusive: "max-inclusive", SH.minExclusive: "min-exclusive", SH.maxExclusive: "max-exclusive",
    SH.languageIn: "language-in", SH["in"]: "in",
}  # fmt: skip
_NODE_KINDS = {SH.IRI, SH.BlankNode, SH.Literal, SH.BlankNodeOrIRI, SH.BlankNodeOrLiteral, SH.IRIOrLiteral}
_LOGICAL = {SH["or"]: "or", SH["and"]: "and", SH["not"]: "not", SH.xone: "xone"}
_QUALIFIED = {SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint}

Given = dict[str, str | Sequence[str]]


class Unsupported(KgError):
    """A shape uses a SHACL feature this compiler does not translate."""


class InvalidShape(KgError):
    """A shape SHACL does not allow, which no engine validates with."""


# The parameters SHACL gives as non-negative integers.
_INTEGERS = (SH.minCount, SH.maxCount, SH.minLength, SH.maxLength, SH.qualifiedMinCount, SH.qualifiedMaxCount)
# What a SELECT whose `$this` SHACL pre-binds must not use (SHACL 5.3.1), and the variables it may
# pre-bind, which the SELECT must not bind with AS.
_NOT_PRE_BINDABLE = ("MINUS", "VALUES", "SERVICE")
_PRE_BOUND = ("this", "shapesGraph", "currentShape")


def check_pre_binding(shapes: Graph) -> None:
    """Raise `InvalidShape` naming the first shape whose sh:select uses what SHACL forbids where it
    pre-binds `$this` (5.3.1): MINUS, VALUES or SERVICE, or AS on a pre-bound variable. Both engines
    check it first, so they refuse these shapes with the same message."""
    for shape, constraint in sorted(shapes.subject_objects(SH.sparql), key=str):
        if problem := _pre_binding_problem(tokens(str(shapes.value(constraint, SH.select) or ""))):
            raise InvalidShape(f"{shape}: its sh:select {problem}, which SHACL forbids as it pre-binds $this")


def check_shapes_read(shapes: Graph) -> None:
    """Raise `InvalidShape` naming the first shape no engine can validate with, before either engine
    starts (they would raise their own errors, or, for a pattern, pass every value without a word):
    what SHACL forbids where it pre-binds `$this`, a count or length that is no non-negative integer
    (`sh:maxCount "x"`), a sequence or alternative path of fewer than two paths, and an `sh:pattern`
    that neither SPARQL's REGEX (Oxigraph's) nor Python's `re` (pyshacl's) reads."""
    check_pre_binding(shapes)
    for key in _INTEGERS:
        for shape, value in sorted(shapes.subject_objects(key), key=str):
            if not isinstance(value, Literal) or not re.fullmatch(r"\+?[0-9]+", str(value)):
                shown = value.n3() if isinstance(value, Literal | URIRef) else "a blank node"
                needed = "where SHACL needs a non-negative integer"
                raise InvalidShape(f"{shape_name(shapes, shape)}: sh:{_parameter(key)} {shown}, {needed}")
    for shape, path in sorted(shapes.subject_objects(SH.path), key=str):
        try:
            property_path(shapes, path)
        except ValueError as error:
            raise InvalidShape(f"{shape_name(shapes, shape)}: {error}") from None
        except Unsupported:
            pass  # no path of SHACL's: the compiler names it, or pyshacl
    for shape, pattern in sorted(shapes.subject_objects(SH.pattern), key=str):
        flags = str(shapes.value(shape, SH.flags) or "")
        if not sparql_reads(str(pattern), flags) and not _python_reads(str(pattern), flags):
            raise InvalidShape(
                f"{shape_name(shapes, shape)}: sh:pattern {Literal(pattern).n3()} (sh:flags {flags!r}) is a"
                " regular expression neither SPARQL's REGEX (Oxigraph's) nor Python's (pyshacl's) reads"
            )


@functools.cache
def sparql_reads(pattern: str, flags: str) -> bool:
    """Whether SPARQL's REGEX, as the store evaluates it, reads `pattern` with `flags`: where it does
    not, REGEX is an error for every value, which a FILTER reads as false. Asked once a pattern: the
    shapes' check and their compiler both ask it."""
    asked = ox.Store().query(sparql("pattern-read", pattern=pattern, flags=flags))
    return [row["read"] for row in selected(asked)] != [None]  # read whole: nothing of it held past here


def _python_reads(pattern: str, flags: str) -> bool:
    """Whether Python's `re`, with which pyshacl evaluates `sh:pattern`, reads it (flags as pyshacl
    maps them)."""
    mapped = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
    try:
        re.compile(pattern, sum({mapped.get(flag, 0) for flag in flags}))
    except re.error:
        return False
    return True


def shape_name(shapes: Graph, shape: Node | None) -> str:
    """The IRI of the node shape a (possibly blank) property shape or SPARQL constraint belongs to."""
    if isinstance(shape, URIRef):
        return str(shape)
    for parent in list(shapes.subjects(SH.property, shape)) + list(shapes.subjects(SH.sparql, shape)):
        if isinstance(parent, URIRef):
            return str(parent)
    return str(shape)


def _pre_binding_problem(found: Sequence[Token]) -> str | None:
    for index, token in enumerate(found):
        # A keyword may follow a literal's dot in one name token (`true.MINUS`); after `@` the
        # first part is a language tag.
        parts = token.text.split(".")[1 if index and found[index - 1].text == "@" else 0 :]
        if token.kind == "word" and (used := {part.upper() for part in parts} & set(_NOT_PRE_BINDABLE)):
            return f"uses {min(used)}"
        if token.text.upper() == "AS" and index + 1 < len(found) and found[index + 1].text[1:] in _PRE_BOUND:
            return f"binds {found[index + 1].text} with AS"
    return None


@dataclass(frozen=True)
class Qualified:
    """sh:qualifiedMinCount or sh:qualifiedMaxCount: count, for each focus node, the values that are
    not among those the inner shape's validators report, and report the counts out of bounds."""

    focus: str  # the focus nodes, each once (a node without values counts none)
    values: str  # each focus node with each value of the path
    failing: tuple[str, ...]  # the (focus node, value) pairs whose value does not conform
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class Counted:
    """sh:minCount or sh:maxCount of a property shape that has both (or their qualified forms, of one
    class): one query gives the focus nodes whose count of values lies outside either bound, with
    the count, and each constraint takes those outside its own. Each validator alone reads every
    value of the path; together they read them once."""

    query: str  # rows: ?this, the bounds, and ?count
    minimum: int | None = None
    maximum: int | None = None

    def outside(self, count: int) -> bool:
        """Whether `count` values break this constraint's bound."""
        return (self.minimum is not None and count < self.minimum) or (
            self.maximum is not None and count > self.maximum
        )


@dataclass(frozen=True)
class Combined:
    """sh:or, sh:and, sh:not or sh:xone on a node shape: a focus node fails a member shape when any
    of the member's plans reports it; the operator says which combinations of failures fail."""

    operator: str  # or, and, not, xone
    focus: str
    members: tuple[tuple[ValidationPlan, ...], ...]
    # Member `i`'s plans for the focus nodes given (IRIs) alone, as SHACL pre-binds `$this`: sh:or
    # asks a member only about the nodes that failed the members before it.
    on_nodes: Callable[[int, Sequence[str]], tuple[ValidationPlan, ...]]


# A query whose rows are the violations, or answers to combine.
ValidationPlan = str | Counted | Qualified | Combined


def plan_texts(plan: ValidationPlan) -> Iterator[str]:
    """Every query a plan asks: itself, or the focus, value and inner queries it combines (the plans
    `Combined.on_nodes` makes are its members' plans asked of fewer nodes)."""
    if isinstance(plan, str):
        yield plan
    elif isinstance(plan, Counted):
        yield plan.query
    elif isinstance(plan, Qualified):
        yield from (plan.focus, plan.values, *plan.failing)
    else:
        yield plan.focus
        for member in plan.members:
            for member_plan in member:
                yield from plan_texts(member_plan)


def with_texts(plan: ValidationPlan, text: Callable[[str], str]) -> ValidationPlan:
    """The plan with each of its queries replaced by `text(query)`, combined as before."""
    if isinstance(plan, str):
        return text(plan)
    if isinstance(plan, Counted):
        return replace(plan, query=text(plan.query))
    if isinstance(plan, Qualified):
        return replace(
            plan, focus=text(plan.focus), values=text(plan.values), failing=tuple(map(text, plan.failing))
        )
    members = tuple(tuple(with_texts(p, text) for p in member) for member in plan.members)
    return replace(plan, focus=text(plan.focus), members=members)


@dataclass(frozen=True)
class ShapeQuery:
    """One constraint and how to find its violations: rows with `?this` and (when bound) `?value`."""

    source_shape: Node  # the shape that holds the constraint, as the report names it
    component: URIRef  # the SHACL constraint component
    path: Node | None  # the property shape's path, as written in the shapes graph
    message: Literal | None
    severity: URIRef
    plan: ValidationPlan
    value_is_focus: bool  # node-level constraints report the focus node as the value


def shape_classes(shapes: Graph) -> set[URIRef]:
    """Every class the shapes target or require, whose subclasses the compiler must know."""
    classes = set(shapes.objects(None, SH.targetClass)) | set(shapes.objects(None, SH["class"]))
    classes |= set(shapes.subjects(RDF.type, RDFS.Class)) & set(shapes.subjects(RDF.type, SH.NodeShape))
    return {c for c in classes if isinstance(c, URIRef)}


def compile_shapes(shapes: Graph, subclasses: Mapping[URIRef, Iterable[URIRef]]) -> list[ShapeQuery]:
    """The constraints of every node shape with a target, each with its plan; raises Unsupported.

    `subclasses` gives, for each class of `shape_classes`, that class and every subclass of it in
    the data (a class it does not give stands for itself alone): an instance test then is an index
    lookup per class (`?x a ?c`, ?c among them) rather than a property path walked for every node.
    """
    check_shapes_read(shapes)
    compiler = _Compiler(shapes, subclasses)
    queries: list[ShapeQuery] = []
    # A shape is validated on its targets whether or not it is typed (SHACL 2.1).
    targeted = {shape for key in _TARGETS for shape in shapes.subjects(key, None)}
    for shape in sorted(targeted | set(shapes.subjects(RDF.type, SH.NodeShape)), key=str):
        if shapes.value(shape, SH.deactivated) == Literal(True):
            continue
        if (shape, SH.path, None) in shapes:
            raise Unsupported(f"{shape}: a property shape with targets of its own")
        queries.extend(compiler.node_shape(shape))
    return queries


def focus_opening() -> str:
    """How the focus nodes' sub-SELECT opens in every validator: focus.rq's query up to its first brace.
    A rebuild restricts the focus nodes by a VALUES block written just after it (see `kg.build.reach`)."""
    return _opening("focus", first=True)


def focus_classes(text: str) -> frozenset[str] | None:
    """The classes (subclasses included) whose instances are a validator's focus nodes, read from its
    focus sub-SELECT (focus.rq's blocks of values); None when its shape has targets of another kind
    (a node, the subjects or objects of a predicate), or the text is not laid out so."""
    targets = ("?targetClass", "?targetNode", "?targetSubjectsOf", "?targetObjectsOf")
    blocks = _first_blocks(text, targets)
    if any(name not in blocks for name in targets) or any(blocks[name] for name in targets[1:]):
        return None
    classes = blocks["?targetClass"]
    if not all(iri.startswith("<") and iri.endswith(">") for iri in classes):
        return None
    return frozenset(iri[1:-1] for iri in classes)


def _first_blocks(text: str, names: Sequence[str]) -> dict[str, list[str]]:
    """The terms of the first block of values of each variable `text` gives one to (`VALUES ?x { … }`),
    read until each of `names` has its block: a rebuild asks this of every validator, whose focus
    sub-SELECT opens it, so the rest of the text is not read."""
    found: list[Token] = []
    blocks: dict[str, list[str]] = {}
    opened: tuple[str, int] | None = None  # the block being read: its variable, where its terms start
    for token in each_token(text):
        found.append(token)
        if opened is not None and token.text == "}":
            blocks[opened[0]] = [term.text for term in found[opened[1] : -1]]
            opened = None
            if all(name in blocks for name in names):
                break
        elif token.text == "{" and len(found) > 2 and found[-3].text.upper() == "VALUES":
            if found[-2].text not in blocks:
                opened = (found[-2].text, len(found))
    if opened is not None:  # a block the text does not close
        blocks[opened[0]] = [term.text for term in found[opened[1] :]]
    return blocks


def values_opening() -> str:
    """How the sub-SELECT of the path's values opens in the validators: value-nodes.rq's last group,
    from its brace to the brace of its WHERE. A rebuild restricts it as it restricts the focus nodes,
    so that it reads the values of the reached nodes only (see `kg.build.reach`)."""
    return _opening("value-nodes", first=False)


def _opening(name: str, *, first: bool) -> str:
    """Validator `name`'s first SELECT up to its brace, or its last one from the brace before it."""
    found = tokens(shacl_queries()[name].text)
    selects = [index for index, token in enumerate(found) if token.text.upper() == "SELECT"]
    select = selects[0] if first else selects[-1]
    brace = next(index for index in range(select, len(found)) if found[index].text == "{")
    form = select if first else select - 1
    return " ".join(token.text for token in found[form : brace + 1])


def validator(name: str, given: Given, path: str = "") -> str:
    """Validator `name` with its parameters bound to `given` as terms, and `$PATH` written as `path`."""
    try:
        return shacl_queries()[name].standalone(given, {"PATH": path} if path else None)
    except CatalogueError as error:
        raise Unsupported(f"{name}: {error}") from None


class _Compiler:
    def __init__(self, shapes: Graph, subclasses: Mapping[URIRef, Iterable[URIRef]]) -> None:
        self.shapes = shapes
        self.subclasses = {c: sorted(set(subs) | {c}, key=str) for c, subs in subclasses.items()}

    def with_subclasses(self, classes: Iterable[Node]) -> list[str]:
        return sorted({str(sub) for c in classes for sub in self.subclasses.get(_iri(c), [_iri(c)])})

    def targets(self, shape: Node) -> Given:
        """The shape's targets as the validators' parameters; empty when it has none."""
        given: Given = {name: [] for name in _TARGETS.values()}
        for key, name in _TARGETS.items():
            given[name] = sorted(str(_iri(node)) for node in self.shapes.objects(shape, key))
        classes = list(self.shapes.objects(shape, SH.targetClass))
        if (shape, RDF.type, RDFS.Class) in self.shapes:
            classes.append(shape)
        given["targetClass"] = self.with_subclasses(classes)
        return given if any(given.values()) else {}

    def query(self, shape: Node, component: URIRef, plan: ValidationPlan, *, path: Node | None = None,
              message: Literal | None = None) -> ShapeQuery:  # fmt: skip
        return ShapeQuery(
            source_shape=shape,
            component=component,
            path=path,
            message=message or self.message(shape),
            severity=URIRef(str(self.shapes.value(shape, SH.severity) or SH.Violation)),
            plan=plan,
            value_is_focus=path is None,
        )

    def node_shape(self, shape: Node) -> Iterator[ShapeQuery]:
        targets = self.targets(shape)
        if not targets:
            return
        for key in sorted(set(self.shapes.predicates(shape)) - _SHAPE_KEYS, key=str):
            if key not in _LOGICAL:
                raise Unsupported(f"{shape}: {key} on a node shape")
            yield self.query(shape, _component(key), self.combined(shape, key, targets))
        for property_shape in self.shapes.objects(shape, SH.property):
            path = self.shapes.value(property_shape, SH.path)
            message = self.message(property_shape) or self.message(shape)
            for component, plan in self.property_plans(property_shape, targets):
                yield self.query(property_shape, component, plan, path=path, message=message)
        for constraint in self.shapes.objects(shape, SH.sparql):
            message = self.message(constraint) or self.message(shape)
            plan = self.sparql_constraint(constraint, targets)
            yield self.query(shape, SH.SPARQLConstraintComponent, plan, message=message)

    def property_plans(self, shape: Node, targets: Given) -> Iterator[tuple[URIRef, ValidationPlan]]:
        """Each constraint of a property shape with the plan that finds its violations."""
        path_node = self.shapes.value(shape, SH.path)
        if path_node is None:
            raise Unsupported(f"{shape}: a property shape without sh:path")
        path = self.path(path_node)
        for nested in (SH.sparql, SH.property):
            if (shape, nested, None) in self.shapes:
                raise Unsupported(f"{shape}: {nested} on a property shape")
        bounds = self.bounds(shape, (SH.minCount, SH.maxCount))
        if bounds:
            counts = validator("count-bounds", {**targets, **bounds}, path)
            yield SH.MinCountConstraintComponent, Counted(counts, minimum=int(bounds["minCount"]))
            yield SH.MaxCountConstraintComponent, Counted(counts, maximum=int(bounds["maxCount"]))
        for key in sorted(set(self.shapes.predicates(shape)) - _SHAPE_KEYS, key=str):
            for value in sorted(self.shapes.objects(shape, key), key=str):
                if key in (SH.minCount, SH.maxCount):
                    if not bounds:  # a bound alone: its own validator
                        name = "min-count" if key == SH.minCount else "max-count"
                        parameter = _parameter(key)
                        yield (
                            _component(key),
                            validator(name, {**targets, parameter: str(_int(value))}, path),
                        )
                elif key == SH.uniqueLang:
                    if value == Literal(True):
                        yield SH.UniqueLangConstraintComponent, validator("unique-lang", targets, path)
                elif key == SH.qualifiedValueShape:
                    yield from self.qualified(shape, value, targets, path)
                elif key in _VALUE_FILES:
                    yield _component(key), self.value_validator(shape, key, value, targets, path)
                elif key not in _QUALIFIED and key != SH.flags:  # read with their companions
                    raise Unsupported(f"{shape}: {key} on a property shape")

    def value_validator(self, shape: Node, key: Node, value: Node, targets: Given, path: str) -> str:
        """The validator of the component `key` of `shape` with the parameter `value`."""
        name = _VALUE_FILES[URIRef(str(key))]
        parameter = "".join(part.capitalize() if i else part for i, part in enumerate(name.split("-")))
        given: Given = dict(targets)
        if key == SH["class"]:
            given["class"] = self.with_subclasses([value])
        elif key == SH.nodeKind and value not in _NODE_KINDS:
            raise Unsupported(f"{shape}: sh:nodeKind {value}")
        elif key == SH.datatype and value in _RETYPED:
            raise Unsupported(f"{shape}: sh:datatype {value} (the store re-types it)")
        elif key == SH.pattern:
            flags = str(self.shapes.value(shape, SH.flags) or "")
            if not sparql_reads(str(value), flags):  # Python's reads it (a back-reference): pyshacl does
                raise Unsupported(f"{shape}: sh:pattern {value!r}, which SPARQL's REGEX does not read")
            given |= {"pattern": str(value), "flags": flags}
        elif key in (SH.minLength, SH.maxLength):
            given[parameter] = str(_int(value))
        elif key in (SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive):
            if not isinstance(value, Literal) or value.datatype not in _NUMBERS:
                raise Unsupported(f"{shape}: {key} {value}, which is not an integer or a decimal")
            given[parameter] = str(value)
        elif key == SH.languageIn:
            given[parameter] = [str(tag) for tag in self._list(value)]
        elif key == SH["in"]:
            given[parameter] = [str(_iri(member)) for member in self._list(value)]
        else:
            given[parameter] = str(_iri(value))
        return validator(name, given, path)

    def qualified(
        self, shape: Node, inner: Node, targets: Given, path: str
    ) -> Iterator[tuple[URIRef, ValidationPlan]]:
        """sh:qualifiedMinCount and sh:qualifiedMaxCount: the values conforming to `inner` counted."""
        if self.shapes.value(shape, SH.qualifiedValueShapesDisjoint) == Literal(True):
            raise Unsupported(f"{shape}: sh:qualifiedValueShapesDisjoint")
        if self.shapes.value(inner, SH.path) is not None:
            raise Unsupported(f"{shape}: a qualified value shape with a path")
        classes = list(self.shapes.objects(inner, SH["class"]))
        if set(self.shapes.predicates(inner)) - _DESCRIPTIVE == {SH["class"]} and len(classes) == 1:
            # One sh:class, the common case: one query counts the values of the class.
            bounds = self.bounds(shape, (SH.qualifiedMinCount, SH.qualifiedMaxCount))
            if bounds:
                given = {**targets, "class": self.with_subclasses(classes), **bounds}
                counts = validator("qualified-count-bounds-class", given, path)
                low, high = int(bounds["qualifiedMinCount"]), int(bounds["qualifiedMaxCount"])
                yield SH.QualifiedMinCountConstraintComponent, Counted(counts, minimum=low)
                yield SH.QualifiedMaxCountConstraintComponent, Counted(counts, maximum=high)
                return
            for bound, name in ((SH.qualifiedMinCount, "min"), (SH.qualifiedMaxCount, "max")):
                count = self.shapes.value(shape, bound)
                if count is not None:
                    given = {
                        **targets,
                        "class": self.with_subclasses(classes),
                        _parameter(bound): str(_int(count)),
                    }
                    yield _component(bound), validator(f"qualified-{name}-count-class", given, path)
            return
        failing = []
        for key in sorted(set(self.shapes.predicates(inner)) - _DESCRIPTIVE, key=str):
            if key not in _VALUE_FILES and key != SH.flags:
                raise Unsupported(f"{inner}: {key} in a qualified value shape")
            failing += [
                self.value_validator(inner, key, value, targets, path)
                for value in self.shapes.objects(inner, key)
                if key != SH.flags
            ]
        focus, values = validator("focus", targets), validator("value-nodes", targets, path)
        for key in (SH.qualifiedMinCount, SH.qualifiedMaxCount):
            count = self.shapes.value(shape, key)
            if count is not None:
                limit = {"minimum" if key == SH.qualifiedMinCount else "maximum": _int(count)}
                yield _component(key), Qualified(focus, values, tuple(failing), **limit)

    def bounds(self, shape: Node, keys: tuple[URIRef, URIRef]) -> dict[str, str]:
        """The lower and upper bound `keys` of `shape` as the parameters of one query of both, when it
        gives each once, as an integer; else none (each bound is then read, or refused, on its own)."""
        values = [list(self.shapes.objects(shape, key)) for key in keys]
        if any(len(given) != 1 or not re.fullmatch("[0-9]+", str(given[0])) for given in values):
            return {}
        return {_parameter(key): str(given[0]) for key, given in zip(keys, values, strict=True)}

    def combined(self, shape: Node, key: Node, targets: Given) -> Combined:
        """A node-level sh:or, sh:and, sh:not or sh:xone: each member a property shape."""
        listed = self.shapes.value(shape, key)
        members = [listed] if key == SH["not"] else self._list(listed)
        shapes = []
        for member in members:
            if member is None or self.shapes.value(member, SH.path) is None:
                raise Unsupported(f"{shape}: {key} with a member shape without a path")
            shapes.append(member)

        def plans(index: int, nodes: Sequence[str] | None = None) -> tuple[ValidationPlan, ...]:
            on: Given = targets if nodes is None else {name: [] for name in _TARGETS.values()}
            if nodes is not None:
                on["targetNode"] = nodes
            return tuple(plan for _, plan in self.property_plans(shapes[index], on))

        every = tuple(plans(index) for index in range(len(shapes)))
        return Combined(_LOGICAL[URIRef(str(key))], validator("focus", targets), every, plans)

    def _read(self, constraint: Node, text: str) -> None:
        """Raise InvalidShape, naming the shape, where Oxigraph reads no query in `text`."""
        try:
            ox.Store().query(text)  # an empty store: read, not answered
        except SyntaxError as error:
            raise InvalidShape(
                f"{shape_name(self.shapes, constraint)}: its sh:select is no SPARQL query ({error})"
            ) from None

    def sparql_constraint(self, constraint: Node, targets: Given) -> str:
        """The constraint's own SELECT, run once for every focus node instead of once per node.

        SHACL pre-binds `$this` to one focus node; here the focus query opens the SELECT's own
        WHERE group, so `$this` is bound before that group's filters are evaluated, as it is
        when pre-bound (a constraint may bind `$this` in a FILTER NOT EXISTS only).
        """
        text = str(self.shapes.value(constraint, SH.select) or "")
        prefixes = "".join(
            f"PREFIX {self.shapes.value(d, SH.prefix)}: <{self.shapes.value(d, SH.namespace)}>\n"
            for holder in self.shapes.objects(constraint, SH.prefixes)
            for d in self.shapes.objects(holder, SH.declare)
        )
        self._read(constraint, prefixes + text)  # its own faults, before where its group opens is read
        found = tokens(text)
        opening = where_opening(text)  # not a brace of a projection's EXISTS, a comment or a string
        if opening is None or not any(t.text == "$this" and t.start >= opening for t in found):
            raise Unsupported(f"{constraint}: no sh:select whose WHERE group uses $this")
        projected = projection(text)
        if projected is not None and "this" not in projected:  # the focus node is pre-bound, not a row's
            raise Unsupported(f"{constraint}: an sh:select that does not project $this")
        if limited(text):  # pre-bound, it picks rows of each focus node; run once, of all of them
            raise Unsupported(f"{constraint}: an sh:select with a LIMIT or an OFFSET")
        focus = "\n".join(
            line for line in text_lines(validator("focus", targets)) if not line.startswith("#")
        )
        compiled = f"{prefixes}{text[:opening]}\n{{ {focus} }}\n{text[opening:]}"
        self._read(constraint, compiled)
        return compiled

    def path(self, node: Node) -> str:
        return property_path(self.shapes, node)

    def message(self, shape: Node) -> Literal | None:
        return preferred_message(self.shapes.objects(shape, SH.message))

    def _list(self, head: Node | None) -> list[Node]:
        return list(Collection(self.shapes, head)) if head is not None else []


def property_path(graph: Graph, node: Node) -> str:
    """A SHACL path written in `graph` as a SPARQL property path, an IRI in brackets; a compound
    part in parentheses. Raises Unsupported for what is no SHACL path."""

    def part(inner: Node) -> str:
        """The path `inner` as an operand of `^` or of a repeat: an IRI, an alternative and a
        sequence stand as they are written (in their parentheses); an inverse or a repeat is put in
        parentheses (`(<a> / <b>)*+` is no SPARQL)."""
        text = property_path(graph, inner)
        enclosed = (inner, SH.alternativePath, None) in graph or (inner, RDF.first, None) in graph
        return text if isinstance(inner, URIRef) or enclosed else f"({text})"

    if isinstance(node, URIRef):
        return node.n3()
    inverse = graph.value(node, SH.inversePath)
    if inverse is not None:
        return f"^{part(inverse)}"
    alternatives = graph.value(node, SH.alternativePath)
    if alternatives is not None:
        return "(" + " | ".join(property_path(graph, p) for p in _members(graph, alternatives)) + ")"
    for key, suffix in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        inner = graph.value(node, key)
        if inner is not None:
            return f"{part(inner)}{suffix}"
    if (node, RDF.first, None) in graph:
        return "(" + " / ".join(property_path(graph, p) for p in _members(graph, node)) + ")"
    raise Unsupported(f"path {node}")


def _members(graph: Graph, head: Node) -> list[Node]:
    """The members of a sequence or alternative path's list, which SHACL requires of two at least:
    anything else would be written as no SPARQL path (`()`)."""
    members = list(Collection(graph, head))
    if len(members) < 2:
        raise ValueError(f"a path of {len(members)} where SHACL needs a list of two paths at least")
    return members


def preferred_message(messages: Iterable[Node]) -> Literal | None:
    """The message a result gives of a constraint's `sh:message`s: an English one (`en`, `EN`,
    `en-GB`), else the first by text; as written, its language tag kept, as SHACL's results copy
    it. pyshacl reports every one, in no fixed order."""

    def english(message: Node) -> bool:
        language = message.language if isinstance(message, Literal) else None
        return language is not None and language.lower().split("-")[0] == "en"

    chosen = min(messages, key=lambda m: (not english(m), str(m)), default=None)
    if chosen is None or isinstance(chosen, Literal):
        return chosen
    return Literal(str(chosen))


def _parameter(key: Node) -> str:
    """A SHACL parameter's name, as the validators name its variable (sh:minCount: minCount)."""
    return str(key).rsplit("#", 1)[-1]


def _component(key: Node) -> URIRef:
    name = str(key).rsplit("#", 1)[-1]
    return SH[name[0].upper() + name[1:] + "ConstraintComponent"]


def _iri(node: Node | None) -> URIRef:
    """An IRI a shape gives, where a validator's parameter needs one."""
    if not isinstance(node, URIRef):
        raise Unsupported(f"{node!r} where an IRI is needed")
    return node


def _int(node: Node | None) -> int:
    """An integer a shape gives (sh:minCount 1), from its lexical form (`check_shapes_read` checked it)."""
    return int(str(node))
