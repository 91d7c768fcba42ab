"""Pages of `kg serve`: the trafficking network with a substance filter, and charts of the statistics.

Every picture also has its own `.svg` and `.png` URL to embed elsewhere; the
interactive view loads vis-network's script and stylesheet from this blueprint,
which serves the files shipped inside the installed pyvis package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import networkx as nx
from flask import Blueprint, Response, abort, render_template, request, send_file, url_for

from kg.charts import chart as charts
from kg.charts import series
from kg.evidence.facts import Evidence, evidence_for
from kg.network.presets import PRESETS
from kg.query.internal import typed
from kg.server.headers import allow_inline
from kg.server.messages import Query
from kg.server.services import services
from kg.store.base import Store

from . import interactive, worldmap
from .model import flow_network, production_network
from .routes import UnknownName
from .views import FlowView, flow_picture, flow_view_of, flow_words, resolve_substance

blueprint = Blueprint("network", __name__, template_folder="templates")

# The charts the report's statistics call for, offered on the charts page.
SUGGESTED_CHARTS = (
    ("poppyCultivationArea+poppyEradicationArea", "MX"),
    ("potentialHeroinProduction", "MX"),
    ("heroinSeizures+drugLabsDestroyed", "MX"),
    ("opiumGumSeizures", "MX"),
    ("heroinSeizures", None),
)
MIME = {"svg": "image/svg+xml", "png": "image/png", "html": "text/html"}  # Flask adds the charset
MAX_CHART_MEASURES = 12  # names in one chart's path: more than a chart can show apart


def store() -> Store:
    """The server's bounded store: every query of these pages runs in a query worker, within the limits."""
    return services().store


def models() -> tuple[nx.MultiDiGraph, nx.DiGraph]:
    """The flow and production networks of the build served: read once (seconds at a million triples),
    shared by the page, its pictures and its map."""
    state = services()
    return (
        state.derived(("flow-network",), lambda: flow_network(store())),
        state.derived(("production-network",), lambda: production_network(store())),
    )


def view_of(substance: str | None) -> FlowView:
    """The flows of `substance` from the kept models, kept too under the substance the name resolves
    to (routes stated alike are merged across the library's sources: seconds at a million triples);
    an unknown name is a 404 naming the known ones."""
    network, chain = models()
    try:
        resolved = resolve_substance(chain, network, substance) if substance else None
    except UnknownName as error:
        abort(404, str(error))
    return services().derived(("flow-view", resolved), lambda: flow_view_of(network, chain, resolved))


def cached(key: tuple[str, ...], make: Callable[[], bytes]) -> bytes:
    """Pictures of a read-only store never change while the server runs: each is drawn once and kept in
    the server's one cache, under a key naming what it shows, and its drawing is charged to the client
    who asked first (`Services.picture`)."""
    return services().picture(key, make)


def _substance() -> str | None:
    return (request.args.get("substance") or "").strip() or None


@blueprint.get("/network")
def network_page() -> Response:
    """The page is kept whole once drawn, as the pictures are: at a million triples its route table
    alone is a catalogue answer of 1,800 rows."""
    view = view_of(_substance())  # kept under the substance the name resolves to, as the pictures are
    body = cached(("network-page", view.substance or ""), lambda: _network_page(view).encode())
    return Response(body, mimetype="text/html")


def _network_page(view: FlowView) -> str:
    substance = view.substance
    network, chain = models()
    choices = sorted(
        {
            d["substance"]: d.get("substance_label", d["substance"]) for _u, _v, d in network.edges(data=True)
        }.items()
    )
    roots = [(key, chain.nodes[key]["label"]) for key in ("fentanyl", "heroin") if key in chain]
    return render_template(
        "network/network.html",
        world_map={**map_urls(substance), **worldmap.map_words(view)},
        routes=routes_in_words(view),
        restated=max((data.get("flows", 1) for *_, data in view.network.edges(data=True)), default=1),
        view=view,
        choices=roots + [c for c in choices if c[0] not in dict(roots)],
        substance=substance,
        pictures={fmt: url_for("network.network_picture", fmt=fmt, substance=substance) for fmt in MIME},
        memo={
            fmt: url_for("network.network_picture", fmt=fmt, substance=substance, preset="memo")
            for fmt in ("svg", "png")
        },
        words=flow_words(view).description,
    )


