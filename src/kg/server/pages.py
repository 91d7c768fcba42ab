"""The web UI: a home page saying what the graph holds, the query page, and a page per named query."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from markupsafe import Markup

from kg.errors import KgError
from kg.evidence.facts import evidence_for
from kg.literals import IN_MARKUP, controls_shown
from kg.namespaces import PREFIXES, prefixed
from kg.query.catalogue import NamedQuery
from kg.query.explain import explain
from kg.query.internal import internal, typed
from kg.readable import readable
from kg.readable.views import views_of
from kg.search.load import kinds_of
from kg.search.resolve import Unresolved

from .api import find, run_named, with_defaults
from .messages import Answer
from .responses import refusal_status, told
from .result_views import (
    SHOWN_GRAPH_CHARACTERS,
    SHOWN_VARIABLES,
    iris_shown,
    terms_of,
    view_context,
    within_page,
)
from .search import resolve_given
from .services import Services, client, services
from .sparql import run_sparql
from .workers import ServiceError

blueprint = Blueprint("pages", __name__)
HOME_CLASSES = 15  # the commonest classes the home page lists


def shown_on_a_page(value: object) -> object:
    """Every value a template writes, with the direction overrides of a string shown as code points
    (`kg.literals.controls_shown`), escaped where the value is already HTML."""
    if isinstance(value, Markup):
        return Markup(controls_shown(str(value), IN_MARKUP))
    return controls_shown(value) if isinstance(value, str) else value


@blueprint.app_template_filter("href")
def href(iri: str) -> str | None:
    """Where a page links an IRI (`Services.link`)."""
    return services().link(iri)


@blueprint.app_template_filter("prefixed")
def prefixed_name(iri: str) -> str:
    """An IRI without a label as a page shows it: `rdf:type` (`kg.namespaces.prefixed`)."""
    return prefixed(iri)


def home_data(state: Services) -> dict[str, object]:
    """Counts and main entities; their queries' answers come from the one cache once asked."""
    classes = list(state.classes.items())[:HOME_CLASSES]
    groups: dict[str, list[tuple[str, str]]] = {}
    for row in state.select(*typed("main-resources")):
        entries = groups.setdefault(row["group"].value, [])
        if row["s"].value not in {iri for iri, _ in entries}:
            entries.append((row["s"].value, row["label"].value))
    return {
        "graphs": state.graphs,
        "classes": classes,
        "groups": groups,
        "class_labels": state.labels({c for c, _ in classes}),
    }


@blueprint.get("/favicon.ico")
def favicon() -> Response:
    """Where a browser looks for an icon when a page names none (an answer opened as a file of its own)."""
    return redirect(url_for("static", filename="favicon.svg"), 301)  # type: ignore[return-value]  # werkzeug's redirect Response


@blueprint.get("/")
def home() -> Response:
    state = services()
    return Response(
        render_template(
            "home.html", **home_data(state), catalogue=state.catalogue, settings=state.config.settings()
        )
    )


def table(answer: Answer) -> dict[str, object]:
    """An answer as the page shows it, made for the client who asked and charged to it as a query is:
    a few hundred rows of a few dozen columns, labelled, grouped and with their evidence, are work of
    this process, which a client asking for many pages at once must not have for free."""
    return services().pool.worked(client(), lambda: _shown_answer(answer))


def _answer_page(template: str, result: dict[str, object] | None, **context: object) -> str:
    """A page with its answer, if any, made for the client who asked and charged to it as its table is:
    the views and the HTML of a few hundred rows were 40 % of such a page's CPU, uncharged."""

    def render() -> str:
        return render_template(template, result=result, shown=view_context(result), **context)

    return render() if result is None else services().pool.worked(client(), render)


def _shown_answer(answer: Answer) -> dict[str, object]:
    """Variables and rows of Terms, a boolean, or RDF text."""
    state = services()
    config = state.config
    # Where the page's rows are all a client's answer may hold, its downloads hold no more.
    server_cap = config.max_rows if config.page_rows == config.max_rows else None
    if answer.kind == "graph":
        text = answer.body.decode("utf-8")
        return {
            "kind": "graph",
            "text": text[:SHOWN_GRAPH_CHARACTERS],
            "cut_at": SHOWN_GRAPH_CHARACTERS if len(text) > SHOWN_GRAPH_CHARACTERS else None,
            "truncated": answer.truncated,
            "server_cap": server_cap,
            "count": answer.count,
        }
    data = json.loads(answer.body)
    if "boolean" in data:
        return {"kind": "ask", "boolean": data["boolean"]}
    every, rows = terms_of(data)
    variables = every[:SHOWN_VARIABLES]
    rows, cut_to_size = within_page(variables, rows, config.max_answer_mb * 2**20)
    iris = iris_shown(variables, rows)
    labels = state.labels(iris)
    evidence = evidence_for(state.values, iris)
    return {
        "kind": "select",
        "variables": variables,
        "rows": rows,
        "labels": labels,
        "readable": readable(variables, rows, labels, evidence),
        "views": views_of(variables, rows, labels),
        "base_url": config.base_url.rstrip("/"),
        "truncated": answer.truncated or cut_to_size,
        "server_cap": None if cut_to_size else server_cap,
        "count": len(rows) if cut_to_size else answer.count,
        "columns": len(every),
        "shown_columns": len(variables),
    }


