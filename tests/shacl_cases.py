"""The negative cases of the shapes: the project's graph broken in many independent places at once.

Each case touches different nodes, so one validation of the broken graph shows every case's violation;
test_shapes checks pyshacl's report of it, test_store_validation that the build's engine agrees.
"""

from __future__ import annotations

import re

from rdflib import Graph

from kg.build.validation import Violation

PREFIXES = """
PREFIX kg: <https://w3id.org/opioid-kg/ontology#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX unit: <http://qudt.org/vocab/unit/>
PREFIX id: <https://w3id.org/opioid-kg/id/>
"""
ID = "https://w3id.org/opioid-kg/id/"


def _other_source_excerpt(name: str) -> str:
    """`id:excerpt/other-source-NAME`, quoting another report than the one whose facts the graph holds
    (the background reading it cites); its selectors are left out, so that the case reaches few other
    constraints (the rebuild's tests apply every case at once)."""
    return f" id:excerpt\\/other-source-{name} oa:hasSource id:document\\/crs-if10578 ."


# (case, SPARQL update that breaks the graph, focus node under id/, shape, part of the expected message)
CASES: list[tuple[str, str, str, str, str]] = [
    (
        "an observation resting on another source's excerpt",
        "INSERT DATA { id:observation\\/mx-poppy-eradication-2016"
        + " prov:wasDerivedFrom id:excerpt\\/other-source-a ."
        + _other_source_excerpt("a")
        + " }",
        "observation/mx-poppy-eradication-2016",
        "ObservationShape",
        "excerpts of its data set's source report only",
    ),
    (
        "a stated change between another source's figures",
        "INSERT DATA { id:change\\/mx-poppy-eradication-2016-2017"
        + " prov:wasDerivedFrom id:excerpt\\/other-source-b ."
        + _other_source_excerpt("b")
        + " }",
        "change/mx-poppy-eradication-2016-2017",
        "StatedChangeShape",
        "does not state a change between another's figures",
    ),
    (
        "fact without evidence",
        "DELETE WHERE { id:substance\\/carfentanil prov:wasDerivedFrom ?e }",
        "substance/carfentanil",
        "EvidenceShape",
        "prov:wasDerivedFrom an excerpt",
    ),
    (
        "finding without attribution",
        "DELETE WHERE { id:observation\\/mx-heroin-seizures-2015 prov:wasAttributedTo ?a }",
        "observation/mx-heroin-seizures-2015",
        "AttributionShape",
        "prov:wasAttributedTo",
    ),
    (
        "two English preferred labels",
        'INSERT DATA { id:country\\/CO skos:prefLabel "Republic of Colombia"@en }',
        "country/CO",
        "PreferredLabelShape",
        "exactly one English skos:prefLabel",
    ),
    (
        "flow without label",
        "DELETE WHERE { id:flow\\/colombia-us-heroin rdfs:label ?l }",
        "flow/colombia-us-heroin",
        "LabelShape",
        "exactly one English rdfs:label",
    ),
    (
        "concept outside any scheme",
        "DELETE WHERE { id:qualifier\\/likely skos:inScheme ?s }",
        "qualifier/likely",
        "ConceptShape",
        "skos:inScheme",
    ),
    (
        "substance derived from a country",
        "INSERT DATA { id:substance\\/carfentanil kg:derivedFrom id:country\\/MX }",
        "substance/carfentanil",
        "SubstanceShape",
        "kg:derivedFrom must point at a substance",
    ),
    (
        "derivation cycle",
        "INSERT DATA { id:substance\\/morphine kg:derivedFrom id:substance\\/heroin }",
        "substance/heroin",
        "SubstanceShape",
        "derived, directly or indirectly, from itself",
    ),
    (
        "three-letter country code",
        'DELETE { ?c kg:isoCode ?x } INSERT { ?c kg:isoCode "GTM" } '
        "WHERE { BIND(id:country\\/GT AS ?c) ?c kg:isoCode ?x }",
        "country/GT",
        "CountryShape",
        "ISO 3166-1 alpha-2",
    ),
    (
        "malformed subdivision code",
        'DELETE { ?s kg:isoCode ?x } INSERT { ?s kg:isoCode "Durango" } '
        "WHERE { BIND(id:state\\/MX-DUR AS ?s) ?s kg:isoCode ?x }",
        "state/MX-DUR",
        "AdministrativeAreaShape",
        "ISO 3166-2 code",
    ),
    (
        "subdivision code of another country",
        'DELETE { ?s kg:isoCode ?x } INSERT { ?s kg:isoCode "US-OAX" } '
        "WHERE { BIND(id:state\\/MX-OAX AS ?s) ?s kg:isoCode ?x }",
        "state/MX-OAX",
        "AdministrativeAreaShape",
        "must start with the code of the country",
    ),
    (
        "region within two countries",
        "INSERT DATA { id:region\\/latin-america kg:withinCountry id:country\\/MX , id:country\\/CO }",
        "region/latin-america",
        "RegionShape",
        "at most one country",
    ),
    (
        "zone including a country",
        "INSERT DATA { id:region\\/golden-triangle kg:includesArea id:country\\/US }",
        "region/golden-triangle",
        "CultivationZoneShape",
        "administrative area",
    ),
    (
        "agency of two countries",
        "INSERT DATA { id:organization\\/cbp kg:countryOf id:country\\/MX }",
        "organization/cbp",
        "OrganizationShape",
        "at most one country",
    ),
    (
        "person without name",
        "DELETE WHERE { id:person\\/hannah-fischer foaf:name ?n }",
        "person/hannah-fischer",
        "PersonShape",
        "foaf:name",
    ),
    (
        "period with two beginnings",
        "INSERT DATA { id:period\\/2016 time:hasBeginning id:instant\\/2013-01-01 }",
        "period/2016",
        "IntervalShape",
        "exactly one beginning",
    ),
    (
        "period ending before it begins",
        "DELETE { id:period\\/2013 time:hasEnd ?e } "
        "INSERT { id:period\\/2013 time:hasEnd id:instant\\/2011-01-01 } "
        "WHERE { id:period\\/2013 time:hasEnd ?e }",
        "period/2013",
        "IntervalShape",
        "beginning must precede its end",
    ),
    (
        "instant with a plain string",
        'DELETE { ?i time:inXSDDate ?d } INSERT { ?i time:inXSDDate "2019-12-31" } '
        "WHERE { BIND(id:instant\\/2019-12-31 AS ?i) ?i time:inXSDDate ?d }",
        "instant/2019-12-31",
        "InstantShape",
        "exactly one xsd:date",
    ),
    (
        "measure with two units",
        "INSERT DATA { kg:heroinSeizures kg:measureUnit unit:TONNE }",
        "",
        "MeasureShape",
        "at most one unit",
    ),
    (
        "observation outside a data set",
        "DELETE WHERE { id:observation\\/mx-drug-labs-destroyed-2016 qb:dataSet ?d }",
        "observation/mx-drug-labs-destroyed-2016",
        "ObservationShape",
        "exactly one data set",
    ),
    (
        "observation without its value",
        "DELETE WHERE { id:observation\\/mx-drug-labs-destroyed-2017 kg:drugLabsDestroyed ?v }",
        "observation/mx-drug-labs-destroyed-2017",
        "ObservationShape",
        "exactly one numeric value",
    ),
    (
        "observation in the wrong unit",
        "DELETE { ?o kg:unit ?u } INSERT { ?o kg:unit unit:TONNE } "
        "WHERE { BIND(id:observation\\/mx-heroin-seizures-2016 AS ?o) ?o kg:unit ?u }",
        "observation/mx-heroin-seizures-2016",
        "ObservationShape",
        "unit must be its measure's unit",
    ),
    (
        "observation whose value is a double where its measure's range is a decimal",
        "DELETE { ?o kg:heroinSeizures ?v } INSERT { ?o kg:heroinSeizures ?double } "
        "WHERE { BIND(id:observation\\/mx-heroin-seizures-2017 AS ?o) ?o kg:heroinSeizures ?v "
        'BIND(STRDT(CONCAT(STR(?v), ".0"), xsd:double) AS ?double) }',
        "observation/mx-heroin-seizures-2017",
        "ObservationShape",
        "datatype of its measure's range",
    ),
    (
        "observation whose value is a float where its measure's range is a decimal",
        "DELETE { ?o kg:opiumGumSeizures ?v } INSERT { ?o kg:opiumGumSeizures ?float } "
        "WHERE { BIND(id:observation\\/mx-opium-gum-seizures-2016 AS ?o) ?o kg:opiumGumSeizures ?v "
        'BIND(STRDT(CONCAT(STR(?v), ".0"), xsd:float) AS ?float) }',
        "observation/mx-opium-gum-seizures-2016",
        "ObservationShape",
        "datatype of its measure's range",
    ),
    (
        "change without direction",
        "DELETE WHERE { id:change\\/mx-heroin-seizures-2015-2016 kg:direction ?d }",
        "change/mx-heroin-seizures-2015-2016",
        "StatedChangeShape",
        "exactly one direction",
    ),
    (
        "stated percentage that disagrees",
        "DELETE { ?c kg:percentChange ?p } INSERT { ?c kg:percentChange 25.0 } "
        "WHERE { BIND(id:change\\/mx-poppy-cultivation-2016-2017 AS ?c) ?c kg:percentChange ?p }",
        "change/mx-poppy-cultivation-2016-2017",
        "StatedChangeShape",
        "percentage change does not agree",
    ),
    (
        "stated direction that disagrees",
        "DELETE { ?c kg:direction ?d } INSERT { ?c kg:direction id:direction\\/increase } "
        "WHERE { BIND(id:change\\/mx-opium-gum-seizures-2015-2016 AS ?c) ?c kg:direction ?d }",
        "change/mx-opium-gum-seizures-2015-2016",
        "StatedChangeShape",
        "direction of change does not agree",
    ),
    (
        "observation that a stated direction contradicts",
        "DELETE { ?o kg:poppyEradicationArea ?v } INSERT { ?o kg:poppyEradicationArea 1.0 } "
        "WHERE { BIND(id:observation\\/mx-poppy-eradication-2017 AS ?o) ?o kg:poppyEradicationArea ?v }",
        "change/mx-poppy-eradication-2016-2017",
        "StatedChangeShape",
        "direction of change does not agree",
    ),
    (
        "observation that a stated percentage contradicts",
        "DELETE { ?o kg:potentialHeroinProduction ?v } INSERT { ?o kg:potentialHeroinProduction 121.0 } "
        "WHERE { BIND(id:observation\\/mx-potential-heroin-production-2017 AS ?o) "
        "?o kg:potentialHeroinProduction ?v }",
        "change/mx-potential-heroin-production-2016-2017",
        "StatedChangeShape",
        "percentage change does not agree",
    ),
    (
        "observation with a second value",
        "INSERT DATA { id:observation\\/mx-opium-gum-seizures-2017 kg:opiumGumSeizures 5.0 }",
        "observation/mx-opium-gum-seizures-2017",
        "ObservationShape",
        "exactly one numeric value",
    ),
    (
        "change comparing another measure",
        "DELETE { ?c kg:fromObservation ?o } "
        "INSERT { ?c kg:fromObservation id:observation\\/mx-heroin-seizures-2015 } "
        "WHERE { BIND(id:change\\/mx-drug-labs-destroyed-2015-2016 AS ?c) ?c kg:fromObservation ?o }",
        "change/mx-drug-labs-destroyed-2015-2016",
        "StatedChangeShape",
        "must be of its measure",
    ),
    (
        "change whose periods run backwards",
        "DELETE { ?c kg:fromPeriod ?p } INSERT { ?c kg:fromPeriod id:period\\/fy2017 } "
        "WHERE { BIND(id:change\\/swb-heroin-seizures-fy2015-fy2016 AS ?c) ?c kg:fromPeriod ?p }",
        "change/swb-heroin-seizures-fy2015-fy2016",
        "StatedChangeShape",
        "earlier period must begin before",
    ),
    (
        "record without its year",
        "DELETE WHERE { id:change\\/world-poppy-cultivation-2017-record kg:highestSince ?y }",
        "change/world-poppy-cultivation-2017-record",
        "RecordStatementShape",
        "kg:highestSince",
    ),
    (
        "flow without status",
        "DELETE WHERE { id:flow\\/guatemala-us-heroin kg:flowStatus ?s }",
        "flow/guatemala-us-heroin",
        "TraffickingFlowShape",
        "reported or suspected",
    ),
    (
        "flow to where it starts",
        "DELETE { ?f kg:destination ?d } INSERT { ?f kg:destination id:region\\/southwest-asia } "
        "WHERE { BIND(id:flow\\/southwest-asia-us-heroin AS ?f) ?f kg:destination ?d }",
        "flow/southwest-asia-us-heroin",
        "TraffickingFlowShape",
        "origin must differ from its destination",
    ),
    (
        "legs that do not chain",
        "DELETE { ?l kg:fromPlace ?p } INSERT { ?l kg:fromPlace id:country\\/MX } "
        "WHERE { BIND(id:flow\\/china-canada-us-fentanyl-leg-2 AS ?l) ?l kg:fromPlace ?p }",
        "flow/china-canada-us-fentanyl",
        "TraffickingFlowShape",
        "legs must be numbered 1..n",
    ),
    (
        "first leg not from the origin",
        "DELETE { ?l kg:fromPlace ?p } INSERT { ?l kg:fromPlace id:country\\/MX } "
        "WHERE { BIND(id:flow\\/china-mexico-us-fentanyl-leg-1 AS ?l) ?l kg:fromPlace ?p }",
        "flow/china-mexico-us-fentanyl",
        "TraffickingFlowShape",
        "legs must be numbered 1..n",
    ),
    (
        "last leg not to the destination",
        "DELETE { ?l kg:toPlace ?p } INSERT { ?l kg:toPlace id:country\\/GT } "
        "WHERE { BIND(id:flow\\/china-mexico-us-fentanyl-precursors-and-analogues-leg-2 AS ?l) "
        "?l kg:toPlace ?p }",
        "flow/china-mexico-us-fentanyl-precursors-and-analogues",
        "TraffickingFlowShape",
        "legs must be numbered 1..n",
    ),
    (
        "a stop that is not a transit place",
        "DELETE { ?f kg:transit ?p } INSERT { ?f kg:transit id:country\\/GT } "
        "WHERE { BIND(id:flow\\/china-canada-us-fentanyl-precursors-and-analogues AS ?f) ?f kg:transit ?p }",
        "flow/china-canada-us-fentanyl-precursors-and-analogues",
        "TraffickingFlowShape",
        "legs must be numbered 1..n",
    ),
    (
        "legs numbered with a gap",
        "DELETE { ?l kg:legIndex ?i } INSERT { ?l kg:legIndex 3 } "
        "WHERE { BIND(id:flow\\/china-us-fentanyl-direct-mail-leg-1 AS ?l) ?l kg:legIndex ?i }",
        "flow/china-us-fentanyl-direct-mail",
        "TraffickingFlowShape",
        "legs must be numbered 1..n",
    ),
    (
        "leg without index",
        "DELETE WHERE { id:flow\\/latin-america-us-heroin-leg-1 kg:legIndex ?i }",
        "flow/latin-america-us-heroin-leg-1",
        "FlowLegShape",
        "positive kg:legIndex",
    ),
    (
        "leg going nowhere",
        "DELETE { ?l kg:toPlace ?p } INSERT { ?l kg:toPlace id:country\\/MX } "
        "WHERE { BIND(id:flow\\/mexico-us-heroin-leg-1 AS ?l) ?l kg:toPlace ?p }",
        "flow/mexico-us-heroin-leg-1",
        "FlowLegShape",
        "from one place to another",
    ),
    (
        "site growing nothing",
        "DELETE WHERE { id:cultivation-site\\/durango-opium-poppy kg:substance ?s }",
        "cultivation-site/durango-opium-poppy",
        "CultivationSiteShape",
        "at least one substance",
    ),
    (
        "site outside its zone",
        "DELETE { ?s kg:zone ?z } INSERT { ?s kg:zone id:region\\/southwestern-zone } "
        "WHERE { BIND(id:cultivation-site\\/sinaloa-opium-poppy AS ?s) ?s kg:zone ?z }",
        "cultivation-site/sinaloa-opium-poppy",
        "CultivationSiteShape",
        "one of the areas its zone includes",
    ),
    (
        "production site in two places",
        "INSERT DATA { id:production-site\\/mexico-fentanyl-labs kg:area id:country\\/US }",
        "production-site/mexico-fentanyl-labs",
        "ProductionSiteShape",
        "exactly one place",
    ),
    (
        "situation without cause",
        "DELETE WHERE { id:situation\\/eradication-challenges kg:cause ?c }",
        "situation/eradication-challenges",
        "SecuritySituationShape",
        "states its cause",
    ),
    (
        "programme activity that is a substance",
        "INSERT DATA { id:program\\/merida-initiative kg:hasActivity id:substance\\/heroin }",
        "program/merida-initiative",
        "ProgramShape",
        "programme activity",
    ),
    (
        "forum with two last meetings",
        'INSERT DATA { id:program\\/north-american-drug-dialogue kg:lastHeld "2016-12-01"^^xsd:date }',
        "program/north-american-drug-dialogue",
        "ForumShape",
        "kg:lastHeld",
    ),
    (
        "activity without aim",
        "DELETE WHERE { id:activity\\/merida-canine-training kg:aim ?a }",
        "activity/merida-canine-training",
        "ProgramActivityShape",
        "states its aim",
    ),
    (
        "measure without status",
        "DELETE WHERE { id:policy\\/kingpin-strategy kg:status ?s }",
        "policy/kingpin-strategy",
        "PolicyMeasureShape",
        "exactly one status",
    ),
    (
        "stance without type",
        "DELETE WHERE { id:stance\\/us-pursues-china-scheduling kg:stanceType ?t }",
        "stance/us-pursues-china-scheduling",
        "StanceShape",
        "exactly one stance type",
    ),
    (
        "action of no kind",
        "DELETE WHERE { id:legislative-action\\/bills-on-opioid-imports kg:actionKind ?k }",
        "legislative-action/bills-on-opioid-imports",
        "LegislativeActionShape",
        "hearing, a resolution or a bill",
    ),
    (
        "question without text",
        "DELETE WHERE { id:question\\/trade-and-immigration-tensions kg:questionText ?t }",
        "question/trade-and-immigration-tensions",
        "PolicyQuestionShape",
        "exactly one question text",
    ),
    (
        "disagreement with one party",
        "DELETE DATA { id:disagreement\\/us-mexico-opioid-volumes kg:party id:country\\/MX }",
        "disagreement/us-mexico-opioid-volumes",
        "DisagreementShape",
        "at least two parties",
    ),
    (
        "report with two titles",
        'INSERT DATA { id:document\\/crs-if10578 dcterms:title "Another title"@en }',
        "document/crs-if10578",
        "ReportShape",
        "exactly one title",
    ),
    (
        "source text without digest",
        "DELETE WHERE { id:document\\/crs-2018-heroin-fentanyl-mexico kg:sha256 ?d }",
        "document/crs-2018-heroin-fentanyl-mexico",
        "ReportShape",
        "SHA-256 digest",
    ),
    (
        "report revising a text, not a report",
        'INSERT DATA { id:document\\/crs-2018-heroin-fentanyl-mexico prov:wasRevisionOf "an earlier one" }',
        "document/crs-2018-heroin-fentanyl-mexico",
        "ReportShape",
        "revises at most one earlier report",
    ),
    (
        "table of no source",
        "DELETE WHERE { <https://w3id.org/opioid-kg/id/table/000_1bdfefaeb44abb70/poppy-cultivation>"
        " dcterms:source ?s }",
        "table/000_1bdfefaeb44abb70/poppy-cultivation",
        "TableShape",
        "exactly one source report",
    ),
    (
        "row of no number",
        "DELETE WHERE { <https://w3id.org/opioid-kg/id/table/000_1bdfefaeb44abb70/poppy-cultivation/row/2>"
        " <http://www.w3.org/ns/csvw#rownum> ?n }",
        "table/000_1bdfefaeb44abb70/poppy-cultivation/row/2",
        "RowShape",
        "exactly one row number",
    ),
    (
        "figure without number",
        "DELETE WHERE { id:figure\\/crs-2018-heroin-fentanyl-mexico-figure-1 kg:figureNumber ?n }",
        "figure/crs-2018-heroin-fentanyl-mexico-figure-1",
        "FigureShape",
        "exactly one number",
    ),
    (
        "credit to nobody",
        "DELETE WHERE { id:credit\\/figure-1-map-esri-2014 kg:creditedAgent ?a }",
        "credit/figure-1-map-esri-2014",
        "DataCreditShape",
        "exactly one agent",
    ),
    (
        "excerpt of no source",
        "DELETE WHERE { id:excerpt\\/merida-canines oa:hasSource ?s }",
        "excerpt/merida-canines",
        "ExcerptShape",
        "exactly one source report",
    ),
    (
        "position longer than the quote",
        "DELETE { ?p oa:end ?e } INSERT { ?p oa:end ?later } "
        "WHERE { BIND(id:excerpt\\/dod-support-position AS ?p) ?p oa:end ?e BIND(?e + 1 AS ?later) }",
        "excerpt/dod-support",
        "ExcerptShape",
        "as many characters as its quote",
    ),
    (
        "empty quote",
        'DELETE { ?q oa:exact ?x } INSERT { ?q oa:exact "" } '
        "WHERE { BIND(id:excerpt\\/disagreements-quote AS ?q) ?q oa:exact ?x }",
        "excerpt/disagreements-quote",
        "TextQuoteSelectorShape",
        "non-empty oa:exact",
    ),
    (
        "position without start",
        "DELETE WHERE { id:excerpt\\/small-packages-position oa:start ?s }",
        "excerpt/small-packages-position",
        "TextPositionSelectorShape",
        "exactly one oa:start",
    ),
    (
        "data set with two structures",
        "INSERT DATA { id:dataset\\/crs-2018-heroin-seizures qb:structure id:dataset\\/other-structure }",
        "dataset/crs-2018-heroin-seizures",
        "DataSetShape",
        "exactly one structure definition",
    ),
    (
        "data set without its source",
        "DELETE WHERE { id:dataset\\/crs-2018-heroin-seizures dcterms:source ?source }",
        "dataset/crs-2018-heroin-seizures",
        "DataSetShape",
        "exactly one source report",
    ),
    (
        "measure missing from the structure",
        "DELETE WHERE { ?c qb:measure kg:drugLabsDestroyed }",
        "dataset/structure-drug-labs-destroyed",
        "DataStructureShape",
        "must be a component of its data set's structure",
    ),
    (
        "component that is both dimension and measure",
        "INSERT DATA { id:dataset\\/component-ref-area qb:measure kg:heroinSeizures }",
        "dataset/component-ref-area",
        "ComponentSpecificationShape",
        "exactly one dimension, measure or attribute",
    ),
    (
        "finding attributed to an agency that none of its excerpts names",
        "DELETE WHERE { id:observation\\/mx-drug-labs-destroyed-2016 kg:contextExcerpt ?e }",
        "observation/mx-drug-labs-destroyed-2016",
        "AttributionShape",
        "names the agent",
    ),
    (
        "finding resting on a second source's excerpt that does not name its agency",
        "INSERT DATA { id:production-site\\/mexico-fentanyl-labs"
        + " prov:wasDerivedFrom id:excerpt\\/other-source-c ."
        + _other_source_excerpt("c")
        + " id:excerpt\\/other-source-c oa:hasSelector id:excerpt\\/other-source-c-quote ."
        + ' id:excerpt\\/other-source-c-quote oa:exact "Fentanyl is produced in Mexico." }',
        "production-site/mexico-fentanyl-labs",
        "AttributionShape",
        "in each source it quotes",
    ),
    (
        "finding attributed to the report's publisher beside the agency its sentence credits",
        "INSERT DATA { id:change\\/swb-heroin-seizures-fy2016-fy2017"
        " prov:wasAttributedTo id:organization\\/crs }",
        "change/swb-heroin-seizures-fy2016-fy2017",
        "AttributionShape",
        "a sentence has one voice",
    ),
    (
        "finding attributed to the author of a cited document that has no publisher",
        "DELETE WHERE { id:document\\/dea-national-drug-threat-assessment-2017 dcterms:publisher ?p }",
        "change/us-fentanyl-availability",
        "AttributionShape",
        "names the agent",
    ),
    (
        "a report published by an agent described nowhere",
        "INSERT DATA { id:document\\/crs-2018-heroin-fentanyl-mexico"
        " dcterms:publisher id:organization\\/nowhere }",
        "document/crs-2018-heroin-fentanyl-mexico",
        "ReportShape",
        "publisher is an agent the graph describes",
    ),
    (
        "a report derived from an excerpt described nowhere",
        "INSERT DATA { id:document\\/crs-2018-heroin-fentanyl-mexico"
        " prov:wasDerivedFrom id:excerpt\\/nowhere }",
        "document/crs-2018-heroin-fentanyl-mexico",
        "DerivationShape",
        "prov:wasDerivedFrom must point at an excerpt",
    ),
    (
        "context excerpt without a quoting one",
        "DELETE WHERE { id:observation\\/mx-heroin-seizures-2016 prov:wasDerivedFrom ?e }",
        "observation/mx-heroin-seizures-2016",
        "ContextExcerptShape",
        "stands beside a quoting excerpt",
    ),
    (
        "quoting excerpt that is also a context one",
        "INSERT DATA { id:observation\\/mx-drug-labs-destroyed-2017 "
        "kg:contextExcerpt id:excerpt\\/labs-destroyed }",
        "observation/mx-drug-labs-destroyed-2017",
        "ContextExcerptShape",
        "stands beside a quoting excerpt",
    ),
    (
        "context excerpt from a report the finding does not quote",
        "INSERT DATA { id:finding\\/merida-efforts-increased kg:contextExcerpt id:excerpt\\/other-source-d ."
        + _other_source_excerpt("d")
        + " }",
        "finding/merida-efforts-increased",
        "ContextExcerptShape",
        "stands in a report the fact quotes",
    ),
    (
        "calendar and fiscal years in one series",
        "DELETE { ?c kg:fromPeriod ?p } INSERT { ?c kg:fromPeriod id:period\\/2013 } "
        "WHERE { BIND(id:change\\/swb-heroin-seizures-2010-2015 AS ?c) ?c kg:fromPeriod ?p }",
        "change/swb-heroin-seizures-2010-2015",
        "SeriesPeriodKindShape",
        "must not mix calendar and fiscal years",
    ),
    (
        "year of unstated kind given a calendar beginning",
        "INSERT DATA { id:period\\/year-2015 time:hasBeginning id:instant\\/2015-01-01 }",
        "period/year-2015",
        "UnspecifiedYearShape",
        "no beginning",
    ),
    (
        "fiscal year without a beginning",
        "DELETE WHERE { id:period\\/fy2015 time:hasBeginning ?b }",
        "period/fy2015",
        "IntervalShape",
        "only a year of unstated kind or a period without dates has none",
    ),
    (
        "period without dates given a beginning",
        "INSERT DATA { id:period\\/recent-decades time:hasBeginning id:instant\\/2013-01-01 }",
        "period/recent-decades",
        "VaguePeriodShape",
        "no beginning",
    ),
    (
        "flow feeding labs somewhere other than its destination",
        "INSERT DATA { id:flow\\/us-mexico-fentanyl-precursors "
        "kg:feeds id:production-site\\/china-fentanyl-production }",
        "flow/us-mexico-fentanyl-precursors",
        "FeedsShape",
        "production site at its destination",
    ),
    (
        "finding without a statement",
        "DELETE WHERE { id:finding\\/fentanyl-uptick kg:statement ?s }",
        "finding/fentanyl-uptick",
        "FindingShape",
        "exactly one statement",
    ),
    (
        "finding whose statement is not in its excerpt's words",
        "DELETE { id:finding\\/further-material-on-request kg:statement ?s }"
        ' INSERT { id:finding\\/further-material-on-request kg:statement "More material is available."@en }'
        " WHERE { id:finding\\/further-material-on-request kg:statement ?s }",
        "finding/further-material-on-request",
        "FindingShape",
        "in the source's words: a passage of an excerpt",
    ),
    (
        "finding whose statement is empty",
        "DELETE { id:finding\\/crs-reports-for-public-understanding kg:statement ?s }"
        ' INSERT { id:finding\\/crs-reports-for-public-understanding kg:statement ""@en }'
        " WHERE { id:finding\\/crs-reports-for-public-understanding kg:statement ?s }",
        "finding/crs-reports-for-public-understanding",
        "FindingShape",
        "in the source's words: a passage of an excerpt",
    ),
    (
        "finding cited from a document alone, whose statement no excerpt holds",
        "DELETE { id:finding\\/us-opioid-epidemic prov:wasDerivedFrom ?excerpt }"
        " INSERT { id:finding\\/us-opioid-epidemic dcterms:source id:document\\/crs-if10578 }"
        " WHERE { id:finding\\/us-opioid-epidemic prov:wasDerivedFrom ?excerpt }",
        "finding/us-opioid-epidemic",
        "FindingShape",
        "in the source's words: a passage of an excerpt",
    ),
    (
        "excerpt that no fact cites",
        "DELETE WHERE { ?fact prov:wasDerivedFrom id:excerpt\\/multiple-harvests }",
        "excerpt/multiple-harvests",
        "ExcerptUseShape",
        "no fact cites",
    ),
    (
        "policy measure's aim without its language tag",
        "DELETE { ?p kg:aim ?a } INSERT { ?p kg:aim ?plain } "
        "WHERE { BIND (id:policy\\/curbing-the-fentanyl-uptick AS ?p) ?p kg:aim ?a "
        "BIND (STR(?a) AS ?plain) }",
        "policy/curbing-the-fentanyl-uptick",
        "DatatypeRangeShape",
        "kg:aim is a text with its language tag",
    ),
    (
        "region's terrain without its language tag",
        "DELETE { ?r kg:terrain ?t } INSERT { ?r kg:terrain ?plain } "
        "WHERE { BIND (id:region\\/mexico-western-highlands AS ?r) ?r kg:terrain ?t "
        "BIND (STR(?t) AS ?plain) }",
        "region/mexico-western-highlands",
        "DatatypeRangeShape",
        "kg:terrain is a text with its language tag",
    ),
    (
        "value both more than and nearly what it states",
        "INSERT DATA { id:observation\\/us-hsp-heroin-weight-share-from-mexico"
        " kg:qualifier <https://w3id.org/opioid-kg/id/qualifier/nearly> }",
        "observation/us-hsp-heroin-weight-share-from-mexico",
        "QualifierBoundShape",
        "at most one qualifier that bounds its value",
    ),
    (
        "a table whose row quotes another report",
        f"DELETE DATA {{ <{ID}table/000_1bdfefaeb44abb70/poppy-cultivation/row/1>"
        " <http://www.w3.org/ns/csvw#describes> id:observation\\/mx-poppy-cultivation-2016 } ;"
        f" INSERT DATA {{ <{ID}table/000_1bdfefaeb44abb70/poppy-cultivation/row/1>"
        " <http://www.w3.org/ns/csvw#describes> id:observation\\/mx-opium-gum-seizures-2015 ."
        " id:observation\\/mx-opium-gum-seizures-2015 prov:wasDerivedFrom id:excerpt\\/other-source-t ."
        + _other_source_excerpt("t")
        + " }",
        "table/000_1bdfefaeb44abb70/poppy-cultivation",
        "TableShape",
        "rest on excerpts of its source report only",
    ),
]


def case_violations(violations: list[Violation], focus: str, shape: str, message: str) -> list[Violation]:
    """The violations that show one case: its shape, its message, on its focus node (when it names one)."""
    return [
        v
        for v in violations
        if v.shape.endswith("#" + shape)
        and message in v.message
        and (not focus or v.focus_node == ID + focus)
    ]


def broken_graph(data: Graph, updates: list[str] | None = None) -> Graph:
    """A copy of `data` broken by every case at once, or by the cases' `updates` given."""
    broken = Graph()
    broken += data
    for update in [update for _, update, *_ in CASES] if updates is None else updates:
        broken.update(PREFIXES + _full_iris(update))
    return broken


def _full_iris(update: str) -> str:
    """`id:kind\\/name` written out as a full IRI (rdflib does not unescape '\\/' in local names)."""
    return re.sub(r"id:([\w-]+)\\/([\w.-]+)", lambda m: f"<{ID}{m.group(1)}/{m.group(2)}>", update)
