"""Result views of a SELECT answer: which apply, decided from the answer of the real store, and the
pictures drawn from it, read back from the SVG."""

from __future__ import annotations

import re
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

import pytest

import kg
from kg.charts.chart import chart, problem
from kg.namespaces import XSD
from kg.network import canvas
from kg.network.draw import save
from kg.readable.labels import labels_for
from kg.readable.terminal import Value
from kg.readable.views import period_of, views_of
from kg.search.load import store_select
from kg.server.answer_pictures import chart_series, draw_network, edges, observations_in
from kg.server.services import Term

SVG = "{http://www.w3.org/2000/svg}"


def answer(store, name: str, **given: str):
    result = kg.ask(store, name, **given)
    rows = [{column: Value(term) for column, term in row.items()} for row in result.rows]
    iris = {v.value for row in rows for v in row.values() if v.type == "uri"}
    return result.variables, rows, labels_for(store_select(store), iris)


def ids(root: ET.Element, gid: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("id") == gid]


def test_a_statistics_question_can_be_charted_by_fiscal_year_as_a_line(store) -> None:
    variables, rows, labels = answer(store, "border-heroin-seizures")
    views = views_of(variables, rows, labels)
    assert views.chart is not None and views.applies("chart")
    assert (views.chart.value, views.chart.period, views.chart.style) == ("value", "period", "line")


def test_a_chain_question_is_a_network_and_not_a_chart(store) -> None:
    variables, rows, labels = answer(store, "production-chains")
    views = views_of(variables, rows, labels)
    assert views.chart is None and views.reasons["chart"] == "no numeric column"
    assert views.network is not None
    assert (views.network.source, views.network.target, views.network.label) == (
        "input",
        "output",
        "relation",
    )


CATALOGUE = kg.load_catalogue(Path(__file__).resolve().parent.parent / "queries")


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_a_network_never_joins_a_questions_own_parameters(store, name: str) -> None:
    """The first two entity columns of a route question were its own parameters, echoed in every row:
    "fentanyl to United States" once, the origins and transits lost."""
    variables, rows, labels = answer(store, name)
    plan = views_of(variables, rows, labels).network
    parameters = {p.name for p in CATALOGUE[name].parameters}
    assert plan is None or not {plan.source, plan.target} <= parameters, (name, plan)


def test_routes_are_drawn_from_their_origins_to_their_destinations(store) -> None:
    for name in ("fentanyl-routes", "heroin-sources"):
        variables, rows, labels = answer(store, name)
        plan = views_of(variables, rows, labels).network
        assert plan is not None and (plan.source, plan.target) == ("origin", "destination"), name


def test_numbers_without_periods_are_no_chart_and_single_entities_no_network(store) -> None:
    # Which agency stands behind which measure: numbers (counts), but no period beside them.
    variables, rows, labels = answer(store, "statistics-agencies")
    views = views_of(variables, rows, labels)
    assert views.chart is None and views.reasons["chart"].startswith("no period column")
    # A single entity column per row: nothing to join.
    one_column = [{"agency": row["agency"], "n": row["observations"]} for row in rows]
    views = views_of(["agency", "n"], one_column, labels)
    assert not views.applies("chart") and not views.applies("network")
    assert views.reasons == {"chart": views.reasons["chart"], "network": "needs two entity columns per row"}


def test_years_as_plain_literals_are_periods_and_dates_give_bars(store) -> None:
    variables, rows, labels = answer(store, "programme-funding")
    views = views_of(variables, rows, labels)
    assert views.chart is not None and views.chart.style == "bar" and views.chart.period == "begin"


def test_the_chart_of_an_answer_keeps_the_bound_and_the_partial_period_apart(store) -> None:
    variables, rows, labels = answer(store, "border-heroin-seizures")
    plan = views_of(variables, rows, labels).chart
    assert plan is not None
    series, note = chart_series(store, plan, rows, labels, observations_in(store_select(store), rows))
    assert note == ""  # every value is an observation of the graph, drawn by the graph's rules
    points = {p.period: p for one in series for p in one.points}
    assert set(points) == {"FY2017", "FY2018"}
    assert points["FY2017"].firm and not points["FY2018"].firm
    root = ET.fromstring(chart(series, style=plan.style))
    assert len(ids(root, "value-marker")) == 1 and len(ids(root, "bound-marker")) == 1
    assert ids(root, "series-line") == []  # one whole-period value: nothing to join


