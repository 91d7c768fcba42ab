"""A person in a real browser: home page, a catalogue question, its answer, an IRI's page, the source view.

Chromium comes from the system (Debian's `chromium` package, installed by .ci/run); Playwright
drives it and never downloads a browser of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS
from server_fixtures import RunningServer, start_server

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")


@pytest.fixture(scope="module")
def server(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(built.store_path, tmp_path_factory.mktemp("serve"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def page(server) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context()
        # Everything the pages need comes from the server itself: any other request fails the test.
        outside: list[str] = []
        context.on("request", lambda r: None if r.url.startswith(server.base) else outside.append(r.url))
        yield context.new_page()
        context.close()
        browser.close()
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
