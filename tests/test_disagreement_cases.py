"""`source-disagreements` on small hand-written libraries, asked of Oxigraph, rdflib and (where it is
installed) Apache Jena: the rules its comments state, at the edges where arithmetic in doubles or an
engine's own lexical forms would decide instead of the numbers.

Each case is two observations of one cell (measure, area, period, unit) from two sources; a value is
written as its lexical form and datatype, a qualifier by its name.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest
from jena import jena_classpath, needs_jena
from rdflib import Dataset

from kg.query.catalogue import load_catalogue
from kg.query.run import run_query
from kg.store.embedded import EmbeddedStore

PROJECT = Path(__file__).resolve().parent.parent
QUERY = load_catalogue(PROJECT / "queries")["source-disagreements"].text
ID = "https://w3id.org/opioid-kg/id/"
KG = "https://w3id.org/opioid-kg/ontology#"
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
XSD = "http://www.w3.org/2001/XMLSchema#"
DATA = ox.NamedNode("https://w3id.org/opioid-kg/graph/data")
BOUNDS = f"""
<{ID}qualifier/more-than> <{KG}boundKind> <{ID}bound/lower> .
<{ID}qualifier/majority> <{KG}boundKind> <{ID}bound/lower> .
<{ID}qualifier/less-than> <{KG}boundKind> <{ID}bound/upper> .
<{ID}qualifier/nearly> <{KG}boundKind> <{ID}bound/upper> .
"""
Given = tuple[str, str, str | None]  # lexical form, XSD datatype, qualifier


def _observation(case: str, number: int, given: Given) -> str:
    """The N-Triples of one observation of Mexico's 2017 cultivation, from source `number` and its
    excerpt."""
    lexical, datatype, qualifier = given
    observation, excerpt = f"<{ID}observation/{case}-{number}>", f"<{ID}excerpt/{case}-{number}>"
    lines = [
        f"{observation} {TYPE} <http://purl.org/linked-data/cube#Observation> .",
        f"{observation} <http://purl.org/linked-data/cube#measureType> <{KG}poppyCultivationArea> .",
        f'{observation} <{KG}poppyCultivationArea> "{lexical}"^^<{XSD}{datatype}> .',
        f"{observation} <{KG}refArea> <{ID}country/MX> .",
        f"{observation} <{KG}refPeriod> <{ID}period/2017> .",
        f"{observation} <{KG}unit> <http://qudt.org/vocab/unit/HA> .",
        f"{observation} <http://www.w3.org/ns/prov#wasAttributedTo> <{ID}organization/agency-{number}> .",
        f"{observation} <http://www.w3.org/ns/prov#wasDerivedFrom> {excerpt} .",
        f"{excerpt} {TYPE} <{KG}Excerpt> .",
        f"{excerpt} <http://www.w3.org/ns/oa#hasSource> <{ID}document/source-{number}> .",
        f"{excerpt} <http://www.w3.org/ns/oa#hasSelector> {excerpt[:-1]}-quote> .",
        f'{excerpt[:-1]}-quote> <http://www.w3.org/ns/oa#exact> "source {number} gives {lexical}" .',
    ]
    if qualifier:
        lines.append(f"{observation} <{KG}qualifier> <{ID}qualifier/{qualifier}> .")
    return "\n".join(lines) + "\n"


def _library(case: str, one: Given, other: Given) -> str:
    return BOUNDS + _observation(case, 1, one) + _observation(case, 2, other)


def _oxigraph(ntriples: str, folder: Path) -> list[tuple[str, str]]:
    """The answer of the store on disk, as `kg query` reads it, holding `ntriples`."""
    path = folder / "store"
    if not path.exists():
        written = ox.Store(str(path))
        written.load(ntriples.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES, to_graph=DATA)
        written.flush()
        del written
    rows = run_query(EmbeddedStore(path), QUERY, source="source-disagreements").rows
    return [(row["observation"].value, row["value"].value) for row in rows]


def _rdflib(ntriples: str) -> list[tuple[str, str]]:
    dataset = Dataset(default_union=True)
    dataset.parse(data=ntriples, format="nt")
    return [(str(row["observation"]), str(row["value"])) for row in dataset.query(QUERY)]


def _jena(ntriples: str, work: Path) -> list[tuple[str, str]]:
    (work / "data.nt").write_text(ntriples, "utf-8")
    (work / "query.rq").write_text(QUERY, "utf-8")
    arq = ["java", "-cp", jena_classpath(work), "arq.arq", "--data", str(work / "data.nt")]
    ran = subprocess.run(
        [*arq, "--query", str(work / "query.rq"), "--results", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    rows = json.loads(ran.stdout)["results"]["bindings"]
    return [(row["observation"]["value"], row["value"]["value"]) for row in rows]


# (the first source's value, the other's, whether they disagree)
CASES: dict[str, tuple[Given, Given, bool]] = {
    # "about 2.9" is 2.85 to 2.95, and a value equal to an end meets it; 2.9 + 0.05 is
    # 2.9499999999999997 in doubles, which put 2.95 outside.
    "about-2.9-meets-2.95": (("2.9", "decimal", "approximate"), ("2.95", "decimal", None), False),
    "about-4.4-meets-4.35": (("4.4", "decimal", "approximate"), ("4.35", "decimal", None), False),
    "about-0.05-meets-0.045": (("0.05", "decimal", "approximate"), ("0.045", "decimal", None), False),
    "about-2.9-meets-about-3.0": (
        ("2.9", "decimal", "approximate"),
        ("3.0", "decimal", "approximate"),
        False,
    ),
    "about-2.9-misses-2.96": (("2.9", "decimal", "approximate"), ("2.96", "decimal", None), True),
    "about-4.4-misses-4.34": (("4.4", "decimal", "approximate"), ("4.34", "decimal", None), True),
    "more-than-2.9-meets-2.9": (("2.9", "decimal", "more-than"), ("2.9", "decimal", None), False),
    "less-than-0.3-misses-0.31": (("0.3", "decimal", "less-than"), ("0.31", "decimal", None), True),
    # one number, whatever its datatype or lexical form
    "44100-is-44100.0": (("44100", "integer", None), ("44100.0", "decimal", None), False),
    "0.1-is-0.10": (("0.1", "decimal", None), ("0.10", "decimal", None), False),
    "44100-is-not-44100.5": (("44100", "integer", None), ("44100.5", "decimal", None), True),
}


@pytest.mark.parametrize("case", CASES)
def test_a_range_or_bound_and_a_value_at_its_end_agree_on_oxigraph_and_rdflib(
    case: str, tmp_path: Path
) -> None:
    one, other, disagree = CASES[case]
    library = _library(case, one, other)
    expected = {f"{ID}observation/{case}-1", f"{ID}observation/{case}-2"} if disagree else set()
    assert {observation for observation, _ in _oxigraph(library, tmp_path)} == expected
    assert {observation for observation, _ in _rdflib(library)} == expected


@needs_jena
def test_jena_reads_every_case_as_the_embedded_store_does(tmp_path: Path) -> None:
    """All the cases in one run of Jena's `arq` each (its start-up is most of its time)."""
    for case, (one, other, disagree) in CASES.items():
        library = _library(case, one, other)
        work = tmp_path / case
        work.mkdir()
        assert sorted(_jena(library, work)) == sorted(_oxigraph(library, work)), case
        assert bool(_oxigraph(library, work)) == disagree, case
