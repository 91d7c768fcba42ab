"""`kg serve` follows the build: a new generation takes over for every worker and cache at once, no
answer mixes two generations, and every response names the generation that answered it.

A real `kg serve` runs on the user's path `.kg/store` of a temporary layout, and
the build's real publishing step (`publish_driver.py`) makes new generations while
clients ask; each generation's data carries its own marker label.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import signal
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

import psutil
import pyoxigraph as ox
import pytest
from processes import copying, fork_servers_of, gone
from publishing import MARKER_QUERY, Driver, Layout
from server_fixtures import PROJECT, RunningServer, start_server

from kg.query.counts import instances_per_class, triples_per_graph
from kg.query.internal import internal
from kg.server import ServerConfig, create_app
from kg.server.generation import Live
from kg.server.read_ahead import read_ahead
from kg.server.workers import ServiceError, WorkerPool
from kg.store.embedded import EmbeddedStore
from kg.store.generations import generation_id, leased
from kg.store.integrity import RECORD

MARKER_PAGE = "/id/build-marker"
WATCHER = "127.0.0.7"  # the address a test waits for a generation from
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
    # from an address of its own: the clients it watches may take all their address may hold at once
    while server.get("/sparql", JSON, query="ASK {}", source=WATCHER).headers["kg-generation"] != generation:
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
        assert first.headers["etag"] == f'W/"{generation}.application/sparql-results+json"'
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
    # The clients share one address: the per-client limit, and the threads, let all eight ask at once.
    server = start_server(
        layout.store,
        tmp_path,
        "--workers",
        "2",
        "--queries-per-client",
        "8",
        "--queue-wait",
        "30",
        "--threads",
        "16",
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


def test_held_in_memory_each_generation_is_copied_and_the_old_copy_let_go(layout: Layout, tmp_path) -> None:
    """With --in-memory, a new build is copied by a fork server of its own before it takes over, and
    the old generation's fork server, with its copy, ends once no request uses it."""
    layout.publish("generation-A")
    server = start_server(layout.store, tmp_path, "--workers", "1", "--in-memory", "--cache-mb", "0")
    try:
        assert marker_answer(server) == (generation_id(layout.store), "generation-A")
        assert len(fork_servers_of(server.process.pid)) == 1
        layout.publish("generation-B")
        wait_for_generation(server, generation_id(layout.store))
        assert marker_answer(server) == (generation_id(layout.store), "generation-B")
        deadline = time.monotonic() + 30
        while len(fork_servers_of(server.process.pid)) != 1:
            assert time.monotonic() < deadline, "the old generation's copy was kept"
            time.sleep(0.2)
        assert marker_answer(server)[1] == "generation-B"
    finally:
        server.stop()


def test_a_new_generation_is_read_ahead_before_it_takes_over(layout: Layout, tmp_path) -> None:
    """A build published while the server runs has its network and charts pages, search index and
    catalogue answers read before it answers a request, the one before answering meanwhile: its
    first visitors do not wait for them (13 s for the first view of /network at a million triples),
    and its first question page is answered from the cache."""
    layout.publish("generation-A")
    server = start_server(layout.store, tmp_path, "--workers", "1")
    try:
        layout.publish("generation-B")
        published = generation_id(layout.store)
        wait_for_generation(server, published)
        # The log says so before the generation takes over.
        read = rf"read ahead of generation {published} in [\d.]+ s: /network, /charts, the search index"
        assert re.search(read, server.log.read_text(errors="replace")), server.log.read_text(errors="replace")
        question = server.request("/queries/fentanyl-sources", params={"run": "1"})
        assert question.headers["kg-generation"] == published
        assert (question.status, question.headers["cache-status"]) == (200, "kg; hit")
        for path in ("/network", "/charts", "/search?q=fentanyl"):
            reply = server.request(path)
            assert reply.status == 200 and reply.headers["kg-generation"] == published, path
    finally:
        server.stop()


