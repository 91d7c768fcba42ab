"""A client's query bounds its answer's rows and its bytes: a short text can make values of megabytes
(`CONCAT(?v, ?v)` twenty times over), which the web process read whole, shown on a page or drawn as a
picture. In-process apps over the built store, with real worker processes."""

from __future__ import annotations

import json
import struct
import urllib.parse

import pytest

from kg.network.layout import DRAWN_CHARACTERS
from kg.server import ServerConfig, create_app
from kg.server.result_views import SHOWN_CHARACTERS, SHOWN_GRAPH_CHARACTERS, SHOWN_VARIABLES


def doubled(times: int, rows: int = 1) -> str:
    """A SELECT of `rows` rows whose ?big holds 2 × 2**times characters, from a query of a few hundred."""
    binds = " ".join(f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1})" for i in range(times))
    values = " ".join(str(n) for n in range(rows))
    return (
        f"SELECT ?n ?big WHERE {{ VALUES ?n {{ {values} }} BIND(CONCAT(STR(?n), ' ') AS ?v0) {binds} "
        f"BIND(?v{times} AS ?big) }}"
    )


@pytest.fixture(scope="module")
def app(built):
    made = create_app(ServerConfig(store=str(built.store_path), built=built.dist, max_answer_mb=1))
    yield made
    made.extensions["kg"].close()


def test_an_answer_past_its_bytes_is_cut_and_says_so(app) -> None:
    """30 rows of 128 KB each: 4 MB of JSON, past the 1 MB limit, as JSON and as CSV."""
    client = app.test_client()
    text = doubled(16, rows=30)
    for accept in ("application/sparql-results+json", "text/csv"):
        reply = client.post("/sparql", data={"query": text}, headers={"Accept": accept})
        assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
        assert len(reply.data) <= 2**20, (accept, len(reply.data))
        assert reply.headers["KG-Truncated"] == "true", accept
        if accept == "text/csv":
            assert 1 < reply.get_data(as_text=True).count("\n") < 30
        else:
            assert 0 < len(json.loads(reply.data)["results"]["bindings"]) < 30
    small = client.post("/sparql", data={"query": doubled(4, rows=30)}, headers={"Accept": "text/csv"})
    assert small.headers["KG-Truncated"] == "false" and small.get_data(as_text=True).count("\n") == 31


def test_one_value_past_the_bytes_leaves_no_row(app) -> None:
    reply = app.test_client().post("/sparql", data={"query": doubled(19)}, headers={"Accept": "text/csv"})
    assert reply.status_code == 200 and reply.headers["KG-Truncated"] == "true"
    assert reply.get_data(as_text=True).splitlines() == ["n,big"]


def test_a_page_shows_each_value_cut_to_its_length(app) -> None:
    """The query page shows a value of 64 KB cut to its first characters, the whole in the CSV and JSON
    the page links."""
    page = app.test_client().get(
        "/query?query=" + urllib.parse.quote(doubled(15)), headers={"Accept": "text/html"}
    )
    assert page.status_code == 200
    shown = page.get_data(as_text=True)
    assert "0 0 0 0" in shown and "0 " * (SHOWN_CHARACTERS // 2 + 10) not in shown
    assert len(shown) < 100_000


def test_a_network_of_a_long_label_is_drawn_at_its_usual_size(app) -> None:
    """A node's label of 64 KB wrapped to thousands of lines: a picture 122,116 pixels high took 50 s
    and 1.8 GB of the web process for 256 KB."""
    binds = " ".join(f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1})" for i in range(15))
    text = (
        "SELECT ?from ?to ?fromLabel WHERE { BIND(<http://example.org/a> AS ?from) "
        f'BIND(<http://example.org/b> AS ?to) BIND("x " AS ?v0) {binds} BIND(?v15 AS ?fromLabel) }}'
    )
    reply = app.test_client().get(
        "/query/view.png?view=network&query=" + urllib.parse.quote(text), headers={"Accept": "image/png"}
    )
    assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
    width, height = struct.unpack(">II", reply.data[16:24])  # the PNG's IHDR
    assert height < 2 * width, (width, height)


def test_a_picture_draws_each_label_cut_to_its_length(app) -> None:
    """Sixty names of 2,000 characters took 24 s to draw as PNG (60 short ones, 2 s): a picture draws a
    label cut at DRAWN_CHARACTERS, so labels past it draw the same picture, of the same size."""

    def size(label_characters: int) -> tuple[int, int]:
        text = (
            "SELECT ?from ?to ?fromLabel WHERE { VALUES ?n { 1 2 3 } "
            "BIND(IRI(CONCAT('http://example.org/a', STR(?n))) AS ?from) BIND(<http://example.org/b> AS ?to) "
            f"BIND(CONCAT(STR(?n), SUBSTR('{'word ' * 500}', 1, {label_characters})) AS ?fromLabel) }}"
        )
        reply = app.test_client().get("/query/view.png?view=network&query=" + urllib.parse.quote(text))
        assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
        width, height = struct.unpack(">II", reply.data[16:24])
        return width, height

    assert DRAWN_CHARACTERS <= 80
    assert size(80) == size(2_000)


def test_a_page_shows_the_first_columns_of_a_wide_answer(app) -> None:
    """The reader's table and the views read every column of every row against every other column: 600
    columns of 130 rows, from 6 KB of query, took the web process 60 s. A page shows the first
    SHOWN_VARIABLES columns, says so, and the pictures read those alone."""
    names = [f"?a{n}" for n in range(SHOWN_VARIABLES + 60)]
    text = (
        "SELECT * { VALUES ?r { "
        + " ".join(str(n) for n in range(130))
        + f" }} VALUES ({' '.join(names)}) {{ ({' '.join('1' for _ in names)}) }} }}"
    )
    page = app.test_client().get("/query?query=" + urllib.parse.quote(text), headers={"Accept": "text/html"})
    assert page.status_code == 200
    shown = page.get_data(as_text=True)
    assert f"the first {SHOWN_VARIABLES} of {len(names) + 1} columns" in shown
    picture = app.test_client().get("/query/view.svg?view=chart&query=" + urllib.parse.quote(text))
    assert picture.status_code in (200, 404), picture.get_data(as_text=True)[:300]


def test_a_page_shows_a_graph_answer_cut_to_its_length(app) -> None:
    """A CONSTRUCT of one value of 512 KB was shown whole (a page of 14 MB from 681 bytes of query)."""
    binds = " ".join(f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1})" for i in range(18))
    text = f'CONSTRUCT {{ <urn:s> <urn:p> ?v18 }} WHERE {{ BIND("xy" AS ?v0) {binds} }}'
    page = app.test_client().get("/query?query=" + urllib.parse.quote(text), headers={"Accept": "text/html"})
    assert page.status_code == 200
    shown = page.get_data(as_text=True)
    assert "xyxy" in shown and len(shown) < 2 * SHOWN_GRAPH_CHARACTERS
    assert f"the first {SHOWN_GRAPH_CHARACTERS:,} characters" in shown
