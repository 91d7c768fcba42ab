"""The networks as users ask for them: by substance name, with a title and a caption citing the report."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from kg.store.base import Store

from . import draw, interactive
from .model import flow_network, production_network, substance_family
from .routes import UnknownName, substance_view


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
    network = flow_network(store)
    chain = production_network(store)
    if substance is None:
        title = "Opioid trafficking routes"
        family: set[str] | None = None
    else:
        substance = resolve_substance(chain, network, substance)
        family = substance_family(chain, substance)
        label = chain.nodes[substance]["label"] if substance in chain else substance
        title = f"Trafficking routes of {label}"
    view = substance_view(network, family)
    view.graph.update(network.graph)
    return FlowView(view, substance, title, flow_caption(view, substance, chain))


def flow_caption(network: nx.MultiDiGraph, substance: str | None, chain: nx.DiGraph) -> str:
    """What the picture shows and where it comes from."""
    agencies = sorted({str(a) for _u, _v, a in network.edges(data="attributed_to", default="") if a})
    parts = []
    if substance is not None:
        related = sorted(
            {
                d.get("substance_label", "")
                for _u, _v, d in network.edges(data=True)
                if d["substance"] != substance
            }
        )
        if related:
            parts.append(f"Includes {', '.join(related)}.")
    parts.append("Each arrow is a leg of a route the report describes; dashed: suspected; faded: historical.")
    if network.graph.get("citation"):
        parts.append(f"Source: {network.graph['citation']}")
    if agencies:
        parts[-1] += f", attributing the routes to {', '.join(agencies)}."
    return " ".join(parts)


def chain_view(store: Store) -> tuple[nx.DiGraph, str, str]:
    """The production network with its title and caption."""
    chain = production_network(store)
    caption = (
        "How substances are made from one another (processed into, precursor of), stand in for one another "
        "(analogue of), or are grouped (member of). Each link carries its evidence: an excerpt of the "
        "report, or the own source of a background fact."
    )
    return chain, "Production chains of heroin and fentanyl", caption


def flow_picture(view: FlowView, fmt: str, script_url: str | None = None) -> bytes:
    """The view as SVG, PNG or an interactive HTML page (its script inlined unless `script_url`)."""
    if fmt == "html":
        page = interactive.interactive_html(
            view.network, title=view.title, caption=view.caption, script_url=script_url
        )
        return page.encode("utf-8")
    return draw.draw_flows(view.network, title=view.title, caption=view.caption, fmt=fmt)
