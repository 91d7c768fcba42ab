"""The catalogue in queries/: every file loads with a valid header, parses and runs; bad headers fail."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

from kg.query.catalogue import CatalogueError, NamedQuery, Parameter, load_catalogue, load_query
from kg.query.run import MAX_CHAIN, QueryError, chain_depth, run_query
from kg.server.api import with_defaults
from kg.server.bounded import binding
from kg.store.embedded import EmbeddedStore
from kg.store.queryfiles import binding_terms
from kg.store.sparql import NotAQuery, iris_named, query_form

PROJECT = Path(__file__).resolve().parent.parent
QUERIES = PROJECT / "queries"
FILES = sorted(QUERIES.glob("*.rq"))

# The questions of the issue that asked for the catalogue, and the file that answers each.
QUESTIONS = {
    "source-statements": (
        "What does each source say about a given thing (a country, a substance, an agency, a programme)?"
    ),
    "source-disagreements": (
        "Which sources disagree, giving different values for the same measure, place and period?"
    ),
    "fentanyl-routes": (
        "By which routes, through which countries and by which means does fentanyl reach the United States?"
    ),
    "fentanyl-sources": ("Where do fentanyl, its analogues and its precursor chemicals come from?"),
    "controlled-precursors": (
        "Which precursor chemicals are under international control, and who asked for it?"
    ),
    "poppy-cultivation-change": (
        "How did opium poppy cultivation in Mexico change from year to year, and does the"
        " change the report states agree with the values?"
    ),
    "heroin-production-yield": (
        "How much potential pure heroin did Mexico produce each year, and what yield per "
        "hectare does that imply?"
    ),
    "poppy-eradication-share": (
        "How much of the cultivated poppy was eradicated each year (hectares and share)?"
    ),
    "mexico-seizures": (
        "What did Mexico seize (opium gum, heroin) and how many drug labs did it destroy,"
        " by year, with the change from the previous year?"
    ),
    "border-heroin-seizures": (
        "How much heroin did U.S. authorities seize at the southwest border, and what is the trend?"
    ),
    "heroin-sources": (
        "Where does the heroin consumed or seized in the United States come from, now and in earlier decades?"
    ),
    "poppy-states-by-zone": ("Which Mexican states cultivate opium poppy, grouped by zone?"),
    "programme-funding": (
        "Which programmes fund U.S.–Mexico counter-opioid work, with amounts, qualifiers and periods?"
    ),
    "merida-activities": (
        "What activities does the Mérida Initiative support, and which substances and "
        "actors does each target?"
    ),
    "statistics-agencies": ("Which agencies are the sources of the statistics, for which measures?"),
    "fentanyl-policies": (
        "Which policy measures target fentanyl-related substances, and who proposed, "
        "requested, adopted or opposes each?"
    ),
    "congress-questions": (
        "Which questions does the report put to Congress, and which actors and substances does each concern?"
    ),
    "cooperation-forums": (
        "Which governments cooperate on the opioid threat, in which forum, and when did it last meet?"
    ),
    "evidence": ("What evidence supports a given fact?"),
    "describe-resource": ("Everything the graph says about one actor or substance"),
    "qualified-facts": (
        "Which facts are estimates, approximations, bounds or suspicions rather than firm values?"
    ),
    "production-chains": ("Which substances are made from which (the production chains)?"),
    "us-assisted-seizures": ("What was seized with U.S. training and equipment?"),
    "violence-competition": (
        "Which places and groups does the report tie to violence or competition over heroin production?"
    ),
}

GOOD_HEADER = """#+ summary: Routes of a substance
#+ description: By which routes does a substance travel?
#+ answer: select
#+ tags: [flows]
#+ params:
#+   - name: substance
#+     type: iri
#+     default: https://w3id.org/opioid-kg/id/substance/fentanyl
#+     description: The substance.
"""
GOOD_BODY = """PREFIX kg: <https://w3id.org/opioid-kg/ontology#>
SELECT ?substance ?flow WHERE { ?flow kg:substance ?substance }
"""


def write(folder: Path, text: str, name: str = "a-query.rq") -> Path:
    path = folder / name
    path.write_text(text, "utf-8")
    return path


def test_every_question_of_the_issue_has_its_file() -> None:
    assert {path.stem for path in FILES} == set(QUESTIONS)


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_file_loads_with_a_valid_header(path: Path) -> None:
    query = load_query(path)
    assert query.name == path.stem
    assert query.summary and len(query.summary) <= 120
    assert query.description.startswith(QUESTIONS[path.stem])
    assert query.tags, "every query carries tags"
    assert query.answer == query_form(query.text)
    for parameter in query.parameters:
        assert parameter.description.strip()
        assert parameter.default is not None, "catalogue queries run without arguments"
        assert not parameter.enum or parameter.default in parameter.enum


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_file_parses_and_runs_on_the_store(path: Path, store: EmbeddedStore) -> None:
    query = load_query(path)
    result = run_query(store, query.text, binding_terms(query.bindings({})), source=str(path))
    expected = {"select": "select", "ask": "ask", "construct": "graph", "describe": "graph"}[query.answer]
    assert result.kind == expected


def own_blocks(text: str, names: list[str]) -> list[str]:
    """The empty `VALUES ?name { }` blocks a query gives its parameters `names`, however spaced."""
    return [
        block
        for name in names
        for block in re.findall(rf"VALUES\s+[?$]{name}\s*\{{\s*\}}", text, flags=re.IGNORECASE)
    ]


BLOCKED = [
    path for path in FILES if own_blocks(path.read_text(), [p.name for p in load_query(path).parameters])
]


# Other values of the blocked parameters that list none of their own, so that a block binding one where
# the rows do not bind it would show: on the report every programme funds Mexico, every site grows poppy,
# so those values answer nothing; the border region answers rows where an area is asked.
OTHER_VALUES = {
    "area": (
        "https://w3id.org/opioid-kg/id/country/US",
        "https://w3id.org/opioid-kg/id/region/us-southwest-border",
    ),
    "beneficiary": ("https://w3id.org/opioid-kg/id/country/US",),
    "substance": ("https://w3id.org/opioid-kg/id/substance/heroin",),
    "subject": ("https://w3id.org/opioid-kg/id/country/MX", "https://w3id.org/opioid-kg/id/substance/heroin"),
}


def value_choices(query: NamedQuery) -> list[dict[str, str]]:
    """The defaults, then each other value of each blocked parameter (those it lists, else those
    above), the others at their defaults."""
    blocked = [p for p in query.parameters if own_blocks(query.text, [p.name])]
    others = [
        (p.name, value) for p in blocked for value in p.enum or OTHER_VALUES[p.name] if value != p.default
    ]
    return [{}] + [{name: value} for name, value in others]


@pytest.mark.parametrize("path", BLOCKED, ids=[path.stem for path in BLOCKED])
@pytest.mark.parametrize("graph", ["report", "library", "copied"])
def test_a_parameter_joined_where_the_query_says_answers_as_one_joined_at_the_top(
    path: Path, graph: str, request: pytest.FixtureRequest
) -> None:
    """A question may bind a parameter in a block of its own, where Oxigraph plans it better (after
    the required patterns that bind it, or inside each group planned apart); that must change its
    speed only. The same text without those blocks binds the parameter at the top of the pattern."""
    store = {
        "report": lambda: request.getfixturevalue("store"),
        "library": lambda: request.getfixturevalue("library_built").store(),
        "copied": lambda: request.getfixturevalue("copied"),
    }[graph]()
    query = load_query(path)
    at_top = query.text
    for block in own_blocks(query.text, [p.name for p in query.parameters]):
        at_top = at_top.replace(block, "")
    assert at_top != query.text
    answers = []
    for given in value_choices(query):
        bindings = binding_terms(query.bindings(given))
        answers.append(run_query(store, query.text, bindings).rows)
        assert answers[-1] == run_query(store, at_top, bindings).rows, (path.stem, given)
    assert answers[0], "the defaults answer"


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_file_parses_on_rdflib_too(path: Path) -> None:
    """A second, independent parser: the catalogue is plain SPARQL 1.1, not one engine's dialect."""
    prepared = prepareQuery(path.read_text("utf-8"))
    assert prepared.algebra.name.lower().startswith(load_query(path).answer)


