"""Linked data: every dataset IRI resolves here, as a page for browsers and RDF for clients.

The canonical namespace https://w3id.org/opioid-kg/ maps onto this server's
root: …/id/substance/fentanyl is served at /id/substance/fentanyl,
…/graph/data at /graph/data. A file extension (.ttl, .nt, .jsonld, .rdf)
picks the format for people pasting links.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from kg.evidence.facts import characters, offset
from kg.evidence.quotes import clean_quote
from kg.namespaces import PREFIXES
from kg.query.internal import standalone, typed
from kg.search.load import kinds_of
from kg.store.description import DATASET

from .dataset import description_response
from .messages import Query
from .responses import EXTENSIONS, GRAPH_MEDIA, answer_response, negotiate, offered
from .services import Term, services
from .workers import ServiceError

blueprint = Blueprint("resources", __name__)
RESOURCE_MEDIA = {k: v for k, v in GRAPH_MEDIA.items() if v != "nquads"}
# "Links to here" grouped by what links: the kinds of the search index, as headings.
KIND_HEADINGS = {
    "statistic": "Statistics",
    "route": "Routes",
    "leg": "Legs of routes",
    "fact": "Facts",
    "policy": "Policies and questions",
    "programme": "Programmes",
    "substance": "Substances",
    "place": "Places",
    "agency": "Agencies",
    "actor": "Groups and people",
    "excerpt": "Excerpts",
    "document": "Documents",
    "period": "Periods",
    "term": "Terms of the ontology",
    "other": "Other things",
}
HEADING_ORDER = list(dict.fromkeys(KIND_HEADINGS.values()))
# Links to here a page lists at most: a country may be linked to hundreds of thousands of times.
SHOWN_LINKS = 500


def _split_extension(path: str) -> tuple[str, str | None]:
    """A path and the format its extension names (`.ttl`), where that is one a resource is offered in
    by Accept too: `.nq` served N-Quads, which Accept could not ask for (406)."""
    stem, dot, extension = path.rpartition(".")
    if dot and EXTENSIONS.get(extension) in RESOURCE_MEDIA.values() and "/" not in extension:
        return stem, EXTENSIONS[extension]
    return path, None


@blueprint.get("/id/<path:rest>")
def resource(rest: str) -> Response:
    """One resource: HTML with its properties, incoming links and supporting excerpts; or its RDF."""
    path, by_extension = _split_extension(rest)
    state = services()
    iri = state.canonical("id/" + path)
    chosen = by_extension or negotiate(RESOURCE_MEDIA, request.args.get("format"), html=True)
    if chosen is None:
        raise ServiceError(406, f"a resource is offered as: {offered(RESOURCE_MEDIA, True)}")
    if iri == DATASET:
        return _dataset(chosen)
    if chosen != "html":
        description = typed("resource-description", s=iri)
        answer = state.run(
            Query(
                description[0],
                Query.sorted_bindings(description[1]),
                max_rows=state.config.max_rows,
                graph_format=chosen,
            )
        )
        if answer.count == 0:
            raise ServiceError(404, f"<{iri}> is not in this dataset")
        return answer_response(answer)
    outgoing = state.select(*typed("resource-outgoing", s=iri))
    incoming, more = state.first(*typed("resource-incoming", o=iri), SHOWN_LINKS)
    if not outgoing and not incoming:
        raise ServiceError(404, f"<{iri}> is not in this dataset")
    # Sorted as SPARQL orders them (blank nodes before IRIs): the first in the store's order, if more.
    incoming.sort(key=lambda row: (row["p"].value, row["s"].is_iri, row["s"].value))
    # Only where some are not shown: counting every link of a much-linked thing takes a moment.
    links_by_property = state.select(*typed("resource-links-by-property", o=iri)) if more else []
    support = state.select(*typed("resource-evidence", s=iri))
    own = [
        {
            "exact": clean_quote(row["exact"].value),
            "source": row["source"].value,
            "characters": _characters(row),
        }
        for row in state.select(*typed("resource-own-quote", s=iri))
    ]
    properties: dict[str, list[tuple[Term, str]]] = defaultdict(list)
    for row in outgoing:
        properties[row["p"].value].append((row["o"], row["g"].value))
    mentioned = {iri} | set(properties) | {r["s"].value for r in incoming} | {r["p"].value for r in incoming}
    mentioned |= {row["p"].value for row in links_by_property}
    mentioned |= {t.value for values in properties.values() for t, _ in values if t.is_iri}
    mentioned |= {r[k].value for r in support for k in ("agency", "source") if k in r}
    mentioned |= {row["source"] for row in own}
    labels = state.labels(mentioned)
    types = [t for t, _ in properties.get("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", [])]
    excerpts: dict[str, dict[str, Any]] = {}
    for row in support:
        entry = excerpts.setdefault(
            row["excerpt"].value,
            {
                "exact": clean_quote(row["exact"].value) if "exact" in row else "",
                "characters": _characters(row),
                "role": row["role"].value,
                "source": row["source"].value,
                "agencies": [],
            },
        )
        if "agency" in row and row["agency"].value not in entry["agencies"]:
            entry["agencies"].append(row["agency"].value)
    # The kinds of this resource and of what links to it, read for these only: the whole search index
    # takes longer to read at 10 M triples than a query may run.
    kinds = kinds_of(state.values, {iri} | {row["s"].value for row in incoming})
    linked: dict[str, list[dict[str, Term]]] = defaultdict(list)
    for row in incoming:
        linked[KIND_HEADINGS.get(kinds.get(row["s"].value, "other"), "Other things")].append(row)
    skos, rdfs = PREFIXES["skos"], PREFIXES["rdfs"]
    definitions = [*english(properties, skos + "definition"), *english(properties, rdfs + "comment")]
    summary = {
        "kind": kind if (kind := kinds.get(iri)) != "other" or labels.get(iri) else None,
        "names": english(properties, skos + "altLabel"),
        "definition": definitions[0] if definitions else None,
    }
    return Response(
        render_template(
            "resource.html",
            iri=iri,
            label=labels.get(iri),
            types=types,
            properties=properties,
            incoming=incoming,
            links_by_property=[(row["p"].value, int(row["links"].value)) for row in links_by_property],
            all_links_query=standalone("resource-incoming", o=iri) if more else None,
            page_rows=state.config.page_rows,
            download_rows=state.config.max_rows,
            linked=dict(sorted(linked.items(), key=lambda item: HEADING_ORDER.index(item[0]))),
            summary=summary,
            excerpts=excerpts,
            own_quote=own[0] if own else None,
            labels=labels,
            downloads={name: f"/id/{path}.{ext}" for ext, name in EXTENSIONS.items() if name != "nquads"},
        )
    )


def _dataset(output_format: str) -> Response:
    """The dataset's own IRI: its description for RDF clients, the home page for browsers."""
    if output_format == "html":
        response = redirect(url_for("pages.home"))
    else:
        response = description_response(output_format)
    response.vary.add("Accept")
    return response  # type: ignore[return-value]  # werkzeug's redirect Response