def test_values_the_answer_alone_gives_are_never_joined(store) -> None:
    variables, rows, labels = answer(store, "mexico-seizures")
    plain = [{k: v for k, v in row.items() if k in ("measure", "periodLabel", "value")} for row in rows]
    plan = views_of(["measure", "periodLabel", "value"], plain, labels).chart
    assert plan is not None and plan.period == "periodLabel"
    series, note = chart_series(store, plan, plain, labels, observations_in(store_select(store), plain))
    assert "none is joined" in note
    assert len(series) == 3  # one per measure
    root = ET.fromstring(chart(series, style=plan.style, note=note))
    assert ids(root, "series-line") == []
    assert len(ids(root, "bound-marker")) == len(rows) == 9
    legend = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "whole period or not, unknown: not joined" in legend and "bound or part" not in legend


@pytest.mark.parametrize("name", ["mexico-seizures", "programme-funding"])
def test_bars_count_the_answers_values(store, name: str) -> None:
    variables, rows, labels = answer(store, name)
    plan = views_of(variables, rows, labels).chart
    assert plan is not None
    series, _ = chart_series(store, plan, rows, labels, observations_in(store_select(store), rows))
    values = {(r[plan.period].value, r[plan.value].value) for r in rows if plan.value in r}
    root = ET.fromstring(chart(series, style="bar"))
    assert len(ids(root, "value-bar")) + len(ids(root, "bound-bar")) == len(values)


def test_the_network_of_an_answer_draws_each_entity_once(store) -> None:
    variables, rows, labels = answer(store, "production-chains")
    plan = views_of(variables, rows, labels).network
    assert plan is not None
    found = edges(plan, rows, labels)
    names = {e.source_label for e in found} | {e.target_label for e in found}
    assert "heroin" in names and "fentanyl" in names
    root = ET.fromstring(draw_network(plan, found, "", "svg"))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert all(texts.count(name) >= 1 for name in names)
    assert {e.label for e in found} <= set(texts)


# The views on the answer pages of a real app over the real store, its query workers included.


def test_a_named_answer_offers_its_views_as_links_and_refuses_one_that_does_not_apply(client) -> None:
    page = client.get("/queries/production-chains?run=1").get_data(as_text=True)
    assert 'href="/queries/production-chains?run=1&amp;view=network" id="view-network"' in page
    assert (
        '<span class="disabled" id="view-chart" aria-disabled="true">Chart <small>(no numeric column)' in page
    )
    refused = client.get("/queries/production-chains?run=1&view=chart")
    assert refused.status_code == 200
    text = refused.get_data(as_text=True)
    assert (
        "No chart view of this answer: no numeric column." in text
        and 'table class="results readable"' in text
    )
    picture = client.get("/queries/production-chains/view.svg?run=1&view=chart")
    assert picture.status_code == 404 and "no numeric column" in picture.get_json()["error"]["message"]


def test_the_network_view_has_its_picture_downloads_and_arrows_in_words(client) -> None:
    page = client.get("/queries/production-chains?run=1&view=network").get_data(as_text=True)
    assert 'src="/queries/production-chains/view.svg?run=1&amp;view=network"' in page
    assert 'href="/queries/production-chains/view.png?run=1&amp;view=network" download' in page
    arrows = page.split('id="view-edges"')[1].split("</table>")[0]
    assert arrows.count("<tr>") == 1 + 7  # the header and one row per arrow
    assert "opium poppy" in arrows and "processed into" in arrows
    svg = client.get("/queries/production-chains/view.svg?run=1&view=network")
    png = client.get("/queries/production-chains/view.png?run=1&view=network")
    assert svg.mimetype == "image/svg+xml" and png.mimetype == "image/png" and png.data[:4] == b"\x89PNG"
    assert "<script" not in svg.get_data(as_text=True)