def required_after_optional(node: object) -> list[str]:
    """The triple blocks of the algebra that a group requires after one of its OPTIONALs.

    Oxigraph plans such a block apart from what comes before it and joins the two by hash, so the
    block is read for the whole graph: a label looked up after the OPTIONALs read every label there
    is. Written before the OPTIONALs, it is looked up for each row.
    """
    found = []
    if isinstance(node, CompValue):
        left, right = node.get("p1"), node.get("p2")
        if node.name == "Join" and isinstance(left, CompValue) and left.name == "LeftJoin":
            if isinstance(right, CompValue) and right.name == "BGP" and right.triples:
                found.append(" ".join(f"{term.n3()}" for term in right.triples[0]))
        for value in node.values():
            found += required_after_optional(value)
    elif isinstance(node, list):
        for item in node:
            found += required_after_optional(item)
    return found


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_required_patterns_come_before_the_optionals(path: Path) -> None:
    assert required_after_optional(prepareQuery(path.read_text("utf-8")).algebra) == []


def test_a_required_pattern_after_an_optional_is_found() -> None:
    text = "SELECT * { ?s a ?c OPTIONAL { ?s <urn:p> ?o } ?c <urn:label> ?l }"
    assert required_after_optional(prepareQuery(text).algebra) == ["?c <urn:label> ?l"]
    before = "SELECT * { ?s a ?c . ?c <urn:label> ?l OPTIONAL { ?s <urn:p> ?o } }"
    assert required_after_optional(prepareQuery(before).algebra) == []


