"""The gate over costly work, with real threads: a client's requests past its share wait their turn in
threads no one else needs, and each refusal says which limit was reached."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from kg.server.admission import Busy, Gate, TooMany


@contextmanager
def holding(gate: Gate, client: str, rank: int = 1) -> Iterator[threading.Event]:
    """`client` inside `gate` in a thread of its own until the block ends."""
    inside, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with gate.held(client, rank):
            inside.set()
            leave.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert inside.wait(30)
    try:
        yield leave
    finally:
        leave.set()
        thread.join(30)


def asked(gate: Gate, client: str, outcome: list[object], rank: int = 1) -> threading.Thread:
    """A request of `client` in a thread of its own, its outcome (in, or the refusal) noted."""

    def ask() -> None:
        try:
            with gate.held(client, rank):
                outcome.append("in")
        except (Busy, TooMany) as refused:
            outcome.append(refused)

    thread = threading.Thread(target=ask)
    thread.start()
    return thread


def waiting(gate: Gate, count: int) -> None:
    """Until `count` requests wait their turn at `gate`."""
    with gate._freed:
        assert gate._freed.wait_for(lambda: sum(map(len, gate._waiting.values())) == count, 30)


def test_a_request_past_the_client_s_share_waits_for_one_of_its_own_to_end() -> None:
    gate = Gate(capacity=4, per_client=1, wait=30)
    outcome: list[object] = []
    with holding(gate, "a") as leave:
        thread = asked(gate, "a", outcome)
        waiting(gate, 1)
        assert outcome == []
        leave.set()
    thread.join(30)
    assert outcome == ["in"]


def test_another_client_takes_the_place_of_a_request_waiting_past_its_share() -> None:
    gate = Gate(capacity=2, per_client=1, wait=30)
    outcome: list[object] = []
    with holding(gate, "a"):
        thread = asked(gate, "a", outcome)
        waiting(gate, 1)
        with holding(gate, "b"):  # the second thread, which the waiting request held
            thread.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], TooMany) and outcome[0].status == 429
    assert "went to another client's request" in outcome[0].message


def test_a_request_past_the_share_when_every_thread_is_taken_is_told_the_server_is_busy() -> None:
    """It was told the client had its requests under way and as many waiting, which it had not."""
    gate = Gate(capacity=2, per_client=1, wait=30)
    with holding(gate, "a"), holding(gate, "b"):
        outcome: list[object] = []
        asked(gate, "a", outcome).join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], Busy) and outcome[0].status == 503


@pytest.mark.parametrize("per_client", [1, 3])
def test_a_request_past_the_share_and_those_waiting_names_both(per_client: int) -> None:
    gate = Gate(capacity=20, per_client=per_client, wait=30)
    outcome: list[object] = []
    with ExitStack() as held:
        for _ in range(per_client):
            held.enter_context(holding(gate, "a"))
        threads = [asked(gate, "a", outcome) for _ in range(per_client)]
        waiting(gate, per_client)
        asked(gate, "a", outcome).join(30)
        refused = outcome.pop()
    for thread in threads:
        thread.join(30)
    assert isinstance(refused, TooMany) and refused.status == 429
    assert f"has {per_client} costly requests" in refused.message, refused.message
    assert f"and {per_client} more waiting" in refused.message, refused.message
    assert outcome == ["in"] * per_client


LIGHT, NOT_KNOWN, HEAVY = 0, 1, 2  # the ranks the workers' queue gives


def test_a_heavy_client_never_takes_the_reserve_through_a_request_waiting_there() -> None:
    """A light client's request past its share waited in the thread kept for clients ranking before a
    holder; a heavy client finding the gate full took that place, so four heavy requests were inside
    and a new client was refused 503. A waiting request gives way only to a request that the gate,
    counting those inside alone, would let in."""
    gate = Gate(capacity=6, per_client=3, reserve=1, wait=30)
    with ExitStack() as inside:
        for client, rank in [("light", LIGHT)] * 3 + [("heavy", HEAVY)] * 3:
            inside.enter_context(holding(gate, client, rank))
        light: list[object] = []
        light_waits = asked(gate, "light", light, LIGHT)
        waiting(gate, 1)
        heavy: list[object] = []
        asked(gate, "another heavy", heavy, HEAVY).join(30)
        assert len(heavy) == 1 and isinstance(heavy[0], Busy), heavy
        new: list[object] = []
        asked(gate, "new", new, NOT_KNOWN).join(30)
        assert new == ["in"], new
        light_waits.join(30)
        assert len(light) == 1 and isinstance(light[0], TooMany), light
