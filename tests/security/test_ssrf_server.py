"""No client of a real `kg serve` can make it open a connection, over any way a query reaches it.

Every spelling of the corpus goes over every transport, each with a comment
of its own so that the answer cache cannot stand in for a worker; a real
listener on a free loopback port counts the connections: there must be none.
"""

from __future__ import annotations

import urllib.parse

from corpus import spellings
from listener import Listener
from server_fixtures import RunningServer

NAMED = "describe-resource"  # a catalogue query with an IRI parameter
REFUSED = {400, 403, 413}


def transports(server: RunningServer, text: str, update: bool) -> dict[str, int]:
    """The status of `text` sent over each way a client's SPARQL reaches the server."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    statuses = {
        "get": server.get("/sparql", "application/sparql-results+json", query=text).status,
        "form": server.post_form("/sparql", {"query": text}).status,
        "direct": server.request(
            "/sparql", data=text.encode(), headers={"Content-Type": "application/sparql-query"}
        ).status,
        "page": server.get("/query", "text/html", query=text).status,
        "named-api": server.get(f"/api/queries/{NAMED}", "text/turtle", resource=text).status,
        "named-page": server.get(f"/queries/{NAMED}", "text/html", resource=text, run="1").status,
    }
    if update:
        statuses["update-form"] = server.request(
            "/sparql", data=urllib.parse.urlencode({"update": text}).encode(), headers=form
        ).status
        statuses["update-body"] = server.request(
            "/sparql", data=text.encode(), headers={"Content-Type": "application/sparql-update"}
        ).status
    return statuses


def test_no_spelling_over_any_transport_makes_the_server_connect(exposed, listener: Listener) -> None:
    sent = 0
    unexpected: list[tuple[str, str, int]] = []
    for number, spelling in enumerate(spellings()):
        text = f"{spelling.text(listener.url)}\n#probe {number}\n"
        for transport, status in transports(exposed, text, spelling.update).items():
            sent += 1
            allowed = {200, 400} if transport.startswith("named") or spelling.harmless else REFUSED
            if status not in allowed:
                unexpected.append((spelling.name, transport, status))
    connections = listener.count_after(0, settle=0.5)
    print(f"\n{len(spellings())} spellings, {sent} requests, {connections} connections to the listener")
    assert sent >= 6 * 200
    assert unexpected == []
    assert connections == 0


def test_the_protocol_dataset_cannot_name_an_outside_graph(exposed, listener: Listener) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    for parameter in ("default-graph-uri", "named-graph-uri"):
        reply = exposed.get("/sparql", "text/csv", query=count, **{parameter: f"{listener.url}g"})
        assert reply.status == 400
    assert listener.count_after(0) == 0


def test_a_refusal_says_nothing_about_the_target_port(exposed, listener: Listener) -> None:
    """The same spelling aimed at an open port and at a closed one gets the same answer."""
    closed = "http://127.0.0.1:9/"
    for spelling in spellings()[:40]:
        replies = [
            exposed.post_form("/sparql", {"query": spelling.text(url) + f"\n#port {url}"})
            for url in (listener.url, closed)
        ]
        assert replies[0].status == replies[1].status
        messages = [
            r.json()["error"]["message"].replace(url, "URL")
            for r, url in zip(replies, (listener.url, closed), strict=True)
        ]
        assert messages[0] == messages[1]
        assert "refused" in messages[0].lower() or "cannot be read" in messages[0]
    assert listener.count_after(0) == 0


def test_kg_serve_says_which_protections_are_in_force(exposed) -> None:
    log = exposed.log.read_text()
    assert "query workers: no network (empty network namespace); 1024 MB address space" in log
