"""The statistics are a well-formed RDF Data Cube: the W3C recommendation's 21 integrity constraints hold."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from algebra import algebra_nodes
from rdflib import XSD, Graph, Literal, Namespace, URIRef, Variable
from rdflib.paths import SequencePath
from rdflib.plugins.sparql import prepareQuery, prepareUpdate
from rdflib.plugins.sparql.algebra import triples

from kg.build.cube import CHECKS, GROUPED, check_cube, check_cube_store, named_in_checks, reading_quads
from kg.build.cube_scope import CubeScope, cube_scope
from kg.build.pipeline import DATA_GRAPHS, BuildFailed, build, merged
from kg.build.project import load_project
from kg.build.queries import sparql
from kg.files import InputError
from kg.store.sparql import RDF_TYPE, groups_opening_with, iris_named

OBSERVATION = "https://w3id.org/opioid-kg/id/observation/"


@pytest.fixture(scope="module")
def cube(project_root: Path) -> Graph:
    """The data, provenance and background with the ontology: what the build checks."""
    return merged(load_project(project_root), ("ontology", *DATA_GRAPHS))


def test_the_checks_are_the_recommendations_twenty_one_constraints(project_root: Path) -> None:
    checks = project_root / CHECKS
    numbers = {int(re.match(r"ic-(\d+)", path.stem).group(1)) for path in checks.glob("ic-*.rq")}
    assert numbers == set(range(1, 22))
    assert sorted(path.name for path in checks.glob("normalize-*.ru")) == [
        "normalize-phase-1.ru",
        "normalize-phase-2.ru",
    ]
    for path in checks.glob("ic-*.rq"):
        assert "REC-vocab-data-cube-20140116" in path.read_text("utf-8"), path


@pytest.mark.parametrize("grouped", [False, True])
def test_every_integrity_constraint_holds(cube: Graph, project_root: Path, grouped: bool) -> None:
    report = check_cube(cube, project_root / CHECKS, grouped=grouped)
    assert report.constraints == 22  # IC-19 is two queries
    assert [v.message() for v in report.violations] == []


def test_a_duplicate_observation_is_named_by_ic_12(cube: Graph, project_root: Path) -> None:
    graph = Graph()
    graph += cube
    original = URIRef(OBSERVATION + "mx-drug-labs-destroyed-2016")
    twin = URIRef(OBSERVATION + "mx-drug-labs-destroyed-2016-twin")
    for p, o in cube.predicate_objects(original):
        graph.add((twin, p, o))
    report = check_cube(graph, project_root / CHECKS)
    assert [v.constraint for v in report.violations] == ["IC-12. No duplicate observations"]
    assert {str(original), str(twin)} <= set(report.violations[0].nodes.values())


KG = "https://w3id.org/opioid-kg/ontology#"
QB = "http://purl.org/linked-data/cube#"
DATASET = "https://w3id.org/opioid-kg/id/dataset/"


def _twin(graph: Graph, cube: Graph, changes: dict[str, URIRef]) -> None:
    """A copy of an observation, with the values of the predicates `changes` names replaced."""
    original = URIRef(OBSERVATION + "mx-drug-labs-destroyed-2016")
    twin = URIRef(OBSERVATION + "mx-drug-labs-destroyed-2016-twin")
    for p, o in cube.predicate_objects(original):
        graph.add((twin, p, changes.get(str(p), o)))


def _without_measure(graph: Graph, cube: Graph, changes: dict[str, URIRef]) -> None:
    """A structure definition whose measure component is gone."""
    structure = URIRef(DATASET + "structure-drug-labs-destroyed")
    for component in list(cube.objects(structure, URIRef(QB + "component"))):
        if (component, URIRef(QB + "measure"), None) in cube:
            graph.remove((structure, URIRef(QB + "component"), component))


def _without_dimension(graph: Graph, cube: Graph, changes: dict[str, URIRef]) -> None:
    graph.remove((URIRef(OBSERVATION + "mx-drug-labs-destroyed-2016"), URIRef(KG + "refPeriod"), None))


NEGATIVE_CASES = {
    "twin": (_twin, {}),  # IC-12, IC-17
    "twin in another year": (_twin, {KG + "refPeriod": URIRef("https://w3id.org/opioid-kg/id/period/2015")}),
    "twin with another measure": (_twin, {QB + "measureType": URIRef(KG + "heroinSeizures")}),
    "twin with another value": (_twin, {KG + "drugLabsDestroyed": Literal("7", datatype=XSD.decimal)}),
    "structure without a measure": (_without_measure, {}),
    "observation without a dimension": (_without_dimension, {}),
}


@pytest.fixture(scope="module")
def reference_checks(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The recommendation's constraints, IC-17's HAVING on its aggregate rather than on the alias the
    SELECT gives it: HAVING is evaluated before the projection, so as printed IC-17 never fails."""
    checks = tmp_path_factory.mktemp("checks")
    for path in (project_root / CHECKS).iterdir():
        shutil.copy(path, checks / path.name)
    ic17 = checks / "ic-17.rq"
    text = ic17.read_text("utf-8")
    assert "HAVING (?count != ?numMeasures)" in text
    ic17.write_text(text.replace("HAVING (?count != ?numMeasures)", "HAVING (COUNT(?obs2) != ?numMeasures)"))
    return checks


