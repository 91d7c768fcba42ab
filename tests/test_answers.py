"""Every question of the catalogue gives the answer the report gives.

The expected values are written here from the report's text (sources/*.txt), so a
query, a curated fact or the store that drifts from the report fails a test.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.query.catalogue import load_catalogue
from kg.query.run import run_query
from kg.store.embedded import EmbeddedStore
from kg.store.queryfiles import binding_terms

PROJECT = Path(__file__).resolve().parent.parent
CATALOGUE = load_catalogue(PROJECT / "queries")
KG = "https://w3id.org/opioid-kg/ontology#"
ID = "https://w3id.org/opioid-kg/id/"
QB = "http://purl.org/linked-data/cube#"
UNIT = "http://qudt.org/vocab/unit/"
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + name for name in ("decimal", "integer", "double", "float", "nonNegativeInteger")}

Row = dict[str, object]


def plain(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> object:
    """A Python value to compare with: IRIs as strings, numbers as Decimal, booleans as bool."""
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if datatype in NUMERIC:
            return Decimal(term.value)
        if datatype == XSD + "boolean":
            return term.value in ("true", "1")
        return term.value
    return term.value


def answer(store: EmbeddedStore, name: str, **params: str) -> list[Row]:
    """The rows of catalogue question `name`, as a user gets them from `kg query NAME`."""
    query = CATALOGUE[name]
    result = run_query(store, query.text, binding_terms(query.bindings(params)), source=name)
    assert result.kind == "select"
    return [{key: plain(value) for key, value in row.items()} for row in result.rows]


def grouped(rows: list[Row], key: str, value: str) -> dict[object, set[object]]:
    groups: dict[object, set[object]] = defaultdict(set)
    for row in rows:
        groups[row.get(key)].add(row.get(value))
    return dict(groups)


def test_1_fentanyl_reaches_the_us_from_china_via_mexico_via_canada_and_by_direct_mail(
    store: EmbeddedStore,
) -> None:
    rows = answer(store, "fentanyl-routes")
    routes = {(row["origin"], row.get("transit"), row.get("mode")) for row in rows}
    assert routes == {
        (ID + "country/CN", ID + "country/MX", ID + "mode/smuggled"),
        (ID + "country/CN", ID + "country/CA", ID + "mode/smuggled"),
        (ID + "country/CN", None, ID + "mode/direct-mail"),
    }
    assert {row["status"] for row in rows} == {ID + "flow-status/reported"}
    # What travels is clandestine-produced fentanyl, a form of fentanyl, not the licit medicine.
    assert {row["carried"] for row in rows} == {ID + "substance/illicit-fentanyl"}
    # "primarily are sourced from China" qualifies China as the source, on every route alike;
    # "clandestine-produced" says how it is sourced there: made, not diverted (the introduction's
    # "manufacture or diversion" is said of foreign sources at large).
    assert len(rows) == 3
    assert {(row["originQualifier"], row.get("sourcing")) for row in rows} == {
        (ID + "qualifier/primarily", None)
    }


def test_1_with_parameters_precursors_are_suspected_to_cross_from_the_us_into_mexico(
    store: EmbeddedStore,
) -> None:
    rows = answer(
        store,
        "fentanyl-routes",
        substance=ID + "substance/fentanyl-precursors",
        destination=ID + "country/MX",
    )
    assert [(row["origin"], row["mode"], row["status"], row["agency"]) for row in rows] == [
        (
            ID + "country/US",
            ID + "mode/over-the-border",
            ID + "flow-status/suspected",
            ID + "organization/dea",
        )
    ]


def test_2_fentanyl_analogues_and_precursors_come_from_china_precursors_also_from_the_us(
    store: EmbeddedStore,
) -> None:
    rows = answer(store, "fentanyl-sources")
    assert grouped(rows, "item", "origin") == {
        ID + "substance/illicit-fentanyl": {ID + "country/CN", ID + "country/MX"},
        ID + "substance/fentanyl-analogues": {ID + "country/CN"},
        ID + "substance/fentanyl-precursors": {ID + "country/CN", ID + "country/US"},
    }
    from_us = [row for row in rows if row["origin"] == ID + "country/US"]
    assert {(row["status"], row["agency"]) for row in from_us} == {
        (ID + "flow-status/suspected", ID + "organization/dea")
    }
    made_in_mexico = [row for row in rows if row["origin"] == ID + "country/MX"]
    # "DEA suspects labs in Mexico may use precursor chemicals ...": suspected, and only possible.
    assert {(row["how"], row["qualifier"], row["agency"]) for row in made_in_mexico} == {
        ("made in", ID + "qualifier/suspected", ID + "organization/dea"),
        ("made in", ID + "qualifier/possible", ID + "organization/dea"),
    }
    from_china_how = {(row["item"], row["how"]) for row in rows if row["origin"] == ID + "country/CN"}
    assert {how for item, how in from_china_how if item == ID + "substance/illicit-fentanyl"} == {
        "made in",
        "trafficked from",
    }
    assert {how for item, how in from_china_how if item != ID + "substance/illicit-fentanyl"} == {
        "made or diverted in",
        "trafficked from",
    }
    from_china = grouped([row for row in rows if row["origin"] == ID + "country/CN"], "item", "qualifier")
    # "Clandestine-produced fentanyl, as well as most illicit fentanyl precursor chemicals and
    # fentanyl analogues, primarily are sourced from China": most of those, not all of them.
    assert from_china == {
        ID + "substance/illicit-fentanyl": {ID + "qualifier/primarily"},
        ID + "substance/fentanyl-analogues": {
            ID + "qualifier/primarily",
            ID + "qualifier/manufacture-or-diversion",
            ID + "qualifier/most",
        },
        ID + "substance/fentanyl-precursors": {
            ID + "qualifier/primarily",
            ID + "qualifier/manufacture-or-diversion",
            ID + "qualifier/most",
        },
    }


def test_3_anpp_and_npp_are_under_international_control_at_the_request_of_the_united_states(
    store: EmbeddedStore,
) -> None:
    rows = answer(store, "controlled-precursors")
    assert {(row["chemicalLabel"], row["actor"], row["stanceType"]) for row in rows} == {
        ("ANPP", ID + "country/US", ID + "stance-type/requests"),
        ("NPP", ID + "country/US", ID + "stance-type/requests"),
    }
    assert {row["precursorOf"] for row in rows} == {ID + "substance/fentanyl"}
    assert {row["policyStatus"] for row in rows} == {ID + "policy-status/achieved"}


def test_4_cultivation_rose_from_32000_ha_to_44100_ha_computed_37_8_percent_against_stated_38(
    store: EmbeddedStore,
) -> None:
    rows = answer(store, "poppy-cultivation-change")
    values = {row["period"]: row["value"] for row in rows if "value" in row}
    assert values == {ID + "period/2016": Decimal(32000), ID + "period/2017": Decimal(44100)}
    [change] = [row for row in rows if "previousValue" in row]
    assert change["previousPeriod"] == ID + "period/2016"
    assert change["computedPercent"] == Decimal("37.8")
    assert change["statedPercent"] == Decimal(38)
    assert change["agrees"] is True
    assert change["computedDirection"] == change["statedDirection"] == ID + "direction/increase"
    assert {row["unit"] for row in rows if "unit" in row} == {UNIT + "HA"}


def test_4_the_rise_between_2013_and_2017_is_stated_without_values(store: EmbeddedStore) -> None:
    rows = answer(store, "poppy-cultivation-change")
    [stated] = [row for row in rows if row.get("previousPeriod") == ID + "period/2013"]
    assert stated["period"] == ID + "period/2017"
    assert stated["statedDirection"] == ID + "direction/increase"
    assert "value" not in stated and "agrees" not in stated


def test_4_with_another_measure_production_rose_37_percent_as_stated(store: EmbeddedStore) -> None:
    rows = answer(store, "poppy-cultivation-change", measure=KG + "potentialHeroinProduction")
    [change] = [row for row in rows if "previousValue" in row]
    assert (change["previousValue"], change["value"]) == (Decimal(81), Decimal(111))
    assert change["computedPercent"] == Decimal(37)
    assert change["statedPercent"] == Decimal(37)
    assert change["agrees"] is True


def test_5_production_81_and_111_tonnes_imply_about_2_5_kg_of_pure_heroin_per_hectare(
    store: EmbeddedStore,
) -> None:
    rows = answer(store, "heroin-production-yield")
    by_year = {row["periodLabel"]: row for row in rows}
    assert by_year["2016"]["production"] == Decimal(81)
    assert by_year["2017"]["production"] == Decimal(111)
    assert by_year["2016"]["cultivation"] == Decimal(32000)
    assert by_year["2017"]["cultivation"] == Decimal(44100)
    # 81,000 kg / 32,000 ha and 111,000 kg / 44,100 ha, to two decimals.
    assert by_year["2016"]["yieldKgPerHa"] == Decimal("2.53")
    assert by_year["2017"]["yieldKgPerHa"] == Decimal("2.52")
    assert {row["productionUnit"] for row in rows} == {UNIT + "TONNE"}
    assert by_year["2017"]["statedPercent"] == Decimal(37)
    assert grouped(rows, "periodLabel", "qualifier") == {
        "2016": {ID + "qualifier/estimate", ID + "qualifier/imprecise"},
        "2017": {ID + "qualifier/estimate", ID + "qualifier/imprecise"},
    }
    assert {row["agency"] for row in rows} == {ID + "organization/ondcp"}


def test_6_eradication_22235_ha_of_32000_and_28750_ha_of_44100(store: EmbeddedStore) -> None:
    rows = answer(store, "poppy-eradication-share")
    shares = {row["periodLabel"]: (row["eradicated"], row["cultivated"], row["sharePercent"]) for row in rows}
    assert shares == {
        "2016": (Decimal(22235), Decimal(32000), Decimal("69.5")),
        "2017": (Decimal(28750), Decimal(44100), Decimal("65.2")),
    }
    assert {row["eradicationAgency"] for row in rows} == {ID + "organization/mx-defense-ministry"}
    assert {row["cultivationAgency"] for row in rows} == {ID + "organization/ondcp"}


def test_7_mexico_seizures_and_labs_by_year_with_the_change(store: EmbeddedStore) -> None:
    rows = answer(store, "mexico-seizures")
    table = {
        (row["measure"].removeprefix(KG), row["periodLabel"]): (row["value"], row.get("computedPercent"))
        for row in rows
    }
    assert table == {
        ("opiumGumSeizures", "2015"): (Decimal(1238), None),
        ("opiumGumSeizures", "2016"): (Decimal(228), Decimal("-81.6")),
        ("opiumGumSeizures", "2017"): (Decimal(462), Decimal("102.6")),
        ("heroinSeizures", "2015"): (Decimal(422), None),
        ("heroinSeizures", "2016"): (Decimal(318), Decimal("-24.6")),
        ("heroinSeizures", "2017"): (Decimal(347), Decimal("9.1")),
        ("drugLabsDestroyed", "2015"): (Decimal(185), None),
        ("drugLabsDestroyed", "2016"): (Decimal(112), Decimal("-39.5")),
        ("drugLabsDestroyed", "2017"): (Decimal(97), Decimal("-13.4")),
    }
    for row in rows:
        if "computedPercent" in row:
            rising = row["computedPercent"] > 0
            assert row["statedDirection"] == ID + ("direction/increase" if rising else "direction/decrease")
    assert {row["agency"] for row in rows} == {ID + "organization/mx-defense-ministry"}


def test_8_border_heroin_seizures_doubled_declined_twice_and_exceeded_3925_kg_by_july_2018(
    store: EmbeddedStore,
) -> None:
    rows = answer(store, "border-heroin-seizures")
    observations = [row for row in rows if row["kind"] == QB + "Observation"]
    assert {(row["periodLabel"], row["value"], row["unit"]) for row in observations} == {
        ("FY2017", Decimal(3925), UNIT + "KiloGM"),
        ("FY2018", Decimal(3925), UNIT + "KiloGM"),
    }
    fy2018 = [row for row in observations if row["periodLabel"] == "FY2018"]
    assert {row["qualifier"] for row in fy2018} == {
        ID + "qualifier/more-than",
        ID + "qualifier/partial-period",
    }
    assert {row["asOf"] for row in fy2018} == {"2018-07"}
    changes = {
        (row["fromPeriod"].removeprefix(ID + "period/"), row["period"].removeprefix(ID + "period/")): row
        for row in rows
        if row["kind"] == KG + "StatedChange"
    }
    assert set(changes) == {
        ("year-2010", "year-2015"),
        ("fy2015", "fy2016"),
        ("fy2016", "fy2017"),
        ("fy2017", "fy2018"),
    }
    doubled = changes[("year-2010", "year-2015")]
    assert doubled["direction"] == ID + "direction/increase"
    assert doubled["changeFactor"] == Decimal(2)
    assert doubled["qualifier"] == ID + "qualifier/more-than"
    # "From 2010 to 2015" does not say calendar or fiscal years; the series goes on in fiscal years.
    assert doubled["periodKind"] == KG + "UnspecifiedYear"
    assert {row["periodKind"] for row in rows if row["fact"] != doubled["fact"]} == {KG + "FiscalYear"}
    assert changes[("fy2015", "fy2016")]["direction"] == ID + "direction/decrease"
    assert changes[("fy2016", "fy2017")]["direction"] == ID + "direction/decrease"
    # "... but are trending upward" is said when the report was written, in FY2018: the trend at
    # the end of the change to FY2018, not at the end of FY2017, which saw a decrease.
    assert "trend" not in changes[("fy2016", "fy2017")]
    assert changes[("fy2017", "fy2018")]["trend"] == ID + "direction/increase"
    assert changes[("fy2017", "fy2018")]["direction"] == ID + "direction/increase"
    assert {row["agency"] for row in rows} == {ID + "organization/cbp"}


def test_9_heroin_now_comes_from_mexico_and_latin_america_earlier_from_colombia_and_guatemala(
    store: EmbeddedStore,
) -> None:
    rows = answer(store, "heroin-sources")
    assert grouped(rows, "temporalStatus", "origin") == {
        ID + "temporal-status/current": {
            ID + "country/MX",
            ID + "region/latin-america",
            ID + "region/southwest-asia",
            ID + "region/southeast-asia",
        },
        ID + "temporal-status/historical": {ID + "country/CO", ID + "country/GT"},
    }
    mexico = {(row["share"], row["shareQualifier"]) for row in rows if row["origin"] == ID + "country/MX"}
    assert mexico == {
        (Decimal(50), ID + "qualifier/majority"),
        (Decimal(90), ID + "qualifier/more-than"),
    }
    assert {row["since"] for row in rows if row["origin"] == ID + "country/MX"} == {"since 2013"}
    # The majority holds "since 2013"; more than 90 percent holds "now": two periods, not one.
    shares = {(row["share"], row["sharePeriod"]) for row in rows if row["origin"] == ID + "country/MX"}
    assert shares == {(Decimal(50), "since 2013"), (Decimal(90), "now (at the time of the report)")}
    # Latin America is the main source "in recent decades"; Colombia and Guatemala "until recently".
    [latin_america] = [row for row in rows if row["origin"] == ID + "region/latin-america"]
    assert (latin_america["since"], latin_america["originQualifier"]) == (
        "in recent decades",
        ID + "qualifier/main",
    )
    assert {row["since"] for row in rows if row["origin"] in (ID + "country/CO", ID + "country/GT")} == {
        "until recently"
    }
    [guatemala] = [row for row in rows if row["origin"] == ID + "country/GT"]
    assert guatemala["relativeVolume"] == ID + "qualifier/much-lesser-extent"


def test_10_poppy_states_in_the_golden_triangle_and_the_southwest(store: EmbeddedStore) -> None:
    rows = answer(store, "poppy-states-by-zone")
    assert grouped(rows, "zone", "stateLabel") == {
        ID + "region/golden-triangle": {"Durango", "Sinaloa", "Chihuahua"},
        ID + "region/southwestern-zone": {"Guerrero", "Oaxaca"},
    }
    [oaxaca] = [row for row in rows if row["stateLabel"] == "Oaxaca"]
    assert oaxaca["qualifier"] == ID + "qualifier/much-lesser-extent"
    assert oaxaca["isoCode"] == "MX-OAX"
    assert {row["country"] for row in rows} == {ID + "country/MX"}


def test_11_merida_nearly_2_9_billion_fy2008_fy2018_and_dod_about_59_million_fy2017(
    store: EmbeddedStore,
) -> None:
    rows = {row["program"]: row for row in answer(store, "programme-funding")}
    assert set(rows) == {ID + "program/merida-initiative", ID + "program/dod-counterdrug-support"}
    merida = rows[ID + "program/merida-initiative"]
    assert merida["amount"] == Decimal(2_900_000_000)
    assert merida["qualifier"] == ID + "qualifier/nearly"
    assert merida["boundKind"] == ID + "bound/upper"
    assert (merida["begin"], merida["end"]) == ("2007-10-01", "2018-09-30")
    assert merida["fundedBy"] == ID + "organization/us-congress"
    dod = rows[ID + "program/dod-counterdrug-support"]
    assert dod["amount"] == Decimal(59_000_000)
    assert dod["qualifier"] == ID + "qualifier/approximate"
    assert (dod["periodLabel"], dod["begin"], dod["end"]) == ("FY2017", "2016-10-01", "2017-09-30")
    assert dod["operatedBy"] == ID + "organization/dod"
    assert {row["unit"] for row in rows.values()} == {"http://qudt.org/vocab/currency/USD"}


def test_12_merida_activities_and_their_targets(store: EmbeddedStore) -> None:
    rows = answer(store, "merida-activities")
    activities = {row["activity"].removeprefix(ID + "activity/") for row in rows}
    assert activities == {
        "merida-heroin-fentanyl-cooperation",
        "merida-data-improvement",
        "merida-training-and-equipment",
        "merida-drug-control-system",
        "merida-canine-training",
        "merida-north-american-drug-dialogue",
    }
    targets = {
        (row["activity"].removeprefix(ID + "activity/"), row["relation"].removeprefix(KG), row["target"])
        for row in rows
    }
    assert {
        ("merida-heroin-fentanyl-cooperation", "partner", ID + "country/CA"),
        ("merida-heroin-fentanyl-cooperation", "targetsSubstance", ID + "substance/heroin"),
        ("merida-heroin-fentanyl-cooperation", "targetsSubstance", ID + "substance/fentanyl"),
        ("merida-data-improvement", "partner", ID + "organization/unodc"),
        ("merida-data-improvement", "targetsSubstance", ID + "substance/opium-poppy"),
        ("merida-training-and-equipment", "beneficiary", ID + "group/mexican-officials"),
        ("merida-drug-control-system", "targetsSubstance", ID + "substance/chemical-precursors"),
        ("merida-canine-training", "targetsSubstance", ID + "substance/fentanyl"),
        ("merida-north-american-drug-dialogue", "forum", ID + "program/north-american-drug-dialogue"),
        ("merida-north-american-drug-dialogue", "partner", ID + "country/CA"),
    } <= targets


def test_13_agencies_behind_the_statistics(store: EmbeddedStore) -> None:
    rows = answer(store, "statistics-agencies")
    observed = grouped([row for row in rows if row["observations"] > 0], "agency", "measure")
    measures = {
        agency.removeprefix(ID + "organization/"): {m.removeprefix(KG) for m in found}
        for agency, found in observed.items()
    }
    assert measures == {
        "ondcp": {"poppyCultivationArea", "potentialHeroinProduction"},
        "mx-defense-ministry": {
            "poppyEradicationArea",
            "opiumGumSeizures",
            "heroinSeizures",
            "drugLabsDestroyed",
        },
        "cbp": {"heroinSeizures"},
        "dea": {"shareOfSeizedHeroin"},
        "us-state-department": {"fentanylPillSeizures", "precursorChemicalSeizures"},
        "crs": {"shareOfGlobalPoppyCultivation", "shareOfSeizedHeroin", "programFunding"},
    }
    unodc = [row for row in rows if row["agency"] == ID + "organization/unodc"]
    assert [(row["measure"], row["observations"]) for row in unodc] == [(KG + "poppyCultivationArea", 0)]
    assert unodc[0]["statements"] > 0


def test_14_fentanyl_policies_requested_or_pursued_by_the_united_states(store: EmbeddedStore) -> None:
    rows = answer(store, "fentanyl-policies")
    stances = {
        (
            row["policy"].removeprefix(ID + "policy/"),
            row["actor"],
            row["stanceType"].removeprefix(ID + "stance-type/"),
        )
        for row in rows
    }
    assert stances == {
        ("international-control-of-anpp-and-npp", ID + "country/US", "requests"),
        ("china-scheduling-of-fentanyl-analogues", ID + "country/US", "pursues"),
        ("mexico-cooperation-on-fentanyl-seizures", ID + "country/US", "pursues"),
        ("curbing-the-fentanyl-uptick", ID + "country/US", "pursues"),
    }
    targets = grouped(rows, "policy", "target")
    assert ID + "substance/carfentanil" in targets[ID + "policy/china-scheduling-of-fentanyl-analogues"]
    assert {row["counterpart"] for row in rows if "counterpart" in row} == {
        ID + "country/CN",
        ID + "country/MX",
    }


def test_14_with_opium_poppy_decriminalization_is_proposed_by_advisers_and_likely_opposed(
    store: EmbeddedStore,
) -> None:
    rows = answer(store, "fentanyl-policies", substance=ID + "substance/opium-poppy")
    stances = {(row["actor"], row["stanceType"], row.get("stanceQualifier")) for row in rows}
    # "Some of López Obrador's top advisers have proposed": some of them, not all.
    assert (
        ID + "group/lopez-obrador-advisers",
        ID + "stance-type/proposes",
        ID + "qualifier/some",
    ) in stances
    assert (ID + "group/us-officials", ID + "stance-type/opposes", ID + "qualifier/likely") in stances


def test_15_five_questions_put_to_congress(store: EmbeddedStore) -> None:
    rows = answer(store, "congress-questions")
    questions = {row["question"].removeprefix(ID + "question/") for row in rows}
    assert questions == {
        "us-role-in-foreign-supply-reduction",
        "criminal-competition-and-violence",
        "fentanyl-effect-on-poppy-and-markets",
        "trade-and-immigration-tensions",
        "lopez-obrador-policies",
    }
    concerns = grouped(rows, "question", "item")
    assert {ID + "organization/crime-groups", ID + "country/MX"} <= concerns[
        ID + "question/criminal-competition-and-violence"
    ]
    assert {
        ID + "person/andres-manuel-lopez-obrador",
        ID + "group/lopez-obrador-advisers",
        ID + "policy/decriminalization-of-poppy-cultivation",
    } <= concerns[ID + "question/lopez-obrador-policies"]
    [measure] = [row for row in rows if row["relation"] == KG + "relatedMeasure"]
    assert measure["item"] == ID + "policy/decriminalization-of-poppy-cultivation"
    assert {
        ID + "substance/fentanyl",
        ID + "substance/fentanyl-related-substances",
        ID + "substance/opium-poppy",
    } <= concerns[ID + "question/fentanyl-effect-on-poppy-and-markets"]
    texts = {row["questionText"] for row in rows}
    assert any("record violence in Mexico" in text for text in texts)


def test_16_us_mexico_and_canada_in_the_north_american_drug_dialogue_last_held_1_december_2017(
    store: EmbeddedStore,
) -> None:
    rows = answer(store, "cooperation-forums")
    assert {row["forum"] for row in rows} == {ID + "program/north-american-drug-dialogue"}
    assert {row["government"] for row in rows} == {ID + "country/US", ID + "country/MX", ID + "country/CA"}
    assert {row["lastHeld"] for row in rows} == {"2017-12-01"}
    assert {row["program"] for row in rows} == {ID + "program/merida-initiative"}
    assert "develop common assessments of the opioid threat" in {row["aim"] for row in rows}


def test_17_evidence_quotes_the_report_verbatim_at_its_position(
    store: EmbeddedStore, project_root: Path
) -> None:
    report = next((project_root / "sources").glob("*/text.txt")).read_text("utf-8")
    [row] = [row for row in answer(store, "evidence") if row["role"] == "quote"]
    assert "44,100 hectares of opium poppy were cultivated in Mexico in 2017" in row["exact"]
    assert report[int(row["start"]) : int(row["end"])] == row["exact"]
    assert row["document"] == ID + "document/crs-2018-heroin-fentanyl-mexico"
    assert row["agency"] == ID + "organization/ondcp"
    assert row["agencyLabel"] == "Office of National Drug Control Policy"


def test_17_evidence_names_the_table_and_row_a_fact_was_read_from(store: EmbeddedStore) -> None:
    """A fact mapped from a table's row is shown with that row (its number, its table and the table's
    file, and the report the table gives): the table's provenance was stored and shown nowhere."""
    rows = answer(store, "evidence")
    assert [row["role"] for row in rows] == ["row", "quote"]
    [from_table] = [row for row in rows if row["role"] == "row"]
    table = ID + "table/000_1bdfefaeb44abb70/poppy-cultivation"
    assert (from_table["table"], from_table["tableRow"], from_table["rownum"]) == (
        table,
        table + "/row/2",
        Decimal(2),
    )
    assert from_table["tableFile"] == "poppy-cultivation.csv"
    assert from_table["document"] == ID + "document/crs-2018-heroin-fentanyl-mexico"
    assert from_table["agency"] == ID + "organization/ondcp"
    assert "exact" not in from_table
    # a fact no table gives has no such row
    curated = answer(store, "evidence", fact=ID + "change/swb-heroin-seizures-fy2015-fy2016")
    assert {row["role"] for row in curated} == {"quote", "context"}


