"""`kg push` into a real Oxigraph server; the catalogue answered through it as through the embedded store."""

from __future__ import annotations

import gc
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from answers import same_answer, same_graph
from click.testing import CliRunner
from collector import kept_in_a_cycle, thread_bound_garbage
from processes import FOREGROUND
from rdflib import BNode, Graph
from triplestores import FailingProxy, OxigraphServer, WriteFaultProxy

from kg.build.parsing import rdflib_term
from kg.cli import main
from kg.exchange.changes import GraphChange
from kg.exchange.push import PushError, PushReport, Target, push
from kg.exchange.roundtrip import Withheld
from kg.exchange.updates import update as update_operation
from kg.namespaces import graph_iri
from kg.query.catalogue import load_catalogue
from kg.query.counts import triples_per_graph
from kg.query.run import run_query
from kg.store.base import StreamedSolutions
from kg.store.embedded import EmbeddedStore
from kg.store.queryfiles import binding_terms
from kg.store.remote import RemoteStore

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
    """Every graph holding a triple, asked without naming a dataset (which would list just its names)."""
    answer = httpx.post(
        endpoint,
        data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
        headers={"accept": "application/sparql-results+json"},
        timeout=60,
    )
    answer.raise_for_status()
    return {row["g"]["value"] for row in answer.json()["results"]["bindings"]}


def no_staging_graphs(endpoint: str) -> bool:
    return not [g for g in all_graphs(endpoint) if g.startswith("urn:opioid-kg:staging:")]


def local_graph(built, iri: str) -> Graph:
    graph = Graph()
    for quad in built.store().quads():
        if quad.graph_name.value == iri:
            graph.add((rdflib_term(quad.subject), rdflib_term(quad.predicate), rdflib_term(quad.object)))
    return graph


def test_push_by_graph_store_protocol(built, server):
    """A fresh store gets each graph in one Graph Store POST, which it loads whole or not at all."""
    report = push(built.store(), Target(server.query, server.update, server.gsp, batch_size=1000))
    assert report.verified
    assert {iri: remote for iri, (_, remote) in report.counts.items()} == expected_counts(built)
    assert triples_per_graph(RemoteStore(server.query)) == expected_counts(built)
    # Together they pass one update request, so each new graph goes whole in a request of its own.
    assert set(report.methods.values()) == {"whole graph by one Graph Store POST"}
    assert no_staging_graphs(server.query)


def test_push_by_update_in_small_batches_keeps_blank_nodes_together(built, server):
    """The shapes graph is mostly blank nodes; batches of 50 would cut many of them in two."""
    report = push(built.store(), Target(server.query, server.update, batch_size=50))
    assert report.verified and triples_per_graph(RemoteStore(server.query)) == expected_counts(built)
    assert set(report.methods.values()) == {"whole graph through a staging graph"}
    shapes = str(graph_iri("shapes"))
    assert same_graph(local_graph(built, shapes), graph_on(server.query, shapes))
    assert no_staging_graphs(server.query)


def test_push_replaces_what_a_previous_push_left(built, server):
    push(built.store(), Target(server.query, server.update, server.gsp), ("data",))
    report = push(built.store(), Target(server.query, server.update, batch_size=1000), ("data", "background"))
    assert report.verified
    assert triples_per_graph(RemoteStore(server.query)) == {
        iri: n for iri, n in expected_counts(built).items() if iri.endswith(("/data", "/background"))
    }


def test_a_second_push_sends_only_the_difference(built, server):
    push(built.store(), Target(server.query, server.update, server.gsp))
    data, shapes = str(graph_iri("data")), str(graph_iri("shapes"))
    stray = '<https://w3id.org/opioid-kg/id/stray> <http://www.w3.org/2000/01/rdf-schema#label> "not ours"'
    lost = next(iter(local_graph(built, data)))
    httpx.post(
        server.update,
        content=f"INSERT DATA {{ GRAPH <{data}> {{ {stray} }} }} ;"
        f"DELETE DATA {{ GRAPH <{data}> {{ {lost[0].n3()} {lost[1].n3()} {lost[2].n3()} }} }} ;"
        f"INSERT DATA {{ GRAPH <{shapes}> {{ _:extra <http://www.w3.org/2000/01/rdf-schema#label> 'x' }} }}",
        headers={"content-type": "application/sparql-update"},
    ).raise_for_status()
    with FailingProxy(server.base, healthy=100) as proxy:
        target = Target(proxy.url("/query"), proxy.url("/update"), proxy.url("/store"))
        report = push(built.store(), target)
        assert report.verified
        assert report.methods[data] == "2 triples in one request"
        # A blank node cannot be named across stores: the graph's blank-node triples go in again, whole.
        blank = [t for t in local_graph(built, shapes) if isinstance(t[0], BNode) or isinstance(t[2], BNode)]
        assert report.methods[shapes] == f"{len(blank)} triples in one request"
        others = set(expected_counts(built)) - {data, shapes}
        assert all(report.methods[iri] == "unchanged" for iri in others)
        [update] = proxy.sent("POST", "/update")  # one request, carrying only what differs
        assert not proxy.sent("POST", "/store") and not proxy.sent("PUT", "/store")
        again = push(built.store(), target)
        assert set(again.methods.values()) == {"unchanged"}
        assert len(proxy.sent("POST", "/update")) == 1  # nothing to send the second time
    for iri in (data, shapes):
        assert same_graph(graph_on(server.query, iri), local_graph(built, iri))


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


