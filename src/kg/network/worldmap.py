"""The flows on a world map: countries filled by the role they play, an arrow along every leg.

Drawn offline from the packaged boundary set (`geo`), in Equal Earth, cropped to
the countries the flows touch. Arrows follow the network picture's conventions:
one per leg and substance in the substance's colour, suspected legs dashed,
historical legs faded. Places that are not countries of the boundary set
(regions such as Southeast Asia) cannot be drawn; the caption and the text
alternative name them.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from dataclasses import dataclass, replace

import networkx as nx
import numpy as np

from . import canvas, geo
from .draw import CAPTION_SPACING, add_caption, add_legend, legend_columns, legend_height, save
from .layout import COLUMNS, as_drawn, column_of, flow_roles, substance_colours, substance_labels
from .presets import PRESETS, Preset
from .views import FlowView

ROLE_NAMES = {"sources": "source", "transit": "transit", "destination": "destination"}
ROLE_COLOURS = {"sources": "#F3C98B", "transit": "#CDBFE3", "destination": "#A9CCE3"}
NO_ROLE = "#ECECEC"
BORDER = "#FFFFFF"
UNDRAWN_PLACE = "they are not countries"
UNDRAWN_COUNTRY = "they are not in the 1:110m boundary set"
MARGIN = 0.08  # of the flows' extent, on every side
BEND = 0.2  # how far arcs bow out, as a share of their length
LINE_SPACING = 1.3  # of the font size, in the key
SCREEN_WIDTH = 10.0  # inches: on screen a world map wants more width than the network picture


@dataclass(frozen=True)
class Plan:
    """What a map of a flow network shows: the role of each drawable country, the legs it can draw, and
    the places it cannot."""

    roles: dict[str, str]  # place key -> its main role (a column of the network picture)
    all_roles: dict[str, list[str]]  # place key -> every role it plays
    legs: list[tuple[str, str, str, dict[str, object]]]  # u, v, key, data: both ends drawable
    undrawn: dict[str, list[str]]  # why not drawn -> labels of the places
    labels: dict[str, str]


def plan(network: nx.MultiDiGraph) -> Plan:
    """Which countries get which fill, which legs become arrows, which places cannot be drawn."""
    known = geo.countries()
    drawable = {str(n) for n, d in network.nodes(data=True) if d.get("iso", "") in known}
    played = flow_roles(network)
    in_order = sorted(drawable)  # the places' markers are drawn so: a set's order changes from run to run
    roles = {n: column_of(played[n]) for n in in_order if n in played}
    all_roles = {n: [r for r in COLUMNS if played[n][r]] for n in in_order if n in played}
    labels = {str(n): str(d.get("label", n)) for n, d in network.nodes(data=True)}
    legs = [
        (u, v, k, d)
        for u, v, k, d in sorted(network.edges(keys=True, data=True), key=lambda e: str(e[2]))
        if u in drawable and v in drawable
    ]
    undrawn: dict[str, list[str]] = defaultdict(list)
    for node, kind in sorted(network.nodes(data="type", default=""), key=lambda n: labels[n[0]].casefold()):
        if node not in drawable:
            undrawn[UNDRAWN_COUNTRY if kind == "Country" else UNDRAWN_PLACE].append(labels[node])
    return Plan(roles, all_roles, legs, dict(undrawn), labels)


def map_in_words(view: FlowView) -> str:
    """The map as a sentence for alt text: the places by role, the legs drawn, the places left out."""
    shown = plan(view.network)
    parts = [f"World map: {view.title}."]
    for role in COLUMNS:
        places = sorted((n for n, r in shown.roles.items() if r == role), key=lambda n: shown.labels[n])
        if places:
            parts.append(
                f"{ROLE_NAMES[role].capitalize()}: {', '.join(_with_other_roles(shown, n) for n in places)}."
            )
    words = [
        f"{shown.labels[u]} to {shown.labels[v]}: {_corridor_words(legs)}"
        for (u, v), legs in _corridors(shown).items()
    ]
    if words:
        parts.append(f"Arrows: {'; '.join(words)}.")
    parts += [f"Not drawn, as {why}: {', '.join(places)}." for why, places in shown.undrawn.items()]
    return " ".join(parts)


def _with_other_roles(shown: Plan, place: str) -> str:
    others = [ROLE_NAMES[r] for r in shown.all_roles.get(place, []) if r != shown.roles[place]]
    return shown.labels[place] + (f" (also {' and '.join(others)})" if others else "")


def _hedges(data: dict[str, object]) -> list[str]:
    """How firm and how current a leg is, and its mode where it is not plain smuggling."""
    hedges = ["suspected"] if data.get("status") == "suspected" else []
    if data.get("temporal") == "historical":
        hedges.append("historical")
    if data.get("mode") not in ("", "smuggled", None):
        hedges.append(str(data.get("mode_label", data["mode"])))
    return hedges


def _corridors(shown: Plan) -> dict[tuple[str, str], list[tuple[str, dict[str, object]]]]:
    """The drawable legs grouped by the pair of places they join, in the order of first appearance."""
    corridors: dict[tuple[str, str], list[tuple[str, dict[str, object]]]] = defaultdict(list)
    for u, v, key, data in shown.legs:
        corridors[(u, v)].append((key, data))
    return dict(corridors)


def _corridor_words(legs: list[tuple[str, dict[str, object]]]) -> str:
    """'illicit fentanyl, fentanyl analogues (direct mail)': substances grouped by the hedges they share."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for _key, data in legs:
        grouped[", ".join(_hedges(data))].append(str(data.get("substance_label", data["substance"])))
    return "; ".join(
        ", ".join(dict.fromkeys(names)) + (f" ({hedges})" if hedges else "")
        for hedges, names in grouped.items()
    )