@pytest.mark.parametrize("case", NEGATIVE_CASES)
def test_the_grouped_constraints_give_the_recommendations_verdict(
    cube: Graph, project_root: Path, reference_checks: Path, case: str
) -> None:
    """The build's grouped constraints fail exactly where the recommendation's text fails."""
    graph = Graph()
    graph += cube
    change, values = NEGATIVE_CASES[case]
    change(graph, cube, values)
    reference = check_cube(graph, reference_checks)
    grouped = check_cube(graph, project_root / CHECKS, grouped=True)
    found = [v.constraint for v in grouped.violations]
    expected = [v.constraint for v in reference.violations]
    assert bool(found) == bool(expected)
    if "IC-11. All dimensions required" in expected:
        # An observation without a value for a dimension: the recommendation's pairwise comparison
        # skips that dimension, the grouped one does not; the build fails on IC-11 either way.
        assert found[0] == expected[0] and set(found) <= set(expected)
    else:
        assert found == expected


def test_an_observation_without_a_dimension_stops_the_build(project_root: Path, tmp_path: Path) -> None:
    for folder in ("ontology", "graph", "sources", "queries"):
        shutil.copytree(project_root / folder, tmp_path / folder)
    statistics = tmp_path / "graph" / "000_1bdfefaeb44abb70" / "data" / "statistics.ttl"
    text = statistics.read_text("utf-8")
    block = text.index("obs:mx-drug-labs-destroyed-2016 a qb:Observation")
    period = text.index("    kg:refPeriod period:2016 ;\n", block)
    statistics.write_text(text[:period] + text[period:].replace("    kg:refPeriod period:2016 ;\n", "", 1))
    with pytest.raises(BuildFailed) as failure:
        build(tmp_path, tmp_path / "dist", tmp_path / "store")
    message = str(failure.value)
    assert "IC-11. All dimensions required" in message
    assert f"<{OBSERVATION}mx-drug-labs-destroyed-2016>" in message
    assert "refPeriod" in message
    assert "SHACL" not in message  # validation fails too (StatedChangeShape); the cube's failure comes first


def _triples(node: object) -> Iterator[tuple[object, object, object]]:
    """The triple patterns under an algebra node, those of FILTER (NOT) EXISTS too (left as parsed)."""
    for part in algebra_nodes(node):
        if part.name == "BGP":
            yield from part.triples
        elif part.name == "TriplesBlock":
            yield from triples(part.triples)


