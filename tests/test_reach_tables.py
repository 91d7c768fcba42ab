"""A rebuild asks a query's DISTINCT sub-SELECT before and after a change: where its answer is the
same, the change reaches no focus node through the sub-SELECT's patterns (`kg.build.reach.Table`).

The series rule of the shapes joins each statement with the series that have a fiscal year, found by
such a sub-SELECT, and a walk from a new statement through its measure reaches every statement of the
measure: without the comparison the rule runs whole for any new statement of a series.
"""

from __future__ import annotations

import random

import pyoxigraph as ox
import pytest
from test_reach import _quads, _store

from kg.build.reach import Revalidation, Table, analyse
from kg.store.sparql import sub_select_query

FOCUS = "{ SELECT DISTINCT ?this WHERE { ?this a <urn:Obs> } }"
SERIES = (
    f"SELECT ?this ?y WHERE {{ {FOCUS} ?this <urn:measure> ?m ; <urn:area> ?a ; <urn:year> ?y . "
    "?y a <urn:Calendar> . "
    "{ SELECT DISTINCT ?m ?a WHERE { ?o <urn:measure> ?m ; <urn:area> ?a ; <urn:year> ?f . "
    "?f a <urn:Fiscal> } } }"
)
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def _statement(name: str, area: str, year: str) -> str:
    return (
        f"<urn:{name}> a <urn:Obs> ; <urn:measure> <urn:m> ; <urn:area> <urn:{area}> ; "
        f"<urn:year> <urn:{year}> . "
    )


YEARS = "<urn:fy1> a <urn:Fiscal> . <urn:fy2> a <urn:Fiscal> . <urn:cy1> a <urn:Calendar> . "
# Thirty statements of a series in fiscal years, thirty of another in calendar years: it conforms.
LIBRARY = (
    YEARS
    + "".join(_statement(f"f{n}", "mx", "fy1") for n in range(30))
    + "".join(_statement(f"c{n}", "co", "cy1") for n in range(30))
)


def _tables(query: str) -> list[Table]:
    """The query's tables but its focus block (`FOCUS`, written plainly here)."""
    return [table for table in analyse(query).tables if table.projected != ("this",)]


def _rebuilt(added: str, *, previous: bool = True) -> tuple[ox.Store, Revalidation]:
    """The library's store with `added` added, and the revalidation of that change."""
    before = _store(LIBRARY)
    after = _store(LIBRARY + added)
    return after, Revalidation(after, _quads(added), analyse, before if previous else None)


def test_a_distinct_sub_select_of_plain_patterns_is_read_as_a_table() -> None:
    reach = analyse(SERIES)
    assert reach.routes is not None
    (table,) = _tables(SERIES)
    assert table.projected == ("m", "a") and table.first
    (valued,) = _tables(FORMS["own-values"])
    assert not valued.first  # its own block of values leads the comparison's plan: walked first
    inside = [route for route in reach.routes if route.within == table.scope]
    assert {route.pattern.subject for route in inside} == {"?o@2", "?f@2"}  # its own patterns alone
    assert sub_select_query(SERIES, ["m", "a"]) == (
        "SELECT DISTINCT ?m ?a WHERE { ?o <urn:measure> ?m ; <urn:area> ?a ; <urn:year> ?f . "
        "?f a <urn:Fiscal> }"
    )


@pytest.mark.parametrize(
    "inner",
    [
        "SELECT ?m ?a WHERE { ?o <urn:measure> ?m ; <urn:area> ?a }",  # not DISTINCT: rows counted
        "SELECT DISTINCT ?m ?a WHERE { ?o <urn:measure> ?m OPTIONAL { ?o <urn:area> ?a } }",
        "SELECT DISTINCT ?m ?a WHERE { { ?o <urn:measure> ?m } UNION { ?o <urn:area> ?a } }",
        "SELECT DISTINCT ?m ?a WHERE { ?o <urn:measure> ?m ; <urn:area> ?a MINUS { ?o <urn:x> ?a } }",
        "SELECT DISTINCT ?m ?a WHERE { ?o <urn:measure> ?m ; <urn:area> ?a "
        "FILTER NOT EXISTS { ?o <urn:x> ?a } }",
        "SELECT DISTINCT ?m ?a WHERE { ?o <urn:measure> ?m ; <urn:area> ?a FILTER(RAND() >= 0) }",
        "SELECT DISTINCT ?m ?a WHERE { ?o <urn:measure> ?m ; <urn:area> ?a } LIMIT 1",
        "SELECT DISTINCT ?m ?a WHERE { ?o <urn:measure> ?m ; <urn:area> ?a } VALUES ?a { <urn:mx> }",
        "SELECT DISTINCT ?m ?a WHERE { GRAPH ?g { ?o <urn:measure> ?m ; <urn:area> ?a } }",
        "SELECT DISTINCT ?m (SAMPLE(?x) AS ?a) WHERE { ?o <urn:measure> ?m ; <urn:area> ?x } GROUP BY ?m",
    ],
    ids=[
        "not-distinct",
        "optional",
        "union",
        "minus",
        "not-exists",
        "rand",
        "limit",
        "values-after",
        "graph",
        "grouped",
    ],
)
def test_a_sub_select_whose_answer_other_triples_shape_is_no_table(inner: str) -> None:
    """An OPTIONAL, a MINUS or an EXISTS reads triples whose change may drop a row; a LIMIT, a group or
    a block of values after the group answers other than its patterns say."""
    query = f"SELECT ?this WHERE {{ {FOCUS} ?this <urn:measure> ?m ; <urn:area> ?a . {{ {inner} }} }}"
    assert _tables(query) == []


