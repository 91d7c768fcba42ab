"""How the project's queries are written for Oxigraph's planner and evaluation.

A UNION joined to a pattern shares with it a variable that every branch binds.

Oxigraph joins two patterns by hash on the variables both always bind. A UNION
whose branches bind different ones (`?flow kg:hasLeg ?leg . { ?leg p ?x } UNION
{ ?flow p ?x }`: one branch binds ?leg, the other ?flow) has no such variable,
so every solution of one side is compared with every solution of the other: the
flow network's query (`network-legs`) took 22 s at 600 sources that way, 2.5 s
with the join's pattern inside each branch.

No sub-SELECT stands inside `GRAPH ?g`: Oxigraph 0.5 evaluates it over every graph and leaves ?g
unbound, so a query that bound ?g to the provenance graph read the excerpts of every graph there
(while rdflib read the provenance graph alone), and the rebuild, which looked in the provenance graph,
missed what the clean build checked.

Each UNION branch of a catalogue question starts, in Oxigraph's plan, from a VALUES block or from a
variable bound before the UNION. Oxigraph plans a branch before it knows what the rows joined to it
bind: `source-statements` started its first branch from every fact's evidence (79,306 rows at 600
sources, for 7,210) because the subject it asks about was joined in outside the branch, and
`fentanyl-sources` from every trafficking flow rather than from the items. A `VALUES ?x { }` block in
the branch (the parameter is written into each) or the patterns that bind the variable, repeated
inside the branch, make it start there. Oxigraph's plan depends a little on the data (two
questions' plans take another shape on a store of 100 synthetic sources than on an empty one), but
these checks find the same branches and OPTIONALs on both, so an empty store stands in for the store
the questions are asked of; a question whose plan changes with the data there is worth a look at scale
(`benchmarks/scale.py`).

An OPTIONAL that Oxigraph joins by hash is read whole, planned apart from the rows it joins, so it
does not start from every member of a class (`?change a kg:StatedChange`) whose member the rows do
not bind: `heroin-production-yield` read all 9,600 stated changes of the 600-source store to find the
600 about its observations, and `controlled-precursors` all 5,400 policy measures. A pattern the rows
already hold, repeated first in the group (the observation's measure, the chemical's class), makes it
start from what the rows are about; it changes no answer, since every row joined holds it.
Beyond that one pattern, such an OPTIONAL does not read its rows again: `mexico-seizures` repeated
five of its observation's patterns in its pairing (so that the filter and the stated change inside
it saw them), and read its 5,400 observations at 600 sources twice, each with every observation of
its data set, before joining the pairs to them.

A hash join beside a grouping (a sub-SELECT with GROUP BY) is built on the groups. Oxigraph reads the
side it builds on whole before the other, and reads the other not at all when that side is empty:
`source-disagreements` built on the evidence of all 14,400 observations at 600 sources and probed it
with its groups that disagree, none.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from algebra import WRAPPERS, algebra_nodes
from rdflib import Variable
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue
from test_engines import CATALOGUE, PUBLIC

_JOINS = ("Join", "LeftJoin", "Minus")
_PLAN_VARIABLE = re.compile(r"\?(\w+)")
# Questions whose branches Oxigraph starts elsewhere, where the first pattern reads few rows: a block in
# each branch changed nothing measurable at 600 sources (docs/scale.md).
_BRANCHES_START_ELSEWHERE = {
    "controlled-precursors": "every chemical's control status: 3 rows",
    "fentanyl-policies": "every policy's targets: 16,211 rows, 3 % of the question's time",
    "violence-competition": "every place's country: 4 rows",
}


def variables(node: object) -> set[Variable]:
    """Every variable a node names, in its patterns or its expressions."""
    if isinstance(node, Variable):
        return {node}
    if isinstance(node, CompValue):
        return {v for child in node.values() for v in variables(child)}
    if isinstance(node, list | tuple | set):
        return {v for child in node for v in variables(child)}
    return set()


def binds(node: object, every: bool) -> set[Variable]:
    """The variables some solution of a pattern binds, or with `every`, those every solution binds
    (a join is hashed on these): not those only named in a filter or an EXISTS."""
    if not isinstance(node, CompValue):
        return set()
    if node.name == "BGP":
        return {term for triple in node.triples for term in triple if isinstance(term, Variable)}
    if node.name in ("Join", "LeftJoin", "Union"):
        first, second = binds(node.p1, every), binds(node.p2, every)
        if node.name == "Union" and every:
            return first & second
        return first | second if node.name == "Join" or not every else first
    if node.name == "Minus":
        return binds(node.p1, every)
    if node.name == "Project":
        return set(node.PV) & binds(node.p, every)
    if node.name == "Extend":
        return binds(node.p, every) | {node.var}
    if node.name in WRAPPERS:
        return binds(node.p, every)
    return variables(node)  # VALUES, aggregates: taken as binding what they name


def unwrapped(node: object) -> object:
    """The pattern under filters, extensions, graphs and sub-SELECTs: a UNION with a FILTER beside it,
    or alone in a sub-SELECT, is joined as a UNION."""
    while isinstance(node, CompValue) and node.name in (*WRAPPERS, "Project"):
        node = node.p
    return node


def unjoinable_unions(node: object) -> Iterator[str]:
    """Each UNION joined to a pattern it shares variables with, none of which all its branches bind."""
    for join in algebra_nodes(node):
        if join.name not in _JOINS:
            continue
        for side, other in ((join.p1, join.p2), (join.p2, join.p1)):
            union = unwrapped(side)
            if isinstance(union, CompValue) and union.name == "Union":
                shared = binds(side, every=False) & binds(other, every=False)
                if shared and not binds(side, every=True) & binds(other, every=True):
                    yield f"joined on {sorted(map(str, shared))}, bound on every branch: none"


def test_a_union_whose_branches_bind_different_variables_is_caught() -> None:
    start = "SELECT * WHERE { ?f <urn:leg> ?l . OPTIONAL { "
    split = start + "?f <urn:leg> ?l . { ?l <urn:c> ?x } UNION { ?f <urn:c> ?x } } }"
    whole = start + "{ ?f <urn:leg> ?l ; <urn:c> ?x } UNION { ?f <urn:leg> ?l . ?l <urn:c> ?x } } }"
    filtered = start + "?f <urn:leg> ?l . { ?l <urn:c> ?x } UNION { ?f <urn:c> ?x } FILTER(BOUND(?x)) } }"
    checked = start + "?f <urn:leg> ?l . { ?l <urn:c> ?x FILTER(BOUND(?f)) } UNION { ?f <urn:c> ?x } } }"
    selected = (
        start + "?f <urn:leg> ?l . { SELECT * WHERE { { ?l <urn:c> ?x } UNION { ?f <urn:c> ?x } } } } }"
    )
    for caught in (split, filtered, checked, selected):
        assert len(list(unjoinable_unions(prepareQuery(caught).algebra))) == 1, caught
    assert list(unjoinable_unions(prepareQuery(whole).algebra)) == []


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_union_of_a_query_is_joined_on_a_variable_all_its_branches_bind(name: str) -> None:
    found = list(unjoinable_unions(prepareQuery(CATALOGUE[name].text).algebra))
    assert found == [], f"{name}: a UNION {found}"


def sub_selects_in_variable_graphs(node: object) -> Iterator[str]:
    """Each `GRAPH ?g` holding a sub-SELECT."""
    for graph in algebra_nodes(node):
        if graph.name == "Graph" and isinstance(graph.term, Variable):
            if any(inner.name == "Project" for inner in algebra_nodes(graph.p)):
                yield f"GRAPH {graph.term.n3()} holds a sub-SELECT"


def test_oxigraph_reads_a_sub_select_inside_a_graph_variable_from_every_graph() -> None:
    """Why the rule below holds: were this to fail, Oxigraph would scope such a sub-SELECT as SPARQL does."""
    store = ox.Store()
    store.add(
        ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("o"), ox.NamedNode("urn:elsewhere"))
    )
    store.add(
        ox.Quad(ox.NamedNode("urn:t"), ox.NamedNode("urn:p"), ox.Literal("o"), ox.NamedNode("urn:here"))
    )
    asked = "SELECT ?s WHERE { VALUES ?g { <urn:here> } GRAPH ?g { { SELECT ?s WHERE { ?s <urn:p> ?o } } } }"
    assert sorted(row["s"].value for row in store.query(asked)) == ["urn:s", "urn:t"]  # SPARQL: urn:t only
    written = (
        "SELECT ?s WHERE { { SELECT ?s WHERE { VALUES ?g { <urn:here> } GRAPH ?g { ?s <urn:p> ?o } } } }"
    )
    assert [row["s"].value for row in store.query(written)] == ["urn:t"]


def test_a_sub_select_inside_a_graph_variable_is_caught() -> None:
    inside = "SELECT * WHERE { GRAPH ?g { { SELECT ?s WHERE { ?s ?p ?o } } } }"
    around = "SELECT * WHERE { { SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } } } }"
    named = "SELECT * WHERE { GRAPH <urn:g> { { SELECT ?s WHERE { ?s ?p ?o } } } }"
    assert len(list(sub_selects_in_variable_graphs(prepareQuery(inside).algebra))) == 1
    assert list(sub_selects_in_variable_graphs(prepareQuery(around).algebra)) == []
    assert list(sub_selects_in_variable_graphs(prepareQuery(named).algebra)) == []


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_no_sub_select_stands_inside_a_graph_variable(name: str) -> None:
    assert list(sub_selects_in_variable_graphs(prepareQuery(CATALOGUE[name].text).algebra)) == [], name


def plan(text: str, folder: Path, answer: str = "select") -> dict[str, object]:
    """Oxigraph's plan for `text` (its command line, on an empty store in `folder`); `answer` is the
    query's form, which decides the format of the (empty) results."""
    store, written = folder / "empty-store", folder / "plan.json"
    if not store.exists():
        ox.Store(str(store)).flush()
    program = str(Path(sys.executable).parent / "oxigraph")
    results = "nt" if answer in ("construct", "describe") else "json"
    command = [program, "query", "--location", str(store), "--union-default-graph", "--results-format"]
    command += [results, "--explain-file", str(written)]
    subprocess.run(command, input=text.encode(), check=True, capture_output=True)
    planned: dict[str, object] = json.loads(written.read_text("utf-8"))["plan"]
    return planned


