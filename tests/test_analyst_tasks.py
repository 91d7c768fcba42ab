"""Eight everyday questions of an analyst, asked in a real browser as a person would, on a real `kg serve`.

Each test types, clicks and reads what is on the screen: the right answer and
the sentence of the report that says it. Then three pages at a phone's width,
and axe-core (vendored under tests/vendor, injected into the page) on every
kind of page: no serious or critical violation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from browser import CHROMIUM, answered, desktop_page, serious_violations

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")


@pytest.fixture
def page(server, browser) -> Iterator[object]:
    yield from desktop_page(browser, server.base)


def search_box(page, text: str) -> None:
    page.fill("#site-search-q", text)
    page.press("#site-search-q", "Enter")
    page.wait_for_selector("main h1:has-text('Search')")


def run_question(page, server, title: str) -> None:
    page.goto(server.base + "/")
    page.click("nav >> text=Questions")
    page.click(f"text={title}")
    page.click("#run")
    answered(page)


def row_with(page, text: str):
    """The answer row holding `text` and the evidence row under it, as one locator's texts."""
    row = page.locator("table.readable tbody tr:not(.evidence-row)", has_text=text).first
    evidence = row.locator("xpath=following-sibling::tr[1][contains(@class, 'evidence-row')]")
    return row.inner_text(), evidence.inner_text()


def test_1_where_us_fentanyl_comes_from_and_by_which_routes(server, page) -> None:
    run_question(page, server, "Routes by which a substance reaches a destination")
    answer = page.inner_text("table.readable")
    for place in ("China", "Mexico", "Canada"):
        assert place in answer
    assert "https://" not in answer and "@en" not in answer
    _, evidence = row_with(page, "China")
    assert "primarily are sourced from China" in evidence


def test_2_how_mexican_poppy_cultivation_changed_and_who_says_so(server, page) -> None:
    run_question(page, server, "Year-to-year change of opium poppy cultivation")
    row, evidence = row_with(page, "44,100 ha")
    assert "32,000 ha" in row and "37.8%" in row and "38%" in row
    assert "ONDCP" in evidence
    assert "44,100 hectares of opium poppy were cultivated in Mexico in 2017" in evidence


def test_3_what_congress_gave_the_merida_initiative(server, page) -> None:
    page.goto(server.base + "/")
    page.fill("#site-search-q", "Merida")
    page.wait_for_selector("ul.suggestions li")
    assert "Mérida Initiative" in page.inner_text("ul.suggestions")
    search_box(page, "Merida")
    page.click("ol.hits >> text=Mérida Initiative funding, Mexico, FY2008 to FY2018")
    page.wait_for_url("**/id/observation/merida-initiative-funding-fy2008-fy2018")
    quote = page.inner_text("ul.excerpts")
    assert "Congress provided nearly $2.9 billion from FY2008 to FY2018" in quote
    assert "\\$" not in quote
    run_question(page, server, "Programmes funding U.S.-Mexico counter-opioid work")
    row, evidence = row_with(page, "Mérida Initiative")
    assert "nearly $2.9 billion" in row and "FY2008 to FY2018" in row
    assert "nearly $2.9 billion from FY2008 to FY2018" in evidence


def test_4_which_cartels_are_named(server, page) -> None:
    page.goto(server.base + "/")
    search_box(page, "cartel")
    nearby = page.inner_text(".nearby")
    assert "No thing in the graph is named “cartel”" in nearby
    page.click(".nearby >> text=crime groups in Mexico")
    page.wait_for_url("**/id/organization/crime-groups")
    assert "crime groups vie for control of heroin production" in page.inner_text("ul.excerpts")


def test_5_options_the_report_puts_before_congress(server, page) -> None:
    run_question(page, server, "The issues the report puts to Congress")
    assert "20 row(s), shown as 5 grouped row(s)" in page.inner_text("p.count")
    row, evidence = row_with(page, "how current bilateral efforts may be impacted")
    assert "concerns actor: Andrés Manuel López Obrador" in row
    assert "the policies of Mexico's President-elect" in evidence
    assert "how current bilateral efforts may be impacted by the policies" in evidence
    assert page.locator("tr.evidence-row button[data-citation]").count() >= 5
    citation = page.locator("tr.evidence-row button[data-citation]").first.get_attribute("data-citation")
    assert (
        "Transnational Crime Issues" in citation and "9 August 2018" in citation and server.base in citation
    )


def test_6_a_supply_chain_picture_for_a_memo(server, page) -> None:
    page.goto(server.base + "/")
    page.click("nav >> text=Network")
    page.wait_for_url("**/network")
    page.select_option("#substance", "fentanyl")
    page.click("main button:has-text('Show')")
    page.wait_for_url("**/network?substance=fentanyl")
    routes = page.inner_text("#routes")  # the picture's text alternative, with its evidence
    assert "through Mexico to the United States" in routes and "through Canada" in routes
    assert "primarily are sourced from China" in routes
    link = page.locator("main a:has-text('PNG')").first.get_attribute("href")
    reply = server.get(link)
    assert reply.status == 200 and reply.content_type.startswith("image/png")
    assert reply.body.startswith(b"\x89PNG")


def test_7_a_chart_of_border_heroin_seizures(server, page) -> None:
    page.goto(server.base + "/")
    page.click("nav >> text=Charts")
    page.wait_for_url("**/charts")
    images = page.locator("main figure img")
    assert images.count() >= 1
    sources = [images.nth(i).get_attribute("src") for i in range(images.count())]
    heroin = next(src for src in sources if src.startswith("/charts/heroinSeizures.svg"))
    reply = server.get(heroin)
    assert reply.status == 200 and b"<svg" in reply.body


