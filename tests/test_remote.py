"""The remote store's query rewriting: parameters joined in as VALUES, whatever the query's shape."""

from __future__ import annotations

import math
import socket
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

import pyoxigraph as ox
import pytest
from certificate import self_signed

from kg.exchange.pusher import Target
from kg.server.config import ServerConfig
from kg.server.generation import locate
from kg.store.embedded import EmbeddedStore
from kg.store.opening import open_store
from kg.store.remote import RemoteError, RemoteStore, tls_context
from kg.store.sparql import NotAQuery, query_form, substitute, with_values

FENTANYL = ox.NamedNode("https://w3id.org/opioid-kg/id/substance/fentanyl")
DATA = """
<http://e/fentanyl> <http://e/label> "fentanyl {not a brace}" .
<http://e/heroin> <http://e/label> "heroin" .
"""


def answers(sparql: str, bindings: dict) -> list:
    """Run the rewritten query on an in-memory store, where VALUES and substitution can be compared."""
    store = ox.Store()
    store.load(DATA, format=ox.RdfFormat.N_TRIPLES)
    result = store.query(with_values(sparql, bindings))
    if isinstance(result, ox.QueryTriples):
        return sorted(str(t) for t in result)
    return sorted(str(row) for row in result)


@pytest.mark.parametrize(
    "sparql",
    [
        'PREFIX e: <http://e/> # {\nSELECT ?s ?label { ?s e:label ?label FILTER(?label != "{") }',
        "SELECT * { ?s <http://e/label> ?label FILTER(STRLEN(?label) < 100) }",
        "CONSTRUCT { ?s <http://e/name> ?label } WHERE { ?s <http://e/label> ?label }",
        "CONSTRUCT WHERE { ?s <http://e/label> ?label }",
        "ASK { ?s <http://e/label> ?label }",
    ],
)
def test_values_bind_like_substitution(sparql):
    bindings = {"s": ox.NamedNode("http://e/fentanyl")}
    store = ox.Store()
    store.load(DATA, format=ox.RdfFormat.N_TRIPLES)
    substituted = store.query(sparql, substitutions={ox.Variable("s"): bindings["s"]})
    if isinstance(substituted, ox.QueryBoolean):
        assert bool(substituted) == bool(store.query(with_values(sparql, bindings)))
        return
    rows = sorted(str(item) for item in substituted)
    assert answers(sparql, bindings) == rows
    assert len(rows) == 1 and "heroin" not in rows[0]


def test_a_list_fills_the_query_s_own_block_and_an_empty_one_empties_only_its_group():
    sparql = (
        "SELECT ?s WHERE { { VALUES ?named { } BIND (?named AS ?s) } "
        "UNION { VALUES ?labelled { } ?s <http://e/label> ?labelled } }"
    )
    store = ox.Store()
    store.load(DATA, format=ox.RdfFormat.N_TRIPLES)

    def found(bindings: dict) -> list[str]:
        return sorted(row["s"].value for row in store.query(with_values(sparql, bindings)))

    heroin = ox.NamedNode("http://e/heroin")
    assert found({"named": (heroin,), "labelled": ()}) == ["http://e/heroin"]
    assert found({"named": (), "labelled": (ox.Literal("heroin"),)}) == ["http://e/heroin"]
    assert found({"named": (), "labelled": ()}) == []
    assert found({"named": (heroin, FENTANYL), "labelled": ()}) == ["http://e/heroin", FENTANYL.value]


def test_every_block_of_a_variable_is_filled_so_each_group_planned_apart_sees_the_value():
    """A parameter used in two UNION branches and a sub-SELECT is written into a block in each."""
    sparql = (
        "SELECT ?s ?kind WHERE { { VALUES ?s { } ?s <http://e/label> ?l BIND ('label' AS ?kind) } "
        "UNION { SELECT ?s ?kind WHERE { VALUES ?s { } ?s ?p ?o BIND ('any' AS ?kind) } } }"
    )
    fentanyl = ox.NamedNode("http://e/fentanyl")
    store = ox.Store()
    store.load(DATA, format=ox.RdfFormat.N_TRIPLES)

    def found(bindings: dict) -> list[tuple[str, str]]:
        solutions = store.query(with_values(sparql, bindings))
        return sorted((row["s"].value, row["kind"].value) for row in solutions)

    assert found({"s": (fentanyl,)}) == [(fentanyl.value, "any"), (fentanyl.value, "label")]
    assert found({"s": ()}) == []
    assert with_values(sparql, {"s": (fentanyl,)}).count(str(fentanyl)) == 2