def _steps(step: dict[str, object]) -> list[dict[str, object]]:
    children = step.get("children", [])
    return children if isinstance(children, list) else []


def _first_step(step: dict[str, object]) -> dict[str, object]:
    """The step a pattern starts from: the first child, down to a pattern or a UNION."""
    while _steps(step) and not str(step["name"]).startswith("Union"):
        step = _steps(step)[0]
    return step


def _named(step: dict[str, object]) -> set[str]:
    """The variables the steps of a plan name."""
    found = set(_PLAN_VARIABLE.findall(str(step["name"])))
    return found.union(*(_named(child) for child in _steps(step)))


def branches_planned_alone(step: dict[str, object], bound: frozenset[str] = frozenset()) -> Iterator[str]:
    """The first step of each UNION branch that starts neither from a VALUES block nor from a variable
    bound before the UNION (by the left side of a for-loop join around it)."""
    name, children = str(step["name"]), _steps(step)
    if name.startswith("Union"):
        for branch in children:
            first = _first_step(branch)
            starts_bound = bound & set(_PLAN_VARIABLE.findall(str(first["name"])))
            if not str(first["name"]).startswith(("StaticBindings", "Union")) and not starts_bound:
                yield str(first["name"])
            yield from branches_planned_alone(branch, bound)
    elif children and name.startswith(("Lateral", "ForLoop")):
        yield from branches_planned_alone(children[0], bound)
        for right in children[1:]:
            yield from branches_planned_alone(right, bound | _named(children[0]))
    else:
        for child in children:
            yield from branches_planned_alone(child, bound)


