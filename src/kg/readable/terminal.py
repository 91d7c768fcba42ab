"""`kg query --format readable`: a SELECT answer from the store with labels, units and evidence."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.evidence.facts import Evidence, evidence_for
from kg.evidence.texts import source_text_path
from kg.files import read_source_text
from kg.query.run import QueryResult
from kg.readable.labels import labels_for
from kg.readable.table import readable
from kg.readable.text import text_table
from kg.readable.values import XSD
from kg.search.load import store_select
from kg.store.base import Store

PLAIN = {XSD + "string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}


class Value:
    """An Oxigraph term in the shape of a SPARQL JSON term, as the readable table reads it."""

    def __init__(self, term: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
        self.type = (
            "uri"
            if isinstance(term, ox.NamedNode)
            else "bnode"
            if isinstance(term, ox.BlankNode)
            else "literal"
        )
        self.value = term.value
        literal = term if isinstance(term, ox.Literal) else None
        self.lang = literal.language if literal else None
        self.datatype = literal.datatype.value if literal and literal.datatype.value not in PLAIN else None


def readable_text(sources: Path, store: Store, result: QueryResult) -> str:
    """The answer as labelled blocks, each with its evidence located as FILE:LINE under `sources`."""
    rows = [{name: Value(term) for name, term in row.items()} for row in result.rows]
    iris = {value.value for row in rows for value in row.values() if value.type == "uri"}
    select = store_select(store)
    table = readable(result.variables, rows, labels_for(select, iris), evidence_for(select, iris))
    texts: dict[str, str] = {}

    def where(item: Evidence) -> str:
        if not item.file or item.start is None:
            return item.excerpt
        path = source_text_path(sources, item.file)
        if path is None:
            return item.excerpt
        if item.file not in texts:
            texts[item.file] = read_source_text(path) if path.is_file() else ""
        line = texts[item.file].count("\n", 0, item.start) + 1
        return f"{path}:{line}"

    return text_table(table, where, len(result.rows), result.truncated)
