"""The embedded store's own ORDER BY (`kg.store.ordering`) answers what Oxigraph's does, row for row.

Every answer here is compared with pyoxigraph's, asked the same text natively on the same store on
disk: the rows and their order must be the same, whether the store sorted the answer itself or left it
to Oxigraph. The keys of each query end with a variable no two rows share, so the order is total:
Oxigraph's sort is not stable, and rows whose keys are equal come out of it in an order of its own."""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.query.catalogue import load_catalogue
from kg.query.run import run_query
from kg.store import ordering
from kg.store.base import SortedSolutions, value_rows
from kg.store.embedded import EmbeddedStore
from kg.store.ordering import order_tail
from kg.store.queryfiles import binding_terms
from kg.store.sparql import query_form, with_values

EX = "http://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
PREFIX = f"PREFIX ex: <{EX}>\n"


def typed(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


# One column's values each: a kind this sorts, or one it leaves to Oxigraph.
SORTED_HERE = {
    "strings": [ox.Literal(v) for v in ("b", "a", "B", "é", "e\u0301", "z", "𝄞", "", "a b", "ab", "10", "9")],
    "languages": [
        ox.Literal("b", language="en"),
        ox.Literal("a", language="fr"),
        ox.Literal("a", language="en"),
        ox.Literal("a"),
        ox.Literal("Mexico", language="es"),
        ox.Literal("México", language="es"),
    ],
    "numbers": [
        typed(v, "integer" if "." not in v else "decimal")
        for v in (
            "10",
            "9",
            "-1",
            "1.5",
            "01",
            "0.000000000000000001",
            "+3",
            "-0.5",
            "1.50",
            "999999999999999999",
        )
    ],
    "doubles": [
        typed(v, "double") for v in ("1e3", "-INF", "INF", "+INF", "0.5", "-0.0", "2", "1.5E-3", "+7")
    ],
    "dates": [typed(v, "date") for v in ("2017-01-01", "2013-12-31", "2016-02-29", "0999-01-01")],
    "times": [
        typed(v, "dateTime") for v in ("2017-01-01T10:00:00", "2017-01-01T09:59:59", "2013-12-31T23:00:00")
    ],
    "years": [typed(v, "gYear") for v in ("2017", "2013", "1999", "0001")],
    "months": [typed(v, "gYearMonth") for v in ("2017-01", "2013-12", "2017-12")],
    "nodes": [ox.NamedNode(EX + "z"), ox.NamedNode(EX + "a"), ox.NamedNode(EX + "é"), ox.BlankNode("b1")],
}
LEFT_TO_OXIGRAPH = {
    "numbers and strings": [typed("10", "integer"), typed("9", "integer"), ox.Literal("5")],
    "booleans": [typed("true", "boolean"), typed("false", "boolean")],
    "time zones": [typed("2017-01-01Z", "date"), typed("2017-01-01", "date")],
    "integers and doubles": [typed("1", "integer"), typed("0.5", "double")],
    "a long fraction": [typed("0.1234567890123456789", "decimal"), typed("0.5", "decimal")],
    "fractions of a second": [typed(f"2017-01-01T10:00:{s}", "dateTime") for s in ("00.5", "00")],
    "an unknown datatype": [ox.Literal("b", datatype=ox.NamedNode(EX + "code")), ox.Literal("a")],
    "not a number": [typed("NaN", "double"), typed("1", "double")],
}


def store_of(folder: Path, rows: list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]) -> EmbeddedStore:
    """An on-disk store holding one subject per row, with `ex:<column> <value>` for each bound column."""
    store = ox.Store(str(folder))
    for index, row in enumerate(rows):
        subject = ox.NamedNode(f"{EX}row{index:04d}")
        store.add(ox.Quad(subject, ox.NamedNode(EX + "row"), typed(str(index), "integer")))
        for column, value in row.items():
            store.add(ox.Quad(subject, ox.NamedNode(EX + column), value, ox.NamedNode(EX + "graph")))
    store.flush()
    del store
    return EmbeddedStore(folder)


