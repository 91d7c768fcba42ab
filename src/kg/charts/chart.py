"""Charts of the statistics over time, with units on the axes and every qualifier in sight.

Estimates are drawn with hollow markers and labelled; bounds and partial
periods are written beside their values; the caption names the agencies the
report cites and the report itself.
"""

from __future__ import annotations

import textwrap

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from kg.charts.series import Series
from kg.errors import KgError
from kg.network.draw import save
from kg.network.layout import PALETTE


class ChartError(KgError, ValueError):
    """Series that make no chart: none with observations, or more units than two axes hold."""


def chart(series: list[Series], *, fmt: str = "svg", title: str | None = None) -> bytes:
    """One line per series; a second unit gets a second y axis on the right."""
    if not series or not any(s.points for s in series):
        raise ChartError("no observations to chart")
    units = list(dict.fromkeys(s.unit for s in series))
    if len(units) > 2:
        raise ChartError(f"at most two units on one chart, not {', '.join(units)}")
    figure = Figure(figsize=(8, 5.2))
    left = figure.add_axes((0.1, 0.27, 0.78 if len(units) > 1 else 0.85, 0.6))
    axes = {units[0]: left}
    if len(units) > 1:
        axes[units[1]] = left.twinx()
    ticks: dict[float, str] = {}
    handles = []
    any_estimate = False
    highest: dict[str, float] = {}
    for i, one in enumerate(series):
        ax = axes[one.unit]
        colour = PALETTE[i % len(PALETTE)]
        xs = [p.middle for p in one.points]
        ys = [p.value for p in one.points]
        label = f"{one.measure.label}, {one.area_label}"
        ax.plot(xs, ys, color=colour, lw=1.8, ls="--" if len(units) > 1 and one.unit == units[1] else "-")
        for point, x, y in zip(one.points, xs, ys, strict=True):
            ticks[round(x, 3)] = point.period
            any_estimate |= point.is_estimate
            face = "white" if point.is_estimate else colour
            ax.plot([x], [y], marker="o", ms=7, color=colour, markerfacecolor=face, zorder=3)
            note = f"{y:,.0f}" if y == int(y) else f"{y:,}"
            if point.qualifiers:
                note += f" ({'; '.join(sorted(point.qualifiers))})"
            below = len(units) > 1 and one.unit == units[1]
            ax.annotate(
                note,
                (x, y),
                textcoords="offset points",
                xytext=(0, -15 if below else 8),
                ha="center",
                fontsize=7.5,
                color=colour if below else "black",
            )
        handles.append(Line2D([], [], color=colour, marker="o", label=f"{label} ({one.unit})"))
        highest[one.unit] = max([highest.get(one.unit, 0.0), *ys])
    for unit, top in highest.items():
        axes[unit].set_ylim(bottom=0, top=top * 1.25 if top > 0 else 1)
    if any_estimate:
        handles.append(
            Line2D([], [], color="#444444", marker="o", markerfacecolor="white", ls="", label="estimate")
        )
    left.set_ylabel(units[0].capitalize())
    if len(units) > 1:
        axes[units[1]].set_ylabel(units[1].capitalize())
    positions = sorted(ticks)
    # Calendar and fiscal years overlap: a tick close to the one before drops to a second line.
    names = [("\n" if i and x - positions[i - 1] < 0.5 else "") + ticks[x] for i, x in enumerate(positions)]
    left.set_xticks(positions, names)
    left.set_xlim(positions[0] - 0.7, positions[-1] + 0.7)
    left.set_xlabel("Period")
    left.spines["top"].set_visible(False)
    left.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False, fontsize=8
    )
    measures = list(dict.fromkeys(s.measure.label for s in series))
    areas = list(dict.fromkeys(s.area_label for s in series))
    heading = title or f"{' and '.join(measures).capitalize()}, {', '.join(areas)}"
    figure.suptitle("\n".join(textwrap.wrap(heading, 80)), fontsize=12)
    figure.text(0.02, 0.015, "\n".join(textwrap.wrap(caption(series), 140)), fontsize=7, va="bottom")
    return save(figure, fmt)


def caption(series: list[Series]) -> str:
    """Who the report says measured each value, and which report says so."""
    agencies: dict[str, list[str]] = {}
    for one in series:
        for point in one.points:
            for agency in sorted(point.agencies):
                agencies.setdefault(agency, [])
                if one.measure.label not in agencies[agency]:
                    agencies[agency].append(one.measure.label)
    cited = "; ".join(f"{agency} ({', '.join(labels)})" for agency, labels in agencies.items())
    reports = "; ".join(sorted({one.citation for one in series if one.citation}))
    text = f"Source: {reports}." if reports else "Source: the knowledge graph."
    if cited:
        text += f" Data attributed to {cited}."
    if any(p.is_estimate for one in series for p in one.points):
        text += " Hollow markers are estimates."
    return text
