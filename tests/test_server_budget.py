"""The budget of worker-seconds and the queue wait, as pages that show a refusal in place and the
server's own read-ahead meet them: in-process apps over the built store, with real worker processes."""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
import urllib.parse
import uuid

import pytest
from server_fixtures import on_reading_the_index

from kg.server import ServerConfig, create_app
from kg.server.admission import client_key
from kg.server.fairness import MADE_FOR_ALL, in_background
from kg.server.messages import Query
from kg.server.read_ahead import READER, read_ahead
from kg.server.workers import ServiceError

# A query that runs past any time limit the tests set: a three-way cross product of the report graph.
HEAVY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
HTML = {"Accept": "text/html"}


def _app(built, **limits: float):
    return create_app(ServerConfig(store=str(built.store_path), built=built.dist, **limits))


def _editor(text: str) -> str:
    return "/query?query=" + urllib.parse.quote(text)


def _until_busy(client) -> bool:
    """Whether a fresh question was refused for want of a worker within 3 s: the one worker is taken."""
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if client.get(_editor(f'ASK {{ ?s ?p "{uuid.uuid4()}" }}'), headers=HTML).status_code == 503:
            return True
    return False


def test_a_question_page_refused_for_the_client_s_budget_says_when_to_ask_again(built) -> None:
    """Every other refusal for the budget carries Retry-After; a question's page and the editor, which
    show their refusal in place, did not, so a client could not know when to ask again."""
    app = _app(built, workers=2, timeout=1, client_budget=0.9)  # above what the form's queries use
    try:
        client = app.test_client()
        assert client.get("/queries/cooperation-forums").status_code == 200  # its form's own queries
        spent = client.post("/sparql", data={"query": HEAVY})
        assert spent.status_code == 504  # a second of the workers' time, past the budget
        for path in ("/queries/cooperation-forums?run=1", _editor("ASK { ?s ?p ?o }")):
            refused = client.get(path, headers=HTML)
            assert refused.status_code == 429, (path, refused.get_data(as_text=True)[-300:])
            assert int(refused.headers["Retry-After"]) >= 1, path
    finally:
        app.extensions["kg"].close()


def test_a_question_page_refused_for_want_of_a_worker_says_when_to_ask_again(built) -> None:
    """A query that waited longer than --queue-wait for a worker is 503 with `Retry-After: 1` at
    /sparql; shown in place on a question's page or in the editor it had no Retry-After."""
    app = _app(built, workers=1, timeout=5, queue_wait=0.2)
    try:
        client = app.test_client()
        assert client.get("/queries/cooperation-forums").status_code == 200  # its form's own queries
        busy = threading.Thread(
            target=lambda: app.test_client().post(
                "/sparql", data={"query": HEAVY}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
            )
        )
        busy.start()
        try:
            assert _until_busy(client)
            for path in ("/queries/cooperation-forums?run=1", _editor(f'ASK {{ ?s ?p "{uuid.uuid4()}" }}')):
                refused = client.get(path, headers=HTML)
                assert refused.status_code == 503, (path, refused.get_data(as_text=True)[-300:])
                assert refused.headers["Retry-After"] == "1", path
        finally:
            busy.join()
    finally:
        app.extensions["kg"].close()


def test_the_server_s_own_reading_is_charged_but_not_refused_for_its_budget(built) -> None:
    """A visitor past the budget is refused at once (429). The server's own reading ahead is not: its
    queries are read once per build, and a wait for the budget inside a page would hold the lock of
    what the page makes (the network models, the search index) for every visitor asking for it. It is
    still charged, so the queue hands a freed worker to every visitor first."""
    app = _app(built, workers=2, timeout=1, client_budget=0.5)
    try:
        pool = app.extensions["kg"].current.services.pool
        for client in ("10.0.0.1", "10.0.0.2"):
            with pytest.raises(ServiceError) as stopped:
                pool.run(Query(HEAVY), client)
            assert stopped.value.status == 504  # a second of the workers' time, past the budget
        with pytest.raises(ServiceError) as refused:
            pool.run(Query("ASK { ?s ?p ?o }"), "10.0.0.1")
        assert refused.value.status == 429 and (refused.value.retry_after or 0) >= 1
        spent = pool.usage.of("10.0.0.2")
        with in_background():
            answer = pool.run(Query("ASK { ?s ?p ?s }"), "10.0.0.2")
        assert json.loads(answer.body)["boolean"] in (True, False)  # answered, not refused
        assert pool.usage.of("10.0.0.2") > spent * 0.99  # charged: what it ran outweighs the decay
        with pytest.raises(ServiceError) as after:
            pool.run(Query("ASK { ?s ?p ?p }"), "10.0.0.2")
        assert after.value.status == 429  # the same client, outside, is refused again
    finally:
        app.extensions["kg"].close()


