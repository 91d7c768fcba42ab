"""`kg serve` follows the build: a new generation takes over for every worker and cache at once, no
answer mixes two generations, and every response names the generation that answered it.

A real `kg serve` runs on the user's path `.kg/store` of a temporary layout, and
the build's real publishing step (`publish_driver.py`) makes new generations while
clients ask; each generation's data carries its own marker label.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from pathlib import Path

import pytest
from publishing import MARKER, Driver, Layout
from server_fixtures import PROJECT, RunningServer, start_server

from kg.server import ServerConfig, create_app
from kg.server.generation import Live
from kg.store.generations import generation_id

MARKER_QUERY = f"SELECT ?m WHERE {{ <{MARKER}> ?p ?m }}"
MARKER_PAGE = "/id/build-marker"
JSON = "application/sparql-results+json"


@pytest.fixture
def layout(built, tmp_path: Path, driver: Driver) -> Layout:
    return Layout(tmp_path, built.dist / "graphs", driver)


def marker_answer(server: RunningServer) -> tuple[str, str]:
    """The generation a /sparql answer names, and the marker the answer holds."""
    reply = server.get("/sparql", JSON, query=MARKER_QUERY)
    assert reply.status == 200, reply.text
    [row] = reply.json()["results"]["bindings"]  # type: ignore[index]  # JSON of the SPARQL results format
    return reply.headers["kg-generation"], row["m"]["value"]


def page_markers(server: RunningServer) -> tuple[str, set[str]]:
    """The generation a resource page (several queries: the description, labels, support) names,
    and every marker the page shows."""
    reply = server.get(MARKER_PAGE, "text/html")
    assert reply.status == 200, reply.text
    return reply.headers["kg-generation"], set(re.findall(r"generation-[A-Z]\d*", reply.text))


def wait_for_generation(server: RunningServer, generation: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while server.get("/sparql", JSON, query="ASK {}").headers["kg-generation"] != generation:
        assert time.monotonic() < deadline, f"the server did not take up generation {generation}"
        time.sleep(0.2)


def answered_from(answers: list[tuple[int, str, set[str]]], generation: str, seconds: float = 60) -> None:
    """Wait until a /sparql client and a page client have each had an answer from `generation`."""
    deadline = time.monotonic() + seconds
    while {number % 2 for number, named, _ in list(answers) if named == generation} != {0, 1}:
        assert time.monotonic() < deadline, f"no answer of both kinds from generation {generation}"
        time.sleep(0.05)


def test_every_response_names_its_generation_and_a_repeat_is_not_modified(layout: Layout, tmp_path) -> None:
    layout.publish("generation-A")
    generation = generation_id(layout.store)
    server = start_server(layout.store, tmp_path, "--workers", "1")
    try:
        for path in ("/sparql?query=ASK%7B%7D", "/", "/no/such/page", "/static/site.css", "/api/queries"):
            assert server.request(path).headers["kg-generation"] == generation, path
        first = server.get("/sparql", JSON, query=MARKER_QUERY)
        assert first.headers["etag"] == f'W/"{generation}"'
        again = server.request(
            "/sparql",
            params={"query": MARKER_QUERY},
            headers={"Accept": JSON, "If-None-Match": first.headers["etag"]},
        )
        assert again.status == 304
        layout.publish("generation-B")
        wait_for_generation(server, generation_id(layout.store))
        changed = server.request(
            "/sparql",
            params={"query": MARKER_QUERY},
            headers={"Accept": JSON, "If-None-Match": first.headers["etag"]},
        )
        assert changed.status == 200 and "generation-B" in changed.text
    finally:
        server.stop()


def test_rebuilds_while_eight_clients_ask_never_mix_generations(layout: Layout, tmp_path) -> None:
    """Eight clients ask the same question and a several-query page over and over while three builds
    take over one after the other: each answer holds the marker of the generation it names."""
    markers: dict[str, str] = {}
    layout.publish("generation-A")
    markers[generation_id(layout.store)] = "generation-A"
    # The clients share one address: the per-client limit lets all eight ask at once.
    server = start_server(
        layout.store, tmp_path, "--workers", "2", "--queries-per-client", "8", "--queue-wait", "30"
    )
    answers: list[tuple[int, str, set[str]]] = []  # client, generation named, markers shown
    failures: list[str] = []
    stop = threading.Event()

    def client(number: int) -> None:
        while not stop.is_set():
            try:
                if number % 2:
                    generation, found = marker_answer(server)
                    answers.append((number, generation, {found}))
                else:
                    answers.append((number, *page_markers(server)))
            except (OSError, AssertionError) as error:
                failures.append(f"client {number}: {error}")

    clients = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    try:
        for thread in clients:
            thread.start()
        for name in ("generation-B", "generation-C", "generation-D"):
            answered_from(answers, generation_id(layout.store))
            layout.publish(name)
            markers[generation_id(layout.store)] = name
            wait_for_generation(server, generation_id(layout.store))
        answered_from(answers, generation_id(layout.store))
    finally:
        stop.set()
        for thread in clients:
            thread.join(60)
        server.stop()
    mixed = [answer for answer in answers if answer[2] != {markers[answer[1]]}]
    seen = {generation: sum(1 for a in answers if a[1] == generation) for generation in markers}
    print(f"answers by generation: {seen}")
    assert failures == [] and mixed == []
    assert len(seen) == 4 and all(count > 0 for count in seen.values())
    assert os.path.realpath(layout.store).startswith(str(layout.home.resolve()))


def test_a_new_generation_is_read_ahead_before_it_takes_over(layout: Layout, tmp_path) -> None:
    """A build published while the server runs has its network and charts pages and search index read
    before it answers a request, the one before answering meanwhile: its first visitors do not wait
    for them (13 s for the first view of /network at a million triples)."""
    layout.publish("generation-A")
    server = start_server(layout.store, tmp_path, "--workers", "1")
    try:
        layout.publish("generation-B")
        published = generation_id(layout.store)
        wait_for_generation(server, published)
        # Asked by the first request that named it: read before that request's answer.
        read = f"read ahead of generation {published}: /network, /charts and the search index in"
        assert read in server.log.read_text(errors="replace"), server.log.read_text(errors="replace")
        for path in ("/network", "/charts", "/search?q=fentanyl"):
            reply = server.request(path)
            assert reply.status == 200 and reply.headers["kg-generation"] == published, path
    finally:
        server.stop()


def test_a_generation_published_while_another_is_read_ahead_is_the_one_that_takes_over(
    layout: Layout, caplog: pytest.LogCaptureFixture
) -> None:
    """A read-ahead takes seconds at a million triples; a build published meanwhile is newer, so the
    generation being read gives way to it rather than take over after it (answers never go back to
    an older build). Generation B is read ahead while C is published, and C's own reading is held
    until B's outcome is known."""
    caplog.set_level(logging.INFO, logger="kg.server.generation")
    layout.publish("generation-A")
    served = generation_id(layout.store)
    app = create_app(ServerConfig(store=str(layout.store), project=PROJECT, workers=1))
    generations = app.extensions["kg"]
    published: dict[str, str] = {}
    release_c = threading.Event()

    def reading(live: Live) -> None:
        if live.generation == published["B"]:
            layout.publish("generation-C")
            published["C"] = generation_id(layout.store)
        else:
            release_c.wait(60)

    def notice() -> None:
        with app.test_request_context("/"):
            generations.services()

    generations.read_ahead = reading
    try:
        layout.publish("generation-B")
        published["B"] = generation_id(layout.store)
        notice()
        deadline = time.monotonic() + 60
        while "C" not in published or not any("did not take over" in r.message for r in caplog.records):
            assert time.monotonic() < deadline, caplog.text
            notice()  # notices C once it is published
            time.sleep(0.1)
        assert generations.current.generation == served
        release_c.set()
        while generations.current.generation != published["C"]:
            assert time.monotonic() < deadline, caplog.text
            notice()
            time.sleep(0.1)
        assert f"generation {published['B']} did not take over" in caplog.text
    finally:
        release_c.set()
        generations.close()