def test_no_answer_is_written_into_a_query_as_a_number() -> None:
    """Quantities of the report come from the graph, not from literals in the queries."""
    quantities = ("32000", "44100", "32,000", "44,100", "3925", "2900000000", "59000000", "22235", "28750")
    for path in FILES:
        body = "\n".join(line for line in path.read_text("utf-8").splitlines() if not line.startswith("#"))
        assert not any(number in body for number in quantities), path.name


def test_catalogue_is_keyed_by_file_name() -> None:
    catalogue = load_catalogue(QUERIES)
    assert sorted(catalogue) == [path.stem for path in FILES]


def test_a_good_header_loads(tmp_path: Path) -> None:
    query = load_query(write(tmp_path, GOOD_HEADER + GOOD_BODY))
    assert query.parameters[0].name == "substance"
    assert query.bindings({}) == {
        "substance": ("iri", "https://w3id.org/opioid-kg/id/substance/fentanyl", None)
    }


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("", "no '#+' header"),
        ("#+ summary: [unclosed\n", "header is not valid YAML"),
        ("#+ - a list\n", "header must be a YAML mapping"),
        (GOOD_HEADER.replace("#+ summary: Routes of a substance\n", ""), "non-empty 'summary'"),
        (
            GOOD_HEADER.replace("description: By which routes does a substance travel?", "description: ''"),
            "description",
        ),
        (GOOD_HEADER.replace("#+ answer: select\n", ""), "non-empty 'answer'"),
        (GOOD_HEADER + "#+ endpoint: http://example.org/sparql\n", "unknown header keys: endpoint"),
        (GOOD_HEADER.replace("answer: select", "answer: table"), "answer must be one of"),
        (GOOD_HEADER.replace("answer: select", "answer: construct"), "the query is select"),
        (GOOD_HEADER.replace("tags: [flows]", "tags: flows"), "tags must be a list"),
        (GOOD_HEADER.replace("type: iri", "type: url"), "has type 'url'"),
        (GOOD_HEADER.replace("name: substance", "name: 2substance"), "is not a SPARQL variable name"),
        (GOOD_HEADER.replace("#+     description: The substance.\n", ""), "needs a description"),
        (
            GOOD_HEADER.replace("https://w3id.org/opioid-kg/id/substance/fentanyl", "fentanyl"),
            "default does not fit",
        ),
        (GOOD_HEADER + "#+     colour: red\n", "unknown keys: colour"),
        (GOOD_HEADER + "#+     enum: [fentanyl]\n", "allowed value does not fit"),
        (GOOD_HEADER + "#+     enum: [https://w3id.org/opioid-kg/id/substance/heroin]\n", "is not one of"),
        (
            GOOD_HEADER.replace("#+ params:\n", "#+ params: substance\n").split("#+   - name")[0],
            "params must be a list",
        ),
        (GOOD_HEADER + GOOD_HEADER.split("#+ params:\n")[1], "declared twice"),
    ],
    ids=[
        "no-header",
        "bad-yaml",
        "not-a-mapping",
        "no-summary",
        "empty-description",
        "no-answer",
        "unknown-key",
        "unknown-answer-kind",
        "answer-not-the-query-form",
        "tags-not-a-list",
        "unknown-parameter-type",
        "bad-parameter-name",
        "parameter-without-description",
        "default-of-the-wrong-type",
        "unknown-parameter-key",
        "enum-value-of-the-wrong-type",
        "default-not-allowed",
        "params-not-a-list",
        "parameter-declared-twice",
    ],
)
def test_a_bad_header_is_refused_with_the_file_named(tmp_path: Path, header: str, message: str) -> None:
    path = write(tmp_path, header + GOOD_BODY)
    with pytest.raises(CatalogueError) as caught:
        load_query(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_yaml_error_names_the_line_and_column_in_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "#+ summary: fine\n#+ description: [unclosed\n" + GOOD_BODY)
    with pytest.raises(CatalogueError, match=rf"^{path}:\d+:\d+: header is not valid YAML: [^\n]+$"):
        load_query(path)


