"""The supply-chain networks: what the report says about routes, what-if cuts, choke points, exports."""

from __future__ import annotations

import io
import json
import re
import warnings
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.network import interactive
from kg.network.chokepoints import chokepoints
from kg.network.layout import layered_positions
from kg.network.model import flow_network
from kg.network.routes import Leg, find_routes, origins, remove, restated_once
from kg.network.views import flow_view, flow_words
from kg.store.embedded import EmbeddedStore


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def routes_by_places(store, substance: str, target: str = "US") -> dict[tuple[str, ...], object]:
    view = flow_view(store, substance)
    return {route.places: route for route in find_routes(view.network, target)}


def test_fentanyl_comes_from_china_via_mexico_via_canada_and_directly(store) -> None:
    view = flow_view(store, "fentanyl")
    assert "CN" in origins(view.network)
    positions, columns = layered_positions(view.network)
    assert columns[int(positions["CN"][0])] == "sources"
    assert columns[int(positions["US"][0])] == "destination"
    routes = routes_by_places(store, "fentanyl")
    assert {("CN", "MX", "US"), ("CN", "CA", "US"), ("CN", "US")} <= set(routes)
    assert routes[("CN", "US")].modes == ["direct mail"]
    assert all(route.status == "reported" for route in routes.values())


@pytest.mark.parametrize("substance", [None, "fentanyl", "heroin"])
def test_the_words_give_each_place_every_role_it_plays(store, substance: str | None) -> None:
    """The text alternative put each place in one column: 'from China, …; through Canada and Mexico; to
    United States', though the United States sends precursors to Mexico and Mexico starts heroin's
    routes and ends the precursors' one."""
    view = flow_view(store, substance)
    places = re.search(r"Places: (.*?)\. ", flow_words(view).description)
    assert places
    said = {
        part.split(" ", 1)[0]: set(re.split(r", | and ", part.split(" ", 1)[1]))
        for part in places.group(1).split("; ")
    }
    played: dict[str, set[str]] = {"from": set(), "through": set(), "to": set()}
    for u, v, data in view.network.edges(data=True):
        played["from" if u == data["origin"] else "through"].add(view.network.nodes[u]["label"])
        played["to" if v == data["destination"] else "through"].add(view.network.nodes[v]["label"])
    assert said == {role: found for role, found in played.items() if found}
    if substance is None:
        assert {"Mexico", "United States"} <= said["from"] and "Mexico" in said["to"]


def test_the_us_to_mexico_precursor_leg_is_suspected(store) -> None:
    network = flow_view(store, "fentanyl").network
    legs = list(network.get_edge_data("US", "MX").values())
    assert legs, "no leg from the United States to Mexico"
    assert {leg["substance"] for leg in legs} == {"fentanyl-precursors"}
    assert {leg["status"] for leg in legs} == {"suspected"}
    assert all(leg["evidence"].endswith("/excerpt/precursors-from-us") for leg in legs)
    reported = [d for u, v, d in network.edges(data=True) if (u, v) != ("US", "MX")]
    assert {d["status"] for d in reported} == {"reported"}


def test_heroin_comes_from_mexico_and_historically_from_colombia_and_guatemala(store) -> None:
    routes = routes_by_places(store, "heroin")
    assert routes[("MX", "US")].temporal == "current"
    assert routes[("CO", "US")].temporal == "historical"
    assert routes[("GT", "US")].temporal == "historical"
    assert routes[("MX", "US")].substances == ["heroin"]
    assert "CN" not in flow_view(store, "heroin").network


