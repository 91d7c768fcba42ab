"""Answers in words: values with units and qualifiers, clean quotes, evidence per row, names as parameters."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.evidence import clean_quote
from kg.evidence.facts import evidence_for
from kg.namespaces import PREFIXES
from kg.query.catalogue import load_catalogue
from kg.query.run import run_query
from kg.readable import readable
from kg.readable.labels import labels_for
from kg.readable.terminal import Value
from kg.readable.values import literal_text, money, plain_number, with_unit
from kg.search import SearchIndex, index_from_store
from kg.search.load import store_exists, store_select
from kg.search.resolve import Lookups, Unresolved, resolve_iri
from kg.store.queryfiles import binding_terms

ID = "https://w3id.org/opioid-kg/id/"
HTML = {"Accept": "text/html"}


def test_a_month_reads_as_a_month() -> None:
    """'as of 2018-07' stood on the page as the graph writes it."""

    class Month:
        type, value, datatype = "literal", "2018-07", "http://www.w3.org/2001/XMLSchema#gYearMonth"

    assert literal_text(Month()) == "July 2018"


def test_money_and_numbers_as_the_report_writes_them() -> None:
    assert money(Decimal(2900000000)) == "$2.9 billion"
    assert money(Decimal(59000000)) == "$59 million"
    assert money(Decimal(1500)) == "$1,500"
    assert plain_number(Decimal(44100)) == "44,100"
    assert plain_number(Decimal("7.50")) == "7.5"


def test_small_numbers_keep_their_digits_and_sign() -> None:
    """0.0000001 was rounded to six places and shown as "0", and -0.0000001 as "-0"."""
    assert plain_number(Decimal("0.0000001")) == "0.0000001"
    assert plain_number(Decimal("-0.0000001")) == "-0.0000001"
    assert plain_number(Decimal("1E-7")) == "0.0000001"
    assert plain_number(Decimal("-1234.5")) == "-1,234.5"


def test_money_signs_cents_and_scales_as_a_reader_writes_them() -> None:
    """'$-5 million', '$1,500.5' and 999,999,999 dollars as '$1,000 million' were shown."""
    assert money(Decimal(-5000000)) == "-$5 million"
    assert money(Decimal(-1500)) == "-$1,500"
    assert money(Decimal("1500.5")) == "$1,500.50"
    assert money(Decimal("-0.5")) == "-$0.50"
    assert money(Decimal(999999999)) == "$1 billion"
    assert money(Decimal(999999)) == "$999,999"
    assert money(Decimal(1250000)) == "$1.25 million"


def test_a_unit_of_one_is_singular() -> None:
    tonne = "http://qudt.org/vocab/unit/TONNE"
    assert with_unit(Decimal(1), tonne) == "1 metric ton"
    assert with_unit(Decimal("1.0"), tonne) == "1 metric ton"
    assert with_unit(Decimal(81), tonne) == "81 metric tons"
    assert with_unit(Decimal("1.5"), tonne) == "1.5 metric tons"


def test_quotes_lose_the_reports_markup_and_keep_their_words() -> None:
    assert clean_quote("nearly \\$2.9 billion (see **Figure 1**).") == "nearly $2.9 billion (see Figure 1)."
    assert (
        clean_quote("the 2017 *National Drug Threat Assessment*.")
        == "the 2017 National Drug Threat Assessment."
    )
    assert clean_quote("## Background\nfentanyl_analogues stay") == "Background fentanyl_analogues stay"
    assert clean_quote("3 * 4 = 12") == "3 * 4 = 12"


def _answer(store, name: str) -> tuple[list[str], list[dict[str, Value]]]:
    query = load_catalogue(Path(__file__).resolve().parent.parent / "queries")[name]
    result = run_query(store, query.text, binding_terms(query.bindings({})))
    return result.variables, [{k: Value(v) for k, v in row.items()} for row in result.rows]


def _readable(store, name: str):
    variables, rows = _answer(store, name)
    select = store_select(store)
    iris = {v.value for row in rows for v in row.values() if v.type == "uri"}
    return readable(variables, rows, labels_for(select, iris), evidence_for(select, iris))


def test_funding_reads_nearly_2_9_billion_with_congress_and_the_quote(store) -> None:
    table = _readable(store, "programme-funding")
    texts = [" | ".join(c.text for cells in row.cells for c in cells) for row in table.rows]
    merida = next(t for t in texts if "Mérida Initiative" in t)
    assert "nearly $2.9 billion" in merida
    assert "amount" in table.headers and "program label" not in table.headers and "unit" not in table.headers
    row = table.rows[texts.index(merida)]
    assert any("nearly $2.9 billion from FY2008 to FY2018" in e.quote for e in row.evidence)
    assert all("\\$" not in e.quote for e in row.evidence)


def test_poppy_change_names_ondcp_beside_the_2017_value(store) -> None:
    table = _readable(store, "poppy-cultivation-change")
    row = next(r for r in table.rows if any(c.text == "44,100 ha" for cells in r.cells for c in cells))
    assert [e.agency_label for e in row.evidence][0] == "ONDCP"
    assert "44,100 hectares" in row.evidence[0].quote
    assert row.evidence[0].context_path().startswith("/source/crs-2018-heroin-fentanyl-mexico#excerpt-")
    citation = row.evidence[0].citation("http://x/source")
    assert "9 August 2018" in citation and "Transnational Crime Issues" in citation


def test_congress_questions_group_into_one_row_per_question(store) -> None:
    variables, rows = _answer(store, "congress-questions")
    table = _readable(store, "congress-questions")
    assert len(rows) > len(table.rows) == 5
    assert all(row.evidence for row in table.rows)


def test_a_count_stands_beside_the_one_row_it_counts(store) -> None:
    """statistics-agencies counts observations per agency and measure: the defense ministry's three
    measures, 3 observations each, stood as one row listing the three beside 'observations 3', which
    read as the ministry's count, where it gave 9."""
    variables, rows = _answer(store, "statistics-agencies")
    table = _readable(store, "statistics-agencies")
    assert len(table.rows) == len(rows) > 10
    assert all(len(cells) <= 1 for row in table.rows for cells in row.cells)