def test_the_checks_read_through_a_variable_only_the_properties_a_rebuild_watches(project_root: Path) -> None:
    """A rebuild skips the Data Cube checks when no changed triple has a predicate or class their texts
    name, or a property `cube-read-properties` lists (`reading_quads`). That holds only if
    each variable in a predicate position is bound, in the same query, as the object of a property
    that query lists (or of a path ending in one)."""
    watched = {URIRef(iri) for iri in iris_named(sparql("cube-read-properties", property=[]))}
    checks = project_root / CHECKS
    patterns = [
        (path.name, prepareQuery(path.read_text("utf-8").replace("<$p>", "<urn:x:p>")).algebra)
        for path in sorted(checks.glob("ic-*.rq"))
    ]
    patterns += [(name, prepareQuery(sparql(name)).algebra) for name in GROUPED.values()]
    patterns += [
        (path.name, operation.get("where"))
        for path in sorted(checks.glob("*.ru"))
        for operation in prepareUpdate(path.read_text("utf-8")).algebra
    ]
    unwatched = []
    variables = 0
    for name, pattern in patterns:
        found = list(_triples(pattern))
        bound = {
            value
            for _, predicate, value in found
            if predicate in watched or isinstance(predicate, SequencePath) and predicate.args[-1] in watched
        }
        for _, predicate, _ in found:
            if isinstance(predicate, Variable):
                variables += 1
                if predicate not in bound:
                    unwatched.append((name, str(predicate)))
    assert variables >= 10  # the walk sees the patterns under NOT EXISTS and the updates' WHERE too
    assert unwatched == []


def test_every_property_the_hierarchy_templates_are_filled_with_is_watched_by_a_rebuild() -> None:
    """IC-20 and IC-21 read through the parent-child property of each hierarchical code list (or its
    inverse) written into the template where it says `<$p>`: each must be among the properties that
    `cube-read-properties` lists."""
    store = ox.Store()
    store.load(
        b"""@prefix qb: <http://purl.org/linked-data/cube#> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
        <urn:x:areas> a qb:HierarchicalCodeList ; qb:parentChildProperty <urn:x:has> .
        <urn:x:regions> a qb:HierarchicalCodeList ; qb:parentChildProperty [ owl:inverseOf <urn:x:in> ] .""",
        ox.RdfFormat.TURTLE,
    )

    def selected(name: str, **given: list[str]) -> set[str]:
        rows = store.query(sparql(name, **given), use_default_graph_as_union=True)
        assert isinstance(rows, ox.QuerySolutions)
        return {row[rows.variables[0]].value for row in rows}

    filled = selected("hierarchy-properties") | selected("inverse-hierarchy-properties")
    assert filled == {"urn:x:has", "urn:x:in"}
    asked = sorted(filled | {"urn:x:areas", "urn:x:other"})
    assert selected("cube-read-properties", property=asked) == filled


def test_the_properties_asked_about_are_those_of_the_whole_graphs_declarations(cube: Graph) -> None:
    """A rebuild asks `cube-read-properties` about its changed predicates only: asked about every IRI
    of the report's graph, it names exactly the properties its declarations name (some of them)."""
    store = ox.Store()
    store.load(cube.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)
    qb, inverse_of = Namespace(QB), URIRef("http://www.w3.org/2002/07/owl#inverseOf")
    links = [
        qb.componentProperty,
        qb.dimension,
        qb.measure,
        qb.attribute,
        qb.measureType,
        qb.parentChildProperty,
    ]
    named = [o for link in links for o in cube.objects(None, link)]
    named += [
        o for node in cube.objects(None, qb.parentChildProperty) for o in cube.objects(node, inverse_of)
    ]
    declared = {str(node) for node in named if isinstance(node, URIRef)}
    every_iri = sorted({str(term) for triple in cube for term in triple if isinstance(term, URIRef)})
    rows = store.query(sparql("cube-read-properties", property=every_iri))
    assert isinstance(rows, ox.QuerySolutions)
    assert {row["property"].value for row in rows} == declared
    assert len(declared) >= 5


