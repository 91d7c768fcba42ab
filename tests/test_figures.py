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