def test_a_parameter_must_be_projected_for_select(tmp_path: Path) -> None:
    body = GOOD_BODY.replace("SELECT ?substance ?flow", "SELECT ?flow")
    with pytest.raises(CatalogueError, match=r"\?substance must appear in the SELECT clause"):
        load_query(write(tmp_path, GOOD_HEADER + body))


def test_a_parameter_must_be_a_variable_of_the_query(tmp_path: Path) -> None:
    header = GOOD_HEADER.replace("name: substance", "name: drug")
    with pytest.raises(CatalogueError, match="parameter drug is not a variable of the query"):
        load_query(write(tmp_path, header + GOOD_BODY))


def test_file_names_are_lower_case_words(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="lower-case words"):
        load_query(write(tmp_path, GOOD_HEADER + GOOD_BODY, name="Routes_Of.rq"))


def test_a_construct_query_needs_no_projection(tmp_path: Path) -> None:
    header = GOOD_HEADER.replace("answer: select", "answer: construct")
    body = "CONSTRUCT { ?substance ?p ?o } WHERE { ?substance ?p ?o }\n"
    assert load_query(write(tmp_path, header + body)).answer == "construct"


def test_query_form_reads_past_comments_and_prologue() -> None:
    text = (
        "# a comment\nPREFIX kg: <https://w3id.org/opioid-kg/ontology#>\nBASE <http://x/>\nask { ?s ?p ?o }"
    )
    assert query_form(text) == "ask"
    assert query_form("PREFIX : <http://x/>\nDESCRIBE :a") == "describe"
    with pytest.raises(NotAQuery):
        query_form("INSERT DATA { }")


def test_the_iris_a_text_names_are_read_past_strings_and_comments() -> None:
    text = (
        "PREFIX ex: <http://x/>\n# ex:inComment\n"
        'SELECT * WHERE { ?s a ex:Class ; <http://y/p> "ex:inString" ; other:undeclared ?o }'
    )
    assert iris_named(text) == {
        "http://x/",
        "http://x/Class",
        "http://y/p",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
    }


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        (
            "iri",
            "https://w3id.org/opioid-kg/id/country/MX",
            ("iri", "https://w3id.org/opioid-kg/id/country/MX", None),
        ),
        ("string", 'China" } #', ("literal", 'China" } #', None)),
        ("english", 'China"@en } #', ("literal", 'China"@en } #', "@en")),
        ("integer", "+42", ("literal", "42", "http://www.w3.org/2001/XMLSchema#integer")),
        ("integer", "-007", ("literal", "-7", "http://www.w3.org/2001/XMLSchema#integer")),
        ("integer", "-0", ("literal", "0", "http://www.w3.org/2001/XMLSchema#integer")),
        # past the 4,300 digits Python reads as a number
        (
            "integer",
            "0" * 3 + "9" * 5000,
            ("literal", "9" * 5000, "http://www.w3.org/2001/XMLSchema#integer"),
        ),
        ("decimal", "37.8", ("literal", "37.8", "http://www.w3.org/2001/XMLSchema#decimal")),
        ("date", "2017-12-01", ("literal", "2017-12-01", "http://www.w3.org/2001/XMLSchema#date")),
        ("year", "2017", ("literal", "2017", "http://www.w3.org/2001/XMLSchema#gYear")),
        # IRIs may hold Unicode's other spaces (RFC 3987's ucschar), which a Unicode \s would refuse
        ("iri", "https://x.example/a\u00a0b", ("iri", "https://x.example/a\u00a0b", None)),
        ("iri", "https://x.example/a\u3000b", ("iri", "https://x.example/a\u3000b", None)),
    ],
)
def test_parameter_values_are_typed(kind: str, raw: str, expected: tuple[str, str, str | None]) -> None:
    assert Parameter("p", kind, "a parameter").term(raw) == expected