def test_paths_qualify_china_as_the_source_and_show_the_precursor_chain(built) -> None:
    """'primarily are sourced from China' qualifies the source on every route alike, and the
    suspected U.S.-to-Mexico precursor flow feeds the suspected Mexican labs."""
    store = ["--store", str(built.store_path)]
    answer = json.loads(run("network", "paths", "--substance", "fentanyl", "--format", "json", *store))
    from_china = [r for r in answer["routes"] if r["origin"] == "CN"]
    assert len(from_china) == 3
    # "Clandestine-produced fentanyl" is made in China; of the precursors and analogues the report
    # says only that they are sourced there, in the introduction's words made or diverted: a route
    # drawn once for both flows names the substances that qualifier is said of.
    of_some = "manufacture or diversion (of fentanyl analogues, fentanyl precursor chemicals)"
    assert all(r["origin_qualifiers"] == [of_some, "primarily"] for r in from_china)
    first_legs = [leg for r in from_china for leg in r["legs"] if leg["from"] == "CN"]
    assert {leg["substance"]: leg["origin_qualifiers"] for leg in first_legs} == {
        "illicit-fentanyl": ["primarily"],
        "fentanyl-analogues": ["manufacture or diversion", "primarily"],
        "fentanyl-precursors": ["manufacture or diversion", "primarily"],
    }
    # The introduction's "manufacture or diversion" is shown as context beside the quoted evidence.
    assert all(r["context"] == ["https://w3id.org/opioid-kg/id/excerpt/introduction"] for r in from_china)
    [chain] = answer["feeds"]
    assert (chain["from"], chain["to"], chain["status"]) == ("US", "MX", "suspected")
    assert chain["feeds"].startswith("labs in Mexico suspected of producing fentanyl")
    table = run("network", "paths", "--substance", "fentanyl", *store)
    assert "US -> MX: fentanyl precursor chemicals (suspected) feed labs in Mexico" in table
    assert "fentanyl-sources; context: introduction" in table


def test_latin_america_does_not_double_count_its_member_countries(store) -> None:
    """Latin America, the main source, is the region of Mexico, Colombia and Guatemala, whose own
    flows carry the heroin: it is neither one more origin nor one more route."""
    view = flow_view(store, "heroin")
    assert "latin-america" not in origins(view.network)
    assert {route.origin for route in find_routes(view.network, "US")} == {
        "MX",
        "CO",
        "GT",
        "southwest-asia",
        "southeast-asia",
    }
    result = chokepoints(view.network, "US")
    assert "latin-america" not in result.sources


def test_what_if_mexico_is_cut_off(built) -> None:
    answer = json.loads(
        run(
            "network",
            "what-if",
            "--remove",
            "MX",
            "--to",
            "US",
            "--format",
            "json",
            "--store",
            str(built.store_path),
        )
    )
    by_substance = {entry["substance"]: entry for entry in answer["substances"]}
    # What is trafficked is clandestine-produced ("illicit") fentanyl, a kind of fentanyl.
    fentanyl = by_substance["illicit-fentanyl"]
    assert fentanyl["still_reaches"]
    remaining = {(tuple(r["via"]), tuple(r["modes"])) for r in fentanyl["routes_after"]}
    assert remaining == {(("CA",), ("smuggled (means not stated)",)), ((), ("direct mail",))}
    heroin = by_substance["heroin"]
    assert heroin["origins_lost"] == ["MX"]
    assert all(r["origin"] != "MX" for r in heroin["routes_after"])
    assert [r["origin"] for r in heroin["routes_lost"]] == ["MX"]
    table = run("network", "what-if", "--remove", "MX", "--store", str(built.store_path))
    assert "China -> Canada -> United States" in table
    assert "origins cut off: heroin: MX" in table


def synthetic() -> nx.MultiDiGraph:
    """Origins S1-S4, transit X, Y, Z, destination T, worked out by hand in the test below."""
    network = nx.MultiDiGraph()
    for path in [("S1", "X", "T"), ("S2", "X", "T"), ("S4", "X", "T"), ("S1", "Y", "T"), ("S3", "Y", "T")]:
        for u, v in zip(path, path[1:], strict=False):
            network.add_edge(u, v, origin=path[0], substance="x")
    network.add_edge("S3", "Z", origin="S3", substance="x")
    network.add_edge("Z", "Y", origin="S3", substance="x")
    return network