def test_the_values_open_the_where_pattern_not_a_group_of_the_projection():
    sparql = "SELECT ?s ?has WHERE { ?s <http://e/label> ?l BIND (EXISTS { ?s ?p ?o } AS ?has) }"
    projected = "SELECT ?s (EXISTS { ?s ?p ?o } AS ?has) WHERE { ?s <http://e/label> ?l }"
    fentanyl = ox.NamedNode("http://e/fentanyl")
    assert answers(projected, {"s": fentanyl}) == answers(sparql, {"s": fentanyl})
    assert len(answers(projected, {"s": fentanyl})) == 1


def test_a_query_without_a_group_pattern_takes_its_values_after_it():
    """`DESCRIBE ?s` has no WHERE pattern: the values come as the query's closing VALUES clause."""
    fentanyl = ox.NamedNode("http://e/fentanyl")
    assert answers("DESCRIBE ?s", {"s": fentanyl}) == answers("DESCRIBE ?s WHERE { }", {"s": fentanyl})
    described = f'{fentanyl} <http://e/label> "fentanyl {{not a brace}}"'
    assert answers("DESCRIBE ?s", {"s": fentanyl}) == [described]


def test_a_placeholder_is_replaced_where_it_is_a_token_only():
    sparql = 'SELECT ?v WHERE { ?s $PATH ?v FILTER (?v != "$PATH") } # $PATH'
    assert substitute(sparql, "PATH", "<http://e/label>/<http://e/x>") == (
        'SELECT ?v WHERE { ?s <http://e/label>/<http://e/x> ?v FILTER (?v != "$PATH") } # $PATH'
    )
    assert substitute("ASK { ?l <http://e/root>/<$p>* ?v }", "p", "<http://e/narrower>") == (
        "ASK { ?l <http://e/root>/<http://e/narrower>* ?v }"
    )
    assert substitute("SELECT ?PATHS { ?s ?p ?PATHS }", "PATH", "x") == "SELECT ?PATHS { ?s ?p ?PATHS }"


def test_query_form_skips_comments_strings_and_iris():
    assert (
        query_form('# SELECT\nPREFIX ask: <http://e/ASK>\nCONSTRUCT { ?select ?p "SELECT" } WHERE {}')
        == "construct"
    )
    assert query_form("describe <http://e/x>") == "describe"
    with pytest.raises(NotAQuery):
        query_form("INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }")


def test_open_store_chooses_by_spec(built):
    assert isinstance(open_store(built.store_path), EmbeddedStore)
    remote = open_store("http://127.0.0.1:9/sparql")
    assert type(remote).__name__ == "RemoteStore" and remote.endpoint == "http://127.0.0.1:9/sparql"


def test_an_https_endpoint_whose_certificate_no_authority_signed_is_refused(tmp_path: Path) -> None:
    """Every client of the process shares one TLS context, made once: it still verifies certificates."""
    served, certificate = self_signed(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as listening:
        port = listening.getsockname()[1]

        def accept() -> None:
            connection, _ = listening.accept()
            with connection, suppress(OSError), served.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1)  # not reached: the client gives up in the handshake

        threading.Thread(target=accept, daemon=True).start()
        with pytest.raises(RemoteError, match="CERTIFICATE_VERIFY_FAILED"):
            RemoteStore(f"https://127.0.0.1:{port}/sparql", timeout=10).query("ASK {}")


def test_each_thread_has_a_tls_context_of_its_own_made_once() -> None:
    """A connection sets its context's protocols: a context shared by threads would be changed by one
    while another connects."""
    mine = tls_context()
    assert tls_context() is mine
    with ThreadPoolExecutor(1) as other:
        theirs = other.submit(lambda: (tls_context(), tls_context())).result()
    assert theirs[0] is theirs[1] and theirs[0] is not mine
    assert mine.verify_mode == ssl.CERT_REQUIRED and mine.check_hostname


@pytest.mark.parametrize("seconds", [0.0, -1.0, math.nan, math.inf, 1e12])
def test_a_time_limit_that_would_break_or_turn_off_is_refused(seconds: float) -> None:
    """`RemoteStore(url, timeout=nan)` and a push target's took it: a NaN or an infinity reached httpx
    and the timer as a raw error, in a thread of its own."""
    with pytest.raises(ValueError, match="give a number of seconds above 0"):
        RemoteStore("http://127.0.0.1:9/sparql", timeout=seconds)
    with pytest.raises(ValueError, match="give a number of seconds above 0"):
        Target("http://127.0.0.1:9/q", "http://127.0.0.1:9/u", timeout=seconds)


def test_kg_serve_waits_for_a_remote_store_as_long_as_a_query_may_run() -> None:
    """A server given --timeout 300 still waited 60 s at most for the store behind it."""
    served, _ = locate(ServerConfig(store="http://127.0.0.1:9/sparql", timeout=300))
    store = served.store_factory()
    assert isinstance(store, RemoteStore) and store.timeout == 300
