"""A rebuild re-validates only the focus nodes a change reaches, and reports what a whole validation does.

The change is the difference between the curated graph (which conforms, as a
published generation does) and the graph broken by the negative cases of
`shacl_cases`: asked only about what that difference reaches, the store's
validation must report every case's violation, and all of them together must
be the reference engine's results.
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from shacl_cases import CASES, ID, PREFIXES, broken_graph, case_violations
from test_store_validation import GRAPH, in_store, results

from kg.build.analyses import CACHE_VARIABLE, Analyses, analyses_folder
from kg.build.pipeline import _analyse_ahead
from kg.build.queries import shacl_queries
from kg.build.reach import ANY, FOCUS, VALUES_OPENING, WHOLE, Reach, Revalidation, Step, analyse, restricted
from kg.build.shape_queries import (
    Combined,
    Counted,
    Qualified,
    ShapeQuery,
    Unsupported,
    ValidationPlan,
    compile_shapes,
    focus_classes,
    plan_texts,
    shape_classes,
    validator,
    with_texts,
)
from kg.build.store_validation import _subclasses, validate_store, validation_texts
from kg.build.validation import Violation, validate
from kg.build.whole_files import write_sealed
from kg.store.sparql import groups_opened_by, hangs_on_plan, less_than_read_as_iri, tokens, where_opening


@pytest.fixture(scope="module")
def analyses(tmp_path_factory: pytest.TempPathFactory) -> Analyses:
    """The analyses kept for the test run (its shared folder, see conftest), else for this module."""
    return Analyses(analyses_folder(tmp_path_factory.mktemp("reach")))


@pytest.fixture(scope="module")
def curated(graphs: tuple[Graph, Graph]) -> frozenset[ox.Quad]:
    """The quads of the curated graph in a store, which every broken graph is compared with."""
    return frozenset(in_store(graphs[0]))


def revalidated(
    curated: frozenset[ox.Quad], broken: Graph, shapes: Graph, analyses: Analyses
) -> tuple[list[Violation], dict[str, int]]:
    """The violations of `broken` found by asking only what its difference from the `curated` quads
    reaches, and how many queries were skipped, restricted and run whole."""
    store = in_store(broken)
    asked = Revalidation(store, sorted(curated ^ set(store), key=str), analyses.reach)
    report = validate_store(store, [GRAPH], shapes, asked=asked)
    return report.violations, asked.counts


def test_all_cases_at_once_give_the_reference_results(
    graphs: tuple[Graph, Graph],
    curated: frozenset[ox.Quad],
    broken_reference: tuple[bool, list[Violation]],
    analyses: Analyses,
) -> None:
    data, shapes = graphs
    violations, counts = revalidated(curated, broken_graph(data), shapes, analyses)
    assert results(violations) == results(broken_reference[1])
    assert counts["skipped"] > 0  # the change does not reach every constraint
    assert counts["restricted"] > 0  # the focus pattern of the compiled queries is found


@pytest.mark.parametrize(("case", "update", "focus", "shape", "message"), CASES, ids=[c[0] for c in CASES])
def test_each_case_alone_is_found_from_its_change(
    graphs: tuple[Graph, Graph],
    curated: frozenset[ox.Quad],
    analyses: Analyses,
    case: str,
    update: str,
    focus: str,
    shape: str,
    message: str,
) -> None:
    data, shapes = graphs
    broken = broken_graph(data, [update])
    violations, counts = revalidated(curated, broken, shapes, analyses)
    assert case_violations(violations, focus, shape, message), f"{case}: not found ({counts})"


def test_a_combined_plan_is_asked_of_the_nodes_its_queries_reach(
    graphs: tuple[Graph, Graph], curated: frozenset[ox.Quad], analyses: Analyses
) -> None:
    """The evidence rule's sh:or combines several queries' answers: a change to one fact's evidence
    asks each of them about the nodes the change reaches, not about every fact, and the fact is found."""
    data, shapes = graphs
    case, update, focus, shape, message = next(c for c in CASES if c[0] == "fact without evidence")
    broken = broken_graph(data, [update])
    store = in_store(broken)
    revalidation = Revalidation(store, sorted(curated ^ set(store), key=str), analyses.reach)
    plans: list[ValidationPlan | None] = []

    def asked(query: ShapeQuery) -> ValidationPlan | None:
        plan = revalidation(query)
        if isinstance(query.plan, Combined) and str(query.source_shape).endswith("#EvidenceShape"):
            plans.append(plan)
        return plan

    report = validate_store(store, [GRAPH], shapes, asked=asked)
    assert case_violations(report.violations, focus, shape, message), case
    [plan] = plans
    assert plan is not None
    texts = list(plan_texts(plan))
    assert len(texts) > 2 and all(FOCUS + "VALUES ?this { <" in text for text in texts)
    asked_of = {
        node for text in texts for node in text.split("VALUES ?this { ", 1)[1].split(" } ")[0].split()
    }
    facts = {str(q.subject) for q in store if q.predicate.value == "http://www.w3.org/ns/prov#wasDerivedFrom"}
    assert f"<{ID}{focus}>" in asked_of and len(asked_of) < len(facts) / 10, (len(asked_of), len(facts))


def test_every_query_of_a_plan_is_restricted_and_combined_as_before() -> None:
    """plan_texts lists, and with_texts replaces, the queries of qualified counts and of combinations
    nested in combinations, keeping how their answers combine."""
    qualified = Qualified("focus", "values", ("inner-1", "inner-2"), minimum=1)
    counted = Counted("counts", maximum=2)
    combined = Combined("xone", "focus", (("member-1",), (qualified, counted)), lambda index, nodes: ())
    assert list(plan_texts(qualified)) == ["focus", "values", "inner-1", "inner-2"]
    texts = ["focus", "member-1", "focus", "values", "inner-1", "inner-2", "counts"]
    assert list(plan_texts(combined)) == texts
    changed = with_texts(combined, str.upper)
    assert isinstance(changed, Combined) and changed.operator == "xone"
    assert changed.members[1] == (
        Qualified("FOCUS", "VALUES", ("INNER-1", "INNER-2"), minimum=1),
        Counted("COUNTS", maximum=2),
    )
    assert list(plan_texts(changed)) == [text.upper() for text in plan_texts(combined)]


def test_a_change_reaches_a_focus_node_through_shared_nodes(tmp_path: Path) -> None:
    """A query that joins through a shared node reaches focus nodes whose own triples did not change."""
    query = (
        "SELECT ?this WHERE { { SELECT DISTINCT ?this WHERE { ?this a <urn:C> } } "
        "?this <urn:area> ?area . ?other <urn:area> ?area ; <urn:kind> <urn:fiscal> }"
    )
    reach = analyse(query)
    store = ox.Store()
    a, b, area = ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.NamedNode("urn:mx")
    for quad in (
        ox.Quad(a, ox.NamedNode("urn:area"), area),
        ox.Quad(b, ox.NamedNode("urn:area"), area),
        ox.Quad(a, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode("urn:C")),
    ):
        store.add(quad)
    change = [ox.Quad(b, ox.NamedNode("urn:kind"), ox.NamedNode("urn:fiscal"))]
    asked = Revalidation(store, change, analyse)
    assert asked.neighbours.focus(reach, query) == {a, b}  # the nodes that may stand for ?this, not the area
    unrelated = [ox.Quad(b, ox.NamedNode("urn:label"), ox.Literal("b"))]
    assert Revalidation(store, unrelated, analyse).neighbours.focus(reach, query) == set()


def _store(turtle: str) -> ox.Store:
    store = ox.Store()
    store.load(turtle, format=ox.RdfFormat.TURTLE)
    return store


def _quads(turtle: str) -> list[ox.Quad]:
    return [ox.Quad(t.subject, t.predicate, t.object) for t in ox.parse(turtle, format=ox.RdfFormat.TURTLE)]


def test_a_change_beside_a_shared_node_does_not_reach_every_node_that_shares_it() -> None:
    """A new flow's leg from a place that a thousand flows start from reaches the new flow alone: the
    walk starts at the leg (the pattern's subject, joined to ?this through the flow) rather than at the
    place, and crosses only the query's patterns, each the way the query writes it."""
    query = (
        "SELECT ?this WHERE { { SELECT DISTINCT ?this WHERE { ?this a <urn:Flow> } } "
        "?this <urn:hasLeg> ?leg ; <urn:origin> ?o . ?leg <urn:fromPlace> ?o }"
    )
    reach = analyse(query)
    others = "".join(
        f"<urn:f{n}> a <urn:Flow> ; <urn:origin> <urn:mx> ; <urn:hasLeg> <urn:l{n}> . " for n in range(1000)
    )
    added = (
        "<urn:new> a <urn:Flow> ; <urn:origin> <urn:mx> ; <urn:hasLeg> <urn:leg> . "
        "<urn:leg> <urn:fromPlace> <urn:mx> ."
    )
    store = _store(others + added)
    focus = Revalidation(store, _quads(added), analyse).neighbours.focus(reach, query)
    assert focus == {ox.NamedNode("urn:new")}


def test_a_walk_through_a_node_with_too_many_links_gives_up_and_keeps_none_of_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The series rule joins observations through their measure, which every observation names: the
    walk gives up on the measure's links once they pass the limit (the query runs whole), and keeps
    none of what it read, so no later walk takes a part of a node's links for all of them."""
    monkeypatch.setattr("kg.build.reach.WALK_LIMIT", 10)
    query = (
        "SELECT ?this WHERE { { SELECT DISTINCT ?this WHERE { ?this a <urn:Obs> } } "
        "?this <urn:measure> ?m . ?other <urn:measure> ?m ; <urn:fiscal> true }"
    )
    reach = analyse(query)
    store = _store("".join(f"<urn:o{n}> a <urn:Obs> ; <urn:measure> <urn:m> . " for n in range(50)))
    neighbours = Revalidation(store, _quads("<urn:o1> <urn:fiscal> true ."), analyse).neighbours
    assert neighbours.focus(reach, query) is None
    assert ox.NamedNode("urn:m") not in neighbours._known


def test_the_focus_nodes_of_a_shape_s_classes_past_the_limit_are_all_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reading the classes of more focus nodes than the walks' limit of links allows gives up, as a
    walk does, and keeps every node rather than stopping the rebuild."""
    monkeypatch.setattr("kg.build.reach.WALK_LIMIT", 10)
    store = _store("".join(f"<urn:o{n}> a <urn:Obs>, <urn:Other> . " for n in range(50)))
    nodes = {ox.NamedNode(f"urn:o{n}") for n in range(50)}
    neighbours = Revalidation(store, _quads("<urn:o1> <urn:p> true ."), analyse).neighbours
    assert neighbours.instances(set(nodes), frozenset({"urn:Nothing"})) == nodes
    monkeypatch.setattr("kg.build.reach.WALK_LIMIT", 20_000)
    fresh = Revalidation(store, _quads("<urn:o1> <urn:p> true ."), analyse).neighbours
    assert fresh.instances(set(nodes), frozenset({"urn:Nothing"})) == set()
    assert fresh.instances(set(nodes), frozenset({"urn:Obs"})) == nodes


def test_a_walk_crosses_removed_triples_to_the_focus_node() -> None:
    """Two removed triples under a FILTER NOT EXISTS, each joined to ?this through the other: the
    focus node is found although the new store holds neither."""
    query = (
        "SELECT ?this WHERE { { SELECT DISTINCT ?this WHERE { ?this a <urn:C> } } "
        "?this <urn:a> ?x ; <urn:d> ?w . FILTER NOT EXISTS { ?y <urn:c> ?x ; <urn:e> ?w } }"
    )
    store = _store("<urn:this> a <urn:C> ; <urn:a> <urn:x> ; <urn:d> <urn:w> .")
    removed = _quads("<urn:y> <urn:c> <urn:x> ; <urn:e> <urn:w> .")
    assert {row["this"] for row in store.query(query)} == {ox.NamedNode("urn:this")}  # a new violation
    focus = Revalidation(store, removed, analyse).neighbours.focus(analyse(query), query)
    assert focus is not None and ox.NamedNode("urn:this") in focus


def test_a_repeated_path_is_followed_to_its_end(tmp_path: Path) -> None:
    """`p+` matches chains of any length: a change at the far end of a chain reaches its start."""
    query = "SELECT ?this WHERE { { SELECT DISTINCT ?this WHERE { ?this a <urn:C> } } ?this <urn:p>+ ?x }"
    reach = analyse(query)
    store = ox.Store()
    a, b, c, d = (ox.NamedNode(f"urn:{name}") for name in "abcd")
    p = ox.NamedNode("urn:p")
    for quad in (ox.Quad(a, p, b), ox.Quad(b, p, c), ox.Quad(c, p, d)):
        store.add(quad)
    asked = Revalidation(store, [ox.Quad(c, p, d)], analyse)
    assert asked.neighbours.focus(reach, query) == {a, b, c, d}


def test_unjoined_patterns_and_repeated_open_predicates_run_whole() -> None:
    focus = "{ SELECT DISTINCT ?this WHERE { ?this a <urn:C> } }"
    assert analyse(f"SELECT ?this WHERE {{ {focus} ?x <urn:p> ?o }}").routes is None  # not joined
    assert analyse(f"SELECT ?this WHERE {{ {focus} ?this !<urn:p>+ ?o }}").routes is None
    assert analyse(f"SELECT ?this WHERE {{ {focus} ?this ?p ?o . ?p <urn:q> ?x }}").routes is None
    assert analyse(f"SELECT ?this WHERE {{ {focus} ?this <urn:p> ?o }}").routes is not None


@pytest.mark.parametrize("open_predicate", ["?p", "!<urn:p>", "!^<urn:p>"])
def test_an_open_predicate_matches_a_changed_triple_of_any_predicate(open_predicate: str) -> None:
    """A predicate that is a variable no block of values binds (an observation's measure), or a negated
    set, may stand for any predicate: every changed triple is a candidate, and the walk follows every
    triple, rdf:type too, which a class joins to its instances."""
    query = (
        "SELECT ?this WHERE { { SELECT DISTINCT ?this WHERE { ?this a <urn:C> } } "
        f"?this <urn:from> ?e . ?e {open_predicate} ?v . ?v <urn:far> ?x }}"
    )
    reach = analyse(query)
    assert reach.routes is not None
    store = ox.Store()
    this, e, v, other = (ox.NamedNode(f"urn:{name}") for name in ("this", "e", "v", "other"))
    kind = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    for quad in (
        ox.Quad(this, ox.NamedNode("urn:from"), e),
        ox.Quad(e, kind, v),  # the open predicate may be rdf:type: ?v a class, ?e its instance
        ox.Quad(v, ox.NamedNode("urn:far"), ox.Literal("x")),
        ox.Quad(other, ox.NamedNode("urn:label"), ox.Literal("o")),
    ):
        store.add(quad)
    at_the_value = Revalidation(store, [ox.Quad(e, ox.NamedNode("urn:m"), v)], analyse).neighbours
    assert this in (at_the_value.focus(reach, query) or set())
    through_a_class = Revalidation(store, [ox.Quad(v, ox.NamedNode("urn:far"), ox.Literal("y"))], analyse)
    assert this in (through_a_class.neighbours.focus(reach, query) or set())
    elsewhere = Revalidation(store, [ox.Quad(other, ox.NamedNode("urn:label"), ox.Literal("p"))], analyse)
    unreached = elsewhere.neighbours.focus(reach, query)
    assert unreached is not None and this not in unreached


@pytest.mark.parametrize(
    ("path", "data", "change"),
    [
        # one branch three steps long, the other one: the change three steps from the focus node
        (
            "(<urn:p>/<urn:q>/<urn:t>|<urn:r>)",
            "<urn:this> <urn:p> <urn:a> . <urn:a> <urn:q> <urn:b> .",
            "<urn:b> <urn:t> <urn:o>",
        ),
        # rdf:type beside another predicate: a walk does not follow rdf:type
        ("(rdf:type|<urn:a>)/<urn:q>", "", "<urn:C> <urn:q> <urn:o>"),
        ("(rdf:type|<urn:a>)*/<urn:q>", "", "<urn:C> <urn:q> <urn:o>"),
    ],
    ids=["branches-of-other-lengths", "type-beside-another", "type-beside-another-repeated"],
)
def test_an_alternative_path_reaches_the_focus_through_any_branch(path: str, data: str, change: str) -> None:
    """A solution may take either branch of an alternative path, as of a UNION: the focus node is
    found from a change reached through the branch the walk would not count (or the query runs whole)."""
    query = (
        "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> SELECT ?this WHERE { "
        "{ SELECT DISTINCT ?this WHERE { ?this a <urn:C> } } "
        f"?this {path} ?o }}"
    )
    store = ox.Store()
    store.load(f"<urn:this> a <urn:C> . {data}", format=ox.RdfFormat.TURTLE)
    changed = next(iter(ox.parse(f"{change} .", format=ox.RdfFormat.N_TRIPLES)))
    store.add(ox.Quad(changed.subject, changed.predicate, changed.object))
    found = {row["this"] for row in store.query(query)}
    assert ox.NamedNode("urn:this") in found  # the whole query finds it
    focus = Revalidation(store, [ox.Quad(changed.subject, changed.predicate, changed.object)], analyse)
    reached = focus.neighbours.focus(analyse(query), query)
    assert reached is None or ox.NamedNode("urn:this") in reached


def test_a_change_that_no_rule_reads_runs_no_rule_whole(
    graphs: tuple[Graph, Graph], curated: frozenset[ox.Quad], analyses: Analyses
) -> None:
    """The observation and stated-change rules read an observation's value under its measure (a
    predicate variable): a finding's label changed is asked of what it reaches, not of every fact."""
    data, shapes = graphs
    broken = Graph()
    broken += data
    broken.update(
        PREFIXES + 'DELETE { ?f rdfs:label ?l } INSERT { ?f rdfs:label "the national opioid '
        'epidemic in the United States"@en } WHERE { ?f rdfs:label ?l FILTER (STR(?l) = '
        '"the domestic opioid epidemic in the United States") }'
    )
    violations, counts = revalidated(curated, broken, shapes, analyses)
    assert violations == []
    assert counts["whole"] == 0, counts


def _focus(**targets: list[str]) -> str:
    """The focus query of a shape with these targets (and no others), as the compiler writes it."""
    given: dict[str, str | list[str]] = {
        "targetClass": [],
        "targetNode": [],
        "targetSubjectsOf": [],
        "targetObjectsOf": [],
    }
    return validator("focus", {**given, **targets})


def test_a_shape_s_target_classes_are_read_from_its_focus_query() -> None:
    assert focus_classes(_focus(targetClass=["urn:C", "urn:D"])) == {"urn:C", "urn:D"}
    assert focus_classes(_focus(targetClass=["urn:C"], targetNode=["urn:n"])) is None  # a node too
    assert focus_classes(_focus(targetSubjectsOf=["urn:p"])) is None
    assert focus_classes("SELECT ?this WHERE { ?this <urn:p> ?o }") is None


def test_a_change_reaching_no_instance_of_a_shape_s_classes_asks_nothing_of_it() -> None:
    """The walk from a changed triple reaches nodes of every kind; a shape that targets a class is
    asked of its instances among them alone, and skipped where there is none."""
    text = "SELECT ?this ?value WHERE { { " + _focus(targetClass=["urn:C"]) + " } ?this <urn:p> ?value }"
    query = ShapeQuery(
        URIRef("urn:shape"), SH.MinCountConstraintComponent, None, None, SH.Violation, text, False
    )
    store = _store("<urn:a> a <urn:C> ; <urn:p> 1 . <urn:b> a <urn:D> ; <urn:p> 2 .")
    elsewhere = Revalidation(store, _quads("<urn:b> <urn:p> 2 ."), analyse)
    assert elsewhere(query) is None and elsewhere.counts["skipped"] == 1
    here = Revalidation(store, _quads("<urn:a> <urn:p> 1 . <urn:b> <urn:p> 2 ."), analyse)
    plan = here(query)
    assert isinstance(plan, str) and "VALUES ?this { <urn:a> }" in plan


def test_a_target_node_is_restricted_like_any_other_focus_node() -> None:
    """The focus query binds `sh:targetNode` in a group of its own, so the VALUES block a rebuild writes
    before it restricts it, on the real store, to the reached nodes it targets."""
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:a"), ox.NamedNode("urn:p"), ox.Literal("x")))
    focus = _focus(targetNode=["urn:a", "urn:b"])
    answers = {
        tuple(sorted(reached)): {
            row["this"].value for row in store.query(restricted(focus, set(map(ox.NamedNode, reached))))
        }
        for reached in (["urn:a"], ["urn:c"], ["urn:a", "urn:b"])
    }
    assert answers == {("urn:a",): {"urn:a"}, ("urn:c",): set(), ("urn:a", "urn:b"): {"urn:a", "urn:b"}}


def _patterns(reach: Reach) -> list[Step]:
    """The patterns of every group of `reach`, which must be bounded."""
    assert reach.routes is not None
    return [route.pattern for route in reach.routes]


def test_a_block_of_values_names_the_predicates_of_a_variable() -> None:
    """A validator's targets are variables bound by blocks of values: an empty block leaves its branch
    out of the reach, one that binds a predicate variable makes that pattern follow those predicates,
    and a predicate variable nothing binds may be any predicate."""
    reach = analyse(_focus(targetSubjectsOf=["urn:p", "urn:q"]))
    assert {pattern.predicates for pattern in _patterns(reach)} == {("urn:p", "urn:q")}
    assert analyse(_focus(targetClass=["urn:C"])).routes is not None
    anything = analyse("SELECT ?this WHERE { ?this ?p ?o }")
    assert {pattern.predicates for pattern in _patterns(anything)} == {(ANY,)}


def test_every_validator_opens_its_focus_nodes_as_a_rebuild_restricts_them() -> None:
    """A validator whose focus sub-SELECT were written otherwise would run whole on every rebuild."""
    assert {name: query.text.count(FOCUS) for name, query in shacl_queries().items()} == {
        name: 1 for name in shacl_queries()
    }


@pytest.mark.parametrize(
    ("beside", "depth"),
    [
        ("OPTIONAL { ?this <urn:near> ?v }", 2),  # a solution need not match an OPTIONAL pattern
        ("FILTER NOT EXISTS { ?this <urn:near> ?v }", 2),  # nor one under NOT EXISTS
        ("{ ?this <urn:near> ?v } UNION { ?v <urn:other> ?w }", 2),  # nor the branch it did not take
        ("{ ?this <urn:near> ?v } UNION { ?this <urn:other> ?v }", 1),  # one step in every branch
    ],
)
def test_a_pattern_is_counted_from_the_focus_over_what_every_solution_matches(
    beside: str, depth: int
) -> None:
    """?v is two required steps from ?this (through ?d); a pattern beside them that names ?v one step
    away does not bring ?v nearer unless every solution matches such a step."""
    reach = analyse(f"SELECT ?this WHERE {{ ?this <urn:a> ?d . ?d <urn:b> ?v . ?v <urn:c> ?x . {beside} }}")
    far = next(route for route in reach.routes or () if route.pattern.predicates == ("urn:c",))
    assert (far.start, far.steps) == ("?v", depth)


def test_an_analysis_is_kept_once_and_read_back_by_the_next_build(tmp_path: Path) -> None:
    text = "SELECT ?this WHERE { { SELECT DISTINCT ?this WHERE { ?this a <urn:C> } } ?this <urn:p> ?x }"
    assert Analyses(tmp_path).reach(text) != WHOLE
    entries = list(tmp_path.rglob("*.json"))
    assert len(entries) == 1
    write_sealed(entries[0], b"null")  # what the next build reads is the entry, not the query again
    assert Analyses(tmp_path).reach(text) == WHOLE
    entries[0].write_text("null")  # but not one that is not as it was written
    assert Analyses(tmp_path).reach(text) != WHOLE


def test_pruning_keeps_the_analyses_of_this_code_only_unless_the_folder_is_shared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_code = tmp_path / "0123456789abcdef"
    other_code.mkdir()
    (other_code / "kept.json").write_text("null")
    analyses = Analyses(tmp_path)
    analyses.reach("SELECT ?this WHERE { ?this <urn:p> ?x }")
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path))  # another project's code may still use them
    analyses.prune()
    assert sorted(folder.name for folder in tmp_path.iterdir()) == sorted(
        [other_code.name, analyses.folder.name]
    )
    monkeypatch.delenv(CACHE_VARIABLE)
    analyses.prune()
    assert [folder.name for folder in tmp_path.iterdir()] == [analyses.folder.name]


