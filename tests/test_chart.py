"""Charts of the statistics: axes with units, estimates marked, the agency and the report in the caption."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner
from PIL import Image
from rdflib import RDF, SKOS, Dataset, URIRef

from kg.charts import series
from kg.cli import main
from kg.namespaces import KG, QB

SVG = "{http://www.w3.org/2000/svg}"


def chart(built, tmp_path: Path, fmt: str, *args: str) -> Path:
    output = tmp_path / f"chart.{fmt}"
    command = ["chart", *args, "--format", fmt, "-o", str(output), "--store", str(built.store_path)]
    result = CliRunner().invoke(main, command, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return output


def texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def test_potential_heroin_production_is_marked_as_an_estimate(built, tmp_path: Path) -> None:
    text = texts(chart(built, tmp_path, "svg", "potentialHeroinProduction", "--area", "MX"))
    assert "Metric tons" in text
    assert "2016" in text and "2017" in text
    assert any(t.startswith("111 t (") and "estimate" in t for t in text)
    assert "estimate" in text
    caption = " ".join(
        text[next(i for i, t in enumerate(text) if "The report states" in t or "Source:" in t) :]
    )
    assert "ONDCP" in caption and "Congressional Research Service" in caption
    assert "Hollow markers are estimates" in caption


def test_cultivation_against_eradication_shares_one_axis_in_hectares(built, tmp_path: Path) -> None:
    text = texts(
        chart(built, tmp_path, "svg", "poppy-cultivation-area", "poppyEradicationArea", "--area", "MX")
    )
    assert text.count("Hectares") == 1
    assert {"44,100 ha", "32,000 ha", "28,750 ha", "22,235 ha"} <= set(text)
    caption = " ".join(
        text[next(i for i, t in enumerate(text) if "The report states" in t or "Source:" in t) :]
    )
    # The ministry is named as the report names it where it gives its data ("Mexican defense ministry").
    assert "ONDCP" in caption and "Mexican defense ministry" in caption
    assert "estimate" not in text


def test_seizures_and_labs_destroyed_get_two_axes_as_a_png(built, tmp_path: Path) -> None:
    data = chart(built, tmp_path, "png", "heroinSeizures", "drugLabsDestroyed", "--area", "MX").read_bytes()
    image = Image.open(io.BytesIO(data))
    image.verify()
    assert image.format == "PNG"
    svg = texts(chart(built, tmp_path, "svg", "heroinSeizures", "drugLabsDestroyed", "--area", "MX"))
    assert "Kilograms" in svg and "Number" in svg
    assert {"2015", "2016", "2017"} <= set(svg)


def test_axis_numbers_are_written_out_without_an_offset(built, tmp_path: Path) -> None:
    """matplotlib labelled the funding axis 0.5 … 3.5 with '1e9' above it: a reader saw 3.5 dollars."""
    text = texts(chart(built, tmp_path, "svg", "programFunding"))
    assert not [t for t in text if "1e" in t]
    assert "$1 billion" in text and "$0" in text
    hectares = texts(chart(built, tmp_path, "svg", "poppyCultivationArea", "--area", "MX"))
    assert not [t for t in hectares if "1e" in t]
    assert "40,000" in hectares  # a tick, thousands separated as the values beside the points


def test_a_series_holds_observations_alike_in_every_dimension_but_the_period(store, dataset: Dataset) -> None:
    """A series was keyed by its measure and area only: the share of seized heroin from Mexico was
    titled as the United States' share, and the Mérida Initiative and DOD support were one line. Each
    series now holds observations alike in every dimension the ontology declares but the period, and
    its name says each one beyond the measure."""
    dimensions = set(dataset.subjects(RDF.type, QB.DimensionProperty)) - {KG.refPeriod}
    assert {KG.originArea, KG.program} <= dimensions
    named = set()
    for measure in series.measures(store):
        for one in series.time_series(store, measure):
            alike = {
                frozenset((p, o) for p in dimensions for o in dataset.objects(URIRef(point.observation), p))
                for point in one.points
            }
            assert len(alike) == 1, (measure.key, one.label, alike)
            for dimension, value in next(iter(alike)):
                if dimension not in (QB.measureType, KG.refArea):
                    assert str(dataset.value(value, SKOS.prefLabel)) in one.label, (one.label, value)
                    named.add(dimension)
    assert {KG.originArea, KG.program} <= named


def test_a_stated_change_writes_its_numbers_in_full() -> None:
    """A change's factor and percentage went through "%g": six digits at most, and an exponent past them
    ("rose 1.23457e+06%", "rose 1e-07%")."""
    row = {"direction": "https://w3id.org/opioid-kg/id/direction/increase", "fromLabel": "2016"}
    assert series.change_words({**row, "percent": "1234567"}, set()) == "rose 1,234,567%, 2016"
    assert series.change_words({**row, "percent": "0.0000001"}, set()) == "rose 0.0000001%, 2016"
    assert series.change_words({**row, "percent": "37.5"}, set()) == "rose 37.5%, 2016"
    assert series.change_words({**row, "factor": "1234567.5"}, set()) == "grew 1,234,567.5-fold, 2016"
    assert series.change_words({**row, "factor": "2"}, set()) == "doubled, 2016"


def test_a_value_no_reader_writes_in_words_is_written_as_the_graph_gives_it() -> None:
    """A value of 1e40 dollars made the money's rounding raise, and so the chart, its words and the charts
    page: it is written as given, as answer pages write such a number."""
    from datetime import date

    from kg.charts.chart import axis_numbers, value_words

    point = series.Point("obs", 1e40, "2017", date(2017, 1, 1), date(2017, 12, 31), "U.S. dollars")
    assert value_words(point, "U.S. dollars") == "1e+40 U.S. dollars"
    assert axis_numbers("U.S. dollars")(1e40) == "1e+40"
    assert axis_numbers("U.S. dollars")(5e8) == "$500 million"


AREA_CHANGE = """
change:mx-funding-2016-2017 a kg:StatedChange ;
    rdfs:label "Increase in programme funding, Mexico, 2016 to 2017"@en ;
    kg:measure kg:programFunding ; kg:refArea country:MX ; kg:fromPeriod period:fy2016 ;
    kg:toPeriod period:fy2017 ; kg:direction direction:increase ;
    prov:wasAttributedTo organization:crs ; prov:wasDerivedFrom excerpt:merida-funding .
