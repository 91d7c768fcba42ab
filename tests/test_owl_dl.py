"""The published ontology is OWL 2 DL: owlready2 loads it and its imports offline; HermiT reasons on it."""

from __future__ import annotations

import shutil
from pathlib import Path

import owlready2
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

PROJECT = Path(__file__).resolve().parent.parent
REUSED = PROJECT / "ontology" / "reused"
PROV_O = URIRef("http://www.w3.org/ns/prov-o-20130430")
ONTOLOGY = URIRef("https://w3id.org/opioid-kg/ontology")
RESERVED = (str(RDF), str(RDFS), str(OWL), str(XSD))

# The OWL 2 datatype map (OWL 2 Structural Specification, section 4), with rdf:langString.
OWL2_DATATYPES = {RDFS.Literal, RDF.PlainLiteral, RDF.XMLLiteral, RDF.langString, OWL.real, OWL.rational} | {
    XSD[name]
    for name in (
        "decimal integer nonNegativeInteger nonPositiveInteger positiveInteger negativeInteger long int "
        "short byte unsignedLong unsignedInt unsignedShort unsignedByte double float string normalizedString "
        "token language Name NCName NMTOKEN boolean hexBinary base64Binary anyURI dateTime dateTimeStamp"
    ).split()
}


@pytest.fixture(scope="module")
def ontology(built) -> Graph:
    return Graph().parse(built.dist / "graphs" / "ontology.ttl")


@pytest.fixture(scope="module")
def loaded(ontology: Graph, tmp_path_factory: pytest.TempPathFactory):
    """The published ontology in a fresh owlready2 world, its imports found in ontology/reused/ only."""
    folder = tmp_path_factory.mktemp("owl")
    ontology.serialize(folder / "opioid-kg.owl", format="xml")
    for kept in REUSED.glob("*.owl"):
        shutil.copy(kept, folder)
    owlready2.onto_path.insert(0, str(folder))
    try:
        world = owlready2.World()
        yield world, world.get_ontology((folder / "opioid-kg.owl").as_uri()).load(only_local=True)
    finally:
        owlready2.onto_path.remove(str(folder))


def test_no_reserved_vocabulary_is_used_as_a_class(ontology: Graph) -> None:
    misuse = sorted(
        (s, o)
        for s, o in ontology.subject_objects(RDFS.subClassOf)
        if isinstance(o, URIRef) and str(o).startswith(RESERVED) and o != OWL.Thing
    )
    assert not misuse, f"reserved vocabulary as a superclass: {misuse}"


def test_ranges_stay_within_the_owl2_datatype_map(ontology: Graph) -> None:
    outside = sorted(
        (p, r)
        for p, r in ontology.subject_objects(RDFS.range)
        if str(r).startswith(str(XSD)) and r not in OWL2_DATATYPES
    )
    assert not outside, f"ranges outside the OWL 2 datatype map: {outside}"


def test_the_ontology_imports_prov_o_kept_offline(ontology: Graph) -> None:
    assert (ONTOLOGY, OWL.imports, PROV_O) in ontology
    kept = Graph().parse(REUSED / "prov-o-20130430.owl", format="xml")
    assert (None, OWL.versionIRI, PROV_O) in kept


def test_owlready2_loads_the_ontology_and_its_imports(loaded) -> None:
    world, ontology = loaded
    assert [o.base_iri for o in ontology.imported_ontologies] == ["http://www.w3.org/ns/prov-o#"]
    assert world["https://w3id.org/opioid-kg/ontology#Program"] is not None
    plan = world["http://www.w3.org/ns/prov#Plan"]
    assert plan in world["https://w3id.org/opioid-kg/ontology#Program"].is_a


@pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs Java, and no java is on the PATH")
def test_hermit_finds_the_ontology_consistent(loaded) -> None:
    world, ontology = loaded
    with ontology:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    assert list(world.inconsistent_classes()) == []