def test_a_branch_that_does_not_know_the_parameter_is_caught(tmp_path: Path) -> None:
    alone = "SELECT * { VALUES ?s { <urn:a> } { ?x <urn:p> ?y . ?y <urn:q> ?s } UNION { ?s <urn:r> ?x } }"
    told = "SELECT * { VALUES ?s { <urn:a> } { VALUES ?s { <urn:a> } ?x <urn:p> ?y . ?y <urn:q> ?s } }"
    assert list(branches_planned_alone(plan(alone, tmp_path))) == ["QuadPattern(?x <urn:p> ?y)"]
    assert list(branches_planned_alone(plan(told, tmp_path))) == []


_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
# The one question whose OPTIONAL reads a whole class: its stated changes (9,600) cost less than the
# 6,600 observations of its three measures it would start from instead (docs/scale.md).
_OPTIONALS_READ_A_CLASS = {"mexico-seizures": "every stated change"}


def optionals_from_a_class(step: dict[str, object]) -> Iterator[str]:
    """The first step of each OPTIONAL joined by hash that matches every member of a class, of a
    variable the rows it joins do not bind."""
    name, children = str(step["name"]), _steps(step)
    if name.startswith("LeftJoin(Hash") and len(children) == 2:
        first = str(_first_step(children[1])["name"])
        member = set(_PLAN_VARIABLE.findall(first.split(" ", 1)[0]))
        if first.startswith("QuadPattern(") and f" {_TYPE} <" in first and not member & _named(children[0]):
            yield first
    for child in children:
        yield from optionals_from_a_class(child)


