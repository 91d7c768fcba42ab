"""`kg query` and `kg queries` as a user runs them, against the session's built store."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rdflib import Dataset, Graph, URIRef

from kg.cli import main
from kg.query.counts import triples_per_graph

PROJECT = Path(__file__).resolve().parent.parent
ID = "https://w3id.org/opioid-kg/id/"
SPARQL_RESULTS = "{http://www.w3.org/2005/sparql-results#}"

LABEL_QUERY = """#+ summary: Places by label
#+ description: Which place has this label, and which flows start there after a given leg count?
#+ answer: select
#+ tags: [test]
#+ params:
#+   - name: label
#+     type: string
#+     default: China
#+     description: The English label of the place.
#+   - name: legs
#+     type: integer
#+     default: 1
#+     description: The least number of legs of the flow.
PREFIX kg: <https://w3id.org/opioid-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?label ?legs ?place ?flow WHERE {
  ?place skos:prefLabel ?name .
  FILTER (STR(?name) = ?label)
  ?flow kg:origin ?place .
  { SELECT ?flow (COUNT(?leg) AS ?count) WHERE { ?flow kg:hasLeg ?leg } GROUP BY ?flow }
  FILTER (?count >= ?legs)
}
"""


def kg(built, *args: str) -> Result:
    """Run `kg --project PROJECT query|queries ... --store BUILT` in-process."""
    command, *rest = args
    store = ["--store", str(built.store_path)] if command == "query" else []
    return CliRunner().invoke(main, ["--project", str(PROJECT), command, *rest, *store])


def assert_clean_failure(result: Result) -> str:
    """A non-zero exit with a one-line error and no traceback; returns the error text."""
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: ")
    return result.stderr


def test_queries_lists_every_question_with_its_parameters(built) -> None:
    result = kg(built, "queries")
    assert result.exit_code == 0
    names = {line.split()[0] for line in result.output.splitlines() if line and not line.startswith(" ")}
    assert names == {path.stem for path in (PROJECT / "queries").glob("*.rq")}
    assert "By which routes, through which countries and by which means does fentanyl reach" in result.output
    assert (
        "--param substance=<iri> [default: https://w3id.org/opioid-kg/id/substance/fentanyl]" in result.output
    )


def test_table_is_the_default_for_select(built) -> None:
    result = kg(built, "query", "fentanyl-routes")
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[0].split()
    assert header[:3] == ["substance", "destination", "flow"]
    assert "flow:china-mexico-us-fentanyl" in result.output
    assert result.output.rstrip().endswith("3 row(s)")


def test_csv_and_tsv(built) -> None:
    result = kg(built, "query", "fentanyl-routes", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert {row["transit"] for row in rows} == {ID + "country/MX", ID + "country/CA", ""}
    result = kg(built, "query", "fentanyl-routes", "--format", "tsv")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split("\t")[:2] == ["?substance", "?destination"]
    assert len(lines) == 4
    assert f"<{ID}country/CN>" in lines[1]


def test_a_query_naming_its_dataset_reads_those_graphs(built) -> None:
    """The embedded store reads the union of the graphs as its default graph, which overrode a query's
    own FROM: counting the data graph counted every graph."""
    data = "https://w3id.org/opioid-kg/graph/data"
    expected = triples_per_graph(built.store())[data]
    for text in (
        f"SELECT (COUNT(*) AS ?n) FROM <{data}> WHERE {{ ?s ?p ?o }}",
        f"SELECT (COUNT(*) AS ?n) FROM NAMED <{data}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    ):
        result = kg(built, "query", "-e", text, "--format", "csv")
        assert result.exit_code == 0, result.output
        assert int(result.output.split()[1]) == expected, text


def test_json(built) -> None:
    result = kg(built, "query", "poppy-cultivation-change", "--format", "json")
    assert result.exit_code == 0
    answer = json.loads(result.output)
    assert "computedPercent" in answer["head"]["vars"]
    computed = [b["computedPercent"] for b in answer["results"]["bindings"] if "computedPercent" in b]
    assert [(c["value"], c["datatype"]) for c in computed] == [
        ("37.8", "http://www.w3.org/2001/XMLSchema#decimal")
    ]


def test_xml(built) -> None:
    result = kg(built, "query", "controlled-precursors", "--format", "xml")
    assert result.exit_code == 0
    root = ElementTree.fromstring(result.output)
    labels = {
        binding.findtext(f"{SPARQL_RESULTS}literal")
        for binding in root.iter(f"{SPARQL_RESULTS}binding")
        if binding.get("name") == "chemicalLabel"
    }
    assert labels == {"ANPP", "NPP"}


def test_ask_answers_true_or_false(built) -> None:
    ask = "ASK { <https://w3id.org/opioid-kg/id/substance/anpp> ?p ?o }"
    assert kg(built, "query", "-e", ask).output.strip() == "true"
    result = kg(built, "query", "-e", ask.replace("anpp", "aspirin"), "--format", "json")
    assert json.loads(result.output)["boolean"] is False


@pytest.mark.parametrize(("output_format", "parser"), [("turtle", "turtle"), ("ntriples", "nt")])
def test_construct_as_turtle_and_ntriples(built, output_format: str, parser: str) -> None:
    result = kg(built, "query", "describe-resource", "--format", output_format)
    assert result.exit_code == 0, result.output
    graph = Graph().parse(data=result.output, format=parser)
    more_potent = URIRef("https://w3id.org/opioid-kg/ontology#morePotentThan")
    assert (URIRef(ID + "substance/fentanyl"), more_potent, URIRef(ID + "substance/heroin")) in graph


def test_construct_as_jsonld(built) -> None:
    result = kg(built, "query", "describe-resource", "--format", "jsonld")
    assert result.exit_code == 0
    nodes = {node["@id"]: node for node in json.loads(result.output)}
    potent = nodes[ID + "substance/fentanyl"]["https://w3id.org/opioid-kg/ontology#morePotentThan"]
    assert potent == [{"@id": ID + "substance/heroin"}]


def test_construct_as_nquads(built) -> None:
    result = kg(built, "query", "describe-resource", "--format", "nquads")
    assert result.exit_code == 0
    dataset = Dataset()
    dataset.parse(data=result.output, format="nquads")
    assert len(dataset) > 10


def test_turtle_is_the_default_for_construct(built) -> None:
    result = kg(built, "query", "describe-resource", "--param", f"resource={ID}country/CA")
    assert result.exit_code == 0
    graph = Graph().parse(data=result.output, format="turtle")
    assert (URIRef(ID + "country/CA"), None, None) in graph


def test_param_selects_another_answer(built) -> None:
    result = kg(
        built,
        "query",
        "fentanyl-routes",
        "--param",
        f"substance={ID}substance/fentanyl-precursors",
        "--param",
        f"destination={ID}country/MX",
        "--format",
        "csv",
    )
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(row["origin"], row["status"]) for row in rows] == [
        (ID + "country/US", ID + "flow-status/suspected")
    ]


def test_params_are_typed_and_bound_not_pasted(built, tmp_path: Path) -> None:
    path = tmp_path / "by-label.rq"
    path.write_text(LABEL_QUERY, "utf-8")
    rows = list(csv.DictReader(io.StringIO(kg(built, "query", str(path), "--format", "csv").output)))
    assert {row["place"] for row in rows} == {ID + "country/CN"}
    # Three routes from China, each for illicit fentanyl and for most precursors and analogues.
    assert len(rows) == 6
    rows = list(
        csv.DictReader(
            io.StringIO(kg(built, "query", str(path), "--param", "legs=2", "--format", "csv").output)
        )
    )
    assert {row["flow"] for row in rows} == {
        ID + "flow/china-mexico-us-fentanyl",
        ID + "flow/china-canada-us-fentanyl",
        ID + "flow/china-mexico-us-fentanyl-precursors-and-analogues",
        ID + "flow/china-canada-us-fentanyl-precursors-and-analogues",
    }
    # Quotes and braces in a value stay inside the literal; pasted into the text they would match every place.
    injected = kg(built, "query", str(path), "--param", 'label=China" || true || "', "--format", "csv")
    assert injected.exit_code == 0
    assert list(csv.DictReader(io.StringIO(injected.output))) == []


def test_syntax_error_reports_file_line_and_column(built, tmp_path: Path) -> None:
    path = tmp_path / "broken.rq"
    lines = LABEL_QUERY.splitlines()
    broken_line = next(i for i, line in enumerate(lines, start=1) if line.startswith("  ?flow kg:origin"))
    lines[broken_line - 1] = "  ?flow kg:origin ."
    path.write_text("\n".join(lines) + "\n", "utf-8")
    error = assert_clean_failure(kg(built, "query", str(path)))
    assert f"{path}:{broken_line}:" in error
    column = error.split(f"{path}:{broken_line}:", 1)[1].split(":", 1)[0]
    assert column.isdigit()
    assert "SPARQL syntax error" in error


def test_syntax_error_in_an_expression(built) -> None:
    error = assert_clean_failure(kg(built, "query", "-e", "SELECT * WHERE {\n  ?s ?p\n}"))
    assert error.startswith("error: expression:3:")


def test_unknown_parameter_is_a_clear_error(built) -> None:
    error = assert_clean_failure(kg(built, "query", "fentanyl-routes", "--param", "drug=heroin"))
    assert "has no parameter 'drug'" in error
    assert "substance, destination" in error


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("substance=fentanil", "nothing in the graph is named 'fentanil'; did you mean: fentanyl <"),
        ("substance=substance:no-such-thing", "'substance:no-such-thing' is not in the graph"),
        ("substance=https://w3id.org/opioid-kg/id/x>}#", "is not a valid IRI"),
        # quoted as given: the brackets were taken off and 'x' named, which the user never wrote
        ("substance=<x>", "parameter substance: '<x>' is not an absolute IRI"),
        ("substance=<http://a b>", "parameter substance: '<http://a b>' is not an absolute IRI"),
        ("param-without-value", "write NAME=VALUE"),
    ],
)
def test_value_of_the_wrong_type_is_a_clear_error(built, param: str, message: str) -> None:
    error = assert_clean_failure(kg(built, "query", "fentanyl-routes", "--param", param))
    assert message in error


def test_integer_parameter_refuses_a_word(built, tmp_path: Path) -> None:
    path = tmp_path / "by-label.rq"
    path.write_text(LABEL_QUERY, "utf-8")
    error = assert_clean_failure(kg(built, "query", str(path), "--param", "legs=two"))
    assert "parameter legs: 'two' is not an integer" in error


def test_enum_refuses_other_values(built) -> None:
    error = assert_clean_failure(
        kg(built, "query", "poppy-cultivation-change", "--param", f"measure={ID}observation/x")
    )
    assert "is not one of" in error


def test_unknown_query_and_missing_file(built, tmp_path: Path) -> None:
    assert "no query named 'poppies'" in assert_clean_failure(kg(built, "query", "poppies"))
    assert "cannot read" in assert_clean_failure(kg(built, "query", str(tmp_path / "missing.rq")))


ASK_OFFERED = "table, readable, json, xml"
REFUSED_FORMATS = [
    ("SELECT * WHERE {}", "turtle", f"a SELECT answer is written as one of: {ASK_OFFERED}, csv, tsv"),
    # `true` was printed: SPARQL's CSV and TSV results formats hold solutions, not a boolean, and the
    # endpoint answers 406 to the same request
    ("ASK {}", "csv", f"an ASK answer is written as one of: {ASK_OFFERED}"),
    ("ASK {}", "tsv", f"an ASK answer is written as one of: {ASK_OFFERED}"),
    # the message had listed CSV and TSV for an ASK answer, and "a ask"
    ("ASK {}", "turtle", f"an ASK answer is written as one of: {ASK_OFFERED}"),
    (
        "CONSTRUCT WHERE { ?s a ?o }",
        "csv",
        "a CONSTRUCT or DESCRIBE answer is written as one of:"
        " table, readable, turtle, ntriples, nquads, jsonld, rdfxml",
    ),
]


@pytest.mark.parametrize(("text", "output_format", "said"), REFUSED_FORMATS)
def test_a_format_the_answer_cannot_take_is_refused_naming_those_it_can(
    built, text: str, output_format: str, said: str
) -> None:
    """The message lists every form `--format` takes for that kind of answer, and no other."""
    result = kg(built, "query", "-e", text, "--format", output_format)
    assert said in assert_clean_failure(result)
    assert result.exit_code == 2


def test_a_format_the_answer_cannot_take_is_refused_before_the_query_runs(built) -> None:
    """The query's form says what its answer can be written as: a long query was run whole and then
    refused. Asked of a store no request can reach, the refusal comes before any is sent."""
    unreachable = ["query", "--store", "http://127.0.0.1:1/sparql", "-e", "ASK {}", "--format", "csv"]
    result = CliRunner().invoke(main, ["--project", str(PROJECT), *unreachable])
    assert f"an ASK answer is written as one of: {ASK_OFFERED}" in assert_clean_failure(result)
    assert result.exit_code == 2


def test_bad_header_is_reported_without_traceback(built, tmp_path: Path) -> None:
    path = tmp_path / "bad.rq"
    path.write_text(LABEL_QUERY.replace("type: integer", "type: number"), "utf-8")
    error = assert_clean_failure(kg(built, "query", str(path)))
    assert str(path) in error and "has type 'number'" in error


def test_a_file_without_header_runs_as_plain_sparql(built, tmp_path: Path) -> None:
    path = tmp_path / "plain.rq"
    path.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/opioid-kg/ontology#Country> }\n")
    result = kg(built, "query", str(path), "--format", "csv")
    assert result.exit_code == 0
    assert int(result.output.splitlines()[1]) >= 7
    error = assert_clean_failure(kg(built, "query", str(path), "--param", "n=1"))
    assert "'#+' header" in error


def test_max_rows_truncates_and_says_so(built) -> None:
    result = kg(built, "query", "mexico-seizures", "--max-rows", "2")
    assert result.exit_code == 0
    assert "2 row(s) (truncated)" in result.stdout
    assert "truncated at 2 rows" in result.stderr


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--project", str(PROJECT), "query", "fentanyl-routes", "--store", str(tmp_path / "none")]
    )
    assert_clean_failure(result)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("SELECT * WHERE { ?s ?p ?o } GROUP BY ?x", "SELECT * is not authorized with GROUP BY"),
        ("SELECT ?x WHERE { ?s ?p ?o } GROUP BY ?s", "The SELECT contains a variable that is unbound"),
        ("SELECT ?s WHERE { ?s ?p ?o ", 'expected one of ",", ".", ";", "{", "{|", "}", "~"'),
        (
            "SELECT ?x WHERE { ?x ?p ?o } LIMIT x",
            "expected one of HAVING, OFFSET, OPTIONAL, VALUES, a number",
        ),
    ],
)
def test_a_syntax_error_says_what_is_wrong_in_a_line(built, client, text: str, said: str) -> None:
    """Oxigraph's message listed hundreds of characters of name classes, the reason in their midst."""
    result = CliRunner().invoke(main, ["query", "--store", str(built.store_path), "-e", text])
    assert result.exit_code == 2 and said in result.output and "\\u{" not in result.output, result.output
    assert len(result.output.splitlines()) == 1
    reply = client.post("/sparql", data={"query": text})
    message = reply.get_json()["error"]["message"]
    # The server reads a text with a second parser before the engine: one it cannot read is refused
    # with that parser's words and its own reading of where (rdflib's place may differ from Oxigraph's).
    assert reply.status_code == 400 and "\\u{" not in message, message
    assert said in message or re.match(r"query:\d+:\d+: ", message), message


