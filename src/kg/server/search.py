"""/search and /api/search: find anything by name; the index the search box and autocomplete share.

The index is built from the served store on first use and kept, since the
store is read-only; a search then costs no query at all.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import cast

from flask import Blueprint, Response, jsonify, render_template, request

from kg.literals import capped_integer
from kg.namespaces import PREFIXES
from kg.query.catalogue import CatalogueError, NamedQuery
from kg.query.internal import typed
from kg.search import Hit, SearchIndex, SearchResult, index_from_store
from kg.search.index import TERM_WEIGHT, check_length
from kg.search.load import KIND_NAMES, named_as
from kg.search.resolve import Lookups, resolve_parameters

from .messages import Query
from .services import Services, client, services
from .workers import ServiceError

blueprint = Blueprint("search", __name__)
MAX_LIMIT = 100
INDEX = ("search-index",)  # what the search index is kept under (`Services.derived`)
INDEX_RETRY = 5  # seconds a search refused while the index is read says to wait


def search_index(state: Services | None = None) -> SearchIndex:
    """The served store's search index, read once for each build served; a lasting refusal of it is
    kept a while (`Services.derived`), so that each search need not wait out the time limit."""
    state = state or services()
    return state.derived(INDEX, lambda: index_from_store(state.values))


def search_index_within(state: Services) -> SearchIndex | None:
    """The search index, or None while it is still being read after the queue wait: a search then
    answers what it can without it rather than wait for the whole reading."""
    return state.derived_within(INDEX, lambda: index_from_store(state.values), state.config.queue_wait)


def index_being_read() -> ServiceError:
    """The refusal of what needs the search index while it is read: it will pass."""
    return ServiceError(503, "the search index is being read; try again shortly", retry_after=INDEX_RETRY)


def search_index_now(state: Services) -> SearchIndex:
    """The search index, or `index_being_read` raised when it is not read within the queue wait."""
    index = search_index_within(state)
    if index is None:
        raise index_being_read()
    return index


def resolve_given(query: NamedQuery, given: dict[str, str]) -> dict[str, str]:
    """The given parameter values with each IRI parameter resolved from an IRI, short name or label."""
    state = services()

    def exists(iri: str) -> bool:
        try:
            text, bindings = typed("mentions", iri=iri)
        except CatalogueError:
            return False  # not an IRI at all
        answer = state.run(Query(text, Query.sorted_bindings(bindings), max_rows=1))
        return bool(json.loads(answer.body)["boolean"])

    iri_parameters = {p.name: (p.default, p.enum) for p in query.parameters if p.type == "iri"}
    lookups = Lookups(exists, state.values, lambda: search_index_now(state))
    # a name spelt otherwise is searched in the index held here: charged as a search is
    return state.pool.worked(client(), lambda: resolve_parameters(iri_parameters, given, PREFIXES, lookups))


def _arguments() -> tuple[str, list[str], int]:
    text = request.args.get("q", "").strip()
    check_length(text)  # TooLong, a KgError: 400
    kinds = [k for k in request.args.getlist("kind") if k]
    known = set(KIND_NAMES)
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise ServiceError(400, f"no kind {unknown[0]!r}; kinds: {', '.join(sorted(known))}")
    given = request.args.get("limit", "20")
    # 0 and -1 had answered one hit; more than the most is the most (`total` says how many match)
    limit = capped_integer(given, MAX_LIMIT) if given.isascii() and given.isdigit() else 0
    if limit < 1:
        raise ServiceError(
            400, f"limit must be a whole number of 1 or more (at most {MAX_LIMIT} hits are given)"
        )
    return text, kinds, limit


def named_hits(state: Services, text: str, kinds: Iterable[str], limit: int) -> list[Hit]:
    """The things named `text` exactly, as the index would show them (the kinds wanted only), found
    without the index: what a search can still answer where the whole index is out of reach."""
    named = named_as(state.values, text)
    labels = state.labels(set(named))
    wanted = set(kinds)
    hits = []
    for iri, kind in named.items():
        if not wanted or kind in wanted:
            score = 100.0 * (TERM_WEIGHT if kind == "term" else 1.0)
            hits.append(Hit(iri, labels.get(iri, text), kind, score, "name", text))
    return sorted(hits, key=lambda hit: (-hit.score, hit.label, hit.iri))[:limit]


def searched(state: Services, text: str, kinds: list[str], limit: int) -> SearchResult:
    """The index's answer; where the index itself is refused (at ten million triples it takes longer
    to read than a query may run) or still being read, the things named exactly `text`, said to be
    only those, and why. Where none is, the refusal stands (an empty answer would say the graph holds
    no such thing); while the index is read, one that says when to ask again."""
    try:
        index = search_index_within(state)
    except ServiceError as refused:
        if refused.retry_after is not None:
            raise  # it may pass: said as such, not answered in part
        return _named_only(
            state, text, kinds, limit, refused, f"the search index is out of reach ({refused.message})"
        )
    if index is None:
        return _named_only(state, text, kinds, limit, index_being_read(), "the search index is being read")
    return state.pool.worked(client(), lambda: index.search(text, kinds, limit))


def _named_only(
    state: Services, text: str, kinds: list[str], limit: int, refusal: ServiceError, why: str
) -> SearchResult:
    """The things named exactly `text`, said to be only those because `why`; `refusal` where none is."""
    hits = named_hits(state, text, kinds, MAX_LIMIT)
    if not hits:
        raise refusal
    named = f"only what bears the name {text.strip()!r}, in that case or another: {why}"
    result = SearchResult(text, [], partial=named)
    result.keep(hits, limit)
    return result


@blueprint.get("/api/search")
def search_api() -> Response:
    """?q=TEXT[&kind=K…][&limit=N]: hits with label, kind, IRI, where its link goes (the local page, a web
    IRI, or null), the matching text."""
    text, kinds, limit = _arguments()
    state = services()
    result = searched(state, text, kinds, limit)
    body = result.as_json()
    hits = cast(list[dict[str, str | None]], body["hits"])  # as SearchResult.as_json writes them
    for hit in hits:
        hit["href"] = state.link(str(hit["iri"]))
    return unkept(jsonify(body), result)


def unkept(response: Response, result: SearchResult | None) -> Response:
    """An answer in part is not to be kept nor revalidated: the whole answer, once the index is read,
    comes from the same generation, so its tag (`generation.name_generation`) would be the same."""
    if result is not None and result.partial:
        response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/search")
def search_page() -> Response:
    """The hits, facets by kind (each a link that narrows the search), and what is near when none."""
    text, kinds, limit = _arguments()
    state = services()
    result = searched(state, text, kinds, max(limit, 50)) if text else None
    facets: dict[str, int] = {}
    if result is not None:
        # in part, the index is out of reach or being read: the names alone, without a second wait
        facets = (
            Counter(hit.kind for hit in named_hits(state, text, [], MAX_LIMIT))
            if result.partial
            else searched(state, text, [], 1).counts
        )
    return unkept(
        Response(
            render_template(
                "search.html",
                text=text,
                kinds=kinds,
                result=result,
                facets=facets,
                all_kinds=list(KIND_NAMES),
            )
        ),
        result,
    )
