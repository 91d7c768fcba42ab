"""The catalogue of named questions as a JSON API, described in OpenAPI 3."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, jsonify, request, url_for

from kg.query.catalogue import CatalogueError, NamedQuery
from kg.search.resolve import Unresolved
from kg.store.queryfiles import binding_terms
from kg.store.sparql import NotAQuery, with_values

from .messages import Answer, Query
from .responses import ASK_MEDIA, GRAPH_MEDIA, SELECT_MEDIA, answer_response, negotiate, offered
from .search import resolve_given
from .services import services
from .workers import ServiceError

blueprint = Blueprint("api", __name__, url_prefix="/api")
SCHEMA_TYPES = {
    "iri": {"type": "string", "format": "iri"},
    "string": {"type": "string"},
    "english": {"type": "string"},
    "integer": {"type": "integer"},
    "decimal": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "year": {"type": "string", "pattern": "^[0-9]{4}$"},
}


def describe(query: NamedQuery) -> dict[str, object]:
    """What a client needs to call one named query."""
    return {
        "name": query.name,
        "title": query.summary,
        "question": query.description,
        "answer": query.answer,
        "tags": list(query.tags),
        "parameters": [
            {
                "name": p.name,
                "type": p.type,
                "description": p.description,
                "default": p.default,
                **({"enum": list(p.enum)} if p.enum else {}),
            }
            for p in query.parameters
        ],
        "url": services().public_url(url_for("api.run_named_query", name=query.name)),
        "page": services().public_url(url_for("pages.named_page", name=query.name)),
        "sparql": with_defaults(query),
        "template": query.text,
    }


def with_defaults(query: NamedQuery, given: Mapping[str, str] | None = None) -> str:
    """A catalogue query as standalone SPARQL, as the editor opens it and the listing gives it to run
    anywhere: its parameters' values written in as `kg query` binds them, in the query's own blocks
    of values where it has them, else in a VALUES block opening its WHERE pattern (a clause appended
    after the query would leave the own blocks empty). The values are those `given` (resolved: IRIs,
    not names), the defaults for the rest; given values that do not bind leave the defaults alone. A
    parameter without a value is left for the analyst to bind: unbound, its own blocks empty. A text
    that takes no values stays as written: one such question must not take the editor from the
    others."""
    values = {p.name: p.fallback for p in query.parameters if p.fallback is not None} | dict(given or {})
    try:
        bound = {name: query.parameter(name).bind(raw) for name, raw in values.items() if raw is not None}
        return with_values(query.text, binding_terms(bound))
    except NotAQuery:
        return query.text
    except CatalogueError:
        if given:
            return with_defaults(query)
        raise


def find(name: str) -> NamedQuery:
    catalogue = services().catalogue
    if name not in catalogue:
        raise ServiceError(404, f"no named query {name!r}; GET /api/queries lists them")
    return catalogue[name]


def run_named(
    query: NamedQuery,
    given: dict[str, str],
    output_format: str | None,
    max_rows: int | None = None,
    resolved: dict[str, str] | None = None,
) -> Answer:
    """Run a catalogue query with typed parameters; a bad value is a 400 naming the parameter.

    An IRI parameter may be given by IRI, short name (country:MX) or label (Mexico); one that names
    nothing, or several things, is a 400 listing the candidates. `resolved` is `resolve_given`'s
    answer for `given` where the caller has it already (a name may need the search index).
    """
    try:
        bindings = query.bindings(resolve_given(query, given) if resolved is None else resolved)
    except (CatalogueError, Unresolved) as error:
        raise ServiceError(400, str(error)) from None
    state = services()
    return state.run(
        Query(
            query.text,
            Query.sorted_bindings(bindings),
            max_rows=max_rows or state.config.max_rows,
            select_format=output_format,
            ask_format=output_format,
            graph_format=output_format,
        )
    )


@blueprint.get("/queries")
def list_queries() -> Response:
    state = services()
    return jsonify(queries=[describe(q) for q in state.catalogue.values()], settings=state.config.settings())


def answer_media(query: NamedQuery) -> dict[str, str]:
    """The media types a question's answer is written in, by its form: SPARQL's CSV and TSV results
    hold solutions, so an ASK is answered in JSON or XML alone."""
    if query.answer in ("construct", "describe"):
        return GRAPH_MEDIA
    return ASK_MEDIA if query.answer == "ask" else SELECT_MEDIA


@blueprint.get("/queries/<name>")
def run_named_query(name: str) -> Response:
    """Results by Accept or ?format=; every other query-string argument is a parameter."""
    query = find(name)
    media = answer_media(query)
    given = request.args.to_dict()
    chosen = negotiate(media, given.pop("format", None))
    if chosen is None:
        raise ServiceError(406, f"this query answers in: {offered(media)}")
    return answer_response(run_named(query, given, chosen))


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """OpenAPI 3 for the catalogue: one path per named query, its parameters typed."""
    state = services()
    paths: dict[str, object] = {
        "/api/queries": {
            "get": {
                "summary": "The catalogue of named questions",
                "operationId": "listQueries",
                "responses": {
                    "200": {
                        "description": "The catalogue and the server's limits",
                        "content": {"application/json": {}},
                    }
                },
            }
        }
    }
    for query in state.catalogue.values():
        media = sorted(set(answer_media(query)))
        parameters = [
            {
                "name": p.name,
                "in": "query",
                "required": False,
                "description": p.description,
                "schema": {
                    **SCHEMA_TYPES[p.type],
                    **({"default": p.default} if p.default else {}),
                    **({"enum": list(p.enum)} if p.enum else {}),
                },
            }
            for p in query.parameters
        ]
        parameters.append(
            {
                "name": "format",
                "in": "query",
                "required": False,
                "description": "Overrides Accept",
                "schema": {"type": "string"},
            }
        )
        paths[f"/api/queries/{query.name}"] = {
            "get": {
                "summary": query.summary,
                "description": query.description,
                "operationId": query.name,
                "tags": list(query.tags),
                "parameters": parameters,
                "responses": {
                    "200": {"description": "The answer", "content": {m: {} for m in media}},
                    "400": {"description": "A parameter value does not fit its type", **_error},
                    "406": {"description": "No acceptable format", **_error},
                    "504": {"description": "Stopped at the time limit", **_error},
                },
            }
        }
    return jsonify(
        openapi="3.0.3",
        info={
            "title": "opioid-kg named queries",
            "version": "1",
            "description": "Named questions over the opioid-kg knowledge graph.",
        },
        servers=[{"url": services().config.base_url.rstrip("/")}],
        paths=paths,
        components={"schemas": {"Error": _error_schema}},
    )


_error_schema = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "message": {"type": "string"},
                "line": {"type": "integer"},
                "column": {"type": "integer"},
            },
        }
    },
}
_error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