def test_an_optional_read_from_a_whole_class_is_caught(tmp_path: Path) -> None:
    start = "SELECT * { ?o <urn:measure> <urn:m> OPTIONAL { "
    whole = start + "?c a <urn:Change> ; <urn:to> ?o ; <urn:from> ?p . ?p <urn:v> ?v } }"
    told = (
        start
        + "?o <urn:measure> <urn:m> . ?c a <urn:Change> ; <urn:to> ?o ; <urn:from> ?p . ?p <urn:v> ?v } }"
    )
    assert list(optionals_from_a_class(plan(whole, tmp_path))) == [f"QuadPattern(?c {_TYPE} <urn:Change>)"]
    assert list(optionals_from_a_class(plan(told, tmp_path))) == []


@pytest.fixture(scope="module")
def plans_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plans")


@pytest.mark.parametrize("name", sorted(set(PUBLIC) - set(_BRANCHES_START_ELSEWHERE)))
def test_every_union_branch_of_a_question_starts_from_what_it_is_asked(name: str, plans_folder: Path) -> None:
    question = PUBLIC[name]
    planned = plan(question.standalone(), plans_folder, question.answer)
    assert list(branches_planned_alone(planned)) == [], name


@pytest.mark.parametrize("name", sorted(set(PUBLIC) - set(_OPTIONALS_READ_A_CLASS)))
def test_no_optional_of_a_question_is_read_from_a_whole_class(name: str, plans_folder: Path) -> None:
    question = PUBLIC[name]
    planned = plan(question.standalone(), plans_folder, question.answer)
    assert list(optionals_from_a_class(planned)) == [], name


def _walk(step: dict[str, object]) -> Iterator[dict[str, object]]:
    """A step of a plan and every step under it."""
    yield step
    for child in _steps(step):
        yield from _walk(child)


def _holds(step: dict[str, object], kind: str) -> bool:
    return any(str(inner["name"]).startswith(kind) for inner in _walk(step))


