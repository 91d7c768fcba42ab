"""Every sentence of the report is covered by a fact: a curated list, checked both ways.

The list holds every sentence of the source report, in order, with the facts that
state its claims. One test checks that the list is the whole text (only headings,
list markers and blank lines fall between its sentences), so a sentence that is
left out fails; another that every sentence names facts, and that each of them
cites (as its quote or its context) an excerpt inside that sentence. Where the
numbers of the text are checked value by value, see test_numbers.py.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from rdflib import Dataset, URIRef
from rdflib.namespace import RDF

from kg.namespaces import KG, OA

ID = "https://w3id.org/opioid-kg/id/"
PROV_DERIVED = URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")
CLAIMS = "claims-000_1bdfefaeb44abb70.toml"
# What may fall between sentences: blank lines, headings, list markers, emphasis marks.
BETWEEN = re.compile(r"(#{1,3} .*|[-#*]*)")

# Every sentence of the report, in order, and the facts that state what it says.
SENTENCES: list[tuple[str, list[str]]] = [
    (entry["text"], entry["facts"])
    for entry in tomllib.loads((Path(__file__).parent / "data" / CLAIMS).read_text("utf-8"))["sentence"]
]


@pytest.fixture(scope="module")
def data(dataset: Dataset) -> Dataset:
    return dataset


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where each listed sentence is in the text, found in order."""
    spans, cursor = [], 0
    for sentence, _facts in SENTENCES:
        start = text.find(sentence, cursor)
        assert start >= 0, f"not in the text after position {cursor}: {sentence[:60]!r}"
        spans.append((start, start + len(sentence)))
        cursor = start + len(sentence)
    return spans


def excerpt_span(data: Dataset, excerpt: URIRef) -> tuple[int, int] | None:
    selectors = list(data.objects(excerpt, OA.hasSelector))
    starts = [int(v) for s in selectors for v in data.objects(s, OA.start)]
    ends = [int(v) for s in selectors for v in data.objects(s, OA.end)]
    return (starts[0], ends[0]) if starts and ends else None


def test_the_list_is_every_sentence_of_the_report(source_text: str) -> None:
    spans = sentence_spans(source_text)
    bounds = [0] + [edge for span in spans for edge in span] + [len(source_text)]
    gaps = [source_text[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]
    left_out = [
        line.strip() for gap in gaps for line in gap.split("\n") if not BETWEEN.fullmatch(line.strip())
    ]
    assert not left_out, f"text that no listed sentence holds: {left_out}"


@pytest.mark.parametrize("index", range(len(SENTENCES)), ids=lambda i: SENTENCES[i][0][:40])
def test_every_sentence_is_covered_by_facts_citing_it(data: Dataset, source_text: str, index: int) -> None:
    sentence, facts = SENTENCES[index]
    assert facts, f"covered by nothing: {sentence!r}"
    start, end = sentence_spans(source_text)[index]
    for fact in facts:
        node = URIRef(ID + fact)
        assert (node, RDF.type, None) in data, f"{fact} is not in the graph"
        cited = [
            span
            for prop in (PROV_DERIVED, KG.contextExcerpt)
            for excerpt in data.objects(node, prop)
            if (span := excerpt_span(data, excerpt)) is not None
        ]
        assert any(a < end and start < b for a, b in cited), f"{fact} cites no excerpt of {sentence[:60]!r}"
