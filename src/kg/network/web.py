"""Pages of `kg serve`: the trafficking network with a substance filter, and charts of the statistics.

Every picture also has its own `.svg` and `.png` URL to embed elsewhere; the
interactive view loads vis-network from this blueprint, which serves the file
shipped inside the installed pyvis package.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file, url_for

from kg.charts import chart as charts
from kg.charts import series
from kg.store.base import DEFAULT_STORE, Store
from kg.store.embedded import EmbeddedStore

from . import interactive
from .model import flow_network, production_network
from .routes import UnknownName
from .views import flow_picture, flow_view

blueprint = Blueprint("network", __name__, template_folder="templates")

# The charts the report's statistics call for, offered on the charts page.
SUGGESTED_CHARTS = (
    ("poppyCultivationArea+poppyEradicationArea", "MX"),
    ("potentialHeroinProduction", "MX"),
    ("heroinSeizures+drugLabsDestroyed", "MX"),
    ("opiumGumSeizures", "MX"),
    ("heroinSeizures", None),
)
ROUTES_QUESTION = "fentanyl-routes"  # routes of a substance to a destination; its default is fentanyl
MIME = {"svg": "image/svg+xml", "png": "image/png", "html": "text/html; charset=utf-8"}
_lock = threading.Lock()


def store() -> Store:
    """The app's store, opened once per process from the server's settings."""
    extensions = current_app.extensions
    with _lock:
        if "kg.network.store" not in extensions:
            services = extensions.get("kg")
            factory: Callable[[], Store] | None = getattr(
                getattr(services, "config", None), "store_factory", None
            )
            extensions["kg.network.store"] = factory() if factory else EmbeddedStore(DEFAULT_STORE)
        return extensions["kg.network.store"]


def cached(key: tuple[str, ...], make: Callable[[], bytes]) -> bytes:
    """Pictures of a read-only store never change while the server runs: draw each once."""
    cache: dict[tuple[str, ...], bytes] = current_app.extensions.setdefault("kg.network.pictures", {})
    if key not in cache:
        cache[key] = make()
    return cache[key]


def _substance() -> str | None:
    return request.args.get("substance") or None


@blueprint.get("/network")
def network_page() -> str:
    substance = _substance()
    try:
        view = flow_view(store(), substance)
    except UnknownName as error:
        abort(404, str(error))
    network = flow_network(store())
    chain = production_network(store())
    choices = sorted(
        {
            d["substance"]: d.get("substance_label", d["substance"]) for _u, _v, d in network.edges(data=True)
        }.items()
    )
    roots = [(key, chain.nodes[key]["label"]) for key in ("fentanyl", "heroin") if key in chain]
    return render_template(
        "network/network.html",
        routes=routes_in_words(view.substance),
        view=view,
        choices=roots + [c for c in choices if c[0] not in dict(roots)],
        substance=substance,
        pictures={fmt: url_for("network.network_picture", fmt=fmt, substance=substance) for fmt in MIME},
    )


def routes_in_words(substance: str | None) -> dict[str, object] | None:
    """The routes of the picture as the readable answer of the catalogue's routes question: the text
    alternative of the network, each route with who says it and the sentence of the report."""
    from kg.server.api import run_named
    from kg.server.pages import table
    from kg.server.services import services

    question = services().catalogue.get(ROUTES_QUESTION)
    if question is None:
        return None
    given = {"substance": f"substance:{substance}"} if substance else {}
    return table(run_named(question, given, "json"))


@blueprint.get("/network.<any(svg, png, html):fmt>")
def network_picture(fmt: str) -> Response:
    substance = _substance()

    def make() -> bytes:
        script = url_for("network.vis_script") if fmt == "html" else None
        return flow_picture(flow_view(store(), substance), fmt, script_url=script)

    try:
        body = cached(("network", substance or "", fmt), make)
    except UnknownName as error:
        abort(404, str(error))
    return Response(body, mimetype=MIME[fmt])


@blueprint.get("/network/vis-network.min.js")
def vis_script() -> Response:
    response = send_file(interactive.vis_network_path(), mimetype="text/javascript", max_age=86400)
    return response


def _series(names: str, area: str | None) -> list[series.Series]:
    found: list[series.Series] = []
    for name in names.replace(",", "+").split("+"):
        found.extend(series.time_series(store(), series.resolve_measure(store(), name), area))
    return found


def _described(names: str, area: str | None, preset: str) -> dict[str, object]:
    """One chart of the page: its picture URLs and the same chart in words."""
    args = {"names": names, "area": area, "preset": preset if preset != "screen" else None}
    try:
        words = charts.describe(_series(names, area))
    except series.UnknownMeasure:
        words = ""
    return {
        "names": names,
        "area": area,
        "svg": url_for("network.chart_picture", fmt="svg", **args),
        "png": url_for("network.chart_picture", fmt="png", **args),
        "words": words,
    }


@blueprint.get("/charts")
def charts_page() -> str:
    """Suggested charts, and any measure for any place picked from the menus, each with its words."""
    known = series.measures(store())
    areas = sorted(
        {(one.area, one.area_label) for m in known for one in series.time_series(store(), m)},
        key=lambda pair: pair[1].casefold(),
    )
    preset = request.args.get("preset") if request.args.get("preset") in charts.PRESETS else "screen"
    picked = request.args.get("measure")
    chosen = None
    if picked and picked in {m.key for m in known}:
        chosen = _described(picked, request.args.get("area") or None, preset)
    shown = [_described(names, area, preset) for names, area in SUGGESTED_CHARTS]
    return render_template(
        "network/charts.html",
        charts=shown,
        chosen=chosen,
        measures=known,
        areas=areas,
        presets=sorted(charts.PRESETS),
        preset=preset,
        picked=picked,
        picked_area=request.args.get("area", ""),
    )


@blueprint.get("/charts/<names>.<any(svg, png):fmt>")
def chart_picture(names: str, fmt: str) -> Response:
    """Measures joined by `+` (`poppyCultivationArea+poppyEradicationArea.svg`), `?area=MX` to narrow,
    `?preset=memo` for a memo's width and type sizes."""
    area = request.args.get("area") or None
    preset = request.args.get("preset") or "screen"
    if preset not in charts.PRESETS:
        abort(404, f"no chart preset {preset!r}; presets: {', '.join(sorted(charts.PRESETS))}")

    def make() -> bytes:
        return charts.chart(_series(names, area), fmt=fmt, preset=preset)

    try:
        body = cached(("chart", names, area or "", fmt, preset), make)
    except series.UnknownMeasure as error:
        abort(404, str(error))
    except ValueError as error:
        abort(404, f"nothing to chart: {error}")
    return Response(body, mimetype=MIME[fmt])
