"""Lexical forms of typed literals, which the parsers accept unchecked."""

from __future__ import annotations

import pytest

from kg.build.literals import XSD, lexical_error


@pytest.mark.parametrize(
    "lexical,datatype",
    [
        ("2017", "gYear"),
        ("2018-07", "gYearMonth"),
        ("2017-12-01", "date"),
        ("44100", "decimal"),
        ("1.5", "decimal"),
        ("-3", "integer"),
        ("0", "nonNegativeInteger"),
        ("7", "positiveInteger"),
        ("P2M", "duration"),
        ("true", "boolean"),
        ("1.5e3", "double"),
    ],
)
def test_valid_forms_pass(lexical: str, datatype: str) -> None:
    assert lexical_error(lexical, XSD + datatype) is None


@pytest.mark.parametrize(
    "lexical,datatype",
    [
        ("20x1", "gYear"),
        ("2018-13", "gYearMonth"),
        ("2017-02-30", "date"),
        ("twelve", "decimal"),
        ("1,5", "decimal"),
        ("3.0", "integer"),
        ("-1", "nonNegativeInteger"),
        ("0", "positiveInteger"),
        ("P", "duration"),
        ("yes", "boolean"),
    ],
)
def test_invalid_forms_are_named(lexical: str, datatype: str) -> None:
    message = lexical_error(lexical, XSD + datatype)
    assert message is not None and lexical in message


def test_other_datatypes_are_not_checked() -> None:
    assert lexical_error("anything", "http://example.org/custom") is None
    assert lexical_error("anything", XSD + "string") is None