def test_chokepoint_scores_of_a_hand_checked_network() -> None:
    # Shortest routes to T: S1 has two (via X and via Y, half each), S2 and S4 go via X,
    # S3 via Y (its route through Z is longer). So betweenness X = 0.5 + 1 + 1, Y = 0.5 + 1, Z = 0.
    # Alone, X severs S2 and S4 (S1 keeps Y), Y severs S3 (both its routes end through Y);
    # together {X, Y} is the only cut of two places.
    result = chokepoints(synthetic(), "T")
    scores = {c.place: c for c in result.ranked}
    assert [c.place for c in result.ranked] == ["X", "Y", "Z"]
    assert scores["X"].betweenness == pytest.approx(2.5)
    assert scores["Y"].betweenness == pytest.approx(1.5)
    assert scores["Z"].betweenness == pytest.approx(0.0)
    assert scores["X"].share == pytest.approx(2.5 / 4)
    assert scores["X"].cut_off == ("S2", "S4")
    assert scores["Y"].cut_off == ("S3",)
    assert scores["Z"].cut_off == ()
    assert (scores["X"].routes_through, scores["Y"].routes_through, scores["Z"].routes_through) == (3, 3, 1)
    assert result.routes_counted == 6
    assert result.min_cut == ["X", "Y"]


def read_back(fmt: str, data: bytes) -> tuple[set[str], set[tuple[str, str, str]]]:
    """Nodes and (from, to, key) edges of an exported file, read by a reader that did not write it."""
    if fmt == "graphml":
        graph = nx.read_graphml(io.BytesIO(data), force_multigraph=True)
    elif fmt == "gexf":
        graph = nx.read_gexf(io.BytesIO(data))
    elif fmt == "cytoscape":
        graph = nx.cytoscape_graph(json.loads(data))
    else:
        with warnings.catch_warnings():
            # pydot's grammar uses pyparsing names that pyparsing now deprecates.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            import pydot

            (dot,) = pydot.graph_from_dot_data(data.decode("utf-8"))
        nodes = {n.get_name().strip('"') for n in dot.get_nodes() if n.get_name() not in ("node", "edge")}
        edges = {
            (e.get_source().strip('"'), e.get_destination().strip('"'), e.get("key").strip('"'))
            for e in dot.get_edges()
        }
        return nodes, edges
    return {str(n) for n in graph}, {(str(u), str(v), str(k)) for u, v, k in graph.edges(keys=True)}


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "cytoscape", "dot"])
def test_each_export_reads_back_with_the_same_nodes_and_edges(built, store, tmp_path: Path, fmt: str) -> None:
    output = tmp_path / f"network.{fmt}"
    run("network", "export", "--format", fmt, "-o", str(output), "--store", str(built.store_path))
    network = flow_view(store).network
    nodes, edges = read_back(fmt, output.read_bytes())
    assert nodes == set(network)
    assert edges == {(u, v, k) for u, v, k in network.edges(keys=True)}
    assert len(edges) == network.number_of_edges() > 20
    if fmt != "dot":
        assert "precursors-from-us" in output.read_text(encoding="utf-8")


@pytest.mark.parametrize("substance", [None, "fentanyl", "heroin"])
def test_a_route_two_sources_state_alike_is_drawn_once_with_the_evidence_of_both(
    store, copied, substance
) -> None:
    """A library restates routes (a report's revisions, its copies): each drawn once, not a fan of
    parallel arrows per source (12,600 legs between eight places at 600 sources)."""
    one = flow_view(store, substance).network
    two = flow_view(copied, substance).network
    assert sorted((u, v, d["substance"], d["leg_index"]) for u, v, d in two.edges(data=True)) == sorted(
        (u, v, d["substance"], d["leg_index"]) for u, v, d in one.edges(data=True)
    )
    alone = {(u, v, d["substance"], d["leg_index"]): d for u, v, d in one.edges(data=True)}
    for u, v, data in two.edges(data=True):
        evidence = data["evidence"].split()
        assert len(evidence) == 2 * len(alone[u, v, data["substance"], data["leg_index"]]["evidence"].split())
        assert sum("/s0001-" in iri for iri in evidence) == len(evidence) // 2
        assert data["flows"] == 2


