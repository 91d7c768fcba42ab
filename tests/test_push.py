"""`kg push` into a real Oxigraph server; the catalogue answered through it as through the embedded store."""

from __future__ import annotations

from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from answers import same_answer
from click.testing import CliRunner
from rdflib import Graph
from rdflib.compare import isomorphic
from triplestores import FailingProxy, OxigraphServer

from kg.catalogue import load_catalogue
from kg.cli import main
from kg.namespaces import graph_iri
from kg.parsing import rdflib_term
from kg.push import PushError, Target, push
from kg.querying import binding_terms, run_query
from kg.remote import RemoteStore

PROJECT = Path(__file__).resolve().parent.parent
CATALOGUE = load_catalogue(PROJECT / "queries")
OLD_DATA = (
    '<https://w3id.org/opioid-kg/id/old> <http://www.w3.org/2000/01/rdf-schema#label> "the previous push" .\n'
    '_:kept <http://www.w3.org/2000/01/rdf-schema#comment> "a blank node"@en-GB .\n'
)


@pytest.fixture
def server(tmp_path):
    running = OxigraphServer(tmp_path / "oxigraph").start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def pushed(built, tmp_path_factory):
    """One server holding the whole dataset, for the read-only comparisons."""
    running = OxigraphServer(tmp_path_factory.mktemp("pushed") / "oxigraph").start()
    push(built.store(), Target(running.query, running.update, running.gsp))
    yield running
    running.stop()


def expected_counts(built) -> dict[str, int]:
    return {str(graph_iri(name)): count for name, count in built.result.triples_per_graph.items()}


def graph_on(endpoint: str, iri: str) -> Graph:
    answer = RemoteStore(endpoint, graphs=[iri]).query(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}", union_default_graph=False
    )
    graph = Graph()
    for triple in answer:
        graph.add((rdflib_term(triple.subject), rdflib_term(triple.predicate), rdflib_term(triple.object)))
    return graph


def all_graphs(endpoint: str) -> set[str]:
    answer = RemoteStore(endpoint).query(
        "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }", union_default_graph=False
    )
    return {row["g"].value for row in answer}


def test_push_by_graph_store_protocol(built, server):
    report = push(built.store(), Target(server.query, server.update, server.gsp))
    assert report.verified
    assert {iri: remote for iri, (_, remote) in report.counts.items()} == expected_counts(built)
    assert RemoteStore(server.query).triples_per_graph() == expected_counts(built)
    assert not [g for g in all_graphs(server.query) if g.startswith("urn:opioid-kg:staging:")]


def test_push_by_update_in_small_batches_keeps_blank_nodes_together(built, server):
    """The shapes graph is mostly blank nodes; batches of 50 would cut many of them in two."""
    report = push(built.store(), Target(server.query, server.update, batch_size=50))
    assert report.verified and RemoteStore(server.query).triples_per_graph() == expected_counts(built)
    shapes = str(graph_iri("shapes"))
    local = Graph()
    for quad in built.store().quads():
        if quad.graph_name.value == shapes:
            local.add((rdflib_term(quad.subject), rdflib_term(quad.predicate), rdflib_term(quad.object)))
    assert isomorphic(local, graph_on(server.query, shapes))


def test_push_replaces_what_a_previous_push_left(built, server):
    push(built.store(), Target(server.query, server.update, server.gsp), ("data",))
    report = push(built.store(), Target(server.query, server.update, batch_size=1000), ("data", "background"))
    assert report.verified
    assert RemoteStore(server.query).triples_per_graph() == {
        iri: n for iri, n in expected_counts(built).items() if iri.endswith(("/data", "/background"))
    }


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_catalogue_answers_alike_on_the_server(built, pushed, name):
    query = CATALOGUE[name]
    bindings = binding_terms(query.bindings({}))
    expected = run_query(built.store(), query.text, bindings)
    actual = run_query(RemoteStore(pushed.query), query.text, bindings)
    assert same_answer(expected, actual), f"{name}: {expected.table()}\n---\n{actual.table()}"


def test_kg_query_store_url(built, pushed):
    runner = CliRunner()
    args = ["--project", str(PROJECT), "query", "fentanyl-routes", "--format", "csv", "--store"]
    local = runner.invoke(main, [*args, str(built.store_path)])
    remote = runner.invoke(main, [*args, pushed.query])
    assert local.exit_code == remote.exit_code == 0, remote.output
    assert sorted(remote.output.splitlines()) == sorted(local.output.splitlines())
    assert len(local.output.splitlines()) > 1