def routes_in_words(view: FlowView) -> dict[str, object] | None:
    """The routes the picture draws, every one, as a readable answer: the text alternative of the
    network, each route with who says it and the sentence of the report."""
    from kg.server.pages import table

    flows = sorted({data["flow"] for _u, _v, data in view.network.edges(data=True)})
    if not flows:
        return None
    state = services()
    text, bindings = typed("routes-in-words", flow=flows)
    return table(state.run(Query(text, Query.sorted_bindings(bindings), max_rows=state.config.html_rows)))


def _preset() -> str:
    """`?preset=memo` for a memo's width and type sizes; an unknown preset is a 404 naming the known ones."""
    preset = request.args.get("preset") or "screen"
    if preset not in PRESETS:
        abort(404, f"no picture preset {preset!r}; presets: {', '.join(sorted(PRESETS))}")
    return preset


@blueprint.get("/network.<any(svg, png, html):fmt>")
def network_picture(fmt: str) -> Response:
    """`?preset=memo` draws the memo picture `kg network draw --preset memo` draws. The picture is kept
    under the substance key the name resolves to, one entry for every spelling."""
    preset = _preset()
    view = view_of(_substance())
    script = url_for("network.vis_script") if fmt == "html" else None
    style = url_for("network.vis_style") if fmt == "html" else None
    body = cached(
        ("network", view.substance or "", fmt, preset),
        lambda: flow_picture(
            view, fmt, script_url=script, preset=preset, style_url=style, link=services().link
        ),
    )
    response = Response(body, mimetype=MIME[fmt])
    return allow_inline(response, framed_by_site=True) if fmt == "html" else response


def map_urls(substance: str | None) -> dict[str, str]:
    """The map's URLs at screen size (`svg`, `png`) and for memos (`svg_memo`, `png_memo`)."""
    return {
        fmt + ("" if preset == "screen" else f"_{preset}"): url_for(
            "network.map_picture", fmt=fmt, substance=substance, preset=None if preset == "screen" else preset
        )
        for fmt in ("svg", "png")
        for preset in PRESETS
    }


@blueprint.get("/network/map.<any(svg, png):fmt>")
def map_picture(fmt: str) -> Response:
    """The flows on a world map; `?substance=` narrows as on /network, `?preset=memo` for a memo."""
    preset = _preset()
    view = view_of(_substance())
    body = cached(
        ("map", view.substance or "", fmt, preset), lambda: worldmap.draw_map(view, fmt=fmt, preset=preset)
    )
    return Response(body, mimetype=MIME[fmt])


@blueprint.get("/network/vis-network.min.js")
def vis_script() -> Response:
    return send_file(interactive.vis_network_path("min.js"), mimetype="text/javascript", max_age=86400)


@blueprint.get("/network/vis-network.css")
def vis_style() -> Response:
    """vis-network's stylesheet: without it the evidence tooltip sits hidden under the picture."""
    return send_file(interactive.vis_network_path("css"), mimetype="text/css", max_age=86400)


def _series(measures: Iterable[series.Measure], area: str | None) -> list[series.Series]:
    """The time series of `measures`, in `area` or everywhere."""
    found: list[series.Series] = []
    for measure in measures:
        found.extend(series.time_series(store(), measure, area))
    return found


def _measures(names: str) -> list[series.Measure]:
    """The measures a chart's `+`-joined names mean, each once: 404 for a name that means none, 400 for
    more names than a chart shows (each name costs the web process a lookup; 20,000 took 4.5 s)."""
    given = names.replace(",", "+").split("+")
    if len(given) > MAX_CHART_MEASURES:
        abort(400, f"a chart draws at most {MAX_CHART_MEASURES} measures; {len(given)} were named")
    try:
        return series.resolve_measures(store(), given)
    except series.UnknownMeasure as error:
        abort(404, str(error))


def _described(names: str, area: str | None, preset: str | None) -> dict[str, object]:
    """One chart of the page: its picture URLs and the same chart in words."""
    args: dict[str, Any] = {"names": names, "area": area, "preset": preset if preset != "screen" else None}
    measures = _measures(names)
    found = _series(measures, area)
    # A choice with nothing to draw is said in words, not shown as a picture that does not load.
    problem = charts.problem(found)
    return {
        "names": names,
        "area": area,
        "titled": " and ".join(m.label for m in measures)
        + (f" in {dict(chart_menus()[1]).get(area, area)}" if area else ""),
        "drawn": not problem,
        "svg": url_for("network.chart_picture", fmt="svg", **args),
        "png": url_for("network.chart_picture", fmt="png", **args),
        "words": problem or charts.describe(found),
        "figures": [] if problem else _figures(found),
        "figures_left": max(0, sum(len(one.points) for one in found) - CHART_FIGURES),
    }