def test_a_typed_query_gets_the_same_views(client) -> None:
    pattern = (
        "PREFIX kg: <https://w3id.org/opioid-kg/ontology#> PREFIX qb: <http://purl.org/linked-data/cube#>\n"
        "SELECT {} WHERE {{ ?o qb:measureType kg:poppyCultivationArea ; "
        "kg:poppyCultivationArea ?value ; kg:refPeriod ?period ; kg:refArea ?area . "
        "FILTER(STRENDS(STR(?area), '/MX')) }}"
    )
    # Naming the observations: drawn from them, by the graph's units and rules.
    page = client.get("/query", query_string={"query": pattern.format("?o ?period ?value"), "view": "chart"})
    text = page.get_data(as_text=True)
    assert 'id="view-chart" aria-current="page"' in text
    assert "44,100 ha" in text and "none is joined" not in text
    assert '<span class="disabled" id="view-network"' in text
    # Numbers and periods alone: drawn, but no value is joined to another.
    alone = pattern.format("?period ?value")
    text = client.get("/query", query_string={"query": alone, "view": "chart"}).get_data(as_text=True)
    assert "none is joined" in text
    svg = client.get("/query/view.svg", query_string={"query": alone, "view": "chart"})
    root = ET.fromstring(svg.data)
    assert len(ids(root, "bound-marker")) == 2 and ids(root, "series-line") == []


def test_answers_that_are_not_tables_have_no_views(client) -> None:
    page = client.get("/queries/describe-resource?run=1").get_data(as_text=True)
    assert "view-tabs" not in page
    assert client.get("/queries/describe-resource/view.svg?run=1&view=chart").status_code == 404


@pytest.fixture(scope="module")
def capped_client(built):
    """An app that shows three rows of an answer, as `kg serve --html-rows 3`."""
    from kg.server import create_app
    from kg.server.config import ServerConfig

    app = create_app(ServerConfig(store=str(built.store_path), built=built.dist, workers=2, html_rows=3))
    app.config["TESTING"] = True
    yield app.test_client()
    app.extensions["kg"].close()


def test_a_picture_of_a_capped_answer_says_so(capped_client) -> None:
    page = capped_client.get("/queries/production-chains?run=1&view=network").get_data(as_text=True)
    assert "Drawn from the first 3 rows of a truncated answer." in page
    assert page.split('id="view-edges"')[1].split("</table>")[0].count("<tr>") == 1 + 3
    svg = capped_client.get("/queries/production-chains/view.svg?run=1&view=network")
    caption = " ".join(t.text or "" for t in ET.fromstring(svg.data).iter(f"{SVG}text"))
    assert "truncated answer" in caption


def test_the_chart_of_an_answer_comes_at_memo_size(client) -> None:
    page = client.get("/queries/mexico-seizures?run=1&view=chart").get_data(as_text=True)
    link = "/queries/mexico-seizures/view.png?run=1&amp;view=chart&amp;preset=memo"
    assert f'href="{link}" download id="picture-memo"' in page
    png = client.get(link.replace("&amp;", "&")).data
    assert int.from_bytes(png[16:20], "big") == round(6.5 * 150)  # 6.5 inches at 150 dpi
    assert client.get("/queries/mexico-seizures/view.png?run=1&view=chart&preset=poster").status_code == 404


@pytest.mark.parametrize(
    ("value", "datatype", "lang", "kind", "begin", "end"),
    [
        ("2017", XSD + "gYear", None, "calendar year", "2017-01-01", "2017-12-31"),
        ("FY2018", None, "en", "fiscal year", "2017-10-01", "2018-09-30"),
        ("2018-07", XSD + "gYearMonth", None, "period", "2018-07-01", "2018-07-31"),
        ("2018-08-09", XSD + "date", None, "period", "2018-08-09", "2018-08-09"),
        ("2017", XSD + "string", None, "calendar year", "2017-01-01", "2017-12-31"),
    ],
)
def test_periods_are_read_from_their_datatype_or_their_words(value, datatype, lang, kind, begin, end) -> None:
    period = period_of(Term("literal", value, datatype, lang), {})
    assert period is not None
    assert (period.kind, period.begin.isoformat(), period.end.isoformat()) == (kind, begin, end)


@pytest.mark.parametrize(
    ("value", "datatype"), [("2017", XSD + "integer"), ("2015 (calendar or fiscal year not stated)", None)]
)
def test_a_number_or_a_vague_year_is_no_period(value, datatype) -> None:
    assert period_of(Term("literal", value, datatype), {}) is None


def test_running_again_keeps_the_view(client) -> None:
    page = client.get("/queries/mexico-seizures?run=1&view=chart").get_data(as_text=True)
    form = page.split('<form method="get" class="parameters">')[1].split("</form>")[0]
    assert '<input type="hidden" name="view" value="chart">' in form