def test_an_analysis_that_cannot_be_kept_is_still_made(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("a file where the folder would be")
    text = "SELECT ?this WHERE { { SELECT DISTINCT ?this WHERE { ?this a <urn:C> } } ?this <urn:p> ?x }"
    assert Analyses(tmp_path / "not-a-folder").reach(text) == Analyses(tmp_path / "kept").reach(text) != WHOLE


def test_an_analysis_is_made_and_kept_where_the_folder_cannot_hold_a_lock(tmp_path: Path) -> None:
    """Builds then go unlocked, as before there was a lock: the analysis is still made and kept."""
    analyses = Analyses(tmp_path)
    (analyses.folder / ".lock").mkdir(parents=True)  # a folder where the lock file would be
    text = "SELECT ?this WHERE { { SELECT DISTINCT ?this WHERE { ?this a <urn:C> } } ?this <urn:p> ?x }"
    assert analyses.reach(text) != WHOLE and analyses.made == 1
    assert Analyses(tmp_path).reach(text) == analyses.reach(text)
    assert len(list(analyses.folder.glob("*.json"))) == 1


def test_analyses_are_shared_where_the_environment_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path / "shared"))
    assert analyses_folder(tmp_path / "project") == tmp_path / "shared" / "reach"
    monkeypatch.delenv(CACHE_VARIABLE)
    assert analyses_folder(tmp_path / "project") == tmp_path / "project"