CHART_FIGURES = 40  # figures a chart's page gives with their sentences; each observation's page has all


def _figures(found: list[series.Series]) -> list[tuple[str, list[Evidence]]]:
    """Each figure the chart draws, named, with the sentences that give it and the agency the report
    cites: a reader goes from a plotted point to the report's words. Each is worded as the chart and its
    words word it, with its bound, part of a period and qualifiers: a number and unit alone said
    '3,925 kilograms' for more than 3,925 kg through July."""
    points = [(one, point) for one in found for point in one.points][:CHART_FIGURES]
    evidence = evidence_for(services().values, [point.observation for _, point in points])
    return [
        (
            f"{one.measure.label}, {one.label}, {point.period}: {charts.value_words(point, one.unit)}",
            evidence.get(point.observation, []),
        )
        for one, point in points
    ]


@blueprint.get("/charts")
def charts_page() -> Response:
    """Suggested charts, and any measure for any place picked from the menus, each with its words. Kept
    whole like the pictures (at a million triples its series and words take seconds), under the
    choices as the menus know them: a choice they do not offer is no choice, so spellings take no
    cache space, and one they do not offer is refused by name."""
    measures, areas = chart_menus()
    preset = _preset()
    picked, area = request.args.get("measure") or None, request.args.get("area") or None
    # A choice the menus do not offer is said, as a picture's URL says it: a mistyped or stale link
    # had shown the suggested charts, or every place's, without a word.
    if picked is not None and picked not in {m.key for m in measures}:
        abort(404, f"no measure {picked!r} to chart; the measures: {', '.join(m.key for m in measures)}")
    if area is not None and area not in dict(areas):
        abort(404, f"no place {area!r} to chart; the places: {', '.join(sorted(dict(areas)))}")
    if area is not None and picked is None:
        abort(400, "area= narrows the chart of a measure=; give the measure too")
    body = cached(
        ("charts-page", picked or "", area or "", preset),
        lambda: _charts_page(measures, areas, picked, area, preset).encode(),
    )
    return Response(body, mimetype="text/html")


def chart_menus() -> tuple[list[series.Measure], list[tuple[str, str]]]:
    """The measures and the places the charts page offers, read once for each build served."""

    def read() -> tuple[list[series.Measure], list[tuple[str, str]]]:
        every = {m: series.time_series(store(), m) for m in series.measures(store())}
        # Only the measures with a point to draw: the others gave a picture that did not load.
        known = [m for m, found in every.items() if any(one.points for one in found)]
        areas = sorted(
            {(one.area, one.area_label) for m in known for one in every[m]},
            key=lambda pair: pair[1].casefold(),
        )
        return known, areas

    return services().derived(("chart-menus",), read)


def _charts_page(
    measures: list[series.Measure],
    areas: list[tuple[str, str]],
    picked: str | None,
    area: str | None,
    preset: str,
) -> str:
    chosen = _described(picked, area, preset) if picked else None
    shown = [_described(names, suggested_area, preset) for names, suggested_area in SUGGESTED_CHARTS]
    return render_template(
        "network/charts.html",
        charts=shown,
        chosen=chosen,
        measures=measures,
        areas=areas,
        presets=sorted(PRESETS),
        preset=preset,
        picked=picked,
        picked_area=area or "",
        base_url=services().config.base_url.rstrip("/"),
    )


@blueprint.get("/charts/<names>.<any(svg, png):fmt>")
def chart_picture(names: str, fmt: str) -> Response:
    """Measures joined by `+` (`poppyCultivationArea+poppyEradicationArea.svg`), `?area=MX` to narrow,
    `?preset=memo` for a memo's width and type sizes.

    The picture is kept under the measures' IRIs, so every spelling of a measure shares one entry.
    """
    area = request.args.get("area") or None
    preset = _preset()
    chosen = {m.iri: m for m in _measures(names)}

    def make() -> bytes:
        return charts.chart(_series(chosen.values(), area), fmt=fmt, preset=preset)

    try:
        body = cached(("chart", *chosen, (area or "").casefold(), fmt, preset), make)
    except ValueError as error:
        abort(404, f"nothing to chart: {error}")
    return Response(body, mimetype=MIME[fmt])
