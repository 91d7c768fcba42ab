"""Time the supply-chain network: built from the store and analysed, then on a large synthetic network.

    .venv/bin/python benchmarks/network.py [--store .kg/store] [--places 10000] [--legs 100000]

On the synthetic network the analyses are bounded, and the table says how:
betweenness is estimated from a sample of origins, routes are enumerated up
to a length and a count, and what-if compares those bounded route sets.
Cut-offs (dominator tree) and the minimum node cut (max flow) are exact.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from pathlib import Path

import networkx as nx

from kg.network.chokepoints import chokepoints, cut_off_by, minimum_cut
from kg.network.draw import Words, draw_flows
from kg.network.export import export
from kg.network.geo import countries
from kg.network.model import flow_network, production_network
from kg.network.routes import find_routes, origins, what_if
from kg.network.views import flow_view
from kg.network.worldmap import draw_map
from kg.store.embedded import EmbeddedStore

SUBSTANCES = ("heroin", "fentanyl", "fentanyl-analogues", "fentanyl-precursors")


def timed(
    rows: list[tuple[str, str, float, str]], network: str, step: str, work: Callable[[], object]
) -> object:
    start = time.perf_counter()
    answer = work()
    rows.append((network, step, time.perf_counter() - start, describe(answer)))
    return answer


def describe(answer: object) -> str:
    if isinstance(answer, nx.Graph):
        return f"{answer.number_of_nodes():,} nodes, {answer.number_of_edges():,} edges"
    if isinstance(answer, list):
        return f"{len(answer):,} results"
    if isinstance(answer, bytes | str):
        return f"{len(answer):,} bytes"
    if isinstance(answer, dict):
        return f"{len(answer):,} places"
    if isinstance(answer, tuple) and answer and (answer[0] is None or isinstance(answer[0], list)):
        return f"cut of {len(answer[0])} places" if answer[0] is not None else "no cut"
    return type(answer).__name__


def real_graph(rows: list[tuple[str, str, float, str]], store_path: Path) -> None:
    store = EmbeddedStore(store_path)
    start = time.perf_counter()
    timed(rows, "report", "build flow network (SPARQL)", lambda: flow_network(store))
    timed(rows, "report", "build production network (SPARQL)", lambda: production_network(store))
    fentanyl = timed(rows, "report", "fentanyl view", lambda: flow_view(store, "fentanyl")).network
    heroin = flow_view(store, "heroin").network
    everything = flow_view(store).network
    timed(rows, "report", "paths fentanyl -> US", lambda: find_routes(fentanyl, "US"))
    timed(rows, "report", "paths heroin -> US", lambda: find_routes(heroin, "US"))
    timed(rows, "report", "chokepoints fentanyl -> US", lambda: chokepoints(fentanyl, "US").ranked)
    timed(rows, "report", "what-if without MX", lambda: what_if(everything, "US", places=["MX"]))
    rows.append(("report", "total, build and every analysis", time.perf_counter() - start, ""))
    timed(rows, "report", "draw fentanyl SVG", lambda: draw_flows(fentanyl, Words("t", "c"), fmt="svg"))
    timed(rows, "report", "export GraphML", lambda: export(everything, "graphml"))
    timed(rows, "report", "read the boundary set (once)", countries)
    view = flow_view(store)
    timed(rows, "report", "world map, all flows, memo SVG", lambda: draw_map(view, fmt="svg", preset="memo"))
    timed(rows, "report", "world map, all flows, memo PNG", lambda: draw_map(view, fmt="png", preset="memo"))


def synthetic(places: int, legs: int, seed: int = 7) -> nx.MultiDiGraph:
    """Places in layers from origins towards one destination; most legs go forward, some sideways or back."""
    rng = random.Random(seed)
    network = nx.MultiDiGraph()
    names = [f"P{i}" for i in range(places)]
    network.add_nodes_from(names, label="", type="Country", iso="")
    target = names[-1]
    sources = names[: max(1, places // 50)]
    for i in range(legs):
        u = rng.randrange(places - 1)
        forward = rng.random() < 0.9
        v = rng.randrange(u + 1, places) if forward and u + 1 < places else rng.randrange(places - 1)
        if u == v:
            v = places - 1
        network.add_edge(
            names[u],
            names[v],
            key=f"leg-{i}",
            substance=SUBSTANCES[i % len(SUBSTANCES)],
            origin=names[u] if u < len(sources) else rng.choice(sources),
            destination=target,
            status="suspected" if i % 10 == 0 else "reported",
            temporal="current",
        )
    return network


def synthetic_graph(rows: list[tuple[str, str, float, str]], places: int, legs: int, sample: int) -> None:
    name = f"synthetic {places:,}/{legs:,}"
    network = timed(rows, name, "build network", lambda: synthetic(places, legs))
    assert isinstance(network, nx.MultiDiGraph)
    target = f"P{places - 1}"
    collapsed = nx.DiGraph(network)
    sources = sorted(origins(network))
    bounded = "max 6 hops, first 1,000 routes"
    timed(
        rows,
        name,
        f"paths -> destination ({bounded})",
        lambda: find_routes(network, target, max_hops=6, limit=1000),
    )
    chosen = sorted(random.Random(0).sample(sources, min(sample, len(sources))))
    timed(
        rows,
        name,
        f"betweenness ({len(chosen)} sampled origins of {len(sources)})",
        lambda: nx.betweenness_centrality_subset(collapsed, chosen, [target], normalized=False),
    )
    timed(
        rows,
        name,
        "origins cut off per place (dominators, exact)",
        lambda: cut_off_by(collapsed, sources, target),
    )
    upstream = nx.ancestors(collapsed, target)
    timed(
        rows,
        name,
        "minimum node cut (max flow, exact)",
        lambda: minimum_cut(collapsed, sources, target, upstream - set(sources) - {target}),
    )
    timed(
        rows,
        name,
        f"chokepoints, all measures ({bounded})",
        lambda: chokepoints(network, target, sample=sample, max_hops=6, route_limit=1000).ranked,
    )
    cut = sorted(collapsed.predecessors(target), key=lambda n: -collapsed.in_degree(n))[:5]
    timed(
        rows,
        name,
        f"what-if without 5 places ({bounded} per substance)",
        lambda: what_if(network, target, places=cut, max_hops=6, limit=1000),
    )
    timed(rows, name, "export GraphML", lambda: export(network, "graphml"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", type=Path, default=Path(".kg/store"))
    parser.add_argument("--places", type=int, default=10_000)
    parser.add_argument("--legs", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=50, help="Origins sampled for betweenness.")
    args = parser.parse_args()
    rows: list[tuple[str, str, float, str]] = []
    real_graph(rows, args.store)
    synthetic_graph(rows, args.places, args.legs, args.sample)
    width = max(len(step) for _n, step, _t, _d in rows)
    network_width = max(len(n) for n, _s, _t, _d in rows)
    print(f"{'network':<{network_width}}  {'step':<{width}}  {'seconds':>8}  result")
    print(f"{'-' * network_width}  {'-' * width}  {'-' * 8}  ------")
    for network, step, seconds, detail in rows:
        print(f"{network:<{network_width}}  {step:<{width}}  {seconds:>8.3f}  {detail}")


if __name__ == "__main__":
    main()