def _read_ahead_summary(app, caplog) -> str:
    """The one line the read-ahead of `app`'s current generation ends with, once it has ended."""
    with caplog.at_level(logging.INFO, logger="kg.server.read_ahead"):
        read_ahead(app).join(300)
    summary = [r.getMessage() for r in caplog.records if " questions" in r.getMessage()]
    assert len(summary) == 1, summary
    return summary[0]


def _assert_every_question_read_ahead(app) -> None:
    """Every catalogue question's page answers from the cache the read-ahead filled."""
    client = app.test_client()
    for name in app.extensions["kg"].current.services.catalogue:
        reply = client.get(f"/queries/{name}?run=1")
        assert (reply.status_code, reply.headers["Cache-Status"]) == (200, "kg; hit"), name


def test_the_read_ahead_reads_on_past_its_budget(built, caplog) -> None:
    """At 10 M triples the charts used up the read-ahead's budget of worker-seconds and every question
    after them was refused at once. Its budget is spent here before it starts: it reads them all."""
    app = _app(built, workers=2, timeout=1, client_budget=0.5)
    try:
        pool = app.extensions["kg"].current.services.pool
        with pytest.raises(ServiceError) as stopped:
            pool.run(Query(HEAVY), READER)
        assert stopped.value.status == 504
        assert "refused" not in _read_ahead_summary(app, caplog)
        _assert_every_question_read_ahead(app)
    finally:
        app.extensions["kg"].close()


def test_a_defect_in_one_page_does_not_stop_the_read_ahead_of_the_others(built, caplog) -> None:
    """A page that fails otherwise than by a refusal (here the search index's making) ended the whole
    reading: every question after it was left for its first visitor to wait for."""
    app = _app(built, workers=2)
    try:

        def broken() -> None:
            raise RuntimeError("a defect in the index's making")

        on_reading_the_index(app, broken)
        assert "refused: /search" in _read_ahead_summary(app, caplog)
        _assert_every_question_read_ahead(app)
    finally:
        app.extensions["kg"].close()


def test_a_page_refused_while_every_worker_was_busy_is_read_again_at_the_end(built, caplog) -> None:
    """Visitors go first: at 10 M triples a visitor's query held a worker while the read-ahead asked for
    the charts, which waited past --queue-wait and were refused (503) for the build's whole life.
    Here the one worker is held by a visitor's query for the first seconds of the reading."""
    app = _app(built, workers=1, timeout=4, queue_wait=0.2)
    try:
        client = app.test_client()
        busy = threading.Thread(
            target=lambda: app.test_client().post(
                "/sparql", data={"query": HEAVY}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
            )
        )
        busy.start()
        assert _until_busy(client)
        with caplog.at_level(logging.INFO, logger="kg.server.read_ahead"):
            read_ahead(app).join(300)
        busy.join()
        messages = [r.getMessage() for r in caplog.records]
        assert any("/network 503" in m and "read again at the end" in m for m in messages), messages
        summary = [m for m in messages if " questions" in m]
        assert len(summary) == 1 and "refused" not in summary[0], summary
        for path in ("/network", "/charts"):
            assert client.get(path).headers.get("Cache-Status") in (None, "kg; hit"), path
    finally:
        app.extensions["kg"].close()


def test_a_query_sure_to_fail_again_does_not_say_when_to_ask_again(built) -> None:
    """Past a worker's memory a query is answered 503 and that answer is kept: asking again gives the
    same. Every 503 said `Retry-After: 1`; only those that may pass (a busy server) still do."""
    values = " ".join(f"<urn:x:{i}>" for i in range(3000))
    hungry = f"SELECT ?a ?b WHERE {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} }} ORDER BY ?a ?b"
    app = _app(built, workers=1, worker_memory_mb=1024, timeout=30)
    try:
        client = app.test_client()
        for attempt in ("first", "kept"):
            failed = client.post("/sparql", data={"query": hungry})
            assert failed.status_code == 503 and b"memory" in failed.data, attempt
            assert "Retry-After" not in failed.headers, attempt
    finally:
        app.extensions["kg"].close()


