"""The server's app in this process (Flask's test client), over real query workers and the session's build."""

from __future__ import annotations

import time

import pytest

from kg.server import ServerConfig, create_app
from kg.server.bounded import BoundedStore
from kg.server.cache import BudgetCache


def test_create_app_starts_nothing(built) -> None:
    started = time.perf_counter()
    app = create_app(ServerConfig(store=str(built.store_path)))
    elapsed = time.perf_counter() - started
    pool = app.extensions["kg"].current.services.pool
    assert not pool.started, "no worker may start before the first query"
    print(f"\ncreate_app: {elapsed * 1000:.0f} ms")


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
    cache = BudgetCache(1000)
    for n in range(100):
        cache.put(("answer", n), b"x" * 200, 200)
        assert cache.used <= 1000
    assert len(cache) == 5
    cache.put("too big", b"x" * 300, 300)
    assert cache.get("too big") is None


@pytest.mark.parametrize("text", ["SELECT * WHERE " + "{" * 100 + "}" * 100, "a" * 100_001])
def test_a_query_too_deep_or_too_long_is_refused_before_any_worker(client, text: str) -> None:
    reply = client.post("/sparql", data={"query": text})
    assert reply.status_code in (400, 413)
    assert reply.json["error"]["status"] == reply.status_code