@pytest.mark.parametrize(
    "command",
    [
        ["network", "export", "--network", "production", "-o", "out.graphml"],
        ["network", "export", "-o", "out.gexf"],
        ["network", "map", "-o", "out.svg"],
        ["chart", "poppyCultivationArea", "-o", "out.svg"],
    ],
    ids=["production", "flows", "map", "chart"],
)
def test_a_network_or_chart_from_the_server_is_the_bytes_of_the_embedded_store_s(
    built, pushed, tmp_path, command
):
    """The production chains came in the server's order of rows, which is not the embedded store's:
    the export's edges came in another order."""
    written = []
    for store in (str(built.store_path), pushed.query):
        output = tmp_path / store.replace("/", "_")
        output.mkdir()
        arguments = [*command[:-1], str(output / command[-1]), "--store", store]
        ran = CliRunner().invoke(main, ["--project", str(PROJECT), *arguments])
        assert ran.exit_code == 0, ran.output
        written.append((output / command[-1]).read_bytes())
    assert written[0] == written[1]


def seed_old_data(server: OxigraphServer) -> Graph:
    """A live data graph from an earlier push, which a failed push must leave exactly as it is."""
    iri = str(graph_iri("data"))
    httpx.put(
        server.gsp, params={"graph": iri}, content=OLD_DATA, headers={"content-type": "application/n-triples"}
    ).raise_for_status()
    return graph_on(server.query, iri)


def test_server_killed_mid_push_leaves_live_graphs_unchanged(built, server):
    before = seed_old_data(server)
    with FailingProxy(server.base, healthy=9, on_failure=server.kill) as proxy:
        target = Target(proxy.url("/query"), proxy.url("/update"), batch_size=200, backoff=0.01)
        with pytest.raises(PushError) as failure:
            push(built.store(), target)
    message = str(failure.value)
    assert "the live graphs are unchanged" in message and "\n" not in message
    assert "Triples written into staging graphs" in message
    assert server.process is not None and server.process.poll() is not None  # really killed
    server.start()  # the same data folder, after a crash
    data = str(graph_iri("data"))
    assert same_graph(graph_on(server.query, data), before)
    assert triples_per_graph(RemoteStore(server.query)) == {data: len(before)}


def test_a_new_graph_streams_or_goes_with_its_length_where_the_store_wants_one(built, server):
    """A graph streams exactly the bytes the store writes, and a stream cut short raises; a store
    that refuses a body in chunks (Virtuoso answers 501) gets the graph again, read first."""
    store = built.store()
    data = str(graph_iri("data"))
    count = expected_counts(built)[data]
    assert b"".join(store.stream_graph(data, count)) == store.graph_ntriples(data)
    with pytest.raises(OSError, match=f"wrote {count} of the {count + 1} triples"):
        b"".join(store.stream_graph(data, count + 1))
    with FailingProxy(server.base, healthy=100, refuse_chunked=True) as proxy:
        target = Target(proxy.url("/query"), proxy.url("/update"), proxy.url("/store"), batch_size=1000)
        report = push(store, target)
        posts = [
            (size, chunked)
            for method, path, size, chunked in proxy.requests
            if method == "POST" and path.startswith("/store")
        ]
    assert report.verified and set(report.methods.values()) == {"whole graph by one Graph Store POST"}
    assert [chunked for _, chunked in posts] == [True, False] * len(expected_counts(built))
    assert all(posts[i][0] == posts[i + 1][0] > 0 for i in range(0, len(posts), 2))  # the same graph twice


def test_failure_at_the_final_copy_leaves_the_staged_graph_unchanged(built, server):
    before = seed_old_data(server)
    data = str(graph_iri("data"))
    # Leftovers, counts, the live data graph read, the probe of the unusual literals about to go out
    # (write, read back, drop), its staging PUT, the staging count, and one request for each of the four
    # other graphs get through; the copy from the staging graph meets a 503, and what follows gets through.
    with FailingProxy(server.base, healthy=12, outage=1) as proxy:
        target = Target(proxy.url("/query"), proxy.url("/update"), proxy.url("/store"), batch_size=1000)
        with pytest.raises(PushError, match="final copy") as failure:
            push(built.store(), target)
        assert proxy.failed == 1  # the copy is never sent twice
    message = str(failure.value)
    assert "live graphs background, ontology, provenance, shapes had changed" in message.lower()
    assert (
        "may have applied it: graphs data are unchanged (the store did not apply it, and cannot now: its "
        "staging graphs are gone)" in message
    )
    assert message.endswith("the staging graphs were dropped.")
    assert same_graph(graph_on(server.query, data), before)
    report = push(built.store(), Target(server.query, server.update, server.gsp, batch_size=1000))
    assert report.verified and report.methods[data] == "whole graph through a staging graph"
    assert no_staging_graphs(server.query)


NEW_DATA = [
    f'<https://w3id.org/opioid-kg/id/new> <http://www.w3.org/2000/01/rdf-schema#label> "new {n}" .'
    for n in range(3)
]


@pytest.mark.parametrize(
    ("staged", "counted", "live_after"),
    [
        (3, 3, "new"),  # the staging graph as the push counted it: the copy
        (1, 3, "old"),  # another push dropped it and began to fill it again: nothing
        (0, 3, "old"),  # dropped after the push gave up on this copy, which came late: nothing
        (0, 0, "empty"),  # a graph pushed empty (every triple withheld): emptied, as DROP had
    ],
)
def test_the_copy_from_staging_changes_the_live_graph_only_as_counted(server, staged, counted, live_after):
    """The final copy replaces a live graph only while its staging graph holds the triples the push
    counted there. DROP then ADD emptied the live graph where the staging graph was gone; a guard on
    one triple of it let a copy run on another push's first batch, half-filling the live graph; and
    that guard kept a graph pushed empty from being emptied."""
    data, staging = str(graph_iri("data")), "urn:opioid-kg:staging:" + str(graph_iri("data"))
    seed_old_data(server)
    old = triples_per_graph(RemoteStore(server.query))[data]
    if staged:
        lines = "\n".join(NEW_DATA[:staged])
        httpx.post(
            server.update,
            content=f"INSERT DATA {{ GRAPH <{staging}> {{ {lines} }} }}",
            headers={"content-type": "application/sparql-update"},
        ).raise_for_status()
    copy = update_operation("replace-from-staging", graph=data, staging=staging, triples=str(counted))
    httpx.post(
        server.update, content=copy, headers={"content-type": "application/sparql-update"}
    ).raise_for_status()
    now = graph_on(server.query, data)
    if live_after == "new":
        assert len(now) == 3 and {str(o) for o in now.objects()} == {f"new {n}" for n in range(3)}
    elif live_after == "old":
        assert len(now) == old
    else:
        assert len(now) == 0