@pytest.fixture(scope="module")
def index_reads(store) -> list[SearchIndex]:
    """Each time a resolution asked for the whole search index (cleared by each test that reads it)."""
    return []


@pytest.fixture(scope="module")
def resolver(store, index_reads):
    index = index_from_store(store_select(store))

    def whole_index() -> SearchIndex:
        index_reads.append(index)
        return index

    lookups = Lookups(store_exists(store), store_select(store), whole_index)
    return lambda raw, like=None: resolve_iri(raw, PREFIXES, lookups, like)


def test_a_parameter_by_iri_short_name_or_label(resolver) -> None:
    mexico = ID + "country/MX"
    assert resolver(mexico) == resolver("country:MX") == resolver("Mexico") == resolver("méxico") == mexico


def test_a_name_spelt_as_the_graph_writes_it_needs_no_search_index(resolver, index_reads) -> None:
    """At 10 M triples the index takes longer to read than a query may run: a name written exactly as
    a label (plain or English) is an index lookup of the store; another spelling still needs the index."""
    index_reads.clear()
    assert resolver("Mexico") == ID + "country/MX"
    assert resolver("Mérida Initiative") == ID + "program/merida-initiative"
    assert resolver("  United States ") == ID + "country/US"
    assert resolver("mexico") == resolver("MEXICO") == ID + "country/MX"  # in another case
    with pytest.raises(Unresolved, match=r"'person' names 3 things: .*Person.*; give one IRI"):
        resolver("person")  # three vocabularies' classes share the label
    assert index_reads == []
    assert resolver("méxico") == ID + "country/MX"
    assert len(index_reads) == 1


def test_an_unknown_parameter_is_refused_with_candidates(resolver) -> None:
    with pytest.raises(Unresolved, match="did you mean: Mexico <https://w3id.org/opioid-kg/id/country/MX>"):
        resolver("Mexco", ID + "country/US")
    with pytest.raises(Unresolved, match="'country:XX' is not in the graph"):
        resolver("country:XX")


