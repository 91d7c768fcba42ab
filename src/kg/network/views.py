"""The networks as users ask for them: by substance name, with a title and a caption citing the report."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from kg.store.base import Store

from . import draw, interactive
from .layout import drawn, line_kinds
from .model import agencies_of, cited_by, flow_network, production_network, substance_family
from .routes import UnknownName, restated_once, substance_view
from .words import describe_chain, describe_flows


@dataclass(frozen=True)
class FlowView:
    """A flow network cut down to one substance's family, ready to draw or analyse."""

    network: nx.MultiDiGraph
    substance: str | None
    title: str
    caption: str


def resolve_substance(chain: nx.DiGraph, network: nx.MultiDiGraph, name: str) -> str:
    """The substance key a user means by a key (`fentanyl`) or a label (`fentanyl analogues`)."""
    wanted = name.casefold().replace(" ", "-")
    candidates = {str(n): str(d.get("label", n)) for n, d in chain.nodes(data=True)}
    candidates.update(
        {d["substance"]: d.get("substance_label", "") for _u, _v, d in network.edges(data=True)}
    )
    for key, label in candidates.items():
        if wanted in {key.casefold(), label.casefold().replace(" ", "-")}:
            return key
    raise UnknownName(f"no substance {name!r}; known: {', '.join(sorted(candidates))}")


def flow_view(store: Store, substance: str | None = None) -> FlowView:
    """The flows of `substance` and of what goes into it or stands in for it (all flows when None)."""
    return flow_view_of(flow_network(store), production_network(store), substance)


def flow_view_of(network: nx.MultiDiGraph, chain: nx.DiGraph, substance: str | None = None) -> FlowView:
    """`flow_view` of models already read (the server keeps them for each build it serves)."""
    if substance is None:
        title = "Opioid trafficking routes"
        family: set[str] | None = None
    else:
        substance = resolve_substance(chain, network, substance)
        family = substance_family(chain, substance)
        label = chain.nodes[substance]["label"] if substance in chain else substance
        title = f"Trafficking routes of {drawn(label)}"
    view = restated_once(substance_view(network, family))
    view.graph.update(network.graph)
    view.graph["citation"] = cited_by(view)  # the reports of the routes it shows
    return FlowView(view, substance, title, flow_caption(view, substance, chain))


def flow_caption(network: nx.MultiDiGraph, substance: str | None, chain: nx.DiGraph) -> str:
    """What the picture shows and where it comes from."""
    legs = network.edges(data=True)
    agencies = sorted({drawn(agency) for _u, _v, leg in legs for agency in agencies_of(leg)})
    parts = []
    if substance is not None:
        related = sorted(
            {
                drawn(d.get("substance_label", ""))
                for _u, _v, d in network.edges(data=True)
                if d["substance"] != substance
            }
        )
        if related:
            parts.append(f"Includes {', '.join(related)}.")
    looks = {"suspected": "dashed", "historical": "faded"}
    shown = [f"{looks[kind]}: {kind}" for kind in line_kinds(network) if kind in looks]
    parts.append("; ".join(["Each arrow is a leg of a route the report describes", *shown]) + ".")
    if network.graph.get("citation"):
        parts.append(f"Source: {network.graph['citation']}")
    if agencies:
        parts[-1] += f", attributing the routes to {', '.join(agencies)}."
    return " ".join(parts)


def chain_view(store: Store) -> tuple[nx.DiGraph, draw.Words]:
    """The production network with its title, caption and description."""
    chain = production_network(store)
    caption = (
        "How substances are made from one another (processed into, precursor of), stand in for one another "
        "(analogue of), or are grouped (member of). Each link carries its evidence: an excerpt of the "
        "report, or the own source of a background fact."
    )
    title = "Production chains of heroin and fentanyl"
    return chain, draw.Words(title, caption, describe_chain(chain, title))


def flow_words(view: FlowView) -> draw.Words:
    """The view's title, caption and its description in words (the pictures' alt text)."""
    return draw.Words(view.title, view.caption, describe_flows(view.network, view.title))


def flow_picture(
    view: FlowView,
    fmt: str,
    script_url: str | None = None,
    preset: str = "screen",
    style_url: str | None = None,
    link: interactive.Link = str,
) -> bytes:
    """The view as SVG or PNG at a preset's size, or an interactive HTML page (vis-network's script and
    stylesheet inlined unless `script_url` and `style_url`; its quotes linked where `link` says)."""
    if fmt == "html":
        page = interactive.interactive_html(
            view.network,
            title=view.title,
            caption=view.caption,
            script_url=script_url,
            style_url=style_url,
            link=link,
        )
        return page.encode("utf-8")
    return draw.draw_flows(view.network, flow_words(view), fmt=fmt, preset=preset)
