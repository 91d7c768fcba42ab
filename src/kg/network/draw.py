"""Static pictures of the networks for memos: SVG keeps its text as text, PNG for slides.

Figures are drawn on the Agg canvas directly, without pyplot, so drawing holds
no global state and is safe inside a web server.
"""

from __future__ import annotations

import io
import textwrap
from collections import defaultdict
from dataclasses import dataclass

import networkx as nx
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from .layout import Positions, generation_positions, layered_positions, substance_colours, substance_labels

FORMATS = ("svg", "png")
RELATION_COLOURS = {
    "derivedFrom": "#0072B2",
    "precursorOf": "#D55E00",
    "analogueOf": "#009E73",
    "memberOfGroup": "#999999",
    "broader": "#CC79A7",
}


@dataclass(frozen=True)
class EdgeStyle:
    colour: str
    dashed: bool = False
    faded: bool = False
    note: str = ""


def save(figure: Figure, fmt: str) -> bytes:
    """The figure as SVG (text kept as text, stable ids) or PNG bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    # Text stays text in SVG (searchable, editable); a fixed salt keeps element ids stable across runs.
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "opioid-kg"}):
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        figure.savefig(buffer, format=fmt, dpi=150, metadata=metadata)
    return buffer.getvalue()


def draw_flows(network: nx.MultiDiGraph, *, title: str, caption: str, fmt: str = "svg") -> bytes:
    """Routes left to right, one colour per substance, suspected legs dashed, historical faded."""
    positions, columns = layered_positions(network)
    colours = substance_colours(network)
    labels = substance_labels(network)
    styles = {
        (u, v, k): EdgeStyle(
            colours[d["substance"]],
            dashed=d.get("status") == "suspected",
            faded=d.get("temporal") == "historical",
            note=d.get("mode_label", "") if d.get("mode") not in ("", "smuggled") else "",
        )
        for u, v, k, d in network.edges(keys=True, data=True)
    }
    legend = [Line2D([], [], color=colours[s], lw=2, label=labels[s]) for s in colours]
    legend += [
        Line2D([], [], color="#444444", lw=1.5, label="reported"),
        Line2D([], [], color="#444444", lw=1.5, ls="--", label="suspected"),
        Line2D([], [], color="#444444", lw=1.5, alpha=0.35, label="historical"),
    ]
    return _render(network, positions, columns, styles, legend, title, caption, fmt)


def draw_chain(chain: nx.DiGraph, *, title: str, caption: str, fmt: str = "svg") -> bytes:
    """How substances are made from one another, inputs on the left."""
    positions, columns = generation_positions(chain)
    styles: dict[tuple[str, str, object], EdgeStyle] = {
        (u, v, 0): EdgeStyle(RELATION_COLOURS[d["relation"]]) for u, v, d in chain.edges(data=True)
    }
    used = sorted({d["relation"] for _u, _v, d in chain.edges(data=True)})
    relation_labels = {d["relation"]: d["relation_label"] for _u, _v, d in chain.edges(data=True)}
    legend = [Line2D([], [], color=RELATION_COLOURS[r], lw=2, label=relation_labels[r]) for r in used]
    return _render(chain, positions, columns, styles, legend, title, caption, fmt)


def _render(
    network: nx.Graph,
    positions: Positions,
    columns: list[str],
    styles: dict[tuple[str, str, object], EdgeStyle],
    legend: list[Line2D],
    title: str,
    caption: str,
    fmt: str,
) -> bytes:
    rows = max((y for _x, y in positions.values()), default=0) + 1
    figure = Figure(figsize=(4 + 2.6 * len(columns), 2.6 + 1.1 * rows))
    axes = figure.add_axes((0.03, 0.2, 0.68, 0.68))
    axes.set_axis_off()
    axes.set_xlim(-0.6, len(columns) - 0.4)
    axes.set_ylim(-0.7, rows - 0.2)
    for column, name in enumerate(columns):
        axes.text(
            column, rows - 0.25, name, ha="center", va="bottom", fontsize=10, color="#555555", style="italic"
        )
    _draw_edges(axes, positions, styles)
    for node, (x, y) in positions.items():
        axes.scatter([x], [y], s=900, color="white", edgecolors="#333333", linewidths=1.2, zorder=3)
        axes.text(
            x, y - 0.32, network.nodes[node].get("label", node), ha="center", va="top", fontsize=9, zorder=4
        )
        code = network.nodes[node].get("iso", "")
        if code:
            axes.text(x, y, code, ha="center", va="center", fontsize=7, color="#333333", zorder=4)
    axes.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=9)
    figure.suptitle(title, fontsize=13, x=0.03, ha="left")
    figure.text(
        0.03, 0.02, "\n".join(textwrap.wrap(caption, 130)), fontsize=7.5, va="bottom", color="#333333"
    )
    return save(figure, fmt)


def _draw_edges(axes, positions: Positions, styles: dict[tuple[str, str, object], EdgeStyle]) -> None:
    parallel: dict[tuple[str, str], list[tuple[str, str, object]]] = defaultdict(list)
    for edge in sorted(styles, key=str):
        parallel[(edge[0], edge[1])].append(edge)
    notes: set[tuple[str, str, str]] = set()
    for (u, v), edges in parallel.items():
        (x1, y1), (x2, y2) = positions[u], positions[v]
        backwards = x2 <= x1
        for i, edge in enumerate(edges):
            style = styles[edge]
            bend = 0.12 * (i - (len(edges) - 1) / 2) + (0.45 if backwards else 0.0)
            axes.add_patch(
                FancyArrowPatch(
                    (x1, y1),
                    (x2, y2),
                    connectionstyle=f"arc3,rad={bend}",
                    arrowstyle="-|>",
                    mutation_scale=14,
                    shrinkA=17,
                    shrinkB=17,
                    lw=1.8,
                    color=style.colour,
                    linestyle=(0, (4, 3)) if style.dashed else "-",
                    alpha=0.4 if style.faded else 0.9,
                    zorder=2,
                )
            )
            if style.note and (u, v, style.note) not in notes:
                notes.add((u, v, style.note))
                lift = 0.35 if backwards else -0.12
                axes.text(
                    (x1 + x2) / 2,
                    (y1 + y2) / 2 + lift,
                    style.note,
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="#333333",
                    zorder=5,
                    bbox={
                        "boxstyle": "round,pad=0.15",
                        "facecolor": "white",
                        "edgecolor": "none",
                        "alpha": 0.85,
                    },
                )
