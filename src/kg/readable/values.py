"""Values as a reader writes them: "$2.9 billion", "44,100 ha", "9 August 2018", "yes".

SPARQL answers carry datatypes, language tags and bare numbers; an answer
page and `kg query --format readable` show them in words, with the unit
beside the number and the exact value a hover or a click away.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Protocol

from kg.namespaces import XSD

NUMERIC = {
    XSD + name
    for name in (
        "integer decimal double float int long short nonNegativeInteger positiveInteger "
        "nonPositiveInteger negativeInteger unsignedInt unsignedLong"
    ).split()
}
MONEY_UNITS = {"http://qudt.org/vocab/currency/USD"}
# Unit IRIs as symbols beside a number; a unit not listed here is written by its label.
UNIT_SYMBOLS = {
    "http://qudt.org/vocab/unit/HA": "ha",
    "http://qudt.org/vocab/unit/KiloGM": "kg",
    "http://qudt.org/vocab/unit/TONNE": "metric tons",
    "http://qudt.org/vocab/unit/PERCENT": "%",
    "http://qudt.org/vocab/unit/NUM": "",
}
# A unit written as a plural word, and its singular: one of it is "1 metric ton".
SINGULAR = {
    "metric tons": "metric ton",
    "hectares": "hectare",
    "kilograms": "kilogram",
    "U.S. dollars": "U.S. dollar",
}


class TermLike(Protocol):
    """A term of a SPARQL JSON answer: type uri, literal or bnode, and its value."""

    @property
    def type(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def datatype(self) -> str | None: ...
    @property
    def lang(self) -> str | None: ...


def plain_number(number: Decimal) -> str:
    """Thousands separated, no trailing zeros, every digit kept: 44100 -> '44,100', 7.50 -> '7.5',
    1E-7 -> '0.0000001' (rounding to a fixed number of places showed it as '0', and -1E-7 as '-0')."""
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number:,f}".rstrip("0").rstrip(".")


CENT = Decimal("0.01")
# Dollars, millions, billions: the scales an amount is written in, smallest first.
MONEY_SCALES = ((Decimal(1), ""), (Decimal(10) ** 6, " million"), (Decimal(10) ** 9, " billion"))


def money(number: Decimal) -> str:
    """U.S. dollars the way the report writes them: '$2.9 billion', '$59 million', '$1,500.50',
    '-$5 million'. Millions and billions are rounded to hundredths; an amount that rounds up to the
    next scale is written in it ('$1 billion', not '$1,000 million')."""
    sign, amount = ("-" if number < 0 else ""), abs(number)
    step = max(i for i, (size, _word) in enumerate(MONEY_SCALES) if amount >= size or i == 0)
    if step and step + 1 < len(MONEY_SCALES) and (amount / MONEY_SCALES[step][0]).quantize(CENT) >= 1000:
        step += 1
    size, word = MONEY_SCALES[step]
    if step:
        return f"{sign}${plain_number((amount / size).quantize(CENT).normalize())}{word}"
    return f"{sign}${_dollars(amount)}"


def _dollars(amount: Decimal) -> str:
    """Whole dollars bare, cents as two digits ('$1,500.50', not '$1,500.5'); finer parts kept."""
    if amount == amount.to_integral_value() or amount != amount.quantize(CENT):
        return plain_number(amount)
    return f"{amount.quantize(CENT):,f}"


# The numbers a reader writes in words: finite, with at most this many digits either side of the point.
# Writing "1E999999999" with separators expands it to a billion digits (time that grows with their
# square, in the web process, holding its lock); a number past these bounds is shown as written. Within
# them, an amount in billions rounded to cents stays within Decimal's 28 digits.
WORDED_DIGITS = 20


def as_number(term: TermLike) -> Decimal | None:
    """A numeric literal's value, where it is one a reader writes in words (see WORDED_DIGITS)."""
    if term.type != "literal" or term.datatype not in NUMERIC:
        return None
    return worded_number(term.value)


def worded_number(text: str) -> Decimal | None:
    """The number a numeral writes, where it is one a reader writes in words (see WORDED_DIGITS)."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if number.is_zero():
        return number
    written = number.as_tuple()
    assert isinstance(written.exponent, int)  # a finite number's is
    worded = abs(number.adjusted()) <= WORDED_DIGITS and written.exponent >= -WORDED_DIGITS
    return number if worded and len(written.digits) <= 2 * WORDED_DIGITS else None


def numeral_text(text: str) -> str:
    """A numeral as a reader writes it ('1,234,567', '0.0000001'), or as written where no reader would."""
    number = worded_number(text)
    return text if number is None else plain_number(number)


def with_unit(number: Decimal, unit: str | None, unit_label: str | None = None) -> str:
    """A number and its unit as one phrase: '$2.9 billion', '44,100 ha', '38%'."""
    if unit in MONEY_UNITS:
        return money(number)
    symbol = UNIT_SYMBOLS.get(unit or "", unit_label or "")
    return number_with(number, symbol)


def number_with(number: Decimal, symbol: str) -> str:
    """A number beside a unit's symbol or word, the word singular for one: '38%', '1 metric ton'."""
    if symbol == "%":
        return f"{plain_number(number)}%"
    if abs(number) == 1:
        symbol = SINGULAR.get(symbol, symbol)
    return f"{plain_number(number)} {symbol}".strip()


def literal_text(term: TermLike) -> str:
    """A literal in words: numbers separated, dates spelled, booleans as yes/no, tags dropped."""
    number = as_number(term)
    if number is not None:
        return plain_number(number)
    if term.datatype == XSD + "boolean":
        return "yes" if term.value in ("true", "1") else "no"
    if term.datatype == XSD + "date":
        try:
            day = date.fromisoformat(term.value)
        except ValueError:
            return term.value
        return f"{day.day} {day:%B %Y}"
    if term.datatype == XSD + "gYearMonth":  # "as of 2018-07": July 2018
        try:
            month = date.fromisoformat(term.value + "-01")
        except ValueError:
            return term.value
        return f"{month:%B %Y}"
    return term.value


def local_name(iri: str) -> str:
    """The last part of an IRI, for a thing without a label: '…#heroinSeizures' -> 'heroinSeizures'."""
    tail = iri.rstrip("/#")
    for mark in ("#", "/"):
        if mark in tail:
            tail = tail.rsplit(mark, 1)[-1]
            break
    return tail.replace("-", " ") if "/id/" in iri else tail
