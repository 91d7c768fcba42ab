"""A figure a statement gives is written in its excerpts: numbers, scales and the report's words."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from kg.build.checks import BuildFailed
from kg.build.figures import written_figures
from kg.build.pipeline import build


def test_figures_are_read_as_the_report_writes_them() -> None:
    text = (
        "nearly \\$2.9 billion from FY2008; 44,100 hectares, a 38% increase; 1.5 million; more than doubled"
    )
    assert {Decimal("2.9"), Decimal("2900000000"), Decimal(44100), Decimal(38), Decimal(1500000)} <= (
        written_figures(text)
    )
    assert Decimal(2) in written_figures(text)  # "doubled"
    assert Decimal(2008) not in written_figures(text)  # part of a name, FY2008
    assert Decimal(50) in written_figures("the majority of U.S.-seized heroin")


def test_a_table_value_its_excerpt_does_not_write_stops_the_build_at_its_row(
    project_copy: Path, tmp_path: Path
) -> None:
    """A table's 44,100 changed to 44,000 built, and was published with "44,100 hectares" as its
    evidence."""
    table = project_copy / "graph" / "000_1bdfefaeb44abb70" / "tables" / "poppy-cultivation.csv"
    text = table.read_text("utf-8")
    assert text.count("44100") == 1
    table.write_text(text.replace("44100", "44000"), "utf-8")
    line = next(n for n, row in enumerate(table.read_text("utf-8").splitlines(), 1) if "44000" in row)
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    message = str(error.value)
    assert message.startswith("a figure is not written in its excerpts:"), message
    assert f"{table}:{line}:" in message and " 44000 is not a figure its excerpts write" in message
    assert "44,100" in message  # what the excerpt does write
    assert not (tmp_path / "dist").exists()


def test_a_curated_change_its_excerpt_does_not_write_stops_the_build(
    project_copy: Path, tmp_path: Path
) -> None:
    changes = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "changes.ttl"
    changes.write_text(
        changes.read_text("utf-8").replace('kg:percentChange "38"', 'kg:percentChange "48"'), "utf-8"
    )
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert f"{changes}:" in str(error.value) and "change/mx-poppy-cultivation-2016-2017" in str(error.value)


@pytest.mark.parametrize(
    ("file", "written", "changed"),
    [
        ("changes.ttl", 'kg:highestSince "2000"^^xsd:gYear', 'kg:highestSince "1999"^^xsd:gYear'),
        # 228 is a figure of the context excerpt (opium gum seized), which names who or where only
        (
            "statistics.ttl",
            'kg:drugLabsDestroyed "185"^^xsd:decimal',
            'kg:drugLabsDestroyed "228"^^xsd:decimal',
        ),
    ],
    ids=["a record's year", "a figure only its context excerpt writes"],
)
def test_a_year_and_a_figure_of_the_context_are_checked_against_the_quote(
    project_copy: Path, tmp_path: Path, file: str, written: str, changed: str
) -> None:
    data = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / file
    text = data.read_text("utf-8")
    assert text.count(written) == 1
    data.write_text(text.replace(written, changed), "utf-8")
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert str(error.value).startswith("a figure is not written in its excerpts:"), error.value


def test_figures_in_words_scales_and_ranges() -> None:
    assert {Decimal(10**6), Decimal(2 * 10**9)} <= written_figures("one million, or two billion")
    assert Decimal("1.5E9") in written_figures("$1.5-2 billion") and Decimal("1.5E9") in written_figures(
        "$1.5 to $2 billion"
    )
    assert {Decimal(3), Decimal(10), Decimal(12), Decimal("0.5")} <= written_figures(
        "threefold, tenfold, a dozen, .5"
    )
    assert Decimal(44100) in written_figures("44\u00a0100 hectares")
    assert not written_figures("\u0661\u0662 and FY2008")  # other scripts' digits; a year in a name
    # Words matched by Unicode's case rules alone ("ſ" is a long s, "ı" a dotless i) are no figures.
    assert written_figures("\u017fix, th\u0131rty, 2 b\u0131llion") == {Decimal(2)}