"""


def test_a_change_of_an_area_whose_series_all_name_another_dimension_is_still_said(
    project_copy: Path, tmp_path: Path
) -> None:
    """Once series were told apart by every dimension, a change stated of Mexico's programme funding as
    a whole had no series of Mexico alone to go with, and was dropped from the chart without a word."""
    changes = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "changes.ttl"
    changes.write_text(changes.read_text(encoding="utf-8") + AREA_CHANGE, encoding="utf-8")
    built = CliRunner().invoke(main, ["--project", str(project_copy), "build"], catch_exceptions=False)
    assert built.exit_code == 0, built.output
    output = tmp_path / "funding.svg"
    command = [
        "--project",
        str(project_copy),
        "chart",
        "programFunding",
        "--format",
        "svg",
        "-o",
        str(output),
    ]
    drawn = CliRunner().invoke(main, command, catch_exceptions=False)
    assert drawn.exit_code == 0, drawn.output
    assert "The report states: Mexico: rose, FY2016 to FY2017." in output.read_text("utf-8")  # its caption
    from kg.charts.chart import describe
    from kg.store.embedded import EmbeddedStore

    store = EmbeddedStore(project_copy / ".kg" / "store")
    [funding] = series.resolve_measures(store, ["programFunding"])
    words = describe(series.time_series(store, funding))
    assert "The report states of Mexico as a whole: rose, FY2016 to FY2017." in words, words
