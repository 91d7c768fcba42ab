"""A catalogue answer with the evidence of each row, to take away: the page shows a row's quotes
beneath it, and the answer's own CSV and JSON carry the query's columns only.

One line per row and excerpt (a row with two quotes gives two lines, its values repeated; a row with
none gives one, its evidence columns empty), numbered by the row of the answer, so that a
spreadsheet can filter it and join it to the answer's CSV.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from kg.evidence.facts import Evidence, evidence_for

from .api import find, run_named
from .services import Services, client, services
from .workers import ServiceError

blueprint = Blueprint("evidence_download", __name__, url_prefix="/api")
COLUMNS = (
    *("fact", "role", "quote", "agency", "agencyLabel", "title", "date"),
    *("document", "start", "excerpt", "context", "citation"),
)
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@blueprint.get("/queries/<name>/evidence")
def named_evidence(name: str) -> Response:
    """The answer of a SELECT question (its parameters as for /api/queries/NAME) with each row's
    evidence, as CSV (default) or JSON by ?format=."""
    query = find(name)
    if query.answer != "select":
        raise ServiceError(
            400, f"only a SELECT question's rows have evidence; {name} answers a {query.answer}"
        )
    chosen = request.args.get("format", "csv")
    if chosen not in FORMATS:
        raise ServiceError(406, f"the evidence is offered as: {', '.join(FORMATS)}")
    given = {key: value for key, value in request.args.items() if key != "format"}
    answer = run_named(query, given, "json")
    state = services()
    variables, rows = state.pool.worked(client(), lambda: _with_evidence(json.loads(answer.body), state))
    if chosen == "json":
        return jsonify(vars=variables, rows=rows, truncated=answer.truncated)
    return Response(_csv(variables, rows), content_type=FORMATS["csv"])


def _with_evidence(data: dict[str, Any], state: Services) -> tuple[list[str], list[dict[str, Any]]]:
    """The answer's variables, and each row's values with the evidence of the report's statements in
    it, as a page attaches it (`kg.readable.table`): the excerpts of a thing a row names say
    something of that thing, not what the row says."""
    variables = list(data["head"]["vars"])
    bindings = data["results"]["bindings"]
    iris = {term["value"] for row in bindings for term in row.values() if term["type"] == "uri"}
    evidence = evidence_for(state.values, iris)
    base_url = state.config.base_url.rstrip("/")
    rows = []
    for number, row in enumerate(bindings, start=1):
        found: dict[tuple[str, str | None, bool], Evidence] = {}
        for name in variables:
            items = evidence.get(row[name]["value"], []) if name in row and row[name]["type"] == "uri" else []
            if any(item.statement for item in items):
                for item in items:
                    found.setdefault((item.excerpt, item.agency, item.is_context), item)
        rows.append(
            {
                "row": number,
                "values": {name: row[name]["value"] for name in variables if name in row},
                "evidence": [{**item.as_json(base_url), "start": item.start} for item in found.values()],
            }
        )
    return variables, rows


def _csv(variables: list[str], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["row", *variables, *COLUMNS])
    for row in rows:
        values = [row["row"], *(row["values"].get(name, "") for name in variables)]
        for item in row["evidence"] or [{}]:
            writer.writerow([*values, *(item.get(column, "") for column in COLUMNS)])
    return out.getvalue()