CATALOGUE = sorted(load_catalogue(Path(__file__).resolve().parent.parent / "queries"))


@pytest.mark.parametrize("name", CATALOGUE)
def test_a_rows_evidence_is_that_of_a_statement_the_row_holds(store, name: str) -> None:
    """Never the excerpts of a thing the row names: those say something of the thing, not the row."""
    variables, rows = _answer(store, name)
    select = store_select(store)
    iris = {v.value for row in rows for v in row.values() if v.type == "uri"}
    evidence = evidence_for(select, iris)
    held = {v.value for row in rows for v in row.values() if v.type == "uri"}
    for row in readable(variables, rows, labels_for(select, iris), evidence).rows:
        for item in row.evidence:
            assert item.fact in row.facts and item.fact in held, (name, item.fact, item.quote)
            assert item.statement, (name, item.fact, "is a thing, not a statement of the report")


def test_a_place_where_fentanyl_may_be_made_shows_its_own_quote(store) -> None:
    table = _readable(store, "fentanyl-sources")
    [row] = [
        r
        for r in table.rows
        if [c.text for c in r.cells[table.columns.index("origin")]] == ["Mexico"]
        and [c.text for c in r.cells[table.columns.index("how")]] == ["made in"]
    ]
    assert [e.slug for e in row.evidence] == ["precursors-from-us"]
    assert [e.agency_label for e in row.evidence] == ["DEA"]


def test_a_finding_is_a_statement_with_its_own_quote(store) -> None:
    table = _readable(store, "qualified-facts")
    findings = [r for r in table.rows if any("/finding/" in iri for iri in r.facts)]
    assert findings and all(r.evidence for r in findings)


def test_kg_query_takes_a_label_and_refuses_a_typo(built) -> None:
    runner = CliRunner()
    args = ["query", "poppy-cultivation-change", "--store", str(built.store_path)]
    by_label = runner.invoke(main, [*args, "--param", "area=Mexico", "--format", "csv"])
    by_short = runner.invoke(main, [*args, "--param", "area=country:MX", "--format", "csv"])
    assert by_label.exit_code == by_short.exit_code == 0
    assert by_label.output == by_short.output and by_label.output.count("\n") > 2
    typo = runner.invoke(main, [*args, "--param", "area=Mexco"])
    assert typo.exit_code == 2
    assert "did you mean: Mexico" in typo.output


def test_kg_query_readable_shows_who_says_it_and_where(built) -> None:
    result = CliRunner().invoke(
        main, ["query", "programme-funding", "--format", "readable", "--store", str(built.store_path)]
    )
    assert result.exit_code == 0, result.output
    assert "nearly $2.9 billion" in result.output
    assert "CRS, the report's author:" in result.output
    assert "000_1bdfefaeb44abb70/text.txt:" in result.output


def test_a_decline_shows_beside_its_quote_the_sentence_naming_cbp(store) -> None:
    """'Seizures declined in FY2016 ...' names neither CBP nor the border: its context does."""
    table = _readable(store, "border-heroin-seizures")
    row = next(r for r in table.rows if any("Seizures declined" in e.quote for e in r.evidence))
    quotes = [(e.is_context, e.quote) for e in row.evidence]
    assert quotes[0][0] is False and "Seizures declined" in quotes[0][1]
    assert any(is_context and "U.S. Customs and Border Protection" in q for is_context, q in quotes)


def test_the_iris_of_columns_not_shown_are_not_a_rows_facts() -> None:
    """A page shows 40 columns; the IRIs of the others were each row's facts, and grouping 500 rows
    into one compared every such IRI with all those kept before it."""

    class Term:
        def __init__(self, value: str) -> None:
            self.type, self.value, self.lang, self.datatype = "uri", value, None, None

    rows = [{"shown": Term("urn:x:same"), "hidden": Term(f"urn:x:{n}")} for n in range(500)]
    [row] = readable(["shown"], rows, {}).rows
    assert row.facts == ["urn:x:same"]


