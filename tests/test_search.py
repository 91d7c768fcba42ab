"""Finding things by name on the built store: accents, misspellings, kinds, and an honest empty answer."""

from __future__ import annotations

import functools
import json
import random
import tracemalloc
from collections.abc import Callable

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.errors import KgError
from kg.query.catalogue import load_catalogue
from kg.search import SearchIndex, index_from_store, normalize
from kg.search.index import MAX_TEXT, MAX_WORDS, Entry, Field, TooLong, distinct_words, edit_distance
from kg.search.load import kind_for as kind_of_classes
from kg.search.load import kinds_of, store_select
from kg.search.resolve import Lookups, Unresolved, kind_of, resolve_iri
from kg.store.base import value_rows

ID = "https://w3id.org/opioid-kg/id/"


@pytest.fixture(scope="module")
def index(store) -> SearchIndex:
    return index_from_store(store_select(store))


def test_a_word_is_held_once_however_many_texts_hold_it(index) -> None:
    """Every text's words are the index's one copy of each word: at a million triples, words held
    by each of 98,618 texts took 184 MB of a vocabulary of 1,201 words."""
    held: dict[str, str] = {}
    texts = [item for entry in index.entries.values() for item in entry.fields]
    for item in texts:
        assert sorted(item.words) == sorted(set(item.normalized.split()))  # each word once
        for word in item.words:
            assert held.setdefault(word, word) is word, word
    assert len(held) < sum(len(item.words) for item in texts) / 2  # words shared by many texts


def test_normalize_drops_accents_case_and_punctuation() -> None:
    assert normalize("Mérida-Initiative’s  FUNDING") == "merida initiative s funding"


def test_edit_distance_counts_a_swap_once_and_stops_past_the_limit() -> None:
    assert edit_distance("fentanil", "fentanyl", 2) == 1
    assert edit_distance("fetnanyl", "fentanyl", 2) == 1
    assert edit_distance("heroin", "fentanyl", 2) == 3


def test_a_name_without_its_accent_finds_the_programme_first(index) -> None:
    hits = index.search("Merida").hits
    assert hits[0].iri == ID + "program/merida-initiative"
    assert hits[0].kind == "programme"


def test_a_misspelling_is_read_as_the_word_the_graph_holds(index) -> None:
    result = index.search("fentanil")
    assert result.read_as == {"fentanil": "fentanyl"}
    assert result.hits[0].iri == ID + "substance/fentanyl"


def test_kinds_narrow_the_answer(index) -> None:
    hits = index.search("Sinaloa", ["place"]).hits
    assert [hit.iri for hit in hits] == [ID + "state/MX-SIN", ID + "region/golden-triangle"]
    assert {hit.kind for hit in index.search("Sinaloa", ["excerpt"]).hits} == {"excerpt"}


def test_excerpt_text_is_searched_clean(index) -> None:
    hits = index.search("sourced from China", ["excerpt"]).hits
    assert hits[0].iri == ID + "excerpt/fentanyl-sources"
    assert "primarily are sourced from China" in hits[0].snippet
    merida = index.search("2.9 billion", ["excerpt"]).hits[0]
    assert "nearly $2.9 billion" in merida.snippet and "\\$" not in merida.snippet


def test_a_word_the_report_never_uses_points_to_what_the_graph_holds(index) -> None:
    result = index.search("cartel")
    assert not [hit for hit in result.hits if hit.kind != "term"]
    [(term, instances)] = result.nearby
    assert term.label == "criminal group"
    assert [hit.label for hit in instances] == ["crime groups in Mexico"]


def test_nothing_at_all_says_what_the_graph_holds(index) -> None:
    result = index.search("xyzzyq")
    assert result.hits == [] and result.nearby == []
    assert result.holdings["substance"] >= 10 and result.holdings["excerpt"] >= 50


def test_a_long_word_costs_no_more_than_the_longest_word_the_index_holds(index) -> None:
    """A word's misspellings were looked up by its deletions, made whatever its length: a search of
    5,000 letters took the server's whole memory. A word longer than any the index holds by more than
    the edits it allows is no misspelling of one, and is not taken apart."""
    rng = random.Random(5)
    word = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(MAX_TEXT))
    tracemalloc.start()
    try:
        result = index.search(word)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.hits == [] and result.read_as == {}
    assert peak < 5_000_000, f"{peak:,} bytes for one word of {len(word)} letters"
    assert index.search("fentanil").read_as == {"fentanil": "fentanyl"}  # a misspelling is still one


def test_a_search_text_longer_than_the_index_reads_is_refused_saying_so(index) -> None:
    assert index.search("heroin " * MAX_WORDS).hits  # up to the bounds, words are searched
    with pytest.raises(TooLong, match=f"{MAX_WORDS + 1} words; at most {MAX_WORDS}"):
        index.search("heroin " * (MAX_WORDS + 1))
    with pytest.raises(TooLong, match=f"{MAX_TEXT + 1} characters long; at most {MAX_TEXT}"):
        index.search("a" * (MAX_TEXT + 1))


