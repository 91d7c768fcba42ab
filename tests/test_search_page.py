"""The search page says what it shows: how many things match and how many it shows, what the graph
holds when no word can be searched, the thing a full IRI names; and a visitor's text stays apart from
the page's own sentences."""

from __future__ import annotations

import re
import time

import pytest

from kg.search import SearchIndex, index_from_store
from kg.search.load import store_select

MX = "https://w3id.org/opioid-kg/id/country/MX"
REVERSING = "fentanyl\u202e seiceps"  # a right-to-left override: what follows reads backwards


@pytest.fixture(scope="module")
def index(store) -> SearchIndex:
    return index_from_store(store_select(store))


@pytest.fixture(scope="module", autouse=True)
def index_read(app) -> None:
    """The app's search index read whole: while it is read, a search answers the names alone."""
    client = app.test_client()
    deadline = time.monotonic() + 120
    while (answer := client.get("/api/search?q=mexico")).status_code != 200 or answer.get_json()["partial"]:
        assert time.monotonic() < deadline, answer.get_data(as_text=True)
        time.sleep(0.5)


def facets(page: str) -> dict[str, int]:
    return {kind: int(n) for kind, n in re.findall(r"kind=(\w+)\"[^>]*>\w+ \((\d+)\)</a>", page)}


def test_the_page_says_how_many_match_and_how_many_it_shows(client) -> None:
    """It said "50 match(es)" for the fifty it shows, while its facets, counted over the first hundred,
    added to 93."""
    page = client.get("/search?q=mexico").get_data(as_text=True)
    total = client.get("/api/search?q=mexico&limit=1").get_json()["total"]
    assert total > 50
    assert f"{total} matches for “<bdi>mexico</bdi>”; the first 50 are shown" in page
    assert sum(facets(page).values()) == total
    for kind, count in facets(page).items():
        assert client.get(f"/api/search?q=mexico&kind={kind}").get_json()["total"] == count


def test_a_facet_counts_every_match_of_its_kind(index) -> None:
    every = index.search("mexico", limit=1000)
    assert every.total == len(every.hits) and sum(every.counts.values()) == every.total
    some = index.search("mexico", limit=5)
    assert len(some.hits) == 5 and (some.total, some.counts) == (every.total, every.counts)


@pytest.mark.parametrize("text", ["*", "((", '"'])
def test_a_text_of_no_searchable_word_says_what_the_graph_holds(client, text: str) -> None:
    """`*`, `((` and `"` said "It holds : try a name…", with nothing after "holds"."""
    page = client.get("/search", query_string={"q": text}).get_data(as_text=True)
    assert re.search(r"It holds\s+\d+ \w+", page), page[page.find("It holds") - 200 :][:400]


@pytest.mark.parametrize("text", [MX, f"<{MX}>", f"  {MX} ", "country:MX", " country:MX "])
def test_a_full_iri_finds_the_thing_it_names(client, text: str) -> None:
    """And the short name the pages show a thing by, which found documents of ISO codes, not Mexico."""
    found = client.get("/api/search", query_string={"q": text}).get_json()
    assert [hit["iri"] for hit in found["hits"]] == [MX] and found["hits"][0]["label"] == "Mexico"
    page = client.get("/search", query_string={"q": text}).get_data(as_text=True)
    assert 'href="/id/country/MX">Mexico</a>' in page


def test_an_iri_kind_not_wanted_is_not_found(client) -> None:
    hits = client.get("/api/search", query_string={"q": MX, "kind": "substance"}).get_json()["hits"]
    assert MX not in [hit["iri"] for hit in hits]


def outside_isolation(page: str, text: str) -> list[str]:
    """The places `text` stands in `page` neither in a <bdi> of its own, nor in the input it was
    typed in, nor in the title: where its direction may run into the page's sentences."""
    rest = page.replace(f"<bdi>{text}</bdi>", "").replace(f'value="{text}"', "")
    rest = re.sub(r"<title>.*?</title>", "", rest, flags=re.S)
    return [rest[max(0, i - 60) : i + 60] for i in (m.start() for m in re.finditer(re.escape(text), rest))]


@pytest.mark.parametrize("text", [REVERSING, "zzyzxq\u202e qwerty", "\u202eparty"])
def test_a_visitor_s_text_on_the_search_page_is_isolated(client, text: str) -> None:
    """A right-to-left override in the text reversed the rest of the page's sentence. The text stands in
    a <bdi> of its own, and the override is written as its code point, as in any name a page shows."""
    page = client.get("/search", query_string={"q": text}).get_data(as_text=True)
    shown = text.replace("\u202e", "&lt;U+202E&gt;")
    assert f"<bdi>{shown}</bdi>" in page and "\u202e" not in page
    assert outside_isolation(page, shown) == []


def test_a_visitor_s_text_in_the_page_s_title_is_isolated(client) -> None:
    """A title holds no markup, so the text stood bare in it, and U+202E reversed the title's rest."""
    page = client.get("/search", query_string={"q": REVERSING}).get_data(as_text=True)
    [title] = re.findall(r"<title>(.*?)</title>", page, re.S)
    shown = REVERSING.replace("\u202e", "&lt;U+202E&gt;")
    assert f"\u2068{shown}\u2069" in title, repr(title)


def test_the_values_a_question_was_asked_with_are_isolated(client) -> None:
    page = client.get("/queries/fentanyl-routes?substance=heroin").get_data(as_text=True)
    asked = re.search(r'<p class="asked" id="asked-with">(.*?)</p>', page, re.S)
    assert asked and "substance: <bdi>heroin</bdi>" in asked.group(1)


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "1.5"])
def test_a_limit_of_no_hit_is_refused_by_name(client, limit: str) -> None:
    """`limit=0` and `limit=-1` answered one hit, as `kg search --limit 0` refuses."""
    answer = client.get("/api/search", query_string={"q": "mexico", "limit": limit})
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert (
        answer.get_json()["error"]["message"]
        == "limit must be a whole number of 1 or more (at most 100 hits are given)"
    )


@pytest.mark.parametrize("limit", ["1000", "9" * 4301, "0" * 5000 + "3"])
def test_a_limit_past_the_most_answers_the_most(client, limit: str) -> None:
    """A limit of more than 4,300 digits, which Python will not read as a number, answered 500."""
    answer = client.get("/api/search", query_string={"q": "mexico", "limit": limit})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    total = client.get("/api/search?q=mexico").get_json()["total"]
    assert len(answer.get_json()["hits"]) == min(int(limit.lstrip("0")[:4]), 100, total)
    page = client.get("/search", query_string={"q": "mexico", "limit": limit})
    assert page.status_code == 200
