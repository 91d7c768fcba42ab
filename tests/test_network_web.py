"""The network and chart pages as `kg serve` serves them, with their embeddable SVG and PNG URLs."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from server_fixtures import RunningServer

from kg.network.views import flow_view
from kg.store.embedded import EmbeddedStore

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def svg_text(body: bytes) -> str:
    root = ElementTree.fromstring(body)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return " ".join(t for t in root.itertext() if t.strip())


def test_network_page_has_a_substance_filter(server: RunningServer) -> None:
    page = server.get("/network")
    assert page.status == 200 and page.content_type == "text/html"
    assert "<select" in page.text and "heroin" in page.text
    heroin = server.get("/network", substance="heroin")
    assert heroin.status == 200
    assert '<option value="heroin" selected>' in heroin.text
    assert "/network.html?substance=heroin" in heroin.text
    picture = svg_text(server.get("/network.svg", substance="heroin").body)
    assert "Colombia" in picture and "Guatemala" in picture


def test_network_pictures_are_embeddable(server: RunningServer) -> None:
    svg = server.get("/network.svg", substance="fentanyl")
    assert svg.status == 200 and svg.content_type == "image/svg+xml"
    text = svg_text(svg.body)
    for place in ("China", "Mexico", "Canada", "United States"):
        assert place in text
    png = server.get("/network.png", substance="fentanyl")
    assert png.status == 200 and png.content_type == "image/png" and png.body.startswith(PNG_MAGIC)


def test_interactive_network_loads_its_script_and_stylesheet_from_the_server(server: RunningServer) -> None:
    page = server.get("/network.html", substance="heroin")
    assert page.status == 200
    assert "/network/vis-network.min.js" in page.text
    assert '<link rel="stylesheet" href="/network/vis-network.css">' in page.text
    assert 'src="http' not in page.text and "cdn" not in page.text.lower()
    script = server.get("/network/vis-network.min.js")
    assert script.status == 200 and len(script.body) > 100_000
    style = server.get("/network/vis-network.css")
    assert style.status == 200 and style.content_type == "text/css" and b"div.vis-tooltip" in style.body


def test_charts_page_and_chart_pictures(server: RunningServer) -> None:
    page = server.get("/charts")
    assert page.status == 200 and "poppyCultivationArea" in page.text
    svg = server.get("/charts/poppyCultivationArea+poppyEradicationArea.svg", area="MX")
    assert svg.status == 200
    text = svg_text(svg.body)
    assert "hectare" in text.lower()
    assert "Office of National Drug Control Policy" in text or "ONDCP" in text
    png = server.get("/charts/potentialHeroinProduction.png", area="MX")
    assert png.status == 200 and png.body.startswith(PNG_MAGIC)


def test_a_chart_names_a_few_measures_each_once(server: RunningServer) -> None:
    """Each name of the path was looked up apart, each lookup reading every measure again: 20,000
    names took the web process 4.5 s, uncharged. More than a chart can show is refused at once; a
    measure named twice is drawn once."""
    many = server.get("/charts/" + "+".join(["poppyCultivationArea"] * 10_000) + ".svg")
    assert many.status == 400 and "at most 12 measures" in many.text, many.text[:300]
    once = server.get("/charts/poppyCultivationArea.svg", area="MX")
    twice = server.get("/charts/poppyCultivationArea+poppy-cultivation-area.svg", area="MX")
    assert twice.status == 200 and twice.body == once.body


def test_unknown_substance_or_measure_is_404(server: RunningServer) -> None:
    assert server.get("/network", substance="unobtainium").status == 404
    assert server.get("/charts/noSuchMeasure.svg").status == 404


def test_the_memo_picture_on_the_web_is_the_one_the_cli_draws(server: RunningServer, built, tmp_path) -> None:
    from click.testing import CliRunner

    from kg.cli import main

    output = tmp_path / "memo.svg"
    args = ["network", "draw", "--substance", "fentanyl", "--preset", "memo", "-o", str(output)]
    result = CliRunner().invoke(main, [*args, "--store", str(built.store_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    web = server.get("/network.svg", substance="fentanyl", preset="memo")
    assert web.status == 200 and web.body == output.read_bytes()
    assert server.get("/network.svg", preset="poster").status == 404


def test_the_network_page_shows_the_memo_picture_with_its_words_and_the_routes_table(
    server: RunningServer,
) -> None:
    import html
    import re

    page = server.get("/network", substance="fentanyl")
    image = re.search(r'<img[^>]*src="([^"]*network\.svg[^"]*)"[^>]*alt="([^"]*)"', page.text)
    assert image is not None, "no network picture with alt text on the page"
    source, alt = html.unescape(image.group(1)), html.unescape(image.group(2))
    assert "preset=memo" in source and "substance=fentanyl" in source
    described = ElementTree.fromstring(server.get(source).body).find("{http://www.w3.org/2000/svg}desc")
    assert described is not None and alt == described.text
    assert "China → United States (direct mail)" in alt and "Canada" in alt
    assert 'id="routes"' in page.text and "<table" in page.text.split('id="routes"')[1]


@pytest.mark.parametrize("substance", [None, "fentanyl", "heroin", "fentanyl-precursors"])
def test_every_route_the_picture_draws_is_in_words_with_its_evidence(
    server: RunningServer, store: EmbeddedStore, substance: str | None
) -> None:
    """The words beside the picture were the answer of the fentanyl routes question, whatever the
    picture showed: 13 routes drawn, 3 in words, heroin's and the suspected precursor route none."""
    import re

    drawn = {
        data["flow"].rsplit("/", 1)[1] for *_, data in flow_view(store, substance).network.edges(data=True)
    }
    page = server.get("/network", **({"substance": substance} if substance else {})).text
    words = page.split('id="routes"')[1].split("</section>")[0]
    listed = set(re.findall(r'href="/id/flow/([\w-]+)"', words))
    assert drawn and drawn == listed, (drawn, listed)
    assert words.count('class="evidence') >= len(drawn)