def test_a_question_s_form_refused_for_the_budget_keeps_what_was_typed(built) -> None:
    """The form's own reading (the kinds of its defaults, the labels) asked past the budget raised,
    and the visitor got a bare error page: the form and the value typed were lost."""
    app = _app(built, workers=2, client_budget=0.5)
    try:
        client = app.test_client()
        app.extensions["kg"].current.services.pool.usage.charge("127.0.0.1", 10)  # the test client's
        refused = client.get("/queries/describe-resource?resource=fentanyl", headers=HTML)
        page = refused.get_data(as_text=True)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert "<form" in page and 'value="fentanyl"' in page and "worker-seconds" in page
    finally:
        app.extensions["kg"].close()


def test_what_is_made_once_for_every_visitor_is_not_charged_to_the_visitor_who_asked_first(built) -> None:
    """The search index, a network model: made once per generation, for every visitor. Its queries were
    charged to the visitor whose request happened to make it, who after one reading at the time limit
    (10 M triples) was held to be heavy and kept from the reserve of idle workers: its next search
    waited the queue out and was refused 503. They are counted under a name of their own and charged
    there. A client past its budget still cannot start a making; once made, the object serves every
    client within its budget (a search of it is charged to its client, as a query is)."""
    app = _app(built, workers=2, client_budget=0.5)
    try:
        client = app.test_client()
        usage = app.extensions["kg"].current.services.pool.usage
        past = {"REMOTE_ADDR": "10.0.0.7"}
        usage.charge("10.0.0.7", 10)
        refused = client.get("/api/search?q=fentanil", environ_base=past)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert not [name for name in usage._charged if name.startswith(MADE_FOR_ALL)], "no making started"
        made = client.get("/api/search?q=fentanil")
        assert made.status_code == 200, made.get_data(as_text=True)[-300:]
        assert made.get_json()["hits"][0]["label"] == "fentanyl" and made.get_json()["partial"] is None
        making = usage.of(MADE_FOR_ALL + repr(("search-index",)))
        # the visitor is charged its search of the index (CPU of the web process), not the making
        assert 0 < usage.of("127.0.0.1") < making and usage.longest("127.0.0.1") < 0.25
        served = client.get("/api/search?q=fentanil", environ_base={"REMOTE_ADDR": "10.0.0.8"})
        assert served.status_code == 200 and served.get_json()["partial"] is None
        assert client.get("/api/search?q=fentanil", environ_base=past).status_code == 429  # a search costs
    finally:
        app.extensions["kg"].close()


def test_a_making_refused_in_a_way_that_may_pass_is_not_started_again_by_each_request(built) -> None:
    """A long making stopped so that a lighter client could be answered (503, Retry-After) was not kept,
    so each request started it again, uncharged, to be stopped again. Such a refusal is now given at
    once for 1, 2, 4 … seconds after each in a row, saying when to ask again."""
    app = _app(built, workers=2)
    try:
        state = app.extensions["kg"].current.services
        tries: list[float] = []

        def stopped() -> object:
            tries.append(time.monotonic())
            raise ServiceError(503, "stopped so that lighter clients could be answered", retry_after=1)

        def ask() -> ServiceError:
            with pytest.raises(ServiceError) as refusal:
                state.derived(("a making",), stopped)
            return refusal.value

        for kept in (1, 2):
            assert ask().status == 503
            again = ask()
            assert len(tries) == kept and again.status == 503 and again.retry_after == kept
            time.sleep(kept + 0.05)
        assert ask().status == 503 and len(tries) == 3 and tries[2] - tries[1] >= 2
    finally:
        app.extensions["kg"].close()


