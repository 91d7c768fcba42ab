"""The views of an answer in a real browser on a real `kg serve`: a query typed and run, switched to
its chart and to its network; each picture read back as drawn; axe-core on every view."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from browser import CHROMIUM, answered, desktop_page, serious_violations

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")
SVG = "{http://www.w3.org/2000/svg}"
# Mexico's seizures by year: numbers, years and two entities (the country, the observation) a row.
TYPED = (
    "PREFIX kg: <https://w3id.org/opioid-kg/ontology#>\n"
    "PREFIX qb: <http://purl.org/linked-data/cube#>\n"
    "SELECT ?area ?observation ?period ?value WHERE {\n"
    "?observation qb:measureType kg:heroinSeizures ; kg:heroinSeizures ?value ;\n"
    "kg:refArea ?area ; kg:refPeriod ?period .\n"
)


@pytest.fixture
def page(server, browser) -> Iterator[object]:
    yield from desktop_page(browser, server.base)


def drawn(page) -> ET.Element:
    """The picture the page shows, once the browser has loaded it, fetched again by the page itself."""
    page.wait_for_function(
        "() => { const i = document.querySelector('#view-picture'); "
        "return i && i.complete && i.naturalWidth > 0; }"
    )
    text = page.evaluate(
        "async () => await (await fetch(document.querySelector('#view-picture').src)).text()"
    )
    return ET.fromstring(text)


def groups(root: ET.Element, gid: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("id") == gid]


def test_a_typed_query_switched_to_its_chart_and_its_network(server, page) -> None:
    page.goto(server.base + "/query")
    page.locator(".CodeMirror textarea").focus()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type(TYPED)
    page.keyboard.type("}")
    page.click("#run")
    answered(page)
    rows = page.locator("table.readable tbody tr:not(.evidence-row)").count()
    assert rows == 5  # heroin seized in Mexico (2015 to 2017) and at the southwest border (FY2017, FY2018)

    page.click("#view-chart")
    assert "view=chart" in page.url
    chart = drawn(page)
    assert len(groups(chart, "value-marker")) + len(groups(chart, "bound-marker")) == rows
    assert len(groups(chart, "bound-marker")) == 1  # FY2018 through July: a bound, joined to nothing
    assert "318 kg" in page.inner_text("figure.answer-picture figcaption")

    page.click("#view-network")
    assert "view=network" in page.url
    network = drawn(page)
    # Every text of the picture in order, a long name wrapped over lines read as one.
    drawn_text = " ".join(" ".join(" ".join(t.itertext()) for t in network.iter(f"{SVG}text")).split())
    table = page.locator("#view-edges tbody tr")
    assert table.count() == rows  # each place to each of its observations
    entities = {table.nth(i).locator("td").nth(c).inner_text() for i in range(rows) for c in (0, 1)}
    assert len(entities) == rows + 2 and "Mexico" in entities
    assert all(" ".join(entity.split()) in drawn_text for entity in entities)

    for link in ("#picture-svg", "#picture-png"):
        assert page.get_attribute(link, "download") is not None
    page.click("#view-table")
    answered(page)


def test_a_view_that_does_not_apply_is_disabled_with_its_reason(server, page) -> None:
    page.goto(server.base + "/queries/production-chains")
    page.click("#run")
    answered(page)
    disabled = page.locator("#view-chart")
    assert disabled.get_attribute("aria-disabled") == "true" and "no numeric column" in disabled.inner_text()
    page.click("#view-network")
    page.wait_for_selector("#view-edges")
    assert page.locator("#view-edges tbody tr").count() == 7


VIEW_PAGES = [
    "/queries/mexico-seizures?run=1&view=chart",
    "/queries/mexico-seizures?run=1&view=network",
    "/queries/production-chains?run=1&view=chart",  # refused: the table, with the reason
    "/queries/programme-funding?run=1&view=chart",
]


@pytest.mark.parametrize("path", VIEW_PAGES)
def test_no_serious_accessibility_violation_on_a_view(server, browser, path: str) -> None:
    serious = serious_violations(browser, server.base + path)
    assert serious == [], json.dumps(serious, ensure_ascii=False, indent=1)


def test_the_views_run_under_the_content_security_policy(server, page) -> None:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(server.base + "/queries/mexico-seizures?run=1&view=chart")
    drawn(page)
    assert refused == []