def test_a_type_is_watched_by_its_class_unless_the_data_reads_types_as_a_component(
    project_root: Path,
) -> None:
    typed = ox.Quad(ox.NamedNode("urn:x:a"), ox.NamedNode(RDF_TYPE), ox.NamedNode("urn:x:AnyClass"))
    store = ox.Store()
    assert not reading_quads(store, [typed], named_in_checks(project_root / CHECKS))
    observation = ox.Quad(typed.subject, typed.predicate, ox.NamedNode(QB + "Observation"))
    assert reading_quads(store, [observation], named_in_checks(project_root / CHECKS))
    store.add(ox.Quad(ox.NamedNode("urn:x:spec"), ox.NamedNode(QB + "dimension"), ox.NamedNode(RDF_TYPE)))
    assert reading_quads(store, [typed], named_in_checks(project_root / CHECKS))


def _store_of(graph: Graph) -> ox.Store:
    store = ox.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)
    return store


@pytest.mark.parametrize("case", NEGATIVE_CASES)
def test_a_rebuild_asks_the_constraints_of_the_data_sets_its_change_reaches_with_the_same_verdict(
    cube: Graph, project_root: Path, case: str
) -> None:
    """Each negative case as a rebuild's change: where it is about observations alone, the constraints
    asked about the data sets it reaches fail as the whole constraints do; a change of a structure
    definition is asked whole."""
    graph = Graph()
    graph += cube
    change, values = NEGATIVE_CASES[case]
    change(graph, cube, values)
    before, store = _store_of(cube), _store_of(graph)
    changed = set(before) ^ set(store)
    reading = reading_quads(store, changed, named_in_checks(project_root / CHECKS))
    scope = cube_scope(store, reading, named_in_checks(project_root / CHECKS), set())
    if case == "structure without a measure":
        assert scope is None
        return
    assert scope is not None and scope.datasets == {ox.NamedNode(DATASET + "crs-2018-drug-labs-destroyed")}
    whole = check_cube_store(_store_of(graph), project_root / CHECKS, grouped=True)
    scoped = check_cube_store(store, project_root / CHECKS, grouped=True, scope=scope)
    assert whole.violations and scoped.violations == whole.violations


def test_a_rebuild_asks_nothing_of_the_data_sets_its_change_does_not_reach(
    cube: Graph, project_root: Path
) -> None:
    """A duplicate observation in one data set, and a change in another: asked about the second, the
    constraints find nothing (what the first holds stood in the previous generation)."""
    graph = Graph()
    graph += cube
    _twin(graph, cube, {})
    store = _store_of(graph)
    other = next(
        quad
        for quad in store.quads_for_pattern(None, ox.NamedNode(QB + "dataSet"), None, None)
        if quad.object != ox.NamedNode(DATASET + "crs-2018-drug-labs-destroyed")
    )
    reading = reading_quads(store, [other], named_in_checks(project_root / CHECKS))
    scope = cube_scope(store, reading, named_in_checks(project_root / CHECKS), set())
    assert scope is not None and ox.NamedNode(DATASET + "crs-2018-drug-labs-destroyed") not in scope.datasets
    assert check_cube_store(store, project_root / CHECKS, grouped=True, scope=scope).violations == []
    assert check_cube_store(store, project_root / CHECKS, grouped=True).violations  # whole, it fails


