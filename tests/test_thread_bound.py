"""The embedded store's answers are dropped in the thread that read them, however the reading ends:
never left to a garbage collection in another thread, which would refuse to drop them and leak them."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import pyoxigraph as ox
import pytest
from collector import kept_in_a_cycle, refusals, thread_bound_garbage
from test_build import misquote_an_excerpt

from kg.build.parallel import each_at_once
from kg.build.pipeline import build
from kg.store.embedded import EmbeddedStore

REPORT = "000_1bdfefaeb44abb70"
SELECT = "SELECT ?s ?o WHERE { ?s ?p ?o }"
QUERIES = {
    "select": SELECT,
    "select, sorted here": f"{SELECT} ORDER BY ?s",
    "construct": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
}


@pytest.fixture(autouse=True)
def no_garbage_before():
    gc.collect()


def read_then_fail(store: EmbeddedStore, sparql: str, rows: int) -> None:
    """Read `rows` rows of the answer, then fail with the answer still held by this frame."""
    answer = store.query(sparql)
    for index, _ in enumerate(answer):
        if index + 1 == rows:
            raise ValueError(f"the reader failed after {rows} row(s)")


@pytest.mark.parametrize("form", QUERIES)
@pytest.mark.parametrize("rows", [1, 3])
def test_an_answer_whose_reader_fails_is_not_left_to_the_collector(built, form, rows):
    store = built.store()
    assert (
        kept_in_a_cycle(lambda: read_then_fail(store, QUERIES[form], rows))
        == f"the reader failed after {rows} row(s)"
    )
    assert thread_bound_garbage() == []


def test_an_answer_read_to_its_end_is_dropped_before_its_reader_fails(built):
    store = built.store()

    def read_all_then_fail() -> None:
        answer = store.query(SELECT)
        assert sum(1 for _ in answer) > 1000
        raise ValueError("the reader failed after the last row")

    assert kept_in_a_cycle(read_all_then_fail) == "the reader failed after the last row"
    assert thread_bound_garbage() == []


def test_an_answer_read_in_another_thread_is_not_refused_by_this_one(built):
    """The symptom itself: a reader thread fails; the collection, here, finds nothing it must refuse."""
    store = built.store()
    reader = threading.Thread(target=kept_in_a_cycle, args=(lambda: read_then_fail(store, SELECT, 2),))
    reader.start()
    reader.join()
    with refusals() as refused:
        gc.collect()
    assert refused == []


def _figure_its_excerpt_does_not_write(project: Path) -> None:
    changes = project / "graph" / REPORT / "data" / "changes.ttl"
    changes.write_text(
        changes.read_text("utf-8").replace('kg:percentChange "38"', 'kg:percentChange "44100"'), "utf-8"
    )


def _undeclared_class(project: Path) -> None:
    actors = project / "graph" / "common" / "data" / "actors.ttl"
    actors.write_text(
        actors.read_text("utf-8").replace(
            "organization:esri a kg:Company ;", "organization:esri a kg:Firm ;"
        ),
        "utf-8",
    )


def _source_changed(project: Path) -> None:
    source = project / "sources" / REPORT / "text.txt"
    source.write_text(source.read_text("utf-8") + "\n", "utf-8")


FAULTS = {
    "an excerpt the source does not say (checked beside validation)": misquote_an_excerpt,
    "a figure against the shapes (validated in the query threads)": _figure_its_excerpt_does_not_write,
    "an undeclared class": _undeclared_class,
    "a source's text changed": _source_changed,
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_failed_build_leaves_no_answer_to_another_thread(project_copy: Path, tmp_path: Path, fault: str):
    """The build asks its store from several threads, and a check's failure passes from its thread to the
    caller's: what the failed checks were reading is dropped where it was read, during the build and
    after, its error kept with the frames it passed through."""
    FAULTS[fault](project_copy)
    with refusals() as refused:
        said = kept_in_a_cycle(lambda: build(project_copy, tmp_path / "dist", tmp_path / "store"))
        assert said, "the build failed without a word"
        assert thread_bound_garbage() == []
        gc.collect()
    assert refused == []


def test_an_error_handed_over_by_the_query_threads_leaves_their_answers_there(built):
    """A call in the build's query threads fails holding an answer it has not read: the error is raised
    again in the caller's thread, and what the failed call held is dropped in its own."""
    store = ox.Store.read_only(os.path.realpath(built.store_path))

    def read_then_fail(rows: int) -> None:
        answer = store.query(SELECT, use_default_graph_as_union=True)
        read = [row for _, row in zip(range(rows), answer, strict=False)]
        raise ValueError(f"failed after {len(read)} row(s), the answer held")

    with refusals() as refused:
        said = kept_in_a_cycle(lambda: each_at_once(read_then_fail, [1, 2, 3]))
        assert said == "failed after 1 row(s), the answer held"
        gc.collect()
    assert refused == []