def test_17_a_flow_cites_two_excerpts_and_a_background_fact_its_document(store: EmbeddedStore) -> None:
    rows = answer(store, "evidence", fact=ID + "flow/china-mexico-us-fentanyl")
    assert {(row["role"], row["excerpt"]) for row in rows} == {
        ("quote", ID + "excerpt/fentanyl-sources"),
        ("quote", ID + "excerpt/mexico-transshipment"),
    }
    assert {row["agency"] for row in rows} == {ID + "organization/crs"}
    rows = answer(store, "evidence", fact=ID + "organization/incb")
    assert [row.get("role") for row in rows] == [None]
    assert [(row["document"], row.get("exact")) for row in rows] == [(ID + "document/incb-red-list", None)]


def test_17_evidence_shows_the_sentence_that_names_the_agency_beside_the_quote(store: EmbeddedStore) -> None:
    """'Seizures declined in FY2016 ...' names neither CBP nor the border: its context sentence does."""
    rows = answer(store, "evidence", fact=ID + "change/swb-heroin-seizures-fy2015-fy2016")
    assert [(row["role"], row["excerpt"]) for row in rows] == [
        ("quote", ID + "excerpt/swb-seizures-declined"),
        ("context", ID + "excerpt/swb-seizures-doubled"),
    ]
    assert "U.S. Customs and Border Protection" in rows[1]["exact"]
    assert {row["agency"] for row in rows} == {ID + "organization/cbp"}