def test_the_interactive_picture_names_its_charset_once(server: RunningServer) -> None:
    reply = server.get("/network.html")
    assert reply.status == 200 and reply.headers["content-type"] == "text/html; charset=utf-8"


def test_every_measure_the_charts_menu_offers_draws_a_picture_that_loads(server: RunningServer) -> None:
    """The menu offered every measure the ontology declares: `shareOfGlobalPoppyCultivation` and
    `availability` gave a page whose picture answered 404, and a menu entry "availability ()"."""
    import html
    import re

    menu = server.get("/charts").text.split('id="measure"')[1].split("</select>")[0]
    offered = re.findall(r'<option value="([^"]+)"', menu)
    assert offered and "()" not in menu
    for measure in offered:
        page = server.get("/charts", measure=measure).text
        chosen = page.split('class="chart-picker"')[1].split("</form>", 1)[1].split("<h2>")[0]
        pictures = [html.unescape(src) for src in re.findall(r'<img src="([^"]+)"', chosen)]
        assert pictures, (measure, chosen)
        for picture in pictures:
            assert server.get(picture).status == 200, (measure, picture)


def test_a_measure_with_nothing_to_draw_in_a_place_is_said_in_words(server: RunningServer) -> None:
    page = server.get("/charts", measure="opiumGumSeizures", area="us-southwest-border").text
    chosen = page.split('class="chart-picker"')[1].split("</form>", 1)[1].split("<h2>")[0]
    assert "<img" not in chosen and 'class="no-chart"' in chosen, chosen
    assert "No chart of opium gum seizures in U.S. southwest border" in chosen.replace("\n", " "), chosen


def test_a_route_many_sources_state_says_its_words_show_one_flow_s_evidence(copied: EmbeddedStore) -> None:
    """A library restates routes: the picture draws each once with every flow's evidence, and the
    words list the route once, with the first flow's. The page says so, and where the rest is."""
    from kg.server import ServerConfig, create_app

    app = create_app(ServerConfig(store=str(copied.path), built=copied.path.parent.parent / "dist"))
    try:
        page = app.test_client().get("/network", headers={"Accept": "text/html"}).get_data(as_text=True)
    finally:
        app.extensions["kg"].close()
    words = page.split('id="routes"')[1].split("</section>")[0]
    assert "up to\n2 flows of the library's sources state one route alike" in words, words[:600]
    assert 'href="/network.html' in words


def test_the_routes_in_words_say_which_ran_once_as_the_picture_fades_them(server: RunningServer) -> None:
    """Colombia's and Guatemala's heroin ("until recently") read as reported routes like Mexico's."""
    import re

    words = server.get("/network", substance="heroin").text.split('id="routes"')[1].split("</section>")[0]
    rows = re.findall(r"<tr\b.*?</tr>", words, flags=re.DOTALL)
    colombia = [row for row in rows if 'href="/id/country/CO"' in row]
    mexico = [row for row in rows if 'href="/id/country/MX"' in row]

    def said(word: str, row: str) -> bool:
        return re.search(rf">\s*{word}\s*<", row) is not None

    assert colombia and all(said("historical", row) for row in colombia), colombia
    assert mexico and all(said("current", row) and not said("historical", row) for row in mexico)


