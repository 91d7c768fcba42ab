"""The source view highlights the characters the build checked, whatever the text's line endings.

The build reads a report's text as bytes and decodes them unchanged; the
source view read it with Python's newline translation, which turns CR LF into
LF, so in a text written with CR LF every highlight after the first line stood
one character further on per line above it.
"""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

import pytest

from kg.build.pipeline import build
from kg.evidence.quotes import clean_quote
from kg.server import ServerConfig, create_app

REPORT = "000_1bdfefaeb44abb70"
DOCUMENT = "crs-2018-heroin-fentanyl-mexico"


def with_crlf(project: Path) -> None:
    """The report's text written with CR LF, its recorded digest and its excerpts' positions and
    quotes made to match, as an author whose text came so would record them."""
    folder = project / "sources" / REPORT
    text = (folder / "text.txt").read_bytes()
    crlf = text.replace(b"\n", b"\r\n")
    (folder / "text.txt").write_bytes(crlf)
    record = folder / "source.ttl"
    old, new = hashlib.sha256(text).hexdigest(), hashlib.sha256(crlf).hexdigest()
    record.write_text(record.read_text("utf-8").replace(old, new), "utf-8")
    lf = text.decode("utf-8")
    excerpts = project / "graph" / REPORT / "provenance" / "excerpts.ttl"
    turtle = re.sub(
        r'(oa:(?:start|end) )"(\d+)"',
        lambda found: f'{found[1]}"{int(found[2]) + lf.count(chr(10), 0, int(found[2]))}"',
        excerpts.read_text("utf-8"),
    )
    turtle = re.sub(
        r'"""(.*?)"""', lambda found: '"""' + found[1].replace("\n", "\\r\n") + '"""', turtle, flags=re.S
    )
    excerpts.write_text(turtle, "utf-8")


@pytest.fixture
def crlf_client(project_copy: Path):
    with_crlf(project_copy)
    built = build(project_copy, project_copy / "dist", project_copy / ".kg" / "store")
    app = create_app(ServerConfig(store=str(built.store), project=project_copy, built=built.dist, workers=1))
    yield app.test_client()
    app.extensions["kg"].close()


def words(fragment: str) -> str:
    """A fragment of the page as its words, the source's Markdown taken off as the quotes shown are."""
    return " ".join(clean_quote(html.unescape(re.sub(r"<[^>]+>", "", fragment))).split())


def test_each_highlight_of_a_text_with_crlf_line_endings_is_its_quote(crlf_client) -> None:
    page = crlf_client.get(f"/source/{DOCUMENT}").get_data(as_text=True)
    marks = re.findall(r'<mark class="excerpt"[^>]*data-excerpts="([^"]+)"[^>]*>(.*?)</mark>', page, re.S)
    quotes = dict(re.findall(r'<li id="note-([^"]+)">.*?<blockquote>(.*?)</blockquote>', page, re.S))
    assert len(quotes) == 65
    highlighted: dict[str, str] = {}
    for slugs, text in marks:
        for slug in slugs.split():
            highlighted[slug] = highlighted.get(slug, "") + text
    differing = {slug: (words(highlighted.get(slug, "")), words(quote)) for slug, quote in quotes.items()}
    assert {slug: pair for slug, pair in differing.items() if pair[0] != pair[1]} == {}
