"""The guard's reading agrees with Oxigraph's where it matters: every spelling that makes plain pyoxigraph
open a connection is refused by the guard.

Each spelling of the generated corpus is run on an in-memory pyoxigraph store in this process (no
sandbox), against a real loopback listener, to learn whether the engine would connect; then the
guard reads it as the server's workers do.
"""

from __future__ import annotations

import pyoxigraph as ox
from corpus import run_on_plain_pyoxigraph, spellings
from listener import Listener

from kg.server import guard
from kg.server.config import DEFAULT_MAX_NESTING, DEFAULT_MAX_QUERY_LENGTH

GRAPHS = frozenset({"https://w3id.org/opioid-kg/graph/data"})


def admitted(text: str) -> str | None:
    """The text the server runs for a client's `text` (checked in the web process, read in a worker),
    or None when the guard refuses it."""
    try:
        runnable = guard.precheck(text, DEFAULT_MAX_QUERY_LENGTH, DEFAULT_MAX_NESTING)
        guard.read(runnable, GRAPHS)
    except guard.Refused:
        return None
    return runnable


def refused(text: str) -> guard.Refused | None:
    try:
        guard.read(guard.precheck(text, DEFAULT_MAX_QUERY_LENGTH, DEFAULT_MAX_NESTING), GRAPHS)
    except guard.Refused as refusal:
        return refusal
    return None


def test_no_spelling_the_guard_lets_through_reaches_the_network(listener: Listener) -> None:
    """Each spelling is run on the engine twice: as written, to show that the corpus holds many that
    connect, and as the server would run it once the guard lets it through, which must never connect.
    Each run aims at a path of its own on the listener (`/raw-<number>/`, `/run-<number>/`), so that
    a request is traced to the spelling that made it however late it arrives."""
    corpus = spellings()
    for number, spelling in enumerate(corpus):
        run_on_plain_pyoxigraph(spelling, spelling.text(f"{listener.url}raw-{number}/"))
        runnable = admitted(spelling.text(f"{listener.url}run-{number}/"))
        if runnable is not None:
            run_on_plain_pyoxigraph(spelling, runnable)
    listener.count_after(0, settle=0.5)
    assert listener.finished == listener.connections, "a connection is still open, its request unread"
    assert listener.silent == 0, "a connection sent no request, so it cannot be traced to its spelling"
    reached = {path.split("/")[1] for path in listener.paths}
    connecting = sorted(int(name.removeprefix("raw-")) for name in reached if name.startswith("raw-"))
    let_through = sorted(
        corpus[int(name.removeprefix("run-"))].name for name in reached if name.startswith("run-")
    )
    print(
        f"\n{len(corpus)} spellings; {len(connecting)} connect on plain pyoxigraph as written; "
        f"as the server runs them, the guard let through: {let_through}"
    )
    assert len(corpus) >= 200
    assert len(connecting) >= 100, "the corpus must hold many spellings the engine really runs"
    balanced = [n for n, spelling in enumerate(corpus) if "-balanced" in spelling.name]
    assert len(balanced) >= 5 and set(balanced) <= set(connecting)
    assert let_through == []
    harmless = [spelling for spelling in corpus if spelling.harmless]
    assert harmless and all(admitted(spelling.text(listener.url)) for spelling in harmless)


def test_spellings_that_name_outside_graphs_are_refused(listener: Listener) -> None:
    for spelling in spellings():
        if spelling.name.startswith(("dataset:", "load:")):
            assert refused(spelling.text(listener.url)) is not None, spelling.name


def test_keywords_in_strings_comments_and_iris_are_read_as_such() -> None:
    harmless = [
        '# SERVICE <http://127.0.0.1:1/>\nSELECT * WHERE { ?s ?p "SERVICE <http://127.0.0.1:1/>" }',
        "SELECT * WHERE { ?s <urn:service:load> ?o FILTER(?o != 'LOAD <http://x/>') }",
        'SELECT * WHERE { ?s ?p ?o FILTER(CONTAINS(STR(?o), "FROM <http://x/>")) }',
    ]
    for text in harmless:
        assert refused(text) is None, text


def test_what_the_parser_cannot_read_is_refused_with_its_position() -> None:
    refusal = refused("SELECT * WHERE { ?s ?p ?o")
    assert refusal is not None and refusal.status == 400
    assert refusal.line == 1 and refusal.column is not None


def test_deep_nesting_is_refused_before_any_parser() -> None:
    for text in (
        "SELECT * WHERE " + "{" * 20_000 + "}" * 20_000,
        "ASK { FILTER(" + "(" * 40_000 + ")" * 40_000 + ") }",
        "SELECT * WHERE " + "\\u007B" * 5_000 + "\\u007D" * 5_000,  # brackets spelt as escapes
    ):
        refusal = refused(text)
        assert refusal is not None and refusal.status == 400 and "nests" in refusal.message


