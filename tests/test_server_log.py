"""What a client sends cannot flood a real `kg serve`'s log: one line per request or warning, no
traceback, from the web process and the query workers alike.

rdflib warns, with its traceback, for each literal it cannot read as its
datatype; the query workers had no logging set up, so one query of 200 such
literals wrote 1,801 lines to the log through Python's last-resort handler.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Iterator

import pytest
from server_fixtures import RunningServer, start_server

from kg.server.log_lines import OneLine, Seldom

XSD = "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
# Literals rdflib cannot read as their datatype, 200 of each kind in a query.
BAD = ['"2000-02-30"^^xsd:date', '"2000-13-01T00:00:00"^^xsd:dateTime', '"twelve"^^xsd:integer']
STAMPED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")


READ_AHEAD_DONE = re.compile(r"read ahead of generation \S+ in [\d.]+ s")


@pytest.fixture
def fresh(built, tmp_path) -> Iterator[RunningServer]:
    """A new `kg serve`, once it has read its pages ahead: its own lines (a page read again at the end,
    on a loaded machine) are no client's."""
    server = start_server(built.store_path, tmp_path)
    deadline = time.monotonic() + 120
    while not READ_AHEAD_DONE.search(server.log.read_text(errors="replace")):
        assert time.monotonic() < deadline, server.log.read_text(errors="replace")
        time.sleep(0.2)
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


def records_written(name: str, times: int) -> list[str]:
    """The lines the server's log set-up writes for `times` warnings with a traceback from one place of
    the logger `name`."""
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(OneLine())
    handler.addFilter(Seldom())
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        for n in range(times):
            try:
                raise ValueError(f"failure {n}\nsecond line")
            except ValueError:
                logger.warning("page %d refused", n, exc_info=True)
    finally:
        logger.removeHandler(handler)
    return written.getvalue().splitlines()


def test_a_place_in_the_code_logs_once_a_minute_as_one_line() -> None:
    lines = records_written("kg.server.worker", 3)
    assert len(lines) == 1 and "page 0 refused (ValueError: failure 0 at " in lines[0], lines


def test_the_reading_of_a_build_logs_every_page_it_reads_with_its_traceback() -> None:
    """Since the log was bounded, the reading of a build said the first page it refused alone."""
    lines = records_written("kg.server.read_ahead", 3)
    said = [line.split(" ", 2)[2] for line in lines if line.endswith("refused")]
    assert said == ["page 0 refused", "page 1 refused", "page 2 refused"], lines
    assert sum("Traceback" in line for line in lines) == 3
