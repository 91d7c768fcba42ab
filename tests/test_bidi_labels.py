"""A name holding a direction override (U+202E) is shown with the override written as its code point,
`<U+202E>`, on every page and in every picture, in a real Chromium.

Obeyed, an agency named with U+202E reversed the words after it to the end of their paragraph ("opium
poppy" read "yppop muipo"), so an excerpt's page and a fact's page misquoted what stood beside the name.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import desktop_page
from inputs import relabelled_store
from server_fixtures import RunningServer, serving

OVERRIDE = "\u202e"
ONDCP = "https://w3id.org/opioid-kg/id/organization/ondcp"
MEXICO = "https://w3id.org/opioid-kg/id/country/MX"

# Each text node holding the override and not isolated from the words around it (by <bdi> or
# `unicode-bidi: isolate` on an element between it and its paragraph): those words would turn around.
LEAKS = """
(override) => {
  const leaks = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.data.includes(override)) continue;
    let element = node.parentElement, isolated = false;
    while (element && element !== document.body) {
      const style = getComputedStyle(element);
      if (!style.display.startsWith("inline") || style.display === "inline-block") break;  // its paragraph
      isolated = ["isolate", "isolate-override", "plaintext"].includes(style.unicodeBidi);
      if (isolated) break;
      element = element.parentElement;
    }
    if (!isolated) leaks.push(node.parentElement.outerHTML.slice(0, 200));
  }
  return leaks;
}
"""


@pytest.fixture(scope="module")
def overridden(built, tmp_path_factory) -> Iterator[RunningServer]:
    work = tmp_path_factory.mktemp("bidi")
    labels = {ONDCP: f"{OVERRIDE}Office of National Drug Control Policy", MEXICO: f"{OVERRIDE}Mexico"}
    store = relabelled_store(built.store_path, work / "store", labels)
    (work / "dist").symlink_to(built.dist)  # the build output beside the store, as a build leaves it
    yield from serving(store, work)


@pytest.mark.parametrize(
    "path",
    [
        "/source/crs-2018-heroin-fentanyl-mexico",
        "/id/observation/mx-poppy-cultivation-2017",
        "/id/country/US",
        "/queries/mexico-seizures?run=1",
        "/search?q=Mexico",
        "/network",
    ],
)
def test_a_name_with_a_direction_override_turns_nothing_around(
    browser, overridden: RunningServer, path: str
) -> None:
    for page in desktop_page(browser, overridden.base):
        page.goto(overridden.base + path)
        assert "<U+202E>Mexico" in page.text_content("body")
        assert page.evaluate(LEAKS, OVERRIDE) == []


@pytest.mark.parametrize("picture", ["/network.svg", "/network/map.svg", "/charts/heroinSeizures.svg"])
def test_a_picture_writes_a_direction_override_as_its_code_point(
    overridden: RunningServer, picture: str
) -> None:
    drawn = overridden.get(picture).text
    assert "&lt;U+202E&gt;Mexico" in drawn and OVERRIDE not in drawn


def test_the_interactive_network_writes_a_direction_override_as_its_code_point(
    overridden: RunningServer,
) -> None:
    """Its legend and picture drew names as every picture does; its table of legs and its tooltips
    wrote them as stored."""
    page = overridden.get("/network.html").text
    assert "&lt;U+202E&gt;Mexico" in page and OVERRIDE not in page


def test_a_search_suggestion_writes_a_direction_override_as_its_code_point(
    browser, overridden: RunningServer
) -> None:
    """The suggestions under the search field are written in the browser from /api/search, which gives
    names as the graph holds them."""
    for page in desktop_page(browser, overridden.base):
        page.goto(overridden.base + "/")
        page.fill("#site-search-q", "Mexico")
        page.wait_for_selector("ul.suggestions li")
        assert "<U+202E>Mexico" in page.inner_text("ul.suggestions")
        assert page.evaluate(LEAKS, OVERRIDE) == []