@pytest.mark.parametrize(
    ("subject", "predicate", "value"),
    [
        (DATASET + "structure-drug-labs-destroyed", QB + "component", "urn:x:new"),  # a structure's
        (DATASET + "crs-2018-drug-labs-destroyed", QB + "slice", "urn:x:new"),  # a slice's link
        (DATASET + "crs-2018-drug-labs-destroyed", RDF_TYPE, QB + "DimensionProperty"),  # a data set typed so
        (OBSERVATION + "mx-drug-labs-destroyed-2016", QB + "codeList", "urn:x:new"),  # named of a structure
    ],
)
def test_a_change_of_the_structure_or_of_a_slice_is_asked_whole(
    cube: Graph, project_root: Path, subject: str, predicate: str, value: str
) -> None:
    """Whatever its subject, a triple the structure's constraints read runs every constraint whole."""
    store = _store_of(cube)
    changed = ox.Quad(ox.NamedNode(subject), ox.NamedNode(predicate), ox.NamedNode(value))
    reading = reading_quads(store, [changed], named_in_checks(project_root / CHECKS))
    assert reading and cube_scope(store, reading, named_in_checks(project_root / CHECKS), set()) is None


def test_a_link_of_a_code_list_s_hierarchy_is_asked_whole(cube: Graph, project_root: Path) -> None:
    """IC-20 and IC-21 read a code's parent-child links, whatever else the change holds."""
    store = _store_of(cube)
    link = ox.Quad(ox.NamedNode("urn:x:region"), ox.NamedNode(KG + "inArea"), ox.NamedNode("urn:x:country"))
    named = named_in_checks(project_root / CHECKS)
    assert cube_scope(store, [link], named, {KG + "inArea"}) is None
    assert cube_scope(store, [link], named, set()) == CubeScope(frozenset(), frozenset())


def test_a_component_s_property_stated_of_something_else_reaches_no_data_set(
    cube: Graph, project_root: Path
) -> None:
    """A stated change's area: the constraints read `kg:refArea` only of observations (through a
    variable predicate), so the change is read, but reaches no data set and no observation."""
    store = _store_of(cube)
    area = ox.Quad(ox.NamedNode("urn:x:change"), ox.NamedNode(KG + "refArea"), ox.NamedNode("urn:x:place"))
    reading = reading_quads(store, [area], named_in_checks(project_root / CHECKS))
    assert reading == [area]
    assert cube_scope(store, reading, named_in_checks(project_root / CHECKS), set()) == CubeScope(
        frozenset(), frozenset()
    )


@pytest.mark.parametrize(("name", "groups"), [("cube-ic-12", 1), ("cube-ic-17", 2)])
def test_the_grouped_constraints_open_their_groups_with_the_data_set_a_rebuild_binds(
    name: str, groups: int
) -> None:
    """Each group that reads a data set's observations opens with the data set (IC-17's two UNION
    branches, IC-12's dimensions), so that the rebuild's block of data sets is where Oxigraph starts;
    bound only where the query opens, IC-17 read every observation (1.1 s at 1 M triples)."""
    assert len(groups_opening_with(sparql(name), "dataset")) == groups


def test_a_removed_observation_reaches_the_data_set_it_was_in(cube: Graph, project_root: Path) -> None:
    graph = Graph()
    graph += cube
    gone = URIRef(OBSERVATION + "mx-drug-labs-destroyed-2016")
    removed = Graph()
    for triple in cube.triples((gone, None, None)):
        removed.add(triple)
    graph.remove((gone, None, None))
    store = _store_of(graph)
    reading = reading_quads(store, set(_store_of(removed)), named_in_checks(project_root / CHECKS))
    scope = cube_scope(store, reading, named_in_checks(project_root / CHECKS), set())
    assert scope is not None and scope.datasets == {ox.NamedNode(DATASET + "crs-2018-drug-labs-destroyed")}
    assert ox.NamedNode(str(gone)) in scope.observations


@pytest.mark.parametrize("name", ["ic-12.rq", "normalize-phase-2.ru"])
def test_a_missing_check_file_stops_the_build_named(project_copy: Path, tmp_path: Path, name: str) -> None:
    """The build ran whatever files it found: deleting one left its constraint unchecked without a word."""
    (project_copy / CHECKS / name).unlink()
    with pytest.raises(InputError, match=f"{name}: missing: the Data Cube checks are every one"):
        build(project_copy, tmp_path / "dist", tmp_path / "store")
