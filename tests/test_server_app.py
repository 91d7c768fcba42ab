"""The server's app in this process (Flask's test client), over real query workers and the session's build."""

from __future__ import annotations

import contextlib
import functools
import html
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator

import pytest
from server_fixtures import on_reading_the_index

from kg.namespaces import prefixed
from kg.query.internal import internal
from kg.server import ServerConfig, create_app, resources, services
from kg.server.bounded import BoundedStore
from kg.server.cache import BudgetCache, key_size
from kg.server.forkserver import ForkServer
from kg.server.messages import Setup
from kg.server.workers import ServiceError, Worker
from kg.store.embedded import EmbeddedStore


def test_create_app_starts_nothing(built) -> None:
    started = time.perf_counter()
    app = create_app(ServerConfig(store=str(built.store_path)))
    elapsed = time.perf_counter() - started
    pool = app.extensions["kg"].current.services.pool
    assert not pool.started, "no worker may start before the first query"
    print(f"\ncreate_app: {elapsed * 1000:.0f} ms")


def test_create_app_leaves_matplotlib_until_a_picture_is_drawn(built) -> None:
    """matplotlib costs half a second to import: a server that has drawn nothing has not paid it."""
    script = (
        "import sys\n"
        "from kg.server import ServerConfig, create_app\n"
        f"app = create_app(ServerConfig(store={str(built.store_path)!r}))\n"
        "before = 'matplotlib' in sys.modules\n"
        "reply = app.test_client().get('/network.svg')\n"
        "print(before, reply.status_code, 'matplotlib' in sys.modules)\n"
        "app.extensions['kg'].close()\n"
    )
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert shown.stdout.split() == ["False", "200", "True"], shown.stderr


def test_a_worker_whose_server_went_away_while_it_started_exits_quietly(built, capfd) -> None:
    """A spare still starting when its server stops finds its pipe closed when it reports ready."""
    forks = ForkServer()
    worker = Worker(Setup(functools.partial(EmbeddedStore, built.store_path), False, None, None, 30.0), forks)
    worker.connection.close()
    try:
        assert worker.process.wait(60) == 0
    finally:
        forks.close()
    assert "Traceback" not in capfd.readouterr().err