def test_each_figure_a_chart_draws_links_to_the_sentence_that_gives_it(server: RunningServer) -> None:
    """The charts named agencies in their captions, but a journalist could not get from a plotted
    point to its sentence: no quote and no link into the report."""
    import html
    import re

    page = server.get("/charts", measure="poppyCultivationArea", area="MX").text
    chosen = page.split("<h2>Charts the report calls for</h2>")[0]
    figures = chosen.split('class="figures"')[1].split("</details>")[0]
    assert "opium poppy cultivation area, Mexico, 2017: 44,100 ha" in html.unescape(figures)
    assert "44,100 hectares of opium poppy were cultivated in Mexico in 2017" in html.unescape(figures)
    assert re.search(r'href="/source/[\w-]+#excerpt-cultivation-2017"', figures)
    assert "ONDCP, cited by the report" in figures


def test_each_quote_of_the_served_interactive_picture_links_to_its_excerpt_here(
    server: RunningServer,
) -> None:
    """The served page linked no quote: each now goes to its excerpt's page on this server."""
    from test_network_pictures import _quotes_and_tooltips

    quotes, tooltips = _quotes_and_tooltips(server.get("/network.html", substance="fentanyl").text)
    assert quotes and all(href.startswith("/id/excerpt/") for href, _ in quotes), quotes[:3]
    for href in {href for href, _ in quotes}:
        assert server.get(href).status == 200, href
    assert not any("/id/excerpt/" in title for title in tooltips)


def _figures_and_words(server: RunningServer, measure: str, area: str | None = None) -> tuple[list[str], str]:
    """The chosen chart's figure list, each figure's line, and its "In words" text."""
    import html
    import re

    page = server.get("/charts", measure=measure, **({"area": area} if area else {})).text
    chosen = page.split("<h2>Charts the report calls for</h2>")[0]
    words = re.search(r"<summary>In words</summary><p>(.*?)</p>", chosen, re.S)
    figures = chosen.split('class="figures"')[1].split("</details>")[0]
    assert words
    lines = [html.unescape(line) for line in re.findall(r"<li><p>(.*?)</p>", figures, re.S)]
    return lines, html.unescape(words.group(1))


@pytest.mark.parametrize(
    ("measure", "area", "said"),
    [
        ("heroinSeizures", "us-southwest-border", "FY2018: > 3,925 kg (Oct–Jul)"),
        ("shareOfSeizedHeroin", None, ": > 50%"),
        ("programFunding", None, ": < $2.9 billion"),
        ("programFunding", None, ": $59 million (approximately)"),
        ("drugLabsDestroyed", "MX", "2015: 185"),
    ],
)
def test_each_figure_is_listed_as_the_chart_says_it_in_words(
    server: RunningServer, measure: str, area: str | None, said: str
) -> None:
    """The figure list gave the number and unit alone: 'FY2018: 3,925 kilograms' for more than 3,925 kg
    through July, '50 percent' for a majority, '2,900,000,000 U.S. dollars' for nearly $2.9 billion,
    '185 number' for a count."""
    lines, words = _figures_and_words(server, measure, area)
    assert any(line.endswith(said) for line in lines), lines
    for line in lines:
        assert line.rsplit(", ", 1)[-1] in words, (line, words)  # the period and the value, as in words
        assert not line.endswith(" number")


def test_a_chart_names_every_dimension_of_its_observations(server: RunningServer) -> None:
    """The share of seized heroin from Mexico was titled 'Share of seized heroin, United States', and
    the Mérida Initiative's $2.9 billion and DOD's $59 million were drawn as one series."""
    share = svg_text(server.get("/charts/shareOfSeizedHeroin.svg").body)
    assert "origin area: Mexico" in share
    funding = svg_text(server.get("/charts/programFunding.svg").body)
    assert "programme: Mérida Initiative" in funding and "programme: DOD counterdrug support" in funding
    page = server.get("/queries/programme-funding", run="1", view="chart").text
    assert "programme: Mérida Initiative" in page and "programme: DOD counterdrug support" in page