def seed_old_data(server: OxigraphServer) -> Graph:
    """A live data graph from an earlier push, which a failed push must leave exactly as it is."""
    iri = str(graph_iri("data"))
    httpx.put(
        server.gsp, params={"graph": iri}, content=OLD_DATA, headers={"content-type": "application/n-triples"}
    ).raise_for_status()
    return graph_on(server.query, iri)


def test_server_killed_mid_push_leaves_live_graphs_unchanged(built, server):
    before = seed_old_data(server)
    with FailingProxy(server.base, healthy=8, on_failure=server.kill) as proxy:
        target = Target(proxy.url("/query"), proxy.url("/update"), batch_size=200, backoff=0.01)
        with pytest.raises(PushError) as failure:
            push(built.store(), target)
    message = str(failure.value)
    assert "the live graphs are unchanged" in message and "\n" not in message
    assert "Triples written into staging graphs" in message
    assert server.process is not None and server.process.poll() is not None  # really killed
    server.start()  # the same data folder, after a crash
    data = str(graph_iri("data"))
    assert isomorphic(graph_on(server.query, data), before)
    assert RemoteStore(server.query).triples_per_graph() == {data: len(before)}


def test_failure_at_the_final_move_leaves_live_graphs_unchanged(built, server):
    before = seed_old_data(server)
    # Five graph PUTs and the count of the staging graphs get through; the MOVE meets a 503.
    with FailingProxy(server.base, healthy=6) as proxy:
        target = Target(proxy.url("/query"), proxy.url("/update"), proxy.url("/store"), backoff=0.01)
        with pytest.raises(PushError, match="final MOVE"):
            push(built.store(), target)
        assert proxy.failed == 1  # the MOVE is never sent twice
    assert isomorphic(graph_on(server.query, str(graph_iri("data"))), before)


def test_one_request_push_fails_whole(built, server):
    """A dataset that fits one batch goes in one update request: refused, it changes nothing."""
    before = seed_old_data(server)
    with FailingProxy(server.base, healthy=0) as proxy:
        with pytest.raises(PushError, match="one update request") as failure:
            push(built.store(), Target(proxy.url("/query"), proxy.url("/update"), retries=1, backoff=0.01))
        assert proxy.failed == 2  # the request and its one retry
    assert "live graphs are unchanged" in str(failure.value)
    assert isomorphic(graph_on(server.query, str(graph_iri("data"))), before)
    report = push(built.store(), Target(server.query, server.update))
    assert report.verified and RemoteStore(server.query).triples_per_graph() == expected_counts(built)
    assert not [g for g in all_graphs(server.query) if g.startswith("urn:opioid-kg:staging:")]


def test_cli_push_reports_counts_and_errors_in_one_line(built, server, tmp_path):
    runner = CliRunner()
    base = ["--project", str(PROJECT), "push", "--store", str(built.store_path)]
    ok = runner.invoke(
        main, [*base, "--endpoint", server.query, "--update", server.update, "--gsp", server.gsp]
    )
    assert ok.exit_code == 0, ok.output
    for iri, count in expected_counts(built).items():
        assert any(line.split()[:3] == [iri, str(count), str(count)] for line in ok.output.splitlines())

    closed = OxigraphServer(tmp_path / "never-started")  # a free port nobody listens on
    unreachable = runner.invoke(
        main, [*base, "--endpoint", closed.query, "--update", closed.update, "--retries", "0"]
    )
    assert unreachable.exit_code == 1
    assert unreachable.stderr.strip().count("\n") == 0 and "cannot reach" in unreachable.stderr
    assert "Traceback" not in unreachable.output

    missing = runner.invoke(main, [*base, "--endpoint", server.query, "--update", server.base + "/nothing"])
    assert missing.exit_code == 1 and "404" in missing.stderr and "Traceback" not in missing.output
    assert missing.stderr.strip().count("\n") == 0


def test_remote_store_reaches_nothing_says_so(tmp_path):
    closed = OxigraphServer(tmp_path / "never-started")
    with pytest.raises(RuntimeError, match="cannot be reached"):
        RemoteStore(closed.query, timeout=2).query("ASK {}")


def test_remote_store_parses_oxigraph_terms(pushed):
    answer = RemoteStore(pushed.query).query(
        "SELECT ?label WHERE { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> ?label } LIMIT 1"
    )
    assert isinstance(answer, ox.QuerySolutions)
    assert all(isinstance(row["label"], ox.Literal) for row in answer)