def groupings_probed(step: dict[str, object]) -> Iterator[str]:
    """Each hash join that builds its table on the side without a grouping and probes it with the
    grouping's groups."""
    for join in _walk(step):
        sides = _steps(join)
        if str(join["name"]).startswith("Join(Hash") and len(sides) == 2:
            if _holds(sides[1], "Aggregate") and not _holds(sides[0], "Aggregate"):
                yield str(_first_step(sides[0])["name"])


def test_a_grouping_probing_a_join_is_caught(tmp_path: Path) -> None:
    groups = "{ SELECT ?m WHERE { ?o <urn:measure> ?m ; <urn:value> ?v } GROUP BY ?m HAVING (COUNT(?v) > 1) }"
    read = "?o <urn:measure> ?m ; <urn:value> ?v ; <urn:excerpt> ?e ."
    probing = f"SELECT * WHERE {{ {groups} {read} }}"
    built = f"SELECT * WHERE {{ {groups} {{ SELECT * WHERE {{ {read} }} }} }}"
    assert list(groupings_probed(plan(probing, tmp_path))) == ["QuadPattern(?o <urn:measure> ?m)"]
    assert list(groupings_probed(plan(built, tmp_path))) == []


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_a_join_with_a_grouping_is_built_on_the_groups(name: str, plans_folder: Path) -> None:
    question = PUBLIC[name]
    planned = plan(question.standalone(), plans_folder, question.answer)
    assert list(groupings_probed(planned)) == [], name


def _patterns(step: dict[str, object]) -> list[str]:
    return [str(inner["name"]) for inner in _walk(step) if str(inner["name"]).startswith("QuadPattern(")]


def optionals_reading_their_rows_again(step: dict[str, object]) -> Iterator[list[str]]:
    """The patterns of the rows that each OPTIONAL joined by hash reads again, where it reads more
    than one."""
    for join in _walk(step):
        sides = _steps(join)
        if str(join["name"]).startswith("LeftJoin(Hash") and len(sides) == 2:
            read = set(_patterns(sides[0]))
            again = [pattern for pattern in _patterns(sides[1]) if pattern in read]
            if len(again) > 1:
                yield again


def test_an_optional_reading_its_rows_again_is_caught(tmp_path: Path) -> None:
    rows = "VALUES ?m { <urn:m> } ?o <urn:measure> ?m ; <urn:set> ?d ; <urn:year> ?y ."
    pairing = "?p <urn:set> ?d ; <urn:measure> ?m ; <urn:year> ?z . FILTER (?z + 1 = ?y)"
    keys = "?o <urn:measure> ?m ; <urn:set> ?d ; <urn:year> ?y ."
    again = f"SELECT * WHERE {{ {rows} OPTIONAL {{ {keys} {pairing} }} }}"
    next_year = "?p <urn:measure> ?m ; <urn:set> ?d ; <urn:year> ?z ; <urn:next> ?y"
    once = f"SELECT * WHERE {{ {rows} OPTIONAL {{ {next_year} }} }}"
    assert [len(found) for found in optionals_reading_their_rows_again(plan(again, tmp_path))] == [3]
    assert list(optionals_reading_their_rows_again(plan(once, tmp_path))) == []


# The one question whose OPTIONAL reads its rows again: its pairing is a sub-SELECT joined on the
# observation alone, and keyed on the period and data set as mexico-seizures' is, it would pair an
# observation of two periods otherwise (docs/scale.md).
_OPTIONALS_READ_THEIR_ROWS = {"poppy-cultivation-change": "the previous year's observation"}


@pytest.mark.parametrize("name", sorted(set(PUBLIC) - set(_OPTIONALS_READ_THEIR_ROWS)))
def test_no_optional_of_a_question_reads_its_rows_again(name: str, plans_folder: Path) -> None:
    question = PUBLIC[name]
    planned = plan(question.standalone(), plans_folder, question.answer)
    assert list(optionals_reading_their_rows_again(planned)) == [], name