def test_the_addresses_of_one_ipv6_network_are_one_client(built) -> None:
    """A host is commonly given a whole IPv6 /64: counted by address, one machine could ask as millions
    of clients, each with a budget, query slots and connections of its own. An IPv4 address mapped into
    IPv6 is that IPv4 client."""
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.7") == client_key("192.0.2.7") == "192.0.2.7"
    # an IPv4 client as an IPv6-only server sees it through a translator (RFC 6052's prefix)
    assert client_key("64:ff9b::192.0.2.7") == "192.0.2.7" != client_key("64:ff9b::192.0.2.8")
    assert client_key("fe80::1%eth0") == "fe80::/64" and client_key("unix-socket") == "unix-socket"
    # an IPv4-compatible address (deprecated, RFC 4291) is its IPv4 client, not the /64 of IPv6 loopback
    assert client_key("::192.0.2.7") == "192.0.2.7" != client_key("::192.0.2.8")
    assert client_key("::1") == client_key("::") == "::/64"
    # and so is an IPv4-translated one (RFC 2765)
    assert client_key("::ffff:0:192.0.2.7") == "192.0.2.7" != client_key("::ffff:0:192.0.2.8")
    app = _app(built, workers=2)
    try:
        client = app.test_client()
        app.extensions["kg"].current.services.pool.usage.charge(client_key("2001:db8:1:2::1"), 10_000)
        for address, status in (("2001:db8:1:2::77", 429), ("2001:db8:1:9::77", 200)):
            reply = client.get(
                _editor("ASK { ?s ?p ?o }"), headers=HTML, environ_base={"REMOTE_ADDR": address}
            )
            assert reply.status_code == status, (address, reply.get_data(as_text=True)[-300:])
    finally:
        app.extensions["kg"].close()


def test_a_search_is_charged_to_its_client(built) -> None:
    """A search runs in the web process, against the index held there: a text of a hundred common
    prefixes cost 0.66 s of CPU, and eight clients asking it slowed every page, never refused. It is
    charged to the client as a drawing is, and a client past its budget gets 429 for a search too."""
    app = _app(built, workers=2)
    try:
        client = app.test_client()
        assert client.get("/api/search?q=fentanyl").status_code == 200  # the index, read for all
        searcher = {"REMOTE_ADDR": "192.0.2.9"}
        assert client.get("/api/search?q=heroin%20Mexico", environ_base=searcher).status_code == 200
        usage = app.extensions["kg"].current.services.pool.usage
        assert usage.of("192.0.2.9") > 0
        usage.charge("192.0.2.9", 10_000)
        refused = client.get("/api/search?q=poppy", environ_base=searcher)
        assert refused.status_code == 429 and "worker-seconds" in refused.get_data(as_text=True)
    finally:
        app.extensions["kg"].close()


def test_the_reading_of_a_client_s_query_in_the_web_process_is_charged_to_it(built) -> None:
    """The web process reads every client query (its length, nesting and canonical text) before any
    worker: 100 KB took it up to a third of a second of CPU, uncharged, and a text refused by that
    reading (a string left open at its very end) cost the client nothing at all, so one client could
    keep the web process busy for free. The reading is charged as a search is, and a client past its
    budget gets 429 before its text is read."""
    app = _app(built, workers=2)
    try:
        client = app.test_client()
        sender = {"REMOTE_ADDR": "192.0.2.10"}
        names = " ".join(f"?s <urn:p:{n}> ?o{n} ." for n in range(3_000))
        refused_late = f'SELECT * WHERE {{ {names} ?s ?p "unended }}'
        assert len(refused_late) > 60_000
        reply = client.post("/sparql", data={"query": refused_late}, environ_base=sender)
        assert reply.status_code == 400 and "does not end" in reply.get_data(as_text=True)
        usage = app.extensions["kg"].current.services.pool.usage
        assert usage.of("192.0.2.10") > 0
        usage.charge("192.0.2.10", 10_000)
        refused = client.post("/sparql", data={"query": refused_late}, environ_base=sender)
        assert refused.status_code == 429 and "worker-seconds" in refused.get_data(as_text=True)
    finally:
        app.extensions["kg"].close()


def _page_asked_twice(app, asker: dict[str, str], values: str) -> tuple[object, float, float]:
    """The editor's page of 500 rows of 40 columns of `values` (a format of `n`, the column's number,
    over ?s and ?o), asked twice: the second reply, the CPU it took this thread (the test client
    handles it here) and what its client was charged for it."""
    client = app.test_client()
    columns = " ".join(f"?c{n}" for n in range(40))
    binds = " ".join(f"BIND ({values.format(n=n)} AS ?c{n})" for n in range(40))
    text = f"SELECT {columns} WHERE {{ ?s ?p ?o . {binds} }} LIMIT 500"
    assert client.get(_editor(text), headers=HTML, environ_base=asker).status_code == 200
    usage = app.extensions["kg"].current.services.pool.usage
    # Charges halve every minute; on a busy machine the ask took long enough for that to take a fifth of
    # them, so the halving is set aside while the ask is measured.
    usage.half_life = 1e12
    gc.collect()  # a collection of the whole heap during the second ask would be charged to no part of it
    gc.disable()
    try:
        spent, started = usage.of(asker["REMOTE_ADDR"]), time.thread_time()
        again = client.get(_editor(text), headers=HTML, environ_base=asker)
        used = time.thread_time() - started
    finally:
        gc.enable()
    return again, used, usage.of(asker["REMOTE_ADDR"]) - spent


