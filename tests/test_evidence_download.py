"""An answer downloaded with its evidence: the quote, the agency, the report and the place in its text of
each row, as the page shows them beneath the row; the answer's own CSV and JSON carry the query's
columns only, and a journalist who took one away had none of the evidence."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from kg.query.catalogue import load_catalogue

SELECTS = sorted(
    name
    for name, query in load_catalogue(Path(__file__).resolve().parent.parent / "queries").items()
    if query.answer == "select"
)


def _evidence_csv(client, path: str) -> list[dict[str, str]]:
    reply = client.get(path)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.content_type.startswith("text/csv")
    return list(csv.DictReader(io.StringIO(reply.get_data(as_text=True))))


def test_each_row_of_an_answer_comes_with_the_quotes_the_page_shows(client, source_text: str) -> None:
    answer = list(
        csv.DictReader(
            io.StringIO(client.get("/api/queries/fentanyl-routes?format=csv").get_data(as_text=True))
        )
    )
    lines = _evidence_csv(client, "/api/queries/fentanyl-routes/evidence")
    assert {int(line["row"]) for line in lines} == set(range(1, len(answer) + 1))
    for line in lines:
        row = answer[int(line["row"]) - 1]
        assert all(line[name] == value for name, value in row.items()), line
        assert (
            line["evidence_quote"]
            and line["evidence_agencyLabel"]
            and line["evidence_title"].startswith("Transnational Crime Issues")
        )
        assert int(line["evidence_start"]) >= 0 and line["evidence_context"].endswith(
            "#excerpt-" + line["evidence_excerpt"].rsplit("/", 1)[1]
        )
        assert line["evidence_role"] in ("quote", "context")
    quoted = [line for line in lines if line["evidence_role"] == "quote"]
    assert any("primarily are sourced from China" in line["evidence_quote"] for line in quoted)


@pytest.mark.parametrize("name", SELECTS)
def test_each_exact_quote_is_the_text_at_its_characters(client, source_text: str, name: str) -> None:
    """`quote` is the sentence as a reader reads it (the report's Markdown taken out), which four
    excerpts' characters did not hold (`\\$59 million`, `**Figure 1**`): `exact` is the text at
    `start`–`end`, for a reader who checks it."""
    for line in _evidence_csv(client, f"/api/queries/{name}/evidence"):
        if line["evidence_start"]:
            start, end = int(line["evidence_start"]), int(line["evidence_end"])
            assert source_text[start:end] == line["evidence_exact"], line["evidence_excerpt"]


@pytest.mark.parametrize("name", SELECTS)
def test_every_question_s_rows_have_the_evidence_its_page_shows(client, name: str) -> None:
    """Each line's answer values are the row's, and a row of the report's statements has a quote."""
    lines = _evidence_csv(client, f"/api/queries/{name}/evidence")
    answer = list(
        csv.DictReader(io.StringIO(client.get(f"/api/queries/{name}?format=csv").get_data(as_text=True)))
    )
    assert {int(line["row"]) for line in lines} == set(range(1, len(answer) + 1))
    json_reply = client.get(f"/api/queries/{name}/evidence?format=json").get_json()
    assert len(json_reply["rows"]) == len(answer)
    page = client.get(f"/queries/{name}?run=1").get_data(as_text=True)
    assert f'href="/api/queries/{name}/evidence' in page


def test_a_question_answering_a_graph_has_no_rows_to_give_evidence_for(client) -> None:
    reply = client.get("/api/queries/describe-resource/evidence")
    assert reply.status_code == 400 and "SELECT" in reply.get_data(as_text=True)


def test_the_download_is_charged_to_its_client_kept_and_says_where_it_was_cut(built) -> None:
    """Made in the web process and written uncharged, eight such downloads at a million triples held a
    bystander for 30 s; a download cut at the row cap did not say so where a spreadsheet shows it."""
    from kg.server import ServerConfig, create_app

    app = create_app(ServerConfig(store=str(built.store_path), built=built.dist, workers=2, max_rows=2))
    try:
        client = app.test_client()
        asker = {"REMOTE_ADDR": "192.0.2.21"}
        first = client.get("/api/queries/fentanyl-routes/evidence", environ_base=asker)
        assert first.status_code == 200
        assert first.headers["KG-Truncated"] == "true" and first.headers["KG-Result-Count"] == "2"
        assert 'filename="fentanyl-routes-evidence-first-2-rows.csv"' in first.headers["Content-Disposition"]
        usage = app.extensions["kg"].current.services.pool.usage
        assert usage.of("192.0.2.21") > 0
        again = client.get(
            "/api/queries/fentanyl-routes/evidence", environ_base={"REMOTE_ADDR": "192.0.2.22"}
        )
        assert again.get_data() == first.get_data()
        usage.charge("192.0.2.23", 10_000)
        refused = client.get(
            "/api/queries/heroin-sources/evidence", environ_base={"REMOTE_ADDR": "192.0.2.23"}
        )
        assert refused.status_code == 429
    finally:
        app.extensions["kg"].close()


def test_the_evidence_columns_are_named_apart_from_the_answer_s(client) -> None:
    """fentanyl-routes has an agency column, and its evidence one: the CSV named both `agency`."""
    header = next(
        csv.reader(io.StringIO(client.get("/api/queries/fentanyl-routes/evidence").get_data(as_text=True)))
    )
    assert len(header) == len(set(header)) and "agency" in header and "evidence_agency" in header


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text() -> None:
    """The file is for spreadsheets: a literal starting `=` ran as a formula when opened."""
    from kg.server.evidence_download import _csv

    formula = '=HYPERLINK("http://x")'
    rows = [{"row": 1, "values": {"label": formula, "n": "-5", "note": "@sum"}, "evidence": []}]
    written = list(csv.reader(io.StringIO(_csv(["label", "n", "note"], rows))))
    assert written[1][:4] == ["1", "'" + formula, "-5", "'@sum"]


def test_the_download_names_its_own_columns_apart_from_the_answer_s(built, tmp_path: Path) -> None:
    """A question with a column called `row` (the `evidence` question's table row) or `evidence_quote`
    gave a CSV with two columns of one name, the answer's hiding the download's own."""
    from kg.server import ServerConfig, create_app

    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "own-names.rq").write_text(
        "#+ summary: Columns named as the download's own\n"
        "#+ description: Which columns does the download name apart?\n"
        "#+ answer: select\n"
        "#+ tags: [test]\n"
        "SELECT ?row ?evidence_quote ?fact WHERE {\n"
        "  BIND (<https://w3id.org/opioid-kg/id/observation/mx-poppy-cultivation-2017> AS ?fact)\n"
        '  BIND ("the answer\'s row" AS ?row) BIND ("the answer\'s quote" AS ?evidence_quote)\n'
        "}\n",
        "utf-8",
    )
    app = create_app(ServerConfig(store=str(built.store_path), project=tmp_path, built=built.dist, workers=1))
    try:
        reply = app.test_client().get("/api/queries/own-names/evidence")
        assert reply.status_code == 200, reply.get_data(as_text=True)
        header, *lines = list(csv.reader(io.StringIO(reply.get_data(as_text=True))))
        assert len(set(header)) == len(header), header
        [line] = [dict(zip(header, values, strict=True)) for values in lines]
        assert (line["row"], line["evidence_quote"]) == ("the answer's row", "the answer's quote")
        assert line["_row"] == "1"
        assert "44,100 hectares" in line["_evidence_quote"]
    finally:
        app.extensions["kg"].close()
