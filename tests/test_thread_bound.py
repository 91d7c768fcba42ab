"""The embedded store's answers are dropped in the thread that read them, however the reading ends:
never left to a garbage collection in another thread, which would refuse to drop them and leak them."""

from __future__ import annotations

import gc
import threading

import pytest
from collector import kept_in_a_cycle, refusals, thread_bound_garbage

from kg.store.embedded import EmbeddedStore

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