def native(store: EmbeddedStore, text: str) -> list[tuple[object, ...]]:
    answer = ox.Store.read_only(os.path.realpath(store.path)).query(text, use_default_graph_as_union=True)
    assert isinstance(answer, ox.QuerySolutions)
    return [tuple(solution) for solution in answer]


def answered(store: EmbeddedStore, text: str) -> tuple[str, list[tuple[object, ...]]]:
    """Which way the store sorted (`here` or `oxigraph`) and the rows it gave."""
    answer = store.query(text)
    return ("here" if isinstance(answer, SortedSolutions) else "oxigraph"), [tuple(row) for row in answer]


def columns_query(columns: list[str], order: str, project: str | None = None, tail: str = "") -> str:
    patterns = " ".join(f"OPTIONAL {{ ?s ex:{column} ?{column} }}" for column in columns)
    projection = project or " ".join(f"?{column}" for column in ["s", *columns])
    return f"{PREFIX}SELECT {projection} WHERE {{ ?s ex:row ?n {patterns} }}\nORDER BY {order} {tail}"


@pytest.fixture(scope="module")
def kinds(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    """One column per kind, each subject holding one value of some kinds and none of the others."""
    values = {**SORTED_HERE, **{kind.replace(" ", "_"): found for kind, found in LEFT_TO_OXIGRAPH.items()}}
    pick = random.Random(7)
    rows = []
    for _ in range(60):
        rows.append({kind: pick.choice(found) for kind, found in values.items() if pick.random() < 0.8})
    return store_of(tmp_path_factory.mktemp("kinds") / "store", rows)


@pytest.mark.parametrize("kind", sorted(SORTED_HERE))
@pytest.mark.parametrize("direction", ["?{}", "ASC(?{})", "DESC(?{})"])
def test_each_kind_sorts_here_as_oxigraph_does(kinds: EmbeddedStore, kind: str, direction: str) -> None:
    text = columns_query([kind], f"{direction.format(kind)} ?s")
    assert answered(kinds, text) == ("here", native(kinds, text))


@pytest.mark.parametrize("kind", sorted(LEFT_TO_OXIGRAPH))
def test_a_column_this_cannot_order_is_left_to_oxigraph(kinds: EmbeddedStore, kind: str) -> None:
    column = kind.replace(" ", "_")
    text = columns_query([column], f"?{column} ?s")
    assert answered(kinds, text) == ("oxigraph", native(kinds, text))


@pytest.mark.parametrize("seed", range(12))
def test_several_keys_limits_and_offsets_as_oxigraph(kinds: EmbeddedStore, seed: int) -> None:
    pick = random.Random(seed)
    chosen = pick.sample(sorted(SORTED_HERE), 3)
    keys = " ".join(pick.choice(["?{}", "DESC(?{})", "ASC(?{})"]).format(kind) for kind in chosen)
    tail = pick.choice(["", "LIMIT 7", "OFFSET 5", "LIMIT 9 OFFSET 3", "OFFSET 50 LIMIT 20", "LIMIT 0"])
    text = columns_query(chosen, f"{keys} DESC(?s)", tail=tail)
    # With a LIMIT, Oxigraph turns only the rows it keeps into Python's: it sorts.
    assert answered(kinds, text) == ("oxigraph" if "LIMIT" in tail else "here", native(kinds, text))


def test_keys_the_query_does_not_project_are_sorted_on_and_not_shown(kinds: EmbeddedStore) -> None:
    text = columns_query(
        ["numbers", "dates"], "DESC(?dates) ?numbers ?s", project="?numbers", tail="OFFSET 30"
    )
    way, rows = answered(kinds, text)
    assert way == "here"
    assert rows == native(kinds, text)
    answer = kinds.query(text)
    assert [variable.value for variable in answer.variables] == ["numbers"]
    assert list(value_rows(answer)) == [{} if row[0] is None else {"numbers": row[0].value} for row in rows]
    first = next(iter(kinds.query(text)))
    assert first["numbers"] == first[ox.Variable("numbers")] == first[0] == rows[0][0]
    assert len(first) == 1


def test_run_query_reads_a_sorted_answer_as_any_other(kinds: EmbeddedStore) -> None:
    text = columns_query(["strings"], "?strings ?s")
    result = run_query(kinds, text, max_rows=10)
    assert result.truncated
    assert [tuple(row.get(name) for name in result.variables) for row in result.rows] == native(kinds, text)[
        :10
    ]


@pytest.mark.parametrize(
    "text",
    [
        # DISTINCT: another column would change which rows are the same.
        columns_query(["numbers"], "?numbers ?s", project="DISTINCT ?numbers"),
        # A group: a variable that is not grouped on cannot be projected.
        f"{PREFIX}SELECT (COUNT(?s) AS ?n) WHERE {{ ?s ex:numbers ?k }} GROUP BY ?k ORDER BY ?k",
        # An expression as a key.
        columns_query(["numbers"], "(STR(?numbers)) ?s"),
        # A key in a sub-SELECT only.
        f"{PREFIX}SELECT ?s WHERE {{ {{ SELECT ?s WHERE {{ ?s ex:row ?n }} ORDER BY ?n LIMIT 3 }} }}",
    ],
)
def test_queries_it_cannot_sort_keep_oxigraphs_order(kinds: EmbeddedStore, text: str) -> None:
    assert order_tail(with_values(text, {})) is None
    assert answered(kinds, text) == ("oxigraph", native(kinds, text))


def test_distinct_with_projected_keys_sorts_here(kinds: EmbeddedStore) -> None:
    text = columns_query(["years", "months"], "?years DESC(?months)", project="DISTINCT ?years ?months")
    assert answered(kinds, text) == ("here", native(kinds, text))


def test_an_answer_larger_than_the_bound_is_left_to_oxigraph(
    kinds: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = columns_query(["strings"], "?strings ?s")
    monkeypatch.setattr(ordering, "MAX_SORTED_ROWS", 59)
    assert answered(kinds, text) == ("oxigraph", native(kinds, text))
    monkeypatch.setattr(ordering, "MAX_SORTED_ROWS", 60)
    assert answered(kinds, text) == ("here", native(kinds, text))


def test_a_syntax_error_is_the_texts_own(kinds: EmbeddedStore) -> None:
    text = f"{PREFIX}SELECT ?s WHERE {{ ?s ex:row }}\nORDER BY ?s LIMIT 3"
    with pytest.raises(SyntaxError) as ours:
        kinds.query(text)
    with pytest.raises(SyntaxError) as theirs:
        native(kinds, text)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?a", ((("a", False),), 0, ())),
        (
            "select ?a where { ?a ?b ?c } order by desc(?a) asc(?b) offset 2",
            ((("a", True), ("b", False)), 2, ("b",)),
        ),
        ("SELECT * { ?a ?b ?c } ORDER BY ?c OFFSET 1 VALUES ?a { <x:y> }", ((("c", False),), 1, ())),
        (
            "SELECT ?a WHERE { ?a ?b ?c FILTER(?c != 'ORDER BY ?x') } # ORDER BY ?z\nORDER BY ?b",
            ((("b", False),), 0, ("b",)),
        ),
        (
            "SELECT (COUNT(*) AS ?n) ?a WHERE { ?a ?b ?c } GROUP BY ?a ORDER BY ?a",
            ((("a", False),), 0, ()),
        ),
        (
            "SELECT ?a WHERE { ?a <x:p> ?c FILTER (?c IN (<x:a>, <x:b>) && ?a != <x:c>) } ORDER BY ?a",
            ((("a", False),), 0, ()),
        ),
    ],
)
def test_the_order_it_reads(text: str, expected: tuple[object, ...]) -> None:
    tail = order_tail(text)
    assert tail is not None
    assert (tail.keys, tail.offset, tail.hidden) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ASK { ?a ?b ?c }",
        "CONSTRUCT { ?a ?b ?c } WHERE { ?a ?b ?c } ORDER BY ?a LIMIT 1",
        "SELECT ?a WHERE { ?a ?b ?c }",
        "SELECT ?a WHERE { ?a ?b '\\u0020' } ORDER BY ?a",
        "SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?a LIMIT ?x",
        "SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?a LIMIT 1 LIMIT 2",
        "SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?a ORDER BY ?b",
        "SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?a + ?b",
        "SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?a LIMIT 1.5",
        "SELECT (?c AS ?d) WHERE { ?a ?b ?c } ORDER BY ?a",
        "SELECT REDUCED ?a WHERE { ?a ?b ?c } ORDER BY ?c",
        "SELECT ?a WHERE { ?a ?b ?c } GROUP BY ?a ORDER BY ?c",
        "not a query ORDER BY ?a",
        "SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?a LIMIT 10",
        "SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?a OFFSET 1.5",
        "SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?a OFFSET 1e0",
        "SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?a OFFSET 2 LIMIT 10",
    ],
)
def test_queries_it_leaves_as_written(text: str) -> None:
    assert order_tail(text) is None