def test_a_clean_build_reads_ahead_what_a_rebuild_asks_until_validation_ends(
    graphs: tuple[Graph, Graph], tmp_path: Path
) -> None:
    """A clean build reads the reach of every validation query while validation runs
    (`_analyse_ahead`), so the rebuild after it reads none of them again; once validation has ended
    it stops, and the build does not wait for the rest."""
    data, shapes = graphs
    store = in_store(data)
    texts = validation_texts(store, shapes)
    assert len(set(texts)) > 100
    _analyse_ahead(store, shapes, Analyses(tmp_path / "ahead"), threading.Event())
    rebuild = Analyses(tmp_path / "ahead")
    for text in texts:
        rebuild.reach(text)
    assert rebuild.made == 0
    ended = threading.Event()
    ended.set()
    _analyse_ahead(store, shapes, Analyses(tmp_path / "ended"), ended)
    assert not list((tmp_path / "ended").rglob("*.json"))


def _analyse_all(folder: Path, texts: list[str], start: Barrier, made: Queue) -> None:
    start.wait()
    analyses = Analyses(folder)
    for text in texts:
        analyses.reach(text)
    made.put(analyses.made)


def test_builds_started_together_make_each_analysis_once_between_them(tmp_path: Path) -> None:
    """Two processes sharing the folder, released at the same instant over the same queries, split the
    analyses instead of each making them all; and each reads every one."""
    texts = [f"SELECT ?this WHERE {{ ?this <urn:p{n}> ?x . ?x <urn:q> ?y }}" for n in range(30)]
    context = multiprocessing.get_context("fork")
    start, made = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_analyse_all, args=(tmp_path, texts, start, made)) for _ in range(2)]
    for worker in workers:
        worker.start()
    counts = [made.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join()
    assert sum(counts) == len(texts), counts
    assert len(list(tmp_path.rglob("*.json"))) == len(texts)


def test_a_compiled_validator_restricted_in_its_values_answers_as_whole_for_those_nodes(
    graphs: tuple[Graph, Graph],
) -> None:
    """A rebuild restricts a compiled validator's sub-SELECT of values with the focus nodes: on the graph
    broken by every negative case, each validator asked of half the failing nodes (and of nodes that do
    not fail) answers exactly the rows its whole answer has for those nodes."""
    data, shapes = graphs
    store = in_store(broken_graph(data))
    queries = compile_shapes(shapes, _subclasses(store, [GRAPH], shape_classes(shapes)))
    compared = 0
    for query in queries:
        if query.component == SH.SPARQLConstraintComponent:
            continue
        for text in plan_texts(query.plan):
            if VALUES_OPENING not in text:
                continue
            whole = {tuple(map(str, row)) for row in store.query(text, default_graph=GRAPH)}
            failing = sorted({row[0] for row in whole})
            asked = {ox.NamedNode(iri[1:-1]) for iri in failing[::2] if iri.startswith("<")}
            asked |= {q.subject for q in itertools.islice(store, 40) if isinstance(q.subject, ox.NamedNode)}
            narrowed = restricted(text, asked, compiled=True)
            assert narrowed is not None and narrowed.count("VALUES ?this") == 2, text
            expected = {row for row in whole if row[0] in {str(node) for node in asked}}
            assert {tuple(map(str, row)) for row in store.query(narrowed, default_graph=GRAPH)} == expected
            compared += len(expected)
    assert compared > 20  # violations, not empty answers, were compared


def test_a_sparql_constraint_restricted_in_its_sub_selects_answers_as_whole_for_those_nodes(
    graphs: tuple[Graph, Graph],
) -> None:
    """A rebuild restricts a constraint's own sub-SELECTs that open with a pattern of `?this` as well
    as its focus pattern: on the graph broken by every negative case, each constraint asked of half
    the failing nodes (and of nodes that do not fail) answers exactly its whole answer's rows for them."""
    data, shapes = graphs
    store = in_store(broken_graph(data))
    queries = compile_shapes(shapes, _subclasses(store, [GRAPH], shape_classes(shapes)))
    compared = inside = 0
    for query in queries:
        if query.component != SH.SPARQLConstraintComponent:
            continue
        for text in plan_texts(query.plan):
            whole = {tuple(map(str, row)) for row in store.query(text, default_graph=GRAPH)}
            failing = sorted({row[0] for row in whole})
            asked = {ox.NamedNode(iri[1:-1]) for iri in failing[::2] if iri.startswith("<")}
            asked |= {q.subject for q in itertools.islice(store, 40) if isinstance(q.subject, ox.NamedNode)}
            narrowed = restricted(text, asked)
            assert narrowed is not None, text
            inside += narrowed.count("VALUES ?this") - 1
            expected = {row for row in whole if row[0] in {str(node) for node in asked}}
            assert {tuple(map(str, row)) for row in store.query(narrowed, default_graph=GRAPH)} == expected
            compared += len(expected)
    # violations compared; the legs rule's five sub-SELECTs and four OPTIONALs among the groups restricted
    assert compared > 20 and inside >= 12


@pytest.mark.parametrize(
    ("where", "opened"),
    [
        ("{ SELECT ?this ?x WHERE { ?this <urn:p> ?x } }", True),
        ("{ SELECT $this (COUNT(?x) AS ?n) WHERE { $this <urn:p> ?x } GROUP BY $this }", True),
        # an OPTIONAL before the pattern of ?this could bind it first: the block would not only filter
        ("{ SELECT ?this ?x WHERE { ?x <urn:p> ?y OPTIONAL { ?this <urn:q> ?x } ?this <urn:r> ?y } }", False),
        ("{ SELECT (?y AS ?this) WHERE { ?y <urn:p> ?x } }", False),  # ?this made, not projected
        ("{ SELECT ?this ?x WHERE { ?this <urn:p> ?x } LIMIT 3 }", False),  # other rows from fewer
        ("{ SELECT ?x WHERE { { SELECT ?this ?x WHERE { ?this <urn:p> ?x } } } }", False),  # another ?this
        ("{ SELECT * WHERE { ?this <urn:p> ?x } }", False),
    ],
)
def test_a_sub_select_is_restricted_only_where_the_values_only_filter(where: str, opened: bool) -> None:
    text = f"SELECT ?this WHERE {{ {where} }}"
    assert bool(groups_opened_by(text, "this")) == opened


@pytest.mark.parametrize(
    ("where", "groups"),
    [
        ("?this <urn:p> ?x OPTIONAL { ?this <urn:q> ?y }", 1),
        ("?this <urn:p> ?x OPTIONAL { ?this <urn:q> ?y OPTIONAL { ?this <urn:r> ?z } }", 2),  # nested
        ("{ SELECT ?this WHERE { ?this <urn:p> ?x OPTIONAL { ?this <urn:q> ?y } } }", 2),  # sub-SELECT's
        ("?this <urn:p> ?x OPTIONAL { ?y <urn:q> ?this }", 0),  # the group opens with another term
        ("?this <urn:p> ?x { OPTIONAL { ?this <urn:q> ?y } }", 0),  # in a group no block opens
        ("?this <urn:p> ?x { } UNION { OPTIONAL { ?this <urn:q> ?y } }", 0),  # in a UNION's branch
        ("{ SELECT ?this WHERE { ?this <urn:p> ?x OPTIONAL { ?this <urn:q> ?y } } LIMIT 2 }", 0),
        # a sub-SELECT in an OPTIONAL of a group no block opens: an empty row is what it extends
        ("?this <urn:p> ?x { OPTIONAL { { SELECT ?this ?v WHERE { ?this <urn:q> ?v } } } }", 0),
        # a group in an OPTIONAL of the focus's group: each row it may extend binds ?this already
        ("?this <urn:p> ?x OPTIONAL { { SELECT ?this ?v WHERE { ?this <urn:q> ?v } } }", 1),
        ("?this <urn:p> ?x OPTIONAL { { ?v <urn:q> ?w } UNION { ?this <urn:r> ?w } }", 1),
        # a branch of a UNION, and a sub-SELECT in a group of one, joined with the focus's group
        ("{ ?this <urn:p> ?x } UNION { ?this <urn:q> ?x }", 2),
        ("{ ?this <urn:p> ?x OPTIONAL { ?this <urn:q> ?y } } UNION { ?x <urn:q> ?this }", 2),
        ("{ { SELECT ?this (COUNT(?x) AS ?n) WHERE { ?this <urn:p> ?x } GROUP BY ?this } FILTER (?n) }", 1),
        ("{ ?x <urn:p> ?y } UNION { { SELECT ?this WHERE { ?this <urn:p> ?x } } }", 1),
        ("?this <urn:p> ?x OPTIONAL { SELECT ?this ?v WHERE { ?this <urn:q> ?v } }", 1),  # the OPTIONAL's own
        ("?this <urn:p> ?x MINUS { SELECT ?this WHERE { ?this <urn:q> ?v } }", 0),
        ("?this <urn:p> ?x FILTER NOT EXISTS { SELECT ?this WHERE { ?this <urn:q> ?v } }", 0),
        ("?this <urn:p> ?x GRAPH ?g { SELECT ?this WHERE { ?this <urn:q> ?v } }", 0),
        ("{ SELECT ?this WHERE { ?this <urn:p> ?x } } UNION { SELECT ?this WHERE { ?this <urn:q> ?x } }", 2),
    ],
)
def test_a_group_is_restricted_only_where_the_rows_it_drops_are_of_others(where: str, groups: int) -> None:
    """A group is restricted where it opens with a pattern of ?this, and its rows binding ?this to
    another node add nothing to the answer: it is joined with a group the block opens (or one joined
    so), or is an OPTIONAL's whose every row it may extend binds ?this already."""
    text = f"SELECT ?this WHERE {{ {where} }}"
    assert len(groups_opened_by(text, "this")) == groups


def test_every_validator_that_reads_values_opens_them_as_a_rebuild_restricts_them() -> None:
    """A validator whose sub-SELECT of values were written otherwise would read every node's values on
    every rebuild."""
    reading = {name for name, query in shacl_queries().items() if "$PATH" in query.text}
    assert len(reading) > 10
    assert {name: shacl_queries()[name].text.count(VALUES_OPENING) for name in reading} == {
        name: 1 for name in reading
    }


# Each rule is asked of the node <urn:e:a> alone, which has no violation: where the block went
# elsewhere, or restricted a group whose rows an empty row or another node's may extend, <urn:e:a>
# or <urn:e:b> was reported. The last value says whether the rule is asked whole instead.
NO_Q = (  # and <urn:e:c>, which the rule does not target
    "<urn:e:a> a <urn:e:C> ; <urn:e:p> 1 ; <urn:e:q> 2 . <urn:e:b> a <urn:e:C> ; <urn:e:p> 1 . "
    "<urn:e:c> <urn:e:p> 1 ."
)
B_HAS_Q = "<urn:e:a> a <urn:e:C> ; <urn:e:p> 1 . <urn:e:b> a <urn:e:C> ; <urn:e:p> 1 ; <urn:e:q> 2 ."
MISPLACED_BLOCKS = {
    "the focus pattern written in a comment before the WHERE group": (
        "# SELECT DISTINCT ?this WHERE { … } would list the targets\n"
        "SELECT $this WHERE { $this <urn:e:p> ?x OPTIONAL { $this <urn:e:q> ?v } FILTER (!BOUND(?v)) }",
        NO_Q,
        False,
    ),
    "the focus pattern written in a string of the projection": (
        'SELECT $this ("SELECT DISTINCT ?this WHERE {" AS ?m) '
        "WHERE { $this <urn:e:p> ?x OPTIONAL { $this <urn:e:q> ?v } FILTER (!BOUND(?v)) }",
        NO_Q,
        False,
    ),
    "a brace of the projection's EXISTS before the WHERE group": (
        "SELECT $this (EXISTS { $this <urn:e:p> ?y } AS ?e) "
        "WHERE { $this <urn:e:p> ?x OPTIONAL { $this <urn:e:q> ?v } FILTER (!BOUND(?v)) }",
        NO_Q,
        False,
    ),
    "a sub-SELECT in an OPTIONAL of a group no block opens": (
        "SELECT $this ?v WHERE { $this <urn:e:p> ?x . "
        "{ OPTIONAL { { SELECT ?this ?v WHERE { $this <urn:e:q> ?v } } } } }",
        B_HAS_Q,
        True,  # not well designed: an OPTIONAL naming ?this in a group that does not bind it
    ),
}


def _rule(select: str) -> Graph:
    """Shapes of one node shape targeting <urn:e:C> with one SPARQL-based constraint, `select`."""
    rule = Graph()
    shape, constraint = URIRef("urn:e:S"), URIRef("urn:e:rule")
    rule.add((shape, RDF.type, SH.NodeShape))
    rule.add((shape, SH.targetClass, URIRef("urn:e:C")))
    rule.add((shape, SH.sparql, constraint))
    rule.add((constraint, SH.message, Literal("no q")))
    rule.add((constraint, SH.select, Literal(select)))
    return rule


@pytest.mark.parametrize(("select", "turtle", "whole"), MISPLACED_BLOCKS.values(), ids=list(MISPLACED_BLOCKS))
def test_a_rule_restricted_to_some_nodes_answers_as_whole_for_them(
    select: str, turtle: str, whole: bool
) -> None:
    """The focus block goes where the compiler put the focus pattern, at the WHERE group's brace
    (found by tokens: not in a comment, a string or a projection's EXISTS), and the groups the
    block opens too are those whose rows it only filters; pyshacl gives the whole rule's verdict."""
    rule = _rule(select)
    data = Graph().parse(data=turtle, format="turtle")
    store = in_store(data)
    (query,) = compile_shapes(rule, _subclasses(store, [GRAPH], shape_classes(rule)))
    (text,) = plan_texts(query.plan)
    assert {str(row[0]) for row in store.query(text, default_graph=GRAPH)} == {"<urn:e:b>"}
    asked = restricted(text, {ox.NamedNode("urn:e:a")})
    if whole:  # its answer may hang on Oxigraph's plan
        assert asked is None and hangs_on_plan(text)
    else:
        assert asked is not None
        assert {str(row[0]) for row in store.query(asked, default_graph=GRAPH)} == set()
    if "EXISTS" not in select and "OPTIONAL { {" not in select:
        # pyshacl reads no EXISTS in a projection, and binds $this in a sub-SELECT of its own
        reference = validate(data, rule).violations
        assert results(validate_store(store, [GRAPH], rule).violations) == results(reference)


# `<` written without spaces where an expression compares: these tokens read an IRI from it to the
# next `>`, swallowing a quote or a bracket, where Oxigraph reads a less-than sign.
LESS_THAN = [
    "SELECT $this ?v WHERE { $this <urn:e:p> ?x FILTER(?x<'>' || true) { OPTIONAL { ?this <urn:e:q> ?v } } }",
    "SELECT $this ?v WHERE { $this <urn:e:p> ?x { SELECT ?this ?v WHERE { ?this <urn:e:q> ?v } "
    'GROUP BY ?this ?v HAVING((?v<?v)=false&&?v>"") ORDER BY DESC(?this) LIMIT 1 } }',
    "SELECT $this ?v (STR(?v)<'>' AS ?z) WHERE { $this <urn:e:q> ?v }",
]


@pytest.mark.parametrize("select", LESS_THAN)
def test_a_less_than_read_as_an_iri_leaves_the_rule_unrestricted_and_to_pyshacl(select: str) -> None:
    """Where a `<` in brackets right after a term may be a comparison, no group of the text is read:
    the compiler leaves the rule to pyshacl, and no group is restricted. Spaced, the same text is read."""
    assert less_than_read_as_iri(tokens(select))
    assert where_opening(select) is None and groups_opened_by(select, "this") == []
    with pytest.raises(Unsupported):
        compile_shapes(_rule(select), {})
    spaced = select.replace("<'", "< '").replace("<?", "< ?").replace("?v>", "?v >")
    assert not less_than_read_as_iri(tokens(spaced)) and where_opening(spaced) is not None


def test_a_rule_with_a_limit_is_left_to_pyshacl() -> None:
    """Pre-bound to one focus node, a LIMIT or an OFFSET picks among that node's rows; asked once of
    every node, it would pick among all of them."""
    for select in (
        "SELECT $this WHERE { $this <urn:e:p> ?x } ORDER BY DESC(?this) LIMIT 1",
        "SELECT $this WHERE { $this <urn:e:p> ?x } OFFSET 1",
    ):
        with pytest.raises(Unsupported):
            compile_shapes(_rule(select), {})


_F = "{ SELECT DISTINCT ?this WHERE { ?this a <urn:Obs> } }"
APART_FROM_VALUES = {
    "nested-optional": f"SELECT ?this WHERE {{ {_F} VALUES ?p {{ <urn:a> }} "
    "{ ?this <urn:x> ?y OPTIONAL { ?y ?p ?z } } }",
    "nested-not-exists": f"SELECT ?this WHERE {{ {_F} VALUES ?p {{ <urn:a> }} "
    "{ ?this <urn:x> ?y FILTER NOT EXISTS { ?y ?p ?z } } }",
    "sub-select-optional": f"SELECT ?this WHERE {{ {_F} VALUES ?p {{ <urn:a> }} "
    "{ SELECT ?this ?p WHERE { ?this <urn:x> ?y OPTIONAL { ?y ?p ?z } } } }",
    "optional-in-optional": f"SELECT ?this WHERE {{ {_F} VALUES ?p {{ <urn:a> }} "
    "OPTIONAL { ?this <urn:x> ?y OPTIONAL { ?y ?p ?z } } FILTER(BOUND(?y)) }",
    "minus": f"SELECT ?this WHERE {{ {_F} VALUES ?p {{ <urn:a> }} ?this <urn:x> ?y "
    "MINUS { ?this <urn:x> ?y OPTIONAL { ?y ?p ?z } FILTER(!BOUND(?z)) } }",
    # A LIMIT picks among every node's rows: a new node's pushes <urn:t>'s out.
    "limit": f"SELECT ?this WHERE {{ {_F} "
    "{ SELECT ?this WHERE { ?this <urn:p> ?o } ORDER BY ?this LIMIT 1 } }",
}
APART_CHANGES = {
    "limit": "<urn:s> a <urn:Obs> ; <urn:p> 1 .",
}


@pytest.mark.parametrize("name", APART_FROM_VALUES)
def test_a_pattern_evaluated_apart_from_a_block_of_values_reads_any_predicate(name: str) -> None:
    """A group SPARQL evaluates apart (an OPTIONAL, a NOT EXISTS or a MINUS inside a nested group, a
    sub-SELECT or another OPTIONAL) reads ?p unbound, whatever a block of values around binds it to:
    a triple of <urn:b> removes or adds <urn:t>'s row, so <urn:t> is reached, or the rule runs whole."""
    query = APART_FROM_VALUES[name]
    base = "<urn:t> a <urn:Obs> ; <urn:x> <urn:y1> ; <urn:p> 1 . "
    added = APART_CHANGES.get(name, "<urn:y1> <urn:b> <urn:z2> .")
    before, after = _store(base), _store(base + added)
    rows_before = sorted(str(row["this"]) for row in before.query(query))
    assert rows_before != sorted(str(row["this"]) for row in after.query(query))
    focus = Revalidation(after, _quads(added), analyse).neighbours.focus(analyse(query), query)
    assert focus is None or ox.NamedNode("urn:t") in focus
