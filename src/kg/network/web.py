"""Pages of `kg serve`: the trafficking network with a substance filter, and charts of the statistics.

Every picture also has its own `.svg` and `.png` URL to embed elsewhere; the
interactive view loads vis-network from this blueprint, which serves the file
shipped inside the installed pyvis package.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, render_template, request, send_file, url_for

from kg.charts import chart as charts
from kg.charts import series
from kg.server.headers import allow_inline
from kg.server.services import services
from kg.store.base import Store

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
MIME = {"svg": "image/svg+xml", "png": "image/png", "html": "text/html; charset=utf-8"}


def store() -> Store:
    """The store of the request's generation, opened once per generation."""
    state = services()
    return state.made(("network store",), state.store_factory)


def cached(key: tuple[str, ...], make: Callable[[], bytes]) -> bytes:
    """Pictures of a generation's read-only store never change: draw each once."""
    return services().made(key, make)


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
        view=view,
        choices=roots + [c for c in choices if c[0] not in dict(roots)],
        substance=substance,
        pictures={fmt: url_for("network.network_picture", fmt=fmt, substance=substance) for fmt in MIME},
    )


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
    response = Response(body, mimetype=MIME[fmt])
    return allow_inline(response, framed_by_site=True) if fmt == "html" else response


@blueprint.get("/network/vis-network.min.js")
def vis_script() -> Response:
    response = send_file(interactive.vis_network_path(), mimetype="text/javascript", max_age=86400)
    return response


@blueprint.get("/charts")
def charts_page() -> str:
    known = series.measures(store())
    shown = [
        {
            "names": names,
            "area": area,
            "svg": url_for("network.chart_picture", names=names, fmt="svg", area=area),
            "png": url_for("network.chart_picture", names=names, fmt="png", area=area),
        }
        for names, area in SUGGESTED_CHARTS
    ]
    return render_template("network/charts.html", charts=shown, measures=known)


@blueprint.get("/charts/<names>.<any(svg, png):fmt>")
def chart_picture(names: str, fmt: str) -> Response:
    """Measures joined by `+` (`poppyCultivationArea+poppyEradicationArea.svg`), `?area=MX` to narrow."""
    area = request.args.get("area") or None

    def make() -> bytes:
        found: list[series.Series] = []
        for name in names.replace(",", "+").split("+"):
            found.extend(series.time_series(store(), series.resolve_measure(store(), name), area))
        return charts.chart(found, fmt=fmt)

    try:
        body = cached(("chart", names, area or "", fmt), make)
    except series.UnknownMeasure as error:
        abort(404, str(error))
    except ValueError as error:
        abort(404, f"nothing to chart: {error}")
    return Response(body, mimetype=MIME[fmt])
