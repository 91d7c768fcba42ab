"""Every catalogue query, public, internal or the build's (its SHACL validators too), gives the same
answer on rdflib's own SPARQL engine and on the embedded store.

rdflib reads the built canonical N-Quads into a Dataset whose default graph is the
union of the named graphs, as the store's is; parameters are joined in as VALUES blocks
on both sides, the same text `kg query` asks (a question may write a parameter into
blocks of its own, which rdflib's initBindings would leave empty). Answers are
compared as multisets of rows whose terms are compared by value, or as isomorphic
graphs.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from answers import same_answer, same_graph
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.term import Identifier

from kg.build.queries import build_queries, shacl_queries
from kg.query.catalogue import NamedQuery, load_catalogue
from kg.query.internal import internal_queries
from kg.query.run import QueryResult, run_query
from kg.server.api import with_defaults
from kg.store.description import QUERIES as DESCRIPTION_QUERIES
from kg.store.embedded import EmbeddedStore
from kg.store.queryfiles import binding_terms, is_several, packaged_queries

PROJECT = Path(__file__).resolve().parent.parent
PUBLIC = load_catalogue(PROJECT / "queries")
# The SHACL validators run as written, `$PATH` a variable (any predicate), on their default targets.
SHACL = {f"shacl/{name}": query for name, query in shacl_queries().items()}
CATALOGUE = {
    **PUBLIC,
    **internal_queries(),
    **build_queries(),
    **packaged_queries(DESCRIPTION_QUERIES),
    **SHACL,
}
# The graph has no hierarchical code list, so the Data Cube checks' questions about them answer nothing.
EMPTY_ON_THIS_GRAPH = {"hierarchy-properties", "inverse-hierarchy-properties"}
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {
    XSD + name
    for name in (
        "decimal",
        "integer",
        "double",
        "float",
        "nonNegativeInteger",
        "positiveInteger",
        "long",
        "int",
    )
}

Term = tuple[object, ...]


def _cases() -> list[tuple[str, dict[str, str]]]:
    """Each query with its defaults, and once more for every other allowed value of a parameter."""
    cases: list[tuple[str, dict[str, str]]] = []
    for name, query in sorted(CATALOGUE.items()):
        cases.append((name, {}))
        for parameter in query.parameters:
            cases += [
                (name, {parameter.name: value}) for value in parameter.enum if value != parameter.default
            ]
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def store(library_built) -> EmbeddedStore:
    """The library of two sources (the report and a test fixture), so that questions across sources
    have answers to compare too."""
    return library_built.store()


@pytest.fixture(scope="module")
def dataset(library_built) -> Dataset:
    """The built dataset in rdflib's memory store, the default graph being the union of the named ones."""
    loaded = Dataset(default_union=True)
    loaded.parse(library_built.dist / "opioid-kg.nq", format="nquads")
    return loaded


def _value(lexical: str, datatype: str | None, language: str | None) -> Term:
    """A literal by value: numbers as Decimal whatever their lexical form, others by lexical form."""
    if datatype in NUMERIC:
        return ("literal", Decimal(lexical), "numeric", None)
    if datatype == XSD + "boolean":
        return ("literal", lexical in ("true", "1"), datatype, None)
    if language:
        return ("literal", lexical, None, language.lower())
    return ("literal", lexical, datatype or XSD + "string", None)


def oxigraph_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> Term | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("blank",)
    return _value(term.value, term.datatype.value, term.language)


def rdflib_term(term: Identifier | None) -> Term | None:
    if term is None:
        return None
    if isinstance(term, URIRef):
        return ("iri", str(term))
    if isinstance(term, BNode):
        return ("blank",)
    assert isinstance(term, Literal)
    return _value(str(term), str(term.datatype) if term.datatype else None, term.language)


def rdflib_bindings(query: NamedQuery, given: dict[str, str]) -> dict[str, Identifier]:
    """The same typed parameter values as the store gets, as rdflib terms (lists are bound as VALUES)."""
    bindings: dict[str, Identifier] = {}
    for name, value in query.bindings(given).items():
        if is_several(value):
            continue
        kind, lexical, datatype = value
        bindings[name] = URIRef(lexical) if kind == "iri" else Literal(lexical, datatype=datatype)
    return bindings


def rdflib_text(query: NamedQuery, given: dict[str, str]) -> str:
    """The query with its parameters joined in as VALUES, as the embedded store does."""
    return query.standalone(given)


def oxigraph_graph(triples: list[ox.Triple]) -> Graph:
    graph = Graph()
    graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"", format="nt")
    return graph


