"""Charts of the statistics over time that cannot mislead, on screen and at memo size.

A line joins only whole-period values: a bound ("more than 3,925 kg") or a
partial period (FY2018 through July) is an open marker with an arrow and its
words beside it, never the end of a line that would read as a level. Fiscal
and calendar years never share an axis: each kind of period gets its own
panel. The changes the report states are written under the chart, and the
caption names the agencies and the report. The memo preset is 6.5 inches
wide with no text under 9 points and the legend below the plot.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import replace

from kg.charts.series import UNIT_LABELS, Point, Series
from kg.network import canvas
from kg.network.draw import save
from kg.network.layout import PALETTE, drawn
from kg.network.presets import PRESETS, Preset
from kg.readable.values import money, number_with, plain_number, worded_number

SHORT_UNITS = {"hectares": "ha", "kilograms": "kg", "metric tons": "t", "percent": "%", "number": ""}
STYLES = ("line", "bar")
BAR_WIDTH = 0.7  # of a year, shared by the series of one period
PANEL_TITLES = {
    "fiscal year": "U.S. fiscal years (1 October to 30 September)",
    "calendar year": "Calendar years",
    "period": "Periods",
}


def value_words(point: Point, unit: str) -> str:
    """'> 3,925 kg (Oct–Jul)', '44,100 ha', '111 t (estimate)', '< $2.9 billion': the one wording of a
    value, with its bound, part of a period and qualifiers, for the picture, its words and its figures."""
    number, short = worded_number(str(point.value)), SHORT_UNITS.get(unit, unit)
    if number is None:  # past what a reader writes in words (1e40): as the graph gives it
        text = f"{point.value} {unit}"
    else:
        text = money(number) if unit == UNIT_LABELS["USD"] else number_with(number, short)
    if point.bound:
        text = ("> " if point.bound == "lower" else "< ") + text
    notes = []
    if point.partial:
        last = point.as_of or point.end
        notes.append(f"{point.begin:%b}–{last:%b}")
    notes += sorted(
        q
        for q in point.qualifiers
        if q not in ("more than", "less than", "nearly", "partial period", "majority")
    )
    return text + (f" ({'; '.join(notes)})" if notes else "")


def describe(series: list[Series]) -> str:
    """The chart in words, for alt text and screen readers."""
    parts = []
    for one in series:
        values = "; ".join(f"{p.period}: {value_words(p, one.unit)}" for p in one.points)
        parts.append(f"{one.measure.label.capitalize()}, {one.label}: {values}.")
        if one.changes:
            parts.append(f"The report states: {'; '.join(one.changes)}.")
        if one.area_changes:
            parts.append(f"The report states of {one.area_label} as a whole: {'; '.join(one.area_changes)}.")
    return " ".join(parts)


def problem(series: list[Series]) -> str:
    """Why these series cannot be one chart, in words; empty when they can."""
    if not series or not any(s.points for s in series):
        return "no observations to chart"
    units = list(dict.fromkeys(s.unit for s in series))
    if len(units) > 2:
        return f"at most two units on one chart, not {', '.join(units)}"
    if len(series) > len(PALETTE):
        return (
            f"{len(series)} series are more than one chart can tell apart ({len(PALETTE)}); narrow the query"
        )
    return ""


@canvas.one_at_a_time
def chart(
    series: list[Series],
    *,
    fmt: str = "svg",
    title: str | None = None,
    preset: str = "screen",
    style: str = "line",
    note: str = "",
) -> bytes:
    """One panel per kind of period; in each, one line (or bars, `style="bar"`) per series, a second
    unit on a right axis; `note` is added to the caption."""
    if problem(series):
        raise ValueError(problem(series))
    series = [_as_drawn(one) for one in series]
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}")
    units = list(dict.fromkeys(s.unit for s in series))
    size = PRESETS[preset]
    kinds = [
        k
        for k in ("calendar year", "fiscal year", "period")
        if any(p.kind == k for s in series for p in s.points)
    ]
    measures = list(dict.fromkeys(s.measure.label for s in series))
    areas = list(dict.fromkeys(s.label for s in series))
    heading = title or f"{' and '.join(measures).capitalize()}, {', '.join(areas)}"
    characters = int(size.width * 72 / (size.caption * 0.55))
    notes = textwrap.wrap(" ".join(filter(None, [note, caption(series)])), characters)
    colours = {id(one): PALETTE[i % len(PALETTE)] for i, one in enumerate(series)}
    handles = [
        canvas.Line2D(
            [],
            [],
            color=colours[id(one)],
            marker="o" if style == "line" else "s",
            ms=6 if style == "line" else 9,
            ls="-" if style == "line" else "",
            label=_legend_entry(one, len(measures) > 1),
        )
        for one in series
    ]
    apart = "not joined" if style == "line" else "open bar"
    points = [p for s in series for p in s.points]
    if any(p.is_estimate and p.firm for p in points):
        handles.append(_hollow("o", "estimate"))
    if any(not p.firm and not p.unchecked for p in points):
        handles.append(_hollow("^", f"bound or part of a period: {apart}"))
    if any(p.unchecked for p in points):
        handles.append(_hollow("o", f"whole period or not, unknown: {apart}"))
    columns = _legend_columns(handles, size.text, size.width, preset)
    legend_rows = math.ceil(len(handles) / columns)
    line = 1.45 / 72  # inches per point of text, with leading
    title_h = (
        len(textwrap.wrap(heading, int(size.width * 72 / (size.title * 0.6)))) * size.title * line + 0.15
    )
    legend_h = legend_rows * size.text * line + 0.1
    caption_h = len(notes) * size.caption * line + 0.1
    axis_h = 2.4 * size.text * line  # tick labels and the axis title under each panel
    height = title_h + len(kinds) * (size.panel_height + axis_h) + legend_h + caption_h + 0.1
    figure = canvas.Figure(figsize=(size.width, height))
    figure.suptitle(
        "\n".join(textwrap.wrap(heading, int(size.width * 72 / (size.title * 0.6)))),
        fontsize=size.title,
        y=1 - 0.08 / height,
        va="top",
    )
    left_margin, right_margin = 0.75 / size.width, (0.75 if len(units) > 1 else 0.25) / size.width
    top = height - title_h
    for kind in kinds:
        bottom = top - size.panel_height
        ax = figure.add_axes(
            (left_margin, bottom / height, 1 - left_margin - right_margin, size.panel_height / height)
        )
        _panel(ax, [s for s in series], kind, units, colours, size, style)
        ax.set_xlabel(PANEL_TITLES[kind], fontsize=size.text)
        top = bottom - axis_h
    legend_top = top
    figure.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, legend_top / height),
        ncol=columns,
        frameon=False,
        fontsize=size.text,
    )
    figure.text(0.02, 0.05 / height, "\n".join(notes), fontsize=size.caption, va="bottom", ha="left")
    return save(figure, fmt)


def _as_drawn(one: Series) -> Series:
    """The series with the labels a picture draws (its measure's, its area's, its dimensions') cut as
    every picture draws a label (see `kg.network.layout.drawn`)."""
    dimensions = tuple(replace(d, label=drawn(d.label)) for d in one.dimensions)
    measure = replace(one.measure, label=drawn(one.measure.label))
    return replace(one, measure=measure, area_label=drawn(one.area_label), dimensions=dimensions)


def _legend_entry(one: Series, with_measure: bool) -> str:
    """A series as its legend names it: its measure where the chart has several, cut in the middle, as
    what tells two series apart (their source, their unit) comes last."""
    measure = f"{one.measure.label}, " if with_measure else ""
    return drawn(f"{measure}{one.label} ({one.unit})", end=True)


def _legend_columns(handles: list[canvas.Line2D], points: float, width: float, preset: str) -> int:
    """Two columns of legend on the screen, where its longest entry (`points` high, with its marker)
    fits in half the `width` (inches); else one: two sources' series named side by side ran past both
    edges of the picture."""
    widest = max(len(str(handle.get_label())) for handle in handles) * points * 0.6 / 72 + 0.6
    return 2 if preset != "memo" and 2 * widest <= width else 1


def _hollow(marker: str, label: str) -> canvas.Line2D:
    """A legend entry for a kind of point drawn open: an estimate, a bound, a value of unknown firmness."""
    return canvas.Line2D([], [], color="#444444", marker=marker, markerfacecolor="white", ls="", label=label)


def _panel(
    ax: canvas.Axes,
    series: list[Series],
    kind: str,
    units: list[str],
    colours: dict[int, str],
    size: Preset,
    style: str = "line",
) -> None:
    """The points of one kind of period: lines between whole-period values only, bounds marked as such;
    as bars, a bound or a part of a period is an open bar with the arrow of its bound on top."""
    axes = {units[0]: ax}
    if len(units) > 1:
        axes[units[1]] = ax.twinx()
    ticks: dict[float, str] = {}
    highest: dict[str, float] = {}
    for one in series:
        target = axes[one.unit]
        colour = colours[id(one)]
        points = [p for p in one.points if p.kind == kind]
        dashed = len(units) > 1 and one.unit == units[1]
        run: list[Point] = []
        for point in [*points, None] if style == "line" else []:
            if point is not None and point.firm:
                run.append(point)
                continue
            if len(run) > 1:
                target.plot(
                    [p.middle for p in run],
                    [p.value for p in run],
                    color=colour,
                    lw=1.8,
                    ls="--" if dashed else "-",
                    gid="series-line",
                )
            run = []
        for point in points:
            ticks[round(point.middle, 3)] = point.period
            x, y = point.middle, point.value
            if style == "bar":
                width = BAR_WIDTH / len(series)
                x += width * (series.index(one) - (len(series) - 1) / 2)
                _bar(target, point, x, colour, width)
            if point.firm and style == "line":
                face = "white" if point.is_estimate else colour
                target.plot(
                    [x],
                    [y],
                    marker="o",
                    ms=6,
                    color=colour,
                    markerfacecolor=face,
                    ls="",
                    zorder=3,
                    gid="value-marker",
                )
            elif not point.firm:
                marker = "^" if point.bound == "lower" else "v" if point.bound == "upper" else "o"
                target.plot(
                    [x],
                    [y],
                    marker=marker,
                    ms=8,
                    color=colour,
                    markerfacecolor="white",
                    ls="",
                    zorder=3,
                    gid="bound-marker",
                )
            target.annotate(
                value_words(point, one.unit),
                (x, y),
                textcoords="offset points",
                xytext=(0, -size.text * 1.9 if dashed else size.text * 0.9),
                ha="center",
                fontsize=size.text,
                color="black",
            )
            highest[one.unit] = max(highest.get(one.unit, 0.0), y)
    for unit, top in highest.items():
        axes[unit].set_ylim(bottom=0, top=top * 1.3 if top > 0 else 1)
        axes[unit].set_ylabel(unit[:1].upper() + unit[1:], fontsize=size.text)
        axes[unit].yaxis.set_major_formatter(axis_numbers(unit))
        axes[unit].tick_params(labelsize=size.text)
    positions = sorted(ticks)
    if positions:
        ax.set_xticks(positions, [ticks[x] for x in positions])
        ax.set_xlim(positions[0] - 0.8, positions[-1] + 0.8)
    ax.tick_params(labelsize=size.text)
    ax.spines["top"].set_visible(False)


def axis_numbers(unit: str) -> Callable[[float, float], str]:
    """The ticks of a value axis as a reader writes them ('$500 million', '40,000'): matplotlib wrote 0.5
    and put '1e9' above the axis, which a reader takes for 0.5 dollars."""

    def tick(value: float, _position: float = 0) -> str:
        written = f"{value:.12g}"  # a tick's float, without the binary tail of 0.1 * 3
        number = worded_number(written)
        if number is None:
            return written
        return money(number) if unit == UNIT_LABELS["USD"] else plain_number(number)

    return tick


def _bar(target: canvas.Axes, point: Point, x: float, colour: str, width: float) -> None:
    """A whole period's value is a filled bar (hollow for an estimate); a bound or a part of a period
    an open, hatched bar with a dashed edge, so it never reads as the period's level."""
    filled = point.firm and not point.is_estimate
    target.bar(
        [x],
        [point.value],
        width=width,
        color=colour if filled else "white",
        edgecolor=colour,
        linewidth=1.2,
        linestyle="-" if point.firm else "--",
        hatch=None if point.firm else "//",
        zorder=2,
        gid="value-bar" if point.firm else "bound-bar",
    )


def caption(series: list[Series]) -> str:
    """The changes the report states, who the report says measured each value, and which report says so."""
    agencies: dict[str, list[str]] = {}
    for one in series:
        for point in one.points:
            for agency in sorted(point.agencies):
                agencies.setdefault(agency, [])
                if one.measure.label not in agencies[agency]:
                    agencies[agency].append(one.measure.label)
    stated = [f"{one.label}: {'; '.join(one.changes)}" for one in series if one.changes]
    stated += [f"{one.area_label}: {'; '.join(one.area_changes)}" for one in series if one.area_changes]
    text = f"The report states: {' | '.join(stated)}. " if stated else ""
    cited = "; ".join(f"{agency} ({', '.join(labels)})" for agency, labels in agencies.items())
    reports = "; ".join(sorted({one.citation for one in series if one.citation}))
    text += f"Source: {reports}." if reports else "Source: the knowledge graph."
    if cited:
        text += f" Data attributed to {cited}."
    if any(p.is_estimate for one in series for p in one.points):
        text += " Hollow markers are estimates."
    return text