def test_a_column_of_quotes_reads_without_the_report_s_markup(store) -> None:
    """`**Figure 1**` stood in the exact column of source-statements, as the text writes it."""
    table = _readable(store, "source-statements")
    column = table.columns.index("exact")
    shown = [cell for row in table.rows for cell in row.cells[column]]
    assert any(cell.exact and "**Figure 1**" in cell.exact for cell in shown)
    assert not any("**" in cell.text for cell in shown)


def _row_texts(table) -> list[str]:
    return [" | ".join(c.text for cells in row.cells for c in cells) for row in table.rows]


def test_a_qualifier_stays_beside_the_value_it_qualifies_when_the_row_has_another(store) -> None:
    """'More than doubled' is a change factor of 2 qualified 'more than'; the row has no value, and
    the qualifier, folded into the value column, was dropped."""
    texts = _row_texts(_readable(store, "border-heroin-seizures"))
    doubled = next(t for t in texts if "2010" in t and "2015" in t)
    assert "more than 2" in doubled


def test_a_fact_with_two_qualifiers_shows_one_value_with_both(store) -> None:
    """FY2018's seizures are more than 3,925 kg and a partial period: one value, not the value twice."""
    table = _readable(store, "border-heroin-seizures")
    column = table.columns.index("value")
    fy2018 = next(r for r in table.rows if any("FY2018" == c.text for cells in r.cells for c in cells))
    [value] = fy2018.cells[column]
    assert "more than" in value.text and "partial period" in value.text and "3,925 kg" in value.text
    yields = _readable(store, "heroin-production-yield")
    column = yields.columns.index("production")
    values = [cell.text for row in yields.rows for cell in row.cells[column]]
    assert not any(
        a != b and a.endswith("81 metric tons") and b.endswith("81 metric tons")
        for a in values
        for b in values
    )


def test_every_qualifier_of_a_fact_is_shown_in_its_row(store) -> None:
    """qualified-facts asks which facts are estimates, bounds or suspicions: a row that does not
    say which (20 of its 28 rows did not) does not answer it."""
    variables, rows = _answer(store, "qualified-facts")
    table = _readable(store, "qualified-facts")
    texts = _row_texts(table)
    for row in rows:
        fact, qualifier = row["fact"].value, row["qualifierLabel"].value
        shown = [text for text, r in zip(texts, table.rows, strict=True) if fact in r.facts]
        assert shown, fact
        assert any(qualifier in text for text in shown), (fact, qualifier, shown)


def test_a_bound_stands_beside_its_value_in_each_row_of_the_fact(store) -> None:
    """qualified-facts gives a row per fact and qualifier: FY2018's seizures through July, more than
    3,925 kg, read 'partial period 3,925 kg' in the row of their partial period, a value the report
    gives as FY2017's whole year."""
    variables, rows = _answer(store, "qualified-facts")
    table = _readable(store, "qualified-facts")
    texts = _row_texts(table)
    bounded = {row["fact"].value for row in rows if "boundKind" in row}
    fy2018 = ID + "observation/swb-heroin-seizures-fy2018-to-july"
    assert fy2018 in bounded
    for text, table_row in zip(texts, table.rows, strict=True):
        for fact in bounded & set(table_row.facts):
            bound_words = {
                r["qualifierLabel"].value for r in rows if r["fact"].value == fact and "boundKind" in r
            }
            assert any(word in text for word in bound_words), (fact, text)


def test_a_share_reads_as_a_percentage_with_its_qualifier(store) -> None:
    """The majority of seized heroin is a lower bound of 50 percent: '50' alone reads as a count."""
    table = _readable(store, "heroin-sources")
    column = table.columns.index("share")
    shares = {cell.text for row in table.rows for cell in row.cells[column]}
    assert shares == {"majority 50%", "more than 90%"}


def test_a_production_step_reads_from_its_input_to_its_output(store) -> None:
    """'morphine | derived from: heroin' read backwards: heroin is derived from morphine."""
    texts = _row_texts(_readable(store, "production-chains"))
    assert any(t.startswith("morphine") and "processed into: heroin" in t for t in texts), texts
    assert any(t.startswith("ANPP") and "precursor of: fentanyl" in t for t in texts), texts
    assert not any("derived from" in t for t in texts)


