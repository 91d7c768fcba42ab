"""Static pictures of the networks for screens and memos: SVG keeps its text as text, PNG for slides.

Figures are drawn on the Agg canvas directly, without pyplot; saving needs two
of matplotlib's global settings, so it holds a lock while they are set, and is
safe on a web server's threads. Sizes come from the presets
the charts use: at memo size the picture is 6.5 inches wide, no text is under
9 points, and the legend lies below the drawing, naming only what is drawn.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

import networkx as nx

from kg.literals import IN_MARKUP, controls_shown, xml_text
from kg.query.run import returns_kept

from . import canvas
from .layout import (
    Positions,
    as_drawn,
    generation_positions,
    layered_positions,
    line_kinds,
    substance_colours,
    substance_labels,
)
from .presets import PRESETS, Preset

FORMATS = ("svg", "png")
RELATION_COLOURS = {
    "derivedFrom": "#0072B2",
    "precursorOf": "#D55E00",
    "analogueOf": "#009E73",
    "memberOfGroup": "#999999",
    "broader": "#CC79A7",
}
LINE = 1.45 / 72  # inches a line of text takes per point of type, with leading
CAPTION_SPACING = 1.25  # a caption line's height, in points per point of type: drawn so, counted so
FADED = 0.4


@dataclass(frozen=True)
class EdgeStyle:
    colour: str
    dashed: bool = False
    faded: bool = False
    note: str = ""


@dataclass(frozen=True)
class Words:
    """What the picture says in text: its title, caption and description (alt text)."""

    title: str
    caption: str
    description: str = ""


@canvas.one_at_a_time
def save(figure: canvas.Figure, fmt: str, title: str = "", description: str = "") -> bytes:
    """The figure as SVG (text kept as text, stable ids) or PNG bytes, carrying its title and description
    (SVG `<title>` and `<desc>`, PNG text chunks) so the file is described wherever it goes. A character
    XML does not allow (a label of a query's answer may hold U+0001) is written U+FFFD: matplotlib writes
    text as it is given, and the SVG was no XML. A direction override left in it (in its description,
    which gives names whole) is written as its code point, as a label is drawn."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    canvas.FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    # Text stays text in SVG (searchable, editable); a fixed salt keeps element ids stable across runs.
    with canvas.rc_context({"svg.fonttype": "none", "svg.hashsalt": "opioid-kg"}):
        metadata: dict[str, str | None] = {"Date": None} if fmt == "svg" else {"Software": None}
        if fmt == "png" and title:
            metadata |= {"Title": title, "Description": description}
        figure.savefig(buffer, format=fmt, dpi=150, metadata=metadata)
    data = buffer.getvalue()
    if fmt == "png":
        return data
    if title:
        opening = data.index(b">", data.index(b"<svg")) + 1
        described = f"\n <title>{escape(title)}</title>\n <desc>{escape(description)}</desc>"
        data = data[:opening] + described.encode("utf-8") + data[opening:]
    return returns_kept(controls_shown(xml_text(data.decode("utf-8")), IN_MARKUP).encode("utf-8"))


def draw_flows(network: nx.MultiDiGraph, words: Words, *, fmt: str = "svg", preset: str = "screen") -> bytes:
    """Routes left to right, one colour per substance, suspected legs dashed, historical faded."""
    network = as_drawn(network)
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
    legend = [canvas.Line2D([], [], color=colours[s], lw=2, label=labels[s]) for s in colours]
    looks = {
        "reported": canvas.Line2D([], [], color="#444444", lw=1.5, label="reported"),
        "suspected": canvas.Line2D([], [], color="#444444", lw=1.5, ls="--", label="suspected"),
        "historical": canvas.Line2D([], [], color="#444444", lw=1.5, alpha=FADED, label="historical"),
    }
    legend += [looks[kind] for kind in line_kinds(network)]
    return render_columns(network, positions, columns, styles, legend, words, fmt, PRESETS[preset])


def draw_chain(chain: nx.DiGraph, words: Words, *, fmt: str = "svg", preset: str = "screen") -> bytes:
    """How substances are made from one another, inputs on the left."""
    chain = as_drawn(chain)
    positions, columns = generation_positions(chain)
    styles: dict[tuple[str, str, object], EdgeStyle] = {
        (u, v, 0): EdgeStyle(RELATION_COLOURS[d["relation"]]) for u, v, d in chain.edges(data=True)
    }
    used = sorted({d["relation"] for _u, _v, d in chain.edges(data=True)})
    relation_labels = {d["relation"]: d["relation_label"] for _u, _v, d in chain.edges(data=True)}
    legend = [canvas.Line2D([], [], color=RELATION_COLOURS[r], lw=2, label=relation_labels[r]) for r in used]
    return render_columns(chain, positions, columns, styles, legend, words, fmt, PRESETS[preset])


@canvas.one_at_a_time
def render_columns(
    network: nx.Graph,
    positions: Positions,
    columns: list[str],
    styles: dict[tuple[str, str, object], EdgeStyle],
    legend: list[canvas.Line2D],
    words: Words,
    fmt: str,
    size: Preset,
) -> bytes:
    """Title, column names, the drawing across the whole width, then the legend and the caption below."""
    rows = max((y for _x, y in positions.values()), default=0) + 1
    title_lines = textwrap.wrap(words.title, int(size.width * 72 / (size.title * 0.6)))
    caption_lines = textwrap.wrap(words.caption, int(size.width * 72 / (size.caption * 0.58)))
    ncol = legend_columns(legend, size)
    title_h = len(title_lines) * size.title * LINE + 0.15
    header_h = size.text * LINE + 0.05
    row_h = 1.0  # inches between places in a column
    # a place's name wraps to four fifths of a column, so neighbours' names never run into each other
    column_width = 0.98 * size.width / (len(columns) - 0.2)
    name_width = max(8, int(0.8 * column_width * 72 / (size.text * 0.6)))
    names = {
        key: textwrap.wrap(str(network.nodes[key].get("label", key)), name_width, break_long_words=False)
        for key in positions
    }
    below = 0.25 + max((len(lines) for lines in names.values()), default=1) * size.text * LINE / row_h
    drawing_h = (rows - 0.6 + below) * row_h
    legend_h = legend_height(legend, ncol, size)
    caption_h = len(caption_lines) * size.caption * CAPTION_SPACING / 72 + 0.1
    height = title_h + header_h + drawing_h + legend_h + caption_h + 0.1
    figure = canvas.Figure(figsize=(size.width, height))
    figure.suptitle(
        "\n".join(title_lines), fontsize=size.title, x=0.02, y=1 - 0.08 / height, ha="left", va="top"
    )
    bottom = legend_h + caption_h + 0.1
    axes = figure.add_axes((0.01, bottom / height, 0.98, (drawing_h + header_h) / height))
    axes.set_axis_off()
    axes.set_xlim(-0.4, len(columns) - 0.6)
    axes.set_ylim(-below, rows - 0.4 + header_h / row_h)
    for column, name in enumerate(columns):
        axes.text(
            column,
            rows - 0.4,
            name,
            ha="center",
            va="bottom",
            fontsize=size.text,
            color="#555555",
            style="italic",
        )
    node = 2.6 * size.text  # a node's diameter in points: room for a two-letter code
    _draw_edges(axes, positions, styles, size, node)
    for key, (x, y) in positions.items():
        axes.scatter([x], [y], s=node**2, color="white", edgecolors="#333333", linewidths=1.2, zorder=3)
        axes.annotate(
            "\n".join(names[key]),
            (x, y),
            xytext=(0, -node / 2 - 2),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=size.text,
            zorder=4,
        )
        code = network.nodes[key].get("iso", "")
        if code:
            axes.text(x, y, code, ha="center", va="center", fontsize=size.text, color="#333333", zorder=4)
    add_legend(figure, legend, ncol, size, (legend_h + caption_h + 0.05) / height)
    add_caption(figure, 0.02, caption_lines, size)
    return save(figure, fmt, words.title, words.description)


def add_legend(
    figure: canvas.Figure, handles: Sequence[canvas.Artist], ncol: int, size: Preset, top: float
) -> None:
    """The legend below a drawing, centred, its top at `top` (a fraction of the figure's height)."""
    figure.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, top),
        ncol=ncol,
        frameon=False,
        fontsize=size.text,
        handlelength=2.2,
        columnspacing=1.2,
    )


