"""A SELECT answer drawn as a chart or a network, with the project's honest chart and network drawing.

A chart of values the graph holds as Data Cube observations is drawn from those observations as the
charts page draws them, so bounds, partial periods and fiscal against calendar years keep their rules;
values the answer alone gives are never joined by a line, since whether one is a bound or covers only
part of its period cannot be known from the answer. A network draws one arrow per row, from the first
entity column to the second, labelled by the row's edge label column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

from kg.charts import series as charts_series
from kg.evidence.facts import Select
from kg.network import canvas
from kg.network.draw import EdgeStyle, Words, render_columns
from kg.network.layout import PALETTE, drawn, layered_positions
from kg.network.presets import PRESETS
from kg.query.internal import standalone
from kg.readable.table import header
from kg.readable.values import TermLike, as_number, literal_text, local_name
from kg.readable.views import ChartPlan, NetworkPlan, period_of
from kg.store.base import Store

ONE_COLOUR = PALETTE[0]


@dataclass(frozen=True)
class Edge:
    """One row of the answer as an arrow, in words for the routes table beside the picture."""

    source: str
    source_label: str
    target: str
    target_label: str
    label: str


def truncation_note(shown: int, truncated: bool) -> str:
    return f"Drawn from the first {shown} rows of a truncated answer." if truncated else ""


def chart_series(
    store: Store,
    plan: ChartPlan,
    rows: Sequence[Mapping[str, TermLike]],
    labels: Mapping[str, str],
    observations: Mapping[str, tuple[str, float]],
) -> tuple[list[charts_series.Series], str]:
    """The series to draw and a note for the caption. `observations` maps the answer's observation IRIs
    to their measure and value (see `observations_in`)."""
    valued = [row for row in rows if plan.value in row]
    found: dict[str, set[str]] = {}
    for row in valued:
        number = float(as_number(row[plan.value]) or 0)
        match = next(
            (
                term.value
                for term in row.values()
                if term.type == "uri" and observations.get(term.value, ("", None))[1] == number
            ),
            None,
        )
        if match is None:
            return _answer_series(plan, valued, labels), (
                "Values read from the answer alone, which names no observation of the graph for each: "
                "whether a value is a bound or covers part of its period is not known, so none is joined."
            )
        found.setdefault(observations[match][0], set()).add(match)
    drawn: list[charts_series.Series] = []
    for measure in charts_series.measures(store):
        if measure.iri not in found:
            continue
        for one in charts_series.time_series(store, measure):
            one.points = [p for p in one.points if p.observation in found[measure.iri]]
            if one.points:
                drawn.append(one)
    return drawn, ""


def observations_in(select: Select, rows: Sequence[Mapping[str, TermLike]]) -> dict[str, tuple[str, float]]:
    """The answer's IRIs that are observations of a measure: each one's measure and value."""
    iris = sorted({term.value for row in rows for term in row.values() if term.type == "uri"})
    found: dict[str, tuple[str, float]] = {}
    for row in select(standalone("answer-observations", obs=iris)) if iris else ():
        try:
            found[row["obs"]] = (row["measure"], float(row["value"]))
        except ValueError:
            continue  # a measure's value that is not a number is not charted
    return found


def _answer_series(
    plan: ChartPlan, rows: Sequence[Mapping[str, TermLike]], labels: Mapping[str, str]
) -> list[charts_series.Series]:
    """One series per value of the first entity column that groups rows (a measure, a place), else one."""
    key_column = next(
        (
            v
            for v in rows[0]
            if v not in (plan.value, plan.period)
            and all(v in row and row[v].type == "uri" for row in rows)
            and len({row[v].value for row in rows}) < len(rows)
            and len({row[v].value for row in rows}) > 1
        ),
        None,
    )
    found: dict[str, charts_series.Series] = {}
    seen: set[tuple[str, str, float]] = set()
    for row in rows:
        key = row[key_column].value if key_column else ""
        unit_term = row.get(f"{plan.value}Unit") or row.get("unit")
        unit = charts_series.unit_label(unit_term.value) if unit_term and unit_term.type == "uri" else ""
        one = found.get(key)
        if one is None:
            label = drawn(labels.get(key) or local_name(key) if key else header(plan.value))
            measure = charts_series.Measure(key, plan.value, label, unit)
            one = found[key] = charts_series.Series(measure, key, "from the answer")
        period = period_of(row[plan.period], labels)
        value = float(as_number(row[plan.value]) or 0)
        if period is None or (key, period.label, value) in seen:
            continue
        seen.add((key, period.label, value))
        one.points.append(
            charts_series.Point(
                observation="",
                value=value,
                period=period.label,
                begin=period.begin,
                end=period.end,
                unit=unit,
                kind=period.kind,
                unchecked=True,
            )
        )
    for one in found.values():
        one.points.sort(key=lambda p: (p.begin, p.end))
    return list(found.values())


def edges(plan: NetworkPlan, rows: Sequence[Mapping[str, TermLike]], labels: Mapping[str, str]) -> list[Edge]:
    """One edge per row holding both ends, each end by its label (its own label column first)."""
    found: list[Edge] = []
    for row in rows:
        if plan.source not in row or plan.target not in row:
            continue
        ends = []
        for column in (plan.source, plan.target):
            iri = row[column].value
            own = row.get(f"{column}Label")
            ends.append((iri, own.value if own else labels.get(iri) or local_name(iri)))
        term = row.get(plan.label) if plan.label else None
        words = "" if term is None else labels.get(term.value) or local_name(term.value)
        if term is not None and term.type == "literal":
            words = literal_text(term)
        edge = Edge(ends[0][0], ends[0][1], ends[1][0], ends[1][1], words)
        if edge not in found:
            found.append(edge)
    return found


def network_words(found: list[Edge], shown: int = 20) -> str:
    """The network in words, for its alt text: how many entities and arrows, and the first arrows."""
    entities = len({e.source for e in found} | {e.target for e in found})
    arrows = "; ".join(f"{e.source_label} to {e.target_label}" for e in found[:shown])
    return f"A network of {entities} entities and {len(found)} arrows: {arrows}" + (
        " …" if len(found) > shown else "."
    )


def draw_network(plan: NetworkPlan, found: list[Edge], note: str, fmt: str, preset: str = "screen") -> bytes:
    """The edges left to right, from the source column's entities to the target column's; an edge
    label column with a few values colours the arrows, with a legend."""
    found = [
        Edge(e.source, drawn(e.source_label), e.target, drawn(e.target_label), drawn(e.label)) for e in found
    ]
    network: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    for edge in found:
        network.add_node(edge.source, label=edge.source_label)
        network.add_node(edge.target, label=edge.target_label)
    kinds = sorted({edge.label for edge in found})
    categorical = 1 < len(kinds) <= len(PALETTE)
    colours = {kind: PALETTE[i] if categorical else ONE_COLOUR for i, kind in enumerate(kinds)}
    styles: dict[tuple[str, str, object], EdgeStyle] = {}
    for i, edge in enumerate(found):
        network.add_edge(edge.source, edge.target, key=i)
        styles[(edge.source, edge.target, i)] = EdgeStyle(colours[edge.label], note=edge.label)
    positions, used = layered_positions(network)
    names = {"sources": header(plan.source), "transit": "both", "destination": header(plan.target)}
    legend = (
        [canvas.Line2D([], [], color=colours[kind], lw=2, label=kind) for kind in kinds]
        if categorical
        else [canvas.Line2D([], [], color=ONE_COLOUR, lw=2, label="a row of the answer")]
    )
    described = f", labelled with its {header(plan.label)}" if plan.label else ""
    caption = " ".join(
        filter(
            None,
            [
                f"Each arrow is a row of the answer, from its {header(plan.source)} to its "
                f"{header(plan.target)}{described}.",
                note,
                "Source: the opioid-kg knowledge graph.",
            ],
        )
    )
    title = f"{header(plan.source).capitalize()} to {header(plan.target)}"
    words = Words(title, caption, network_words(found))
    return render_columns(
        network, positions, [names[c] for c in used], styles, legend, words, fmt, PRESETS[preset]
    )