def test_staging_graphs_left_behind_are_a_warning_not_a_failure(built, server, tmp_path):
    """The copy goes through, the request dropping the staging graphs meets a 503: the push is done
    and verified, and says what it left."""
    seed_old_data(server)
    # The copy meets the outage, after the leftovers, the counts and the probe's 3 requests.
    with FailingProxy(server.base, healthy=13, outage=1) as proxy:
        target = Target(
            proxy.url("/query"), proxy.url("/update"), proxy.url("/store"), batch_size=1000, backoff=0.01
        )
        report = push(built.store(), target)
        assert proxy.failed == 1
    assert report.verified and report.methods[str(graph_iri("data"))] == "whole graph through a staging graph"
    [note] = report.notes
    assert note.startswith("the staging graphs could not be dropped: ") and note.endswith(
        "(the next push drops them)"
    )
    data_triples = built.result.triples_per_graph["data"]
    assert f"the target holds urn:opioid-kg:staging:{graph_iri('data')} ({data_triples} triples)" in note
    assert [g for g in all_graphs(server.query) if g.startswith("urn:opioid-kg:staging:")]


def test_server_killed_while_reading_a_whole_graph_leaves_no_trace_of_it(built, server):
    """The leftovers, the counts, the literal probe (write, read back, drop) and the background graph's
    POST get through; half of the data graph's POST reaches the store, which is killed while it waits for
    the rest."""
    with FailingProxy(server.base, healthy=6, on_failure=server.kill, cut=True) as proxy:
        target = Target(
            proxy.url("/query"), proxy.url("/update"), proxy.url("/store"), batch_size=1000, retries=0
        )
        with pytest.raises(PushError, match="at graph data") as failure:
            push(built.store(), target)
        assert proxy.sent("POST", "/store")[1] > 100_000  # the graph was on its way
    message = str(failure.value)
    assert "live graphs background had changed; whether graph data changed is unknown" in message
    assert message.endswith("the other live graphs are unchanged; no staging graph was written.")
    assert server.process is not None and server.process.poll() is not None  # really killed
    server.start()
    background = str(graph_iri("background"))
    assert all_graphs(server.query) == {background}
    assert same_graph(graph_on(server.query, background), local_graph(built, background))


def test_one_request_push_fails_whole(built, server):
    """A dataset that fits one batch goes in one update request: refused, it changes nothing."""
    before = seed_old_data(server)
    # The leftovers, the counts, the live data graph's triples, and the literal probe (write, read back,
    # drop). The request fails with a 503 and, as it adds new graphs' blank nodes, is not sent again;
    # the graphs are read again after it.
    with FailingProxy(server.base, healthy=6, outage=1) as proxy:
        with pytest.raises(PushError, match="one update request") as failure:
            push(built.store(), Target(proxy.url("/query"), proxy.url("/update"), retries=1, backoff=0.01))
        assert proxy.failed == 1
    # a 503 may come from a gateway that still holds the request: found as before, it may yet be applied
    assert "the live graphs were as before when read again, but the request may still be applied" in str(
        failure.value
    )
    assert same_graph(graph_on(server.query, str(graph_iri("data"))), before)
    report = push(built.store(), Target(server.query, server.update))
    assert report.verified and triples_per_graph(RemoteStore(server.query)) == expected_counts(built)
    assert no_staging_graphs(server.query)


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
    assert unreachable.stderr.strip().count("\n") == 0 and "cannot be reached" in unreachable.stderr
    assert "Traceback" not in unreachable.output

    httpx.delete(server.gsp, params={"graph": str(graph_iri("background"))}).raise_for_status()
    missing = runner.invoke(main, [*base, "--endpoint", server.query, "--update", server.base + "/nothing"])
    assert missing.exit_code == 1 and "404" in missing.stderr and "Traceback" not in missing.output
    assert missing.stderr.strip().count("\n") == 0


def test_a_password_in_a_store_s_url_is_never_printed(built, server, tmp_path):
    """Neither where the store cannot be reached nor where it answers an error (a log keeps both)."""
    runner = CliRunner()
    base = ["--project", str(PROJECT), "push", "--store", str(built.store_path)]
    closed = OxigraphServer(tmp_path / "never-started")
    with_password = {
        "unreached": (closed.query, closed.update),
        "answered 404": (server.query, server.base + "/nothing"),
    }
    for what, (query, update) in with_password.items():
        query, update = (url.replace("http://", "http://u:pw123@") for url in (query, update))
        failed = runner.invoke(main, [*base, "--endpoint", query, "--update", update, "--retries", "0"])
        assert failed.exit_code == 1 and "u:***@" in failed.stderr, (what, failed.output)
        assert "pw123" not in failed.output, (what, failed.output)


def test_remote_store_reaches_nothing_says_so(tmp_path):
    closed = OxigraphServer(tmp_path / "never-started")
    with pytest.raises(RuntimeError, match="cannot be reached"):
        RemoteStore(closed.query, timeout=2).query("ASK {}")


def test_remote_store_parses_oxigraph_terms(pushed):
    answer = RemoteStore(pushed.query).query(
        "SELECT ?label WHERE { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> ?label } LIMIT 1"
    )
    assert isinstance(answer, StreamedSolutions)  # read as it is iterated
    assert all(isinstance(row["label"], ox.Literal) for row in answer)


def staging_graphs(endpoint: str) -> list[str]:
    """The staging graphs a push of the project's graphs keeps on the store at `endpoint`."""
    return [graph for graph in all_graphs(endpoint) if graph.startswith("urn:opioid-kg:staging:https")]


