"""Every fact can be traced: to a verbatim excerpt at its stated position, and to an agency."""

from __future__ import annotations

import pytest

from kg.store.embedded import EmbeddedStore

EXCERPTS = """
PREFIX kg: <https://w3id.org/opioid-kg/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT ?excerpt ?file ?exact ?start ?end WHERE {
  ?excerpt a kg:Excerpt ; oa:hasSource ?doc ;
           oa:hasSelector [ oa:exact ?exact ] , [ oa:start ?start ; oa:end ?end ] .
  ?doc kg:textFile ?file .
}
"""


@pytest.fixture(scope="module")
def excerpts(store: EmbeddedStore) -> list[dict]:
    return [
        {name: row[name].value for name in ("excerpt", "file", "exact", "start", "end")}
        for row in store.query(EXCERPTS)
    ]


def test_every_excerpt_is_verbatim_at_its_position(excerpts: list[dict], project_root) -> None:
    assert len(excerpts) >= 50
    for excerpt in excerpts:
        text = (project_root / "sources" / excerpt["file"]).read_text("utf-8")
        start, end = int(excerpt["start"]), int(excerpt["end"])
        assert text[start:end] == excerpt["exact"], excerpt["excerpt"]


def test_every_fact_in_the_data_graph_has_evidence(store: EmbeddedStore) -> None:
    """Each typed node of the data graph cites an excerpt (periods and the cube's structure aside)."""
    rows = list(
        store.query("""
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX time: <http://www.w3.org/2006/time#>
        PREFIX qb: <http://purl.org/linked-data/cube#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT DISTINCT ?node ?type WHERE {
          GRAPH <https://w3id.org/opioid-kg/graph/data> { ?node a ?type }
          FILTER (?type NOT IN (time:Instant, qb:DataSet, qb:DataStructureDefinition,
                                qb:ComponentSpecification, skos:ConceptScheme))
          FILTER NOT EXISTS { ?node a ?period . ?period <http://www.w3.org/2000/01/rdf-schema#subClassOf>
                              time:ProperInterval }
          FILTER NOT EXISTS { ?node prov:wasDerivedFrom ?excerpt .
                              ?excerpt a <https://w3id.org/opioid-kg/ontology#Excerpt> }
        }""")
    )
    assert rows == [], [(r["node"].value, r["type"].value) for r in rows]


def test_findings_are_attributed_to_the_agencies_the_report_cites(store: EmbeddedStore) -> None:
    def attributed(fact: str) -> str:
        rows = list(
            store.query(
                f"SELECT ?agency WHERE {{ <https://w3id.org/opioid-kg/id/{fact}> "
                "<http://www.w3.org/ns/prov#wasAttributedTo> ?agency }"
            )
        )
        assert len(rows) == 1, fact
        return rows[0]["agency"].value.rsplit("/", 1)[-1]

    assert attributed("observation/mx-poppy-cultivation-2017") == "ondcp"
    assert attributed("observation/us-hsp-heroin-weight-share-from-mexico") == "dea"
    assert attributed("observation/swb-heroin-seizures-fy2017") == "cbp"
    assert attributed("observation/mx-poppy-eradication-2017") == "mx-defense-ministry"
    assert attributed("observation/mx-fentanyl-pills-seized-with-us-assistance-2017") == "us-state-department"
    assert attributed("change/world-poppy-cultivation-2017-record") == "unodc"
    assert attributed("flow/us-mexico-fentanyl-precursors") == "dea"
    assert attributed("observation/merida-initiative-funding-fy2008-fy2018") == "crs"


def test_background_facts_carry_their_own_source(store: EmbeddedStore) -> None:
    rows = list(
        store.query("""
        SELECT DISTINCT ?s WHERE {
          GRAPH <https://w3id.org/opioid-kg/graph/background> { ?s ?p ?o }
          FILTER NOT EXISTS { GRAPH <https://w3id.org/opioid-kg/graph/background> {
              ?s <http://purl.org/dc/terms/source> ?source } }
          FILTER NOT EXISTS { GRAPH <https://w3id.org/opioid-kg/graph/background> {
              ?s a <https://w3id.org/opioid-kg/ontology#Report> } }
        }""")
    )
    assert rows == [], [r["s"].value for r in rows]


def test_qualifiers_survive_as_data(store: EmbeddedStore) -> None:
    def qualifiers(observation: str) -> set[str]:
        return {
            row["q"].value.rsplit("/", 1)[-1]
            for row in store.query(
                f"SELECT ?q WHERE {{ <https://w3id.org/opioid-kg/id/observation/{observation}> "
                "<https://w3id.org/opioid-kg/ontology#qualifier> ?q }"
            )
        }

    assert qualifiers("merida-initiative-funding-fy2008-fy2018") == {"nearly"}
    assert qualifiers("dod-counternarcotics-support-mexico-fy2017") == {"approximate"}
    assert qualifiers("us-hsp-heroin-weight-share-from-mexico") == {"more-than"}
    assert qualifiers("mx-share-of-global-poppy-cultivation") == {"less-than"}
    assert qualifiers("mx-potential-heroin-production-2017") == {"estimate", "imprecise"}
    assert qualifiers("swb-heroin-seizures-fy2018-to-july") == {"more-than", "partial-period"}