def map_words(view: FlowView) -> dict[str, str]:
    """The map in words (its alt text) and its caption, for a page that shows it."""
    return {"alt": map_in_words(view), "caption": map_caption(view)}


def map_caption(view: FlowView) -> str:
    """What the fills and arrows mean, what could not be drawn, and the source with its date."""
    shown = plan(view.network)
    styles = {"suspected": "dashed: suspected", "historical": "faded: historical"}
    used = [words for hedge, words in styles.items() if any(hedge in _hedges(d) for *_e, d in shown.legs)]
    parts = [
        "Countries filled by the role they mostly play in these flows; each arrow is a leg of a route the "
        f"report describes, in the colour of its substance{''.join('; ' + words for words in used)}."
    ]
    parts += [f"Not drawn, as {why}: {', '.join(places)}." for why, places in shown.undrawn.items()]
    parts.append(source_line(view.caption))
    parts.append("Boundaries: Natural Earth 1:110m (public domain), Equal Earth projection.")
    return " ".join(p for p in parts if p)


def source_line(caption: str) -> str:
    """The source sentence a flow view's caption ends with: the report, its date, the agencies cited."""
    start = caption.find("Source: ")
    return caption[start:] if start >= 0 else ""


@canvas.one_at_a_time
def draw_map(view: FlowView, *, fmt: str = "svg", preset: str = "screen") -> bytes:
    """The view's flows on a world map, as SVG (text as text, ids per country and leg) or PNG.

    Top to bottom: title, map, legend, the numbered pairs of places in words, caption.
    """
    size = map_size(preset)
    view = replace(view, network=as_drawn(view.network))
    shown = plan(view.network)
    known = geo.countries()
    isos = {n: str(view.network.nodes[n]["iso"]) for n in shown.roles}
    centre = geo.central_meridian([known[isos[n]].main_ring for n in shown.roles]) if shown.roles else 0.0
    rings = {n: geo.project(geo.unwrap(known[isos[n]].main_ring, centre)) for n in shown.roles}
    west, east, south, north = _extent(list(rings.values()))
    ratio = min(max((north - south) / (east - west), 0.4), 0.9)

    line = LINE_SPACING / 72  # inches per point of text, with leading
    characters = int(size.width * 72 / (size.caption * 0.55))
    heading = textwrap.wrap(view.title, int(size.width * 72 / (size.title * 0.6)))
    key = [
        row
        for entry in route_key(shown)
        for row in textwrap.wrap(entry, characters, subsequent_indent="    ")
    ]
    notes = textwrap.wrap(map_caption(view), characters)
    handles = _legend(view.network, shown)
    columns = legend_columns(handles, size)
    title_h = len(heading) * size.title * line + 0.15
    map_w = size.width - 0.2
    map_h = map_w * ratio
    legend_h = legend_height(handles, columns, size) + 0.05
    key_h = len(key) * size.text * line + 0.1
    caption_h = len(notes) * size.caption * CAPTION_SPACING / 72 + 0.1
    height = title_h + map_h + legend_h + key_h + caption_h + 0.1
    left = 0.1 / size.width

    figure = canvas.Figure(figsize=(size.width, height))
    figure.suptitle("\n".join(heading), fontsize=size.title, x=left, ha="left", y=1 - 0.08 / height, va="top")
    axes = figure.add_axes((left, (height - title_h - map_h) / height, map_w / size.width, map_h / height))
    axes.set_axis_off()
    _frame(axes, (west, east, south, north), map_h / map_w)
    _countries(axes, known, {isos[n]: ROLE_COLOURS[r] for n, r in shown.roles.items()}, centre)
    _arrows(axes, shown, {n: _centroid(r) for n, r in rings.items()}, substance_colours(view.network), size)
    add_legend(figure, handles, columns, size, (caption_h + key_h + legend_h) / height)
    figure.text(
        left,
        (caption_h + 0.05) / height,
        "\n".join(key),
        fontsize=size.text,
        va="bottom",
        ha="left",
        linespacing=LINE_SPACING,
    )
    add_caption(figure, left, notes, size)
    return save(figure, fmt, view.title, map_in_words(view))