# Texts that a reading without a grammar took otherwise than Oxigraph: each must get Oxigraph's answer,
# or its error.
MISREAD = {
    # `<(?n+1)#>` is `<` then a comment to Oxigraph, not an IRI: no ORDER BY, no LIMIT.
    "a comparison read as an IRI": (
        "SELECT ?s WHERE { ?s ex:row ?n FILTER(?n<(?n+1)#> ) } ORDER BY ?n OFFSET 1 VALUES\n) }"
    ),
    # The same hides a bracket, and a sub-SELECT's ORDER BY looked like the query's.
    "a bracket hidden in an IRI": "SELECT ?s ?p WHERE { { SELECT ?s WHERE { ?s ex:row ?n "
    "FILTER(?n<?n+1&&(?n>?n-1))FILTER(?n<?n+1&&(?n>?n-1)) } ORDER BY DESC(?s) OFFSET 1 VALUES ?n { UNDEF } }"
    " ?s ?p ?o }",
    "no projection": "SELECT WHERE { ?s ex:row ?n } ORDER BY ?n",
    "no projection before a pattern": "SELECT { ?s ex:row ?n } ORDER BY DESC(?n)",
    "an offset too large": "SELECT ?s WHERE { ?s ex:row ?n } ORDER BY ?n OFFSET 18446744073709551616",
    "the largest offset": "SELECT ?s WHERE { ?s ex:row ?n } ORDER BY ?n OFFSET 18446744073709551615",
    "a dotless i in LIMIT": "SELECT ?s WHERE { ?s ex:row ?n } ORDER BY ?n L\u0131MIT 1",
    "a long s in DESC": "SELECT ?s WHERE { ?s ex:row ?n } ORDER BY DE\u017fC(?n)",
    "a long s in OFFSET": "SELECT ?s WHERE { ?s ex:row ?n } ORDER BY ?n OFF\u017fET 1",
    # ORDER BY after a LIMIT, an OFFSET or VALUES: without it the text is valid.
    "an offset before": "SELECT ?s ?n WHERE { ?s ex:row ?n } OFFSET 1 ORDER BY ?n",
    "a limit before": "SELECT ?s ?n WHERE { ?s ex:row ?n } LIMIT 2 ORDER BY ?n",
    "a limit and an offset before": "SELECT ?s WHERE { ?s ex:row ?n } LIMIT 3 OFFSET 1 ORDER BY DESC(?n)",
    "values before": "SELECT ?s ?n WHERE { ?s ex:row ?n } VALUES ?n { 1 2 3 } ORDER BY DESC(?n)",
    "an offset before and after": "SELECT ?s WHERE { ?s ex:row ?n } OFFSET 1 ORDER BY ?n OFFSET 2",
    "a Kelvin sign in SELECT": "SELEC\u212a ?s WHERE { ?s ex:row ?n } ORDER BY ?n",
}


