"""Who says a fact and in which words: the excerpts and agencies behind the facts of an answer."""

from __future__ import annotations

from kg.evidence.quotes import clean_quote

__all__ = ["clean_quote"]