def _described(store: EmbeddedStore, iri: str) -> set[tuple[str, str, str]]:
    query = CATALOGUE["describe-resource"]
    result = run_query(store, query.text, binding_terms(query.bindings({"resource": iri})))
    assert result.kind == "graph"
    return {(t.subject.value, t.predicate.value, t.object.value) for t in result.triples}


def test_18_everything_about_fentanyl(store: EmbeddedStore) -> None:
    triples = _described(store, ID + "substance/fentanyl")
    fentanyl = ID + "substance/fentanyl"
    assert (fentanyl, KG + "morePotentThan", ID + "substance/heroin") in triples
    assert (fentanyl, KG + "memberOfGroup", ID + "substance/synthetic-opioids") in triples
    assert (ID + "substance/anpp", KG + "precursorOf", fentanyl) in triples
    skos = "http://www.w3.org/2004/02/skos/core#"
    assert (ID + "substance/illicit-fentanyl", skos + "broader", fentanyl) in triples
    assert (ID + "substance/heroin", "http://www.w3.org/2004/02/skos/core#prefLabel", "heroin") in triples
    assert all(fentanyl in (s, o) or p.endswith("label") or p.endswith("prefLabel") for s, p, o in triples)


def test_18_everything_about_an_actor(store: EmbeddedStore) -> None:
    triples = _described(store, ID + "organization/ondcp")
    assert (ID + "organization/ondcp", "http://www.w3.org/2004/02/skos/core#altLabel", "ONDCP") in triples
    assert (
        ID + "observation/mx-poppy-cultivation-2017",
        "http://www.w3.org/ns/prov#wasAttributedTo",
        ID + "organization/ondcp",
    ) in triples