def add_caption(figure: canvas.Figure, left: float, lines: list[str], size: Preset) -> None:
    """The caption at the foot of the figure, `len(lines) * size.caption * CAPTION_SPACING` points high."""
    height = figure.get_figheight()
    figure.text(
        left,
        0.05 / height,
        "\n".join(lines),
        fontsize=size.caption,
        va="bottom",
        ha="left",
        color="#333333",
        linespacing=CAPTION_SPACING,
    )


@canvas.one_at_a_time
def legend_height(handles: Sequence[canvas.Artist], ncol: int, size: Preset) -> float:
    """The legend's height in inches, measured as drawn on a figure as wide as the picture: counting
    rows of text left a blank band between the legend and what follows it."""
    figure = canvas.Figure(figsize=(size.width, 2.0))
    add_legend(figure, handles, ncol, size, 1.0)
    renderer = canvas.FigureCanvasAgg(figure).get_renderer()
    return float(figure.legends[0].get_window_extent(renderer).height / figure.dpi)


def legend_columns(legend: Sequence[canvas.Artist], size: Preset) -> int:
    """As many legend columns as the width holds, so the legend spreads under the drawing."""
    widest = max((len(str(h.get_label())) for h in legend), default=1) * size.text * 0.6 + 3.4 * size.text
    return max(1, min(len(legend), int(size.width * 72 * 0.96 // widest)))


def _draw_edges(
    axes: canvas.Axes,
    positions: Positions,
    styles: dict[tuple[str, str, object], EdgeStyle],
    size: Preset,
    node: float,
) -> None:
    """Each leg an arc (parallel legs fanned out, backward legs bowed); a mode label on the middle of its
    own arc, once for the parallel legs it names, with the legs it names in its id."""
    parallel: dict[tuple[str, str], list[tuple[str, str, object]]] = defaultdict(list)
    for edge in sorted(styles, key=str):
        parallel[(edge[0], edge[1])].append(edge)
    for (u, v), edges in parallel.items():
        bends = {}
        bow = _clearer_side(axes, positions, u, v) if positions[v][0] <= positions[u][0] else 0.0
        for i, edge in enumerate(edges):
            style = styles[edge]
            bends[edge] = 0.12 * (i - (len(edges) - 1) / 2) + bow
            axes.add_patch(
                canvas.FancyArrowPatch(
                    positions[u],
                    positions[v],
                    connectionstyle=f"arc3,rad={bends[edge]}",
                    arrowstyle="-|>",
                    mutation_scale=14,
                    shrinkA=node / 2 + 1,
                    shrinkB=node / 2 + 1,
                    lw=1.8,
                    color=style.colour,
                    linestyle=(0, (4, 3)) if style.dashed else "-",
                    alpha=FADED if style.faded else 0.9,
                    zorder=2,
                    gid=f"leg_{_name(edge)}",
                )
            )
        notes: dict[str, list[tuple[str, str, object]]] = defaultdict(list)
        for edge in edges:
            if styles[edge].note:
                notes[styles[edge].note].append(edge)
        for note, named in notes.items():
            middle = named[len(named) // 2]
            axes.text(
                *_arc_middle(axes, positions[u], positions[v], bends[middle]),
                "\n".join(textwrap.wrap(note, 16)),
                ha="center",
                va="center",
                fontsize=size.text,
                color="#333333",
                zorder=5,
                gid="mode_" + "+".join(_name(e) for e in named),
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
            )


def _clearer_side(axes: canvas.Axes, positions: Positions, u: str, v: str) -> float:
    """How far a leg running backwards bows, and to which side: the side whose middle is farther from
    every other place, so the leg and its label keep out of the others' way."""
    others = [p for key, p in positions.items() if key not in (u, v)]
    if not others:
        return 0.45
    on_page = axes.transData.transform(others)

    def room(rad: float) -> float:
        middle = axes.transData.transform(_arc_middle(axes, positions[u], positions[v], rad))
        return float(min(math.dist(middle, place) for place in on_page))

    return max((0.45, -0.45), key=room)


def _arc_middle(
    axes: canvas.Axes, start: tuple[float, float], end: tuple[float, float], rad: float
) -> tuple[float, float]:
    """The middle of matplotlib's `arc3` curve from `start` to `end`, in data coordinates.

    The arc is a quadratic Bézier whose control point lies off the chord's middle by `rad` times the chord,
    measured on the page, so the middle is found on the page and brought back into the data."""
    (x1, y1), (x2, y2) = axes.transData.transform([start, end])
    cx, cy = (x1 + x2) / 2 + rad * (y2 - y1), (y1 + y2) / 2 - rad * (x2 - x1)
    middle = (0.25 * x1 + 0.5 * cx + 0.25 * x2, 0.25 * y1 + 0.5 * cy + 0.25 * y2)
    x, y = axes.transData.inverted().transform(middle)
    return float(x), float(y)


def _name(edge: tuple[str, str, object]) -> str:
    return f"{edge[0]}-{edge[1]}-{edge[2]}"
