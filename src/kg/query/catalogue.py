"""The catalogue of named questions: the `.rq` files of queries/ and of kg/query/internal.

They are read by the one loader of SPARQL files, `kg.store.queryfiles`, which the
build shares; these are its names as the readers and the public API know them.
"""

from __future__ import annotations

from kg.store.queryfiles import CatalogueError, NamedQuery, Parameter, load_catalogue, load_query, named_query

__all__ = ["CatalogueError", "NamedQuery", "Parameter", "load_catalogue", "load_query", "named_query"]
