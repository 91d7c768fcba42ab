"""The network picture at memo size, read back from its SVG: 6.5 in wide with no text under 9 pt, the
legend below the drawing with an entry for exactly what is drawn, each mode label on its own leg, a
caption citing the report and its date, and the picture in words beside it."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import main

SVG = "{http://www.w3.org/2000/svg}"
Point = tuple[float, float]


def memo(built, tmp_path: Path, *options: str) -> tuple[ET.Element, str]:
    """The memo SVG of `kg network draw`, and what the command printed."""
    output = tmp_path / "memo.svg"
    args = ["network", "draw", *options, "--preset", "memo", "--format", "svg", "-o", str(output)]
    result = CliRunner().invoke(main, [*args, "--store", str(built.store_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return ET.parse(output).getroot(), result.stdout


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def group(root: ET.Element, prefix: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if (g.get("id") or "").startswith(prefix)]


def style(element: ET.Element) -> dict[str, str]:
    pairs = (part.split(":", 1) for part in (element.get("style") or "").split(";") if ":" in part)
    return {name.strip(): value.strip() for name, value in pairs}


def curve_points(d: str) -> list[Point]:
    """Points along an SVG path of absolute M, L, Q and C commands (what matplotlib writes)."""
    points: list[Point] = []
    tokens = re.findall(r"[MLQCZz]|-?\d+(?:\.\d+)?(?:e-?\d+)?", d)
    command, numbers, current = "", [], (0.0, 0.0)

    def flush() -> None:
        nonlocal current, numbers
        pairs = list(zip(numbers[::2], numbers[1::2], strict=True))
        numbers = []
        if not pairs:
            return
        if command in "ML":
            points.extend(pairs)
            current = pairs[-1]
            return
        step = 2 if command == "Q" else 3
        for i in range(0, len(pairs), step):
            control = [current, *pairs[i : i + step]]
            for t in (j / 20 for j in range(21)):
                points.append(_bezier(control, t))
            current = pairs[i + step - 1]

    for token in tokens:
        if token in "MLQCZz":
            flush()
            command = token
        else:
            numbers.append(float(token))
    flush()
    return points


def _bezier(control: list[Point], t: float) -> Point:
    while len(control) > 1:
        control = [
            (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
            for a, b in zip(control, control[1:], strict=False)
        ]
    return control[0]


def legs(root: ET.Element) -> dict[str, tuple[list[Point], dict[str, str]]]:
    """Each drawn leg (its group id names it): the points of its line and the line's style."""
    found = {}
    for g in group(root, "leg_"):
        path = next(g.iter(f"{SVG}path"))
        found[g.get("id", "")] = (curve_points(path.get("d", "")), style(path))
    return found


def test_the_memo_picture_is_six_and_a_half_inches_with_no_text_under_9_points(built, tmp_path: Path) -> None:
    for options in ((), ("--substance", "fentanyl"), ("--substance", "heroin")):
        root, _ = memo(built, tmp_path, *options)
        assert root.get("width") == "468pt"  # 6.5 in at 72 pt a inch
        svg = ET.tostring(root, encoding="unicode")
        sizes = [float(s) for s in re.findall(r"font-size:\s*([\d.]+)px", svg)]
        assert len(sizes) == len(texts(root)) and min(sizes) >= 9, sorted(sizes)[:5]


def test_the_legend_lies_below_the_drawing_and_uses_the_width(built, tmp_path: Path) -> None:
    root, _ = memo(built, tmp_path)
    width = float(root.get("width", "0").removesuffix("pt"))
    places = [p for points, _ in legs(root).values() for p in points]
    legend = [float(t.get("y", "0")) for g in group(root, "legend") for t in g.iter(f"{SVG}text")]
    assert legend and min(legend) > max(y for _x, y in places)
    xs = [x for x, _y in places]
    assert max(xs) - min(xs) > 0.6 * width


