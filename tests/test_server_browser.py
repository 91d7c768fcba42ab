"""A person in a real browser: home page, a catalogue question, its answer, an IRI's page, the source view.

Chromium comes from the system (Debian's `chromium` package, installed by .ci/run); Playwright
drives it and never downloads a browser of its own.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator

import pytest
from browser import CHROMIUM

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")


@pytest.fixture(scope="module")
def page(server, browser) -> Iterator[object]:
    context = browser.new_context()
    # Everything the pages need comes from the server itself: any other request fails the test.
    outside: list[str] = []
    context.on("request", lambda r: None if r.url.startswith(server.base) else outside.append(r.url))
    yield context.new_page()
    context.close()
    assert outside == []


def test_a_question_from_home_page_to_highlighted_source(server, page) -> None:
    page.goto(server.base + "/")
    assert "knowledge graph of the transnational opioid supply" in page.inner_text("h1")
    page.click("text=Ask a question")
    page.wait_for_url("**/query")
    page.select_option("#catalogue", "fentanyl-routes")
    assert "kg:TraffickingFlow" in page.input_value("#editor")
    assert "VALUES (?substance ?destination)" in page.input_value("#editor")
    page.click("#run")
    page.wait_for_selector("table.results")
    table = page.inner_text("table.results")
    assert "China" in table and "Mexico" in table
    assert "row(s)" in page.inner_text("#answer")
    page.click("table.results a.iri[href='/id/flow/china-mexico-us-fentanyl']")
    page.wait_for_url("**/id/flow/china-mexico-us-fentanyl")
    assert "https://w3id.org/opioid-kg/id/flow/china-mexico-us-fentanyl" in page.inner_text(".iri-line")
    assert page.locator("ul.excerpts blockquote").count() >= 1
    page.click("ul.excerpts >> text=in context")
    page.wait_for_url(lambda url: "/source/crs-2018-heroin-fentanyl-mexico#" in url)
    slug = page.evaluate("location.hash").removeprefix("#excerpt-")
    assert slug
    first = page.locator("mark.excerpt:target")
    assert first.count() == 1
    assert first.is_visible()
    pieces = page.locator(f"mark.excerpt.active[data-excerpts~='{slug}']")
    assert pieces.count() >= 1
    background = first.evaluate("node => getComputedStyle(node).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    quote = page.locator(f"#note-{slug} blockquote").inner_text()
    highlighted = " ".join(pieces.all_inner_texts())
    assert quote.split()[:5] == highlighted.split()[:5]


def test_a_bad_query_shows_its_error_in_place(server, page) -> None:
    page.goto(server.base + "/query")
    page.locator(".CodeMirror textarea").focus()  # the editor, as a person types into it
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text("SELECT ?x WHERE {\n  ?x ?y\n}")
    page.click("#run")
    page.wait_for_selector(".error")
    message = page.inner_text(".error")
    assert "400" in message and "line 2" in message  # where the unfinished triple pattern starts
    assert page.input_value("#editor").startswith("SELECT ?x WHERE")


def test_every_page_works_under_the_content_security_policy(server, page) -> None:
    """The home, question, search, download, shape, chart, ontology and source pages, an IRI's page,
    the editor and the interactive network picture inside its frame, with not one script or style
    refused by the policy."""
    refused: list[str] = []

    def note(message: object) -> None:
        text = message.text  # type: ignore[attr-defined]  # a Playwright ConsoleMessage, typed as object here
        if "Content Security Policy" in text:
            refused.append(text)

    page.on("console", note)
    for path in (
        "/",
        "/queries",
        "/queries/fentanyl-routes",
        "/search?q=fentanyl",
        "/downloads",
        "/shapes",
        "/charts",
        "/ontology",
        "/source",
        "/id/substance/fentanyl",
    ):
        page.goto(server.base + path)
        page.wait_for_load_state("networkidle")
    page.goto(server.base + "/query")
    page.select_option("#catalogue", "fentanyl-routes")  # site.js fills the editor
    assert "kg:TraffickingFlow" in page.input_value("#editor")
    page.goto(server.base + "/network")
    frame = page.frame_locator("iframe.network")
    frame.locator("#network canvas").wait_for()  # vis-network drew the picture inside the frame
    assert page.locator("iframe.network").bounding_box()["height"] > 500
    page.goto(server.base + "/charts")
    chart = page.locator("figure.chart img").first
    assert chart.evaluate("img => getComputedStyle(img).maxWidth") == "100%"
    page.remove_listener("console", note)
    assert refused == []


def test_the_query_page_without_javascript_runs_what_was_typed_and_loads_on_asking(server, browser) -> None:
    """Without JavaScript, Load was the form's first button, so Enter replaced the typed query with the
    menu's question, and every Run URL carried the menu's choice (`name=border-heroin-seizures`)."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    typed = "SELECT ?s WHERE { ?s a <https://w3id.org/opioid-kg/ontology#Country> } LIMIT 2"
    page.goto(server.base + "/query")
    page.fill("#editor", typed)
    page.click("#run")
    page.wait_for_load_state()
    asked = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert asked == {"query": [typed]}, page.url
    assert page.input_value("#editor") == typed and "2 row(s)" in page.inner_text("main")
    page.select_option("#catalogue", "fentanyl-routes")
    page.click("#load")
    page.wait_for_load_state()
    assert "fentanyl" in page.input_value("#editor") and page.input_value("#editor") != typed
    context.close()
