"""Pictures of the networks: valid SVG and PNG with labels and legend; an interactive page that renders."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from kg.cli import main

SVG = "{http://www.w3.org/2000/svg}"


def draw(built, tmp_path: Path, fmt: str, *options: str) -> Path:
    output = tmp_path / f"picture.{fmt}"
    args = ["network", "draw", *options, "--format", fmt, "-o", str(output), "--store", str(built.store_path)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return output


def svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return "\n".join("".join(node.itertext()) for node in root.iter(f"{SVG}text"))


def test_the_fentanyl_picture_is_an_svg_with_labels_legend_title_and_caption(built, tmp_path: Path) -> None:
    text = svg_text(draw(built, tmp_path, "svg", "--substance", "fentanyl"))
    for label in ("China", "Mexico", "Canada", "United States"):
        assert label in text
    for entry in (
        "illicit fentanyl",
        "fentanyl analogues",
        "fentanyl precursor chemicals",
        "suspected",
        "reported",
    ):
        assert entry in text.splitlines()
    assert "Trafficking routes of fentanyl" in text
    assert "Congressional Research Service" in text
    assert "Transnational Crime Issues" in text
    assert "Colombia" not in text


def test_the_whole_network_picture_is_a_png(built, tmp_path: Path) -> None:
    data = draw(built, tmp_path, "png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.verify()
    assert image.size[0] > 800 and image.size[1] > 400


def test_the_production_chain_is_an_svg_with_its_substances(built, tmp_path: Path) -> None:
    text = svg_text(draw(built, tmp_path, "svg", "--network", "production"))
    for label in ("opium poppy", "opium gum", "morphine", "heroin", "ANPP", "NPP", "fentanyl", "carfentanil"):
        assert label in text.splitlines()
    assert "processed into" in text and "precursor of" in text and "analogue of" in text


def test_the_interactive_page_renders_its_nodes_in_a_browser(built, tmp_path: Path, browser) -> None:
    page_file = draw(built, tmp_path, "html", "--substance", "fentanyl")
    html = page_file.read_text(encoding="utf-8")
    assert "<script src" not in html and '<link rel="stylesheet" href' not in html
    requested: list[str] = []
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        page.on("request", lambda request: requested.append(request.url))
        page.goto(page_file.as_uri())
        page.wait_for_function("window.network && Object.keys(window.network.getPositions()).length > 0")
        placed = page.evaluate("Object.keys(window.network.getPositions()).sort()")
        on_screen = page.evaluate(
            """() => Object.entries(window.network.getPositions()).map(([id, p]) => {
                   const dom = window.network.canvasToDOM(p);
                   const box = document.querySelector('#network canvas').getBoundingClientRect();
                   return [id, dom.x >= 0 && dom.x <= box.width && dom.y >= 0 && dom.y <= box.height];
               })"""
        )
        dashed = page.evaluate(
            "window.network.body.data.edges.get({filter: e => e.dashes}).map(e => e.from + e.to)"
        )
        painted = page.wait_for_function(  # drawn on a later frame than the one that placed the nodes
            """() => { const c = document.querySelector('#network canvas');
                       const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                       let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
                       return n > 1000 && n; }"""
        ).json_value()
    finally:
        page.close()
    assert placed == ["CA", "CN", "MX", "US"]
    assert all(visible for _id, visible in on_screen)
    assert dashed == ["USMX"]
    assert painted > 1000
    assert requested == [page_file.as_uri()]


@contextmanager
def interactive_page(built, tmp_path: Path, browser, substance: str) -> Iterator[object]:
    """The interactive page of `substance`, drawn by the CLI, open in Chromium once its network is placed."""
    page_file = draw(built, tmp_path, "html", "--substance", substance)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        page.goto(page_file.as_uri())
        page.wait_for_function("window.network && Object.keys(window.network.getPositions()).length > 0")
        yield page
    finally:
        page.close()


def test_hovering_a_leg_shows_its_evidence_on_top_of_the_picture(built, tmp_path: Path, browser) -> None:
    with interactive_page(built, tmp_path, browser, "heroin") as page:
        leg = "mexico-us-heroin-leg-1/heroin"
        x, y = page.evaluate(
            """id => { const n = window.network, p = n.body.edges[id].edgeType.getPoint(0.5);
                       const d = n.canvasToDOM(p);
                       const box = document.querySelector('#network').getBoundingClientRect();
                       return [box.left + d.x, box.top + d.y]; }""",
            leg,
        )
        page.mouse.move(x - 20, y - 20)
        page.mouse.move(x, y, steps=5)
        page.wait_for_function(  # vis-network shows its tooltip a moment after the pointer stops
            """() => { const t = document.querySelector('div.vis-tooltip');
                       return t !== null && getComputedStyle(t).visibility === 'visible'; }"""
        )
        shown = page.evaluate(
            """() => { const t = document.querySelector('div.vis-tooltip');
                       if (!t) return null;
                       const r = t.getBoundingClientRect(), s = getComputedStyle(t);
                       t.style.pointerEvents = 'auto';  // so that elementFromPoint can find it
                       const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                       return {text: t.innerText, visibility: s.visibility, position: s.position,
                               onTop: t === top || t.contains(top),
                               inView: r.top >= 0 && r.bottom <= innerHeight && r.width > 0};
                     }"""
        )
    assert shown is not None
    assert shown["visibility"] == "visible" and shown["position"] == "absolute"
    assert shown["inView"] and shown["onTop"], shown
    assert "heroin" in shown["text"] and "\u201c" in shown["text"]


def test_every_legs_evidence_is_reachable_by_keyboard(built, tmp_path: Path, browser) -> None:
    with interactive_page(built, tmp_path, browser, "fentanyl") as page:
        legs = page.evaluate("window.network.body.data.edges.getIds()")
        links = page.evaluate("document.querySelectorAll('a[href]').length")  # each quote's, tabbed through
        assert links >= len(legs)
        reached: dict[str, str] = {}
        for _ in range(len(legs) + links + 10):
            page.keyboard.press("Tab")
            focused = page.evaluate(
                """() => { const e = document.activeElement, n = window.network;
                           return [e.dataset.leg || '', e.innerText, n.getSelectedEdges()]; }"""
            )
            if focused[0]:
                reached[focused[0]] = focused[1]
                assert focused[2] == [focused[0]]  # the picture shows which leg has the focus
    assert sorted(reached) == sorted(legs)
    assert (
        "primarily are sourced from China" in reached["china-us-fentanyl-direct-mail-leg-1/illicit-fentanyl"]
    )
    assert "direct mail" in reached["china-us-fentanyl-direct-mail-leg-1/illicit-fentanyl"]


def test_the_production_chain_links_substances_only(built, tmp_path: Path) -> None:
    """Qualifier words and transport modes have broader concepts too ('nearly' is a kind of
    'approximately'); they are no substances and have no place in the production chain."""
    substances = {
        str(row["label"].value)
        for row in built.store().query(
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> SELECT ?label WHERE { ?s skos:inScheme "
            "<https://w3id.org/opioid-kg/id/scheme/substances> ; skos:prefLabel ?label }"
        )
    }
    root = ET.parse(draw(built, tmp_path, "svg", "--network", "production")).getroot()
    description = root.find(f"{SVG}desc")
    assert description is not None and description.text
    links = description.text.split(". ", 1)[1].removesuffix(".").split("; ")
    relations = ("processed into", "precursor of", "analogue of", "member of", "kind of")
    assert len(links) > 10
    for link in links:
        (relation,) = [r for r in relations if f" {r} " in link]
        ends = link.split(f" {relation} ")
        assert all(end in substances for end in ends), link
    words = set(svg_text(draw(built, tmp_path, "svg", "--network", "production")).splitlines())
    assert not words & {"nearly", "approximately", "primarily", "more than", "smuggled over the land border"}


def test_the_interactive_page_without_javascript_says_where_its_evidence_is(
    built, tmp_path: Path, browser
) -> None:
    """Without JavaScript the page showed an empty box 470 px high where the picture would be."""
    page_file = draw(built, tmp_path, "html", "--substance", "heroin")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 800})
    try:
        page = context.new_page()
        page.goto(page_file.as_uri())
        assert page.locator("#network").bounding_box() is None  # not shown
        said = page.locator("p.noscript")
        assert said.is_visible() and "table below" in said.inner_text()
        assert page.locator("tr[data-leg]").count() > 0
    finally:
        context.close()


def _quotes_and_tooltips(page: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Each quote of the evidence table with the link around it, and each leg's tooltip text."""
    import json
    import re

    table = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    quotes = re.findall(r'<q>(?:<a href="([^"]+)">)?(.*?)(?:</a>)?</q>', table, flags=re.DOTALL)
    data = json.loads(page.split("const data = ", 1)[1].split(";\n", 1)[0].replace("<\\/", "</"))
    return [(href, text) for href, text in quotes], [edge["title"] for edge in data["edges"]]


def test_each_quote_of_the_offline_page_links_to_its_excerpt_and_no_tooltip_ends_in_iris(
    built, tmp_path: Path
) -> None:
    """The table's quotes had no link to their sentence in the report, and a leg's tooltip, which
    cannot be clicked, ended with its excerpts' IRIs."""
    page = draw(built, tmp_path, "html", "--substance", "heroin").read_text(encoding="utf-8")
    quotes, tooltips = _quotes_and_tooltips(page)
    assert quotes and all(href.startswith("https://w3id.org/opioid-kg/id/excerpt/") for href, _ in quotes)
    assert any("Mexico" in text for _, text in quotes)
    assert tooltips and not any("/id/excerpt/" in title for title in tooltips), tooltips
