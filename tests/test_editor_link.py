"""A question's page opens the editor with the values the question was asked with, as its CSV and JSON
links carry them: `/queries/fentanyl-routes?substance=heroin` opened the editor on fentanyl."""

from __future__ import annotations

import html
import re
import urllib.parse

import pytest

HEROIN = "https://w3id.org/opioid-kg/id/substance/heroin"
FENTANYL = "https://w3id.org/opioid-kg/id/substance/fentanyl"


def editor_text(page: str) -> str:
    link = re.search(r'<a href="/query\?query=([^"]*)">open in the editor</a>', page)
    assert link, page[-2000:]
    return urllib.parse.unquote_plus(html.unescape(link.group(1)))


def rows(answer: dict) -> list[list[tuple[str, str]]]:
    return sorted(sorted((k, v["value"]) for k, v in row.items()) for row in answer["results"]["bindings"])


@pytest.mark.parametrize("given", ["heroin", "substance:heroin", HEROIN])
def test_the_editor_opens_with_the_values_asked_and_answers_as_the_json_link(client, given: str) -> None:
    asked = {"substance": given}
    page = client.get("/queries/fentanyl-routes", query_string={**asked, "run": "1"}).get_data(as_text=True)
    text = editor_text(page)
    assert f"<{HEROIN}>" in text and f"<{FENTANYL}>" not in text  # the default is in the header alone
    ran = client.get(
        "/sparql", query_string={"query": text}, headers={"Accept": "application/sparql-results+json"}
    )
    linked = client.get("/api/queries/fentanyl-routes", query_string={**asked, "format": "json"})
    assert ran.status_code == linked.status_code == 200
    assert rows(ran.get_json()) == rows(linked.get_json()) != []


def test_a_value_that_names_nothing_leaves_the_editor_with_the_defaults(client) -> None:
    page = client.get("/queries/fentanyl-routes?substance=nosuchthing&run=1").get_data(as_text=True)
    text = editor_text(page)
    assert f"<{FENTANYL}>" in text and "nosuchthing" not in text


def test_a_question_asked_with_no_values_opens_the_editor_with_its_defaults(client) -> None:
    assert f"<{FENTANYL}>" in editor_text(client.get("/queries/fentanyl-routes").get_data(as_text=True))
