"""Answers as a reader reads them: labels, units, qualifiers in words, grouped rows, the evidence beside."""

from __future__ import annotations

from kg.readable.table import Cell, ReadableTable, Row, readable

__all__ = ["Cell", "ReadableTable", "Row", "readable"]
