"""The flows on a world map, read back from the SVG: fills by role, one arrow per drawable leg, memo sizes,
words for the places it cannot draw; drawn without the network; on the network page of a real server."""

from __future__ import annotations

import csv
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from browser import CHROMIUM
from click.testing import CliRunner
from server_fixtures import RunningServer

from kg.cli import main
from kg.network import geo
from kg.network.views import flow_view
from kg.network.worldmap import NO_ROLE, ROLE_COLOURS, map_in_words, plan

SVG = "{http://www.w3.org/2000/svg}"
BOUNDARY_CODES = Path(__file__).resolve().parent.parent / "src/kg/network/boundaries/iso3166-numeric.tsv"
MEXICO, CHINA, UNITED_STATES, CANADA, JAPAN = "484", "156", "840", "124", "392"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def map_file(built, tmp_path: Path, *options: str, fmt: str = "svg") -> Path:
    output = tmp_path / f"map.{fmt}"
    command = [
        "network",
        "map",
        *options,
        "--format",
        fmt,
        "-o",
        str(output),
        "--store",
        str(built.store_path),
    ]
    result = CliRunner().invoke(main, command, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return output


def fill_of(root: ET.Element, numeric: str) -> str:
    """The fill colour of the country whose boundary id is `numeric` (a country is one path)."""
    (group,) = [g for g in root.iter(f"{SVG}g") if g.get("id") == f"country-{numeric}"]
    (path,) = group.iter(f"{SVG}path")
    (colour,) = re.findall(r"fill:\s*(#[0-9a-fA-F]{6})", path.get("style", ""))
    return colour.upper()


def arrows(root: ET.Element) -> dict[str, str]:
    """Each arrow's group id and the style of its line."""
    return {
        g.get("id", ""): " ".join(p.get("style", "") for p in g.iter(f"{SVG}path"))
        for g in root.iter(f"{SVG}g")
        if g.get("id", "").startswith("leg-")
    }


def drawable_legs(network) -> list[tuple[str, str, str]]:
    """Legs between two places whose ISO code is in the boundary set, counted from the store's network."""
    with BOUNDARY_CODES.open(encoding="utf-8") as table:
        codes = {row["alpha2"] for row in csv.DictReader(table, delimiter="\t")}
    iso = dict(network.nodes(data="iso", default=""))
    return [(u, v, k) for u, v, k in network.edges(keys=True) if iso[u] in codes and iso[v] in codes]


def test_countries_are_filled_by_the_role_the_flows_give_them(built, tmp_path: Path) -> None:
    root = ET.parse(map_file(built, tmp_path, "--substance", "fentanyl")).getroot()
    assert fill_of(root, CHINA) == ROLE_COLOURS["sources"]
    assert fill_of(root, MEXICO) == ROLE_COLOURS["transit"]
    assert fill_of(root, CANADA) == ROLE_COLOURS["transit"]
    assert fill_of(root, UNITED_STATES) == ROLE_COLOURS["destination"]
    assert fill_of(root, JAPAN) == NO_ROLE  # inside the map, no part in the flows
    heroin = ET.parse(map_file(built, tmp_path, "--substance", "heroin")).getroot()
    assert fill_of(heroin, MEXICO) == ROLE_COLOURS["sources"]  # for heroin Mexico is where it comes from


@pytest.mark.parametrize("substance", [None, "fentanyl", "heroin"])
def test_one_arrow_per_drawable_leg_and_suspected_legs_dashed(built, tmp_path: Path, substance) -> None:
    network = flow_view(built.store(), substance).network
    options = ("--substance", substance) if substance else ()
    drawn = arrows(ET.parse(map_file(built, tmp_path, *options)).getroot())
    legs = drawable_legs(network)
    assert len(drawn) == len(legs) > 0
    for u, v, key in legs:
        style = drawn[f"leg-{key.replace('/', '.')}"]
        suspected = network.edges[u, v, key]["status"] == "suspected"
        assert ("stroke-dasharray" in style) == suspected, (key, style)


def test_the_memo_map_is_six_and_a_half_inches_with_no_text_under_9_points(built, tmp_path: Path) -> None:
    root = ET.parse(map_file(built, tmp_path, "--preset", "memo")).getroot()
    assert root.get("width") == "468pt"  # 6.5 in at 72 pt
    sizes = [float(m) for m in re.findall(r"font-size:\s*([\d.]+)px", ET.tostring(root, encoding="unicode"))]
    assert len(sizes) > 10 and min(sizes) >= 9.0
    text = " ".join(t.strip() for t in root.itertext() if t.strip())
    assert "Source: Congressional Research Service" in text and "2018-08-09" in text


def test_the_words_name_the_places_and_those_that_could_not_be_drawn(built, tmp_path: Path) -> None:
    words = map_in_words(flow_view(built.store(), None))
    for place in ("China", "Mexico", "Canada", "United States", "Colombia", "Guatemala"):
        assert place in words
    assert "Not drawn, as they are not countries: Southeast Asia, Southwest Asia." in words
    root = ET.parse(map_file(built, tmp_path, "--substance", "heroin")).getroot()
    caption = " ".join(t.strip() for t in root.itertext() if t.strip())
    assert "Southeast Asia" in caption and "Southwest Asia" in caption and "Not drawn" in caption
    assert "historical" in caption  # Colombia's and Guatemala's heroin legs


def test_the_legend_and_caption_name_only_what_is_drawn(built, tmp_path: Path) -> None:
    root = ET.parse(map_file(built, tmp_path, "--substance", "fentanyl")).getroot()
    text = [t.strip() for t in root.itertext() if t.strip()]
    assert "suspected" in text  # the legend's entry for the dashed precursor leg, United States to Mexico
    assert not any("historical" in line for line in text)  # no fentanyl leg is historical
    assert "heroin" not in " ".join(text)


def test_the_map_is_drawn_with_the_network_unavailable(built, tmp_path: Path) -> None:
    """Opening a connection or looking up a name would end the program; the map is written all the same."""
    guard = (
        "import sys\n"
        "def refuse(event, args):\n"
        "    if event.startswith(('socket.', 'urllib.')):\n"
        "        raise SystemExit(f'network used: {event}')\n"
        "sys.addaudithook(refuse)\n"
        "from kg.cli import main\n"
        "main()\n"
    )
    for fmt in ("svg", "png"):
        output = tmp_path / f"offline.{fmt}"
        args = ["network", "map", "--preset", "memo", "--format", fmt, "-o", str(output)]
        done = subprocess.run(
            [sys.executable, "-c", guard, *args, "--store", str(built.store_path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert output.stat().st_size > 10_000
    assert (tmp_path / "offline.png").read_bytes().startswith(PNG_MAGIC)


def test_the_map_is_served_for_embedding_and_on_the_network_page(server: RunningServer) -> None:
    svg = server.get("/network/map.svg", substance="fentanyl", preset="memo")
    assert svg.status == 200 and svg.content_type == "image/svg+xml"
    assert ET.fromstring(svg.body).get("width") == "468pt"
    png = server.get("/network/map.png")
    assert png.status == 200 and png.content_type == "image/png" and png.body.startswith(PNG_MAGIC)
    assert server.get("/network/map.svg", preset="poster").status == 404
    assert server.get("/network/map.svg", substance="no-such-drug").status == 404
    page = server.get("/network", substance="heroin").text
    assert 'src="/network/map.svg?substance=heroin"' in page
    (alt,) = re.findall(r'<img src="/network/map.svg[^"]*" alt="([^"]*)"', page)
    assert "Colombia" in alt and "Mexico" in alt and "Southeast Asia" in alt


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")
def test_the_map_shows_on_the_network_page_in_a_browser(server: RunningServer, browser) -> None:
    for width in (1280, 390):
        page = browser.new_page(viewport={"width": width, "height": 900})
        try:
            page.goto(server.base + "/network?substance=fentanyl")
            image = page.locator("#map img")
            image.scroll_into_view_if_needed()
            page.wait_for_function("document.querySelector('#map img').complete")
            assert page.evaluate("document.querySelector('#map img').naturalWidth") > 0
            box = image.bounding_box()
            assert box is not None and 0 < box["width"] <= width
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        finally:
            page.close()


def test_a_country_missing_from_the_boundary_set_is_named_apart_from_regions() -> None:
    network = nx.MultiDiGraph()
    network.add_node("HK", label="Hong Kong", type="Country", iso="HK")  # too small for 1:110m
    network.add_node("MX", label="Mexico", type="Country", iso="MX")
    network.add_node("asia", label="Asia", type="Region", iso="")
    network.add_edge("HK", "MX", key="a/heroin", substance="heroin", origin="HK", destination="MX")
    network.add_edge("asia", "MX", key="b/heroin", substance="heroin", origin="asia", destination="MX")
    shown = plan(network)
    assert shown.undrawn == {
        "they are not in the 1:110m boundary set": ["Hong Kong"],
        "they are not countries": ["Asia"],
    }
    assert shown.legs == [] and shown.roles == {"MX": "destination"}


def test_the_boundaries_decode_to_the_right_place_and_equal_earth_keeps_areas() -> None:
    mexico = geo.countries()["MX"].main_ring
    west, south = mexico.min(axis=0)
    east, north = mexico.max(axis=0)
    assert -118 < west < -116 and -87.5 < east < -86 and 14 < south < 15.5 and 32 < north < 33.5
    assert geo.countries()["US"].numeric == "840" and geo.countries()["CN"].numeric == "156"

    def projected_area(lon: float, lat: float) -> float:
        cell = np.array([[lon, lat], [lon + 1, lat], [lon + 1, lat + 1], [lon, lat + 1]], dtype=float)
        x, y = geo.project(cell).T
        return abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))) / 2

    def sphere_area(lat: float) -> float:
        return math.radians(1) * (math.sin(math.radians(lat + 1)) - math.sin(math.radians(lat)))

    for lat in (0.0, 30.0, 60.0):  # one-degree cells: their areas keep the sphere's proportions
        assert projected_area(-100, lat) / projected_area(-100, 0) == pytest.approx(
            sphere_area(lat) / sphere_area(0), rel=1e-3
        )
    assert geo.project(np.array([[180.0, 0.0]]))[0, 0] == pytest.approx(
        2.7066, abs=1e-3
    )  # the equator's half


def test_the_map_is_centred_so_that_china_to_the_americas_crosses_the_pacific() -> None:
    rings = [geo.countries()[code].main_ring for code in ("CN", "US", "MX", "CA")]
    centre = geo.central_meridian(rings)
    assert 150 < centre % 360 < 230  # over the Pacific
    china, united_states = (
        geo.project(geo.unwrap(geo.countries()[c].main_ring, centre)) for c in ("CN", "US")
    )
    assert china[:, 0].max() < united_states[:, 0].min()  # China west of the United States, nothing between


def numbers_in(d: str) -> list[tuple[float, float]]:
    values = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return list(zip(values[::2], values[1::2], strict=False))


@pytest.mark.parametrize("substance", ["fentanyl", "heroin"])
def test_countries_are_clipped_to_the_map_in_the_svg_itself(built, tmp_path: Path, substance: str) -> None:
    """An SVG viewer applies one clip path per element: it must hold the map's box, not only the world's
    edge, or land runs out under the legend."""
    root = ET.parse(map_file(built, tmp_path, "--substance", substance)).getroot()
    clips = {c.get("id"): c for c in root.iter(f"{SVG}clipPath")}
    (legend,) = [g for g in root.iter(f"{SVG}g") if g.get("id") == "legend_1"]
    legend_top = min(y for p in legend.iter(f"{SVG}path") for _x, y in numbers_in(p.get("d", "")))
    width = float(root.get("width", "0").removesuffix("pt"))
    used = {
        re.fullmatch(r"url\(#(.+)\)", path.get("clip-path", "")).group(1)  # every country path is clipped
        for g in root.iter(f"{SVG}g")
        if g.get("id", "").startswith("country-")
        for path in g.iter(f"{SVG}path")
    }
    for clip in used:
        points = [xy for p in clips[clip].iter(f"{SVG}path") for xy in numbers_in(p.get("d", ""))]
        assert all(0 <= x <= width and y < legend_top for x, y in points), clip


def test_the_map_file_carries_its_title_and_its_words(built, tmp_path: Path) -> None:
    view = flow_view(built.store(), "fentanyl")
    root = ET.parse(map_file(built, tmp_path, "--substance", "fentanyl", "--preset", "memo")).getroot()
    title, description = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == view.title
    assert description is not None and description.text == map_in_words(view)
    assert "China" in description.text and "Arrows:" in description.text
    png = map_file(built, tmp_path, "--substance", "fentanyl", fmt="png").read_bytes()
    assert view.title.encode() in png and b"Description" in png
