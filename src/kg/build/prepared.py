"""rdflib's SPARQL processor with each query text parsed once, for pyshacl, the reference engine.

pyshacl asks a SPARQL-based constraint's query once per focus node, with the
node bound, and hands rdflib the same text every time; rdflib parses it again
on each call, which took three quarters of a validation of the curated report.
A query parsed once is what rdflib's own `prepareQuery` gives for repeated
use, so the answers are the same.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from rdflib import plugin
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.processor import SPARQLProcessor
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import Processor
from rdflib.term import Identifier

_NAME = "sparql"  # the processor rdflib's Graph.query uses unless told otherwise


class PreparedProcessor(SPARQLProcessor):
    """rdflib's processor, given each query text as the query it prepared from that text before."""

    def query(  # type: ignore[override]  # the signature of the rdflib method it overrides
        self,
        strOrQuery: str | Query,  # noqa: N803  # rdflib's parameter names
        initBindings: Mapping[str, Identifier] | None = None,  # noqa: N803
        initNs: Mapping[str, Any] | None = None,  # noqa: N803
        base: str | None = None,
        DEBUG: bool = False,  # noqa: N803
    ) -> Mapping[str, Any]:
        if isinstance(strOrQuery, str):
            strOrQuery = prepared_query(strOrQuery, base, tuple(sorted((initNs or {}).items())))
        return super().query(strOrQuery, initBindings, initNs, base, DEBUG)


@functools.lru_cache(maxsize=1024)
def prepared_query(text: str, base: str | None, namespaces: tuple[tuple[str, Any], ...]) -> Query:
    """`text` parsed and translated, as rdflib's `prepareQuery` does, once per text, base and prefixes."""
    return translateQuery(parseQuery(text), base, dict(namespaces))


@contextmanager
def prepared_queries() -> Iterator[None]:
    """rdflib's graphs query through `PreparedProcessor` inside the block, and through the processor
    registered before it after it."""
    before = plugin.get(_NAME, Processor)
    plugin.register(_NAME, Processor, __name__, PreparedProcessor.__name__)
    try:
        yield
    finally:
        plugin.register(_NAME, Processor, before.__module__, before.__qualname__)