def test_a_chart_that_cannot_be_drawn_says_why_and_shows_the_table(client) -> None:
    # Every value of Mexico by calendar year: hectares, tonnes, kilograms, counts.
    text = (
        "PREFIX kg: <https://w3id.org/opioid-kg/ontology#> PREFIX qb: <http://purl.org/linked-data/cube#>\n"
        "SELECT ?o ?period ?value WHERE { ?o a qb:Observation ; qb:measureType ?m ; ?m ?value ; "
        "kg:refPeriod ?period ; kg:refArea <https://w3id.org/opioid-kg/id/country/MX> . "
        "?period a kg:CalendarYear . }"
    )
    page = client.get("/query", query_string={"query": text, "view": "chart"}).get_data(as_text=True)
    assert "No chart of this answer: at most two units on one chart" in page
    assert 'table class="results readable"' in page and "view-picture" not in page


def test_a_network_past_what_a_picture_can_show_is_refused_with_the_count() -> None:
    rows = [
        {
            "a": Term("uri", f"https://w3id.org/opioid-kg/id/place/p{i % 10}"),
            "b": Term("uri", f"https://w3id.org/opioid-kg/id/place/q{i % 20}"),
            "n": Term("literal", str(i), XSD + "integer"),
        }
        for i in range(200)
    ]
    views = views_of(["a", "b", "n"], rows, {})
    assert views.reasons["network"] == "200 arrows are more than a picture can show (150); narrow the query"
    wide = [
        {**row, "b": Term("uri", f"https://w3id.org/opioid-kg/id/place/q{i}")} for i, row in enumerate(rows)
    ]
    assert views_of(["a", "b", "n"], wide, {}).reasons["network"].startswith("210 entities are more than")


def test_more_series_than_colours_are_no_chart(store) -> None:
    variables, rows, labels = answer(store, "mexico-seizures")
    plan = views_of(variables, rows, labels).chart
    assert plan is not None
    series, _ = chart_series(store, plan, rows, labels, observations_in(store_select(store), rows))
    assert problem(series) == ""
    assert problem(series * 3) == "9 series are more than one chart can tell apart (8); narrow the query"


def test_the_network_of_an_answer_comes_at_memo_size(client) -> None:
    page = client.get("/queries/production-chains?run=1&view=network").get_data(as_text=True)
    link = "/queries/production-chains/view.png?run=1&amp;view=network&amp;preset=memo"
    assert f'href="{link}" download id="picture-memo"' in page
    png = client.get(link.replace("&amp;", "&")).data
    assert int.from_bytes(png[16:20], "big") == round(6.5 * 150)


def test_drawing_a_picture_is_charged_to_its_client(built) -> None:
    """A chart is drawn in the web process, not in a query worker: a client asking for pictures of ever
    new queries (a few seconds of drawing each, at 500 points) slowed every other page for free. The
    drawing's CPU time is charged to the client as a query's worker-seconds are, and a client past its
    budget gets 429 for a picture as for a query."""
    from kg.server import create_app
    from kg.server.config import ServerConfig

    values = " ".join(f'("{1900 + n}"^^<{XSD}gYear> {n * 7 % 101})' for n in range(120))
    text = f"SELECT ?period ?value WHERE {{ VALUES (?period ?value) {{ {values} }} }}"
    app = create_app(ServerConfig(store=str(built.store_path), built=built.dist, workers=2))
    try:
        client = app.test_client()
        usage = app.extensions["kg"].current.services.pool.usage
        assert client.get("/query", query_string={"query": text, "view": "chart"}).status_code == 200
        drawer = {"REMOTE_ADDR": "192.0.2.7"}  # a client that asked no query: its answer is the cache's
        picture = client.get(
            "/query/view.png", query_string={"query": text, "view": "chart"}, environ_base=drawer
        )
        assert picture.status_code == 200 and picture.data.startswith(b"\x89PNG")
        assert usage.of("192.0.2.7") > 0, "only the drawing can have been charged"
        usage.charge("192.0.2.7", 10_000)  # past any budget
        other = client.get(
            "/query/view.svg", query_string={"query": text + " LIMIT 5", "view": "chart"}, environ_base=drawer
        )
        assert other.status_code == 429 and "worker-seconds" in other.get_data(as_text=True)
    finally:
        app.extensions["kg"].close()


