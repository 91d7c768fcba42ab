"""The views of an answer page: Table · Chart · Network, each a link of its own (`?view=chart`), and
the chart or network picture of the answer as SVG or PNG beside `/query` and `/queries/NAME`.

The pictures are drawn from the same answer as the page's table, through the same query workers and
row cap; a picture of a capped answer says so in its caption. A view that does not apply to the
answer is shown disabled, with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request
from markupsafe import escape

from kg.charts import chart as charts
from kg.charts.series import Series
from kg.literals import cut
from kg.query.catalogue import NamedQuery
from kg.readable.table import header
from kg.readable.views import VIEWS, Views, views_of

from . import answer_pictures as pictures
from .api import find, run_named
from .messages import Answer
from .services import SHOWN_CHARACTERS, Term, services
from .sparql import run_sparql
from .workers import ServiceError

# Columns of an answer a page shows and its pictures read: the reader's table and the views compare
# columns with columns, row by row (600 columns of 130 rows took the web process 60 s).
SHOWN_VARIABLES = 40
SHOWN_GRAPH_CHARACTERS = 200_000  # of a CONSTRUCT or DESCRIBE answer's text on a page

blueprint = Blueprint("views", __name__)
MIME = {"svg": "image/svg+xml", "png": "image/png"}
TAB_NAMES = {"table": "Table", "chart": "Chart", "network": "Network"}


def chosen_view() -> str:
    """The view the request asks for; the table for anything else."""
    view = request.args.get("view", "table")
    return view if view in VIEWS else "table"


def _link(path: str, **changes: str | None) -> str:
    """This request's path and arguments, with `changes` made (None drops an argument)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in changes]
    args += [(k, v) for k, v in changes.items() if v is not None]
    return f"{path}?{urlencode(args)}" if args else path


def _series(result: Mapping[str, Any], views: Views) -> tuple[list[Series], str]:
    assert views.chart is not None
    state = services()
    rows: list[dict[str, Term]] = result["rows"]
    found = pictures.observations_in(state.values, rows)
    return pictures.chart_series(state.store, views.chart, rows, result["labels"], found)