def test_the_graphs_a_query_names_are_read_from_its_dataset_clause() -> None:
    data = next(iter(GRAPHS))
    assert guard.read(f"SELECT * FROM <{data}> WHERE {{ ?s ?p ?o }}", GRAPHS) == guard.Reading(
        "select", (data,), ()
    )
    assert guard.read(f"SELECT * FROM NAMED <{data}> WHERE {{ ?s ?p ?o }}", GRAPHS) == guard.Reading(
        "select", (), (data,)
    )
    assert guard.read("SELECT * WHERE { ?s ?p ?o }", GRAPHS) == guard.Reading("select", (), ())


def test_names_sparql_reads_whole_are_admitted() -> None:
    """Escaped dots are no dots the engine cuts at, and SPARQL's name characters are not Python's `\\w`
    (a middle dot, a combining accent, an undertie): each such name, which Oxigraph reads, was refused."""
    names = ["e:a\\.b\\.c", "e:v1\\.2.3", "e:a\u00b7\\'s", "e:a\u0300\\'s", "e:a\u203f\\.b"]
    for name in names:
        text = f"PREFIX e: <urn:e:>\nSELECT * WHERE {{ ?s ?p {name} }}"
        ox.Store().query(text)  # the engine reads it
        assert admitted(text) == text, name
    # IRIs holding `#` where `<` cannot be less-than: after an operator, a comma, a bracket, or in VALUES
    rdf = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    for pattern in [
        f"?s ?p ?o FILTER(?p = {rdf} || ?p IN ({rdf}, <urn:a#b>))",
        f"?s ?p ?o BIND(IF(?o, {rdf}, <urn:a#b>) AS ?x) FILTER(?o > 1 && ?p != {rdf})",
        f"VALUES (?p ?q) {{ ({rdf} <urn:a#b>) }} ?s ?p ?o",
        '?s ?p ?o FILTER(?o = "1"^^<http://www.w3.org/2001/XMLSchema#int>)',
    ]:
        text = f"SELECT * WHERE {{ {pattern} }}"
        ox.Store().query(text)
        assert admitted(text) == text, pattern
    # and where `<` is never less-than: in a group pattern inside an expression, a collection, a path
    for pattern in [
        f"?s ?p ?o FILTER(EXISTS {{ ?s {rdf} <urn:a#b> }})",
        f"BIND(IF(EXISTS {{ ?s {rdf} ?o }}, 1, 0) AS ?y)",
        f"?s <urn:p> ({rdf} <urn:a#b>) FILTER NOT EXISTS {{ ?s ?p ({rdf} <urn:a#b>) }}",
        f"?s ({rdf}|<urn:a#b>)/<urn:c#d> ?o",
        f"{{ SELECT ?s WHERE {{ ?s ?p ?o }} GROUP BY ?s HAVING(COUNT(?o) > 0 && EXISTS {{ ?s {rdf} ?t }}) }}",
    ]:
        text = f"SELECT * WHERE {{ {pattern} }}"
        ox.Store().query(text)
        assert admitted(text) == text, pattern
    # operators glued to names and numbers part them: a decimal is no dot group of the name before it
    for pattern in ["?s e:p ?x FILTER(?s=e:a||?x>1.5||?x<2.5)", "?s e:v1.0/e:v2.0 ?o"]:
        text = f"PREFIX e: <urn:e:>\nSELECT * WHERE {{ {pattern} }}"
        ox.Store().query(text)
        assert admitted(text) == text, pattern


def test_an_iri_that_may_be_read_as_less_than_is_refused_in_every_expression() -> None:
    """Where `<` after a value is less-than to the parsers, an IRI holding `#` there is refused: in a
    FILTER, a BIND, a projection, a function a FILTER calls by its IRI or name, a sub-SELECT's HAVING
    or ORDER BY, and an expression around or inside an EXISTS group."""
    for pattern in [
        "?s ?p ?o FILTER <urn:f>(?o<urn:a#b>)",
        "?s ?p ?o FILTER e:f(?o<urn:a#b>)",
        "?s ?p ?o FILTER regex(?o<urn:a#b>)",
        "?s ?p ?o BIND(?o<urn:a#b> AS ?x)",
        "{ SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s (?s<urn:a#b>) }",
        "{ SELECT ?s WHERE { ?s ?p ?o } GROUP BY ?s HAVING(?s<urn:a#b>) }",
        "?s ?p ?o FILTER(EXISTS { ?s ?p ?o FILTER(?o<urn:a#b>) })",
        "?s ?p ?o FILTER(EXISTS { ?s ?p (?o) } && ?o<urn:a#b>)",
    ]:
        refusal = refused(f"PREFIX e: <urn:e:>\nSELECT * WHERE {{ {pattern} }}")
        assert refusal is not None and "may be read as less-than" in refusal.message, pattern
    refusal = refused("SELECT (?o<urn:a#b> AS ?x) WHERE { ?s ?p ?o }")
    assert refusal is not None and "may be read as less-than" in refusal.message


