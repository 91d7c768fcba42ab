"""/search and /api/search: find anything by name; the index the search box and autocomplete share.

The index is built from the served store on first use and kept, since the
store is read-only; a search then costs no query at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from flask import Blueprint, Response, jsonify, render_template, request

from kg.namespaces import PREFIXES
from kg.query.catalogue import NamedQuery
from kg.search import KINDS, SearchIndex, index_from_store
from kg.search.resolve import resolve_parameters

from .services import Services, services
from .workers import ServiceError

blueprint = Blueprint("search", __name__)
MAX_LIMIT = 100


def plain_rows(state: Services, sparql: str) -> Iterable[dict[str, str]]:
    """Every row of a SELECT the server asks itself, values as strings, uncapped."""
    answer = state.pool.run(sparql, None, max_rows=None, output_format="json")
    for row in json.loads(answer.body)["results"]["bindings"]:
        yield {name: value["value"] for name, value in row.items()}


def search_index(state: Services | None = None) -> SearchIndex:
    """The served generation's search index, built once for each generation."""
    chosen = state or services()
    return chosen.made(("search index",), lambda: index_from_store(lambda sparql: plain_rows(chosen, sparql)))


def resolve_given(query: NamedQuery, given: dict[str, str]) -> dict[str, str]:
    """The given parameter values with each IRI parameter resolved from an IRI, short name or label."""
    state = services()

    def exists(iri: str) -> bool:
        if ">" in iri or " " in iri:
            return False
        ask = f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} UNION {{ ?s <{iri}> ?o }} }}"
        return bool(json.loads(state.pool.run(ask, None, max_rows=1, output_format="json").body)["boolean"])

    iri_parameters = {p.name: (p.default, p.enum) for p in query.parameters if p.type == "iri"}
    return resolve_parameters(iri_parameters, given, PREFIXES, exists, lambda: search_index(state))


def _arguments() -> tuple[str, list[str], int]:
    text = request.args.get("q", "").strip()
    kinds = [k for k in request.args.getlist("kind") if k]
    known = {kind for kind, _ in KINDS}
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise ServiceError(400, f"no kind {unknown[0]!r}; kinds: {', '.join(sorted(known))}")
    try:
        limit = min(MAX_LIMIT, max(1, int(request.args.get("limit", "20"))))
    except ValueError:
        raise ServiceError(400, "limit must be a whole number") from None
    return text, kinds, limit


@blueprint.get("/api/search")
def search_api() -> Response:
    """?q=TEXT[&kind=K…][&limit=N]: hits with label, kind, IRI, the local page, the matching text."""
    text, kinds, limit = _arguments()
    state = services()
    result = search_index(state).search(text, kinds, limit)
    body = result.as_json()
    for hit in body["hits"]:  # type: ignore[union-attr]
        hit["href"] = state.local_path(hit["iri"])
    return jsonify(body)


@blueprint.get("/search")
def search_page() -> Response:
    """The hits, facets by kind (each a link that narrows the search), and what is near when none."""
    text, kinds, limit = _arguments()
    index = search_index()
    result = index.search(text, kinds, max(limit, 50)) if text else None
    facets: dict[str, int] = {}
    if text:
        for hit in index.search(text, (), MAX_LIMIT).hits:
            facets[hit.kind] = facets.get(hit.kind, 0) + 1
    return Response(
        render_template(
            "search.html",
            text=text,
            kinds=kinds,
            result=result,
            facets=facets,
            all_kinds=[k for k, _ in KINDS],
        )
    )