def test_a_quote_says_whether_it_is_the_report_s_own_word_or_an_agency_it_cites(store) -> None:
    """Every quote of the report's own author read "CRS, cited by the report", as if the report cited
    the agency that wrote it."""
    table = _readable(store, "poppy-cultivation-change")
    heads = {e.who() for row in table.rows for e in row.evidence}
    assert "ONDCP, cited by the report" in heads
    funding = _readable(store, "programme-funding")
    assert "CRS, the report's author" in {e.who() for row in funding.rows for e in row.evidence}
    assert not any(
        "CRS, cited by the report" == e.who() for t in (table, funding) for r in t.rows for e in r.evidence
    )


def test_a_document_s_title_names_its_column_once(store) -> None:
    """source-statements showed a source column and a source title column, both the report's title."""
    table = _readable(store, "source-statements")
    assert "source" in table.columns and "sourceTitle" not in table.columns
    column = table.columns.index("source")
    titles = {c.text for row in table.rows for c in row.cells[column]}
    assert len(titles) == 1 and titles.pop().startswith("Transnational Crime Issues: Heroin Production")


class _Term:
    """A term of an answer as the server's JSON gives it."""

    def __init__(self, value: object, datatype: str | None = None, kind: str = "literal") -> None:
        self.type, self.value, self.lang = kind, str(value), None
        integer = "http://www.w3.org/2001/XMLSchema#integer"
        self.datatype = datatype or (integer if isinstance(value, int) else None)


def _texts(variables: list[str], rows: list[dict[str, _Term]]) -> list[str]:
    table = readable(variables, rows, {})
    return [
        " | ".join(f"{h}={c.text}" for h, cells in zip(table.headers, r.cells, strict=True) for c in cells)
        for r in table.rows
    ]


def test_a_qualifier_stands_beside_an_amount_and_nothing_else() -> None:
    """A row without its value put 'more than' before the year (`more than 2,018`), and one whose value
    was no number before a word."""
    more = _Term("more than")
    rows = [
        {"value": _Term(10), "year": _Term(2017), "qualifier": more},
        {"year": _Term(2018), "qualifier": more},
    ]
    assert _texts(["value", "year", "qualifier"], rows) == [
        "value=more than 10 | year=2017",
        "year=2018 | qualifier=more than",
    ]
    rows = [
        {"x": _Term(5), "qualifier": _Term("at least")},
        {"x": _Term("notnum"), "qualifier": _Term("about")},
    ]
    assert _texts(["x", "qualifier"], rows) == ["x=at least 5", "x=notnum | qualifier=about"]


def test_a_title_beside_text_is_text_of_its_own() -> None:
    """`?job ?jobTitle`: a title folded into a column of text was lost."""
    rows = [{"isbn": _Term("isbn-1"), "isbnTitle": _Term("A Book")}]
    assert _texts(["isbn", "isbnTitle"], rows) == ["isbn=isbn-1 | isbn title=A Book"]


def test_a_quote_says_where_it_stands_in_the_report_s_text(store, source_text: str) -> None:
    """The characters of a quote were only on its excerpt's page, three clicks from the answer."""
    table = _readable(store, "poppy-cultivation-change")
    items = [e for row in table.rows for e in row.evidence]
    assert items and all(e.characters() for e in items)
    for e in items:
        assert e.start is not None and e.end is not None
        assert e.characters() == f"characters {e.start:,}–{e.end:,}"
        assert clean_quote(source_text[e.start : e.end]) == e.quote