def test_a_change_that_leaves_a_table_as_it_was_reaches_no_node_through_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new statement of a series that had a fiscal year already: the series with a fiscal year are the
    same, so the walk from the new statement through the measure (every statement of it, past the
    limit: the query would run whole) is not taken, and the new statement alone is asked about."""
    monkeypatch.setattr("kg.build.reach.WALK_LIMIT", 20)
    added = _statement("new", "mx", "fy2")
    _, asked = _rebuilt(added)
    assert asked.neighbours.focus(analyse(SERIES), SERIES) == {ox.NamedNode("urn:new")}
    assert ox.NamedNode("urn:m") not in asked.neighbours._known  # compared first: no walk through it
    _, unknown = _rebuilt(added, previous=False)  # without the previous store, nothing is compared
    assert unknown.neighbours.focus(analyse(SERIES), SERIES) is None


def test_a_change_to_a_table_s_answer_reaches_through_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A first fiscal year in the calendar series adds a row to the table: each calendar statement of
    that series now fails, and the query runs whole (the walk through the measure is past the limit)."""
    monkeypatch.setattr("kg.build.reach.WALK_LIMIT", 20)
    added = _statement("new", "co", "fy2")
    after, asked = _rebuilt(added)
    failing = {row["this"] for row in after.query(SERIES)}
    assert len(failing) == 30
    assert asked.neighbours.focus(analyse(SERIES), SERIES) is None
    monkeypatch.setattr("kg.build.reach.WALK_LIMIT", 20_000)
    _, walked = _rebuilt(added)
    assert failing <= (walked.neighbours.focus(analyse(SERIES), SERIES) or set())


# Queries whose sub-SELECT is a table, over the small vocabulary `_random_library` writes.
FORMS = {
    "series": SERIES,
    "two-steps": (
        f"SELECT ?this WHERE {{ {FOCUS} ?this <urn:year> ?y . "
        "{ SELECT DISTINCT ?y WHERE { ?o <urn:year> ?y ; <urn:area> ?a . ?a <urn:in> ?r } } }"
    ),
    "filtered": (
        f"SELECT ?this ?a WHERE {{ {FOCUS} ?this <urn:area> ?a . "
        "{ SELECT DISTINCT ?a WHERE { ?o <urn:area> ?a ; <urn:measure>|<urn:year> ?v "
        "FILTER(?v != <urn:m1> && BOUND(?o)) } } }"
    ),
    "sequence-and-inverse": (
        f"SELECT ?this WHERE {{ {FOCUS} ?this <urn:area> ?a . "
        "{ SELECT DISTINCT ?a WHERE { ?a ^<urn:in>/<urn:year> [] } } }"
    ),
    "own-values": (
        f"SELECT ?this WHERE {{ {FOCUS} ?this <urn:area> ?a . "
        "{ SELECT DISTINCT ?a WHERE { VALUES ?k { <urn:Fiscal> } ?y a ?k . "
        "?o <urn:year> ?y ; <urn:area> ?a } } }"
    ),
    "projects-this": (
        f"SELECT ?this ?v WHERE {{ {FOCUS} "
        "{ SELECT DISTINCT ?this ?v WHERE { ?r <urn:in> ?this . ?o <urn:area> ?r ; <urn:year> ?v } } "
        "FILTER NOT EXISTS { ?this <urn:measure> ?v } }"
    ),
    "repeated": (
        f"SELECT ?this ?r WHERE {{ {FOCUS} ?this <urn:area> ?a . "
        "{ SELECT DISTINCT ?a ?r WHERE { ?a <urn:in>+ ?r ; <urn:year> ?y } } }"
    ),
}
NODES = [f"<urn:o{n}>" for n in range(5)]
OBJECTS = {
    "<urn:measure>": ["<urn:m0>", "<urn:m1>"],
    "<urn:area>": ["<urn:a0>", "<urn:a1>", "<urn:o0>"],
    "<urn:year>": ["<urn:y0>", "<urn:y1>", "<urn:y2>"],
    "<urn:in>": ["<urn:a0>", "<urn:a1>", "<urn:o1>"],
}


