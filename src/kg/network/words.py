"""A flow network in words: the text alternative of its pictures (alt text, SVG description, CLI output).

A reader who cannot see the picture learns the same as one who can: which
places send, pass on and receive, and each route of each substance with its
mode and how firm the report is about it.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import networkx as nx

from .layout import COLUMNS, flow_roles

PLACE_ROLES = {"sources": "from", "transit": "through", "destination": "to"}


def describe_flows(network: nx.MultiDiGraph, title: str) -> str:
    """'Trafficking routes of fentanyl. Places: from China and United States; through Canada and Mexico;
    to Mexico and United States. illicit fentanyl: China → Canada → United States; …'. A place is named
    under every role it plays: under its picture column alone, the United States, which sends precursors
    to Mexico, was no origin, and Mexico no destination."""
    if network.number_of_edges() == 0:
        return f"{title}: no routes."
    label = {node: str(data.get("label", node)) for node, data in network.nodes(data=True)}
    roles = flow_roles(network)
    columns = {
        name: [label[node] for node in sorted(roles, key=lambda n: label[n].casefold()) if roles[node][name]]
        for name in COLUMNS
    }
    places = "; ".join(f"{PLACE_ROLES[name]} {_and(columns[name])}" for name in COLUMNS if columns[name])
    parts = [f"{title}.", f"Places: {places}."]
    for substance, routes in _routes(network, label).items():
        parts.append(f"{substance}: {'; '.join(routes)}.")
    return " ".join(parts)


def _routes(network: nx.MultiDiGraph, label: dict[str, str]) -> dict[str, list[str]]:
    """Each substance's routes, a route being one flow's legs in order with what qualifies them; two
    routes said alike also with their periods and agencies, which tell them apart (two sources' flows
    of one route that differ there are drawn apart)."""
    flows: dict[tuple[str, str], list[tuple[int, str, str, dict]]] = defaultdict(list)
    for u, v, data in network.edges(data=True):
        flows[(data["substance"], data.get("flow", f"{u}->{v}"))].append(
            (data.get("leg_index", 1), u, v, data)
        )
    routes: dict[str, list[tuple[str, list[str], list[str]]]] = defaultdict(list)
    for (_substance, _flow), legs in sorted(flows.items()):
        legs.sort(key=lambda leg: leg[0])
        stops = [label[legs[0][1]]] + [label[v] for _i, _u, v, _d in legs]
        notes = list(
            dict.fromkeys(
                d["mode_label"] for _i, _u, _v, d in legs if d.get("mode") not in ("", "smuggled", None)
            )
        )
        notes += sorted({d["status"] for *_rest, d in legs if d.get("status") == "suspected"})
        notes += sorted({d["temporal"] for *_rest, d in legs if d.get("temporal") == "historical"})
        apart = list(dict.fromkeys(str(d["period"]) for *_rest, d in legs if d.get("period")))
        agencies = (str(d.get("attributed_to", "")) for *_rest, d in legs)
        apart += [f"attributed to {agency}" for agency in dict.fromkeys(filter(None, agencies))]
        substance = str(legs[0][3].get("substance_label", legs[0][3]["substance"]))
        routes[substance].append((" → ".join(stops), notes, apart))
    said: dict[str, list[str]] = {}
    for substance, found in sorted(routes.items()):
        alike = Counter((path, tuple(notes)) for path, notes, _apart in found)
        lines = []
        for path, notes, apart in found:
            shown = notes + (apart if alike[path, tuple(notes)] > 1 else [])
            lines.append(path + (f" ({', '.join(shown)})" if shown else ""))
        said[substance] = sorted(lines)
    return said


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def describe_chain(chain: nx.DiGraph, title: str) -> str:
    """'Production chains …. opium poppy processed into opium gum; ANPP precursor of fentanyl; …'"""
    label = {node: str(data.get("label", node)) for node, data in chain.nodes(data=True)}
    links = sorted(f"{label[u]} {d['relation_label']} {label[v]}" for u, v, d in chain.edges(data=True))
    return f"{title}. " + ("; ".join(links) + "." if links else "No links.")
