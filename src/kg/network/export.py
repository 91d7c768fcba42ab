"""Files that Gephi (GraphML, GEXF), Cytoscape (Cytoscape.js JSON) and Graphviz (DOT) open.

Every node and edge attribute is a string, number or boolean, so each format
keeps all of them; DOT is written here directly, so no Graphviz install is needed.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

import networkx as nx

from kg.query.run import returns_kept

from .layout import substance_colours

FORMATS = ("graphml", "gexf", "cytoscape", "dot")
# The file extensions each format is known by (Cytoscape's own for its JSON, Graphviz's two).
EXTENSIONS = {
    "graphml": "graphml",
    "gexf": "gexf",
    "cyjs": "cytoscape",
    "json": "cytoscape",
    "dot": "dot",
    "gv": "dot",
}


def plain(network: nx.Graph) -> nx.Graph:
    """A copy whose attributes are all scalars (missing values as empty strings)."""
    copy = network.copy()
    for _node, data in copy.nodes(data=True):
        for name, value in data.items():
            data[name] = "" if value is None else value
    for *_ends, data in copy.edges(data=True):
        for name, value in data.items():
            data[name] = "" if value is None else value
    copy.graph = {k: v for k, v in copy.graph.items() if isinstance(v, str | int | float | bool)}
    return copy


def export(network: nx.Graph, fmt: str) -> bytes:
    """The network in `fmt`, one of FORMATS."""
    if fmt == "graphml":
        buffer = io.BytesIO()
        nx.write_graphml(plain(network), buffer, encoding="utf-8")
        return returns_kept(buffer.getvalue())
    if fmt == "gexf":
        buffer = io.BytesIO()
        nx.write_gexf(plain(network), buffer, encoding="utf-8")
        return returns_kept(buffer.getvalue())
    if fmt == "cytoscape":
        return json.dumps(cytoscape_elements(network), indent=2, ensure_ascii=False).encode("utf-8")
    if fmt == "dot":
        return to_dot(network).encode("utf-8")
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")


def cytoscape_elements(network: nx.Graph) -> dict[str, object]:
    """Cytoscape.js's elements format: attributes under `data`, with `id`s (and networkx's `value`)."""
    nodes = [
        {"data": {**data, "id": str(node), "value": str(node), "name": data.get("label", str(node))}}
        for node, data in network.nodes(data=True)
    ]
    edges = []
    triples: Iterable[tuple[Any, Any, Any, dict[str, Any]]]
    if isinstance(network, nx.MultiGraph):
        triples = network.edges(keys=True, data=True)
    else:
        triples = ((u, v, f"{u}->{v}", d) for u, v, d in network.edges(data=True))
    for u, v, key, data in triples:
        edges.append({"data": {**data, "id": str(key), "key": str(key), "source": str(u), "target": str(v)}})
    return {
        "data": {k: v for k, v in network.graph.items() if isinstance(v, str | int | float | bool)},
        "directed": network.is_directed(),
        "multigraph": network.is_multigraph(),
        "elements": {"nodes": nodes, "edges": edges},
    }


def to_dot(network: nx.Graph) -> str:
    """Graphviz DOT, left to right, edges coloured by substance and dashed when suspected."""
    colours = substance_colours(network) if network.is_multigraph() else {}
    lines = [f"{'digraph' if network.is_directed() else 'graph'} opioid_kg {{", "  rankdir=LR;"]
    if network.graph.get("citation"):
        lines.append(f"  label={_quote('Source: ' + str(network.graph['citation']))};")
    lines.append("  node [shape=ellipse, fontname=Helvetica];")
    for node, data in sorted(network.nodes(data=True)):
        lines.append(f"  {_quote(node)} [{_attributes(data)}];")
    arrow = "->" if network.is_directed() else "--"
    triples: Iterable[tuple[Any, Any, Any, dict[str, Any]]]
    if isinstance(network, nx.MultiGraph):
        triples = network.edges(keys=True, data=True)
    else:
        triples = ((u, v, f"{u}->{v}", d) for u, v, d in network.edges(data=True))
    for u, v, key, data in sorted(triples, key=lambda e: (str(e[0]), str(e[1]), str(e[2]))):
        style = dict(data)
        style["key"] = key
        if data.get("substance") in colours:
            style["color"] = colours[data["substance"]]
        if data.get("status") == "suspected":
            style["style"] = "dashed"
        lines.append(f"  {_quote(u)} {arrow} {_quote(v)} [{_attributes(style)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _attributes(data: dict) -> str:
    return ", ".join(
        f"{name}={_quote(value)}" for name, value in sorted(data.items()) if value not in (None, "")
    )


def _quote(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'