def _random_triples(rng: random.Random) -> set[str]:
    triples = {f"{node} a <urn:Obs> ." for node in NODES if rng.random() < 0.8}
    for year in OBJECTS["<urn:year>"]:
        triples.add(f"{year} a {rng.choice(['<urn:Fiscal>', '<urn:Calendar>'])} .")
    for subject in NODES + ["<urn:a0>", "<urn:a1>"]:
        for predicate, objects in OBJECTS.items():
            if rng.random() < 0.45:
                triples.add(f"{subject} {predicate} {rng.choice(objects)} .")
    return triples


def _answers(store: ox.Store, query: str) -> dict[ox.NamedNode, set[str]]:
    found: dict[ox.NamedNode, set[str]] = {}
    for row in store.query(query):
        found.setdefault(row["this"], set()).add(str(list(row)))
    return found


@pytest.mark.parametrize("form", FORMS)
def test_every_node_whose_answer_a_change_alters_is_reached(
    form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random libraries and random changes (added and removed triples), with walks that give up past
    three nodes, so that the tables are compared: a table found alike has the same whole answer in
    both stores, and every focus node whose rows differ is among those reached, or the query runs
    whole. The tables are found alike in a good share of the changes, so that is what is tried."""
    monkeypatch.setattr("kg.build.reach.WALK_LIMIT", 3)
    query = FORMS[form]
    reach = analyse(query)
    assert reach.routes is not None
    (table,) = _tables(query)
    whole = sub_select_query(query, list(table.projected))
    assert whole is not None
    rng = random.Random(form)
    alike = restricted = 0
    for _ in range(300):
        old = _random_triples(rng)
        new = set(old)
        every = sorted(old | _random_triples(rng))
        for triple in rng.sample(every, 3):
            new.symmetric_difference_update({triple})
        before, after = _store("\n".join(sorted(old))), _store("\n".join(sorted(new)))
        changed = _quads("\n".join(sorted(old ^ new)))
        if Revalidation(after, changed, analyse, before).neighbours._answers_alike(
            table, reach.routes, query
        ):
            alike += 1
            assert set(map(str, before.query(whole))) == set(map(str, after.query(whole))), (old, new)
        focus = Revalidation(after, changed, analyse, before).neighbours.focus(reach, query)
        was, now = _answers(before, query), _answers(after, query)
        differing = {node for node in set(was) | set(now) if was.get(node) != now.get(node)}
        assert focus is None or differing <= focus, (sorted(old), sorted(new))
        restricted += focus is not None
    assert alike >= 30 and restricted >= 30


def _differing_focus(
    query: str, before_text: str, after_text: str, *, trig: bool = False
) -> tuple[object, bool]:
    """The focus a change from `before_text` to `after_text` reaches, and whether <urn:t>'s rows differ."""
    kind = ox.RdfFormat.TRIG if trig else ox.RdfFormat.TURTLE
    before, after = ox.Store(), ox.Store()
    before.load(before_text, format=kind)
    after.load(after_text, format=kind)
    changed = sorted(set(after) ^ set(before), key=str)
    focus = Revalidation(after, changed, analyse, before).neighbours.focus(analyse(query), query)

    def rows(store: ox.Store) -> list[str]:
        return sorted(str(row["this"]) for row in store.query(query, use_default_graph_as_union=True))

    return focus, rows(before) != rows(after)


BASE = "<urn:t> a <urn:Obs> ; <urn:area> <urn:a1> . "
NEW = "<urn:x> <urn:area> <urn:a1> ; <urn:year> <urn:y> . "
TABLE_FAULTS = {
    # Another sub-SELECT of the same projection is the text found: the one analysed has a LIMIT.
    "same-projection": f"SELECT ?this WHERE {{ {FOCUS} ?this <urn:area> ?a . "
    "{ SELECT DISTINCT ?a WHERE { ?o <urn:area> ?a ; <urn:year> ?y } LIMIT 1000 } "
    "MINUS { { SELECT DISTINCT ?a WHERE { ?q <urn:none> ?a OPTIONAL { ?q <urn:other> ?z } } } } }",
    # A BIND before the pattern reads ?o unbound; a block of values at the group's opening binds it.
    "bind-before": f"SELECT ?this WHERE {{ {FOCUS} ?this <urn:area> ?a . "
    "{ SELECT DISTINCT ?a WHERE { BIND(?o AS ?k) ?o <urn:area> ?a ; <urn:year> ?y FILTER(!BOUND(?k)) } } }",
    # Values of ?p in a UNION branch bind no ?p of the table.
    "values-elsewhere": f"SELECT ?this ?p WHERE {{ {FOCUS} ?this <urn:area> ?a . "
    "{ VALUES ?p { <urn:zzz> } } UNION { BIND(1 AS ?u) } "
    "{ SELECT DISTINCT ?a ?p WHERE { ?o ?p ?a . ?o <urn:year> ?y } } }",
    # rdflib and Oxigraph resolve a relative IRI against an odd base otherwise.
    "base": f"BASE <urn:> SELECT ?this WHERE {{ {FOCUS} "
    "?this <urn:area> ?a . { SELECT DISTINCT ?a WHERE { ?o <area> ?a ; <year> ?y } } }",
}


@pytest.mark.parametrize("query", TABLE_FAULTS.values(), ids=list(TABLE_FAULTS))
def test_a_table_read_otherwise_than_the_store_reads_it_is_not_taken_for_the_same(query: str) -> None:
    """<urn:t> gains a row through the new statement: it is reached, or the rule runs whole."""
    focus, differ = _differing_focus(query, BASE, BASE + NEW)
    assert differ
    assert focus is None or ox.NamedNode("urn:t") in focus


@pytest.mark.parametrize(
    "table",
    [
        "{ SELECT DISTINCT ?a ?w WHERE { ?o <urn:area> ?a ; <urn:year> ?y BIND(?y AS ?w) } }",
        "{ SELECT DISTINCT ?a WHERE { BIND(<urn:x> AS ?o) ?o <urn:area> ?a ; <urn:year> ?y } }",
    ],
    ids=["bind-projected", "bind-an-end"],
)
def test_a_table_with_a_bind_is_no_table_and_a_rebuild_does_not_stop(table: str) -> None:
    """A block of values binding what a BIND makes is refused by Oxigraph: no table has one."""
    query = f"SELECT ?this WHERE {{ {FOCUS} ?this <urn:area> ?a . {table} }}"
    assert _tables(query) == []
    _differing_focus(query, BASE, BASE + NEW)  # no error


def test_a_graph_the_change_empties_is_read_in_the_previous_store() -> None:
    """The previous store is read over its own graphs (but those the rebuild takes out), not over the
    new store's: a graph emptied and no longer named there still held the rows the table lost."""
    query = (
        f"SELECT ?this WHERE {{ {FOCUS} ?this <urn:area> ?a . "
        "{ SELECT DISTINCT ?a WHERE { ?o <urn:area> ?a ; <urn:year> ?y } } }"
    )
    focus, differ = _differing_focus(query, BASE + "<urn:g> { " + NEW + "}", BASE, trig=True)
    assert differ
    assert focus is None or ox.NamedNode("urn:t") in focus


STRUCTURES = (
    f"SELECT ?this ?v WHERE {{ {FOCUS} "
    "{ SELECT DISTINCT ?this ?v WHERE { ?set <urn:structure> ?this . "
    "?o <urn:dataSet> ?set ; <urn:measure> ?v } } "
    "FILTER NOT EXISTS { ?this <urn:component> ?v } }"
)
SHARED = "<urn:s> a <urn:Obs> ; <urn:component> <urn:m> . <urn:d1> <urn:structure> <urn:s> . "


@pytest.mark.parametrize(("measure", "reached"), [("m", set()), ("other", {ox.NamedNode("urn:s")})])
def test_a_table_of_the_focus_node_is_compared_where_it_reaches_a_node_the_change_left(
    measure: str, reached: set[ox.NamedNode]
) -> None:
    """A new data set of a shared structure, its statement of a measure the structure has: the
    structure's rows (structure, measure) are the same, so the rule is asked of no node. Of a measure
    it lacks, the structure is reached (and fails)."""
    added = (
        "<urn:d2> <urn:structure> <urn:s> . "
        f"<urn:o2> <urn:dataSet> <urn:d2> ; <urn:measure> <urn:{measure}> . "
    )
    before = _store(SHARED + "<urn:o1> <urn:dataSet> <urn:d1> ; <urn:measure> <urn:m> .")
    after = _store(SHARED + "<urn:o1> <urn:dataSet> <urn:d1> ; <urn:measure> <urn:m> ." + added)
    asked = Revalidation(after, _quads(added), analyse, before)
    assert asked.neighbours.focus(analyse(STRUCTURES), STRUCTURES) == reached
    assert {row["this"] for row in after.query(STRUCTURES)} == reached