def outcome(store: EmbeddedStore, text: str, ask: Callable[[EmbeddedStore, str], object]) -> object:
    try:
        return ask(store, text)
    except SyntaxError as error:
        return f"SyntaxError: {error}"


@pytest.mark.parametrize("name", sorted(MISREAD))
def test_texts_a_tokenizer_may_misread_get_oxigraphs_answer(kinds: EmbeddedStore, name: str) -> None:
    text = PREFIX + MISREAD[name]
    ours = outcome(kinds, text, lambda store, t: answered(store, t)[1])
    assert ours == outcome(kinds, text, native)


@pytest.mark.parametrize("name", ["built", "library_built", "copied"])
def test_every_catalogue_question_sorts_here_as_oxigraph(name: str, request: pytest.FixtureRequest) -> None:
    """The catalogue's questions on the report, the two-source library and a synthetic copy (whose
    labels repeat the report's, so rows tie on their labels unless the keys go on to what differs):
    each answer is sorted here (but one: its key is an expression) and in Oxigraph's very order."""
    fixture = request.getfixturevalue(name)
    store = fixture if isinstance(fixture, EmbeddedStore) else fixture.store()
    sorted_here = set()
    for query in load_catalogue(Path(__file__).resolve().parent.parent / "queries").values():
        text = with_values(query.text, binding_terms(query.bindings({})))
        if query_form(text) != "select":
            continue
        way, rows = answered(store, text)
        assert rows == native(store, text), query.name
        if way == "here":
            sorted_here.add(query.name)
    assert len(sorted_here) == 22