@blueprint.get("/graph/<name>")
def named_graph(name: str) -> Response:
    """A named graph of the dataset: a summary page, or its triples by Accept."""
    path, by_extension = _split_extension(name)
    state = services()
    iri = state.canonical("graph/" + path)
    if iri not in state.graphs:
        raise ServiceError(404, f"<{iri}> is not a named graph of this dataset")
    chosen = by_extension or negotiate(RESOURCE_MEDIA, request.args.get("format"), html=True)
    if chosen is None:
        raise ServiceError(406, f"a graph is offered as: {offered(RESOURCE_MEDIA, True)}")
    if chosen == "html":
        return Response(
            render_template(
                "graph.html",
                iri=iri,
                name=path,
                triples=state.graphs[iri],
                downloads={fmt: f"/graph/{path}.{ext}" for ext, fmt in EXTENSIONS.items() if fmt != "nquads"},
            )
        )
    return graph_answer(iri, chosen)


def graph_answer(iri: str, output_format: str) -> Response:
    """Every triple of one named graph (its IRI checked against the dataset's graphs by the caller)."""
    return answer_response(services().graph(iri, output_format))


@blueprint.get("/shapes")
def shapes() -> Response:
    """The SHACL shapes namespace: its graph's page for browsers, its Turtle for clients."""
    iri = services().canonical("graph/shapes")
    chosen = negotiate(RESOURCE_MEDIA, request.args.get("format"), html=True)
    if chosen is None:
        raise ServiceError(406, f"the shapes are offered as: {offered(RESOURCE_MEDIA, True)}")
    if chosen == "html":
        return redirect(url_for("resources.named_graph", name="shapes"))  # type: ignore[return-value]  # werkzeug's redirect Response
    return graph_answer(iri, chosen)


def english(properties: dict[str, list[tuple[Term, str]]], predicate: str) -> list[str]:
    """The texts of a property in English or in no language, as the search index reads names."""
    return [
        term.value.strip()
        for term, _ in properties.get(predicate, [])
        if term.type == "literal" and (not term.lang or term.lang.lower().split("-")[0] == "en")
    ]


def _characters(row: dict[str, Term]) -> str:
    """Where an excerpt's quote stands in its report's text, in words, from its position selector."""
    start, end = (offset(row[name].value) if name in row else None for name in ("start", "end"))
    return characters(start, end)
