"""SHACL shapes compiled into SPARQL queries, each run once over the whole store.

pyshacl evaluates a constraint once per focus node, which grows as (nodes ×
constraints) with a query parse each time. Here every constraint of every
shape becomes one SELECT over the store, its focus nodes a pattern of the
query (as RDF4J and Jena validate in bulk), returning the offending
(focus node, value) pairs. The constraint components the project's shapes use
are compiled; a shape that uses any other raises `Unsupported`, and the caller
falls back to pyshacl, the reference engine, so the verdict never depends on
which engine ran.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node

from kg.errors import KgError

# Types Oxigraph's store re-types to xsd:integer on load, so a datatype test on them cannot be made there.
_RETYPED = {
    XSD[name]
    for name in (
        "nonNegativeInteger positiveInteger nonPositiveInteger negativeInteger long int short byte "
        "unsignedLong unsignedInt unsignedShort unsignedByte"
    ).split()
}
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_SHAPE_KEYS = {
    RDF.type, RDFS.label, RDFS.comment, SH.message, SH.severity, SH.name, SH.description, SH.order,
    SH.group, SH.property, SH.sparql, SH.path, SH.prefixes, SH.declare, *_TARGETS,
}  # fmt: skip
_RANGE = {
    SH.minInclusive: ">=",
    SH.maxInclusive: "<=",
    SH.minExclusive: ">",
    SH.maxExclusive: "<",
}
_LOGICAL = (SH["or"], SH["and"], SH["not"], SH.xone)


class Unsupported(KgError):
    """A shape uses a SHACL feature this compiler does not translate."""


@dataclass(frozen=True)
class ShapeQuery:
    """One constraint as a query: its rows are the violations, `?this` and (when bound) `?value`."""

    source_shape: Node  # the shape that holds the constraint, as the report names it
    component: URIRef  # the SHACL constraint component
    path: Node | None  # the property shape's path, as written in the shapes graph
    message: str | None
    severity: URIRef
    sparql: str
    value_is_focus: bool  # node-level constraints report the focus node as the value


_HEADER = (
    "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
)
FOCUS_OPENING = "{ SELECT DISTINCT ?this WHERE { "  # how a focus nodes' pattern opens (read by `reach`)
_COUNTED = (
    "SELECT ?this WHERE {{ {focus} OPTIONAL {{ ?this {path} ?value {test}}} }} "
    "GROUP BY ?this HAVING (COUNT(DISTINCT ?value) {comparison})"
)


def shape_classes(shapes: Graph) -> set[URIRef]:
    """Every class the shapes target or require, whose subclasses the compiler must know."""
    classes = set(shapes.objects(None, SH.targetClass)) | set(shapes.objects(None, SH["class"]))
    return {c for c in classes if isinstance(c, URIRef)}


def compile_shapes(
    shapes: Graph, subclasses: Mapping[URIRef, Iterable[URIRef]] | None = None
) -> list[ShapeQuery]:
    """One query per constraint of every node shape with a target; raises Unsupported.

    `subclasses` gives, for each class of `shape_classes`, that class and every subclass of it in
    the data: an instance test then is an index lookup per class (`?x a ?c`, ?c among them) rather
    than a property path walked for every node. Without it the queries walk `rdfs:subClassOf*`.
    """
    compiler = _Compiler(shapes, subclasses)
    queries: list[ShapeQuery] = []
    for node_shape in sorted(set(shapes.subjects(RDF.type, SH.NodeShape)), key=str):
        if shapes.value(node_shape, SH.deactivated) != Literal(True):
            queries.extend(compiler.node_shape(node_shape))
    return queries


class _Compiler:
    def __init__(self, shapes: Graph, subclasses: Mapping[URIRef, Iterable[URIRef]] | None) -> None:
        self.shapes = shapes
        self.subclasses: dict[Node, list[URIRef]] = {
            c: sorted(set(subs), key=str) for c, subs in (subclasses or {}).items()
        }
        self.names = itertools.count()

    def instance_of(self, var: str, classes: list[Node]) -> str:
        """A pattern matching when `var` is an instance of any of `classes` or of their subclasses."""
        if not all(c in self.subclasses for c in classes):
            kind = self.fresh()
            values = " ".join(_n3(c) for c in classes)
            return f"VALUES {kind} {{ {values} }} {var} rdf:type/rdfs:subClassOf* {kind} ."
        members = sorted({sub for c in classes for sub in self.subclasses[c]}, key=str)
        if len(members) == 1:
            return f"{var} a {_n3(members[0])} ."
        kind = self.fresh()
        return f"VALUES {kind} {{ {' '.join(_n3(m) for m in members)} }} {var} a {kind} ."

    def fresh(self) -> str:
        return f"?v{next(self.names)}"

    def focus(self, shape: Node) -> str:
        """A group pattern binding ?this to each focus node of `shape` once."""
        parts = []
        classes = sorted(self.shapes.objects(shape, SH.targetClass), key=str)
        if (shape, RDF.type, RDFS.Class) in self.shapes:
            classes.append(shape)
        if classes:
            parts.append(f"{{ {self.instance_of('?this', classes)} }}")
        parts += [f"{{ BIND({_n3(n)} AS ?this) }}" for n in self.shapes.objects(shape, SH.targetNode)]
        parts += [f"{{ ?this {_n3(p)} [] }}" for p in self.shapes.objects(shape, SH.targetSubjectsOf)]
        parts += [f"{{ [] {_n3(p)} ?this }}" for p in self.shapes.objects(shape, SH.targetObjectsOf)]
        return FOCUS_OPENING + " UNION ".join(parts) + " } }" if parts else ""

    def query(self, shape: Node, component: URIRef, sparql: str, *, path: Node | None = None,
              message: str | None = None, severity: Node | None = None) -> ShapeQuery:  # fmt: skip
        return ShapeQuery(
            source_shape=shape,
            component=component,
            path=path,
            message=message or self.message(shape),
            severity=URIRef(str(severity or self.shapes.value(shape, SH.severity) or SH.Violation)),
            sparql=_HEADER + sparql,
            value_is_focus=path is None,
        )

    def node_shape(self, shape: Node) -> Iterator[ShapeQuery]:
        focus = self.focus(shape)
        if not focus:
            return
        for key in set(self.shapes.predicates(shape)) - _SHAPE_KEYS:
            if key in _LOGICAL:
                failing = self.logical(shape, key)
            else:
                failing = f"!({self.value_condition(shape, key, '?this')})"
            yield self.query(shape, _component(key), f"SELECT ?this WHERE {{ {focus} FILTER ({failing}) }}")
        for property_shape in self.shapes.objects(shape, SH.property):
            yield from self.property_shape(shape, property_shape, focus)
        for constraint in self.shapes.objects(shape, SH.sparql):
            yield self.sparql_constraint(shape, constraint, focus)

    def property_shape(self, node_shape: Node, shape: Node, focus: str) -> Iterator[ShapeQuery]:
        path_node = self.shapes.value(shape, SH.path)
        if path_node is None:
            raise Unsupported(f"{shape}: a property shape without sh:path")
        path = self.path(path_node)
        message = self.message(shape) or self.message(node_shape)
        where = f"{focus} ?this {path} ?value ."

        def emit(component: URIRef, sparql: str) -> ShapeQuery:
            return self.query(shape, component, sparql, path=path_node, message=message)

        for key in sorted(set(self.shapes.predicates(shape)) - _SHAPE_KEYS, key=str):
            value = self.shapes.value(shape, key)
            if key in (SH.minCount, SH.maxCount):
                comparison = f"< {_int(value)}" if key == SH.minCount else f"> {_int(value)}"
                counted = _COUNTED.format(focus=focus, path=path, test="", comparison=comparison)
                yield emit(_component(key), counted)
            elif key == SH.uniqueLang:
                if value == Literal(True):
                    yield emit(
                        SH.UniqueLangConstraintComponent,
                        f'SELECT ?this WHERE {{ {where} FILTER (LANG(?value) != "") }} GROUP BY ?this '
                        "(LCASE(LANG(?value)) AS ?language) HAVING (COUNT(DISTINCT ?value) > 1)",
                    )
            elif key == SH.qualifiedValueShape:
                if self.shapes.value(shape, SH.qualifiedValueShapesDisjoint) == Literal(True):
                    raise Unsupported(f"{shape}: sh:qualifiedValueShapesDisjoint")
                test = f"FILTER ({self.conforms(value, '?value')}) "
                for bound, op in ((SH.qualifiedMinCount, "<"), (SH.qualifiedMaxCount, ">")):
                    count = self.shapes.value(shape, bound)
                    if count is not None:
                        counted = _COUNTED.format(
                            focus=focus, path=path, test=test, comparison=f"{op} {_int(count)}"
                        )
                        yield emit(_component(bound), counted)
            elif key in (SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint):
                continue  # compiled with sh:qualifiedValueShape
            elif key in _LOGICAL:
                raise Unsupported(f"{shape}: {key} on a property shape")
            else:
                condition = self.value_condition(shape, key, "?value")
                yield emit(
                    _component(key), f"SELECT ?this ?value WHERE {{ {where} FILTER (!({condition})) }}"
                )

    def logical(self, shape: Node, key: Node) -> str:
        """The condition under which a focus node fails a node-level sh:or, sh:and, sh:not or sh:xone."""
        if key == SH["not"]:
            return self.conforms(self.shapes.value(shape, key), "?this")
        members = [self.conforms(member, "?this") for member in self._list(self.shapes.value(shape, key))]
        if key == SH["or"]:
            return "!(" + " || ".join(members) + ")"
        if key == SH["and"]:
            return "!(" + " && ".join(members) + ")"
        return "(" + " + ".join(f"IF({m}, 1, 0)" for m in members) + ") != 1"

    def sparql_constraint(self, shape: Node, constraint: Node, focus: str) -> ShapeQuery:
        """The constraint's own SELECT, run once for every focus node instead of once per node.

        SHACL pre-binds `$this` to one focus node; here the focus nodes' pattern opens the
        SELECT's own WHERE group, so `$this` is bound before that group's filters are evaluated,
        as it is when pre-bound (a constraint may bind `$this` in a FILTER NOT EXISTS only).
        """
        text = self.shapes.value(constraint, SH.select)
        if text is None:
            raise Unsupported(f"{constraint}: a SPARQL constraint without sh:select")
        opening = str(text).find("{")
        if opening < 0 or "$this" not in str(text)[opening:]:
            raise Unsupported(f"{constraint}: a SELECT without a WHERE group that uses $this")
        select = f"{str(text)[: opening + 1]} {focus} {str(text)[opening + 1 :]}"
        prefixes = "".join(
            f"PREFIX {self.shapes.value(d, SH.prefix)}: <{self.shapes.value(d, SH.namespace)}>\n"
            for holder in self.shapes.objects(constraint, SH.prefixes)
            for d in self.shapes.objects(holder, SH.declare)
        )
        sparql = f"{prefixes}SELECT DISTINCT ?this ?value WHERE {{ {{ {select} }} }}"
        message = self.message(constraint) or self.message(shape)
        return self.query(shape, SH.SPARQLConstraintComponent, sparql, message=message)

    def value_condition(self, shape: Node, key: Node, var: str) -> str:
        """The SPARQL expression true when the value `var` meets constraint `key` of `shape`."""
        value = self.shapes.value(shape, key)
        if key == SH["class"]:
            classes = list(self.shapes.objects(shape, key))
            return " && ".join(f"EXISTS {{ {self.instance_of(var, [c])} }}" for c in classes)
        if key == SH.datatype:
            if value == RDF.langString:
                return f'isLiteral({var}) && LANG({var}) != ""'
            if value in _RETYPED:
                raise Unsupported(f"{shape}: sh:datatype {value} (the store re-types it)")
            return f"isLiteral({var}) && DATATYPE({var}) = {_n3(value)}"
        if key == SH.nodeKind:
            kinds = {
                SH.IRI: f"isIRI({var})",
                SH.BlankNode: f"isBlank({var})",
                SH.Literal: f"isLiteral({var})",
                SH.BlankNodeOrIRI: f"!isLiteral({var})",
                SH.BlankNodeOrLiteral: f"!isIRI({var})",
                SH.IRIOrLiteral: f"!isBlank({var})",
            }
            return kinds[URIRef(str(value))]
        if key == SH.pattern:
            flags = self.shapes.value(shape, SH.flags)
            extra = f", {Literal(str(flags)).n3()}" if flags is not None else ""
            return f"!isBlank({var}) && REGEX(STR({var}), {Literal(str(value)).n3()}{extra})"
        if key == SH.flags:
            return "true"  # read with sh:pattern
        if key in (SH.minLength, SH.maxLength):
            op = ">=" if key == SH.minLength else "<="
            return f"!isBlank({var}) && STRLEN(STR({var})) {op} {_int(value)}"
        if key in _RANGE:
            return f"COALESCE({var} {_RANGE[URIRef(str(key))]} {_n3(value)}, false)"
        if key == SH.languageIn:
            languages = [str(tag).lower() for tag in self._list(value)]
            if "*" in languages:
                return f'isLiteral({var}) && LANG({var}) != ""'
            tests = " || ".join(f"LANGMATCHES(LANG({var}), {Literal(tag).n3()})" for tag in languages)
            return f'isLiteral({var}) && LANG({var}) != "" && ({tests})'
        if key == SH.hasValue:
            raise Unsupported(f"{shape}: sh:hasValue")
        if key == SH["in"]:
            members = ", ".join(_n3(m) for m in self._list(value))
            return f"{var} IN ({members})"
        raise Unsupported(f"{shape}: {key}")

    def conforms(self, shape: Node | None, var: str) -> str:
        assert shape is not None, "a shape reference names a shape"
        """An expression true when the node `var` conforms to `shape` (used inside sh:or, sh:xone, …)."""
        tests = []
        path_node = self.shapes.value(shape, SH.path)
        for key in sorted(set(self.shapes.predicates(shape)) - _SHAPE_KEYS, key=str):
            value = self.shapes.value(shape, key)
            if path_node is None:
                tests.append(self.value_condition(shape, key, var))
                continue
            path = self.path(path_node)
            other, second = self.fresh(), self.fresh()
            if key == SH.minCount and _int(value) <= 1:
                tests.append(f"EXISTS {{ {var} {path} {other} }}" if _int(value) == 1 else "true")
            elif key == SH.maxCount and _int(value) <= 1:
                extra = f" , {second} FILTER (!sameTerm({other}, {second}))" if _int(value) == 1 else ""
                tests.append(f"NOT EXISTS {{ {var} {path} {other}{extra} }}")
            elif key == SH.qualifiedValueShape:
                inner = self.conforms(value, other)
                minimum = self.shapes.value(shape, SH.qualifiedMinCount)
                maximum = self.shapes.value(shape, SH.qualifiedMaxCount)
                if maximum is not None or (minimum is not None and _int(minimum) > 1):
                    raise Unsupported(f"{shape}: a nested qualified count other than a minimum of 1")
                if minimum is not None and _int(minimum) == 1:
                    tests.append(f"EXISTS {{ {var} {path} {other} FILTER ({inner}) }}")
            elif key in (SH.qualifiedMinCount, SH.qualifiedMaxCount):
                continue
            elif key in (SH.minCount, SH.maxCount, SH.uniqueLang) or key in _LOGICAL:
                raise Unsupported(f"{shape}: nested {key}")
            else:
                condition = self.value_condition(shape, key, other)
                tests.append(f"NOT EXISTS {{ {var} {path} {other} FILTER (!({condition})) }}")
        return "(" + " && ".join(tests or ["true"]) + ")"

    def path(self, node: Node) -> str:
        """A SHACL path as a SPARQL property path."""
        if isinstance(node, URIRef):
            return _n3(node)
        inverse = self.shapes.value(node, SH.inversePath)
        if inverse is not None:
            return f"^({self.path(inverse)})"
        alternatives = self.shapes.value(node, SH.alternativePath)
        if alternatives is not None:
            return "(" + " | ".join(self.path(p) for p in self._list(alternatives)) + ")"
        for key, suffix in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
            inner = self.shapes.value(node, key)
            if inner is not None:
                return f"({self.path(inner)}){suffix}"
        if (node, RDF.first, None) in self.shapes:
            return "(" + " / ".join(self.path(p) for p in self._list(node)) + ")"
        raise Unsupported(f"path {node}")

    def message(self, shape: Node) -> str | None:
        messages = sorted(
            self.shapes.objects(shape, SH.message),
            key=lambda m: (not (isinstance(m, Literal) and m.language == "en"), str(m)),
        )
        return str(messages[0]) if messages else None

    def _list(self, head: Node | None) -> list[Node]:
        return list(Collection(self.shapes, head)) if head is not None else []


def _component(key: Node) -> URIRef:
    name = str(key).rsplit("#", 1)[-1]
    return SH[name[0].upper() + name[1:] + "ConstraintComponent"]


def _n3(node: Node | None) -> str:
    assert node is not None, "a shape's value is given"
    if isinstance(node, BNode):
        raise Unsupported(f"a blank node {node} where a constant is needed")
    return node.n3()


def _int(node: Node | None) -> int:
    """An integer a shape gives (sh:minCount 1), from its lexical form."""
    return int(str(node))
