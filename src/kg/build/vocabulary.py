"""Checks that the graph uses only terms the ontology declares, gives every thing a class, and names
only things it describes.

A typo in a predicate (`kg:refArae`) is valid RDF and passes every shape that
does not mention it, so undeclared terms are an error of their own. The check
asks the store for the distinct predicates and classes (answered from its
indexes), so it costs the number of terms, not of triples.

The shapes say what evidence a thing needs by its class, so a thing with no
class is reached by none of them, and a fact of it without any excerpt would
be published: such things are an error of their own too.

A misspelt value (`kg:assistedBy country:USA` for `country:US`) is valid RDF
too, and passes every shape that does not give the value a class: the fact then
drops out of every answer that asks for the real thing. A value that nothing
describes, in the project's namespace or in one whose other names the graph
describes (a unit of QUDT's), is an error as well.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import URIRef
from rdflib.namespace import RDF, RDFS

from kg.build.locate import SubjectIndex
from kg.build.queries import sparql
from kg.build.shown import first_of
from kg.namespaces import ID
from kg.store.base import selected

RDF_TYPE = ox.NamedNode(str(RDF.type))
# Terms of the RDF, RDFS and OWL languages themselves, which need no declaration.
_BUILT_IN = {RDF.type, RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy}


@dataclass(frozen=True)
class UndeclaredTerm:
    """A class or predicate used in the graph that ontology/ does not declare."""

    term: URIRef
    role: str  # "class" or "predicate"
    example_subject: URIRef


def declared_terms(store: ox.Store, ontology: ox.NamedNode) -> set[URIRef]:
    """Every class and property the ontology graph declares."""
    answer = selected(store.query(sparql("declared-terms", graph=ontology.value)))
    return {URIRef(row["term"].value) for row in answer}


def undeclared_terms(
    store: ox.Store, graphs: Sequence[ox.NamedNode], ontology: ox.NamedNode
) -> list[UndeclaredTerm]:
    """Classes and predicates of `graphs` that the ontology does not declare, one example each."""
    declared = declared_terms(store, ontology) | _BUILT_IN
    found: list[UndeclaredTerm] = []
    for role, used_query, example_query in (
        ("predicate", "predicates-used", "predicate-example"),
        ("class", "classes-used", "class-example"),
    ):
        used = selected(store.query(sparql(used_query), default_graph=list(graphs)))
        for row in used:
            term = URIRef(row["term"].value)
            if term not in declared:
                example = selected(store.query(sparql(example_query, term=term), default_graph=list(graphs)))
                found.append(UndeclaredTerm(term, role, URIRef(next(iter(example))["s"].value)))
    return sorted({t.term: t for t in found}.values(), key=lambda term: str(term.term))


def describe_undeclared(unknown: list[UndeclaredTerm], index: SubjectIndex) -> str:
    """One line per undeclared term (the first few, `kg.build.shown`), starting with the file and line
    where it is used."""

    def line(t: UndeclaredTerm) -> str:
        place = index.find_use(str(t.term)) or index.find(str(t.example_subject)) or "graph/"
        return f"{place}: undeclared {t.role} {t.term} (used on {t.example_subject})"

    lines = first_of(unknown, line)
    return "terms declared neither in ontology/ nor in a reused vocabulary:\n" + "\n".join(lines)


Subject = ox.NamedNode | ox.BlankNode


def untyped_subjects(
    store: ox.Store, graphs: Sequence[ox.NamedNode], among: set[Subject] | None = None
) -> list[Subject]:
    """Things of `graphs` with no rdf:type in any graph (the ontology types the properties a data
    file may describe), in order: of all, or of `among` only (the subjects a rebuild's change
    reached). A thing is a subject named by an IRI, or a blank node that nothing in `graphs` refers
    to: one referred to is part of the description of what refers to it. The query asks for those
    without a type in `graphs` (one scan of them: a test of each subject's kind or of every graph in
    the query costs three times as much at a million triples, so the few left are tested after);
    they are then looked up one by one, every one, since a blank node that only blank nodes refer to
    is a candidate until the chain of its referrers is walked."""
    if among is None:
        answer = selected(store.query(sparql("untyped-subjects"), default_graph=list(graphs)))
        among = {row["s"] for row in answer}
    anchored: dict[Subject, bool] = {}  # blank nodes known to be part of a description, or not
    untyped = [subject for subject in among if _untyped(store, subject, graphs, anchored)]
    return sorted(untyped, key=lambda node: (isinstance(node, ox.BlankNode), node.value))


def _untyped(
    store: ox.Store, subject: Subject, graphs: Sequence[ox.NamedNode], anchored: dict[Subject, bool]
) -> bool:
    """Whether `subject` is a thing without a class. Of the blank nodes each walk meets, `anchored`
    keeps which are part of a description (those on the chain from something named or typed down to
    the subject) and which are not (every node of a walk that found nothing named or typed): the
    items of a list of thousands each walked up the whole chain, which took the square of its length."""

    def held(subject: Subject | None, thing: Subject | None) -> Iterator[ox.Quad]:
        return (quad for graph in graphs for quad in store.quads_for_pattern(subject, None, thing, graph))

    def typed(node: Subject) -> bool:
        return next(store.quads_for_pattern(node, RDF_TYPE, None, None), None) is not None

    if next(held(subject, None), None) is None or typed(subject):
        return False
    if isinstance(subject, ox.NamedNode):
        return True
    if subject in anchored:
        return not anchored[subject]
    # A blank node is part of a thing's description when a chain of blank nodes links it to something
    # named or typed; one that only itself, or other such nodes, refer to is a thing of its own.
    below: dict[Subject, Subject] = {}  # each blank referrer met, and the node it refers to
    seen: set[Subject] = {subject}
    waiting: list[Subject] = [subject]
    while waiting:
        node = waiting.pop()
        for quad in held(None, node):
            referrer = quad.subject
            if isinstance(referrer, ox.Triple):
                continue  # a quoted triple is no subject of the data's graphs
            if isinstance(referrer, ox.NamedNode) or anchored.get(referrer) or typed(referrer):
                anchored[node] = True
                while node != subject:  # and each node it refers to, down to the subject
                    node = below[node]
                    anchored[node] = True
                return False
            if referrer not in seen and referrer not in anchored:  # one known not to be: nor above it
                seen.add(referrer)
                below[referrer] = node
                waiting.append(referrer)
    anchored.update(dict.fromkeys(seen, False))
    return True


def _spellings(text: str) -> list[str]:
    """How a literal with this text may start in Turtle: quoted with either quote, its escapes
    written or not, or bare (a number, a boolean)."""
    escaped = json.dumps(text, ensure_ascii=False)[:-1]  # Turtle's escapes of a string are JSON's
    single = "'" + escaped[1:].replace("'", "\\'")  # in single quotes, a single quote escaped
    return list(dict.fromkeys([f'"{text}', escaped, f"'{text}", "'" + escaped[1:], single, text]))


def describe_untyped(
    store: ox.Store, graphs: Sequence[ox.NamedNode], untyped: list[Subject], index: SubjectIndex
) -> str:
    """One line per thing without a class (the first few, `kg.build.shown`), starting with the file
    and line where it is described: a blank node by its triples (its label is the parser's), found as
    the first statement about a blank node that holds the first text it gives, or else the first
    statement about a blank node."""

    def line(node: Subject) -> str:
        if isinstance(node, ox.NamedNode):
            return f"{index.find(node.value) or 'graph/'}: <{node.value}> has no rdf:type"
        triples = sorted(
            {
                (quad.predicate, quad.object)
                for graph in graphs
                for quad in store.quads_for_pattern(node, None, None, graph)
            },
            key=str,
        )
        text = next((str(value.value) for _, value in triples if isinstance(value, ox.Literal)), None)
        found = (index.find_anonymous(spelt) for spelt in _spellings(text)) if text is not None else ()
        where = next((place for place in found if place is not None), None) or index.find_anonymous()
        shown = " ; ".join(f"{predicate} {value}" for predicate, value in triples[:3])
        more = " ; …" if len(triples) > 3 else ""
        return f"{where or 'graph/'}: [ {shown}{more} ] has no rdf:type and nothing refers to it"

    return (
        "things without a class, which no shape reaches (the class of a thing says what evidence it needs;"
        " give each the class it is an instance of):\n" + "\n".join(first_of(untyped, line, by_line=True))
    )


def undescribed_values(
    store: ox.Store,
    graphs: Sequence[ox.NamedNode],
    ontology: ox.NamedNode,
    among: set[ox.NamedNode] | None = None,
) -> list[ox.NamedNode]:
    """IRIs that `graphs` give as a value and none of them nor the `ontology` gives a class, in order:
    of all, or of `among` only (what a rebuild's change named or described). Only
    the names of things are kept: those of the project's things (`ID`), and those of a namespace in
    which the ontology gives a name a class that makes it an instance (a
    unit, a concept, a measure), not only a vocabulary's term. A link to a page of the web, to a
    vocabulary's term or to a new namespace is no name of the graph's. Which namespaces count depends
    on the ontology alone, which a rebuild reads again whole when it changes, so a rebuild and a clean
    build agree."""
    describing = [*graphs, ontology]
    if among is None:
        answer = selected(
            store.query(
                sparql("undescribed-values"), default_graph=list(graphs), named_graphs=list(describing)
            )
        )
        found = {row["o"] for row in answer if isinstance(row["o"], ox.NamedNode)}
    else:
        found = {
            node for node in among if _named(store, node, graphs) and not _typed_in(store, node, describing)
        }
    namespaces: dict[str, bool] = {}

    def ours(node: ox.NamedNode) -> bool:
        space = _namespace(node.value)
        if space not in namespaces:
            namespaces[space] = _as_ours(space).startswith(str(ID)) or _instances_in(store, space, ontology)
        return namespaces[space]

    return sorted((node for node in found if ours(node)), key=lambda node: node.value)


def _named(store: ox.Store, node: ox.NamedNode, graphs: Sequence[ox.NamedNode]) -> bool:
    """Whether a graph of `graphs` gives `node` as a value."""
    return _holds(store, (None, None, node), graphs)


def _typed_in(store: ox.Store, node: ox.NamedNode, graphs: Sequence[ox.NamedNode]) -> bool:
    return _holds(store, (node, RDF_TYPE, None), graphs)


def _holds(
    store: ox.Store,
    pattern: tuple[ox.NamedNode | None, ox.NamedNode | None, ox.NamedNode | None],
    graphs: Sequence[ox.NamedNode],
) -> bool:
    """Whether a graph of `graphs` holds a triple of `pattern` (None matches anything)."""
    return any(next(store.quads_for_pattern(*pattern, graph), None) is not None for graph in graphs)


def _as_ours(iri: str) -> str:
    """`iri` spelt as the project spells its names where it names one of them otherwise (`http://`, or
    a scheme or host in capitals): valid RDF, and a fact naming it is lost to every question on the
    thing."""
    scheme, separator, rest = iri.partition("://")
    host, slash, path = rest.partition("/")
    if not separator or scheme.casefold() not in ("http", "https"):
        return iri
    spelt = f"https://{host.casefold()}{slash}{path}"
    return spelt if spelt.startswith(str(ID)) else iri


def _namespace(iri: str) -> str:
    """The IRI up to its last `/` or `#`: the namespace a prefix would name."""
    return iri[: max(iri.rfind("/"), iri.rfind("#")) + 1]


def _instances_in(store: ox.Store, namespace: str, ontology: ox.NamedNode) -> bool:
    """Whether the ontology gives a name of `namespace` a class that makes it an instance."""
    answer = store.query(sparql("instances-in-namespace", namespace=namespace), named_graphs=[ontology])
    assert isinstance(answer, ox.QueryBoolean)  # an ASK
    return bool(answer)


def _described_in(store: ox.Store, namespace: str, describing: Sequence[ox.NamedNode]) -> list[str]:
    """The IRIs of `namespace` that a graph of `describing` gives a class."""
    answer = selected(
        store.query(sparql("described-in-namespace", namespace=namespace), named_graphs=list(describing))
    )
    return [row["s"].value for row in answer]


def describe_undescribed(
    store: ox.Store, undescribed: list[ox.NamedNode], describing: Sequence[ox.NamedNode], index: SubjectIndex
) -> str:
    """One line per value described nowhere (the first few, `kg.build.shown`), starting with the file
    and line where it is first named, with the described names of its namespace it is closest to."""

    @functools.cache
    def local_names(namespace: str) -> dict[str, str]:  # asked once for the values of one namespace
        return {iri[len(namespace) :].casefold(): iri for iri in _described_in(store, namespace, describing)}

    def line(node: ox.NamedNode) -> str:
        space, meant_space = _namespace(node.value), _namespace(_as_ours(node.value))
        local = local_names(meant_space)
        written = node.value[len(space) :].casefold()  # `country:us` is `country:US` misspelt
        near = [local[name] for name in difflib.get_close_matches(written, local, 3, 0.75)]
        meant = f" (did you mean {' or '.join(f'<{iri}>' for iri in near)}?)" if near else ""
        return f"{index.find_use(node.value) or 'graph/'}: <{node.value}> is described nowhere{meant}"

    return (
        "values that no file describes (a misspelt name is valid RDF, and a fact naming it is lost to every"
        " question that asks for the real thing; describe each, with its class, or name one described):\n"
        + "\n".join(first_of(undescribed, line, by_line=True))
    )
