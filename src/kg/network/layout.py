"""Where each node goes in a picture, and which colour each substance gets.

Shared by the static and the interactive pictures so both read the same way:
sources on the left, transit places in the middle, destinations on the right.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TypeVar

import networkx as nx

from kg.literals import controls_shown, cut, xml_text

COLUMNS = ("sources", "transit", "destination")
LINE_KINDS = ("reported", "suspected", "historical")

# Colour-blind-safe palette (Okabe and Ito), in the order substances are met.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")

Positions = dict[str, tuple[float, float]]
DRAWN_CHARACTERS = 80  # of a label in a picture: a node's name, an arrow's label, a legend's entry

Network = TypeVar("Network", nx.DiGraph, nx.MultiDiGraph)


def drawn(text: str, *, end: bool = False) -> str:
    """A label as a picture draws it: cut at DRAWN_CHARACTERS, ending in "…" (or, `end`, with its end
    kept and its middle left out), and each character XML
    does not allow as U+FFFD (see `kg.network.draw.save`), and a direction override as its code point
    (see `kg.literals.controls_shown`). Sixty labels of 2,000 characters each took
    24 s to draw as PNG, and one long name ran a legend off the picture; the tables and words beside a
    picture give each label whole."""
    return cut(controls_shown(xml_text(text)), DRAWN_CHARACTERS, end=end)


# The attributes of the networks' nodes and edges that hold words read from the graph (see `model`)
WORDS = (
    "label",
    "substance_label",
    "flow_label",
    "mode_label",
    "relation_label",
    "period",
    "attributed_to",
    "feeds",
)


def as_drawn(network: Network) -> Network:
    """A copy of `network` whose words (WORDS, of its nodes and edges) are as a picture draws them."""
    copy = network.copy()
    attributes = [data for _node, data in copy.nodes(data=True)]
    for data in attributes + [data for *_ends, data in copy.edges(data=True)]:
        for key in WORDS:
            if isinstance(data.get(key), str):
                data[key] = drawn(data[key])
    return copy


def flow_roles(network: nx.MultiDiGraph) -> dict[str, dict[str, set[str]]]:
    """For each place, the flows it starts, passes on, and ends."""
    roles: dict[str, dict[str, set[str]]] = defaultdict(lambda: {name: set() for name in COLUMNS})
    for u, v, data in network.edges(data=True):
        flow = data.get("flow", f"{u}->{v}")
        roles[u]["sources" if u == data.get("origin", u) else "transit"].add(flow)
        roles[v]["destination" if v == data.get("destination", v) else "transit"].add(flow)
    return roles


def column_of(counts: dict[str, set[str]]) -> str:
    """The role a place plays most often; a tie goes to transit, the middle."""
    return max(("transit", "sources", "destination"), key=lambda role: len(counts[role]))


def layered_positions(network: nx.MultiDiGraph) -> tuple[Positions, list[str]]:
    """Positions in left-to-right columns, and the names of the columns used."""
    roles = flow_roles(network)
    columns: dict[str, list[str]] = {name: [] for name in COLUMNS}
    for node in network:
        columns[column_of(roles[node]) if node in roles else "transit"].append(node)
    used = [name for name in COLUMNS if columns[name]]
    return _stack(network, [columns[name] for name in used]), used


def generation_positions(chain: nx.DiGraph) -> tuple[Positions, list[str]]:
    """Positions of a production chain: raw materials left, end products right."""
    if nx.is_directed_acyclic_graph(chain):
        layers = [sorted(layer) for layer in nx.topological_generations(chain)]
    else:
        layers = [sorted(chain)]
    names = (
        ["inputs"]
        + [f"step {i}" for i in range(1, len(layers) - 1)]
        + (["products"] if len(layers) > 1 else [])
    )
    return _stack(chain, layers), names


def _stack(network: nx.Graph, layers: list[list[str]]) -> Positions:
    tallest = max((len(layer) for layer in layers), default=1)
    positions: Positions = {}
    for x, layer in enumerate(layers):
        ordered = sorted(layer, key=lambda n: str(network.nodes[n].get("label", n)).casefold())
        offset = (tallest - len(ordered)) / 2
        for i, node in enumerate(ordered):
            positions[node] = (float(x), float(tallest - 1 - (offset + i)))
    return positions


def substance_colours(network: nx.Graph[str]) -> dict[str, str]:
    """One colour per substance, stable for a given set of substances."""
    substances = sorted({str(s) for _u, _v, s in network.edges(data="substance", default="") if s})
    return {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(substances)}


def substance_labels(network: nx.MultiDiGraph) -> dict[str, str]:
    return {
        d["substance"]: d.get("substance_label", d["substance"]) for _u, _v, d in network.edges(data=True)
    }


def line_kinds(network: nx.MultiDiGraph) -> list[str]:
    """The kinds of line a picture of `network` draws (solid reported, dashed suspected, faded historical
    legs), so that legends and captions name only what is there."""
    found = set()
    for _u, _v, data in network.edges(data=True):
        found.add("suspected" if data.get("status") == "suspected" else "reported")
        if data.get("temporal") == "historical":
            found.add("historical")
    return [kind for kind in LINE_KINDS if kind in found]
