"""Lexical forms of typed literals, which the parsers accept unchecked: held to XML Schema and to the
verdict of Jena's parser, which warns on each one it finds invalid."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from jena import jena_classpath, needs_jena

from kg.literals import lexical_error
from kg.namespaces import XSD


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
        ("02017", "gYear"),
        ("2018-07+14:60", "gYearMonth"),
        ("abc", "float"),
        ("2018-01-01+15:00", "date"),
        ("2018-01-01T25:00:00", "dateTime"),
        ("12:00:99", "time"),
        ("abc", "hexBinary"),
        ("300", "byte"),
        ("-NaN", "double"),
        ("+INF", "double"),
        (" 12", "integer"),
        ("x", "interger"),
    ],
)
def test_invalid_forms_are_named(lexical: str, datatype: str) -> None:
    message = lexical_error(lexical, XSD + datatype)
    assert message is not None and lexical in message


LONG = "9" * 5000  # past the 4,300 digits Python reads as a number (its guard against slow conversions)


@pytest.mark.parametrize(
    ("lexical", "datatype", "said"),
    [
        (LONG, "nonNegativeInteger", None),
        ("+" + LONG, "positiveInteger", None),
        ("-" + LONG, "nonPositiveInteger", None),
        ("0" * 5000 + "7", "byte", None),
        ("-" + LONG, "nonNegativeInteger", "out of the range"),
        (LONG, "unsignedLong", "out of the range"),
        ("-" + LONG, "long", "out of the range"),
        (LONG + "-02-28", "date", None),
        ("1" + "0" * 4999 + "-02-29", "date", None),  # a multiple of 400: a leap year
        ("1" + "0" * 4998 + "4-02-29", "date", None),  # of 4, not of 100
        ("1" + "0" * 4997 + "100-02-29", "date", "not a calendar date"),  # of 100, not of 400
        ("-" + LONG + "6-02-29T00:00:00", "dateTime", None),  # 10,000 is a multiple of 400
    ],
)
def test_numbers_of_any_length_are_read(lexical: str, datatype: str, said: str | None) -> None:
    """A literal of more than 4,300 digits stopped a build with Python's ValueError and a traceback."""
    message = lexical_error(lexical, XSD + datatype)
    assert message is None if said is None else (message is not None and said in message)


def test_other_datatypes_are_not_checked() -> None:
    assert lexical_error("anything", "http://example.org/custom") is None
    assert lexical_error("anything", XSD + "string") is None