def map_size(preset: str) -> Preset:
    """The shared preset, wider on screen, where a world map needs the room; a memo's is the memo's."""
    size = PRESETS[preset]
    return replace(size, width=SCREEN_WIDTH) if preset == "screen" else size


def _frame(axes: canvas.Axes, extent: tuple[float, float, float, float], ratio: float) -> None:
    """Limits around the flows with a margin, widened so that a degree is as long north to south as east
    to west within the axes' box of height/width `ratio`; not past the poles where it can be helped."""
    west, east, south, north = extent
    width, height = (east - west) * (1 + 2 * MARGIN), (north - south) * (1 + 2 * MARGIN)
    width, height = max(width, height / ratio), max(height, width * ratio)
    pole = float(geo.outline()[:, 1].max())
    top = min((south + north) / 2 + height / 2, max(pole, north))
    middle_x = (west + east) / 2
    axes.set_xlim(middle_x - width / 2, middle_x + width / 2)
    axes.set_ylim(top - height, top)


def _countries(
    axes: canvas.Axes, known: dict[str, geo.Country], fills: dict[str, str], centre: float
) -> None:
    """The countries within the map's limits, grey unless the flows give them a role; each a group with
    the id `country-<ISO numeric>`. Called once the limits are set; countries beyond them are left out of
    the file."""
    (x0, x1), (y0, y1) = axes.get_xlim(), axes.get_ylim()
    # One path for both edges, the world's and the map's: an SVG element takes a single clip path.
    edge = canvas.Path(geo.outline(), closed=True).clip_to_bbox(canvas.Bbox.from_extents(x0, y0, x1, y1))
    frame = canvas.PathPatch(edge, facecolor="#F8FBFD", edgecolor="#BBBBBB", lw=0.6)
    axes.add_patch(frame)
    for code, country in known.items():
        pieces = [
            projected
            for polygon in country.polygons
            for ring in polygon
            for projected in map(geo.project, _copies(geo.unwrap(ring, centre)))
        ]
        if not any(_overlaps(piece, (x0, x1, y0, y1)) for piece in pieces):
            continue
        codes = [
            step
            for piece in pieces
            for step in [canvas.Path.MOVETO] + [canvas.Path.LINETO] * (len(piece) - 1)
        ]
        patch = canvas.PathPatch(
            canvas.Path(np.concatenate(pieces), codes),
            facecolor=fills.get(code, NO_ROLE),
            edgecolor=BORDER,
            lw=0.4,
            zorder=1,
        )
        patch.set_gid(f"country-{country.numeric or code}")
        axes.add_patch(patch)
        patch.set_clip_path(frame)


