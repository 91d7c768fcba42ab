"""Lexical checks for typed literals, as XML Schema 1.1 defines the datatypes RDF 1.1 uses.

Oxigraph's parser and pyshacl accept a malformed `"20x1"^^xsd:gYear` without complaint, and the
store then keeps what it can make of it (`"300"^^xsd:byte` as the integer 300), where Jena warns
and its SHACL engine counts a violation. So the build checks the lexical form, and the range, of
every XSD-typed literal itself, and refuses the XSD names RDF 1.1 does not use (`xsd:QName`, `xsd:ID`,
a misspelt `xsd:interger`).
"""

from __future__ import annotations

import re

from kg.namespaces import XSD

_YEAR = r"-?([1-9]\d{3,}|0\d{3})"
_ZONE = r"(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))?"
_TIME = r"(([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?|24:00:00(\.0+)?)"
# Not "+INF": XML Schema 1.0, and Jena, refuse it.
_NUMBER = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|-?INF|NaN"
_B64 = r"[A-Za-z0-9+/] ?"
_NAME_START = (
    ":A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_NAME_REST = _NAME_START + r"\-.0-9\u00b7\u0300-\u036f\u203f\u2040"
# What XML, and so XML Schema, does not count as a character: most controls, surrogates, U+FFFE/F.
_NOT_A_CHARACTER = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DAY = re.compile(r"(-?\d+)-(\d\d)-(\d\d)")
# ASCII: Python's \\d also matches other scripts' digits ("١٢"), which XML Schema does not.
_PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.ASCII)
    for name, pattern in {
        "string": r"(?s:.)*",
        "normalizedString": r"(?s:.)*",  # white space is replaced by spaces, not refused
        "token": r"(?s:.)*",
        "language": r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*",
        "NMTOKEN": f"[{_NAME_REST}]+",
        "Name": f"[{_NAME_START}][{_NAME_REST}]*",
        "NCName": f"[{_NAME_START.replace(':', '')}][{_NAME_REST.replace(':', '')}]*",
        "anyURI": r"(?s:.)*",
        "boolean": r"true|false|1|0",
        "decimal": r"[+-]?(\d+(\.\d*)?|\.\d+)",
        "integer": r"[+-]?\d+",
        "double": _NUMBER,
        "float": _NUMBER,
        "gYear": _YEAR + _ZONE,
        "gYearMonth": _YEAR + r"-(0[1-9]|1[0-2])" + _ZONE,
        "gMonth": r"--(0[1-9]|1[0-2])" + _ZONE,
        "gMonthDay": r"--(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])" + _ZONE,
        "gDay": r"---(0[1-9]|[12]\d|3[01])" + _ZONE,
        "date": _YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])" + _ZONE,
        "time": _TIME + _ZONE,
        "dateTime": _YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T" + _TIME + _ZONE,
        "dateTimeStamp": _YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T" + _TIME + _ZONE[:-1],
        "duration": r"-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?",
        "yearMonthDuration": r"-?P(?=\d)(\d+Y)?(\d+M)?",
        "dayTimeDuration": r"-?P(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?",
        "hexBinary": r"([0-9a-fA-F]{2})*",
        "base64Binary": (  # quads of four, then a last quad, padded or not; a space after any
            rf"(((?:{_B64}){{4}})*((?:{_B64}){{3}}[A-Za-z0-9+/]|(?:{_B64}){{2}}[AEIMQUYcgkosw048] ?="
            rf"|{_B64}[AQgw] ?= ?=))?"
        ),
    }.items()
}
# The integers of a narrower range, by their bounds (None: unbounded on that side).
_INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-(2**7), 2**7 - 1),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 2**8 - 1),
}
_STRINGS = {"string", "normalizedString", "token", "anyURI"}  # where white space is part of the text
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # the most each month may have


