"""Opening a store by its spec: a folder for the embedded store, an http(s) URL for an endpoint."""

from __future__ import annotations

import re
from pathlib import Path

from kg.errors import KgError
from kg.store.base import ENDPOINT_TIMEOUT, Store, shown_url
from kg.store.embedded import EmbeddedStore

# Written like a URL: a scheme and a slash, or user information before the first slash.
_LIKE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/|[^/]*@")


def is_endpoint(spec: str | Path) -> bool:
    """Whether `spec` names a SPARQL endpoint rather than an embedded store's folder. A spec written
    like a URL of another kind (`ftp://`, `https:/`, `user:password@host`) that is no folder is
    refused here, before a message could show it, password and all, as a folder's name."""
    text = str(spec)
    if text.lower().startswith(("http://", "https://")):
        return True
    if _LIKE_URL.match(text) and not Path(text).exists():
        raise KgError(
            shown_url(
                f"the store {text} cannot be used: it is no folder, and an endpoint's URL starts http://"
                " or https://",
                text,
            )
        )
    return False


def open_store(spec: str | Path, timeout: float = ENDPOINT_TIMEOUT) -> Store:
    """The store `spec` names: a SPARQL endpoint for an http(s) URL, whose whole answer to a request
    may take `timeout` seconds, else an embedded store's folder.

    Every reader opens its store through this, so an external triple store
    stands in for the embedded one without other changes.
    """
    if is_endpoint(spec):
        from kg.store.remote import RemoteStore  # imported here: httpx loads only for an endpoint

        return RemoteStore(str(spec), timeout=timeout)
    return EmbeddedStore(Path(spec))