def test_routes_merge_only_where_the_sources_say_the_same_and_keep_every_leg_s_name(copied) -> None:
    """A copy that attributes one leg to another agency states another route: both stay, each with its
    own attribution. A merged leg is still found by the copy's name, and cutting it cuts the route."""
    network = flow_network(copied)
    (u, v, key), *_ = sorted(
        (u, v, k) for u, v, k, f in network.edges(keys=True, data="flow") if "/flow/s0001-" in f
    )
    network.edges[u, v, key]["attributed_to"] = "someone else"
    network.edges[u, v, key]["evidence_text"] = "a quote | with the joint in it"
    merged = restated_once(network)
    flow = network.edges[u, v, key]["flow"]
    apart = [d for _u, _v, d in merged.edges(data=True) if d["flow"] == flow]
    assert apart and all(d["flows"] == 1 for d in apart)
    assert merged.edges[u, v, key]["evidence_text"] == "a quote | with the joint in it"
    assert merged.edges[u, v, key]["attributed_to"] == "someone else"
    together = [(a, b, k, d) for a, b, k, d in merged.edges(keys=True, data=True) if d["flows"] == 2]
    assert together
    for *_, kept, data in together:  # the other source's statement of the same leg
        assert data["restated"] != kept and data["restated"].replace("s0001-", "") == kept.replace(
            "s0001-", ""
        )
    a, b, kept, data = together[0]
    other_name = data["restated"].split("/")[0]
    assert not remove(merged, legs=[other_name]).has_edge(a, b, kept)


def test_three_flows_alike_merge_with_each_piece_of_evidence_once_and_twin_legs_kept_apart() -> None:
    """A flow may state two legs between the same places (by air, by sea); three flows that state the
    route alike give two legs, each with its own evidence once, whatever the flows' labels."""

    def leg(network: nx.MultiDiGraph, flow: str, mode: str, quote: str, excerpt: str) -> None:
        network.add_edge(
            "CN",
            "US",
            key=f"{flow}-{mode}/fentanyl",
            flow=flow,
            flow_label=f"{flow}'s label",
            leg=f"{flow}-{mode}",
            leg_index=1,
            substance="fentanyl",
            mode=mode,
            attributed_to=None,
            evidence=excerpt,
            evidence_text=quote,
            context="",
        )

    network = nx.MultiDiGraph()
    for flow, quote in (("a", "A | with the joint"), ("b", "B"), ("c", "A | with the joint")):
        for mode in ("air", "sea"):
            leg(network, flow, mode, f"{quote} ({mode})", f"excerpt/{flow}-{mode} excerpt/shared")
    merged = restated_once(network)
    assert sorted(merged.edges(keys=True)) == [("CN", "US", "a-air/fentanyl"), ("CN", "US", "a-sea/fentanyl")]
    for mode in ("air", "sea"):
        data = merged.edges["CN", "US", f"a-{mode}/fentanyl"]
        assert data["evidence_text"] == f"A | with the joint ({mode}) | B ({mode})"
        assert data["evidence"].split() == [
            f"excerpt/a-{mode}",
            "excerpt/shared",
            f"excerpt/b-{mode}",
            f"excerpt/c-{mode}",
        ]
        assert data["flows"] == 3 and data["restated"] == f"b-{mode}/fentanyl c-{mode}/fentanyl"
    assert list(restated_once(merged).edges(keys=True, data=True)) == list(merged.edges(keys=True, data=True))


ID = "https://w3id.org/opioid-kg/id/"


def _with(store, turtle: str):
    """A copy in memory of `store` with the triples of `turtle` added to its data graph."""
    copy = ox.Store()
    copy.extend(store.quads())
    graph = ox.NamedNode("https://w3id.org/opioid-kg/graph/data")
    prefixes = "".join(
        f"@prefix {name}: <{iri}> . "
        for name, iri in {
            **{kind: f"{ID}{kind}/" for kind in ("document", "organization", "excerpt", "flow")},
            **{kind: f"{ID}{kind}/" for kind in ("substance", "country")},
            "fstatus": f"{ID}flow-status/",
            "tstatus": f"{ID}temporal-status/",
            "kg": "https://w3id.org/opioid-kg/ontology#",
            "prov": "http://www.w3.org/ns/prov#",
            "oa": "http://www.w3.org/ns/oa#",
            "dcterms": "http://purl.org/dc/terms/",
            "skos": "http://www.w3.org/2004/02/skos/core#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
        }.items()
    )
    copy.load((prefixes + turtle).encode("utf-8"), ox.RdfFormat.TURTLE, to_graph=graph)
    return EmbeddedStore(store.path, copy=copy)


