"""Questions that pair two figures (a change from the previous year, a yield, a share) pair them
within one source: a number computed from one source's figure and another's is a number no source
states. Tested on a library of the report and a renamed copy of it (as `benchmarks/scale.py`
generates one), where every pair across the two would show, and on the fixture library, whose
second source disagrees with the report on one figure."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from kg.query.catalogue import load_catalogue
from kg.query.run import run_query
from kg.store.embedded import EmbeddedStore
from kg.store.queryfiles import binding_terms

PROJECT = Path(__file__).resolve().parent.parent

ID = "https://w3id.org/opioid-kg/id/"
REPORT = ID + "document/crs-2018-heroin-fentanyl-mexico"
COPY = ID + "document/s0001-crs-2018-heroin-fentanyl-mexico"
PAIRING = (
    "heroin-production-yield",
    "heroin-sources",
    "mexico-seizures",
    "poppy-cultivation-change",
    "poppy-eradication-share",
)
# The facts each question pairs in a row, by the variables that name them.
PAIRED = {
    "heroin-production-yield": ("observation", "cultivated"),
    "heroin-sources": ("flow", "shareObservation"),
    "mexico-seizures": ("observation", "previous"),
    "poppy-cultivation-change": ("observation", "previous"),
    "poppy-eradication-share": ("eradication", "cultivation"),
}
SOURCES_OF = """PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT DISTINCT ?fact ?source WHERE { ?fact prov:wasDerivedFrom ?excerpt . ?excerpt oa:hasSource ?source }"""

Row = dict[str, str]


def answer(store: EmbeddedStore, name: str, **given: str) -> list[Row]:
    query = load_catalogue(PROJECT / "queries")[name]
    result = run_query(store, query.text, binding_terms(query.bindings(given)), source=name)
    return [{key: term.value for key, term in row.items() if term is not None} for row in result.rows]


def excerpt_sources(store: EmbeddedStore) -> dict[str, set[str]]:
    """Every fact's sources as its excerpts give them: the evidence, read apart from the questions."""
    sources: dict[str, set[str]] = defaultdict(set)
    for row in run_query(store, SOURCES_OF, {}).rows:
        sources[row["fact"].value].add(row["source"].value)
    return sources


def unrenamed(row: Row) -> Row:
    return {key: value.replace("/s0001-", "/") for key, value in row.items()}


@pytest.mark.parametrize("name", PAIRING)
def test_a_copy_of_the_report_adds_its_own_answer_and_no_pair_across_the_two(
    name: str, store: EmbeddedStore, copied: EmbeddedStore
) -> None:
    alone = answer(store, name)
    rows = answer(copied, name)
    assert len(rows) == 2 * len(alone)
    by_source: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_source[row["source"]].append(row)
    assert set(by_source) == {REPORT, COPY}
    for source_rows in by_source.values():
        assert sorted(map(str, map(unrenamed, source_rows))) == sorted(map(str, alone))


@pytest.mark.parametrize("name", PAIRING)
def test_both_figures_of_a_row_rest_on_the_source_it_names(name: str, copied: EmbeddedStore) -> None:
    evidence = excerpt_sources(copied)
    paired = [row for row in answer(copied, name) if all(key in row for key in PAIRED[name])]
    assert paired, "the question pairs figures in the copied library"
    for row in paired:
        for key in PAIRED[name]:
            assert row["source"] in evidence[row[key]], (key, row)


def test_sources_that_disagree_each_give_their_own_change(library_built) -> None:
    """The fixture says 40,000 ha in 2017 where the report says 44,100; the report alone gives 2016:
    the fixture's figure stands alone, and the report's change is the report's (37.8 %)."""
    rows = answer(library_built.store(), "poppy-cultivation-change")
    [fixture] = [row for row in rows if row.get("value") == "40000"]
    assert (fixture.get("previousValue"), fixture.get("computedPercent")) == (None, None)
    assert fixture["source"] == ID + "document/fixture-poppy-estimate"
    [report] = [row for row in rows if row.get("value") == "44100"]
    assert (report["source"], report["previousValue"], report["computedPercent"]) == (REPORT, "32000", "37.8")


def test_no_yield_or_share_divides_by_another_source_s_area(library_built) -> None:
    store = library_built.store()
    fixture_area = ID + "observation/fixture-mx-poppy-cultivation-2017"
    yields = answer(store, "heroin-production-yield")
    shares = answer(store, "poppy-eradication-share")
    assert all(row.get("cultivated") != fixture_area for row in yields)
    assert all(row.get("cultivation") != fixture_area for row in shares)
    assert {row["yieldKgPerHa"] for row in yields} == {"2.53", "2.52"}
    assert {row["sharePercent"] for row in shares} == {"69.5", "65.2"}
