"""Find anything in the graph by name: labels, alternative names, definitions and excerpt text.

The index is built once from the store (never from the files under graph/) and
answers in memory, so the search box, autocomplete and `kg search` stay fast.
"""

from __future__ import annotations

from kg.search.index import Hit, SearchIndex, SearchResult, normalize
from kg.search.load import KINDS, index_from_store

__all__ = ["KINDS", "Hit", "SearchIndex", "SearchResult", "index_from_store", "normalize"]