class Following:
    """An app over `layout` as `kg serve` makes it, whose read-ahead of each new generation is the
    test's `reading` (called with the generation read and the one current meanwhile)."""

    def __init__(
        self, layout: Layout, reading: Callable[[Live], None] = lambda _live: None, in_memory: bool = False
    ) -> None:
        config = ServerConfig(store=str(layout.store), project=PROJECT, workers=1, in_memory=in_memory)
        self.app = create_app(config)
        self.generations = self.app.extensions["kg"]
        self.generations.read_ahead = reading

    def notice(self) -> None:
        """What a request's start does: a new build found is started."""
        with self.app.test_request_context("/"):
            self.generations.services()

    def start(self, layout: Layout, served: dict[str, str], name: str, reached: Callable[[], object]) -> None:
        """Publish build `name`, note its generation in `served` and have a request start it; wait
        until its reading has `reached` the point the test holds it at."""
        layout.publish(f"generation-{name}")
        served[name] = generation_id(layout.store)
        self.notice()
        deadline = time.monotonic() + 60
        while not reached():
            assert time.monotonic() < deadline, f"{name} was not started"
            time.sleep(0.05)

    def until_current(self, generation: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while self.generations.current.generation != generation:
            assert time.monotonic() < deadline, f"{generation} did not take over"
            self.notice()
            time.sleep(0.1)


def test_builds_published_while_one_is_read_ahead_wait_and_the_newest_takes_over_next(
    layout: Layout,
) -> None:
    """A read-ahead takes seconds at a million triples, and builds may come faster. One generation at
    a time is started: C and D, published while B is read, are not started until B took over (so
    at most two generations' workers run); then the next request starts the newest, D. A, still
    answering, keeps its folder though the builds after it would remove it (its lease)."""
    layout.publish("generation-A")
    served = {"A": generation_id(layout.store)}
    read: list[tuple[str, str]] = []  # (generation read, generation current meanwhile)
    release_b = threading.Event()

    def reading(live: Live) -> None:
        read.append((live.generation, following.generations.current.generation))
        if live.generation == served["B"]:
            release_b.wait(60)

    following = Following(layout, reading)
    try:
        following.start(layout, served, "B", lambda: read)
        for name in ("C", "D"):
            layout.publish(f"generation-{name}")
            served[name] = generation_id(layout.store)
            following.notice()
        assert read == [(served["B"], served["A"])]  # neither C nor D started meanwhile
        # A answers and B is read: both kept, though D's build keeps only C besides itself
        assert (layout.home / served["A"]).is_dir() and (layout.home / served["B"]).is_dir()
        release_b.set()
        following.until_current(served["D"])
        assert read == [(served["B"], served["A"]), (served["D"], served["B"])]
        layout.publish("generation-E")  # A is no longer served: this build's clean-up removes it
        assert not (layout.home / served["A"]).exists()
    finally:
        release_b.set()
        following.generations.close()


def test_a_build_published_during_the_first_read_ahead_waits_for_it(layout: Layout) -> None:
    """The read-ahead `kg serve` starts with counts as the one generation starting: B, published
    while A is read, is started only once A's reading is done, so no third set of workers runs."""
    layout.publish("generation-A")
    served = generation_id(layout.store)
    read: list[str] = []
    release_a = threading.Event()

    def reading(live: Live) -> None:
        read.append(live.generation)
        if live.generation == served:
            release_a.wait(60)

    following = Following(layout, reading)
    try:
        first = following.generations.read_current_ahead()
        layout.publish("generation-B")
        published = generation_id(layout.store)
        following.notice()
        waited = time.monotonic() + 5  # what starting B and reaching its reading takes, several times over
        while len(read) == 1 and time.monotonic() < waited:
            time.sleep(0.1)
        assert read == [served], "B started while A was still read"
        release_a.set()
        first.join(60)
        following.until_current(published)
        assert read == [served, published]
    finally:
        release_a.set()
        following.generations.close()


def _ended(live: Live) -> bool:
    """Whether the generation was ended: its Services are refused from then on."""
    try:
        live.services  # noqa: B018 - asked for its refusal
    except ServiceError:
        return True
    return False


def test_closing_while_a_generation_is_read_ahead_logs_no_error(layout: Layout, caplog) -> None:
    """A server stopped while it reads a generation ahead stops that generation's workers under the
    reading, whose next page is refused (`generation … is no longer served`): that is the stop asked
    for, not a failure, and it had been logged as an error with its traceback."""
    layout.publish("generation-A")
    closed = threading.Event()

    def reading(live: Live) -> None:
        closed.wait(60)
        live.services  # noqa: B018 - what the next page of the reading asks first

    following = Following(layout, reading)
    first = following.generations.read_current_ahead()
    live = following.generations.current
    closing = threading.Thread(target=following.generations.close)
    with caplog.at_level("INFO", logger="kg.server.generation"):
        closing.start()
        deadline = time.monotonic() + 60
        while not _ended(live) and time.monotonic() < deadline:  # its workers stopped by the close
            time.sleep(0.05)
        closed.set()
        first.join(60)
        closing.join(60)
    assert not first.is_alive() and not closing.is_alive()
    assert [r.getMessage() for r in caplog.records if r.levelname in ("ERROR", "WARNING")] == []
    assert any("the server is closing" in r.getMessage() for r in caplog.records), caplog.records


def test_closing_while_a_new_generation_is_read_ahead_ends_it_and_it_never_takes_over(layout: Layout) -> None:
    """Closing the server ended the current generation only: one being read ahead kept its lease and
    its workers, and once its reading was done it took over a closed server and ran on. Now closing
    ends both, and what was started for the new one is ended when its start or reading returns."""
    layout.publish("generation-A")
    served = {"A": generation_id(layout.store)}
    reading_b: list[Live] = []
    release_b = threading.Event()

    def reading(live: Live) -> None:
        if live.generation == served.get("B"):
            reading_b.append(live)
            release_b.wait(60)

    following = Following(layout, reading)
    try:
        following.start(layout, served, "B", lambda: reading_b)
        workers = _pids(reading_b[0])
        assert workers and all(psutil.pid_exists(pid) for pid in workers)
        following.generations.close()
        assert not leased(layout.home / served["B"]) and not leased(layout.home / served["A"])
        assert not any(psutil.pid_exists(pid) for pid in workers), "B's workers outlived the server"
        release_b.set()
        switching = [thread for thread in threading.enumerate() if thread.name == "switch"]
        for thread in switching:
            thread.join(60)
        assert following.generations.current.generation == served["A"], "B took over a closed server"
        late = following.app.test_client().get("/sparql", query_string={"query": "ASK {}"})
        assert late.status_code == 503 and "the server is closing" in late.get_data(as_text=True)
        assert not any(thread.name == "switch" for thread in threading.enumerate()), "started after closing"
    finally:
        release_b.set()
        following.generations.close()


def _pids(live: Live) -> list[int]:
    return [worker.process.pid for worker in live.services.pool._all]


def test_closing_ends_a_generation_taken_over_from_that_a_request_still_uses(layout: Layout) -> None:
    """Closing ended the current generation and the one being read; one taken over from while a
    request still held it was ended by no one: its workers ran on and its folder stayed leased."""
    layout.publish("generation-A")
    following = Following(layout)
    try:
        held = following.generations.hold()
        held.services.pool.start()
        workers = _pids(held)
        assert workers
        layout.publish("generation-B")
        following.until_current(generation_id(layout.store))
        assert leased(layout.home / held.generation), "A is still held by its request"
        following.generations.close()
        assert not leased(layout.home / held.generation)
        assert not any(psutil.pid_exists(pid) for pid in workers), "A's workers outlived the server"
        following.generations.release(held)
    finally:
        following.generations.close()


def test_closing_before_a_released_generation_s_ending_begins_still_ends_it(layout: Layout) -> None:
    """The last request let go of a generation taken over from; closing came before the thread that
    ends it was recorded, saw it nowhere, and returned with its folder leased and its workers up."""
    layout.publish("generation-A")
    following = Following(layout)
    generations = following.generations
    background = generations._in_background
    delayed: list[tuple] = []
    try:
        held = generations.hold()
        held.services.pool.start()
        workers = _pids(held)
        layout.publish("generation-B")
        following.until_current(generation_id(layout.store))
        generations._in_background = lambda *args, **options: delayed.append((args, options))
        generations.release(held)  # its ending is held back, as if the thread had not yet started
        assert delayed, "releasing the last user did not end A"
        generations.close()
        assert not leased(layout.home / held.generation), "A still leased after closing"
        assert not any(psutil.pid_exists(pid) for pid in workers)
    finally:
        generations._in_background = background
        for args, options in delayed:
            background(*args, **options).join(30)
        generations.close()


def test_closing_just_after_a_thread_is_recorded_and_before_it_starts_does_not_fail(layout: Layout) -> None:
    """A background thread is recorded, then started: closing in between joined a thread not yet
    started, which raises: the server's shutdown ended in an error, and later threads went unwaited."""
    layout.publish("generation-A")
    following = Following(layout)
    unstarted = threading.Thread(target=lambda: None)
    try:
        with following.generations._lock:
            following.generations._threads.add(unstarted)  # the gap between recording and starting
        following.generations.close()
        assert not leased(layout.home / following.generations.current.generation)
    finally:
        following.generations.close()


def test_closing_while_a_generation_starts_waits_for_its_start_and_ends_it(layout: Layout) -> None:
    """Closed while a new generation's workers were starting, the server returned at once and the
    generation's workers started after it had closed, its folder still leased."""
    layout.publish("generation-A")
    following = Following(layout)
    generations = following.generations
    release = threading.Event()
    begun = threading.Event()
    start = generations._start

    def slow_start(config, served):
        begun.set()
        release.wait(60)
        return start(config, served)

    generations._start = slow_start
    try:
        layout.publish("generation-B")
        following.notice()
        assert begun.wait(60), "B did not start"
        closing = threading.Thread(target=generations.close)
        closing.start()
        time.sleep(0.5)
        assert closing.is_alive(), "close returned while B was still starting"
        release.set()
        closing.join(60)
        assert not closing.is_alive()
        assert not leased(layout.home / generation_id(layout.store)), "B still leased after closing"
        assert generations.current.generation != generation_id(layout.store)
    finally:
        release.set()
        generations.close()


def reading(pid: int, store: Path, seconds: float = 30) -> None:
    """Return once process `pid` holds a file of `store` open."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            held = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:  # a descriptor closed as it was read
            held = []
        if any(path.startswith(str(store)) for path in held):
            return
        assert time.monotonic() < deadline, f"process {pid} opened nothing of {store}"
        time.sleep(0.01)


def test_closing_while_a_new_generation_is_copied_into_memory_ends_the_copy(layout: Layout) -> None:
    """Held in memory, a new generation's workers start only once its store is copied, minutes at
    10 M triples: closing the server waited for the whole copy. Its store here is one of 300,000 quads
    (seconds to copy), and the process copying it is stopped once seen, so the copy never ends by
    itself: closing returns only if it ends the copy."""
    layout.publish("generation-A")
    following = Following(layout, in_memory=True)
    generations = following.generations
    try:
        layout.publish("generation-B")
        store = Path(os.path.realpath(layout.store))
        (store.parent / RECORD).unlink()  # a store written otherwise, as below: no record to compare
        shutil.rmtree(store)
        large = ox.Store(str(store))
        graph = ox.NamedNode("urn:test:large")
        large.bulk_extend(
            ox.Quad(ox.NamedNode(f"urn:test:s{n}"), ox.NamedNode("urn:test:p"), ox.Literal(n), graph)
            for n in range(300_000)
        )
        large.flush()
        del large
        following.notice()
        server, reader = copying(os.getpid())
        reading(reader, store)  # past its start, where it asks to die with the fork server
        os.kill(reader, signal.SIGSTOP)
        closing = threading.Thread(target=generations.close, kwargs={"wait": 600})
        closing.start()
        closing.join(60)
        assert not closing.is_alive(), "closing waited for the copy"
        assert gone([server, reader])
        assert not leased(layout.home / generation_id(layout.store)), "B still leased after closing"
        assert generations.current.generation != generation_id(layout.store)
    finally:
        generations.close()


def test_a_page_still_running_when_the_server_closes_starts_no_worker(layout: Layout) -> None:
    """A page that held its generation's Services when the server closed ran its next query on a
    pool that started its workers again, and they ran on after the server had closed."""
    layout.publish("generation-A")
    following = Following(layout)
    try:
        with following.app.test_request_context("/"):
            state = following.generations.services()
            assert state.values("SELECT * { ?s ?p ?o } LIMIT 1")
            following.generations.close()
            with pytest.raises(ServiceError) as refused:  # another query: not one from the cache
                state.values("SELECT * { ?s ?p ?o } LIMIT 2")
            assert refused.value.status == 503 and "closing" in refused.value.message
            assert not state.pool._all
    finally:
        following.generations.close()


def test_what_a_served_build_kept_is_frozen_and_freed_once_it_is_no_longer_served(layout: Layout) -> None:
    """The read-ahead leaves what it read out of the cyclic collector's passes (`gc.freeze`); a build
    that stops being served has its workers stopped, its lease let go and what it kept (its network
    models among them) unfrozen and freed, whether it was the first served or one that took over
    later, so a server that follows many builds keeps only what it serves."""
    layout.publish("generation-A")
    following = Following(layout)
    kept: list[weakref.ref[object]] = []
    folders: list[Path] = []
    try:
        read_ahead(following.app).join(60)
        for name in ("B", "C"):
            current = following.generations.current
            models = current.services.derived(("flow-network",), lambda: None)
            assert models is not None, "the read-ahead made the network models"
            deadline = time.monotonic() + 60
            while not frozen(models):  # unfrozen a moment while the build before is ended
                assert time.monotonic() < deadline, f"{current.generation}'s models are not frozen"
                time.sleep(0.1)
            cycle = current.services.derived(("a cycle",), Cycle)  # freed by the collector's pass alone
            kept += [weakref.ref(current.services), weakref.ref(models), weakref.ref(cycle)]
            folders.append(layout.home / current.generation)
            del current, models, cycle
            layout.publish(f"generation-{name}")
            following.until_current(generation_id(layout.store))
        deadline = time.monotonic() + 60
        # ended by a thread of its own just after the take-over
        while any(ref() is not None for ref in kept) or any(leased(folder) for folder in folders):
            assert time.monotonic() < deadline, "a build no longer served is still in memory or leased"
            time.sleep(0.1)
    finally:
        following.generations.close()
        gc.unfreeze()


class Cycle:
    """An object in a reference cycle, as a build's kept objects may be: only a pass frees it."""

    def __init__(self) -> None:
        self.me = self


def frozen(thing: object) -> bool:
    """Whether `thing` is left out of the collector's passes: tracked, yet in none of its generations."""
    return gc.is_tracked(thing) and not any(found is thing for found in gc.get_objects())


def test_a_generation_s_graphs_are_counted_by_its_build_not_by_a_query(layout: Layout, monkeypatch) -> None:
    """Counting the triples of each named graph took 5.5 s at 10 M triples: the first query of every
    generation, which every SPARQL query waits for, near the time limit on a slower hour; the home
    page's instances per class 1.2 s. The build wrote both into the generation's description; the
    server reads them there, and a new generation still starts its workers before it takes over."""
    asked: list[str] = []
    run = WorkerPool.run

    def recorded(pool, query, client=None):
        asked.append(query.text)
        return run(pool, query, client)

    monkeypatch.setattr(WorkerPool, "run", recorded)
    layout.publish("generation-A")
    following = Following(layout)
    try:
        layout.publish("generation-B")
        following.notice()
        following.until_current(generation_id(layout.store))
        held = following.generations.hold()
        assert _pids(held), "its workers were started before it took over"
        store = EmbeddedStore(layout.store)
        assert held.services.graphs == triples_per_graph(store)
        assert list(held.services.classes.items()) == list(instances_per_class(store).items())
        assert not {internal(name).text for name in ("triples-per-graph", "instances-per-class")} & set(asked)
        following.generations.release(held)
    finally:
        following.generations.close()


def test_with_another_dist_given_a_generation_is_counted_before_it_takes_over(layout: Layout) -> None:
    """Served with a dist/ given (`kg serve --dist`), the counts of another build are not this store's:
    they are counted by a query, as before, and before the new generation takes over, so that no
    visitor's query waits for them."""
    layout.publish("generation-A")
    app = create_app(ServerConfig(store=str(layout.store), project=PROJECT, workers=1, built=layout.dist))
    generations = app.extensions["kg"]
    try:
        layout.publish("generation-B")
        with app.test_request_context("/"):
            generations.services()
        deadline = time.monotonic() + 60
        while generations.current.generation != generation_id(layout.store):
            assert time.monotonic() < deadline, "B did not take over"
            time.sleep(0.1)
        held = generations.hold()
        assert "graphs" in vars(held.services), "counted before it took over"
        assert held.services.graphs == triples_per_graph(EmbeddedStore(layout.store))
        generations.release(held)
    finally:
        generations.close()


@pytest.mark.parametrize("description", [b"", b"@prefix broken", b"<a> <b> <c> ."])
def test_a_description_that_cannot_be_read_or_names_no_graph_leaves_the_store_counted(
    layout: Layout, description: bytes
) -> None:
    """The build never writes such a description; if one is found, the server counts the store
    rather than refuse every FROM and every graph's page, or fail every SPARQL query."""
    layout.publish("generation-A")
    (layout.dist / "void.ttl").write_bytes(description)
    app = create_app(ServerConfig(store=str(layout.store), project=PROJECT, workers=1))
    try:
        client = app.test_client()
        assert client.get("/graph/data", headers={"Accept": "text/html"}).status_code == 200
        counted = app.extensions["kg"].current.services
        assert counted.graphs == triples_per_graph(EmbeddedStore(layout.store))
        assert list(counted.classes.items()) == list(instances_per_class(EmbeddedStore(layout.store)).items())
    finally:
        app.extensions["kg"].close()