# rdflib's own evaluation of GRAPH ?g calls its deprecated Dataset.contexts.
@pytest.mark.filterwarnings("ignore:Dataset.contexts is deprecated:DeprecationWarning")
@pytest.mark.parametrize(
    ("name", "given"), CASES, ids=[f"{n}-{'-'.join(g.values()) or 'defaults'}" for n, g in CASES]
)
def test_same_answer_on_rdflib_and_on_the_embedded_store(
    store: EmbeddedStore, dataset: Dataset, name: str, given: dict[str, str]
) -> None:
    query = CATALOGUE[name]
    embedded = run_query(store, query.text, binding_terms(query.bindings(given)), source=name)
    in_memory = dataset.query(rdflib_text(query, given))
    if name not in EMPTY_ON_THIS_GRAPH:
        assert embedded.rows or embedded.triples or embedded.kind == "ask", f"{name} answers nothing"

    if query.answer in ("construct", "describe"):
        assert embedded.kind == "graph"
        assert in_memory.graph is not None
        expected = oxigraph_graph(embedded.triples)
        assert len(in_memory.graph) == len(expected)
        assert same_graph(in_memory.graph, expected)
    elif query.answer == "ask":
        assert bool(in_memory.askAnswer) is embedded.boolean
    else:
        # Variables are compared by name: engines may order those of SELECT * differently.
        assert sorted(str(v) for v in in_memory.vars or []) == sorted(embedded.variables)
        names = sorted(embedded.variables)
        rows_embedded = Counter(tuple(oxigraph_term(row.get(v)) for v in names) for row in embedded.rows)
        rows_in_memory = Counter(tuple(rdflib_term(row[v]) for v in names) for row in in_memory)
        assert rows_in_memory == rows_embedded


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_the_editor_s_text_of_a_question_gives_the_question_s_answer(store: EmbeddedStore, name: str) -> None:
    """The query page opens a question as one text with its defaults written in, blocks of its own too."""
    query = PUBLIC[name]
    asked = run_query(store, query.text, binding_terms(query.bindings({})), source=name)
    edited = run_query(store, with_defaults(query), source=name)
    if name not in EMPTY_ON_THIS_GRAPH:
        assert edited.rows or edited.triples or edited.kind == "ask", f"{name} answers nothing"
    assert (edited.kind, edited.variables, edited.rows, edited.triples, edited.boolean) == (
        asked.kind,
        asked.variables,
        asked.rows,
        asked.triples,
        asked.boolean,
    )


def test_the_comparison_can_tell_answers_apart(store: EmbeddedStore, dataset: Dataset) -> None:
    """Different parameter values give different rows: the comparison is not vacuous."""
    query = PUBLIC["fentanyl-routes"]
    embedded = run_query(store, query.text, binding_terms(query.bindings({})))
    other = rdflib_bindings(
        query,
        {
            "substance": "https://w3id.org/opioid-kg/id/substance/fentanyl-precursors",
            "destination": "https://w3id.org/opioid-kg/id/country/MX",
        },
    )
    in_memory = dataset.query(query.text, initBindings=other)
    names = embedded.variables
    rows_embedded = Counter(tuple(oxigraph_term(row.get(v)) for v in names) for row in embedded.rows)
    rows_in_memory = Counter(tuple(rdflib_term(row[v]) for v in names) for row in in_memory)
    assert rows_embedded and rows_in_memory
    assert rows_in_memory != rows_embedded


def test_numbers_compare_by_value_and_labels_by_language() -> None:
    assert _value("37.0", XSD + "decimal", None) == _value("37", XSD + "integer", None)
    assert _value("37.8", XSD + "decimal", None) != _value("38", XSD + "decimal", None)
    assert _value("China", None, "en") != _value("China", None, None)
    assert rdflib_term(Literal("x")) == oxigraph_term(ox.Literal("x"))


def test_graphs_are_the_same_up_to_blank_node_names_and_no_further() -> None:
    """The graph comparison the engine and push tests share renames blank nodes and nothing else."""
    ex = "@prefix : <http://example.org/> ."

    def turtle(text: str) -> Graph:
        return Graph().parse(data=f"{ex} {text}", format="turtle")

    chain = turtle('_:a :p _:b . _:b :q "x" .')
    assert same_graph(chain, turtle('_:one :p _:two . _:two :q "x" .'))
    assert not same_graph(chain, turtle('_:a :p _:b . _:a :q "x" .'))  # the same triples' shape, moved
    assert not same_graph(chain, turtle('_:a :p _:b . _:b :q "y" .'))
    assert not same_graph(chain, turtle('_:a :p _:b . _:b :q "x"@en .'))

    def answer(text: str) -> QueryResult:
        triples = list(ox.parse(f"{ex} {text}".encode(), ox.RdfFormat.TURTLE))
        return QueryResult("graph", triples=[ox.Triple(t.subject, t.predicate, t.object) for t in triples])

    assert same_answer(answer("_:a :p 37.0 ."), answer("_:b :p 37 ."))  # answers compare numbers by value
    assert not same_answer(answer("_:a :p 37.0 ."), answer("_:a :p 38 ."))
    assert not same_answer(answer("_:a :p _:a ."), answer("_:a :p _:b ."))
