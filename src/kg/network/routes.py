"""Routes from origins to a destination, and what is left of them when places or legs are cut."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import networkx as nx

from kg.errors import KgError

from .model import agencies_of

DEFAULT_MAX_HOPS = 8


class UnknownName(KgError, LookupError):
    """A place, leg or substance that the network does not hold."""

    status = 404


@dataclass(frozen=True)
class Leg:
    """One reported (or suspected) leg between two places, for one substance."""

    key: str
    substance: str
    substance_label: str
    mode: str
    status: str
    temporal: str
    period: str
    flow: str
    evidence: tuple[str, ...]
    origin_qualifiers: tuple[str, ...] = ()
    feeds: str = ""
    context: tuple[str, ...] = ()
    attributed_to: tuple[str, ...] = ()  # the agencies its flow is attributed to

    @classmethod
    def of(cls, key: str, data: dict) -> Leg:
        return cls(
            key=key,
            substance=data.get("substance", ""),
            substance_label=data.get("substance_label", ""),
            mode=data.get("mode_label") or data.get("mode", ""),
            status=data.get("status", "reported"),
            temporal=data.get("temporal", "current"),
            period=data.get("period", ""),
            flow=data.get("flow", ""),
            evidence=tuple(data.get("evidence", "").split()),
            origin_qualifiers=tuple(filter(None, data.get("origin_qualifiers", "").split(", "))),
            feeds=data.get("feeds", ""),
            context=tuple(data.get("context", "").split()),
            attributed_to=tuple(agencies_of(data)),
        )


@dataclass(frozen=True)
class Route:
    """A chain of places from an origin to the destination, with the legs that join each pair."""

    places: tuple[str, ...]
    labels: tuple[str, ...]
    hops: tuple[tuple[Leg, ...], ...]

    @property
    def origin(self) -> str:
        return self.places[0]

    @property
    def via(self) -> tuple[str, ...]:
        return self.places[1:-1]

    @property
    def substances(self) -> list[str]:
        return sorted({leg.substance for hop in self.hops for leg in hop})

    @property
    def modes(self) -> list[str]:
        return sorted({leg.mode for hop in self.hops for leg in hop if leg.mode})

    @property
    def status(self) -> str:
        """Suspected when some hop rests on suspected legs only."""
        shaky = any(all(leg.status == "suspected" for leg in hop) for hop in self.hops)
        return "suspected" if shaky else "reported"

    @property
    def temporal(self) -> str:
        """Historical when some hop is known from historical flows only."""
        old = any(all(leg.temporal == "historical" for leg in hop) for hop in self.hops)
        return "historical" if old else "current"

    @property
    def evidence(self) -> list[str]:
        return sorted({iri for hop in self.hops for leg in hop for iri in leg.evidence})

    @property
    def context(self) -> list[str]:
        """Excerpts naming what the quoted ones leave to their context, shown beside the evidence."""
        return sorted({iri for hop in self.hops for leg in hop for iri in leg.context})

    @property
    def origin_qualifiers(self) -> list[str]:
        """How firm the source is about the origin ('primarily'): said of the source, not of this route.
        One said of some of the route's substances only names them ("manufacture or diversion (of
        fentanyl analogues)"): a route drawn once for several flows lends no flow's word to another's
        substance (clandestine-produced fentanyl is made in China, not made or diverted there)."""
        first = self.hops[0] if self.hops else ()
        said_of: dict[str, dict[str, str]] = defaultdict(dict)
        for leg in first:
            for qualifier in leg.origin_qualifiers:
                said_of[qualifier][leg.substance] = leg.substance_label or leg.substance
        every = {leg.substance for leg in first}
        return sorted(
            qualifier if set(of) == every else f"{qualifier} (of {', '.join(sorted(of.values()))})"
            for qualifier, of in said_of.items()
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "origin": self.origin,
            "via": list(self.via),
            "destination": self.places[-1],
            "places": [{"key": k, "label": label} for k, label in zip(self.places, self.labels, strict=True)],
            "substances": self.substances,
            "modes": self.modes,
            "origin_qualifiers": self.origin_qualifiers,
            "status": self.status,
            "temporal": self.temporal,
            "legs": [
                {
                    "from": self.places[i],
                    "to": self.places[i + 1],
                    **leg.__dict__,
                    "evidence": list(leg.evidence),
                    "origin_qualifiers": list(leg.origin_qualifiers),
                    "context": list(leg.context),
                    "attributed_to": list(leg.attributed_to),
                }
                for i, hop in enumerate(self.hops)
                for leg in hop
            ],
            "evidence": self.evidence,
            "context": self.context,
        }


@dataclass
class SubstanceOutcome:
    """Whether one substance still reaches the destination once the cuts are made."""

    substance: str
    label: str
    routes_before: list[Route] = field(default_factory=list)
    routes_after: list[Route] = field(default_factory=list)

    @property
    def origins_lost(self) -> list[str]:
        after = {route.origin for route in self.routes_after}
        return sorted({route.origin for route in self.routes_before} - after)

    @property
    def still_reaches(self) -> bool:
        return bool(self.routes_after)

    def as_dict(self) -> dict[str, object]:
        return {
            "substance": self.substance,
            "label": self.label,
            "reached_before": bool(self.routes_before),
            "still_reaches": self.still_reaches,
            "origins_lost": self.origins_lost,
            "routes_after": [route.as_dict() for route in self.routes_after],
            "routes_lost": [
                route.as_dict()
                for route in self.routes_before
                if route.places not in {r.places for r in self.routes_after}
            ],
        }


def resolve_place(network: nx.MultiDiGraph, name: str) -> str:
    """The node a user means by an ISO code, a key or a label, in any case."""
    wanted = name.casefold()
    for node, data in network.nodes(data=True):
        if wanted in {str(node).casefold(), data.get("iso", "").casefold(), data.get("label", "").casefold()}:
            return str(node)
    raise UnknownName(f"no place {name!r} in the network; known: {', '.join(sorted(map(str, network)))}")


def substance_view(network: nx.MultiDiGraph, substances: Iterable[str] | None) -> nx.MultiDiGraph:
    """Only the legs carrying the given substances (all legs when None), as a copy."""
    if substances is None:
        return network.copy()
    wanted = set(substances)
    edges = [
        (u, v, k) for u, v, k, s in network.edges(keys=True, data="substance", default="") if s in wanted
    ]
    return network.edge_subgraph(edges).copy()  # type: ignore[arg-type]  # stubs: pairs only, not (u, v, key)


# The evidence of a leg, as the model writes it: the values of each field, joined; IRIs (split at
# the joint when merged) or quotes (kept whole: a quote may hold the joint).
EVIDENCE_FIELDS = {"evidence": " ", "evidence_text": " | ", "context": " "}
_WHOLE = {"evidence_text"}
# What names one flow's statement of a leg rather than the leg: it differs from source to source.
_OWN_NAMES = ("flow", "flow_label", "leg", "restated", "flows")
LegKey = tuple[str, str, str]  # (from, to, key) of one leg in the network


def restated_once(network: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """One route for the flows that state it alike: a library restates routes (a report's revisions,
    its copies), and drawn per flow they fanned into a sheaf of parallel arrows, one per source.

    Flows state a route alike when their legs agree in everything but their names and evidence: the
    same places and numbers, substance, mode, status, time, period, qualifiers, attribution and what
    they feed (a flow's label is a name). The route kept is the first flow's (by IRI), with the
    evidence of all, `flows` (how many state it) and `restated` (the other flows' leg keys, by which
    `what_if` still finds a leg). A copy; a network merged already is returned as it is."""
    if any("flows" in data for _u, _v, data in network.edges(data=True)):
        return network.copy()
    flows: dict[tuple[str, str], list[LegKey]] = {}
    for u, v, key, data in network.edges(keys=True, data=True):
        flows.setdefault((data["flow"], data["substance"]), []).append((u, v, key))
    said = {edge: _said(network, edge) for edges in flows.values() for edge in edges}
    same: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for flow, edges in flows.items():
        same.setdefault(tuple(sorted(said[edge] for edge in edges)), []).append(flow)
    merged = network.copy()
    for stating in same.values():
        kept, *others = sorted(stating)
        evidence = {edge: _pieces(network.edges[edge]) for edge in sorted(flows[kept])}
        restated: dict[LegKey, list[str]] = {edge: [] for edge in evidence}
        for other in others:
            # each leg of the other flow onto the kept flow's leg that says the same, in order: a flow
            # may state one leg twice
            slots: dict[str, list[LegKey]] = {}
            for edge in evidence:
                slots.setdefault(said[edge], []).append(edge)
            for edge in sorted(flows[other]):
                target = slots[said[edge]].pop(0)
                for name, pieces in _pieces(network.edges[edge]).items():
                    evidence[target][name].update(pieces)
                restated[target].append(edge[2])
                merged.remove_edge(*edge)
        for edge, fields in evidence.items():
            leg = merged.edges[edge]
            for name, pieces in fields.items():
                leg[name] = EVIDENCE_FIELDS[name].join(pieces)
            leg["flows"] = len(stating)
            if restated[edge]:
                leg["restated"] = " ".join(restated[edge])
    return merged


def _said(network: nx.MultiDiGraph, edge: LegKey) -> str:
    """What a leg says, without its names and evidence, as one comparable text."""
    data = network.edges[edge]
    described = {
        name: data[name] for name in sorted(data) if name not in EVIDENCE_FIELDS and name not in _OWN_NAMES
    }
    return repr((edge[0], edge[1], described))


def _pieces(data: dict[str, Any]) -> dict[str, dict[str, None]]:
    """A leg's evidence, field by field, as ordered sets of IRIs or of whole quotes."""
    return {
        name: dict.fromkeys(
            piece
            for piece in ([data.get(name, "")] if name in _WHOLE else data.get(name, "").split(joint))
            if piece
        )
        for name, joint in EVIDENCE_FIELDS.items()
    }


def feeding_legs(network: nx.MultiDiGraph) -> list[dict[str, str]]:
    """Legs whose substances feed a production site where they arrive: chains routes do not show."""
    return [
        {
            "from": str(u),
            "to": str(v),
            "substance": data.get("substance_label", ""),
            "status": data.get("status", "reported"),
            "feeds": data["feeds"],
            "flow": data.get("flow", ""),
        }
        for u, v, data in sorted(
            network.edges(data=True), key=lambda e: (str(e[0]), str(e[1]), e[2].get("flow", ""))
        )
        if data.get("feeds")
    ]


def origins(network: nx.MultiDiGraph) -> set[str]:
    """The places where the flows in the network start."""
    return {str(origin) for _u, _v, origin in network.edges(data="origin", default="") if origin}


def find_routes(
    network: nx.MultiDiGraph,
    target: str,
    *,
    max_hops: int = DEFAULT_MAX_HOPS,
    limit: int | None = None,
) -> list[Route]:
    """Every simple route from a flow origin to `target`, at most `max_hops` legs long.

    There can be exponentially many simple routes, so `limit` caps the count on
    large networks; the search never follows a place from which `target` is
    out of reach within the hops left, so its work grows with the routes found.
    """
    if target not in network:
        return []
    collapsed: nx.DiGraph[str] = nx.DiGraph(network)
    hops_left = nx.single_source_shortest_path_length(collapsed.reverse(copy=False), target, cutoff=max_hops)
    successors = {node: sorted(collapsed.successors(node), key=str) for node in collapsed}
    found: list[Route] = []
    for source in sorted(origins(network) - {target}):
        if source not in hops_left:
            continue
        paths = _simple_paths(successors, source, target, max_hops, hops_left)
        for path in islice(paths, None if limit is None else max(0, limit - len(found))):
            found.append(_route(network, path))
        if limit is not None and len(found) >= limit:
            break
    return sorted(found, key=lambda r: (r.labels[0], len(r.places), r.labels, r.modes))


def _simple_paths(
    successors: dict[str, list[str]], source: str, target: str, max_hops: int, hops_left: dict[str, int]
) -> Iterator[list[str]]:
    """Depth-first simple paths from `source` to `target`, pruned by the distance still to go."""
    path = [source]
    on_path = {source}
    stack = [iter(successors[source])]
    while stack:
        for child in stack[-1]:
            if child == target:
                yield [*path, target]
            elif child not in on_path and len(path) + hops_left.get(child, max_hops + 1) <= max_hops:
                path.append(child)
                on_path.add(child)
                stack.append(iter(successors[child]))
                break
        else:
            stack.pop()
            on_path.discard(path.pop())


def _route(network: nx.MultiDiGraph, path: list[str]) -> Route:
    hops = tuple(
        tuple(sorted((Leg.of(k, d) for k, d in network[u][v].items()), key=lambda leg: leg.key))
        for u, v in zip(path, path[1:], strict=False)
    )
    labels = tuple(network.nodes[p].get("label", p) for p in path)
    return Route(tuple(path), labels, hops)


def remove(network: nx.MultiDiGraph, places: Iterable[str] = (), legs: Iterable[str] = ()) -> nx.MultiDiGraph:
    """A copy without the given places and legs.

    A leg is named `FROM-TO` by place (every leg between the two goes) or by the
    leg's own name as in its IRI (`china-us-fentanyl-direct-mail-leg-1`).
    """
    cut = network.copy()
    cut.remove_nodes_from([resolve_place(network, name) for name in places])
    for name in legs:
        doomed = _legs_named(network, name)
        cut.remove_edges_from([edge for edge in doomed if cut.has_edge(*edge)])  # type: ignore[misc]  # stubs: no keys
    return cut


def _legs_named(network: nx.MultiDiGraph, name: str) -> list[tuple[str, str, str]]:
    by_key = [  # a leg by its key, by its name without the substance, or by another flow's of it
        (u, v, k)
        for u, v, k, restated in network.edges(keys=True, data="restated", default="")
        if any(name in (key, key.split("/")[0]) for key in (k, *restated.split()))
    ]
    if by_key:
        return by_key
    for split in range(1, len(name)):
        if name[split] != "-":
            continue
        try:
            u, v = resolve_place(network, name[:split]), resolve_place(network, name[split + 1 :])
        except UnknownName:
            continue
        if network.has_edge(u, v):
            return [(u, v, k) for k in network[u][v]]
    raise UnknownName(f"no leg {name!r}: write FROM-TO with place codes (CN-US) or a leg name")


def what_if(
    network: nx.MultiDiGraph,
    target: str,
    *,
    places: Iterable[str] = (),
    legs: Iterable[str] = (),
    max_hops: int = DEFAULT_MAX_HOPS,
    limit: int | None = None,
) -> list[SubstanceOutcome]:
    """For each substance, the routes to `target` before and after cutting the places and legs."""
    target = resolve_place(network, target)
    after = remove(network, places, legs)
    labels = {s: label for _u, _v, s, label in _substances(network)}
    outcomes = []
    for substance in sorted(labels):
        outcome = SubstanceOutcome(substance, labels[substance])
        outcome.routes_before = find_routes(
            _carrying(network, substance), target, max_hops=max_hops, limit=limit
        )
        outcome.routes_after = find_routes(
            _carrying(after, substance), target, max_hops=max_hops, limit=limit
        )
        if outcome.routes_before:
            outcomes.append(outcome)
    return outcomes


def _carrying(network: nx.MultiDiGraph, substance: str) -> nx.MultiDiGraph:
    """A read-only view of the legs that carry `substance`, without copying a large network."""

    def carries(u: str, v: str, key: Any) -> bool:
        return bool(network[u][v][key].get("substance") == substance)

    view: nx.MultiDiGraph[str] = nx.subgraph_view(network, filter_edge=carries)
    return view


def _substances(network: nx.MultiDiGraph) -> list[tuple[str, str, str, str]]:
    return [
        (u, v, d["substance"], d.get("substance_label", d["substance"]))
        for u, v, d in network.edges(data=True)
    ]