def test_kg_query_refuses_a_chain_that_would_crash_the_engine(built) -> None:
    """`kg query -e` of 8,000 terms added up ended the process with SIGSEGV, no word said."""
    chain = "SELECT ?x WHERE { BIND(1 AS ?a) BIND(" + "+".join(["?a"] * 8000) + " AS ?x) }"
    error = assert_clean_failure(kg(built, "query", "-e", chain))
    assert "operators and patterns in a row" in error and "the limit is 1000" in error


def test_a_prefixed_name_that_makes_no_iri_is_refused_not_asked(built) -> None:
    """`kg:Substance#x` was taken for an IRI of the scheme `kg:` and answered nothing, unsaid."""
    error = assert_clean_failure(kg(built, "query", "fentanyl-routes", "--param", "substance=kg:Substance#x"))
    assert "parameter substance:" in error and "is not a valid IRI" in error


CHAINS_REFUSED = {
    "projected expressions": "SELECT " + " ".join(f"(1 AS ?v{i})" for i in range(3000)) + " WHERE { }",
    "filters": "SELECT * WHERE { BIND(1 AS ?a) " + "FILTER(?a = 1) " * 1500 + "}",
    "optional paths": "SELECT * WHERE { "
    + " . ".join(f"?s{i} <http://p>? ?o{i}" for i in range(1500))
    + " }",
    "negations": "ASK { FILTER(" + "!" * 1500 + "true) }",
    "groups in a row": "SELECT * WHERE { " + "{ ?s ?p ?o } " * 1500 + "}",
}
CHAINS_ANSWERED = {
    "negative values": "SELECT * WHERE { VALUES ?x { " + " ".join(str(-i) for i in range(1, 1500)) + " } }",
    "typed values": "SELECT * WHERE { VALUES ?x { "
    + " ".join(f'"{i}"^^<http://www.w3.org/2001/XMLSchema#int>' for i in range(1500))
    + " } }",
    "not in negatives": "ASK { BIND(1 AS ?o) FILTER(?o NOT IN ("
    + ", ".join(str(-i) for i in range(1, 1500))
    + ")) }",
    "or of 600": "ASK { BIND(1 AS ?o) FILTER(" + " || ".join(f"?o = {i}" for i in range(600)) + ") }",
}


