"""Which data sets a change reaches: a rebuild asks the Data Cube constraints about those alone.

The constraints held on the previous generation. Those of the structure alone (IC-3 to IC-10:
data structure definitions, component specifications, properties, slices) read no observation
and no data set; each of the others fails at an observation or at a data set (`?obs`, or
`?dataset` for those that compare a data set's observations, IC-2, IC-12 and IC-17), and reads,
besides the structure and the code lists, only that observation's triples, its data set's and
the data set's other observations'. The triples of that kind are few: an observation's or a data
set's `qb:dataSet`, `qb:structure`, `qb:measureType` and type of `qb:Observation` or `qb:DataSet`,
and the values of its components (read through a variable predicate, of an observation, a data
set or a slice, so such a property stated of anything else, a stated change's area, is read by
none of them). Where every changed triple a constraint reads (`kg.build.cube.reading_quads`) is
one of those, a new violation lies in the data sets of those observations or among those data
sets: the constraints are asked with their variable bound to those data sets, or to every
observation of them, and those of the structure are not asked. The normalisation infers what
they read of those observations alone (typing 21,000 observations and data sets took most of a
second at 1 M triples, written to the store and removed). Any other changed triple they read (of
a structure, a slice, a code list's hierarchy), or a constraint failing so (to name its place as
a clean build does), runs every constraint whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from kg.namespaces import QB
from kg.store.sparql import RDF_TYPE, groups_opening_with, tokens, values_block, with_values

_DATA_SET, _STRUCTURE = ox.NamedNode(str(QB.dataSet)), ox.NamedNode(str(QB.structure))
_TYPE = ox.NamedNode(RDF_TYPE)
_OBSERVATION, _DATA_SET_CLASS = ox.NamedNode(str(QB.Observation)), ox.NamedNode(str(QB.DataSet))
_SLICE, _SLICE_CLASS = ox.NamedNode(str(QB.slice)), ox.NamedNode(str(QB.Slice))
# What the constraints read of an observation or a data set by name (its component values they
# read through a variable predicate); the classes of the types they read so.
_OWN = {str(QB.dataSet), str(QB.structure), str(QB.measureType)}
_OWN_CLASSES = {_OBSERVATION, _DATA_SET_CLASS}
# The variable each constraint fails at; the structure's constraints are named apart.
_BOUND = {
    "ic-01": "obs", "ic-02": "dataset", "ic-11": "obs", "ic-12": "dataset", "ic-13": "obs",
    "ic-14": "obs", "ic-15": "obs", "ic-16": "obs", "ic-17": "dataset", "ic-18": "obs",
    "ic-19a": "obs", "ic-19b": "obs", "ic-20": "obs", "ic-21": "obs",
}  # fmt: skip
_STRUCTURE_ALONE = {f"ic-{number:02d}" for number in range(3, 11)}


@dataclass(frozen=True)
class CubeScope:
    """The data sets a change reaches, and every observation of them or changed."""

    datasets: frozenset[ox.NamedNode]
    observations: frozenset[ox.NamedNode]

    def knows(self, name: str) -> bool:
        """Whether constraint `name` is one this module can bound or leave out (a file added to the
        checks is not: every constraint then runs whole)."""
        return name in _BOUND or name in _STRUCTURE_ALONE

    def asked(self, name: str, query: str) -> str | None:
        """Constraint `name`'s `query` bound to the data sets or their observations; None for a
        constraint of the structure alone."""
        variable = _BOUND.get(name)
        if variable is None:
            return None
        nodes = tuple(sorted(self.observations if variable == "obs" else self.datasets, key=str))
        return bound_throughout(query, variable, nodes)

    def normalising(self, construct: str) -> str:
        """A normalisation step bound to the observations (`?o`, `?obs`) where it infers of them: the
        constraints asked read no other observation. A step of the structure alone is whole."""
        named = {token.text for token in tokens(construct) if token.kind == "var"}
        for variable in ("o", "obs"):
            if f"?{variable}" in named:
                nodes = tuple(sorted(self.observations, key=str))
                return with_values(construct, {variable: nodes})
        return construct


def bound_throughout(query: str, variable: str, nodes: tuple[ox.NamedNode, ...]) -> str:
    """`query` with `variable` bound to `nodes` where the query opens, and again at every group that
    opens with it, so that each group Oxigraph plans apart starts from them. Sound for a constraint
    that fails at one of those nodes and reads every observation of their data sets alike: a group
    keyed by the variable, or counting what it joins, then sees every row it sees whole."""
    block = values_block({variable: nodes})
    for offset in sorted(groups_opening_with(query, variable), reverse=True):
        query = query[:offset] + block + query[offset:]
    return with_values(query, {variable: nodes})


def cube_scope(
    store: ox.Store, reading: Iterable[ox.Quad], named: set[str], hierarchy: set[str]
) -> CubeScope | None:
    """The scope of a change whose `reading` quads are those the constraints read (on the new `store`,
    with the removed quads among them), given every IRI the constraints `named` and the parent-child
    properties of the `hierarchy` of code lists (and their inverses); None where a quad is not an
    observation's or a data set's own (see the module's docstring)."""
    reading = list(reading)
    changed = _Changed(reading)
    datasets: set[ox.NamedNode] = set()
    observations: set[ox.NamedNode] = set()
    for quad in reading:
        subject, predicate = quad.subject, quad.predicate.value
        if not isinstance(subject, ox.NamedNode) or predicate in hierarchy:
            return None
        if (
            predicate in named
            and predicate not in _OWN
            and not (predicate == RDF_TYPE and quad.object in _OWN_CLASSES)
        ):
            return None  # a structure's, a slice's, a code list's: read by the structure's constraints
        if changed.observation(store, subject):
            observations.add(subject)
            datasets |= changed.datasets_of(store, subject)
        elif changed.dataset(store, subject):
            datasets.add(subject)
        elif changed.slice(store, subject):
            return None
        # else a component's value, or a measure type, stated of another thing: no constraint reads it
    for dataset in datasets:
        observations |= {
            q.subject
            for q in store.quads_for_pattern(None, _DATA_SET, dataset, None)
            if isinstance(q.subject, ox.NamedNode)
        }
    return CubeScope(frozenset(datasets), frozenset(observations))


class _Changed:
    """What the changed quads say of a node's kind, beside what the new store says: a removed
    observation or data set is one by the quads removed."""

    def __init__(self, reading: list[ox.Quad]) -> None:
        self.typed = {(q.subject, q.object) for q in reading if q.predicate == _TYPE}
        self.in_dataset = {(q.subject, q.object) for q in reading if q.predicate == _DATA_SET}
        self.observed = {subject for subject, _ in self.in_dataset}
        self.grouping = {dataset for _, dataset in self.in_dataset}
        self.structured = {q.subject for q in reading if q.predicate == _STRUCTURE}
        self.sliced = {q.object for q in reading if q.predicate == _SLICE}

    def observation(self, store: ox.Store, node: ox.NamedNode) -> bool:
        return (
            (node, _OBSERVATION) in self.typed
            or node in self.observed
            or _has(store, node, _DATA_SET, None)
            or _has(store, node, _TYPE, _OBSERVATION)
        )

    def dataset(self, store: ox.Store, node: ox.NamedNode) -> bool:
        return (
            (node, _DATA_SET_CLASS) in self.typed
            or node in self.structured
            or node in self.grouping
            or _has(store, node, _STRUCTURE, None)
            or _has(store, node, _TYPE, _DATA_SET_CLASS)
            or _has(store, None, _DATA_SET, node)
        )

    def slice(self, store: ox.Store, node: ox.NamedNode) -> bool:
        return (
            (node, _SLICE_CLASS) in self.typed
            or node in self.sliced
            or _has(store, node, _TYPE, _SLICE_CLASS)
            or _has(store, None, _SLICE, node)
        )

    def datasets_of(self, store: ox.Store, observation: ox.NamedNode) -> set[ox.NamedNode]:
        """The data sets `observation` belongs to, before the change or after."""
        found = [q.object for q in store.quads_for_pattern(observation, _DATA_SET, None, None)]
        found += [dataset for subject, dataset in self.in_dataset if subject == observation]
        return {node for node in found if isinstance(node, ox.NamedNode)}


def _has(
    store: ox.Store, subject: ox.NamedNode | None, predicate: ox.NamedNode, value: ox.NamedNode | None
) -> bool:
    return any(True for _ in store.quads_for_pattern(subject, predicate, value, None))
