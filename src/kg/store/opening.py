"""Opening a store by its spec: a folder for the embedded store, an http(s) URL for an endpoint."""

from __future__ import annotations

from pathlib import Path

from kg.store.base import ENDPOINT_TIMEOUT, Store
from kg.store.embedded import EmbeddedStore


def is_endpoint(spec: str | Path) -> bool:
    """Whether `spec` names a SPARQL endpoint rather than an embedded store's folder."""
    return str(spec).lower().startswith(("http://", "https://"))


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
