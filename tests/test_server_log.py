"""What a client sends cannot flood a real `kg serve`'s log: one line per request or warning, no
traceback, from the web process and the query workers alike.

rdflib warns, with its traceback, for each literal it cannot read as its
datatype; the query workers had no logging set up, so one query of 200 such
literals wrote 1,801 lines to the log through Python's last-resort handler.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from server_fixtures import RunningServer, start_server

XSD = "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
# Literals rdflib cannot read as their datatype, 200 of each kind in a query.
BAD = ['"2000-02-30"^^xsd:date', '"2000-13-01T00:00:00"^^xsd:dateTime', '"twelve"^^xsd:integer']
STAMPED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")


@pytest.fixture
def fresh(built, tmp_path) -> Iterator[RunningServer]:
    server = start_server(built.store_path, tmp_path)
    yield server
    server.stop()


def logged_after(server: RunningServer, before: int, requests: int) -> list[str]:
    """The log's lines after its first `before`, once the requests' own lines are written (each is
    logged after its answer was sent)."""
    deadline = time.monotonic() + 30
    while True:
        lines = server.log.read_text(errors="replace").splitlines()[before:]
        if sum(" /sparql?" in line for line in lines) >= requests or time.monotonic() > deadline:
            return lines


def test_literals_a_query_cannot_read_write_a_line_or_two_to_the_log_not_tracebacks(fresh) -> None:
    before = len(fresh.log.read_text(errors="replace").splitlines())
    for asked in range(2):  # each text once: the second round is not answered from the cache
        for literal in BAD:
            query = f"{XSD}SELECT ?d WHERE {{ VALUES ?d {{ {' '.join([literal] * 200)} }} }} # {asked}"
            assert fresh.get("/sparql", "application/sparql-results+json", query=query).status == 200
    lines = logged_after(fresh, before, 2 * len(BAD))
    assert not any("Traceback" in line for line in lines), lines[:20]
    assert all(STAMPED.match(line) for line in lines), lines[:20]
    # Six requests, and a warning from the place rdflib warns at, once in the minute, in each worker.
    assert len(lines) <= 2 * len(BAD) + 2, lines
