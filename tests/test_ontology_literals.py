"""/ontology shows what the ontology's literals say as text, as every other page does.

pyLODE writes a literal through Markdown, whose output keeps HTML, and the page
passed it on as markup: a skos:definition holding a link to `javascript:`, a
form or an image with `onerror` came out live on the page.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, SKOS, XSD

from kg.build.project import load_project
from kg.namespaces import KG
from kg.server.ontology import documentation

HOSTILE = {
    "html-link": '<a href="javascript:alert(1)">click</a>',
    "markdown-link": "[click](javascript:alert(2))",
    "form": '<form action="https://example.org/"><input name="q"><button>go</button></form>',
    "image": '<img src="x" onerror="alert(3)">',
    "script": "<script>alert(4)</script>",
}


class Live(HTMLParser):
    """Elements and attributes of a page that act: a script, a form, an image, a handler, a `javascript:`
    link."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "form", "img", "input", "button", "iframe"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}={value}")


def live(page: str) -> list[str]:
    parser = Live()
    parser.feed(page)
    return parser.found


@pytest.fixture(scope="module")
def ontology(project_root) -> Graph:
    return load_project(project_root).graphs["ontology"]


@pytest.mark.parametrize("datatype", [None, XSD.normalizedString, XSD.token, URIRef("urn:example:own")])
@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_literal_holding_markup_is_shown_as_its_text(ontology: Graph, case: str, datatype) -> None:
    """Of any datatype: a literal typed other than as a plain string came out live too."""
    graph = Graph()
    for triple in ontology:
        graph.add(triple)
    graph.set((KG.FlowLeg, SKOS.definition, Literal(HOSTILE[case], lang="en")))
    graph.add((KG.FlowLeg, RDFS.comment, Literal(HOSTILE[case], datatype=datatype)))
    page = documentation(graph)
    assert live(page) == []
    assert html.escape(HOSTILE[case]) in page  # shown as it is written


def test_the_ontology_s_own_literals_are_shown_with_their_ids_made_of_them(ontology: Graph) -> None:
    """pyLODE makes the ids of other vocabularies' terms of their labels; they stay so."""
    page = documentation(ontology)
    assert live(page) == []
    assert 'id="rownumber"' in page and 'href="#rownumber">row number</a>' in page
    assert "relative to its metadata under graph/&lt;id&gt;/tables/" in page  # shown, not read as a tag