@pytest.mark.parametrize("substance", [None, "fentanyl", "heroin"])
def test_the_legend_names_exactly_what_is_drawn(built, tmp_path: Path, substance: str | None) -> None:
    root, _ = memo(built, tmp_path, *(("--substance", substance) if substance else ()))
    drawn = legs(root).values()
    entries: dict[str, dict[str, str]] = {}
    for g in group(root, "legend"):
        lines = [style(p) for p in g.iter(f"{SVG}path") if style(p).get("stroke")]
        words = texts(g)
        assert len(lines) == len(words)
        entries.update(zip(words, lines, strict=True))
    kinds = {"reported", "suspected", "historical"}
    colours = {s["stroke"] for _points, s in drawn}
    assert {s["stroke"] for word, s in entries.items() if word not in kinds} == colours
    dashed = {"stroke-dasharray" in s for _points, s in drawn}
    faded = {float(s.get("opacity", s.get("stroke-opacity", "1"))) < 0.6 for _points, s in drawn}
    assert ("suspected" in entries) == (True in dashed)
    assert ("reported" in entries) == (False in dashed)
    assert ("historical" in entries) == (True in faded)
    if substance == "fentanyl":
        assert "historical" not in entries


def test_each_mode_label_sits_on_its_own_leg(built, tmp_path: Path) -> None:
    for options in ((), ("--substance", "fentanyl")):
        root, _ = memo(built, tmp_path, *options)
        drawn = legs(root)
        labels = group(root, "mode_")
        words = {" ".join(" ".join(g.itertext()).split()) for g in labels}
        assert words >= {"direct mail", "smuggled over the land border"}
        for label in labels:
            size = float(re.findall(r"font-size:\s*([\d.]+)px", ET.tostring(label, encoding="unicode"))[0])
            box = curve_points(next(label.iter(f"{SVG}path")).get("d", ""))  # the label's white box
            xs, ys = [x for x, _y in box], [y for _x, y in box]
            anchor = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
            own = set(label.get("id", "").removeprefix("mode_").split("+"))
            distance = {
                leg.removeprefix("leg_"): min(math.dist(anchor, p) for p in points)
                for leg, (points, _) in drawn.items()
            }
            nearest = min(distance, key=distance.__getitem__)
            assert nearest in own, (label.get("id"), nearest, distance[nearest])
            assert distance[nearest] < 2 * size


def test_the_caption_cites_the_report_and_its_date(built, tmp_path: Path) -> None:
    root, _ = memo(built, tmp_path, "--substance", "fentanyl")
    caption = " ".join(texts(root))
    assert "Source: Congressional Research Service" in caption
    assert "Transnational Crime Issues" in caption and "2018-08-09" in caption
    assert "historical" not in caption  # nothing historical is drawn


def test_the_picture_in_words_names_the_places_and_the_flows(built, tmp_path: Path) -> None:
    root, printed = memo(built, tmp_path, "--substance", "fentanyl")
    title = root.find(f"{SVG}title")
    description = root.find(f"{SVG}desc")
    assert title is not None and title.text == "Trafficking routes of fentanyl"
    assert description is not None and description.text == printed.strip()
    for words in (
        "China",
        "Canada",
        "Mexico",
        "United States",
        "illicit fentanyl: China → Canada → United States",
        "China → United States (direct mail)",
        "suspected",
        "United States → Mexico (smuggled over the land border, suspected)",
    ):
        assert words in printed, words


def baseline(text: ET.Element) -> float:
    """Where a line of SVG text stands: its `y`, or the y of the `translate` matplotlib writes instead."""
    if text.get("y") is not None:
        return float(text.get("y", "0"))
    (y,) = re.findall(r"translate\([-\d.e]+ ([-\d.e]+)\)", text.get("transform", ""))
    return float(y)


@pytest.mark.parametrize("options", [(), ("--substance", "fentanyl"), ("--substance", "heroin")])
def test_the_caption_follows_the_legend_without_a_blank_band(built, tmp_path: Path, options) -> None:
    root, _ = memo(built, tmp_path, *options)
    legend = max(baseline(t) for g in group(root, "legend") for t in g.iter(f"{SVG}text"))
    (caption,) = [g for g in group(root, "text_") if "Source: " in " ".join(texts(g))]
    lines = sorted(baseline(t) for t in caption.iter(f"{SVG}text"))
    size = float(re.findall(r"font-size:\s*([\d.]+)px", ET.tostring(caption, encoding="unicode"))[0])
    gap = lines[0] - size - legend  # from the legend's last baseline to the top of the caption's capitals
    assert 0 < gap < 1.5 * size, (gap, size)
    height = float(root.get("height", "0").removesuffix("pt"))
    assert height - lines[-1] < 1.5 * size  # and no band under the caption either