def test_19_estimates_approximations_bounds_and_suspicions(store: EmbeddedStore) -> None:
    rows = answer(store, "qualified-facts")
    qualifiers = grouped(rows, "fact", "qualifier")

    def of(fact: str) -> set[object]:
        return {q.removeprefix(ID + "qualifier/") for q in qualifiers[ID + fact]}

    assert of("observation/merida-initiative-funding-fy2008-fy2018") == {"nearly"}
    assert of("observation/dod-counternarcotics-support-mexico-fy2017") == {"approximate"}
    assert of("observation/mx-share-of-global-poppy-cultivation") == {"less-than"}
    assert of("observation/us-seized-heroin-share-from-mexico-since-2013") == {"majority"}
    assert of("observation/us-hsp-heroin-weight-share-from-mexico") == {"more-than"}
    assert of("observation/mx-potential-heroin-production-2017") == {"estimate", "imprecise"}
    assert of("observation/swb-heroin-seizures-fy2018-to-july") == {"more-than", "partial-period"}
    assert of("change/swb-heroin-seizures-2010-2015") == {"more-than"}
    assert of("flow/us-mexico-fentanyl-precursors") == {"suspected", "possible"}
    assert of("stance/us-officials-oppose-decriminalization") == {"likely"}
    assert of("flow/guatemala-us-heroin") == {"much-lesser-extent"}
    bounds = {(row["fact"], row.get("boundKind")) for row in rows}
    assert (ID + "observation/mx-share-of-global-poppy-cultivation", ID + "bound/upper") in bounds
    assert (ID + "observation/us-hsp-heroin-weight-share-from-mexico", ID + "bound/lower") in bounds
    values = {row["fact"]: row["value"] for row in rows if "value" in row}
    assert values[ID + "observation/merida-initiative-funding-fy2008-fy2018"] == Decimal(2_900_000_000)
    assert values[ID + "observation/mx-share-of-global-poppy-cultivation"] == Decimal(10)
    assert not any(fact.startswith(ID + "observation/mx-poppy-cultivation") for fact in qualifiers)


