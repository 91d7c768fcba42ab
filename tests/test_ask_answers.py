"""An ASK question is offered in the formats that hold a boolean: its page's links, the API and its
description name JSON and XML, never CSV or TSV (SPARQL's CSV and TSV results hold solutions)."""

from __future__ import annotations

from pathlib import Path

from kg.server import ServerConfig, create_app

ASK_QUESTION = """#+ summary: Whether the graph holds a trafficking flow
#+ description: Does the graph hold any trafficking flow?
#+ answer: ask
#+ tags: [flows]
PREFIX kg: <https://w3id.org/opioid-kg/ontology#>
ASK { ?flow a kg:TraffickingFlow }
"""


def test_an_ask_question_offers_what_its_answer_is_written_in(built, tmp_path: Path) -> None:
    """Its page linked `format=csv`, which the API answers 406, and its description listed CSV and TSV."""
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "any-flows.rq").write_text(ASK_QUESTION, encoding="utf-8")
    config = ServerConfig(store=str(built.store_path), built=built.dist, project=tmp_path, workers=1)
    app = create_app(config)
    try:
        client = app.test_client()
        page = client.get("/queries/any-flows?run=1", headers={"Accept": "text/html"}).get_data(as_text=True)
        assert 'format=xml" id="download-csv">XML</a>' in page and "format=csv" not in page
        assert client.get("/api/queries/any-flows?format=xml").status_code == 200
        assert client.get("/api/queries/any-flows?format=csv").status_code == 406
        described = client.get("/api/openapi.json").get_json()
        answers = described["paths"]["/api/queries/any-flows"]["get"]["responses"]["200"]["content"]
        assert {"application/sparql-results+json", "application/sparql-results+xml"} <= set(answers)
        assert not {"text/csv", "text/tab-separated-values"} & set(answers), answers
        editor = client.get("/query?query=ASK%20%7B%7D", headers={"Accept": "text/html"}).get_data(
            as_text=True
        )
        assert 'format=xml" id="download-csv">XML</a>' in editor
    finally:
        app.extensions["kg"].close()