PROV = "http://www.w3.org/ns/prov#"
KG = "https://w3id.org/opioid-kg/ontology#"
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
SKOS_PREF_LABEL = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
SECOND_AGENCY = ox.NamedNode("https://w3id.org/opioid-kg/id/organization/second-agency")


def doubled(store: EmbeddedStore, path: Path) -> EmbeddedStore:
    """A copy of `store` in which every finding has a second agency, every excerpt a twin (the same
    source and selectors, another IRI) that the same facts cite, every observation a twin (the
    same figure of the same data set, another IRI), every fact's label (rdfs:label) a preferred label
    beside it (skos:prefLabel, which the shapes ask only of named things), and every qualifier of an
    origin also the fact's own qualifier: what the shapes allow a curator to write, which makes rows
    that differ only there."""
    quads = store.quads()
    observations = {
        q.subject
        for q in quads
        if isinstance(q.subject, ox.NamedNode)
        and q.object.value == "http://purl.org/linked-data/cube#Observation"
    }
    added = [
        ox.Quad(ox.NamedNode(q.subject.value + "-twin"), q.predicate, q.object, q.graph_name)
        for q in quads
        if q.subject in observations
    ]
    preferred = {quad.subject for quad in quads if quad.predicate == SKOS_PREF_LABEL}
    for quad in quads:
        if quad.predicate == RDFS_LABEL and quad.subject not in preferred:
            also = ox.Literal(quad.object.value + " (also)", language="en")
            added.append(ox.Quad(quad.subject, SKOS_PREF_LABEL, also, quad.graph_name))
        elif quad.predicate.value == KG + "originQualifier":
            added.append(ox.Quad(quad.subject, ox.NamedNode(KG + "qualifier"), quad.object, quad.graph_name))
        if quad.predicate.value == PROV + "wasAttributedTo":
            added.append(ox.Quad(quad.subject, quad.predicate, SECOND_AGENCY, quad.graph_name))
        elif quad.predicate.value == PROV + "wasDerivedFrom" and "/excerpt/" in quad.object.value:
            twin = ox.NamedNode(quad.object.value + "-twin")
            added.append(ox.Quad(quad.subject, quad.predicate, twin, quad.graph_name))
            added += [
                ox.Quad(twin, q.predicate, q.object, q.graph_name) for q in quads if q.subject == quad.object
            ]
    graph = next(quad.graph_name for quad in quads if quad.predicate.value == PROV + "wasAttributedTo")
    for predicate, value in [
        (
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
            ox.NamedNode("http://www.w3.org/ns/org#Organization"),
        ),
        ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", ox.NamedNode(PROV + "Agent")),
        ("http://www.w3.org/2004/02/skos/core#prefLabel", ox.Literal("Second agency", language="en")),
    ]:
        added.append(ox.Quad(SECOND_AGENCY, ox.NamedNode(predicate), value, graph))
    copy = ox.Store(str(path))
    copy.extend(quads + added)
    copy.flush()
    del copy
    return EmbeddedStore(path)


