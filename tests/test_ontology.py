"""The ontology is sound: every term labelled and defined, every used term declared, no OWL 2 RL clash."""

from __future__ import annotations

from pathlib import Path

import owlrl
import pytest
from owlrl.Namespaces import ERRNS
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, PROV, RDF, RDFS, SKOS

from kg.build.checks import named
from kg.build.pipeline import DATA_GRAPHS, merged
from kg.build.project import input_files, load_project
from kg.build.streaming import load_files
from kg.build.vocabulary import declared_terms, undeclared_terms


@pytest.fixture(scope="module")
def project(project_root):
    return load_project(project_root)


@pytest.fixture(scope="module")
def project_store(project_root):
    return load_files(input_files(project_root))


def test_every_declared_term_has_an_english_label_and_definition(project, project_store) -> None:
    ontology = project.graphs["ontology"]
    terms = declared_terms(project_store, named("ontology"))
    assert len(terms) > 150
    unlabelled = [
        t for t in terms if not any(lbl.language == "en" for lbl in ontology.objects(t, RDFS.label))
    ]
    undefined = [
        t for t in terms if not any(d.language == "en" for d in ontology.objects(t, SKOS.definition))
    ]
    assert not unlabelled, f"terms without an English rdfs:label: {sorted(unlabelled)}"
    assert not undefined, f"terms without an English skos:definition: {sorted(undefined)}"


def test_every_concept_is_labelled_and_defined(project) -> None:
    ontology = project.graphs["ontology"]
    concepts = set(ontology.subjects(SKOS.inScheme, None))
    assert len(concepts) > 20
    for concept in concepts:
        assert ontology.value(concept, SKOS.prefLabel) is not None, concept
        assert ontology.value(concept, SKOS.definition) is not None, concept


def test_no_term_used_in_the_graph_is_undeclared(project_store) -> None:
    graphs = [named(name) for name in DATA_GRAPHS]
    assert undeclared_terms(project_store, graphs, named("ontology")) == []


def test_every_property_is_used_as_its_kind_says(project) -> None:
    """An object property takes things, a datatype property values, wherever the data uses them: a
    report's `dcterms:language` was the string "en" where DCMI ranges it over linguistic systems (now
    the ISO 639-1 IRI, an object property), and a table's `csvw:url` a string where CSVW ranges it over
    xsd:anyURI. A literal under an object property, or a thing under a datatype property, is an OWL 2
    DL error every reasoner reports."""
    ontology = project.graphs["ontology"]
    data = merged(project, DATA_GRAPHS)
    objects = set(ontology.subjects(RDF.type, OWL.ObjectProperty))
    values = set(ontology.subjects(RDF.type, OWL.DatatypeProperty))
    assert URIRef("http://purl.org/dc/terms/language") in objects
    misused = sorted(
        (str(p), str(o))
        for _, p, o in data
        if (p in objects and isinstance(o, Literal)) or (p in values and not isinstance(o, Literal))
    )
    assert not misused, misused[:10]


def test_own_properties_have_domains_or_ranges(project) -> None:
    ontology = project.graphs["ontology"]
    own = [
        p
        for kind in (OWL.ObjectProperty, OWL.DatatypeProperty)
        for p in ontology.subjects(RDF.type, kind)
        if str(p).startswith("https://w3id.org/opioid-kg/")
    ]
    assert len(own) > 80
    loose = [
        p for p in own if ontology.value(p, RDFS.domain) is None and ontology.value(p, RDFS.range) is None
    ]
    assert not loose, f"properties with neither domain nor range: {sorted(loose)}"


# OWL 2 DL's typing constraints (Structural Specification, 5.8.1): an IRI is of at most one of these.
PROPERTY_KINDS = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


def test_own_terms_keep_owl2_dl_typing_and_prov_o_breaks_it_as_the_docs_say(project, project_root) -> None:
    """The ontology's own terms are of one kind each; PROV-O's published file declares two properties
    annotation and object properties both, as docs/model.md says (it once called the import OWL 2 DL)."""
    ontology = project.graphs["ontology"]
    own = {
        s
        for s in ontology.subjects()
        if isinstance(s, URIRef) and str(s).startswith("https://w3id.org/opioid-kg/")
    }
    twice = sorted(
        str(term)
        for term in own
        if sum((term, RDF.type, kind) in ontology for kind in (OWL.Class, *PROPERTY_KINDS)) > 1
    )
    assert not twice, twice
    prov_o = Graph().parse(project_root / "ontology" / "reused" / "prov-o-20130430.owl")
    punned = {
        term
        for term in prov_o.subjects(RDF.type, OWL.AnnotationProperty)
        if (term, RDF.type, OWL.ObjectProperty) in prov_o
    }
    assert punned == {PROV.wasRevisionOf, PROV.specializationOf}


def test_classes_align_to_reused_vocabularies(project) -> None:
    ontology = project.graphs["ontology"]
    kg = "https://w3id.org/opioid-kg/ontology#"
    expected = {
        "Substance": "http://www.w3.org/2004/02/skos/core#Concept",
        "GovernmentAgency": "http://www.w3.org/ns/org#Organization",
        "Program": "http://www.w3.org/ns/prov#Plan",
        "Excerpt": "http://www.w3.org/ns/oa#SpecificResource",
        "FiscalYear": "http://www.w3.org/2006/time#ProperInterval",
        "Measure": "http://purl.org/linked-data/cube#MeasureProperty",
        "Report": "https://schema.org/Report",
    }
    for local, parent in expected.items():
        assert (URIRef(kg + local), RDFS.subClassOf, URIRef(parent)) in ontology, local


PROV_O = Path(__file__).resolve().parent.parent / "ontology" / "reused" / "prov-o-20130430.owl"


def owl_rl_clashes(graph: Graph) -> list[str]:
    """Expand `graph` by the OWL 2 RL rules (in place) and return owlrl's inconsistency messages."""
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    messages = [str(m) for m in graph.objects(None, ERRNS.error)]
    messages += [f"{s} is an owl:Nothing" for s in graph.subjects(RDF.type, OWL.Nothing)]
    return sorted(messages)


def test_the_clash_check_sees_a_prov_disjointness_violation() -> None:
    graph = Graph().parse(PROV_O, format="xml")
    thing = URIRef("https://example.org/both")
    graph.add((thing, RDF.type, PROV.Activity))
    graph.add((thing, PROV.wasDerivedFrom, URIRef("https://example.org/source")))
    clashes = owl_rl_clashes(graph)
    assert len(clashes) == 1 and "Disjoint classes" in clashes[0] and str(thing) in clashes[0]


def test_owl_rl_closure_with_prov_o_axioms_is_consistent(project) -> None:
    """The data with the ontology and PROV-O's own axioms: no clash, disjointness included."""
    graph = Graph().parse(PROV_O, format="xml")
    graph += merged(project, ("ontology", *DATA_GRAPHS))
    before = len(graph)
    clashes = owl_rl_clashes(graph)
    assert len(graph) > before, "the closure inferred nothing, so it did not run"
    assert not clashes, "OWL 2 RL inconsistencies:\n" + "\n".join(clashes)


def test_the_ontology_and_the_dataset_name_one_licence(project_root: Path) -> None:
    """The ontology named https://opensource.org/licenses/MIT and the dataset's description
    https://spdx.org/licenses/MIT: two IRIs a harvester took for two licences."""
    from rdflib.namespace import DCTERMS

    from kg.store.description import LICENCE

    ontology = Graph().parse(project_root / "ontology" / "opioid-kg.ttl")
    assert {str(licence) for licence in ontology.objects(None, DCTERMS.license)} == {LICENCE}
