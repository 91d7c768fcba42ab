"""Pictures that cannot mislead, read back from the SVG: no line to a bound, FY and CY apart, memo sizes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from kg.cli import main

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"


def chart_svg(built, tmp_path: Path, *args: str) -> ET.Element:
    output = tmp_path / "chart.svg"
    command = ["chart", *args, "--format", "svg", "-o", str(output), "--store", str(built.store_path)]
    result = CliRunner().invoke(main, command, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return ET.parse(output).getroot()


def groups(root: ET.Element, gid: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("id") == gid]


def line_vertices(root: ET.Element) -> list[tuple[float, float]]:
    """Every vertex of every data line."""
    found = []
    for group in groups(root, "series-line"):
        for path in group.iter(f"{SVG}path"):
            numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
            found += list(zip(numbers[::2], numbers[1::2], strict=False))
    return found


def marker_positions(root: ET.Element, gid: str) -> list[tuple[float, float]]:
    return [
        (float(use.get("x", "0")), float(use.get("y", "0")))
        for group in groups(root, gid)
        for use in group.iter(f"{SVG}use")
    ]


def test_no_line_reaches_a_bound_or_a_partial_period(built, tmp_path: Path) -> None:
    root = chart_svg(built, tmp_path, "heroinSeizures")
    bounds = marker_positions(root, "bound-marker")
    assert len(bounds) == 1  # FY2018 through July: more than 3,925 kg
    vertices = line_vertices(root)
    assert vertices  # Mexico's calendar years are joined
    assert all(abs(x - bx) > 0.5 or abs(y - by) > 0.5 for x, y in vertices for bx, by in bounds)
    text = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "> 3,925 kg (Oct–Jul)" in text


def test_fiscal_and_calendar_years_never_share_an_axis(built, tmp_path: Path) -> None:
    root = chart_svg(built, tmp_path, "heroinSeizures")
    panels = []
    for axes in root.iter(f"{SVG}g"):
        if not (axes.get("id") or "").startswith("axes_"):
            continue
        ticks = [
            "".join(t.itertext())
            for tick in axes.iter(f"{SVG}g")
            if (tick.get("id") or "").startswith("xtick_")
            for t in tick.iter(f"{SVG}text")
        ]
        if ticks:
            panels.append(ticks)
    assert len(panels) == 2
    for ticks in panels:
        fiscal = [t for t in ticks if t.startswith("FY")]
        assert fiscal == [] or fiscal == ticks, ticks


def test_the_memo_preset_is_six_and_a_half_inches_with_no_text_under_9_points(built, tmp_path: Path) -> None:
    root = chart_svg(
        built, tmp_path, "poppyCultivationArea", "poppyEradicationArea", "--area", "MX", "--preset", "memo"
    )
    assert root.get("width") == "468pt"  # 6.5 in at 72 pt
    sizes = [float(m) for m in re.findall(r"font-size:\s*([\d.]+)px", ET.tostring(root, encoding="unicode"))]
    assert sizes and min(sizes) >= 9
    text = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert "Source: Congressional Research Service" in text and "2018-08-09" in text
    assert "The report states: Mexico:" in text


def test_the_screen_chart_and_the_web_share_one_drawing(built, tmp_path: Path) -> None:
    root = chart_svg(built, tmp_path, "heroinSeizures", "--area", "us-southwest-border")
    assert root.get("width") == "576pt"  # 8 in
    assert line_vertices(root) == []  # one whole fiscal year and one partial one: nothing to join
