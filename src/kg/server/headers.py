"""Headers every response carries: what a browser may load and run, who may frame a page, what a
link out tells the site it leads to.

The site's own pages load scripts and styles only from this server (`/static/`),
so their policy allows nothing inline (the ontology page too: pyLODE's body is
shown in the site's frame, with the site's stylesheet). The interactive network
picture is written by another generator with inline parts: `allow_inline` lets
it run exactly its own inline scripts (by their SHA-256) and use inline styles,
and lets the network page frame it.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Blueprint, Response

blueprint = Blueprint("headers", __name__)

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
EVERY_RESPONSE = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", re.S | re.I)
_DATA_BLOCK = re.compile(rb"""\btype=["']?application/(ld\+)?json""", re.I)


def policy(**changes: str) -> str:
    """The Content-Security-Policy header value, with `changes` (script_src=...) to the defaults."""
    chosen = POLICY | {name.replace("_", "-"): value for name, value in changes.items()}
    return "; ".join(f"{name} {value}" for name, value in chosen.items())


def security_headers() -> dict[str, str]:
    """The headers of every response, including the errors the HTTP server writes itself."""
    return {"Content-Security-Policy": policy(), **EVERY_RESPONSE}


@blueprint.after_app_request
def protect(response: Response) -> Response:
    """A page's own policy (set by `allow_inline`) stands; every other response gets the site's."""
    for name, value in security_headers().items():
        response.headers.setdefault(name, value)
    return response


def allow_inline(response: Response, *, framed_by_site: bool = False) -> Response:
    """Let a generated page run its own inline scripts and use inline styles; nothing else inline."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + "'"
        for attributes, body in _INLINE_SCRIPT.findall(response.get_data())
        if not _DATA_BLOCK.search(attributes)
    ]
    response.headers["Content-Security-Policy"] = policy(
        script_src=" ".join(["'self'", *hashes]),
        style_src="'self' 'unsafe-inline'",
        frame_ancestors="'self'" if framed_by_site else "'none'",
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN" if framed_by_site else "DENY"
    return response
