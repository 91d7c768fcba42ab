"""Whether a response's answers came from the server's answer cache, as HTTP says it (RFC 9211).

An answer from the cache costs microseconds; the same question asked afresh can cost seconds at a
million triples. `Cache-Status: kg; hit` says every query a response needed was answered from the
cache (a question the server read ahead, or asked before), `kg; fwd=miss` that at least one was
sent to a query worker, whether it then answered or failed (a time limit). The query worker pool
tells of each query (`WorkerPool(on_answer=note)`), the pages' and the pictures' alike. A response
that needed no query (a static file, a page kept whole) carries no such header.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, has_app_context

blueprint = Blueprint("cache_status", __name__)
NAME = "kg"  # the cache's name in the header


def note(from_cache: bool) -> None:
    """Count one query of the current response, answered from the cache or not."""
    if has_app_context():
        g.kg_cache_misses = g.get("kg_cache_misses", 0) + (0 if from_cache else 1)


@blueprint.after_app_request
def say(response: Response) -> Response:
    misses = g.get("kg_cache_misses")
    if misses is not None:
        response.headers["Cache-Status"] = f"{NAME}; fwd=miss" if misses else f"{NAME}; hit"
    return response