def test_an_english_text_is_bound_tagged_and_crosses_the_pipe_unchanged() -> None:
    """The graph gives its names in English: a plain literal would never equal one."""
    typed = Parameter("p", "english", "a parameter").term('Mexico" } #')
    term = binding_terms({"p": typed})["p"]
    assert term == ox.Literal('Mexico" } #', language="en")
    assert binding(term) == typed


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("iri", "fentanyl"),
        ("iri", "https://w3id.org/opioid-kg/id/x> } ; DROP ALL ; #"),
        ("iri", "http://x/a{b"),
        ("iri", "http://x/a b"),
        ("iri", "http://x/a\tb"),
        ("iri", "http://x/a\n"),
        ("integer", "4.2"),
        ("decimal", "many"),
        ("date", "2017-13-01"),
        ("year", "17"),
        # what Python reads as a number or a date and XML Schema does not: bound as typed, each was an
        # ill-typed literal that no comparison matched, and the question's rows dropped out unsaid
        ("date", "20170101"),
        ("date", "2017-W01-1"),
        ("date", "2017-02-29"),
        ("decimal", "NaN"),
        ("decimal", "1e5"),
        ("decimal", "1_000"),
        ("decimal", " 1"),
        ("decimal", "\u0661"),
        ("integer", "\u0661\u0662"),
        ("year", "\u0662\u0660\u0661\u0667"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(kind: str, raw: str) -> None:
    with pytest.raises(CatalogueError, match="parameter p:"):
        Parameter("p", kind, "a parameter").term(raw)


def test_a_value_given_twice_to_a_list_is_bound_once() -> None:
    """A VALUES row given twice would give every answer row twice where the block opens the pattern,
    and once where a question's own block sits inside a group: a list is bound as a set, in order."""
    listed = Parameter("p", "iri", "a parameter", many=True)
    mx, us = "https://w3id.org/opioid-kg/id/country/MX", "https://w3id.org/opioid-kg/id/country/US"
    assert listed.bind([mx, us, mx]) == (listed.term(mx), listed.term(us))


def test_unknown_and_missing_parameters_are_refused(tmp_path: Path) -> None:
    query = load_query(write(tmp_path, GOOD_HEADER + GOOD_BODY))
    with pytest.raises(CatalogueError, match="has no parameter 'drug'"):
        query.bindings({"drug": "x"})
    header = GOOD_HEADER.replace("#+     default: https://w3id.org/opioid-kg/id/substance/fentanyl\n", "")
    query = load_query(write(tmp_path, header + GOOD_BODY, name="no-default.rq"))
    with pytest.raises(CatalogueError, match="needs a value for parameter substance"):
        query.bindings({})


def test_a_syntax_error_names_line_and_column(tmp_path: Path, store: EmbeddedStore) -> None:
    path = write(
        tmp_path, GOOD_HEADER + GOOD_BODY.replace("?flow kg:substance ?substance", "?flow kg:substance")
    )
    query = load_query(path)
    with pytest.raises(QueryError) as caught:
        run_query(store, query.text, binding_terms(query.bindings({})), source=str(path))
    assert caught.value.line == GOOD_HEADER.count("\n") + 2
    assert caught.value.column is not None
    assert str(caught.value).startswith(
        f"{path}:{caught.value.line}:{caught.value.column}: SPARQL syntax error"
    )


def test_the_editor_opens_a_question_with_a_required_parameter_with_its_defaults_only(tmp_path: Path) -> None:
    """A parameter without a default stays a variable for the analyst to bind; the others are written in."""
    required = "#+   - name: destination\n#+     type: iri\n#+     description: Where to.\n"
    body = GOOD_BODY.replace("?substance ?flow WHERE", "?substance ?destination ?flow WHERE").replace(
        "?flow kg:substance ?substance }", "?flow kg:substance ?substance ; kg:destination ?destination }"
    )
    query = load_query(write(tmp_path, GOOD_HEADER + required + body))
    text = with_defaults(query)
    assert "VALUES (?substance) { (<https://w3id.org/opioid-kg/id/substance/fentanyl>) }" in text
    assert "?destination" in text and "VALUES (?destination" not in text


def test_the_editor_opens_a_question_without_a_where_pattern_with_its_values_after_it(
    tmp_path: Path, store: EmbeddedStore
) -> None:
    """`DESCRIBE ?r` has no group to open: the values close the query, and the text runs as the question."""
    header = GOOD_HEADER.replace("answer: select", "answer: describe").replace("name: substance", "name: r")
    query = load_query(write(tmp_path, header + "DESCRIBE ?r\n"))
    text = with_defaults(query)
    assert text.rstrip().endswith("VALUES (?r) { (<https://w3id.org/opioid-kg/id/substance/fentanyl>) }")
    described = run_query(store, text)
    assert described.triples
    assert described.triples == run_query(store, query.text, binding_terms(query.bindings({}))).triples


def test_every_query_the_project_asks_is_far_within_the_engines_chain_limit() -> None:
    """A limit that refused one of the project's own queries would be found by its users first."""
    root = Path(__file__).resolve().parent.parent
    written = [path for folder in ("queries", "src") for path in (root / folder).glob("**/*.rq")]
    assert len(written) > 50
    deepest = max(chain_depth(path.read_text("utf-8")) for path in written)
    assert 0 < deepest <= MAX_CHAIN // 10
