"""The supply-chain networks, built from the store with the `network-*` internal queries.

The flow network is a `MultiDiGraph` of places joined by one edge per leg and
substance, so that every edge has exactly one colour in a picture and one row in
an export. The production network joins substances by how one is made from,
or stands in for, another.
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx

from kg.store.base import Store

from .sparql import local_name, long_label, rows, short_label

# Between the agencies a leg is attributed to, where its flow names several.
AGENCY_JOINT = "; "
PLACE_TYPES = ("Country", "Region", "CultivationZone", "AdministrativeArea")

RELATION_LABELS = {
    "derivedFrom": "processed into",
    "precursorOf": "precursor of",
    "analogueOf": "analogue of",
    "memberOfGroup": "member of",
    "broader": "kind of",
}


def place_key(iri: str, iso: str | None) -> str:
    """The short name users type for a place: its ISO code, else the end of its IRI."""
    return iso or local_name(iri)


def flow_network(store: Store) -> nx.MultiDiGraph:
    """Every leg of every trafficking flow, one edge per leg and substance."""
    places = _places(store)
    labels = {row["concept"]: row["label"] for row in rows(store, "network-concept-labels")}
    network: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    for iri, place in sorted(places.items()):
        network.add_node(place["key"], **{**place, "iri": iri})
    legs: dict[tuple[str, str], dict[str, object]] = {}
    evidence: dict[str, set[str]] = defaultdict(set)
    quotes: dict[str, set[str]] = defaultdict(set)
    origin_qualifiers: dict[str, set[str]] = defaultdict(set)
    context: dict[str, set[str]] = defaultdict(set)
    agencies: dict[str, dict[str, str]] = defaultdict(dict)  # leg -> agency -> its shortest label
    excerpt_reports: dict[str, str] = {}
    excerpt_quotes: dict[str, str] = {}
    for row in rows(store, "network-legs"):
        leg = row["leg"]
        if "context" in row:
            context[leg].add(row["context"])
        if "originQualifier" in row:
            origin_qualifiers[leg].add(labels.get(row["originQualifier"], local_name(row["originQualifier"])))
        if "excerpt" in row:
            evidence[leg].add(row["excerpt"])
        if "quote" in row:
            quotes[leg].add(row["quote"])
            excerpt_quotes.setdefault(row["excerpt"], row["quote"])
        if "report" in row and "excerpt" in row:
            excerpt_reports[row["excerpt"]] = row["report"]
        if "agency" in row:
            named = short_label(row, "agency", local_name(row["agency"]))
            known = agencies[leg].get(row["agency"], named)
            agencies[leg][row["agency"]] = min(known, named, key=lambda label: (len(label), label))
        mode = row.get("legMode") or row.get("flowMode") or ""
        legs.setdefault(
            (leg, row["substance"]),
            {
                "u": places[row["from"]]["key"],
                "v": places[row["to"]]["key"],
                "substance": local_name(row["substance"]),
                "substance_label": labels.get(row["substance"], local_name(row["substance"])),
                "flow": row["flow"],
                "flow_label": row.get("flowLabel", ""),
                "leg": leg,
                "leg_index": int(row["index"]),
                "origin": places[row["origin"]]["key"],
                "destination": places[row["destination"]]["key"],
                "mode": local_name(mode) if mode else "",
                "mode_label": labels.get(mode, ""),
                "status": local_name(row.get("status", "reported")),
                "temporal": local_name(row.get("temporal", "current")),
                "period": row.get("periodLabel", ""),
                "feeds": row.get("feedsLabel", ""),
            },
        )
    for (leg, substance), edge in sorted(legs.items(), key=lambda item: item[0]):
        u, v = str(edge.pop("u")), str(edge.pop("v"))
        edge["evidence"] = " ".join(sorted(evidence[leg]))
        edge["evidence_text"] = " | ".join(sorted(quotes[leg]))
        edge["origin_qualifiers"] = ", ".join(sorted(origin_qualifiers[leg]))
        edge["context"] = " ".join(sorted(context[leg]))
        edge["attributed_to"] = AGENCY_JOINT.join(sorted(agencies[leg].values()))  # each its flow names
        network.add_edge(u, v, key=f"{local_name(leg)}/{local_name(substance)}", **edge)
    network.remove_nodes_from([n for n in list(network) if network.degree(n) == 0])
    # Which excerpt says each quote and in which report, for pages that link a quote to its sentence
    # and views that cite only the reports of their own routes (exports keep only a graph's plain
    # values, so these stay out of them).
    network.graph["excerpt_quotes"] = excerpt_quotes
    network.graph["excerpt_reports"] = excerpt_reports
    network.graph["citations"] = citations(store, set(excerpt_reports.values()))
    network.graph["citation"] = cited_by(network)
    return network


def agencies_of(leg: dict[str, object]) -> list[str]:
    """The agencies a leg's flow is attributed to, as `flow_network` joins them."""
    return [agency for agency in str(leg.get("attributed_to", "")).split(AGENCY_JOINT) if agency]