def _error(error: KgError) -> dict[str, Any]:
    return {
        "status": error.status,
        "message": told(error.public),
        "line": error.line,
        "column": error.column,
        "retry_after": error.retry_after,
    }


def _shown(response: Response, error: dict[str, Any] | None) -> Response:
    """A page that shows a refusal in place, with the refusal's status and headers."""
    return refusal_status(response, error["status"], error["retry_after"]) if error else response


def _explained(text: str, message: str) -> str:
    """`message` in words a beginner can act on, read in this process and charged to the client as
    the reading of its query is; the engine's own message where the client may not be charged more."""
    try:
        return services().pool.worked(client(), lambda: explain(text, message), gated=False)
    except KgError:
        return message


@blueprint.get("/query")
def query_page() -> Response:
    """The editor, pre-filled from the catalogue menu or ?query=; the answer or the error in place."""
    state = services()
    chosen = request.args.get("name")
    text = None if "load" in request.args else request.args.get("query")
    if text is None:
        first = state.catalogue.get(chosen or "") or next(iter(state.catalogue.values()), None)
        text = with_defaults(first) if first else internal("editor-example").text
    result = error = None
    if "query" in request.args and "load" not in request.args:
        try:
            result = table(
                run_sparql(text, formats=("json", "json", "turtle"), max_rows=state.config.page_rows)
            )
        except KgError as failure:
            error = _error(failure)
            if error["status"] == 400:  # a text the engine cannot read: which PREFIX it lacks
                error["message"] = _explained(text, error["message"])
    editors = {name: {"summary": q.summary, "text": with_defaults(q)} for name, q in state.catalogue.items()}
    return _shown(
        Response(
            _answer_page(
                "query.html",
                result,
                text=text,
                error=error,
                catalogue=state.catalogue,
                chosen=chosen,
                editors=editors,
                prefixes=PREFIXES,
            )
        ),
        error,
    )


@blueprint.get("/downloads")
def downloads() -> Response:
    """What can be taken away, in which format, and what each file holds."""
    state = services()
    return Response(render_template("downloads.html", graphs=state.graphs))


# Topics of the catalogue, by a question's first tag, in the order an analyst reads them.
TOPICS = {
    "flows": "Routes and sources",
    "statistics": "Statistics over time",
    "seizures": "Statistics over time",
    "programmes": "Programmes and cooperation",
    "cooperation": "Programmes and cooperation",
    "policy": "Policy and Congress",
    "congress": "Policy and Congress",
    "precursors": "Policy and Congress",
    "places": "Places, actors and substances",
    "security": "Places, actors and substances",
    "substances": "Places, actors and substances",
}
OTHER_TOPIC = "Evidence and the graph itself"


def by_topic(catalogue: dict[str, NamedQuery]) -> dict[str, list[tuple[str, NamedQuery]]]:
    """The catalogue's questions grouped by topic, topics in TOPICS order, the rest last."""
    order = list(dict.fromkeys([*TOPICS.values(), OTHER_TOPIC]))
    groups: dict[str, list[tuple[str, NamedQuery]]] = {topic: [] for topic in order}
    for name, query in catalogue.items():
        groups[TOPICS.get(query.tags[0] if query.tags else "", OTHER_TOPIC)].append((name, query))
    return {topic: found for topic, found in groups.items() if found}


@blueprint.get("/queries")
def named_list() -> Response:
    return Response(render_template("queries.html", topics=by_topic(services().catalogue)))


@blueprint.get("/queries/<name>")
def named_page(name: str) -> Response:
    """One named question: its form and, once asked, its answer as a table."""
    query = find(name)
    given = {p.name: request.args[p.name] for p in query.parameters if p.name in request.args}
    result = error = None
    state = services()
    unresolved: ServiceError | None = None
    resolved: dict[str, str] = {}  # the values given, as IRIs, once each name is found
    try:  # once for the form and the answer: a name may need the search index, waited for each time
        shown = resolved = resolve_given(query, given)
    except Unresolved as failure:
        shown, unresolved = given, ServiceError(400, str(failure))  # said when the question is asked
    except ServiceError as failure:  # a name is looked up in the search index, which may be refused
        shown = given  # the form keeps what was typed
        error = _error(failure)
    if request.args.get("run") and unresolved is not None:
        error = _error(unresolved)
    elif request.args.get("run") and error is None:
        try:
            output = "turtle" if query.answer in ("construct", "describe") else "json"
            result = table(run_named(query, given, output, state.config.page_rows, resolved=shown))
        except ServiceError as failure:
            error = _error(failure)
    iri_values = {p.name: shown.get(p.name, p.default or "") for p in query.parameters if p.type == "iri"}
    kinds: dict[str, str] = {}
    labels: dict[str, str] = {}
    try:  # the form's own reading: refused (the budget, a busy server), the form shows without it
        kinds = kinds_of(state.values, {p.default for p in query.parameters if p.type == "iri" and p.default})
        labels = state.labels(
            {v for v in iri_values.values() if v} | {v for p in query.parameters for v in p.enum}
        )
    except ServiceError as failure:
        error = error or _error(failure)
    return _shown(
        Response(
            _answer_page(
                "named.html",
                result,
                query=query,
                given=given,
                error=error,
                editor=with_defaults(query, resolved),
                kinds={p.name: kinds.get(p.default or "", "") for p in query.parameters},
                chosen_labels={name: labels.get(value, "") for name, value in iri_values.items()},
                enum_labels=labels,
            )
        ),
        error,
    )