def test_an_answer_page_shows_each_quote_s_report_and_characters(client) -> None:
    """Which report a quote is from was written only into the citation button's attribute: in a library
    of reports, the page did not say which one says it."""
    page = client.get("/queries/poppy-cultivation-change?run=1").get_data(as_text=True)
    # excerpt:cultivation-2017: "According to the U.S. Office of National Drug Control Policy (ONDCP) …"
    title = (
        "Transnational Crime Issues: Heroin Production, Fentanyl Trafficking, and U.S.-Mexico Security"
        " Cooperation (9 August 2018)"
    )
    said = f'in <cite class="report">{title}</cite>, <small class="position">characters 1,556–1,749</small>'
    assert said in page
    boxes = page.count('<p class="who">')
    assert boxes and page.count('<cite class="report">') == boxes


def test_a_resource_page_and_an_excerpt_s_page_show_each_quote_s_characters(client) -> None:
    """Only the answers' pages gave them: a fact's page and an excerpt's own page left them a link away."""
    excerpt = client.get("/id/excerpt/cultivation-2017", headers=HTML).get_data(as_text=True)
    assert '<small class="position">characters 1,556–1,749</small>' in excerpt
    observation = client.get("/id/observation/mx-poppy-cultivation-2017", headers=HTML).get_data(as_text=True)
    quotes = observation.count("<blockquote>")
    assert quotes and observation.count('<small class="position">characters ') == quotes
    assert '<small class="position">characters 1,556–1,749</small>' in observation


def test_the_terminal_names_where_each_quote_stands_in_its_line(built, source_text: str) -> None:
    """A line of the text file is often a whole paragraph: the terminal named the line alone, where the
    web page gives the characters."""
    result = CliRunner().invoke(
        main, ["query", "heroin-production-yield", "--format", "readable", "--store", str(built.store_path)]
    )
    assert result.exit_code == 0, result.output
    places = re.findall(
        r"in context: \S+text\.txt:(\d+), characters ([\d,]+)–([\d,]+) of the text", result.output
    )
    assert places
    for line, start, end in places:
        start_at, end_at = int(start.replace(",", "")), int(end.replace(",", ""))
        assert source_text.count("\n", 0, start_at) + 1 == int(line)
        assert source_text[start_at:end_at].startswith("According to")  # the quote, at its position


def test_the_terminal_names_the_statement_each_quote_backs(built) -> None:
    """A row of a production and a cultivation figure listed two quotes without saying which figure
    each backs, and a route's row did not name the route, whose column the table leaves out."""

    def printed(name: str) -> str:
        args = ["query", name, "--format", "readable", "--store", str(built.store_path)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        return result.output

    first = printed("heroin-production-yield").split("\n\n")[0]
    assert "ONDCP, cited by the report, for Potential pure heroin production, Mexico, 2016:" in first
    assert "ONDCP, cited by the report, for Opium poppy cultivation area, Mexico, 2016:" in first
    production = first.index("for Potential pure heroin production")
    assert "heroin production also has surged" in first[production : first.index("in context:", production)]
    route = printed("fentanyl-routes").split("\n\n")[0]
    assert (
        "  about        clandestine-produced fentanyl from China by direct mail to the United States\n"
        in route
    )


def test_a_citation_names_the_author_where_the_report_speaks_for_itself(store) -> None:
    """CRS's own statements were cited by title alone, where an agency the report cites is named."""
    table = _readable(store, "fentanyl-routes")
    own = next(e for row in table.rows for e in row.evidence if e.by_author)
    citation = own.citation("http://x/source")
    assert f"” — {own.agency_label}, Transnational Crime Issues" in citation
    assert "cited in" not in citation


def test_a_flow_leg_is_named_by_its_places_and_its_route(store) -> None:
    """A leg has no label of its own, and pages listed `flow:china-mexico-us-fentanyl-leg-2` beside
    named routes: it is named by its index, places and route, as the graph states them."""
    legs = [f"{ID}flow/china-mexico-us-fentanyl-leg-2", f"{ID}flow/mexico-us-heroin-leg-1"]
    labels = labels_for(store_select(store), [*legs, f"{ID}country/MX"])
    assert labels == {
        legs[0]: "leg 2, Mexico to United States, of clandestine-produced fentanyl from China through"
        " Mexico to the United States",
        legs[1]: "leg 1, Mexico to United States, of heroin from Mexico to the United States",
        f"{ID}country/MX": "Mexico",
    }
