"""Lexical checks for typed literals.

Parsers and pyshacl accept a malformed `"20x1"^^xsd:gYear` without complaint, so
the build checks the lexical form of every XSD-typed literal itself.
"""

from __future__ import annotations

import re
from datetime import date

XSD = "http://www.w3.org/2001/XMLSchema#"

_TZ = r"(Z|[+-]\d{2}:\d{2})?"
_PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern)
    for name, pattern in {
        "integer": r"[+-]?\d+",
        "nonNegativeInteger": r"\+?\d+",
        "positiveInteger": r"\+?0*[1-9]\d*",
        "decimal": r"[+-]?(\d+(\.\d*)?|\.\d+)",
        "double": r"[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|INF|NaN)",
        "boolean": r"true|false|1|0",
        "gYear": r"-?\d{4,}" + _TZ,
        "gYearMonth": r"-?\d{4,}-(0[1-9]|1[0-2])" + _TZ,
        "date": r"-?\d{4,}-\d{2}-\d{2}" + _TZ,
        "dateTime": r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?" + _TZ,
        "duration": r"-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?",
        "anyURI": r"\S*",
    }.items()
}


def lexical_error(lexical: str, datatype: str) -> str | None:
    """Why `lexical` is not a valid form of `datatype`, or None when it is (or is not checked)."""
    if not datatype.startswith(XSD):
        return None
    name = datatype[len(XSD) :]
    pattern = _PATTERNS.get(name)
    if pattern is None:
        return None
    if not pattern.fullmatch(lexical):
        return f'"{lexical}" is not a valid xsd:{name}'
    if name == "date":
        try:
            date.fromisoformat(lexical[:10])
        except ValueError:
            return f'"{lexical}" is not a calendar date'
    return None
