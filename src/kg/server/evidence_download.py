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
import re
from typing import Any

from flask import Blueprint, Response, request

from kg.evidence.facts import Evidence, evidence_for

from .api import find, run_named
from .services import Services, services
from .workers import ServiceError

blueprint = Blueprint("evidence_download", __name__, url_prefix="/api")
COLUMNS = (
    *("fact", "role", "quote", "exact", "agency", "agencyLabel", "title", "date"),
    *("document", "start", "end", "excerpt", "context", "citation"),
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
    given = request.args.to_dict()
    chosen = given.pop("format", "csv")
    if chosen not in FORMATS:
        raise ServiceError(406, f"the evidence is offered as: {', '.join(FORMATS)}")
    answer = run_named(query, given, "json")  # from the answer cache when it was asked before
    state = services()

    def made() -> bytes:
        variables, rows = _with_evidence(json.loads(answer.body), state)
        if chosen == "json":
            return json.dumps({"vars": variables, "rows": rows, "truncated": answer.truncated}).encode()
        return _csv(variables, rows).encode()

    # Made as a picture is: in this process, held to the client's budget and its slots, charged to
    # it, and kept: at a million triples one such CSV is 35 MB, and writing it took a second.
    key = ("evidence", name, tuple(sorted(given.items())), chosen, answer.count, answer.truncated)
    response = Response(state.picture(key, made), content_type=FORMATS[chosen])
    response.headers["KG-Result-Count"] = str(answer.count)
    response.headers["KG-Truncated"] = "true" if answer.truncated else "false"
    # A spreadsheet shows no header: a file cut at the row cap says so in its name.
    cut = f"-first-{answer.count}-rows" if answer.truncated else ""
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-evidence{cut}.{chosen}"'
    return response


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
                "evidence": [item.as_json(base_url) for item in found.values()],
            }
        )
    return variables, rows


def _csv(variables: list[str], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    # Named apart from the answer's own columns, which may be called agency, fact or excerpt too, and
    # even row or evidence_quote (the `evidence` question has a table's row).
    own = [apart("row", variables), *(apart(f"evidence_{column}", variables) for column in COLUMNS)]
    writer.writerow([own[0], *variables, *own[1:]])
    for row in rows:
        values = [row["row"], *(_inert(row["values"].get(name, "")) for name in variables)]
        for item in row["evidence"] or [{}]:
            writer.writerow([*values, *(_inert(item.get(column, "")) for column in COLUMNS)])
    return out.getvalue()


def apart(name: str, variables: list[str]) -> str:
    """`name`, with underscores before it while the answer has a column of that name."""
    while name in variables:
        name = "_" + name
    return name


_FORMULA = re.compile(r"[=+\-@\t\r]")  # what a spreadsheet reads as the start of a formula
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _inert(value: object) -> object:
    """A cell a spreadsheet opens as text, not as a formula: a literal of the graph or a parameter's
    echo starting `=`, `+`, `-` or `@` gets a leading apostrophe (as OWASP advises), a number stays."""
    if isinstance(value, str) and _FORMULA.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value
