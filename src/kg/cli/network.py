"""`kg network …` and `kg chart …`: analyses as tables or JSON, pictures and exports as files."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kg.charts import chart as charts
from kg.charts import series
from kg.cli.context import (
    Context,
    choice_option,
    count_option,
    file_format,
    file_format_option,
    output_option,
    pass_context,
    store_option,
)
from kg.errors import KgError
from kg.files import write_output
from kg.network import draw, export, worldmap
from kg.network.chokepoints import chokepoints
from kg.network.presets import PRESETS
from kg.network.routes import DEFAULT_MAX_HOPS, feeding_legs, find_routes, resolve_place, what_if
from kg.network.tables import chokepoints_table, routes_table, what_if_table
from kg.network.views import FlowView, chain_view, flow_picture, flow_view, flow_words

format_option = choice_option(
    "--format", "output_format", ["table", "json"], "table", "A readable table, or JSON for machines."
)
substance_option = click.option(
    "--substance", default=None, help="A substance key or label; its precursors and analogues come along."
)
network_option = choice_option(
    "--network",
    "which",
    ["flows", "production"],
    "flows",
    "Trafficking routes, or the production chains of the substances.",
)
preset_option = click.option(
    "--preset",
    type=click.Choice(sorted(PRESETS)),
    default="screen",
    show_default=True,
    help="memo: 6.5 in wide, no text under 9 pt, legend below; the web's ?preset=memo draws the same.",
)
to_option = click.option("--to", "target", default="US", show_default=True, help="Destination place.")
PICTURES = {fmt: fmt for fmt in draw.FORMATS}  # svg, png: each its own extension
PAGES = {**PICTURES, "html": "html", "htm": "html"}


def every_chain(substance: str | None) -> None:
    """The production chains are drawn and exported whole: a --substance, which keeps the flows of one
    and what goes into it, is refused there rather than left out unsaid."""
    if substance is not None:
        raise KgError(
            "--network production holds every substance's chains; --substance keeps the flows of one"
        )


def emit(data: object, text: str, output_format: str) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if output_format == "json" else text)


def write(output: Path, content: bytes) -> None:
    write_output(output, content)
    click.echo(f"wrote {output} ({len(content):,} bytes)", err=True)


def open_view(context: Context, store_spec: str | None, substance: str | None) -> FlowView:
    """The flows of `substance`; an unknown substance, or one without flows, ends the command."""
    view = flow_view(context.open_store(store_spec), substance)
    if view.network.number_of_edges() == 0:
        raise KgError(f"the graph holds no trafficking flow of {substance}")
    return view


def open_view_to(
    context: Context, store_spec: str | None, substance: str | None, target: str
) -> tuple[FlowView, str]:
    """The flows of `substance` and the key of the destination `target`."""
    view = open_view(context, store_spec, substance)
    return view, resolve_place(view.network, target)


@click.group("network")
def network() -> None:
    """Trafficking routes as a network: routes, choke points, what-if cuts, pictures and exports."""


@network.command("paths")
@substance_option
@to_option
@count_option("--max-hops", DEFAULT_MAX_HOPS, "Longest route.")
@format_option
@store_option()
@pass_context
def paths_command(
    context: Context,
    substance: str | None,
    target: str,
    max_hops: int,
    output_format: str,
    store_spec: str | None,
) -> None:
    """Every route from an origin to the destination, the places passed through, and its evidence."""
    view, place = open_view_to(context, store_spec, substance, target)
    routes = find_routes(view.network, place, max_hops=max_hops)
    feeding = feeding_legs(view.network)
    data = {
        "substance": view.substance,
        "destination": place,
        "routes": [r.as_dict() for r in routes],
        "feeds": feeding,
    }
    emit(data, routes_table(routes, feeding), output_format)


@network.command("chokepoints")
@substance_option
@to_option
@count_option("--sample", None, "Estimate betweenness from this many origins.")
@format_option
@store_option()
@pass_context
def chokepoints_command(
    context: Context,
    substance: str | None,
    target: str,
    sample: int | None,
    output_format: str,
    store_spec: str | None,
) -> None:
    """Transit places ranked by how much flow their loss would cut."""
    view, place = open_view_to(context, store_spec, substance, target)
    result = chokepoints(view.network, place, sample=sample)
    emit({"substance": view.substance, **result.as_dict()}, chokepoints_table(result), output_format)


@network.command("what-if")
@click.option("--remove", "places", multiple=True, help="A place to cut off (ISO code or name); repeatable.")
@click.option("--remove-edge", "legs", multiple=True, help="Legs to cut, as FROM-TO (CN-US); repeatable.")
@substance_option
@to_option
@format_option
@store_option()
@pass_context
def what_if_command(
    context: Context,
    places: tuple[str, ...],
    legs: tuple[str, ...],
    substance: str | None,
    target: str,
    output_format: str,
    store_spec: str | None,
) -> None:
    """Which substances still reach the destination, and by which routes, once places or legs are cut."""
    view = open_view(context, store_spec, substance)
    outcomes = what_if(view.network, target, places=places, legs=legs)
    data = {
        "destination": target,
        "removed_places": list(places),
        "removed_legs": list(legs),
        "substances": [o.as_dict() for o in outcomes],
    }
    emit(data, what_if_table(outcomes, [*places, *legs]), output_format)


@network.command("draw")
@substance_option
@network_option
@file_format_option(PAGES, "svg", "The picture's format; the production chains are drawn as svg or png.")
@output_option
@preset_option
@store_option()
@pass_context
def draw_command(
    context: Context,
    substance: str | None,
    which: str,
    fmt: str | None,
    output: Path,
    preset: str,
    store_spec: str | None,
) -> None:
    """A left-to-right picture: SVG or PNG for memos, or an interactive HTML page that works offline.

    The picture in words (its alt text, also inside the SVG and PNG) is printed.
    """
    fmt = file_format(output, fmt, PAGES, "svg")
    if which == "production":
        every_chain(substance)
        if fmt == "html":
            raise KgError("--network production is drawn as svg or png, not html")
        chain, words = chain_view(context.open_store(store_spec))
        write(output, draw.draw_chain(chain, words, fmt=fmt, preset=preset))
        click.echo(words.description)
        return
    view = open_view(context, store_spec, substance)
    write(output, flow_picture(view, fmt, preset=preset))
    click.echo(flow_words(view).description)


@network.command("map")
@substance_option
@file_format_option(PICTURES, "svg")
@preset_option
@output_option
@store_option()
@pass_context
def map_command(
    context: Context,
    substance: str | None,
    fmt: str | None,
    preset: str,
    output: Path,
    store_spec: str | None,
) -> None:
    """The flows on a world map: countries filled as source, transit or destination, an arrow per leg.

    Drawn from the boundary set inside the package, without the network; places
    that are not countries (regions) are named in the caption as not drawn.
    """
    fmt = file_format(output, fmt, PICTURES, "svg")
    view = open_view(context, store_spec, substance)
    write(output, worldmap.draw_map(view, fmt=fmt, preset=preset))


@network.command("export")
@file_format_option(export.EXTENSIONS, None, "File format.")
@output_option
@substance_option
@network_option
@store_option()
@pass_context
def export_command(
    context: Context, fmt: str | None, output: Path, substance: str | None, which: str, store_spec: str | None
) -> None:
    """A file for Gephi (graphml, gexf), Cytoscape (cytoscape) or Graphviz (dot)."""
    fmt = file_format(output, fmt, export.EXTENSIONS, None)
    if which == "production":
        every_chain(substance)
        write(output, export.export(chain_view(context.open_store(store_spec))[0], fmt))
        return
    write(output, export.export(open_view(context, store_spec, substance).network, fmt))


@click.command("chart")
@click.argument("measures", nargs=-1, required=True)
@click.option("--area", default=None, help="Only this place (ISO code or name), e.g. MX.")
@file_format_option(PICTURES, "svg")
@output_option
@preset_option
@store_option()
@pass_context
def chart(
    context: Context,
    measures: tuple[str, ...],
    area: str | None,
    fmt: str | None,
    output: Path,
    preset: str,
    store_spec: str | None,
) -> None:
    """Time series of one or more MEASURES (poppyCultivationArea poppyEradicationArea, …).

    Axes carry the units; bounds and partial periods are open markers that no
    line joins; fiscal and calendar years get panels of their own; the caption
    gives the changes the report states and the agencies it cites.
    """
    fmt = file_format(output, fmt, PICTURES, "svg")
    store = context.open_store(store_spec)
    found: list[series.Series] = []
    for measure in series.resolve_measures(store, measures):
        found.extend(series.time_series(store, measure, area))
    if not found:
        raise KgError(f"no dated observations of {', '.join(measures)}" + (f" for {area}" if area else ""))
    write(output, charts.chart(found, fmt=fmt, preset=preset))