def lexical_error(lexical: str, datatype: str) -> str | None:
    """Why `lexical` is not a valid form of `datatype`, or None when it is: XML's characters alone for
    a datatype not XSD's (rdf:HTML, a vocabulary's own), which no literal goes without."""
    name = datatype[len(XSD) :] if datatype.startswith(XSD) else None
    unwritten = character_error(lexical, f"an xsd:{name}" if name else f"a literal of <{datatype}>")
    if unwritten or name is None:
        return unwritten
    if name in _INTEGER_RANGES:
        return _integer_error(lexical, name)
    pattern = _PATTERNS.get(name)
    if pattern is None:
        return f"xsd:{name} is not one of the XML Schema datatypes RDF 1.1 uses"
    if name == "base64Binary":  # a run of white space inside it is one space, as XML Schema has it
        lexical = re.sub(r"[ \t\r\n]+", " ", lexical)
    if name not in _STRINGS and lexical != lexical.strip(" \t\r\n"):
        return f'"{lexical}" has white space around it, which not every engine drops: write it without'
    if not pattern.fullmatch(lexical):
        return f'"{lexical}" is not a valid xsd:{name}'
    if name in ("date", "dateTime", "dateTimeStamp") and not _a_calendar_day(lexical):
        return f'"{lexical}" is not a calendar date'
    if name == "gMonthDay" and int(lexical[5:7]) > _DAYS[int(lexical[2:4]) - 1]:
        return f'"{lexical}" is not a day of the year'
    return None


def character_error(lexical: str, holder: str = "a text") -> str | None:
    """What in `lexical` is no character XML counts (most controls, surrogates, U+FFFE/F), which no
    string, in a language or not, may hold, said of `holder`; None when there is none."""
    unwritten = _NOT_A_CHARACTER.search(lexical)
    return f"U+{ord(unwritten.group()):04X} is not a character {holder} may hold" if unwritten else None


def _integer_error(lexical: str, name: str) -> str | None:
    if not _PATTERNS["integer"].fullmatch(lexical):
        return f'"{lexical}" is not a valid xsd:{name}'
    low, high = _INTEGER_RANGES[name]
    value = capped_integer(lexical, 2**64)  # past every bound
    if (low is not None and value < low) or (high is not None and value > high):
        return f'"{lexical}" is out of the range of xsd:{name}'
    return None


def cut(text: str, limit: int, *, end: bool = False) -> str:
    """`text` at most `limit` characters long, ending in "…" where it was cut; `end`, its end kept and
    its middle left out ("…" where it was)."""
    if len(text) <= limit:
        return text
    if not end:
        return text[: limit - 1] + "…"
    head = (limit - 1) // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head) :]


IN_MARKUP = "&lt;U+{:04X}&gt;"  # `controls_shown`'s code point as HTML or XML writes it


def controls_shown(text: str, written: str = "<U+{:04X}>") -> str:
    """`text` with each embedding, override and isolate of the bidirectional algorithm (U+202A–U+202E,
    U+2066–U+2069) written as its code point, `<U+202E>`: obeyed, one in a name turned the words after
    it around (an agency's name reversed "opium poppy" beside it), so a page or a picture misquoted
    what it showed. `written` is how a code point is written (in markup: IN_MARKUP)."""
    return _BIDI_CONTROL.sub(lambda found: written.format(ord(found.group())), text)


_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")


def xml_text(text: str) -> str:
    """`text` with each character XML does not allow (U+0001, U+FFFE …) as U+FFFD, for what is written
    where no format can refuse it by name: a picture holding one is a file no XML reader opens."""
    return _NOT_A_CHARACTER.sub("\ufffd", text)


def capped_integer(lexical: str, cap: int) -> int:
    """The value of `lexical`, an xsd:integer's form, brought within ±`cap`: Python reads no number of
    more than 4,300 digits (a ValueError), and a comparison with a bound within `cap` needs no more."""
    canonical = canonical_integer(lexical)  # leading zeros count towards Python's limit too
    if len(canonical.lstrip("-")) > len(str(cap)):
        return -cap if canonical.startswith("-") else cap
    return max(-cap, min(cap, int(canonical)))


def canonical_integer(lexical: str) -> str:
    """An xsd:integer's form in its canonical one (no `+`, no leading zeros, `0` unsigned), read without
    making it a number, which Python refuses past 4,300 digits."""
    digits = lexical.lstrip("+-").lstrip("0") or "0"
    return "-" + digits if lexical.startswith("-") and digits != "0" else digits


def _a_calendar_day(lexical: str) -> bool:
    """Whether the date a date or dateTime begins with is one the calendar has (29 February in leap
    years only; XML Schema 1.1 counts year 0, 1 BCE, as a leap year)."""
    found = _DAY.match(lexical)
    assert found is not None  # the pattern matched
    signed, month, day = found.group(1), int(found.group(2)), int(found.group(3))
    # Leap years repeat every 400 years, and 10,000 is a multiple of 400: a year's last four digits
    # (and its sign) tell, however many it has.
    year = int(signed[:1].strip("0123456789") + signed[-4:])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return day <= (29 if leap else 28) if month == 2 else day <= _DAYS[month - 1]