def test_a_page_of_an_answer_is_charged_to_its_client_even_from_the_cache(built) -> None:
    """A page labels, groups and finds the evidence of up to 500 rows in the web process. It was
    charged to no one, and an answer kept in the cache took no slot either: 5.7 KB of SPARQL whose rows
    grouped into one row held an HTTP thread for 27 s on every ask, and eight at once kept every other
    client waiting a minute. The page's making is charged as a search is, cache or not, and a client
    past its budget gets 429 for it."""
    app = _app(built, workers=2)
    try:
        asker = {"REMOTE_ADDR": "192.0.2.11"}
        again, used, charged = _page_asked_twice(app, asker, '"x{n}"')
        assert again.status_code == 200 and again.headers["Cache-Status"] == "kg; hit"
        assert charged > used / 2, (charged, used)  # the page's making, not only the text's reading
        app.extensions["kg"].current.services.pool.usage.charge("192.0.2.11", 10_000)
        refused = app.test_client().get(
            _editor('SELECT ?c0 WHERE { BIND ("x" AS ?c0) }'), headers=HTML, environ_base=asker
        )
        assert refused.status_code == 429 and "worker-seconds" in refused.get_data(as_text=True)
    finally:
        app.extensions["kg"].close()


def test_the_html_of_a_page_of_an_answer_is_charged_to_its_client(built) -> None:
    """500 rows of 40 distinct values make megabytes of HTML: its views and HTML, made after the table,
    were 40 % of the page's CPU and charged to no one."""
    app = _app(built, workers=2)
    try:
        again, used, charged = _page_asked_twice(
            app, {"REMOTE_ADDR": "192.0.2.12"}, 'CONCAT(STR(?s), STR(?o), "{n}")'
        )
        assert again.status_code == 200 and len(again.get_data()) > 2_000_000
        assert charged > used * 0.8, (charged, used)
    finally:
        app.extensions["kg"].close()


def test_a_refusal_is_explained_only_when_the_text_is_wrong_and_the_explaining_is_charged(built) -> None:
    """The editor explained every refusal in the web process, uncharged: a client past its budget,
    refused 429, still had its text read for the prefixes it did not declare, and was told to add
    one. Only a syntax error is explained, and its reading is charged like the query's."""
    app = _app(built, workers=2)
    try:
        client = app.test_client()
        sender = {"REMOTE_ADDR": "192.0.2.11"}
        undeclared = "SELECT * WHERE { ?s rdfs:label ?o } LIMIT 1"
        explained = client.get(_editor(undeclared), headers=HTML, environ_base=sender)
        assert explained.status_code == 400 and "add PREFIX rdfs:" in explained.get_data(as_text=True)
        usage = app.extensions["kg"].current.services.pool.usage
        charged = usage.of("192.0.2.11")
        assert charged > 0
        usage.charge("192.0.2.11", 10_000)
        refused = client.get(_editor(undeclared), headers=HTML, environ_base=sender)
        page = refused.get_data(as_text=True)
        assert refused.status_code == 429 and "worker-seconds" in page and "add PREFIX" not in page
    finally:
        app.extensions["kg"].close()


def test_the_ontology_page_made_for_a_client_is_charged_to_it(built) -> None:
    """The ontology's documentation takes the web process most of a second to make; with no cache to
    keep it (`--cache-mb 0`) it was made again for every request, and charged to no one."""
    app = _app(built, workers=2, cache_mb=0, client_budget=0.5)
    try:
        client = app.test_client()
        statuses = [client.get("/ontology", headers=HTML).status_code for _ in range(10)]
        assert statuses[0] == 200
        assert 429 in statuses, statuses
    finally:
        app.extensions["kg"].close()