def test_staging_graphs_of_a_killed_push_are_dropped_by_the_next(built, server, tmp_path):
    """`kg push` killed -9 while it fills its staging graphs leaves them on the store; the next push
    finds them (and one left for a graph the dataset no longer has), drops them and says so. A graph
    of someone else's under the push's prefix, neither staging nor the probe, is left as it is (it
    was dropped with them, called a staging graph)."""
    command = [str(Path(sys.executable).with_name("kg")), "--project", str(PROJECT), "push"]
    command += ["--store", str(built.store_path), "--endpoint", server.query, "--update", server.update]
    for _ in range(5):  # a push seen staging may finish its swap before the kill lands: then again
        httpx.post(server.update, data={"update": "CLEAR ALL"}).raise_for_status()
        pushing = subprocess.Popen(
            [*command, "--batch-size", "50"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 120
        while not staging_graphs(server.query)[1:]:
            assert pushing.poll() is None and time.monotonic() < deadline, "the push ended before staging"
            time.sleep(0.05)
        pushing.kill()
        pushing.wait(30)
        if staging_graphs(server.query)[1:]:
            break
    retired = "urn:opioid-kg:staging:https://w3id.org/opioid-kg/graph/retired"
    notes = "urn:opioid-kg:notes"
    for graph in (retired, notes):
        httpx.put(
            server.gsp,
            params={"graph": graph},
            content=OLD_DATA,
            headers={"content-type": "application/n-triples"},
        ).raise_for_status()
    left = sorted(g for g in all_graphs(server.query) if g.startswith("urn:opioid-kg:staging:"))
    assert retired in left and len(left) >= 2
    report = push(built.store(), Target(server.query, server.update, batch_size=50))
    assert report.verified
    assert no_staging_graphs(server.query)
    [note] = [n for n in report.notes if "an earlier push left" in n]
    assert note.startswith(f"dropped {len(left)} staging graph(s)") and "graph/retired" in note
    assert notes in all_graphs(server.query) and notes not in note


def canonical_ntriples(graph: Graph) -> list[str]:
    """The graph's triples with its blank nodes named by their place in it (RDFC-1.0, as Oxigraph
    computes it), sorted."""
    dataset = ox.Dataset(
        ox.parse(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    )
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(str(quad.triple) for quad in dataset)


def bulk_target(base: str, **options: object) -> Target:
    return Target(f"{base}/query", f"{base}/update", f"{base}/store", batch_size=1000, bulk=True, **options)  # type: ignore[arg-type]  # Target's own fields


def test_bulk_push_fills_the_graphs_as_a_transactional_push_does(built, server, tmp_path):
    """Each new graph goes in one POST to the bulk loader, blank nodes and all, and the store ends up
    with the very triples a push in transactions gives."""
    with FailingProxy(server.base, healthy=100) as proxy:
        report = push(built.store(), bulk_target(proxy.base))
        posts = [
            path for method, path, _, _ in proxy.requests if method == "POST" and path.startswith("/store")
        ]
    assert report.verified
    assert set(report.methods.values()) == {"whole graph by one Graph Store POST to the bulk loader"}
    assert len(posts) == len(expected_counts(built)) and all("no_transaction" in path for path in posts)
    other = OxigraphServer(tmp_path / "transactional").start()
    try:
        push(built.store(), Target(other.query, other.update, other.gsp, batch_size=1000))
        for iri in expected_counts(built):
            bulk, transactional = graph_on(server.query, iri), graph_on(other.query, iri)
            assert canonical_ntriples(bulk) == canonical_ntriples(transactional)
            assert canonical_ntriples(bulk) == canonical_ntriples(local_graph(built, iri))
    finally:
        other.stop()
    shapes = local_graph(built, str(graph_iri("shapes")))
    assert any(isinstance(term, BNode) for triple in shapes for term in triple)


def test_bulk_load_cut_short_is_dropped_and_said(built, server):
    """The store reads half the data graph's POST and then loses the connection; the push drops what
    of the graph was written, says so, and the graph is not on the store."""
    with FailingProxy(
        server.base,
        healthy=6,
        cut=True,
        outage=1,
        on_failure=lambda: proxy.half_sent.close(),  # type: ignore[union-attr]  # set just before
    ) as proxy:
        with pytest.raises(PushError, match="at graph data") as failure:
            push(built.store(), bulk_target(proxy.base, retries=0))
    message = str(failure.value)
    assert "what of it was written has been dropped" in message and "\n" not in message
    assert "live graphs background had changed" in message
    assert all_graphs(server.query) == {str(graph_iri("background"))}


def test_server_killed_mid_bulk_load_says_so_and_the_next_push_finishes(built, server):
    """Killed while its bulk loader reads the data graph, the store can be neither cleaned nor counted:
    the push says so; after a restart the next bulk push makes every graph equal to the local one."""
    with FailingProxy(server.base, healthy=6, on_failure=server.kill, cut=True) as proxy:
        with pytest.raises(PushError, match="at graph data") as failure:
            push(built.store(), bulk_target(proxy.base, retries=0))
    message = str(failure.value)
    assert "could not be dropped" in message and "could not be counted" in message
    assert "the next push sends what it lacks" in message and "live graphs background had changed" in message
    assert server.process is not None and server.process.poll() is not None  # really killed
    server.start()
    report = push(built.store(), bulk_target(server.base))
    assert report.verified
    for iri in expected_counts(built):
        assert canonical_ntriples(graph_on(server.query, iri)) == canonical_ntriples(local_graph(built, iri))


@pytest.mark.parametrize(
    ("gsp", "said"),
    [(None, "give --gsp URL"), ("http://127.0.0.1:9/sparql-graph-crud-auth", "ld_dir and rdf_loader_run")],
)
def test_bulk_push_without_a_bulk_loader_is_refused_before_writing(built, gsp, said):
    arguments = ["--project", str(PROJECT), "push", "--store", str(built.store_path), "--bulk"]
    arguments += ["--endpoint", "http://127.0.0.1:9/sparql", "--update", "http://127.0.0.1:9/sparql"]
    refused = CliRunner().invoke(main, [*arguments, *(["--gsp", gsp] if gsp else [])])
    assert refused.exit_code == 2 and said in refused.stderr and "Traceback" not in refused.output


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--graph", "nonsense"], "no graph named nonsense"),
        (["--password", "pw"], "--password without --user"),
        (["--token", "t", "--user", "u"], "--token or --user and --password, not both"),
        (["--auth", "digest"], "--auth without --user"),
    ],
)
def test_a_push_asked_wrongly_is_refused_as_wrong_input_before_anything_is_sent(built, options, said):
    """A graph the build lacks was a failed push (exit 1), and a password or a scheme without a user,
    or a user beside a token, went unsent without a word."""
    arguments = ["--project", str(PROJECT), "push", "--store", str(built.store_path), *options]
    arguments += ["--endpoint", "http://127.0.0.1:9/sparql", "--update", "http://127.0.0.1:9/sparql"]
    refused = CliRunner().invoke(main, arguments)
    assert refused.exit_code == 2 and said in refused.stderr, refused.output
    assert refused.stderr.strip().count("\n") == 0 and "Traceback" not in refused.output


PROBE = "urn:opioid-kg:probe"


def held(endpoint: str) -> dict[str, int]:
    """Triples in every graph the store holds, the push's own staging and probe graphs among them."""
    return triples_per_graph(RemoteStore(endpoint, graphs=sorted(all_graphs(endpoint))))


def cli_push(built, proxy: WriteFaultProxy, *options: str) -> tuple[int, str]:
    """`kg push` through the proxy, without retries: its exit status and its one line on stderr."""
    arguments = ["--project", str(PROJECT), "push", "--store", str(built.store_path), "--retries", "0"]
    arguments += ["--endpoint", proxy.url("/query"), "--update", proxy.url("/update"), *options]
    result = CliRunner().invoke(main, arguments)
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr.strip()


@pytest.mark.parametrize("how", ["drop", "after"])
def test_an_update_applied_without_an_answer_is_said_applied(built, server, how):
    """The one update request carrying every change is applied, but its answer is lost (the connection
    drops, or a 500 comes back): the push reads the graphs again and says what they hold."""
    with WriteFaultProxy(server.base, 3, how) as proxy:  # the probe's write and drop, then the update
        status, said = cli_push(built, proxy)
        assert [path for _, path, _ in proxy.writes] == ["/update"] * 3
    assert held(server.query) == expected_counts(built)  # the store applied it
    assert status == 1 and "\n" not in said
    assert "unchanged" not in said
    assert "every live graph now equals the local one" in said


def pushed_with_retries(built, proxy: WriteFaultProxy, *options: str) -> tuple[int, str]:
    """`kg push` through the proxy with three retries and a short time limit: its exit status and its
    one line on stderr."""
    arguments = ["--project", str(PROJECT), "push", "--store", str(built.store_path), "--retries", "3"]
    arguments += ["--timeout", "2", "--endpoint", proxy.url("/query"), "--update", proxy.url("/update")]
    result = CliRunner().invoke(main, [*arguments, *options])
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr.strip()


SHAPES = str(graph_iri("shapes")).encode()


@pytest.mark.parametrize("how", ["drop", "after", "hang"])
def test_an_update_adding_blank_nodes_is_not_sent_again_after_an_unknown_outcome(built, server, how):
    """The one update request carrying every graph, the shapes graph's 924 blank-node triples among them,
    is applied and its answer lost: sent again, it would add the blank nodes twice. It goes once; the
    push reads the graphs again and says what they hold."""
    with WriteFaultProxy(server.base, 1, how, match=SHAPES) as proxy:
        status, said = pushed_with_retries(built, proxy)
        assert proxy.failed is not None and proxy.resent == 0, said
    assert held(server.query) == expected_counts(built)
    assert status == 1 and "\n" not in said
    assert "not sent again" in said and "every live graph now equals the local one" in said, said


@pytest.mark.parametrize("how", ["drop", "after", "hang"])
def test_a_graph_s_own_request_adding_blank_nodes_is_not_sent_again(built, server, how):
    """The shapes graph alone in its request (the data graph through a staging graph): applied, its answer
    lost, it is not sent again; the push says it changed and the next push finds nothing to send."""
    seed_old_data(server)
    before = held(server.query)
    with WriteFaultProxy(server.base, 1, how, match=SHAPES) as proxy:
        status, said = pushed_with_retries(built, proxy, "--batch-size", "1500")
        assert proxy.failed is not None and proxy.resent == 0, said
    after = held(server.query)
    assert after[SHAPES.decode()] == expected_counts(built)[SHAPES.decode()]
    assert status == 1 and "not sent again" in said and "shapes had changed" in said, said
    claims_hold(said, before, after, expected_counts(built))


@pytest.mark.parametrize("how", ["drop", "after"])
def test_a_staging_batch_adding_blank_nodes_is_not_sent_again(built, server, how):
    """A batch of blank-node triples into a staging graph, applied and its answer lost, is not sent
    again: the live graphs stay as they were and the staging graphs are dropped."""
    seed_old_data(server)
    before = held(server.query)
    with WriteFaultProxy(server.base, 1, how, match=b"_:") as proxy:
        status, said = pushed_with_retries(built, proxy, "--batch-size", "50")
        assert proxy.failed is not None and proxy.resent == 0, said
    assert status == 1 and "not sent again" in said and "the staging graphs were dropped" in said, said
    assert held(server.query) == before


def test_a_probe_graph_left_behind_is_named(built, server):
    """The probe of the unusual literals is written, and the request dropping it fails: the message
    names the probe graph the store still holds and how to drop it."""
    with WriteFaultProxy(server.base, 2, "before") as proxy:
        status, said = cli_push(built, proxy, "--batch-size", "500")
    assert held(server.query) == {PROBE: 7}
    assert status == 1 and "\n" not in said
    assert "nothing was written" not in said
    assert f"the probe graph {PROBE} holds 7 triples" in said
    assert f"DROP SILENT GRAPH <{PROBE}>" in said


def test_a_probe_without_an_answer_stops_the_push_rather_than_withholding(built, server):
    """A probe write that got no answer says nothing of the literals: the push stops and says so, where
    it used to take the literals for refused and leave their triples out."""
    seed_old_data(server)
    before = held(server.query)
    with WriteFaultProxy(server.base, 1, "drop") as proxy:
        status, said = cli_push(built, proxy)
    assert status == 1 and "probing the target with" in said and "no answer from" in said, said
    assert "is refused" not in said and "cannot keep" not in said, said
    assert held(server.query) == before


@pytest.mark.parametrize(
    ("sent_by", "nth"),
    [("command line", 1), *((by, nth) for by in ("graph store", "updates") for nth in (1, 3, 5))],
)
def test_a_failed_push_leaves_no_local_answer_to_another_thread(built, server, sent_by, nth):
    """A push failed at each of its first writes, its error kept with the frames it passed through: the
    local store's answers it read are dropped in its thread, none left to a garbage collection that the
    push's timer threads could run (which refuses to drop them there, and leaks them)."""
    gc.collect()
    with WriteFaultProxy(server.base, nth, "drop") as proxy:
        if sent_by == "command line":
            status, said = cli_push(built, proxy, "--batch-size", "200")
            assert status == 1, said
        else:
            gsp = proxy.url("/store") if sent_by == "graph store" else None
            target = Target(proxy.url("/query"), proxy.url("/update"), gsp, batch_size=200, retries=0)
            assert "no answer from" in kept_in_a_cycle(lambda: push(built.store(), target))
        assert len(proxy.writes) >= nth
    assert thread_bound_garbage() == []


def test_a_probe_write_the_store_applied_before_failing_is_read_back(built, server):
    """The store kept the literals, then answered 500: reading the probe back finds them kept."""
    with WriteFaultProxy(server.base, 1, "after") as proxy:
        report = push(built.store(), Target(proxy.url("/query"), proxy.url("/update"), retries=0))
    assert report.verified and not any("cannot keep" in note for note in report.notes), report.notes
    assert held(server.query) == expected_counts(built)


def claims_hold(message: str, before: dict[str, int], after: dict[str, int], local: dict[str, int]) -> None:
    """What a failed push says about the target agrees with what the target holds, once every request
    sent has been carried out: where the push says a request of unknown outcome may still be applied,
    each live graph is either as before or the local one, never a third thing."""
    live_before = {iri: n for iri, n in before.items() if iri in local}
    live_after = {iri: n for iri, n in after.items() if iri in local}
    if "nothing was written" in message:
        assert after == before, message
    if "may still be applied" in message:
        assert all(live_after.get(iri, 0) in (live_before.get(iri, 0), n) for iri, n in local.items()), (
            message
        )
    elif "the live graphs are unchanged" in message or "no live graph had changed" in message:
        assert live_after == live_before, message
    for named in re.findall(r"graphs? ((?:[\w-]+, )*[\w-]+) (?:are|is) unchanged", message):
        for iri in (str(graph_iri(name)) for name in named.split(", ")):
            assert after.get(iri, 0) == before.get(iri, 0), (iri, message)
    if "every live graph now equals the local one" in message:
        assert live_after == local, message
    for leftover in (iri for iri in after if iri not in local and iri not in before):
        name = "staging graph" if leftover.startswith("urn:opioid-kg:staging:") else leftover
        assert name in message and "were dropped" not in message.split(name)[-1][:80], message
    assert "\n" not in message


WRITES_BY_GRAPH_STORE = 9  # probe write and drop, the data graph's staging PUT, 4 POSTs, the copy, the drop


@pytest.mark.parametrize("how", ["before", "after", "drop", "late"])
@pytest.mark.parametrize("nth", range(1, WRITES_BY_GRAPH_STORE + 1))
def test_every_failed_write_is_reported_as_the_store_holds_it(built, server, nth, how):
    """Each write of a push that stages a graph and posts the others, failed in each way in turn:
    whatever the push says of the target is so once every request sent has been carried out, and the
    next push completes it. A copy from the staging graphs answered 504 and carried out after the push
    had dropped them had emptied the live graph, which the push had said was unchanged."""
    seed_old_data(server)
    before = held(server.query)
    message = ""
    with WriteFaultProxy(server.base, nth, how) as proxy:
        target = Target(
            proxy.url("/query"), proxy.url("/update"), proxy.url("/store"), batch_size=1000, retries=0
        )
        try:
            report = push(built.store(), target)
        except PushError as failure:
            message = str(failure)
        else:
            assert report.verified
        assert len(proxy.writes) >= min(nth, WRITES_BY_GRAPH_STORE)
    if message:  # read once the proxy has sent on what it held back
        claims_hold(message, before, held(server.query), expected_counts(built))
    again = push(built.store(), Target(server.query, server.update, server.gsp, batch_size=1000))
    assert again.verified and held(server.query) == expected_counts(built)


@pytest.mark.parametrize(
    ("nth", "signal_name"), [(1, "SIGINT"), (3, "SIGINT"), (5, "SIGINT"), (8, "SIGINT"), (5, "SIGTERM")]
)
def test_an_interrupted_push_says_what_it_wrote(built, server, nth, signal_name):
    """A push stopped by Ctrl-C or SIGTERM while a write waits for its answer (the probe's, the staging
    graph's PUT, a new graph's POST, the copy from the staging graph) said only `interrupted (SIGINT)`:
    it now says which live graphs had changed, that the write under way may still be applied, and what
    staging or probe graph it leaves, and that holds of the store once the write has been carried out;
    the next push drops what it left."""
    seed_old_data(server)
    before = held(server.query)
    kg = Path(sys.executable).parent / "kg"
    with WriteFaultProxy(server.base, nth, "hang") as proxy:
        command = [sys.executable, "-c", FOREGROUND, str(kg), "--project", str(PROJECT), "push"]
        command += ["--store", str(built.store_path)]
        command += ["--endpoint", proxy.url("/query"), "--update", proxy.url("/update")]
        command += ["--gsp", proxy.url("/store"), "--batch-size", "1000", "--retries", "0"]
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as pushing:
            try:
                deadline = time.monotonic() + 60
                while not any(status == 0 for _, _, status in proxy.writes) and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert proxy.failed is not None, "the write to hang was never sent"
                pushing.send_signal(getattr(signal, signal_name))
                _, said = pushing.communicate(timeout=30)
            finally:
                if pushing.poll() is None:  # never left running past the test, whatever failed
                    pushing.kill()
                    pushing.communicate()
    assert pushing.returncode == 128 + getattr(signal, signal_name).value, said
    said = said.strip()
    assert said.startswith(f"error: interrupted ({signal_name}): ") and "\n" not in said, said
    assert "run kg push again" in said and ("staging graph for data" in said) == (nth > 1), said
    assert ("probe graph urn:opioid-kg:probe" in said) == (nth == 1), said  # the first write is the probe's
    live_write = nth > 3  # the third write fills the staging graph; the later ones change live graphs
    assert ("may still be applied" in said) == live_write, said
    claims_hold(said, before, held(server.query), expected_counts(built))
    again = push(built.store(), Target(server.query, server.update, server.gsp, batch_size=1000))
    assert again.verified and held(server.query) == expected_counts(built)  # no staging or probe graph


@pytest.mark.parametrize("how", ["before", "after", "drop", "late"])
@pytest.mark.parametrize("nth", [1, 2, 3])
def test_every_failed_write_of_a_one_request_push_is_reported_as_the_store_holds_it(built, server, nth, how):
    """The probe's write, its drop and the one update request, failed in each way in turn. The update
    answered 504 and carried out later had been said not applied."""
    seed_old_data(server)
    before = held(server.query)
    message = ""
    with WriteFaultProxy(server.base, nth, how) as proxy:
        try:
            report = push(built.store(), Target(proxy.url("/query"), proxy.url("/update"), retries=0))
        except PushError as failure:
            message = str(failure)
        else:
            assert report.verified
    if message:
        claims_hold(message, before, held(server.query), expected_counts(built))
    again = push(built.store(), Target(server.query, server.update))
    assert again.verified and held(server.query) == expected_counts(built)


DURATION_TYPE = "http://www.w3.org/2001/XMLSchema#duration"


@pytest.mark.parametrize(
    ("what", "held"),
    [('is stored as "3"^^<' + DURATION_TYPE + ">", True), ("is refused (SR553)", False)],
    ids=["stored in a form of its own", "refused"],
)
def test_only_the_form_the_probe_found_is_taken_for_a_withheld_triple(what: str, held: bool) -> None:
    """The target holds "3" for a subject and predicate whose local value it cannot keep: the local
    triple's own form when the probe found the target stores it so, else perhaps an older value."""
    graph, subject, predicate = "urn:g", ox.NamedNode("urn:s"), ox.NamedNode("urn:p")
    local = ox.Quad(
        subject, predicate, ox.Literal("P3M", datatype=ox.NamedNode(DURATION_TYPE)), ox.NamedNode(graph)
    )
    withheld = Withheld({str(local.object): what}, [local])
    remote = f'<urn:s> <urn:p> "3"^^<{DURATION_TYPE}> .'
    withheld.find_held([GraphChange(graph, 1, 1, remove=[remote])])
    assert (local in withheld.held) is held
    assert ("in its own form" in withheld.note()) is held


def test_one_target_triple_stands_for_one_withheld_triple() -> None:
    duration = ox.NamedNode(DURATION_TYPE)
    graph, subject, predicate = ox.NamedNode("urn:g"), ox.NamedNode("urn:s"), ox.NamedNode("urn:p")
    local = [
        ox.Quad(subject, predicate, ox.Literal(value, datatype=duration), graph) for value in ("P2M", "P2D")
    ]
    stored = f'is stored as "2"^^<{DURATION_TYPE}>'
    withheld = Withheld({str(quad.object): stored for quad in local}, local)
    withheld.find_held([GraphChange("urn:g", 2, 1, remove=[f'<urn:s> <urn:p> "2"^^<{DURATION_TYPE}> .'])])
    assert len(withheld.held) == 1


def test_the_table_shows_the_local_count_and_what_was_withheld() -> None:
    """The local column is what the local store holds, also where some of it was not sent; the check
    compares what was sent with what the target holds."""
    report = PushReport(
        {"urn:g": (672, 672), "urn:h": (5, 5)}, {"urn:g": "replaced"}, 1.0, [], {"urn:g": 676}
    )
    lines = report.table().splitlines()
    assert lines[1].split() == [
        "urn:g",
        "676",
        "672",
        "replaced",
        "(4",
        "withheld:",
        "see",
        "the",
        "warning)",
    ]
    assert lines[2].split() == ["urn:h", "5", "5"]
    assert report.verified and lines[-1].startswith("677 triples on the target")


class _RefusingDurations(BaseHTTPRequestHandler):
    """In front of a real store: an update holding a duration is answered `status` without being
    forwarded, as a store that refuses that literal does; everything else is forwarded."""

    upstream = ""
    status = 400

    def refusal(self, update: str) -> int | None:
        """The status an update (its form decoded) is answered with, not forwarded; None: forwarded."""
        return self.status if "duration" in update else None

    def _any(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        update = urllib.parse.unquote_plus(body.decode()) if self.path.startswith("/update") else ""
        if (status := self.refusal(update)) is not None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        answer = httpx.request(
            self.command, self.upstream + self.path, content=body, headers=headers, timeout=60
        )
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers.get("content-type", "text/plain"))
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_PUT = _any  # noqa: N815 - the http.server API

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


def _with_a_duration(folder: Path) -> EmbeddedStore:
    """A local store of two graphs: `urn:test:kept` holds a plain literal, `urn:test:refused` an
    xsd:duration, which the stores below refuse."""
    local = ox.Store(str(folder))
    kept, refused = ox.NamedNode("urn:test:kept"), ox.NamedNode("urn:test:refused")
    subject, value = ox.NamedNode("urn:test:s"), ox.NamedNode("urn:test:p")
    duration = ox.Literal("P2M", datatype=ox.NamedNode(DURATION_TYPE))
    local.extend([ox.Quad(subject, value, ox.Literal("x"), kept), ox.Quad(subject, value, duration, refused)])
    local.flush()
    del local
    return EmbeddedStore(folder)


@contextmanager
def _proxy(kind: type[BaseHTTPRequestHandler], upstream: str, status: int) -> Iterator[str]:
    """A store of `kind` in front of `upstream`, refusing with `status`, on a port of its own: its URL."""
    handler = type("Handler", (kind,), {"upstream": upstream, "status": status})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{proxy.server_address[1]}"
    finally:
        proxy.shutdown()
        proxy.server_close()


@pytest.mark.parametrize("status", [400, 500, 404, 413, 204])
def test_a_graph_all_of_whose_triples_are_withheld_is_reported(tmp_path, server, status):
    """A store that refuses a literal (400, or 500 with nothing written) has its triples withheld,
    a whole graph of them too; an answer that does not refuse the literal (404, 413) stops the push,
    and so does one that acknowledges the write (204) of what the store then does not hold."""
    local = _with_a_duration(tmp_path / "local")
    with _proxy(_RefusingDurations, server.base, status) as url:
        target = Target(url + "/query", url + "/update", retries=0)
        if status in (404, 413, 204):
            said = "holds none of it" if status == 204 else f"answered {status}"
            with pytest.raises(PushError, match=f"probing the target with 1 literal.*{said}"):
                push(local, target)
            return
        report = push(local, target)
    assert report.counts == {"urn:test:kept": (1, 1), "urn:test:refused": (0, 0)} and report.verified
    assert "urn:test:refused" in report.table() and "(1 withheld: see the warning)" in report.table()


class _RefusingDurationsThenKept(_RefusingDurations):
    """Refuses a duration's update (the literal withheld), then fails with 503 every update that
    writes the graph kept: a push that fails after it withheld a literal."""

    def refusal(self, update: str) -> int | None:
        if "urn:test:kept" in update and "duration" not in update:
            return 503
        return super().refusal(update)


def test_a_push_that_fails_after_withholding_says_what_was_withheld(tmp_path, server):
    """The failure's message says the literal was withheld as well as what failed: the target holds
    neither the refused triple nor, after the failure, the rest."""
    local = _with_a_duration(tmp_path / "local")
    with _proxy(_RefusingDurationsThenKept, server.base, 400) as url, pytest.raises(PushError) as failed:
        push(local, Target(url + "/query", url + "/update", retries=0))
    message = str(failed.value)
    assert "503" in message, message
    assert "besides, the target cannot keep 1 literal(s) as sent" in message, message
    assert "1 stay only in the local store" in message, message


def test_a_store_killed_at_the_final_copy_is_said_once_to_hold_the_staging_graphs(built, server):
    """Killed as the copy from the staging graph went out, the store could neither drop the staging
    graphs nor be counted: the message said so twice, the second time after "besides"."""
    seed_old_data(server)
    try:
        with FailingProxy(server.base, healthy=12, on_failure=server.kill, cut=True) as proxy:
            target = Target(proxy.url("/query"), proxy.url("/update"), proxy.url("/store"), batch_size=1000)
            with pytest.raises(PushError) as failure:
                push(built.store(), target)
    finally:
        if server.process is None or server.process.poll() is not None:  # killed, as meant
            server.start()
    message = str(failure.value)
    assert message.count("staging graphs could not be dropped") == 1, message
    assert ".." not in message and ".;" not in message, message
    assert push(built.store(), Target(server.query, server.update, server.gsp, batch_size=1000)).verified


@pytest.mark.parametrize("option", ["--endpoint", "--update", "--gsp"])
@pytest.mark.parametrize(
    "url", ["ftp://alice:S3cretPW@127.0.0.1:{port}/x", "alice:S3cretPW@127.0.0.1:{port}/x"]
)
def test_a_store_url_a_request_cannot_go_to_is_refused_before_anything_is_sent(built, server, option, url):
    """An --update of another scheme was taken for a request of unknown outcome: tried four times, then
    said to have dropped a probe graph no request had reached. It is wrong input, refused at once."""
    urls = {"--endpoint": server.query, "--update": server.update, "--gsp": server.gsp}
    urls[option] = url.format(port=server.port)
    arguments = ["--project", str(PROJECT), "push", "--store", str(built.store_path), "--retries", "3"]
    result = CliRunner().invoke(main, arguments + [part for pair in urls.items() for part in pair])
    assert result.exit_code == 2, result.output
    said = result.stderr.strip()
    assert f"{option} URL" in said and "cannot be used" in said and "\n" not in said, said
    assert "S3cretPW" not in result.output and "alice:***@" in said, said
    assert "probe" not in said and "attempts" not in said, said
    assert held(server.query) == {}


def test_a_probe_whose_drop_was_refused_too_says_the_target_holds_none_of_it(built, server):
    """Updates sent to the query endpoint are refused, the probe's write and its drop alike: the push
    said "the probe graph was dropped" of a drop refused with 415."""
    with pytest.raises(PushError) as failed:
        push(built.store(), Target(server.query, server.query))
    said = str(failed.value)
    assert "probing the target" in said and "415" in said, said
    assert "the target holds no probe graph" in said and "was dropped" not in said, said
    assert not all_graphs(server.query)