# Values a client's query can make that no reader writes in words: each is shown as written.
UNWORDED = [
    ('"1E100000"^^<' + XSD + "decimal>", "1E100000"),
    ('"9' + "9" * 4999 + '"^^<' + XSD + "integer>", "9" * 5000),
    ("(1e308 * 10)", "INF"),
    ('"-INF"^^<' + XSD + "float>", "-INF"),
    ('"NaN"^^<' + XSD + "double>", "NaN"),
    ('"sNaN"^^<' + XSD + "decimal>", "sNaN"),
]


@pytest.mark.parametrize(("value", "shown"), UNWORDED, ids=lambda v: v[:12])
def test_a_number_no_reader_writes_is_shown_as_written(client, value: str, shown: str) -> None:
    """The answer page turned `"1E999999999"^^xsd:decimal` into a Python integer to write it with
    separators: a billion digits, squared time, the web process's lock held for weeks, every client
    waiting. INF, NaN and an integer of 5,000 digits answered 500."""
    query = f"SELECT ?n ?y WHERE {{ BIND({value} AS ?n) BIND(2017 AS ?y) }}"
    for view in ("", "&view=chart"):
        page = client.get(f"/query?query={quote(query)}{view}", headers={"Accept": "text/html"})
        assert page.status_code == 200, (view, page.status_code)
        text = page.get_data(as_text=True)
        assert shown in text and not re.search(r"\d{1,3}(,\d{3}){30,}", text), view


@pytest.mark.parametrize("year", ['"0000"^^<' + XSD + "gYear>", '"0000"', '"FY0000"', '"FY0001"'])
def test_a_year_no_calendar_holds_is_no_period_of_a_chart(client, year: str) -> None:
    """Year 0 (and fiscal year 1, which starts in year 0) answered 500 on the page and its chart."""
    query = f"SELECT ?y ?n WHERE {{ BIND({year} AS ?y) BIND(1 AS ?n) }}"
    for path in ("/query", "/query/view.svg"):
        reply = client.get(f"{path}?query={quote(query)}&view=chart", headers={"Accept": "text/html"})
        assert reply.status_code in (200, 404), (path, reply.status_code)


def test_an_amount_of_money_past_the_worded_digits_is_shown_as_written(client) -> None:
    """`"1E36"^^xsd:decimal` in dollars passed the bound and broke `money`'s rounding (500)."""
    query = (
        f'SELECT ?value ?valueUnit WHERE {{ BIND("1E36"^^<{XSD}decimal> AS ?value)'
        " BIND(<http://qudt.org/vocab/currency/USD> AS ?valueUnit) }"
    )
    page = client.get(f"/query?query={quote(query)}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "1E36" in page.get_data(as_text=True)


XML_FORBIDS = ["\u0001", "\u0000", "\ufffe", "\u001f"]


@pytest.mark.parametrize("character", XML_FORBIDS)
def test_a_picture_of_values_xml_forbids_is_still_xml(client, character: str) -> None:
    """A label holding U+0001 (or U+0000, U+FFFE) was written into the SVG as it was: a picture no XML
    reader opens, where the SPARQL endpoint's XML formats refuse such an answer by name. A picture has
    no format to refuse for: each such character is drawn as U+FFFD."""
    escaped = character.encode("unicode_escape").decode().replace("\\x", "\\u00")
    query = (
        "SELECT ?origin ?destination ?originLabel ?rel WHERE { VALUES (?origin ?destination) "
        f'{{ (<http://e/a> <http://e/b>) }} BIND("x{escaped}y" AS ?originLabel) BIND("r{escaped}" AS ?rel) }}'
    )
    svg = client.get("/query/view.svg", query_string={"query": query, "view": "network"})
    assert svg.status_code == 200, svg.get_data(as_text=True)[:300]
    root = ET.fromstring(svg.data)  # raised "not well-formed (invalid token)"
    assert "x\ufffdy" in "".join(root.itertext())


@pytest.mark.parametrize("character", XML_FORBIDS)
def test_every_picture_is_xml_whatever_its_text_holds(character: str) -> None:
    """Every picture is written by `save`, which holds it to XML's characters: a chart's or a network's
    labels read from a store the project did not build may hold any character."""
    figure = canvas.Figure()
    figure.text(0.1, 0.5, f"a{character}b")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the font has no glyph for it, which matplotlib says
        svg = save(figure, "svg", f"title{character}", f"said{character}")
    root = ET.fromstring(svg)
    assert {"a\ufffdb", "title\ufffd", "said\ufffd"} <= {text.strip() for text in root.itertext()}
