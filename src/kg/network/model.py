"""The supply-chain networks, built from the store with SPARQL.

The flow network is a `MultiDiGraph` of places joined by one edge per leg and
substance, so that every edge has exactly one colour in a picture and one row in
an export. The production network joins substances by how one is made from,
or stands in for, another.
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx

from kg.store.base import Store

from .sparql import label_pattern, local_name, long_label, rows, short_label

PLACE_TYPES = ("Country", "Region", "CultivationZone", "AdministrativeArea")

# A region's flow that its member countries' own flows of the same substance to the same
# destination already carry ("Latin America" beside Mexico, Colombia, Guatemala) summarises
# them: as a leg of its own it would count their supply twice in routes and choke points.
LEGS_QUERY = """
SELECT * WHERE {
  ?flow a kg:TraffickingFlow ; kg:hasLeg ?leg ; kg:substance ?substance ;
        kg:origin ?origin ; kg:destination ?destination .
  FILTER NOT EXISTS {
    ?origin kg:includesArea ?member .
    ?other a kg:TraffickingFlow ; kg:origin ?member ; kg:destination ?destination ; kg:substance ?substance .
  }
  ?leg kg:legIndex ?index ; kg:fromPlace ?from ; kg:toPlace ?to .
  OPTIONAL { ?flow rdfs:label ?flowLabel }
  OPTIONAL { ?leg kg:mode ?legMode }
  OPTIONAL { ?flow kg:mode ?flowMode }
  OPTIONAL { ?flow kg:flowStatus ?status }
  OPTIONAL { ?flow kg:temporalStatus ?temporal }
  OPTIONAL { ?flow kg:period ?period . OPTIONAL { ?period rdfs:label ?periodLabel } }
  OPTIONAL { ?flow prov:wasAttributedTo ?agency . %AGENCY% }
  OPTIONAL { ?flow kg:originQualifier ?originQualifier }
  OPTIONAL { { ?leg kg:contextExcerpt ?context } UNION { ?flow kg:contextExcerpt ?context } }
  OPTIONAL { ?flow kg:feeds ?site . ?site rdfs:label ?feedsLabel }
  OPTIONAL { ?leg prov:wasDerivedFrom ?excerpt .
             OPTIONAL { ?excerpt oa:hasSelector/oa:exact ?quote }
             OPTIONAL { ?excerpt oa:hasSource ?report } }
}
""".replace("%AGENCY%", label_pattern("?agency", "agency"))

PLACES_QUERY = """
SELECT * WHERE {
  { SELECT DISTINCT ?place WHERE {
      ?leg a kg:FlowLeg . { ?leg kg:fromPlace ?place } UNION { ?leg kg:toPlace ?place } } }
  OPTIONAL { ?place a ?type FILTER(STRSTARTS(STR(?type), STR(kg:))) }
  OPTIONAL { ?place kg:isoCode ?iso }
  %LABEL%
}
""".replace("%LABEL%", label_pattern("?place", "place"))

CONCEPT_LABELS_QUERY = """
SELECT ?concept ?label WHERE {
  { ?flow a kg:TraffickingFlow ;
          kg:substance|kg:mode|kg:flowStatus|kg:temporalStatus|kg:originQualifier ?concept }
  UNION { ?leg a kg:FlowLeg ; kg:mode ?concept }
  ?concept skos:prefLabel ?label FILTER(LANGMATCHES(LANG(?label), 'en'))
}
"""

REPORTS_QUERY = """
SELECT DISTINCT ?report ?title ?modified ?publisher ?publisherLabel WHERE {
  VALUES ?report { %REPORTS% }
  OPTIONAL { ?report dcterms:title ?title }
  OPTIONAL { ?report dcterms:modified ?modified }
  OPTIONAL { ?report dcterms:publisher ?publisher . ?publisher skos:prefLabel ?publisherLabel }
}
"""

CHAIN_QUERY = """
SELECT ?input ?relation ?product ?inputLabel ?productLabel ?inputType ?productType ?evidence WHERE {
  { ?product kg:derivedFrom ?input . BIND(kg:derivedFrom AS ?relation) BIND(?product AS ?subject) }
  UNION { VALUES ?relation { kg:precursorOf kg:analogueOf kg:memberOfGroup skos:broader }
          ?input ?relation ?product . BIND(?input AS ?subject) }
  ?input skos:prefLabel ?inputLabel . ?product skos:prefLabel ?productLabel .
  OPTIONAL { ?input a ?inputType FILTER(STRSTARTS(STR(?inputType), STR(kg:))) }
  OPTIONAL { ?product a ?productType FILTER(STRSTARTS(STR(?productType), STR(kg:))) }
  OPTIONAL { { ?subject prov:wasDerivedFrom ?evidence } UNION { ?subject dcterms:source ?evidence } }
}
"""

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
    labels = {row["concept"]: row["label"] for row in rows(store, CONCEPT_LABELS_QUERY)}
    network = nx.MultiDiGraph()
    for iri, place in places.items():
        network.add_node(place["key"], **{**place, "iri": iri})
    legs: dict[tuple[str, str], dict[str, object]] = {}
    evidence: dict[str, set[str]] = defaultdict(set)
    quotes: dict[str, set[str]] = defaultdict(set)
    origin_qualifiers: dict[str, set[str]] = defaultdict(set)
    context: dict[str, set[str]] = defaultdict(set)
    reports: set[str] = set()
    for row in rows(store, LEGS_QUERY):
        leg = row["leg"]
        if "context" in row:
            context[leg].add(row["context"])
        if "originQualifier" in row:
            origin_qualifiers[leg].add(labels.get(row["originQualifier"], local_name(row["originQualifier"])))
        if "excerpt" in row:
            evidence[leg].add(row["excerpt"])
        if "quote" in row:
            quotes[leg].add(row["quote"])
        if "report" in row:
            reports.add(row["report"])
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
                "attributed_to": short_label(row, "agency"),
                "feeds": row.get("feedsLabel", ""),
            },
        )
    for (leg, substance), edge in sorted(legs.items(), key=lambda item: item[0]):
        u, v = str(edge.pop("u")), str(edge.pop("v"))
        edge["evidence"] = " ".join(sorted(evidence[leg]))
        edge["evidence_text"] = " | ".join(sorted(quotes[leg]))
        edge["origin_qualifiers"] = ", ".join(sorted(origin_qualifiers[leg]))
        edge["context"] = " ".join(sorted(context[leg]))
        network.add_edge(u, v, key=f"{local_name(leg)}/{local_name(substance)}", **edge)
    network.remove_nodes_from([n for n in list(network) if network.degree(n) == 0])
    network.graph["citation"] = citation(store, reports)
    return network


def _places(store: Store) -> dict[str, dict[str, str]]:
    """Label, type and ISO code of every place a leg touches, keyed by IRI."""
    places: dict[str, dict[str, str]] = {}
    for row in rows(store, PLACES_QUERY):
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


def citation(store: Store, reports: set[str]) -> str:
    """A one-line citation of the reports the evidence comes from, for captions."""
    if not reports:
        return ""
    values = " ".join(f"<{iri}>" for iri in sorted(reports))
    cited = []
    for row in rows(store, REPORTS_QUERY.replace("%REPORTS%", values)):
        parts = [row.get("publisherLabel", ""), f"\u201c{row['title']}\u201d" if "title" in row else ""]
        if "modified" in row:
            parts.append(f"updated {row['modified']}")
        cited.append(", ".join(p for p in parts if p) or row["report"])
    return "; ".join(sorted(set(cited)))


def production_network(store: Store) -> nx.DiGraph:
    """Substances joined from input to product: poppy to heroin, precursors to fentanyl, analogues."""
    network = nx.DiGraph()
    evidence: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows(store, CHAIN_QUERY):
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
