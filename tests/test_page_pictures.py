"""A page's pictures asked together by one browser wait their turn rather than being refused, on a real
`kg serve` that has drawn nothing yet; and a client past its share is told which limit it reached.

The charts page shows five pictures, which a browser asks for at once. The
server let one client hold three costly requests and refused the other two
(429) in a few milliseconds, so a first visit showed two broken pictures.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.parse
from collections.abc import Iterator

import pytest
from browser import CHROMIUM
from server_fixtures import Reply, RunningServer, start_server

# Two workers and eight threads, whatever the machine: six threads for costly work, three of one client.
# A request waits for its turn at most the queue wait, which a first drawing on a loaded machine of two
# cores may take: ten seconds, where a refusal at once came within milliseconds.
SETTINGS = ("--workers", "2", "--threads", "8", "--queue-wait", "10")
PICTURES = re.compile(r'<img src="(/charts/[^"]+)"')


@pytest.fixture
def fresh(built, tmp_path) -> Iterator[RunningServer]:
    """A server that has drawn and cached nothing."""
    server = start_server(built.store_path, tmp_path, *SETTINGS)
    yield server
    server.stop()


def together(server: RunningServer, paths: list[str], source: str = "127.0.0.1") -> list[Reply]:
    """The replies to `paths`, asked for at once from one address, as a browser asks for a page's pictures."""
    replies: list[Reply] = []
    threads = [
        threading.Thread(target=lambda p=path: replies.append(server.request(p, source=source)))
        for path in paths
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return replies


def test_the_pictures_of_a_page_asked_together_are_all_drawn(fresh) -> None:
    page = fresh.get("/charts")
    paths = [path.replace("&amp;", "&") for path in PICTURES.findall(page.text)]
    assert len(paths) == 5
    replies = together(fresh, [path.replace(".svg", ".png") for path in paths])
    said = [(reply.status, reply.body[:300]) for reply in replies if reply.status != 200]
    assert said == []


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")
def test_a_first_visit_to_the_charts_page_shows_every_picture(fresh, browser) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        statuses: list[int] = []
        page.on("response", lambda r: statuses.append(r.status) if "/charts/" in r.url else None)
        page.goto(fresh.base + "/charts")
        page.wait_for_load_state("networkidle")
        images = page.locator("figure.chart img")
        assert images.count() == 5
        broken = images.evaluate_all("imgs => imgs.filter(i => !i.complete || !i.naturalWidth).length")
        assert broken == 0, statuses
        assert statuses == [200] * 5
    finally:
        context.close()


# A chart of 500 rows of a query of its own: about a second of the web process's CPU to draw.
CHART = (
    "SELECT ?d ?v ?k WHERE {{ ?s ?p ?o BIND(STR(1000 + STRLEN(STR(?s)) * 7 + STRLEN(STR(?o))) AS ?d)"
    ' BIND(STRLEN(STR(?o)) AS ?v) BIND(CONCAT("k", STR(?p)) AS ?k) }} LIMIT 500 # {}'
)


def test_a_client_asking_too_much_at_once_is_told_the_limit_it_reached(fresh) -> None:
    """Sixteen slow pictures at once from one client, each needing a query: the rest beyond what the
    client may hold are refused, each refusal naming the limit it reached, the client's one query at
    once (half the two workers, whose queue is met first with these settings) or its three costly
    requests; it said eight, a limit of neither."""
    stamp = time.time_ns()
    paths = [
        "/query/view.png?" + urllib.parse.urlencode({"view": "chart", "query": CHART.format(f"{stamp} {n}")})
        for n in range(16)
    ]
    replies = together(fresh, paths)
    refused = [reply for reply in replies if reply.status == 429]
    assert refused, sorted(reply.status for reply in replies)
    for reply in refused:
        message = reply.json()["error"]["message"]
        assert re.search(r"\b3 costly requests\b|\b1 query\b", message) and "8" not in message, message
        assert reply.headers.get("retry-after") == "1"