def test_8_which_sentence_says_china_is_the_main_source(server, page) -> None:
    page.goto(server.base + "/")
    search_box(page, "sourced from China")
    first = page.locator("ol.hits li").first
    assert "primarily are sourced from China" in first.inner_text()
    first.locator("blockquote a").click()
    page.wait_for_url("**/id/excerpt/fentanyl-sources")
    assert "primarily are sourced from China" in page.inner_text("main blockquote.quote")
    page.click("#own-context")
    page.wait_for_url("**/source/crs-2018-heroin-fentanyl-mexico#excerpt-fentanyl-sources")
    marked = page.locator("mark.excerpt.active").all_inner_texts()
    assert "primarily are sourced from China" in " ".join(marked)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/search?q=heroin",
        "/queries/congress-questions?run=1",
        "/queries/programme-funding?run=1",
        "/id/country/MX",
        "/query",
    ],
)
def test_a_phone_width_page_does_not_scroll_sideways(server, browser, path: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(server.base + path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_on_a_phone_every_value_of_an_answer_is_on_screen_under_its_column_s_name(server, browser) -> None:
    """The answer table scrolled sideways in its box: on fentanyl-routes the transit column, which
    tells its three rows apart, was off the screen."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(server.base + "/queries/fentanyl-routes?run=1")
    cells = page.locator("table.readable tbody tr:not(.evidence-row) td")
    assert cells.count() > 10
    for index in range(cells.count()):
        cell = cells.nth(index)
        if not cell.is_visible():
            continue  # an empty cell
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, cell.inner_text()
    transits = page.locator('table.readable td[data-label="transit"]').all_inner_texts()
    assert {"Mexico", "Canada"} <= {t.strip() for t in transits}, transits
    named = page.evaluate(
        """getComputedStyle(document.querySelector('td[data-label="transit"]'), '::before').content"""
    )
    assert named == '"transit: "', named
    context.close()


PAGE_TYPES = [
    "/",
    "/search?q=fentanyl",
    "/search?q=cartel",
    "/queries",
    "/queries/poppy-cultivation-change?run=1",
    "/queries/describe-resource?run=1",  # an answer in RDF, scrolled by keyboard too
    "/queries/fentanyl-routes?run=1&view=network",
    "/query",
    "/id/country/MX",
    "/source",
    "/source/crs-2018-heroin-fentanyl-mexico",
    "/downloads",
    "/network",
    "/network?substance=fentanyl",
    "/network.html?substance=fentanyl",
    "/charts",
    "/ontology",
    "/graph/data",
    "/id/no-such-thing",
]


@pytest.mark.parametrize("path", PAGE_TYPES)
def test_no_serious_accessibility_violation(server, browser, path: str) -> None:
    serious = serious_violations(browser, server.base + path)
    assert serious == [], json.dumps(serious, ensure_ascii=False, indent=1)


def test_the_accessibility_check_reports_what_a_page_gets_wrong(browser) -> None:
    unlabelled = "data:text/html,<html><body><img src='x.png'><input type='text'></body></html>"
    found = {line.split(" ", 1)[0] for line in serious_violations(browser, unlabelled)}
    assert {"html-has-lang", "image-alt", "label"} <= found, found


def test_a_missing_prefix_is_explained_on_the_query_page(server) -> None:
    reply = server.get("/query", "text/html", query="SELECT ?s WHERE { ?s rdfs:label ?label } LIMIT 1")
    assert reply.status == 400
    assert (
        "unknown prefix rdfs: — add PREFIX rdfs: &lt;http://www.w3.org/2000/01/rdf-schema#&gt;" in reply.text
    )


def test_the_sparql_editor_completes_prefixes_runs_on_ctrl_enter_and_never_overwrites_silently(
    server, page
) -> None:
    page.goto(server.base + "/query")
    assert page.locator(".CodeMirror").count() == 1  # the vendored editor, from this server
    typing = page.locator(".CodeMirror textarea")
    typing.focus()
    page.keyboard.press("Control+a")
    page.keyboard.type("SELECT ?s WHERE { ?s a kg")
    page.wait_for_selector(".CodeMirror-hints li")
    assert "kg:" in page.locator(".CodeMirror-hints li").all_inner_texts()
    page.keyboard.press("Escape")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.select_option("#catalogue", "heroin-sources")
    assert asked == ["Replace the query you typed?"]
    assert page.input_value("#editor").startswith("SELECT ?s WHERE { ?s a kg")
    typing.focus()
    page.keyboard.press("Control+a")
    page.keyboard.type("SELECT (COUNT(*) AS ?n) WHERE { ?s a ?class }")
    page.keyboard.press("Control+Enter")
    answered(page)
    assert page.locator("#history option").count() >= 2  # the query just run is in the history


@pytest.mark.parametrize("path", ["/", "/queries", "/network", "/search?q=fentanyl"])
def test_a_page_asks_the_server_for_nothing_it_lacks(server, page, path: str) -> None:
    """The browser asked for /favicon.ico, which answered 404: the one error in the console on `/`."""
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(server.base + path)
    page.wait_for_load_state("networkidle")
    assert failed == []


def test_every_page_names_an_icon_the_server_has(server) -> None:
    """Browsers asked for /favicon.ico, which answered 404: the one error in the console on `/`."""
    import re

    home = server.get("/", "text/html").text
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', home)
    assert icon is not None
    reply = server.get(icon.group(1))
    assert reply.status == 200 and reply.content_type == "image/svg+xml" and b"<svg" in reply.body
    # a browser opening an answer that is no page looks at /favicon.ico
    assert server.get_unfollowed("/favicon.ico", "image/*").headers["location"].endswith(icon.group(1))
    assert server.get("/favicon.ico").body == reply.body