NUMBER = re.compile(rf'"([^"]*)"\^\^<{XSD}(?:integer|decimal|double|float|int|long|nonNegativeInteger)>')


def _as_sorted(term: str | None) -> object:
    """A term (in N-Triples) as ORDER BY compares it: numbers by value (`1` and `1.0` tie), the
    rest by what they are."""
    number = NUMBER.fullmatch(term or "")
    return ("number", Decimal(number.group(1))) if number else term


def test_no_two_rows_of_a_question_tie(built, tmp_path: Path) -> None:
    """Rows that differ only in a second agency, a second excerpt of a fact or a second observation
    of the same figure come in one order on every engine: each question's ORDER BY goes on to what
    tells them apart (SPARQL leaves the order of tied rows open). The one question whose first key is
    an expression is sorted by the engine."""
    store = doubled(built.store(), tmp_path / "doubled")
    tied: dict[str, list[str]] = {}
    by_expression = set()
    for query in load_catalogue(Path(__file__).resolve().parent.parent / "queries").values():
        bindings = binding_terms(query.bindings({}))
        text = with_values(query.text, bindings)
        if query_form(text) != "select":
            continue
        tail = order_tail(text)
        rows = {
            tuple(sorted((k, str(v)) for k, v in row.items() if v is not None))
            for row in run_query(store, query.text, bindings, source=query.name).rows
        }
        if tail is None:
            by_expression.add(query.name)
            continue
        keys: dict[tuple[object, ...], list[dict[str, str]]] = {}
        for row in rows:
            values = dict(row)
            keys.setdefault(tuple(_as_sorted(values.get(name)) for name, _ in tail.keys), []).append(values)
        for same in keys.values():
            if len(same) > 1:
                tied[query.name] = sorted(
                    {k for k in set().union(*same) if len({v.get(k) for v in same}) > 1}
                )
    assert tied == {}
    assert by_expression == {"border-heroin-seizures"}


class Counted:
    """A real answer of the store, counting the solutions read from it."""

    def __init__(self, answer: ox.QuerySolutions) -> None:
        self.variables = answer.variables
        self.answer = answer
        self.read = 0

    def __iter__(self) -> Iterator[ox.QuerySolution]:
        for solution in self.answer:
            self.read += 1
            yield solution


def test_a_column_it_cannot_order_stops_the_reading_where_it_shows(tmp_path: Path) -> None:
    """A number after a string: the reading stops there and Oxigraph answers the query again."""
    values = [ox.Literal("a"), typed("1", "integer"), *(ox.Literal(f"s{n}") for n in range(50))]
    store = store_of(tmp_path / "store", [{"key": value} for value in values])
    text = columns_query(["key"], "?key ?s")
    tail = order_tail(text)
    assert tail is not None
    on_disk = ox.Store.read_only(os.path.realpath(store.path))
    counted = Counted(on_disk.query(tail.without(text), use_default_graph_as_union=True))
    assert ordering.sorted_answer(counted, tail) is None  # type: ignore[arg-type]  # read as an answer is
    assert counted.read < 10
    assert answered(store, text) == ("oxigraph", native(store, text))
