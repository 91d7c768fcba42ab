"""`kg serve`: a read-only SPARQL endpoint, named-query API, linked-data pages and web UI.

create_app builds the Flask app from a ServerConfig; each concern is a
blueprint of its own. Blueprints from elsewhere in the project are listed in
EXTRA_BLUEPRINTS as "module:attribute" and registered the same way.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .config import ServerConfig

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["EXTRA_BLUEPRINTS", "ServerConfig", "create_app"]

EXTRA_BLUEPRINTS: tuple[str, ...] = ("kg.network.web:blueprint", "kg.server.search:blueprint")


def create_app(config: ServerConfig) -> Flask:
    """A Flask app answering from the current generation of the store at `config.store`.

    Building it is cheap: the query workers start on the first query, or when
    `kg serve` starts them to report their protections. Flask and the
    blueprints are imported here, not at module level, so that query workers,
    which import this package, start without them.
    """
    from flask import Flask, Response
    from werkzeug.exceptions import HTTPException

    from kg.errors import KgError

    from . import (
        api,
        cache_status,
        dataset,
        evidence_download,
        generation,
        headers,
        ontology,
        pages,
        resources,
        result_views,
        source,
        sparql,
    )
    from .responses import (
        error_response,
        from_exception,
        read_one_range_only,
        refuse_content_codings,
        refuse_long_headers,
        refuse_repeated_parameters,
        refuse_unreadable_urls,
        vary_by_accept,
    )
    from .services import Services

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body
    app.json.sort_keys = False  # type: ignore[attr-defined]  # the default provider's setting
    # werkzeug redirects a path with double slashes to an absolute URL on the request's Host (a 308 a
    # shared cache may keep for everyone); such a path is answered 404 instead, as any unknown path
    app.url_map.merge_slashes = False
    app.jinja_env.finalize = pages.shown_on_a_page
    app.extensions["kg"] = generation.ServedGenerations(config, Services)
    for module in (
        generation,
        headers,
        cache_status,
        sparql,
        api,
        evidence_download,
        dataset,
        ontology,
        source,
        pages,
        resources,
        result_views,
    ):
        app.register_blueprint(module.blueprint)
    for spec in EXTRA_BLUEPRINTS:
        module_name, _, attribute = spec.partition(":")
        app.register_blueprint(getattr(importlib.import_module(module_name), attribute))

    @app.errorhandler(KgError)
    def known_error(error: KgError) -> Response:
        return from_exception(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        """The error in the server's shape, with the headers HTTP gives it (a 405's `Allow`, a 416's
        `Content-Range`)."""
        response = error_response(error.code or 500, error.description or error.name)
        for name, value in error.get_headers():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        app.logger.exception("unexpected error")
        return error_response(500, "the server failed to answer; the error is logged")

    app.before_request(refuse_long_headers)
    app.before_request(refuse_content_codings)
    app.before_request(refuse_unreadable_urls)
    app.before_request(refuse_repeated_parameters)
    app.before_request(read_one_range_only)
    app.after_request(vary_by_accept)

    @app.after_request
    def cors(response: Response) -> Response:
        """Browser clients on other origins may query: every answer is public and read-only."""
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type"
        response.headers["Access-Control-Expose-Headers"] = (
            "KG-Truncated, KG-Result-Count, KG-Generation, Cache-Status"
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return app
