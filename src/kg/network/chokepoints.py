"""Choke points: the places between origins and a destination whose loss cuts the most flow.

Three measures, because each answers a different question:
- betweenness: the share of shortest origin-to-destination routes that pass through the place;
- routes through: how many of all simple routes (up to a length and a count) pass through it;
- cut off: the origins that lose every route when the place alone is removed
  (read from the dominator tree of the reversed network, so it is exact and near-linear);
- minimum node cut: the smallest set of places that together sever every origin,
  with origins and the destination themselves not cuttable (a direct leg means no cut exists).
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

import networkx as nx
from networkx.algorithms.flow import edmonds_karp

from .routes import DEFAULT_MAX_HOPS, find_routes, origins

SUPER_SOURCE = ("__origins__", "out")


@dataclass(frozen=True)
class Chokepoint:
    """The scores of one place on the routes to the destination."""

    place: str
    label: str
    betweenness: float
    share: float
    routes_through: int
    cut_off: tuple[str, ...]
    in_min_cut: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "place": self.place,
            "label": self.label,
            "betweenness": round(self.betweenness, 6),
            "share_of_shortest_routes": round(self.share, 6),
            "routes_through": self.routes_through,
            "origins_cut_off": list(self.cut_off),
            "in_minimum_cut": self.in_min_cut,
        }


@dataclass
class Chokepoints:
    """Every transit place ranked, with the minimum cut of the whole network."""

    target: str
    sources: list[str]
    ranked: list[Chokepoint] = field(default_factory=list)
    min_cut: list[str] | None = None
    min_cut_note: str = ""
    sampled_sources: int | None = None
    routes_counted: int = 0
    routes_truncated: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "target": self.target,
            "origins": self.sources,
            "betweenness_sampled_origins": self.sampled_sources,
            "routes_counted": self.routes_counted,
            "routes_truncated": self.routes_truncated,
            "minimum_node_cut": self.min_cut,
            "minimum_node_cut_note": self.min_cut_note,
            "chokepoints": [c.as_dict() for c in self.ranked],
        }


def chokepoints(
    network: nx.MultiDiGraph,
    target: str,
    *,
    sample: int | None = None,
    seed: int = 0,
    max_hops: int = DEFAULT_MAX_HOPS,
    route_limit: int = 10_000,
) -> Chokepoints:
    """Rank the transit places between the network's origins and `target`.

    `sample` estimates betweenness from that many randomly chosen origins
    (scaled up to all of them), for networks too large for the exact sum;
    `route_limit` and `max_hops` bound the enumeration of routes.
    """
    collapsed: nx.DiGraph[str] = nx.DiGraph(network)
    if target not in collapsed:
        return Chokepoints(target, [], min_cut_note=f"{target} is not in the network")
    upstream = nx.ancestors(collapsed, target)
    sources = sorted((origins(network) & upstream) - {target})
    downstream = _reached_from(collapsed, sources)
    transit = (downstream & upstream) - {target}
    result = Chokepoints(target, sources)
    chosen = sources
    if sample is not None and sample < len(sources):
        chosen = sorted(random.Random(seed).sample(sources, sample))
        result.sampled_sources = sample
    between = nx.betweenness_centrality_subset(collapsed, chosen, [target], normalized=False)
    scale = len(sources) / len(chosen) if chosen else 0.0
    cut_off = cut_off_by(collapsed, sources, target)
    result.min_cut, result.min_cut_note = minimum_cut(collapsed, sources, target, transit)
    in_cut = set(result.min_cut or ())
    through: dict[str, int] = {}
    routes = find_routes(network, target, max_hops=max_hops, limit=route_limit)
    for route in routes:
        for place in route.via:
            through[place] = through.get(place, 0) + 1
    result.routes_counted = len(routes)
    result.routes_truncated = len(routes) >= route_limit
    for place in transit:
        score = between.get(place, 0.0) * scale
        result.ranked.append(
            Chokepoint(
                place=place,
                label=collapsed.nodes[place].get("label", place),
                betweenness=score,
                share=score / len(sources) if sources else 0.0,
                routes_through=through.get(place, 0),
                cut_off=tuple(sorted(cut_off.get(place, ()))),
                in_min_cut=place in in_cut,
            )
        )
    result.ranked.sort(
        key=lambda c: (-len(c.cut_off), -c.betweenness, -c.routes_through, not c.in_min_cut, c.label)
    )
    return result


def _reached_from(collapsed: nx.DiGraph, sources: list[str]) -> set[str]:
    """Every place one leg or more downstream of some origin, in one search rather than one per origin."""
    reached: set[str] = set()
    frontier = deque(successor for source in sources for successor in collapsed.successors(source))
    while frontier:
        place = frontier.popleft()
        if place not in reached:
            reached.add(place)
            frontier.extend(collapsed.successors(place))
    return reached


def cut_off_by(collapsed: nx.DiGraph, sources: list[str], target: str) -> dict[str, set[str]]:
    """For each place, the origins all of whose routes to `target` pass through it."""
    dominators = nx.immediate_dominators(collapsed.reverse(copy=False), target)
    severed: dict[str, set[str]] = {}
    for source in sources:
        if source not in dominators:
            continue
        place = dominators[source]
        while place != target:
            severed.setdefault(place, set()).add(source)
            place = dominators[place]
    return severed


def minimum_cut(
    collapsed: nx.DiGraph, sources: list[str], target: str, transit: set[str]
) -> tuple[list[str] | None, str]:
    """The fewest transit places whose removal severs every origin from `target`.

    Each place is split into an in- and an out-node joined by capacity 1 (a
    transit place) or no capacity limit (an origin that is nothing else, or the
    destination); legs have no limit. A finite maximum flow is then the size
    of the smallest cut.
    """
    if not sources:
        return None, "no origin reaches the destination"
    cuttable = transit
    flow: nx.DiGraph[tuple[str, str] | str] = nx.DiGraph()
    for node in collapsed:
        if node in cuttable:
            flow.add_edge((node, "in"), (node, "out"), capacity=1)
        else:
            flow.add_edge((node, "in"), (node, "out"))
    for u, v in collapsed.edges():
        flow.add_edge((u, "out"), (v, "in"))
    for source in sources:
        flow.add_edge(SUPER_SOURCE, (source, "in"))
    try:
        size, (reachable, _rest) = nx.minimum_cut(flow, SUPER_SOURCE, (target, "in"), flow_func=edmonds_karp)
    except nx.NetworkXUnbounded:
        direct = sorted(s for s in sources if collapsed.has_edge(s, target))
        via = f"direct legs from {', '.join(direct)}" if direct else "an origin that is also a transit place"
        return None, f"no set of transit places cuts every route: {via}"
    cut = sorted(node for node in cuttable if (node, "in") in reachable and (node, "out") not in reachable)
    return cut, f"removing these {int(size)} place(s) severs every origin from the destination"
