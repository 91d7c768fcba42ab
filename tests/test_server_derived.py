"""What is made once for every visitor, waited for a bounded time (`Services.derived_within`): the
making runs in a thread of its own, once, and its outcome, whatever it is, reaches the requests that
waited for it; no request makes it in its own thread. On the real Services of an app over the built
store; the `make` given is the test's own object to make."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from kg.server import ServerConfig, create_app
from kg.server.services import Services
from kg.server.workers import ServiceError

KEY = ("made-for-the-test",)


@pytest.fixture
def state(built) -> Iterator[Services]:
    app = create_app(ServerConfig(store=str(built.store_path), built=built.dist, workers=1))
    try:
        yield app.extensions["kg"].current.services
    finally:
        app.extensions["kg"].close()


def recorded(made: object, seconds: float, threads: list[str]) -> Callable[[], object]:
    """A making that takes `seconds` and records the thread it ran in."""

    def make() -> object:
        threads.append(threading.current_thread().name)
        time.sleep(seconds)
        return made

    return make


def test_a_request_waits_its_time_and_the_making_goes_on_once_in_the_background(state: Services) -> None:
    threads: list[str] = []
    make = recorded("made", 1.5, threads)
    started = time.monotonic()
    assert state.derived_within(KEY, make, 0.3) is None
    assert state.derived_within(KEY, make, 0.3) is None  # still being made: not started again
    assert time.monotonic() - started < 1.2
    assert state.derived_within(KEY, make, 5) == "made"
    assert threads and len(threads) == 1 and threads[0] != threading.current_thread().name


def test_a_lock_held_a_moment_by_another_request_does_not_make_a_waiting_request_make_it(
    state: Services,
) -> None:
    """A client past its budget holds the making lock while it is refused; the request that waited
    for the lock then found nothing made and made the object in its own thread, unbounded."""
    threads: list[str] = []
    lock = state._making_lock(KEY)
    lock.acquire()
    releaser = threading.Timer(0.2, lock.release)
    releaser.start()
    started = time.monotonic()
    answer = state.derived_within(KEY, recorded("made", 2.0, threads), 0.6)
    waited = time.monotonic() - started
    releaser.join()
    assert answer is None and waited < 1.5, waited
    assert len(threads) == 1 and threads[0] != threading.current_thread().name


def test_a_making_that_fails_otherwise_is_refused_to_those_who_waited_and_kept(state: Services) -> None:
    """Any failure of the making, not only a refusal, is its outcome: the request that waited is told,
    and the next is refused at once rather than making it again in its own thread."""
    calls: list[str] = []

    def broken() -> object:
        calls.append(threading.current_thread().name)
        raise RuntimeError("a defect in the making")

    for _ in range(2):
        with pytest.raises(ServiceError) as refused:
            state.derived_within(KEY, broken, 5)
        assert refused.value.status == 500 and "RuntimeError" in refused.value.message
        assert refused.value.retry_after is None  # a defect would come again: kept, not asked again soon
    assert len(calls) == 1 and calls[0] != threading.current_thread().name


def test_a_making_that_cannot_start_leaves_the_next_request_free_to_start_it(
    state: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no thread can be started (the process is out of them), the request fails, and the
    making's lock is not left held: later requests would otherwise wait for a making that never runs."""
    start = threading.Thread.start

    def refused(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refused)
    with pytest.raises(RuntimeError):
        state.derived_within(KEY, lambda: "made", 0.3)
    monkeypatch.setattr(threading.Thread, "start", start)
    assert state.derived_within(KEY, lambda: "made", 5) == "made"


def test_a_failure_of_a_making_a_blocking_request_started_is_told_to_those_who_waited(
    state: Services,
) -> None:
    """The read-ahead makes the index with `derived`, which waits; a search waiting for that making
    meanwhile was not told of its failure, started a second making and waited again."""
    calls: list[str] = []
    begun = threading.Event()

    def broken() -> object:
        calls.append(threading.current_thread().name)
        begun.set()
        time.sleep(0.3)
        raise RuntimeError("a defect in the making")

    def blocking() -> None:
        with contextlib.suppress(RuntimeError):
            state.derived(KEY, broken)

    reader = threading.Thread(target=blocking)
    reader.start()
    assert begun.wait(10)
    with pytest.raises(ServiceError) as refused:
        state.derived_within(KEY, broken, 5)
    reader.join()
    assert refused.value.status == 500 and "RuntimeError" in refused.value.message
    assert len(calls) == 1


class _MadeMeanwhile(dict):
    """Not there at a request's first look, there at its second: a making ended between the two."""

    looks = 0

    def __contains__(self, key: object) -> bool:
        self.looks += 1
        return self.looks > 1 and super().__contains__(key)


def test_an_object_made_between_a_request_s_two_looks_leaves_the_lock_free(state: Services) -> None:
    """Found made once the request held the lock, the object was returned with the lock still held:
    every blocking `derived` of it (the read-ahead's) then waited for good."""
    made = _MadeMeanwhile({KEY: "made"})
    state._derived = made
    assert state.derived_within(KEY, lambda: "again", 0.3) == "made"
    assert not state._making_lock(KEY).locked()
    assert state.derived(KEY, lambda: "again") == "made"