def view_context(result: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What the page shows above its answer: the tabs, and for a chart or a network its picture URLs,
    its words and (for a network) its edges as a table."""
    if result is None or result.get("kind") != "select":
        return None
    views: Views = result["views"]
    view = chosen_view()
    tabs = [
        {
            "name": name,
            "label": TAB_NAMES[name],
            "url": _link(request.path, view=None if name == "table" else name),
            "enabled": views.applies(name),
            "reason": views.reasons.get(name, ""),
        }
        for name in VIEWS
    ]
    shown: dict[str, Any] = {"tabs": tabs, "view": view if views.applies(view) else "table"}
    if view != shown["view"]:
        shown["refused"] = f"No {view} view of this answer: {views.reasons.get(view, '')}."
    if shown["view"] == "table":
        return shown
    picture = f"{request.path.rstrip('/')}/view"
    shown["pictures"] = {fmt: _link(f"{picture}.{fmt}", view=shown["view"]) for fmt in MIME}
    note = pictures.truncation_note(result["count"], result["truncated"])
    shown["pictures"]["memo"] = _link(f"{picture}.png", view=shown["view"], preset="memo")
    if shown["view"] == "chart":
        series, caveat = _series(result, views)
        if charts.problem(series):
            return {
                **shown,
                "view": "table",
                "refused": f"No chart of this answer: {charts.problem(series)}.",
            }
        shown["words"] = " ".join(filter(None, [charts.describe(series), caveat, note]))
    else:
        plan = views.network
        assert plan is not None
        shown["edges"] = pictures.edges(plan, result["rows"], result["labels"])
        shown["headers"] = [header(c) for c in (plan.source, plan.target, plan.label) if c]
        shown["words"] = " ".join(filter(None, [pictures.network_words(shown["edges"]), note]))
    return shown


def terms_of(data: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Term]]]:
    """The variables and rows of a SPARQL JSON select answer, each value a Term, as pages and pictures
    show them: a value longer than SHOWN_CHARACTERS is cut there and ends in "…". A query of a few
    hundred characters makes values of megabytes, which a page showed whole and a picture wrapped into
    a label thousands of lines high."""
    rows = [
        {
            name: Term(v["type"], cut(v["value"], SHOWN_CHARACTERS), v.get("datatype"), v.get("xml:lang"))
            for name, v in row.items()
        }
        for row in data["results"]["bindings"]
    ]
    return list(data["head"]["vars"]), rows


# How often a page writes a value (an IRI as its link, its title and its text), and the markup of a cell.
PAGE_WRITES = 3
CELL_MARKUP = 100


def within_page(
    variables: list[str], rows: list[dict[str, Term]], max_bytes: int
) -> tuple[list[dict[str, Term]], bool]:
    """The first rows whose values in `variables`, as a page writes them (escaped, `&` as `&amp;`,
    PAGE_WRITES times each), take at most `max_bytes`, at least one; and whether rows were left out.
    An answer cut to `--max-answer-mb` as JSON made a page 14 times that: 227 MB of HTML from 2,870
    characters of query, 9 s and 1 GB more of the web process."""
    taken = 0
    for index, row in enumerate(rows):
        taken += sum(
            PAGE_WRITES * len(escape(row[name].value)) + CELL_MARKUP for name in variables if name in row
        )
        if taken > max_bytes and index:
            return rows[:index], True
    return rows, False


def iris_shown(variables: list[str], rows: list[dict[str, Term]]) -> set[str]:
    """The IRIs of the columns shown, whose labels a page or picture looks up."""
    return {row[v].value for row in rows for v in variables if v in row and row[v].is_iri}


def _select(answer: Answer) -> dict[str, Any]:
    """The answer's rows as Terms, with the labels and views the page computes for the same answer."""
    if answer.kind != "select":
        raise ServiceError(404, "pictures are drawn of SELECT answers only")
    every, rows = terms_of(json.loads(answer.body))
    variables = every[:SHOWN_VARIABLES]
    labels = services().labels(iris_shown(variables, rows))
    return {
        "rows": rows,
        "labels": labels,
        "views": views_of(variables, rows, labels),
        "truncated": answer.truncated,
        "count": answer.count,
    }


def _picture(answer: Answer, key: tuple[object, ...], fmt: str) -> Response:
    result = _select(answer)
    views: Views = result["views"]
    view = request.args.get("view", "")
    if view not in ("chart", "network"):
        raise ServiceError(404, "a picture is of the chart or the network view: ?view=chart or ?view=network")
    if not views.applies(view):
        raise ServiceError(404, f"no {view} view of this answer: {views.reasons[view]}")
    note = pictures.truncation_note(result["count"], result["truncated"])
    preset = request.args.get("preset") or "screen"
    if preset not in charts.PRESETS:
        raise ServiceError(404, f"no picture preset {preset!r}; presets: {', '.join(sorted(charts.PRESETS))}")

    def make() -> bytes:
        if view == "network":
            assert views.network is not None
            found = pictures.edges(views.network, result["rows"], result["labels"])
            return pictures.draw_network(views.network, found, note, fmt, preset)
        assert views.chart is not None
        series, caveat = _series(result, views)
        try:
            return charts.chart(
                series,
                fmt=fmt,
                style=views.chart.style,
                preset=preset,
                note=" ".join(filter(None, [caveat, note])),
            )
        except ValueError as error:
            raise ServiceError(404, f"nothing to chart: {error}") from None

    body = services().picture(("answer-view", *key, view, fmt, preset), make)
    return Response(body, mimetype=MIME[fmt])


@blueprint.get("/query/view.<any(svg, png):fmt>")
def query_picture(fmt: str) -> Response:
    """The chart or network of `?query=`, drawn from the rows the query page shows."""
    text = request.args.get("query")
    if not text:
        raise ServiceError(400, "no query: give it as ?query=")
    state = services()
    answer = run_sparql(text, formats=("json", "json", "turtle"), max_rows=state.config.page_rows)
    return _picture(answer, ("query", text), fmt)


@blueprint.get("/queries/<name>/view.<any(svg, png):fmt>")
def named_picture(name: str, fmt: str) -> Response:
    """The chart or network of a named question's answer, for the parameters given."""
    query: NamedQuery = find(name)
    if query.answer != "select":
        raise ServiceError(404, "pictures are drawn of SELECT answers only")
    given = {p.name: request.args[p.name] for p in query.parameters if p.name in request.args}
    answer = run_named(query, given, "json", services().config.page_rows)
    return _picture(answer, ("named", name, *sorted(given.items())), fmt)
