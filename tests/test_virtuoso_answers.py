"""What `kg query --store URL` and a push make of Virtuoso's own ways of answering: its reasons for a
500, its cap on the rows of an answer, and its spelling of blank nodes; where Virtuoso is installed.
"""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner, Result
from triplestores import VIRTUOSO, VirtuosoServer

from kg.cli import main
from kg.exchange.pusher import Pusher, PushError, Target
from kg.namespaces import graph_iri

pytestmark = pytest.mark.skipif(VIRTUOSO is None, reason="virtuoso-opensource is not installed (virtuoso-t)")

MAX_ROWS = 1_000  # ResultSetMaxRows of the server below: fewer than the data graph's triples
TRIPLES = 1_500
DATA = str(graph_iri("data"))


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    """A server whose data graph holds more triples than an answer may carry, two of them with a blank
    node."""
    server = VirtuosoServer(tmp_path_factory.mktemp("virtuoso"), max_rows=MAX_ROWS).start()
    try:
        lines = [f'<urn:s{i}> <urn:p> "v {i}" .' for i in range(TRIPLES - 2)]
        lines += ['_:b <urn:p> "in a blank node" .', "<urn:s0> <urn:q> _:b ."]
        httpx.post(
            server.gsp,
            params={"graph-uri": DATA},
            content="\n".join(lines).encode(),
            headers={"content-type": "application/n-triples"},
            auth=httpx.DigestAuth(*server.credentials),
            timeout=60,
        ).raise_for_status()
        yield server
    finally:
        server.stop()


def kg_query(server: VirtuosoServer, sparql: str) -> Result:
    """`kg query --store` on the server's anonymous endpoint."""
    result = CliRunner().invoke(main, ["query", "--store", server.base + "/sparql", "-e", sparql])
    assert "Traceback" not in result.output
    return result


def test_the_store_s_reason_for_a_500_to_a_query_is_shown(virtuoso):
    """Virtuoso answers a runtime error with 500 and its reason in the body, which was dropped."""
    result = kg_query(virtuoso, "SELECT (1/0 AS ?x) WHERE {}")
    assert result.exit_code == 1, result.output
    said = result.stderr.strip()
    assert "answered 500" in said and "SR084: Division by 0." in said and "\n" not in said, said
    assert "SPARQL query:" not in said, said  # the first line of the reason, not the query echoed after it


def test_the_store_s_reason_for_a_500_to_an_update_is_shown(virtuoso):
    target = Target(virtuoso.query, virtuoso.update, auth=httpx.DigestAuth(*virtuoso.credentials), retries=0)
    pusher = Pusher(target)
    try:
        with pytest.raises(PushError) as failure:
            pusher.update("INSERT { GRAPH <urn:x> { <urn:s> <urn:p> ?x } } WHERE { BIND (1/0 AS ?x) }")
    finally:
        pusher.client.close()
    said = str(failure.value)
    assert "answered 500" in said and "SR084: Division by 0." in said and "\n" not in said, said


def test_the_store_s_reason_in_an_html_page_is_shown(virtuoso):
    """Virtuoso's Graph Store endpoint gives its reason for a 500 in an HTML page, whose first line is
    its DOCTYPE."""
    target = Target(
        virtuoso.query, virtuoso.update, virtuoso.gsp, auth=httpx.DigestAuth(*virtuoso.credentials), retries=0
    )
    pusher = Pusher(target)
    try:
        with pytest.raises(PushError) as failure:
            pusher.send(
                "POST",
                virtuoso.gsp,
                params={"graph-uri": "urn:x"},
                content=b"<urn:a> <urn:b> .\n",  # no object: Virtuoso takes it for text of an unknown type
                headers={"content-type": "application/n-triples"},
                retry=False,
            )
    finally:
        pusher.client.close()
    said = str(failure.value)
    assert "answered 500" in said and "Error 22023" in said and "<urn:x> is rejected" in said, said
    assert "DOCTYPE" not in said and "<h" not in said and "\n" not in said, said


def test_an_answer_cut_at_the_store_s_row_limit_says_so(virtuoso):
    """Virtuoso stops an answer at ResultSetMaxRows and says so only in a header: the answer was
    printed as whole."""
    result = kg_query(virtuoso, f"SELECT ?s ?o WHERE {{ GRAPH <{DATA}> {{ ?s ?p ?o }} }}")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") < TRIPLES  # really cut
    said = f"the answer may be cut: it has {MAX_ROWS} rows, the store's own limit on an answer"
    assert said in result.stderr, result.stderr


def test_an_answer_within_the_store_s_row_limit_is_not_said_truncated(virtuoso):
    result = kg_query(virtuoso, f"SELECT ?s WHERE {{ GRAPH <{DATA}> {{ ?s <urn:q> ?o }} }}")
    assert result.exit_code == 0 and "truncated" not in result.stderr, result.output


def test_blank_nodes_in_virtuoso_s_answers_are_read(virtuoso):
    """Virtuoso writes a blank node in SPARQL JSON as `nodeID://b10000`, which the results reader
    refused ("Invalid bnode value")."""
    result = kg_query(
        virtuoso, f"SELECT ?b ?o WHERE {{ GRAPH <{DATA}> {{ <urn:s0> <urn:q> ?b . ?b ?p ?o }} }}"
    )
    assert result.exit_code == 0, result.output
    assert "in a blank node" in result.stdout and "_:" in result.stdout, result.stdout