def _overlaps(piece: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    x0, x1, y0, y1 = box
    return bool(
        piece[:, 0].max() >= x0
        and piece[:, 0].min() <= x1
        and piece[:, 1].max() >= y0
        and piece[:, 1].min() <= y1
    )


def _copies(ring: np.ndarray) -> list[np.ndarray]:
    """The ring, and its copy a world away where it runs past the map's edge (the outline clips both)."""
    west, east = float(ring[:, 0].min()), float(ring[:, 0].max())
    copies = [ring]
    for offset in (-360.0, 360.0):
        if west + offset < 180 and east + offset > -180:
            copies.append(ring + np.array([offset, 0.0]))
    return copies


def _arrows(
    axes: canvas.Axes,
    shown: Plan,
    anchors: dict[str, tuple[float, float]],
    colours: dict[str, str],
    size: Preset,
) -> None:
    """One arrow per drawable leg and substance (group id `leg-<leg>.<substance>`); parallel arrows bend
    apart. Each pair of places gets a number on its arcs, which the key under the map spells out; on a
    short pair the number stands further out, clear of the pair's way back."""
    reach = 0.035 * (axes.get_xlim()[1] - axes.get_xlim()[0])
    for number, ((u, v), legs) in enumerate(_corridors(shown).items(), start=1):
        (x1, y1), (x2, y2) = anchors[u], anchors[v]
        for i, (key, data) in enumerate(legs):
            arrow = canvas.FancyArrowPatch(
                (x1, y1),
                (x2, y2),
                connectionstyle=f"arc3,rad={BEND + 0.08 * (i - (len(legs) - 1) / 2)}",
                arrowstyle="-|>",
                mutation_scale=11,
                shrinkA=3,
                shrinkB=3,
                lw=1.5,
                color=colours[str(data["substance"])],
                linestyle=(0, (4, 3)) if data.get("status") == "suspected" else "-",
                alpha=0.4 if data.get("temporal") == "historical" else 0.95,
                zorder=3,
            )
            arrow.set_gid(f"leg-{key.replace('/', '.')}")
            axes.add_patch(arrow)
        # The middle of a quadratic arc of bend `rad` lies half the bend off the chord's midpoint.
        chord = max(float(np.hypot(x2 - x1, y2 - y1)), 1e-9)
        offset = max(BEND / 2 * chord, reach) / chord
        axes.text(
            (x1 + x2) / 2 + offset * (y2 - y1),
            (y1 + y2) / 2 - offset * (x2 - x1),
            str(number),
            ha="center",
            va="center",
            fontsize=size.text,
            color="#222222",
            zorder=5,
            bbox={"boxstyle": "circle,pad=0.2", "facecolor": "white", "edgecolor": "#666666", "lw": 0.6},
        )
    for x, y in anchors.values():
        axes.plot([x], [y], marker="o", ms=3, color="#333333", zorder=4)


def route_key(shown: Plan) -> list[str]:
    """The numbered pairs of places on the map with what moves between them, in words."""
    return [
        f"{number}  {shown.labels[u]} \u2192 {shown.labels[v]}: {_corridor_words(legs)}"
        for number, ((u, v), legs) in enumerate(_corridors(shown).items(), start=1)
    ]


def _legend(network: nx.MultiDiGraph, shown: Plan) -> list[canvas.Patch | canvas.Line2D]:
    """Only what the map shows: the roles present, the substances drawn, the hedges used."""
    handles: list[canvas.Patch | canvas.Line2D] = [
        canvas.Patch(facecolor=ROLE_COLOURS[r], edgecolor="#999999", lw=0.5, label=ROLE_NAMES[r])
        for r in COLUMNS
        if r in shown.roles.values()
    ]
    colours, labels = substance_colours(network), substance_labels(network)
    drawn = dict.fromkeys(str(d["substance"]) for _u, _v, _k, d in shown.legs)
    handles += [canvas.Line2D([], [], color=colours[s], lw=2, label=labels[s]) for s in sorted(drawn)]
    hedges = {(str(d.get("status")), str(d.get("temporal"))) for _u, _v, _k, d in shown.legs}
    if any(status == "suspected" for status, _t in hedges):
        handles.append(canvas.Line2D([], [], color="#444444", lw=1.5, ls="--", label="suspected"))
    if any(temporal == "historical" for _s, temporal in hedges):
        handles.append(canvas.Line2D([], [], color="#444444", lw=1.5, alpha=0.4, label="historical"))
    return handles


def _centroid(ring: np.ndarray) -> tuple[float, float]:
    """The centre of mass of a projected ring, where its country's arrows start and end."""
    x, y = ring[:, 0], ring[:, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    area = cross.sum() / 2
    return float(((x + np.roll(x, -1)) * cross).sum() / (6 * area)), float(
        ((y + np.roll(y, -1)) * cross).sum() / (6 * area)
    )


def _extent(rings: list[np.ndarray]) -> tuple[float, float, float, float]:
    if not rings:
        outline = geo.outline()
        rings = [outline]
    points = np.concatenate(rings)
    return (
        float(points[:, 0].min()),
        float(points[:, 0].max()),
        float(points[:, 1].min()),
        float(points[:, 1].max()),
    )