# Each a form XML Schema or RDF 1.1 has a rule for; Jena's parser is asked about each.
AGAINST_JENA = [
    *[
        (form, "gYear")
        for form in ("2017", "0000", "-2018", "10000", "2018Z", "2018+14:00", "2018-14:01", "02017")
    ],
    *[(form, "gYearMonth") for form in ("2018-07", "2018-13", "2018-07+14:60")],
    *[(form, "date") for form in ("2016-02-29", "2017-02-29", "0000-02-29", "-0001-02-29", "2018-1-01")],
    *[(form, "date") for form in ("2018-01-01-05:00", "2018-01-01+15:00", "10000-01-01")],
    *[(form, "dateTime") for form in ("2018-01-01T24:00:00Z", "2018-01-01T24:00:01Z", "2018-01-01T25:00:00")],
    ("2018-01-01T10:00:00.123+05:30", "dateTime"),
    *[(form, "dateTimeStamp") for form in ("2018-01-01T10:00:00", "2018-01-01T10:00:00Z")],
    *[(form, "time") for form in ("24:00:00", "12:00:99", "12:00:00.5Z", "12:00")],
    *[(form, "gMonthDay") for form in ("--02-29", "--02-30")],
    ("--13", "gMonth"),
    *[(form, "gDay") for form in ("---31", "---32")],
    *[(form, "duration") for form in ("P", "PT", "P1YT", "-P1Y", "P2M")],
    *[("P1Y2M", "yearMonthDuration"), ("P1D", "yearMonthDuration")],
    *[("PT1H", "dayTimeDuration"), ("P1Y", "dayTimeDuration")],
    *[(form, "double") for form in ("1.5e3", "INF", "-INF", "+INF", "NaN", "-NaN", "abc")],
    ("INF", "float"),
    *[(form, "decimal") for form in (".5", "5.", "1e5", "1,5")],
    *[(form, "integer") for form in ("3.0", "-3", " 12", "12 ")],
    *[(form, "byte") for form in ("127", "128", "-129")],
    *[("65535", "unsignedShort"), ("65536", "unsignedShort"), ("-1", "unsignedInt")],
    *[("9223372036854775807", "long"), ("9223372036854775808", "long"), ("1", "int")],
    *[("-0", "nonNegativeInteger"), ("-1", "nonNegativeInteger"), ("+0", "negativeInteger")],
    *[(form, "boolean") for form in ("1", "TRUE", "yes", " true")],
    *[(form, "base64Binary") for form in ("QUJD", "QUI=", "QQ==", "QUJ", "")],
    ("abc", "hexBinary"),
    *[(form, "language") for form in ("en-US", "en_US", " en")],
    *[(form, "NCName") for form in ("a1", "1a", "1:2")],
    *[("a:b", "Name"), ("-a", "NMTOKEN"), ("a b", "NMTOKEN")],
    *[(form, "token") for form in (" a", "a  b", "a\tb")],
    ("a\tb", "normalizedString"),
    *[("x", "QName"), ("x", "ID")],
    # Digits of other scripts, which Python's \\d matches and XML Schema does not.
    *[("\u0661\u0662", "integer"), ("1.\u0665", "decimal"), ("2\u0660\u0660\u0660", "gYear")],
    *[("QU\\nJD", "base64Binary"), ("QU  JD", "base64Binary")],  # N-Triples' escape of a line break
    *[("a\u0001b", "string"), ("--02--", "gMonth")],
]


@needs_jena
def test_every_form_jena_finds_invalid_is_refused_and_the_build_is_stricter_only_by_rule(
    tmp_path: Path,
) -> None:
    """The build refuses every form Jena's parser warns of. Where it refuses more, it is by a rule of
    its own (`_a_rule_of_its_own`)."""
    data = tmp_path / "forms.nt"
    data.write_text(
        "".join(
            f'<http://example.org/s{n}> <http://example.org/p> "{form}"^^<{XSD}{name}> .\n'
            for n, (form, name) in enumerate(AGAINST_JENA)
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        ["java", "-cp", jena_classpath(tmp_path), "riotcmd.riot", "--validate", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    warned = {int(line) - 1 for line in re.findall(r"\[line: (\d+), col: \d+ *\] Lexical form", done.stderr)}
    assert warned, done.stderr  # Jena read the file and found the invalid forms
    ours = {n for n, (form, name) in enumerate(AGAINST_JENA) if lexical_error(_read(form), XSD + name)}
    assert warned - ours == set(), [AGAINST_JENA[n] for n in sorted(warned - ours)]
    stricter = [AGAINST_JENA[n] for n in sorted(ours - warned)]
    assert all(_a_rule_of_its_own(_read(form), name) for form, name in stricter), stricter


def _read(form: str) -> str:
    """A form as N-Triples reads it: its escape of a line break read."""
    return form.replace("\\n", "\n")


def _a_rule_of_its_own(form: str, name: str) -> bool:
    """The build's rules beyond Jena's, as docs/curating.md lists them: no white space around a value
    (Jena drops it; Oxigraph keeps it and cannot read the value), no datatype RDF 1.1 says not to use,
    no control character but tab, line feed and carriage return, and XML Schema 1.1's forms where 1.0
    had others (a month `--02--`)."""
    return (
        form != form.strip()
        or name in ("QName", "ID")
        or any(ord(c) < 0x20 and c not in "\t\n\r" for c in form)
        or (name == "gMonth" and form.endswith("--"))
    )