@pytest.mark.parametrize("name", sorted(CHAINS_REFUSED))
def test_every_chain_the_engine_recurses_through_counts(built, name: str) -> None:
    """3,000 expressions in SELECT's projection crashed `kg query` (SIGSEGV), uncounted; FILTERs, path
    modifiers and `!`s in a row are chains of the same kind."""
    error = assert_clean_failure(kg(built, "query", "-e", CHAINS_REFUSED[name]))
    assert "operators and patterns in a row" in error, error


@pytest.mark.parametrize("name", sorted(CHAINS_ANSWERED))
def test_a_long_flat_list_is_no_chain(built, name: str) -> None:
    """A VALUES block of negative numbers or typed literals, a NOT IN list, an `||` of 600 tests were
    refused as 1,000 operators or more (signs and `^^` counted, `||` counted twice)."""
    result = kg(built, "query", "-e", CHAINS_ANSWERED[name])
    assert result.exit_code == 0, result.stderr


def test_a_prefix_the_query_does_not_declare_is_named_with_the_line_to_add(built) -> None:
    """`kg query` said "Prefix not found", naming neither the prefix nor the fix the query page gives."""
    error = assert_clean_failure(kg(built, "query", "-e", "SELECT ?x WHERE { ?x a kg:Country ; foo:bar 1 }"))
    assert error.startswith("error: expression:1:"), error
    assert (
        "unknown prefix kg:, foo: — add PREFIX kg: <https://w3id.org/opioid-kg/ontology#>; PREFIX foo: <…>"
        in error
    )