def test_20_heroin_from_morphine_from_opium_gum_from_poppy_fentanyl_from_anpp_and_npp(
    store: EmbeddedStore,
) -> None:
    rows = answer(store, "production-chains")
    steps = {
        (
            row["input"].removeprefix(ID + "substance/"),
            row["output"].removeprefix(ID + "substance/"),
            row["graph"],
        )
        for row in rows
    }
    data, background = "https://w3id.org/opioid-kg/graph/data", "https://w3id.org/opioid-kg/graph/background"
    assert steps == {
        ("morphine", "heroin", data),
        ("opium-poppy", "heroin", data),
        ("opium-gum", "morphine", background),
        ("opium-poppy", "opium-gum", background),
        ("anpp", "fentanyl", data),
        ("npp", "fentanyl", data),
        ("fentanyl-precursors", "fentanyl", data),
    }
    assert {row["source"] for row in rows if row["graph"] == background} == {
        ID + "document/dea-drugs-of-abuse-2017"
    }
    relations = {row["output"].removeprefix(ID + "substance/"): row["relation"] for row in rows}
    assert relations["heroin"] == KG + "processedInto"  # read from the input: morphine processed into heroin
    assert relations["fentanyl"] == KG + "precursorOf"


def test_21_us_training_helped_seize_2000_fentanyl_pills_and_1_5_kg_of_precursors(
    store: EmbeddedStore,
) -> None:
    rows = answer(store, "us-assisted-seizures")
    assert {(row["measure"].removeprefix(KG), row["value"], row["unit"]) for row in rows} == {
        ("fentanylPillSeizures", Decimal(2000), UNIT + "NUM"),
        ("precursorChemicalSeizures", Decimal("1.5"), UNIT + "KiloGM"),
    }
    for row in rows:
        assert row["periodLabel"] == "2017"
        assert row["location"] == "airports"
        assert row["assistance"] == "U.S. training and equipment"
        assert row["seizedBy"] == ID + "group/mexican-officials"
        assert row["agency"] == ID + "organization/us-state-department"


def test_22_sinaloa_and_guerrero_crime_groups_and_kingpins_tied_to_violence(store: EmbeddedStore) -> None:
    rows = answer(store, "violence-competition")
    heroin = [row for row in rows if row["substance"] == ID + "substance/heroin"]
    assert {row["placeLabel"] for row in heroin} == {"Sinaloa", "Guerrero"}
    assert {row["actor"] for row in heroin} == {ID + "organization/crime-groups"}
    assert {row["cause"] for row in heroin} == {"crime groups vie for control of heroin production"}
    actors = {row["actor"] for row in rows}
    assert {ID + "group/drug-kingpins", ID + "group/mexican-farmers"} <= actors


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_question_has_an_answer(library_built, name: str) -> None:
    """No catalogue question comes back empty on the built library (the report and a test fixture
    that disagrees with it: the one report alone has nothing to disagree with)."""
    query = CATALOGUE[name]
    result = run_query(library_built.store(), query.text, binding_terms(query.bindings({})), source=name)
    assert result.rows or result.triples or result.boolean