def test_kg_search_prints_hits_and_exits_1_when_nothing_is_found(built) -> None:
    runner = CliRunner()
    found = runner.invoke(main, ["search", "Merida", "--store", str(built.store_path), "--format", "json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["hits"][0]["label"] == "Mérida Initiative"
    cartel = runner.invoke(main, ["search", "cartel", "--store", str(built.store_path)])
    assert cartel.exit_code == 1
    assert "crime groups in Mexico" in cartel.output
    unknown = runner.invoke(main, ["search", "xyzzyq", "--kind", "place", "--store", str(built.store_path)])
    assert unknown.exit_code == 1
    assert "nothing in the graph matches 'xyzzyq'" in unknown.output
    store = ["--store", str(built.store_path)]
    elsewhere = runner.invoke(main, ["search", "Merida", "--kind", "period", *store])
    assert elsewhere.exit_code == 1
    assert "nothing of the kinds asked for matches 'Merida';" in elsewhere.output  # not "in the graph"
    every = runner.invoke(main, ["search", "fentanyl", "--kind", "period", "--format", "json", *store])
    counted = runner.invoke(main, ["search", "fentanyl", "--limit", "1000", "--format", "json", *store])
    elsewhere = runner.invoke(main, ["search", "fentanyl", "--kind", "period", *store])
    assert json.loads(every.output)["hits"] == []
    matching = len(json.loads(counted.output)["hits"])
    assert matching > 20 and f"; {matching} of other kinds do" in elsewhere.output  # not the first 20
    too_long = runner.invoke(main, ["search", "a" * (MAX_TEXT + 1), "--store", str(built.store_path)])
    assert too_long.exit_code == 2 and f"at most {MAX_TEXT} are searched" in too_long.output


# What no kind fits: data sets and their structures, a table and its rows, selectors, shapes.
OTHER_CLASSES = {
    "http://purl.org/linked-data/cube#DataSet",
    "http://purl.org/linked-data/cube#DataStructureDefinition",
    "http://purl.org/linked-data/cube#ComponentSpecification",
    "http://www.w3.org/ns/csvw#Table",
    "http://www.w3.org/ns/csvw#Row",
    "http://www.w3.org/ns/oa#TextPositionSelector",
    "http://www.w3.org/ns/oa#TextQuoteSelector",
    "http://www.w3.org/ns/shacl#NodeShape",
    "http://www.w3.org/ns/shacl#SPARQLConstraint",
    "http://www.w3.org/2002/07/owl#Ontology",
}


def test_every_class_of_the_graph_has_a_kind_but_those_no_kind_fits(store) -> None:
    """Findings, vague periods and years of no stated kind were labelled `other`, which the kinds'
    documentation keeps for a data set or a table's row, and no `--kind` found them."""
    text = """SELECT ?class (GROUP_CONCAT(STR(?super); separator=" ") AS ?supers) WHERE {
        { SELECT DISTINCT ?class WHERE { ?thing a ?class } }
        ?class <http://www.w3.org/2000/01/rdf-schema#subClassOf>* ?super } GROUP BY ?class"""
    kindless = {
        row["class"]
        for row in value_rows(store.query(text))
        if kind_of_classes({row["class"], *row["supers"].split()}) == "other"
    }
    assert kindless == OTHER_CLASSES
    # a measure is a property of the ontology (`kg:heroinSeizures a owl:DatatypeProperty, kg:Measure`):
    # a term, weighed as one, not a statistic ranked above the observations
    measure = "https://w3id.org/opioid-kg/ontology#heroinSeizures"
    assert kinds_of(store_select(store), [measure]) == {measure: "term"}


def test_the_kind_of_a_few_things_is_read_without_the_index(store, index, project_root) -> None:
    """A question's form needs only the kind of each default value: reading it for a few IRIs gives the
    kind the whole index gives, for every IRI a catalogue question offers and for one never named."""
    offered = {
        value
        for query in load_catalogue(project_root / "queries").values()
        for parameter in query.parameters
        if parameter.type == "iri"
        for value in (parameter.default, *parameter.enum)
        if value
    }
    unknown = ID + "country/nowhere"
    read = kinds_of(store_select(store), offered | {unknown})
    assert len(offered) > 15
    assert read == {iri: next(iter(kind_of(index, iri))) for iri in offered if kind_of(index, iri)}
    assert unknown not in read


def test_a_name_spelt_exactly_by_a_thing_of_another_kind_leaves_the_choice_to_the_kind() -> None:
    """The exact spelling answered first even when it named a thing of another kind than the
    parameter's default, while the index, accent- and case-blind, found one of the default's kind:
    a substance parameter given "fentanyl" got a control class of that spelling, not the substance
    spelt "Fentanyl". An exact spelling now decides only among things of the default's kind."""
    store = ox.Store()
    store.load(
        b"""@prefix kg: <https://w3id.org/opioid-kg/ontology#> .
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        <https://example.org/substance/fentanyl> a kg:Substance ; skos:prefLabel "Fentanyl"@en .
        <https://example.org/substance/heroin> a kg:Substance ; skos:prefLabel "heroin"@en .
        <https://example.org/control-class/fentanyl> a skos:Concept ; skos:prefLabel "fentanyl" .
        """,
        ox.RdfFormat.TURTLE,
    )

    def select(sparql: str):
        return value_rows(store.query(sparql))

    index = index_from_store(select)
    lookups = Lookups(lambda iri: True, select, lambda: index)
    resolve = functools.partial(resolve_iri, prefixes={}, lookups=lookups)
    heroin = "https://example.org/substance/heroin"
    assert resolve("fentanyl", like=heroin) == "https://example.org/substance/fentanyl"
    with pytest.raises(Unresolved, match="'fentanyl' names 2 things"):
        resolve("fentanyl")  # no kind asked: both bear the name, in one case or another
    assert resolve("Fentanyl", like=heroin) == "https://example.org/substance/fentanyl"


def _mexico_alone() -> Callable[[str], list]:
    """The SELECT of a graph holding one place, `https://example.org/place/mx`, named Mexico."""
    store = ox.Store()
    store.load(
        b"""<https://example.org/place/mx> <http://www.w3.org/2004/02/skos/core#prefLabel> "Mexico"@en .""",
        ox.RdfFormat.TURTLE,
    )
    return lambda sparql: value_rows(store.query(sparql))


def test_an_iri_the_graph_lacks_is_not_in_it_whether_or_not_the_index_can_suggest_others() -> None:
    """An IRI that names nothing took its refusal from the search index, which only suggests other
    names: while the index was being read or out of reach, the answer was the index's refusal."""
    select = _mexico_alone()

    def out_of_reach() -> SearchIndex:
        raise KgError("the search index is being read; try again shortly")

    for index in (out_of_reach, lambda: index_from_store(select)):
        lookups = Lookups(lambda iri: False, select, index)
        with pytest.raises(Unresolved, match="'<https://example.org/place/zz>' is not in the graph"):
            resolve_iri("<https://example.org/place/zz>", {}, lookups)


def test_two_words_no_thing_holds_both_fall_back_to_the_things_holding_one(index) -> None:
    """'Sinaloa cartel' found nothing: the fall-back to the things holding most of the words took
    three words at least."""
    result = index.search("Sinaloa cartel")
    assert ID + "state/MX-SIN" in [hit.iri for hit in result.hits]
    assert result.some_words and result.as_json()["some_words"] is True  # and it says so
    assert not index.search("Sinaloa").some_words
    assert index.search("Sinaloa Guerrero").hits[0].iri.startswith(ID)  # both words: as before


def test_every_facet_of_a_search_page_answers(client) -> None:
    """The facet 'other' (findings, data sets) linked to a page that answered 400, no kind 'other'."""
    import re

    page = client.get("/search?q=fentanyl").get_data(as_text=True)
    facets = re.findall(r'href="(/search\?q=fentanyl&amp;kind=[^"]+)"', page)
    assert any(facet.endswith("kind=other") for facet in facets), facets
    for facet in facets:
        answer = client.get(facet.replace("&amp;", "&"))
        assert answer.status_code == 200, facet
        kind = facet.rsplit("=", 1)[1]
        assert {
            hit["kind"] for hit in client.get(f"/api/search?q=fentanyl&kind={kind}").get_json()["hits"]
        } == {kind}


def test_hits_of_one_score_and_label_come_in_the_order_of_their_iris() -> None:
    """Two terms labelled "report" (the project's kg:Report and schema:Report) scored alike came in the
    order of a set of IRIs, which differs from one process to the next: the first page of a search,
    and which of them a limit cut, changed with each restart of the server."""
    iris = [f"https://example.org/report/{n:02}" for n in range(30)]
    entries = [
        Entry(iri, "term", [Field("name", "report", "report", distinct_words("report"))]) for iri in iris
    ]
    found = SearchIndex(reversed(entries)).search("report", limit=len(iris))
    assert [hit.iri for hit in found.hits] == iris
    assert [hit.iri for hit in SearchIndex(entries).search("report", limit=5).hits] == iris[:5]


@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\u3000"])
def test_an_iri_ending_in_a_space_beyond_ascii_is_that_iri_not_one_without_it(space: str) -> None:
    """An IRI may hold Unicode's spaces (RFC 3987), so `…/mx` followed by a no-break space is another
    IRI, which the graph lacks: it was taken for `…/mx`, Python's `strip` removing every space of
    Unicode. Spaces of ASCII around a value are still not part of it."""
    select = _mexico_alone()
    mexico = "https://example.org/place/mx"
    lookups = Lookups(lambda iri: iri == mexico, select, lambda: index_from_store(select))
    with pytest.raises(Unresolved, match="is not in the graph"):
        resolve_iri(mexico + space, {}, lookups)
    assert resolve_iri(f" {mexico}\t", {}, lookups) == mexico