def cited_by(network: nx.MultiDiGraph) -> str:
    """The citation of the reports whose excerpts the network's legs rest on, and of no other."""
    reports = network.graph["excerpt_reports"]
    cited = network.graph["citations"]
    used = {reports[e] for _u, _v, found in network.edges(data="evidence", default="") for e in found.split()}
    return "; ".join(sorted({cited[report] for report in used if report in cited}))


def _places(store: Store) -> dict[str, dict[str, str]]:
    """Label, type and ISO code of every place a leg touches, keyed by IRI."""
    places: dict[str, dict[str, str]] = {}
    for row in rows(store, "network-places"):
        iri = row["place"]
        kind = local_name(row.get("type", ""))
        known = places.get(iri)
        if known is None or (kind in PLACE_TYPES and known["type"] not in PLACE_TYPES):
            places[iri] = {
                "key": place_key(iri, row.get("iso")),
                "label": long_label(row, "place", local_name(iri)),
                "type": kind or "Place",
                "iso": row.get("iso", ""),
            }
    return places


def citation(store: Store, reports: set[str], *, short: bool = False) -> str:
    """A one-line citation of the reports the evidence comes from, for captions; `short`, each
    report's publisher and date alone, for a legend that tells two sources' series apart."""
    return "; ".join(sorted(set(citations(store, reports, short=short).values())))


def citations(store: Store, reports: set[str], *, short: bool = False) -> dict[str, str]:
    """Each report's citation (see `citation`), by its IRI."""
    if not reports:
        return {}
    cited = {}
    for row in rows(store, "network-reports", report=sorted(reports)):
        title = f"\u201c{row['title']}\u201d" if "title" in row and not short else ""
        parts = [row.get("publisherLabel", ""), title]
        if "modified" in row:
            parts.append(row["modified"] if short else f"updated {row['modified']}")
        cited[row["report"]] = ", ".join(p for p in parts if p) or row["report"]
    return cited


def production_network(store: Store) -> nx.DiGraph:
    """Substances joined from input to product: poppy to heroin, precursors to fentanyl, analogues."""
    network: nx.DiGraph[str] = nx.DiGraph()
    evidence: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows(store, "network-chains"):
        ends = []
        for role in ("input", "product"):
            key = local_name(row[role])
            kind = local_name(row.get(f"{role}Type", "Substance"))
            if key not in network or network.nodes[key]["type"] == "Substance":
                network.add_node(key, label=row[f"{role}Label"], type=kind, iri=row[role])
            ends.append(key)
        relation = local_name(row["relation"])
        network.add_edge(*ends, relation=relation, relation_label=RELATION_LABELS[relation])
        if "evidence" in row:
            evidence[(ends[0], ends[1])].add(row["evidence"])
    for (u, v), found in evidence.items():
        network.edges[u, v]["evidence"] = " ".join(sorted(found))
    for _u, _v, data in network.edges(data=True):
        data.setdefault("evidence", "")
    return network


def substance_family(store_or_chain: Store | nx.DiGraph, substance: str) -> set[str]:
    """The substance and everything that goes into it or stands in for it (precursors, analogues, inputs)."""
    chain = store_or_chain if isinstance(store_or_chain, nx.DiGraph) else production_network(store_or_chain)
    if substance not in chain:
        return {substance}
    return {substance} | nx.ancestors(chain, substance)