def test_a_query_through_the_test_client(client) -> None:
    reply = client.get(
        "/sparql",
        query_string={"query": "ASK { ?s ?p ?o }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert reply.status_code == 200 and reply.json == {"head": {}, "boolean": True}


def test_every_page_reads_through_the_bounded_store(app, client) -> None:
    state = app.extensions["kg"].current.services
    assert isinstance(state.store, BoundedStore)
    for path in ("/network", "/charts", "/network.svg"):
        assert client.get(path).status_code == 200, path


def test_a_chart_is_kept_once_however_its_measure_is_spelled(app, client) -> None:
    cache = app.extensions["kg"].current.services.cache
    svg = [
        client.get(f"/charts/{name}.svg?area=MX")
        for name in ("heroinSeizures", "heroin-seizures", "HeroinSeizures")
    ]
    assert {r.status_code for r in svg} == {200}
    assert len({r.data for r in svg}) == 1
    charts = [key for key in cache.keys() if isinstance(key, tuple) and key[:1] == ("chart",)]
    assert len(charts) == 1, charts


def test_the_cache_keeps_to_its_budget() -> None:
    cache = BudgetCache(64_000)
    for n in range(500):
        cache.put(("answer", n), b"x" * 200, 200)
        assert cache.used <= 64_000
    assert len(cache) == 64_000 // (200 + key_size(("answer", 0)))
    cache.put("too big", b"x" * 16_000, 16_000)  # past a quarter, with its key
    assert cache.get("too big") is None


def test_large_answers_cannot_push_every_small_one_out_of_the_cache() -> None:
    """Four answers of a quarter of the cache each (16 MB pages of 500 rows of 40 columns, asked from
    six addresses) pushed out every page the home page and resource pages needed, which then needed
    costly work again and were refused 503 while the six held the threads for it. Large answers
    (over a 64th of the cache each) now share at most half of it, oldest out first."""
    budget = 64_000
    cache = BudgetCache(budget)
    small = [("page", n) for n in range(40)]
    for key in small:
        cache.put(key, b"x" * 500, 500)
    for n in range(20):
        cache.put(("large answer", n), b"x" * 15_000, 15_000)
        assert cache.used <= budget
    assert all(cache.get(key) is not None for key in small), "a small page was pushed out"
    kept = [n for n in range(20) if cache.get(("large answer", n)) is not None]
    assert kept == [18, 19]  # the newest large ones, within half the budget
    for n in range(200):  # small ones still take the whole budget when they need it
        cache.put(("another page", n), b"x" * 500, 500)
    assert cache.used <= budget and cache.get(("another page", 199)) is not None


def test_the_cache_counts_every_entry_whatever_comes_and_goes() -> None:
    budget, chance = 64_000, random.Random(7)
    cache, sizes = BudgetCache(budget), {}
    for n in range(5_000):
        key = ("entry", chance.randrange(400))
        if chance.random() < 0.3:
            cache.get(key)
            continue
        sizes.setdefault(key, chance.choice([100, 600, 2_000, 9_000, 15_000]))
        cache.put(key, b"", sizes[key])
        held = {kept: sizes[kept] + key_size(kept) for kept in cache.keys()}
        assert cache.used == sum(held.values()) <= budget
        large = sum(size for size in held.values() if size > budget // 64)
        assert cache.large_used == large <= budget // 2, n


def test_the_cache_counts_what_its_keys_hold(app, client) -> None:
    """A picture of a client's answer is kept under its query's text, up to 100,000 characters: counted
    as its picture alone (27 KB for a small chart), four pictures of one text (two formats, two
    presets) held 2.7 times the bytes the cache counted."""
    cache = app.extensions["kg"].current.services.cache
    padding = "\n#" + "x" * 80_000
    text = (
        "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\nSELECT ?year ?n WHERE { VALUES (?year ?n) { "
        "('2017'^^xsd:gYear 1) ('2018'^^xsd:gYear 2) } }" + padding
    )
    before = cache.used
    for fmt in ("svg", "png"):
        for preset in ("screen", "memo"):
            reply = client.get(
                f"/query/view.{fmt}", query_string={"query": text, "view": "chart", "preset": preset}
            )
            assert reply.status_code == 200, reply.data[:200]
    pictures = [key for key in cache.keys() if isinstance(key, tuple) and text in key]
    assert len(pictures) == 4
    # the answer and each picture hold the text under their keys: five copies of it
    assert cache.used - before >= 5 * len(text)


@pytest.mark.parametrize("text", ["SELECT * WHERE " + "{" * 100 + "}" * 100, "a" * 100_001])
def test_a_query_too_deep_or_too_long_is_refused_before_any_worker(client, text: str) -> None:
    reply = client.post("/sparql", data={"query": text})
    assert reply.status_code in (400, 413)
    assert reply.json["error"]["status"] == reply.status_code


ACCEPTS = ("application/json", "text/html")


@pytest.mark.parametrize(
    ("path", "parameter", "status", "accept"),
    [
        *[
            (path, "substance", 404, accept)
            for path in ("/network", "/network/map.svg")
            for accept in ACCEPTS
        ],
        ("/api/queries/violence-competition", "country", 400, "application/json"),
        *[("/queries/violence-competition", "country", 400, accept) for accept in ACCEPTS],
    ],
)
def test_a_refusal_quotes_a_long_value_cut(
    client, path: str, parameter: str, status: int, accept: str
) -> None:
    """A refusal named the value it refused whole: 150 KB of message for a substance of 25,000
    characters, 100 KB for a parameter of 100,000. It says the value cut at 2,000 characters."""
    value = "é" * 25_000 if parameter == "substance" else "x" * 100_000
    query = {parameter: value, "run": "1"} if path.startswith("/queries/") else {parameter: value}
    reply = client.get(path, query_string=query, headers={"Accept": accept})
    assert reply.status_code == status, reply.status_code
    if reply.is_json:
        message = reply.json["error"]["message"]
    else:  # a page's error box (its form may keep what was typed)
        box = reply.get_data(as_text=True).split('role="alert">')[1].split("</div>")[0]
        message = html.unescape(box.split("<bdi>")[1].split("</bdi>")[0])
    assert len(message) < 2_500 and "characters left out" in message, len(message)
    assert message.count(value[0] * 100) >= 1
    if parameter == "substance":  # what follows the value stays: the names it could be
        assert message.rstrip().endswith("synthetic-opioids"), message[-200:]


@pytest.fixture(scope="module")
def small_cap(built):
    """An app whose clients' answers are capped at five rows, fewer than the network pictures read."""
    app = create_app(ServerConfig(store=str(built.store_path), built=built.dist, workers=2, max_rows=5))
    yield app.test_client()
    app.extensions["kg"].close()


def test_the_server_s_own_pictures_are_not_held_to_the_clients_row_cap(small_cap) -> None:
    """At a million triples the flow network reads 24,600 rows: the pictures failed on a cap of 10,000
    meant for what one client may make a worker send."""
    for path in ("/network", "/network.svg", "/charts"):
        assert small_cap.get(path).status_code == 200, path
    answer = small_cap.post(
        "/sparql", data={"query": "SELECT * { ?s ?p ?o }"}, headers={"Accept": "text/csv"}
    )
    assert answer.headers["KG-Truncated"] == "true"
    assert len(answer.get_data(as_text=True).strip().splitlines()) == 1 + 5


@pytest.mark.parametrize(
    "path",
    [
        "/query?query=SELECT%20*%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D",
        "/queries/mexico-seizures?run=1",
        "/queries/mexico-seizures?run=1&view=chart",
        "/queries/describe-resource?run=1",
    ],
)
def test_a_page_shows_no_more_rows_than_a_client_s_answer_may_hold(small_cap, path: str) -> None:
    """`--max-rows 5` capped the API's and /sparql's answers, while the pages showed up to `--html-rows`
    (500) rows of the same questions, unmarked or said to be "the first 500; download the whole
    answer", whose downloads held 5. A page holds what an answer may, and says the server's cap cut it."""
    page = small_cap.get(path).get_data(as_text=True)
    assert f"this server answers at most 5 {'triples' if 'describe' in path else 'rows'}" in page, page
    assert "download the whole answer" not in page
    assert ">5 triple(s)" in page if "describe" in path else ">5 row(s)" in page


@pytest.fixture(scope="module")
def small_answers(built):
    """An app whose answers may take one megabyte as written."""
    app = create_app(ServerConfig(store=str(built.store_path), built=built.dist, workers=2, max_answer_mb=1))
    yield app.test_client()
    app.extensions["kg"].close()


# 200 rows of 20 values of 1,000 characters: 4 MB of JSON, cut to 1 MB; each `&` written `&amp;` on a page
_VALUES = " ".join(map(str, range(200)))
_COLUMNS = " ".join(f"BIND (?{'iri' if n % 2 else 'c'} AS ?v{n})" for n in range(20))
AMPERSANDS = f"""SELECT * WHERE {{
  VALUES ?i {{ {_VALUES} }}
  BIND (CONCAT("&&&&&&&&&&", STR(?i)) AS ?a)
  BIND (CONCAT(?a, ?a, ?a, ?a, ?a, ?a, ?a, ?a, ?a, ?a) AS ?b)
  BIND (CONCAT(?b, ?b, ?b, ?b, ?b, ?b, ?b, ?b) AS ?c)
  BIND (IRI(CONCAT("http://example.org/", ?c)) AS ?iri)
  {_COLUMNS}
}}"""


def test_a_page_of_an_answer_takes_no_more_than_an_answer_may(small_answers) -> None:
    """The page of an answer cut to `--max-answer-mb` as JSON was 14 times that as HTML: every `&` is
    written `&amp;`, and an IRI three times (its link, its title, its text). A page of 227 MB from 2,870
    characters of query took 9 s and 1 GB more of the web process. A page holds the rows whose values,
    as it writes them, take at most what an answer may, and says it shows the first of them."""
    reply = small_answers.get("/query", query_string={"query": AMPERSANDS})
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200 and len(page.encode()) < 1.5 * 2**20, len(page.encode())
    shown = re.search(r">([\d,]+) row\(s\)", page)
    assert shown and 0 < int(shown.group(1).replace(",", "")) < 200, shown
    assert f"the page shows the first {shown.group(1)}; download the whole answer" in page


def test_the_server_s_own_queries_have_a_row_cap_of_their_own(built) -> None:
    app = create_app(ServerConfig(store=str(built.store_path), built=built.dist, workers=2, own_max_rows=5))
    try:
        for path in ("/network", "/search?q=fentanil"):  # no partial picture, no partial index
            reply = app.test_client().get(path)
            assert reply.status_code == 500, path
            assert "reached the row cap of 5 rows" in reply.get_data(as_text=True), path
    finally:
        app.extensions["kg"].close()


def capped_app(built, rows: int):
    """An app over the built store whose own row cap the search index cannot fit in: reading it is
    refused, as the time limit refuses it at ten million triples. A search waits for the index at most
    the queue wait, so that wait is long here: the refusal decides the answer, not the machine's load."""
    return create_app(
        ServerConfig(
            store=str(built.store_path), built=built.dist, workers=2, own_max_rows=rows, queue_wait=30
        )
    )


@contextlib.contextmanager
def asked_of(app) -> Iterator[list[str]]:
    """The text of every query the current generation's workers are asked meanwhile."""
    pool = app.extensions["kg"].current.services.pool
    asked: list[str] = []
    run = pool.run

    def counting(query, client=None):
        asked.append(query.text)
        return run(query, client)

    pool.run = counting
    try:
        yield asked
    finally:
        del pool.run


def test_the_network_models_are_made_once_per_generation(app, client) -> None:
    """At a million triples reading the flow network takes seconds: the page, its picture and its map
    share one model, made on the first view, and a page seen before (the network's, the charts') is
    kept whole."""
    legs = internal("network-legs").text
    assert client.get("/network").status_code == 200
    assert client.get("/charts").status_code == 200
    with asked_of(app) as asked:
        for path in ("/network", "/network.svg?substance=heroin", "/network/map.svg", "/network", "/charts"):
            assert client.get(path).status_code == 200, path
    assert legs not in asked
    assert asked == [], "a page seen before, and the pictures of a model made, ask the workers nothing"


def test_the_network_page_is_kept_once_however_its_substance_is_spelled(app, client) -> None:
    """Kept under the substance a name resolves to, so that spellings cannot fill the cache."""
    cache = app.extensions["kg"].current.services.cache
    pages = [client.get(f"/network?substance={name}") for name in ("fentanyl", "FENTANYL", "Fentanyl")]
    assert {r.status_code for r in pages} == {200}
    assert len({r.data for r in pages}) == 1
    kept = [key for key in cache.keys() if isinstance(key, tuple) and key[:2] == ("network-page", "fentanyl")]
    assert kept == [("network-page", "fentanyl")]
    before = set(cache.keys())
    for path, status in (
        ("/charts", 200),
        ("/charts?area=anything-at-all&measure=nonsense", 404),
        ("/charts?x=1&preset=screen", 200),
    ):
        assert client.get(path).status_code == status, path
    pages = {key for key in set(cache.keys()) - before if isinstance(key, tuple) and key[0] == "charts-page"}
    assert pages <= {("charts-page", "", "", "screen")}
    assert ("charts-page", "", "", "screen") in set(cache.keys())


@pytest.mark.parametrize(
    ("asked", "status", "said"),
    [
        ("measure=heroinSeizures&area=ZZ", 404, "no place 'ZZ' to chart; the places: "),
        ("measure=zzz", 404, "no measure 'zzz' to chart; the measures: "),
        ("area=MX", 400, "area= narrows the chart of a measure="),
        ("measure=heroinSeizures&preset=poster", 404, "no picture preset 'poster'"),
    ],
)
def test_a_chart_the_menus_do_not_offer_is_refused_by_name(
    client, asked: str, status: int, said: str
) -> None:
    """A mistyped or stale link showed the suggested charts, or every place's, without a word, where the
    picture's own URL was refused."""
    reply = client.get(f"/charts?{asked}", headers={"Accept": "application/json"})
    assert reply.status_code == status and said in reply.get_json()["error"]["message"]


def test_a_question_s_page_does_not_wait_for_the_search_index(built) -> None:
    """At 10 M triples the search index takes longer to read than a query may run, and every question's
    page failed with it, even one of 9 rows: its form needs only the kind of each default value. A row
    cap the index cannot fit in (981 rows) stands in for that limit here; the answers of larger questions
    need more than 50 rows for their evidence, so only a small one is asked."""
    app = capped_app(built, 50)
    try:
        client = app.test_client()
        assert client.get("/search?q=fentanil").status_code == 500
        for name in app.extensions["kg"].current.services.catalogue:
            reply = client.get(f"/queries/{name}")
            assert reply.status_code == 200, (name, reply.get_data(as_text=True)[-400:])
        # A name spelt as the graph writes it is looked up in the store; spelt otherwise it needs the
        # index: the form still shows what was typed, and says why it was refused.
        for path in (
            "/queries/heroin-sources?destination=United%20States",
            "/queries/heroin-sources?destination=united%20states",  # another case: still the store
            "/queries/describe-resource?resource=Mexico",  # a question that takes things of any kind
            "/queries/source-statements?subject=U.S.%20Congress",
        ):
            spelt = client.get(path)
            assert spelt.status_code == 200, (path, spelt.get_data(as_text=True)[-400:])
        for path in (
            "/queries/heroin-sources?destination=United-States",
            "/queries/heroin-sources?run=1&destination=United-States",
        ):
            named = client.get(path)
            page = named.get_data(as_text=True)
            assert named.status_code == 500 and "row cap of 50 rows" in page, path
            assert 'value="United-States"' in page and "<form" in page, path
        answered = client.get("/queries/cooperation-forums?run=1")
        assert answered.status_code == 200 and "North American Drug Dialogue" in answered.get_data(
            as_text=True
        )
        form = client.get("/queries/heroin-sources").get_data(as_text=True)
        assert 'data-kinds="place"' in form and 'data-kinds="substance"' in form
    finally:
        app.extensions["kg"].close()


def test_a_search_the_index_is_refused_for_still_finds_what_is_named_so(built) -> None:
    """At 10 M triples the whole index is out of reach, and every search answered 504: what bears the
    name exactly as typed is a lookup of the store, shown as only that, with why; a search that needs
    the index (another spelling, words of a sentence) is still refused with the reason."""
    app = capped_app(built, 50)
    try:
        client = app.test_client()
        found = client.get("/api/search?q=Mexico").get_json()
        assert [(hit["iri"], hit["label"], hit["kind"]) for hit in found["hits"]] == [
            ("https://w3id.org/opioid-kg/id/country/MX", "Mexico", "place")
        ]
        assert found["hits"][0]["href"] and "row cap of 50 rows" in found["partial"]
        page = client.get("/search?q=Mexico")
        shown = page.get_data(as_text=True)
        assert page.status_code == 200 and "row cap of 50 rows" in shown and "Mexico" in shown
        narrowed = client.get("/api/search?q=person&kind=term").get_json()
        assert len(narrowed["hits"]) == 3 and {hit["kind"] for hit in narrowed["hits"]} == {"term"}
        assert client.get("/api/search?q=person&kind=place").status_code == 500
        for path in ("/search?q=m%C3%A9xico", "/api/search?q=fentanyl%20China"):
            refused = client.get(path)
            assert refused.status_code == 500 and "row cap of 50 rows" in refused.get_data(as_text=True), path
    finally:
        app.extensions["kg"].close()


def test_an_index_refused_for_good_is_not_read_again_by_each_search(built) -> None:
    """At 10 M triples reading the index takes the 10 s a query may run before it is refused: each
    search waited that long again before its answer. A refusal that would come again (the row cap,
    the time limit, a worker's memory) is kept for the generation; one that may pass is not."""
    app = capped_app(built, 50)
    try:
        client = app.test_client()
        texts = internal("search-texts").text
        with asked_of(app) as asked:
            assert client.get("/api/search?q=Mexico").get_json()["partial"]
            assert asked.count(texts) == 1
            for path in (
                "/api/search?q=Mexico",
                "/search?q=Mexico",
                "/search?q=mexico",
                "/queries/heroin-sources?destination=mexico",
            ):
                client.get(path)
        assert asked.count(texts) == 1, "the index was read again after its refusal"
    finally:
        app.extensions["kg"].close()


def test_a_network_refused_for_good_is_not_read_again_by_each_view(built) -> None:
    """The flow network, as the search index, is made once per generation: at 10 M triples its
    reading is refused at the time limit, and each view of /network waited that long again."""
    app = create_app(ServerConfig(store=str(built.store_path), built=built.dist, workers=2, own_max_rows=5))
    try:
        client = app.test_client()
        with asked_of(app) as asked:
            first: list[str] = []
            for path in ("/network", "/network", "/network.svg", "/network/map.svg"):
                reply = client.get(path)
                assert reply.status_code == 500 and "row cap of 5 rows" in reply.get_data(as_text=True), path
                first = first or list(asked)
        assert first and asked == first, "the network was read again after its refusal"
    finally:
        app.extensions["kg"].close()


def test_a_kept_refusal_of_the_index_is_tried_again_after_a_while(built, monkeypatch) -> None:
    """A time limit is wall-clock: an index refused on a loaded machine may be read on an idle one,
    so a refusal is kept for a while (REFUSAL_KEPT), not for as long as the build is served."""
    monkeypatch.setattr(services, "REFUSAL_KEPT", 0.0)
    app = capped_app(built, 50)
    try:
        client = app.test_client()
        with asked_of(app) as asked:
            for _ in range(2):
                assert client.get("/api/search?q=Mexico").get_json()["partial"]
        assert asked.count(internal("search-texts").text) == 2
    finally:
        app.extensions["kg"].close()


def test_a_partial_search_is_never_kept_nor_revalidated(built) -> None:
    """The answer of exact names only carried the generation's ETag, as the whole answer later does,
    so a client revalidating it kept the partial answer for as long as the build was served."""
    app = capped_app(built, 50)
    try:
        client = app.test_client()
        for path in ("/api/search?q=Mexico", "/search?q=Mexico"):
            partial = client.get(path)
            assert partial.status_code == 200 and "out of reach" in partial.get_data(as_text=True), path
            assert "ETag" not in partial.headers and partial.headers["Cache-Control"] == "no-store", path
    finally:
        app.extensions["kg"].close()


def test_a_search_refused_in_a_way_that_may_pass_is_not_answered_in_part(built) -> None:
    """Every worker busy for the index's reading is a refusal that may pass: it is said as such (503,
    Retry-After), not turned into an answer of exact names only."""
    app = create_app(ServerConfig(store=str(built.store_path), built=built.dist, workers=2))
    try:
        pool = app.extensions["kg"].current.services.pool
        texts = internal("search-texts").text

        def busy() -> None:
            raise ServiceError(503, "every query worker is busy; try again shortly", retry_after=1)

        on_reading_the_index(app, busy)
        refused = app.test_client().get("/api/search?q=Mexico")
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
        del pool.run
        # asked again within the second it said, the refusal is given at once; after it, the index
        with asked_of(app) as asked:
            again = app.test_client().get("/api/search?q=Mexico")
        assert again.status_code == 503 and again.headers["Retry-After"] == "1" and texts not in asked
        time.sleep(1.05)
        whole = app.test_client().get("/api/search?q=Mexico").get_json()
        assert whole["partial"] is None and whole["hits"][0]["label"] == "Mexico"
    finally:
        app.extensions["kg"].close()


def test_a_search_does_not_wait_longer_than_the_queue_for_the_index_being_read(built) -> None:
    """At a million triples the index took 16 s to read through a worker, and the first search waited
    for all of it. A search now waits at most the queue wait: meanwhile it answers the things named
    exactly as typed, said to be only those and not to be kept, or, with none, 503 with Retry-After;
    the index is read once, in the background, and answers whole once read."""
    app = create_app(ServerConfig(store=str(built.store_path), built=built.dist, workers=2, queue_wait=0.5))
    client = app.test_client()
    release = threading.Event()
    try:
        texts = internal("search-texts").text
        read = on_reading_the_index(app, lambda: release.wait(60))
        started = time.monotonic()
        named = client.get("/api/search?q=Mexico")
        unnamed = client.get("/api/search?q=fentanil")
        page = client.get("/search?q=Mexico")
        assert named.status_code == 200 and named.headers["Cache-Control"] == "no-store"
        body = named.get_json()
        assert body["hits"][0]["label"] == "Mexico" and "is being read" in body["partial"]
        assert unnamed.status_code == 503 and int(unnamed.headers["Retry-After"]) >= 1
        assert "is being read" in unnamed.get_json()["error"]["message"]
        assert page.status_code == 200 and "is being read" in page.get_data(as_text=True)
        # a question's value spelt otherwise than the graph writes it needs the index too, looked up
        # once for the form and the answer; an IRI the graph lacks is not in it, index or none
        state = app.extensions["kg"].current.services
        within = state.derived_within
        waits: list[object] = []

        def counted(key, make, seconds):
            waits.append(key)
            return within(key, make, seconds)

        state.derived_within = counted
        form = client.get("/queries/heroin-sources?run=1&destination=United-States")
        assert form.status_code == 503 and int(form.headers["Retry-After"]) >= 1
        assert "is being read" in form.get_data(as_text=True)
        assert 'value="United-States"' in form.get_data(as_text=True)
        assert waits == [("search-index",)]
        del state.derived_within
        absent = client.get("/queries/heroin-sources?run=1&destination=country:ZZ")
        assert absent.status_code == 400 and "is not in the graph" in absent.get_data(as_text=True)
        waited = time.monotonic() - started
        assert waited < 20, waited  # five waits of half a second, not the minute the reading is held
        assert read == [texts]  # one reading, however many searches
        release.set()
        deadline = time.monotonic() + 60
        while (answer := client.get("/api/search?q=fentanil")).status_code != 200:
            assert time.monotonic() < deadline, answer.get_data(as_text=True)
            time.sleep(0.1)
        whole = answer.get_json()
        assert whole["partial"] is None and whole["hits"][0]["label"].startswith("fentanyl")
        assert client.get("/queries/heroin-sources?run=1&destination=United-States").status_code == 200
        assert read == [texts]
    finally:
        release.set()
        app.extensions["kg"].close()


def test_a_search_still_answers_by_name_where_the_index_cannot_be_made(built) -> None:
    """A defect in the index's making is out of reach like the time limit: a search answers what bears
    the name as typed, in part and said so, and the index is not made again by each search; a question
    whose typed value is not even an IRI says so, not the index's refusal."""
    app = create_app(ServerConfig(store=str(built.store_path), built=built.dist, workers=2, queue_wait=30))
    try:
        texts = internal("search-texts").text

        def broken() -> None:
            raise RuntimeError("a defect in the index's making")

        read = on_reading_the_index(app, broken)
        client = app.test_client()
        for _ in range(3):
            answer = client.get("/api/search?q=Mexico")
            assert answer.status_code == 200, answer.get_data(as_text=True)
            assert "RuntimeError" in answer.get_json()["partial"]
        assert read == [texts]
        odd = client.get("/queries/heroin-sources?run=1&destination=%3Cnot%20an%20iri%3E")
        assert odd.status_code == 400 and "is not an absolute IRI" in odd.get_data(as_text=True)
    finally:
        app.extensions["kg"].close()


def test_a_resource_page_does_not_need_the_search_index(built) -> None:
    """Each resource page read the whole search index for the kinds of the things linking to it and
    its own names and definition: at 10 M triples, past the time limit, every page of a thing
    failed. It now reads the kinds of the resource and its links only, as their classes give them."""
    whole = create_app(ServerConfig(store=str(built.store_path), built=built.dist, workers=2))
    capped = capped_app(built, 600)
    try:
        for path in ("/id/country/MX", "/id/substance/fentanyl", "/id/program/merida-initiative"):
            pages = [app.test_client().get(path, headers={"Accept": "text/html"}) for app in (whole, capped)]
            assert [page.status_code for page in pages] == [200, 200], path
            assert pages[0].data == pages[1].data, path
        assert capped.test_client().get("/search?q=fentanil").status_code == 500  # the index is out of reach
        us = whole.test_client().get("/id/country/US", headers={"Accept": "text/html"}).get_data(as_text=True)
        assert '<span class="kind">place</span>' in us and "Also called" in us
        # a stance has no name, so no entry in the index: its kind is now read all the same (4 stances
        # and 5 findings; the 13 routes' last legs are listed apart)
        assert "<summary>Facts (9)</summary>" in us and "<summary>Routes (13)</summary>" in us
        assert "<summary>Legs of routes (13)</summary>" in us
    finally:
        whole.extensions["kg"].close()
        capped.extensions["kg"].close()


MEXICO = "https://w3id.org/opioid-kg/id/country/MX"


def links_listed(page: str) -> int:
    """The rows of a resource page's "Links to here" tables."""
    return page.partition("<h2>Links to here</h2>")[2].count("<tr><td>")


def test_a_resource_linked_to_more_than_its_page_lists_says_how_many_and_where_all_are(
    built, monkeypatch
) -> None:
    """At 10 M triples Mexico is linked to 348,032 times: sorting every link to list the first 500 took
    45 s, past the time limit, and its page failed. The page now lists the first links in the store's
    order, says how many there are by property, and links to a query for all of them."""
    links = {
        row["p"].value: int(row["n"].value)
        for row in EmbeddedStore(built.store_path).query(
            f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ ?s ?p <{MEXICO}> }} GROUP BY ?p"
        )
    }
    total = sum(links.values())
    app = create_app(ServerConfig(store=str(built.store_path), built=built.dist, workers=2))
    try:
        client = app.test_client()
        whole = client.get("/id/country/MX", headers={"Accept": "text/html"}).get_data(as_text=True)
        assert links_listed(whole) == total and "links are listed" not in whole
        monkeypatch.setattr(resources, "SHOWN_LINKS", 5)
        assert total > 5
        page = client.get("/id/country/MX?few", headers={"Accept": "text/html"}).get_data(as_text=True)
        assert links_listed(page) == 5
        # each heading counts the links listed under it, and says so
        headings = re.findall(r"<summary>[^<(]+\((\d+) listed\)</summary>", page)
        assert sum(int(n) for n in headings) == 5
        assert f"The first 5 of {total:,} links are listed." in page
        counted = page.partition("By property:")[2].partition("</p>")[0]
        shown = {
            prop: int(n.replace(",", ""))
            for prop, n in re.findall(r'title="([^"]+)">[^<]*</a> \(([\d,]+)\)', counted)
        }
        assert shown == links
        editor = re.search(r'href="/query\?query=([^"]+)">The query for all of them', page)
        assert editor is not None
        # what the editor shows of an answer and what a download holds, as the page says
        assert "the first 500 rows of an answer and a download up to 10,000" in " ".join(page.split())
        query = urllib.parse.unquote_plus(html.unescape(editor.group(1)))
        answer = client.post("/sparql", data={"query": query}, headers={"Accept": "text/csv"})
        assert len(answer.get_data(as_text=True).strip().splitlines()) == 1 + total
    finally:
        app.extensions["kg"].close()


def test_links_to_here_keep_their_order_by_property_then_linking_thing(built) -> None:
    """The links are read in the store's order and sorted on the page: under each heading, by property,
    then by the thing that links (as `ORDER BY ?p ?s` gave them)."""
    app = create_app(ServerConfig(store=str(built.store_path), built=built.dist, workers=2))
    try:
        page = app.test_client().get("/id/country/MX", headers={"Accept": "text/html"}).get_data(as_text=True)
        headings = page.partition("<h2>Links to here</h2>")[2].split("<details")[1:]
        assert len(headings) > 1
        for heading in headings:
            rows = re.findall(r'<tr><td>.*?title="([^"]+)".*?</td><td>.*?title="([^"]+)"', heading)
            keys = [(prop, linking) for linking, prop in rows]
            assert len(keys) == heading.count("<tr><td>") and keys == sorted(keys), heading[:80]
    finally:
        app.extensions["kg"].close()


def test_a_page_names_a_thing_without_a_label_as_the_graph_s_files_do(client) -> None:
    """Resource pages showed `http://www.w3.org/1999/02/22-rdf-syntax-ns#type` and an excerpt's heading
    as its whole IRI; a thing without a label is named with its prefix, the IRI kept as its title."""
    page = client.get("/id/organization/dea", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert ">rdf:type<" in page and ">http://www.w3.org/1999/02/22-rdf-syntax-ns#type<" not in page
    excerpt = client.get("/id/excerpt/hsp-share", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<h1>excerpt:hsp-share</h1>" in excerpt


def test_prefixed_names_keep_to_the_longest_namespace_and_leave_other_iris_whole() -> None:
    assert prefixed("https://w3id.org/opioid-kg/id/excerpt/hsp-share") == "excerpt:hsp-share"
    assert prefixed("http://www.w3.org/2000/01/rdf-schema#label") == "rdfs:label"
    assert prefixed("https://example.org/a/b") == "https://example.org/a/b"
    assert prefixed("https://w3id.org/opioid-kg/id/flow/a/b") == "https://w3id.org/opioid-kg/id/flow/a/b"


def test_a_flow_leg_s_page_names_the_agency_of_its_flow(client) -> None:
    """A leg's page showed its quotes with no "attributed to": the flow it is a leg of is attributed."""
    page = client.get("/id/flow/us-mexico-fentanyl-precursors-leg-1", headers={"Accept": "text/html"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "attributed to" in text
    assert 'href="/id/organization/dea"' in text.split("attributed to", 1)[1][:400]


def test_a_question_s_form_shows_a_place_by_its_short_name_which_answers_as_the_iri(client) -> None:
    """The form showed `https://w3id.org/opioid-kg/id/country/US` in a field too narrow to read it."""
    import re

    page = client.get("/queries/fentanyl-routes").get_data(as_text=True)
    field = re.search(r'<input id="param-destination" name="destination" value="([^"]*)"', page)
    assert field is not None and field.group(1) == "country:US"
    short = client.get("/api/queries/fentanyl-routes?destination=country:US&format=csv").get_data()
    assert short == client.get("/api/queries/fentanyl-routes?format=csv").get_data()


def test_more_excerpts_of_a_row_of_several_statements_are_found_on_their_pages(client) -> None:
    """A row grouping five questions linked "4 more excerpt(s)" to the first question's page, which
    holds only its own two: the others' could not be reached from the row."""
    page = client.get("/queries/qualified-facts?run=1", headers={"Accept": "text/html"}).get_data(
        as_text=True
    )
    more = re.findall(r'<p class="more">(.*?)</p>', page, re.S)
    assert more, "no row with more excerpts than it shows"
    for said in more:
        linked = re.search(r'<a href="([^"]+)">', said)
        assert linked is None or "more excerpt(s)</a>" in said
    assert any("on the pages of the statements named above" in said for said in more)


def test_a_question_asked_with_other_values_says_so_under_its_heading(client) -> None:
    """The page of heroin's routes was headed "… does fentanyl reach the United States?" and said
    nothing else: a screenshot misstated what it answers."""
    asked = client.get(
        "/queries/fentanyl-routes?run=1&substance=substance:heroin&destination=Mexico",
        headers={"Accept": "text/html"},
    ).get_data(as_text=True)
    assert "Asked with substance: <bdi>heroin</bdi>; destination: <bdi>Mexico</bdi>." in asked
    plain = client.get("/queries/fentanyl-routes?run=1", headers={"Accept": "text/html"}).get_data(
        as_text=True
    )
    assert 'id="asked-with"' not in plain


def test_a_place_s_page_lists_a_route_s_legs_by_name_apart_from_the_routes(client) -> None:
    """Mexico's "Routes (10)" held four routes and six legs named `flow:…-leg-2`: the legs are named by
    their places and route, under a heading of their own."""
    page = client.get("/id/country/MX", headers={"Accept": "text/html"}).get_data(as_text=True)
    headings = dict(re.findall(r"<summary>([^<(]+) \((\d+)\)</summary>", page))
    assert headings["Routes"] == "4" and headings["Legs of routes"] == "6"
    assert "flow:china-mexico-us-fentanyl-leg-2<" not in page
    assert ">leg 2, Mexico to United States, of clandestine-produced fentanyl" in page


@pytest.mark.parametrize(
    "path",
    [
        "/api/queries/fentanyl-routes?substance=substance:fentanyl&substance=substance:heroin&format=csv",
        "/queries/fentanyl-routes?substance=substance:fentanyl&substance=substance:heroin&run=1",
        "/api/queries/fentanyl-routes?format=csv&format=json",
        "/api/queries/fentanyl-routes/evidence?substance=substance:fentanyl&substance=substance:heroin",
        "/queries/fentanyl-routes/view.svg?substance=substance:fentanyl&substance=substance:heroin",
        "/query?query=ASK%20%7B%7D&query=ASK%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D",
        "/query/view.svg?query=ASK%20%7B%7D&query=ASK%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D",
        "/queries/fentanyl-routes?view=chart&view=table&run=1",
        "/network?substance=heroin&substance=fentanyl",
        "/search?q=Mexico&q=heroin",
        "/id/country/MX?format=turtle&format=jsonld",
    ],
    ids=[
        "api",
        "page",
        "format",
        "evidence",
        "picture",
        "query page",
        "query picture",
        "view",
        "network",
        "search",
        "resource",
    ],
)
def test_a_parameter_given_twice_is_refused_not_read_once(client, path: str) -> None:
    """The answer used the first value and the page echoed it alone, the second dropped unsaid;
    `/sparql` refuses a repeated `query` (400)."""
    reply = client.get(path, headers={"Accept": "application/json"})
    assert reply.status_code == 400, reply.get_data(as_text=True)[:300]
    assert "is given 2 times; it takes one value" in reply.get_data(as_text=True)


def test_a_parameter_that_takes_several_values_may_be_repeated(client) -> None:
    """The search's kinds are asked as `kind=place&kind=agency`: refusing repeated parameters must
    leave them, and every parameter a page reads as a list, alone."""
    import re
    from pathlib import Path

    from kg.server.responses import REPEATABLE

    page = client.get("/search?q=Mexico&kind=place&kind=agency", headers={"Accept": "text/html"})
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    server = Path(__file__).resolve().parent.parent / "src" / "kg"
    read_as_lists = {
        name
        for path in server.glob("**/*.py")
        for name in re.findall(r"""getlist\(\s*["']([^"']+)["']""", path.read_text("utf-8"))
    }
    assert read_as_lists and read_as_lists <= REPEATABLE, read_as_lists - REPEATABLE
