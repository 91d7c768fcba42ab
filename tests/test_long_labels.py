"""A label of any length draws a picture of its usual size: every picture draws a label cut at
DRAWN_CHARACTERS, and every page shows one cut at SHOWN_CHARACTERS.

One name of 6,600 characters ran the network picture's legend off both edges, hid the legend's other
entries, and was printed whole above the interactive picture; pages showed it whole as link text.
"""

from __future__ import annotations

import dataclasses
import io
import re
import xml.etree.ElementTree as ET

import pytest
from inputs import relabelled_store
from PIL import Image

from kg.charts.chart import chart
from kg.charts.series import resolve_measures, time_series
from kg.network.draw import draw_chain
from kg.network.layout import DRAWN_CHARACTERS
from kg.network.model import flow_network, production_network
from kg.network.views import chain_view, flow_picture, flow_view, flow_view_of
from kg.network.worldmap import draw_map
from kg.server import ServerConfig, create_app
from kg.server.services import SHOWN_CHARACTERS

LONG = "Long name " * 660  # 6,600 characters, words a picture could wrap without end
TOO_LONG = re.compile(r"(?:Long name ?){9}")  # 90 characters of it: more than a picture draws
SVG = "{http://www.w3.org/2000/svg}"


def drawn_text(svg: bytes) -> str:
    """Every text the picture draws, its lines joined as a reader reads them."""
    root = ET.fromstring(svg)
    return " ".join(" ".join(node.itertext()) for node in root.iter(f"{SVG}text"))


def long_labelled(store):
    """The flow view of heroin, read from a network whose places, substances and modes are named at
    length, so that its title and caption name them too."""
    network, chain = flow_network(store).copy(), production_network(store).copy()
    for _node, data in [*network.nodes(data=True), *chain.nodes(data=True)]:
        data["label"] = LONG
    for _u, _v, data in network.edges(data=True):
        data.update(substance_label=LONG, mode_label=LONG, attributed_to=LONG)
    return flow_view_of(network, chain, "heroin")


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_the_flow_picture_draws_each_label_cut(store, fmt: str) -> None:
    picture = flow_picture(long_labelled(store), fmt)
    if fmt == "svg":
        text = drawn_text(picture)
        assert "Long name" in text and not TOO_LONG.search(text)
    else:  # as high as the picture of the usual names, give or take a line of the legend
        usual = flow_picture(flow_view(store, "heroin"), fmt)
        height, usual_height = (Image.open(io.BytesIO(png)).size[1] for png in (picture, usual))
        assert height < 1.2 * usual_height, (height, usual_height)


def test_the_map_draws_each_label_cut(store) -> None:
    text = drawn_text(draw_map(long_labelled(store)))
    assert "Long name" in text and not TOO_LONG.search(text)


def test_the_production_chain_draws_each_label_cut(store) -> None:
    chain, words = chain_view(store)
    chain = chain.copy()
    for _node, data in chain.nodes(data=True):
        data["label"] = LONG
    for _u, _v, data in chain.edges(data=True):
        data["relation_label"] = LONG
    text = drawn_text(draw_chain(chain, words))
    assert "Long name" in text and not TOO_LONG.search(text)


def test_the_interactive_picture_draws_each_label_cut_and_lists_the_evidence_whole(store) -> None:
    page = flow_picture(long_labelled(store), "html").decode("utf-8")
    legend = page[page.index('<ul class="legend"') : page.index("</ul>", page.index('<ul class="legend"'))]
    assert "Long name" in legend and not TOO_LONG.search(legend)
    data = page[page.index("const data") : page.index("\n", page.index("const data"))]
    assert "Long name" in data and not TOO_LONG.search(data)


def test_a_chart_draws_each_series_cut(store) -> None:
    measure = resolve_measures(store, ["heroinSeizures"])[0]
    series = [dataclasses.replace(one, area_label=LONG) for one in time_series(store, measure)]
    text = drawn_text(chart(series))
    assert "Long name" in text and not TOO_LONG.search(text)
    assert DRAWN_CHARACTERS <= 80


def test_a_page_shows_a_label_cut(built, tmp_path) -> None:
    """A thing named at length is shown by that name cut at SHOWN_CHARACTERS wherever a page names it."""
    mexico = "https://w3id.org/opioid-kg/id/country/MX"
    store = relabelled_store(built.store_path, tmp_path / "store", {mexico: LONG * 2})
    app = create_app(ServerConfig(store=str(store), built=built.dist))
    try:
        client = app.test_client()
        for path in ("/id/country/US", "/queries/mexico-seizures?run=1"):
            page = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
            assert "Long name" in page, path
            assert LONG[: SHOWN_CHARACTERS + 10] not in page, path
    finally:
        app.extensions["kg"].close()