# A second report, whose one excerpt (a table row, its cells joined by " | ") a heroin leg also rests on
SECOND_REPORT = """
document:second dcterms:title "A second report"@en ;
    dcterms:modified "2019-02-01"^^xsd:date ;
    dcterms:publisher organization:desk .
organization:desk skos:prefLabel "Second desk"@en .
excerpt:second-row oa:hasSource document:second ;
    oa:hasSelector [ oa:exact "Mexico | heroin | United States" ] .
flow:mexico-us-heroin-leg-1 prov:wasDerivedFrom excerpt:second-row .
"""


def test_a_flow_attributed_to_two_agencies_keeps_both_on_its_legs_and_in_the_caption(store) -> None:
    """Each leg kept the agency of the first row the store gave, so which of a flow's agencies survived
    hung on row order, and the caption named only it."""
    flow = f"{ID}flow/us-mexico-fentanyl-precursors"
    both = _with(store, f"<{flow}> prov:wasAttributedTo organization:crs .")
    view = flow_view(both, "fentanyl")
    named = {d["attributed_to"] for _u, _v, d in view.network.edges(data=True) if d["flow"] == flow}
    assert named == {"CRS; DEA"}
    assert "attributing the routes to CRS, DEA." in view.caption
    legs = [Leg.of(k, d) for _u, _v, k, d in view.network.edges(keys=True, data=True) if d["flow"] == flow]
    assert {leg.attributed_to for leg in legs} == {("CRS", "DEA")}  # and so in `paths --format json`


def test_a_view_cites_only_the_reports_its_own_routes_rest_on(store) -> None:
    """A substance's view copied the citation of every report behind any flow of the graph: the
    fentanyl routes cited a report that says only something of heroin."""
    library = _with(store, SECOND_REPORT)
    assert "Second desk" in flow_view(library, "heroin").network.graph["citation"]
    assert "Second desk" in flow_view(library).network.graph["citation"]
    fentanyl = flow_view(library, "fentanyl")
    assert "Second desk" not in fentanyl.network.graph["citation"] + fentanyl.caption
    assert "Congressional Research Service" in fentanyl.network.graph["citation"]


def test_a_quote_holding_the_joint_of_quotes_is_one_quote_linked_to_its_excerpt(store) -> None:
    """A leg's quotes were read back by splitting the text that joins them with " | ", so a quote of a
    table row came out as pieces, none linked to its excerpt, in the table and in the tooltip."""
    view = flow_view(_with(store, SECOND_REPORT), "heroin")
    page = interactive.interactive_html(view.network, title=view.title, caption=view.caption)
    assert f'<q><a href="{ID}excerpt/second-row">Mexico | heroin | United States</a></q>' in page
    tooltips = json.dumps(interactive.network_data(view.network), ensure_ascii=False)
    assert "\u201cMexico | heroin | United States\u201d" in tooltips


# A second source's statement of heroin from Mexico, attributed to DEA and of no stated period
DEA_HEROIN = """
flow:mexico-us-heroin-dea a kg:TraffickingFlow ;
    kg:substance substance:heroin ;
    kg:origin country:MX ;
    kg:destination country:US ;
    kg:flowStatus fstatus:reported ;
    kg:temporalStatus tstatus:current ;
    kg:hasLeg flow:mexico-us-heroin-dea-leg-1 ;
    prov:wasAttributedTo organization:dea ;
    prov:wasDerivedFrom excerpt:second-row .
flow:mexico-us-heroin-dea-leg-1 a kg:FlowLeg ;
    kg:legIndex "1"^^xsd:positiveInteger ;
    kg:fromPlace country:MX ;
    kg:toPlace country:US ;
    prov:wasDerivedFrom excerpt:second-row .
"""


def test_two_routes_alike_but_for_their_period_and_agency_are_told_apart_in_words(store) -> None:
    """The picture's words said "Mexico → United States; Mexico → United States" for two flows that
    differ in their period and agency: what tells them apart is said."""
    view = flow_view(_with(store, SECOND_REPORT + DEA_HEROIN), "heroin")
    (said,) = [part for part in flow_words(view).description.split(". ") if part.startswith("heroin: ")]
    routes = said.removeprefix("heroin: ").split("; ")
    mexico = [route for route in routes if route.startswith("Mexico → United States")]
    assert len(mexico) == 2 and len(set(mexico)) == 2, routes
    assert any("DEA" in route for route in mexico) and any("since 2013" in route for route in mexico), mexico
