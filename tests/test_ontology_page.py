"""/ontology for a browser: the ontology's documentation inside the site's frame, with a contents
list in which every entry can be told apart."""

from __future__ import annotations

import re
from collections import Counter

from server_fixtures import RunningServer


def contents_lists(page: str) -> list[list[str]]:
    """The words of the entries of each list in the page's table of contents."""
    toc = page[page.index('id="toc"') :]
    toc = toc[: toc.index("</nav>") if "</nav>" in toc else len(toc)]
    lists = []
    for block in re.findall(r'<ul class="second">(.*?)</ul>', toc, re.S):
        lists.append(
            [
                " ".join(re.sub(r"<[^>]+>", " ", a).split())
                for a in re.findall(r"<a [^>]*>(.*?)</a>", block, re.S)
            ]
        )
    return lists


def test_the_ontology_page_is_inside_the_site_frame(server: RunningServer) -> None:
    reply = server.get("/ontology", "text/html")
    assert reply.status == 200 and reply.content_type == "text/html"
    page = reply.text
    assert page.count("<html") == 1 and page.count("<body") == 1
    assert '<nav aria-label="Main">' in page and 'id="site-search-q"' in page  # the site's header
    assert "<footer>" in page and "opioid-kg ontology" in page
    assert "<style" not in page  # the site's own stylesheet, not the generator's
    assert "'unsafe-inline'" not in reply.headers.get("content-security-policy", "")


def test_the_contents_list_repeats_no_entry(server: RunningServer) -> None:
    lists = contents_lists(server.get("/ontology", "text/html").text)
    assert len(lists) >= 3 and sum(len(entries) for entries in lists) > 100
    entries = [entry for entries in lists for entry in entries]
    assert [entry for entry, n in Counter(entries).items() if n > 1] == []
    assert "person (foaf:Person)" in entries and "person (kg:Person)" in entries


def test_every_term_of_the_ontology_is_anchored_where_the_pages_link_it(server: RunningServer) -> None:
    """The pages link a term to `/ontology#LocalName`; the generator made its ids of the label
    (`flowleg`, `qualifier(kg:Qualifier)`), so a fifth of those links opened the top of the page.
    Each term's entry now has its local name as its id, and the contents list links it so."""
    page = server.get("/ontology", "text/html").text
    ids = re.findall(r'\bid="([^"]+)"', page)
    terms = set(re.findall(r"<code>https://w3id\.org/opioid-kg/ontology#([^<]+)</code>", page))
    assert {"FlowLeg", "Qualifier", "SubstanceGroup", "heroinSeizures"} <= terms
    assert terms <= set(ids)
    assert [name for name, n in Counter(ids).items() if n > 1 and name in terms] == []
    linked = set(re.findall(r'href="#([^"]+)"', page))
    assert linked <= set(ids), sorted(linked - set(ids))[:5]
    home = server.get("/", "text/html").text
    assert set(re.findall(r'href="/ontology#([^"]+)"', home)) <= set(ids)