def test_a_dataset_clause_names_a_graph_by_its_whole_iri_or_a_prefixed_name_of_one() -> None:
    """Stores resolve a relative IRI against a BASE as RFC 3986 has it, rdflib otherwise: the guard read
    `FROM <private//../data>` as the data graph, and Virtuoso, whose query text overrides the
    protocol's graph parameters, read `…/graph/private/data`. A dataset clause must name one of the
    dataset's graphs whole: by its IRI as written, or by a prefixed name, which every store joins alike
    (query builders write `FROM g:data`)."""
    data = next(iter(GRAPHS))
    graphs = data.rsplit("/", 1)[0] + "/"
    base = f"BASE <{graphs}>\nPREFIX g: <{graphs}>\nPREFIX h: <{graphs}private/>\n"
    for clause in (
        "FROM <private//../data>",
        "FROM NAMED <data>",
        "FROM <./data>",
        "FROM h:data",  # not a graph of the dataset
        "FROM g:nothing",
    ):
        refusal = refused(f"{base}SELECT * {clause} WHERE {{ ?s ?p ?o }}")
        assert refusal is not None and "name one of the dataset's graphs" in refusal.message, clause
        # the refusal names the clause as written (FROM NAMED was said to be a FROM), at its term
        line = base.count("\n") + 1
        column = len(f"SELECT * {clause.rsplit(' ', 1)[0]} ") + 1
        said = f"query:{line}:{column}: {clause.rsplit(' ', 1)[0]} "
        assert refusal.message.startswith(said), refusal.message
    twice = f"PREFIX g: <{graphs}>\nPREFIX g: <{graphs}private/>\nSELECT * FROM g:data WHERE {{ ?s ?p ?o }}"
    assert refused(twice) is not None  # either declaration may be the one a store keeps
    for prefixed in ("PREFIX r: <./>\nSELECT * FROM r:data", "SELECT * FROM x:data"):  # relative, undeclared
        assert refused(prefixed + " WHERE { ?s ?p ?o }") is not None, prefixed
    assert admitted(f"{base}SELECT * FROM <{data}> FROM NAMED <{data}> WHERE {{ ?s ?p ?o }}") is not None
    named = data.rsplit("/", 1)[1]
    assert admitted(f"{base}SELECT * FROM g:{named} FROM NAMED g:{named} WHERE {{ ?s ?p ?o }}") is not None


def test_only_sparql_s_own_functions_and_xsd_casts_are_called() -> None:
    """A function named by an IRI runs whatever the store behind has under that name: Virtuoso's
    `bif:http_get` made the store send a request (and read every graph through its own endpoint),
    which neither the guard nor Oxigraph's plan saw, as neither knows the function."""
    xsd = "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
    for call in (
        '<bif:http_get>("http://127.0.0.1:9/")',
        "<urn:f>(1)",
        "<http://jena.apache.org/ARQ/function#sha1sum>(1)",
    ):
        for text in (f"SELECT ({call} AS ?x) {{}}", f"ASK {{ FILTER(BOUND(?x) || {call}) }}"):
            refusal = refused(text)
            assert refusal is not None and "only SPARQL's own functions and XSD casts" in refusal.message, (
                text
            )
    assert admitted(f'{xsd}SELECT (xsd:integer("1") AS ?n) (STRLEN("a") AS ?l) {{}}') is not None


def test_a_function_is_refused_wherever_it_is_called() -> None:
    """Wherever the call stands, and however its IRI is written: the functions of an EXISTS pattern
    were missed on the translated query, where rdflib moves its filter out of the walked tree."""
    for text in (
        "SELECT * { ?s ?p ?o FILTER EXISTS { ?s ?p ?v FILTER(<sql:x>(?v)) } }",
        "SELECT * { ?s ?p ?o FILTER NOT EXISTS { ?s ?p ?v FILTER(<sql:x>(?v)) } }",
        'SELECT ?s { ?s ?p ?o } ORDER BY <bif:http_get>("http://127.0.0.1:9/")',
        "SELECT ?k (COUNT(*) AS ?n) { ?s ?p ?o } GROUP BY (<bif:f>(STR(?o)) AS ?k)",
        "SELECT (<bif:sum>(DISTINCT ?o) AS ?x) { ?s ?p ?o }",
        'PREFIX xsd: <bif:>\nSELECT (xsd:http_get("http://127.0.0.1:9/") AS ?x) {}',
        "PREFIX x: <http://www.w3.org/2001/XMLSchema#>\nPREFIX x: <bif:>\nSELECT (x:f(1) AS ?y) {}",
        "BASE <http://www.w3.org/2001/XMLSchema#>\nSELECT (<integer>(1) AS ?y) {}",
        # the empty prefix: refused as "zip() argument 2 is shorter than argument 1"
        "PREFIX : <http://h/>\nSELECT * WHERE { ?s ?p ?o FILTER(:f(1)) }",
    ):
        refusal = refused(text)
        assert refusal is not None and "only SPARQL's own functions and XSD casts" in refusal.message, text
