"""In front of a remote store, a client's query may name only the predicates the dataset holds or
declares: stores run code under a predicate's IRI (Jena's property functions, `java:` class names among
them; Virtuoso's `bif:contains`), which neither the guard nor Oxigraph's plan knows."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from foreign_predicates import ADMITTED, FOREIGN, HELD, NOT_HELD, PREDICATES, RDF, forms
from jena import jena_classpath, needs_jena

from kg.server import guard
from kg.server.config import DEFAULT_MAX_NESTING, DEFAULT_MAX_QUERY_LENGTH

PROJECT = Path(__file__).resolve().parents[2]
GRAPHS = frozenset({"https://w3id.org/opioid-kg/graph/data"})
SPLIT = "http://jena.apache.org/ARQ/property#splitIRI"  # a property function of Jena's ARQ
JAVA_SPLIT = "java:org.apache.jena.sparql.pfunction.library.splitIRI"  # the same, loaded by class name


def refused(text: str, predicates: frozenset[str] | None = PREDICATES) -> guard.Refused | None:
    try:
        guard.read(guard.precheck(text, DEFAULT_MAX_QUERY_LENGTH, DEFAULT_MAX_NESTING), GRAPHS, predicates)
    except guard.Refused as refusal:
        return refusal
    return None


@needs_jena
def test_jena_runs_code_named_by_a_predicate_and_the_guard_refuses_it(tmp_path: Path) -> None:
    """On an empty dataset, Jena's `arq` binds both variables of each query: the predicate ran as code.
    The guard refuses both texts, naming the predicate."""
    empty = tmp_path / "empty.nt"
    empty.write_text("")
    for predicate in (SPLIT, JAVA_SPLIT):
        text = f"SELECT * WHERE {{ <http://example.org/ns#local> <{predicate}> (?namespace ?local) }}"
        query = tmp_path / "query.rq"
        query.write_text(text)
        ran = subprocess.run(
            ["java", "-cp", jena_classpath(tmp_path), "arq.arq", "--data", str(empty), "--query", str(query)]
            + ["--results", "csv"],
            capture_output=True,
            check=True,
            timeout=120,
        )
        assert ran.stdout.decode().splitlines()[1:] == ["http://example.org/ns#,local"], ran.stdout
        refusal = refused(text)
        assert refusal is not None and NOT_HELD in refusal.message and predicate in refusal.message, text


@pytest.mark.parametrize("pattern", FOREIGN)
def test_a_predicate_the_dataset_does_not_hold_is_refused_wherever_it_stands(pattern: str) -> None:
    for text in forms(pattern):
        refusal = refused(text)
        assert refusal is not None and NOT_HELD in refusal.message, text
        assert refused(text, None) is None, text  # the embedded store: any predicate


@pytest.mark.parametrize(
    "text",
    [
        "CONSTRUCT WHERE { ?s <urn:p> ?o }",
        "DESCRIBE ?s WHERE { ?s <urn:p> ?o }",
        "SELECT (COUNT(*) AS ?n) { ?s ?x ?o } HAVING (EXISTS { ?s <urn:p> ?o })",
        "SELECT ?s { ?s ?x ?o } ORDER BY (EXISTS { ?s <urn:p> ?o })",
        # however the IRI is written: under either declaration of a prefix declared twice, or against a BASE
        f"PREFIX p: <{HELD}>\nPREFIX p: <{SPLIT}>\nSELECT * {{ ?s p: ?o }}",
        f"PREFIX p: <{SPLIT}>\nPREFIX p: <{HELD}>\nSELECT * {{ ?s p: ?o }}",
        "BASE <http://jena.apache.org/ARQ/property#>\nSELECT * { <http://a/b#c> <splitIRI> (?n ?l) }",
        "BASE <http://www.w3.org/2004/02/skos/core>\nSELECT * { ?s <#prefLabel> ?o }",
    ],
)
def test_a_predicate_is_checked_in_every_form_and_spelling(text: str) -> None:
    refusal = refused(text)
    assert refusal is not None and NOT_HELD in refusal.message, text


def test_predicates_the_dataset_holds_and_templates_are_admitted() -> None:
    for text in ADMITTED:
        assert refused(text) is None, text


def test_an_inverse_in_a_negated_property_set_is_refused() -> None:
    """rdflib's parser keeps no IRI for `^<p>` inside `!( … )`, so the guard cannot see it; the store
    behind would read it. The same pattern written the other way round is checked."""
    for text in (f"SELECT * {{ ?s !(<{HELD}>|^<urn:p>) ?o }}", f"SELECT * {{ ?s !^<{HELD}> ?o }}"):
        refusal = refused(text)
        assert refusal is not None and "cannot be checked" in refusal.message, text


def test_a_collection_s_own_predicates_are_predicates_too() -> None:
    refusal = refused("SELECT * { ?s ?p (1 2) }", frozenset({HELD}))
    assert refusal is not None and RDF + "first" in refusal.message


def test_every_catalogue_question_names_only_predicates_the_built_dataset_holds(built) -> None:
    """The predicates a remote store answers with (`kg.server.services.Services.predicates`) admit every
    question of the catalogue; asked of the built store here, as the server asks a remote one."""
    from kg.query.internal import ask

    predicates = frozenset(row["predicate"].value for row in ask(built.store(), "predicates").rows)
    assert HELD in predicates and SPLIT not in predicates
    for file in sorted((PROJECT / "queries").glob("*.rq")):
        refusal = refused(file.read_text(encoding="utf-8"), predicates)
        assert refusal is None, (file.name, refusal.message if refusal else "")
