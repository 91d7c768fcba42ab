"""Queries asked from several threads: results in order, and a failure stops what has not started."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.build.checked_store import MEMORY_VARIABLE
from kg.build.parallel import THREADS_VARIABLE, Stopped, each_at_once, query_threads, turn
from kg.cli import main
from kg.errors import KgError


def test_results_come_in_the_items_order() -> None:
    def slower_first(number: int) -> int:
        time.sleep(0.01 * (10 - number))
        return number * number

    assert each_at_once(slower_first, range(10)) == [number * number for number in range(10)]


def test_a_failure_is_raised_and_the_items_not_started_are_not_asked() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def ask(number: int) -> int:
        with lock:
            started.append(number)
        if number == 0:
            raise ValueError("the first query failed")
        time.sleep(0.2)
        return number

    with pytest.raises(ValueError, match="the first query failed"):
        each_at_once(ask, range(40))
    assert 0 in started and len(started) <= 2 * query_threads() + 1, started


def test_the_environment_sets_how_many_queries_are_asked_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    names: set[str] = set()

    def ask(number: int) -> int:
        names.add(threading.current_thread().name)
        time.sleep(0.01)
        return number

    monkeypatch.setenv(THREADS_VARIABLE, "1")
    assert each_at_once(ask, range(20)) == list(range(20)) and len(names) == 1
    for wrong in ("0", "two", "-1", "²", "١٢"):
        monkeypatch.setenv(THREADS_VARIABLE, wrong)
        with pytest.raises(KgError, match=f"{THREADS_VARIABLE}='{wrong}': give a whole number"):
            query_threads()


@pytest.mark.parametrize(("variable", "unit"), [(THREADS_VARIABLE, "threads"), (MEMORY_VARIABLE, "quads")])
def test_a_build_with_a_wrong_setting_fails_before_it_starts(
    project_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, unit: str
) -> None:
    monkeypatch.setenv(variable, "many")
    result = CliRunner().invoke(
        main,
        [
            "--project",
            str(project_root),
            "build",
            "--dist",
            str(tmp_path / "d"),
            "--store",
            str(tmp_path / "s"),
        ],
    )
    assert result.exit_code == 2
    assert f"{variable}='many': give a whole number of {unit}" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "d").exists()


def test_work_from_several_pools_at_once_takes_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two pools asking at the same time still run no more calls at once than the threads allowed,
    and a block holding a turn counts as one of them."""
    monkeypatch.setenv(THREADS_VARIABLE, "2")
    running, most = 0, 0
    lock = threading.Lock()

    def ask(number: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return number

    def holding_a_turn() -> None:
        with turn():
            ask(-1)

    pools = [threading.Thread(target=each_at_once, args=(ask, range(10))) for _ in range(2)]
    pools.append(threading.Thread(target=holding_a_turn))
    for pool in pools:
        pool.start()
    for pool in pools:
        pool.join()
    assert most == 2


def test_once_stopped_no_call_is_made() -> None:
    stop = threading.Event()
    stop.set()
    made: list[int] = []
    with pytest.raises(Stopped):
        each_at_once(made.append, range(5), stop)
    assert made == []
