"""A build is one generation: dist/ and the store switch together, and a kill -9 at any instant of the
publishing step leaves the old generation or the new one whole, never a mix and never nothing.

The publishing step runs in a process of its own (forked by `publish_driver.py`), killed
before each of its file-system steps in turn and at random instants; after each
kill the paths users know are opened as a user would, and the next run cleans up.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from inputs import copy_build
from publishing import MARKER, MARKER_CLASS, MARKER_QUERY, RDFS_LABEL, Driver, Layout, whole_dump
from server_fixtures import PROJECT, RunningServer, start_server

from kg.server import ServerConfig, create_app
from kg.store.embedded import check_built
from kg.store.generations import CURRENT, GENERATIONS, Generations, Lease, leased

RANDOM_KILLS = 6


@pytest.fixture
def layout(tmp_path: Path, driver: Driver) -> Layout:
    """A layout whose builds hold one data triple besides their marker: what publishing does, step by
    step, does not depend on how much it publishes (the `kg build` test below publishes the project)."""
    graphs = tmp_path / "inputs"
    graphs.mkdir()
    (graphs / "data.ttl").write_text(
        f'<{MARKER}-source> a <{MARKER_CLASS}> ; <{RDFS_LABEL}> "one data triple" .\n', "utf-8"
    )
    return Layout(tmp_path / "project", graphs, driver)


def served_marker(server: RunningServer, generation: str, seconds: float = 60) -> str:
    """The marker `server` answers once it answers from `generation` (it takes a new one up at once)."""
    deadline = time.monotonic() + seconds
    while True:
        reply = server.get("/sparql", "application/sparql-results+json", query=MARKER_QUERY)
        assert reply.status == 200, reply.text
        if reply.headers["kg-generation"] == generation:
            return reply.json()["results"]["bindings"][0]["m"]["value"]  # type: ignore[index]  # JSON of the SPARQL results format
        assert time.monotonic() < deadline, f"still answering from {reply.headers['kg-generation']}"
        time.sleep(0.2)


def started_marker(store: Path) -> tuple[str, str]:
    """The generation and marker of the first answer of a server started now on the user's path `store`:
    the store checked and the app made as `kg serve` makes them, with a real query worker, in this
    process (the real `kg serve` after a kill is started by the test of the `kg build` command)."""
    check_built(store)
    app = create_app(ServerConfig(store=os.path.abspath(store), project=PROJECT, workers=1))
    try:
        reply = app.test_client().get(
            "/sparql",
            query_string={"query": MARKER_QUERY},
            headers={"Accept": "application/sparql-results+json"},
        )
        assert reply.status_code == 200, reply.text
        [row] = reply.json["results"]["bindings"]  # type: ignore[index]  # JSON of the SPARQL results format
        return reply.headers["KG-Generation"], row["m"]["value"]
    finally:
        app.extensions["kg"].close()


def check_served(layout: Layout, running: RunningServer, shown: tuple[str, str], seconds: float = 60) -> None:
    """The running server takes up the generation shown and lets go of those before it (so the next
    build may retire them), and a server started now answers from it."""
    assert served_marker(running, shown[0]) == shown[1]
    deadline = time.monotonic() + seconds
    while held := [
        name for name in layout.named_generations() if name < shown[0] and leased(layout.home / name)
    ]:
        assert time.monotonic() < deadline, f"the server still holds {held} after taking up {shown[0]}"
        time.sleep(0.1)
    assert started_marker(layout.store) == shown


def test_a_build_is_one_generation_behind_links_and_the_next_cleans(layout: Layout) -> None:
    layout.publish("first")
    assert layout.dist.is_symlink() and layout.store.is_symlink()
    first, marker = layout.whole_generation()
    assert marker == "first" and first.startswith("0001-")
    (layout.home / ".new-99999").mkdir()  # what a killed build leaves
    (layout.root / ".kg" / ".store.new-12345").mkdir()  # and a build from before generations
    layout.publish("second")
    layout.publish("third")
    third, marker = layout.whole_generation()
    assert marker == "third" and third.startswith("0003-")
    kept = sorted(name for name in os.listdir(layout.home) if not name.startswith("."))
    assert [name[:5] for name in kept] == ["0002-", "0003-", CURRENT[:5]]  # the first is gone
    assert layout.leftovers() == []


def test_folders_of_a_build_before_generations_become_links(layout: Layout) -> None:
    layout.store.mkdir(parents=True)
    (layout.store / "CURRENT").write_text("an old store")
    layout.dist.mkdir()
    (layout.dist / "opioid-kg.nq").write_text("old\n")
    layout.publish("new")
    assert layout.whole_generation()[1] == "new"
    layout.publish("newer")
    assert layout.leftovers() == []


def representative_steps(steps: list[str]) -> list[int]:
    """The numbers of the steps to kill before: of each run of steps of one kind (the fsync of every
    file of the new generation, the unlink of every file of the oldest), the first, middle and last."""
    chosen: set[int] = set()
    for _, run in itertools.groupby(enumerate(steps, 1), key=lambda numbered: numbered[1].split()[1]):
        numbers = [number for number, _ in run]
        chosen |= {numbers[0], numbers[len(numbers) // 2], numbers[-1]}
    return sorted(chosen)


def test_kill_at_every_step_and_at_random_instants_leaves_one_whole_generation(
    layout: Layout, tmp_path: Path
) -> None:
    """Before each file-system step of publishing, and at random instants: kill -9, then the user's
    paths show the old or the new generation whole, a running `kg serve` takes it up, a server
    started then answers from it, and the next run removes what the killed one left (after a kill at
    a step, `Layout.tidy` does, as the next run's first step would; after a kill at a random instant, the
    next trial does)."""
    layout.publish("first")
    layout.publish("old")
    steps, duration = layout.publish("probe")  # as every trial runs: it removes the oldest generation
    previous = layout.whole_generation()
    logs = tmp_path / "logs"
    logs.mkdir()
    running = start_server(layout.store, logs, "--workers", "1")
    try:
        chosen = representative_steps(steps)
        outcomes: dict[str, int] = {}
        for trial, step in enumerate(chosen):
            taken = layout.kill_at_step(f"trial-{trial}", step)
            assert taken.split()[:2] == steps[step - 1].split()[:2], (
                f"{taken} is not the probe's {steps[step - 1]}"
            )
            shown = layout.whole_generation()
            assert shown in (previous, (shown[0], f"trial-{trial}")), f"after kill at {taken}: {shown}"
            check_served(layout, running, shown)
            outcome = "old" if shown == previous else "new"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            previous = shown
            layout.tidy()  # so the next trial starts where the probe started and takes its steps:
            if len(layout.named_generations()) < 2:  # with an older generation to retire
                layout.publish(f"refill-{trial}")
                previous = layout.whole_generation()
                check_served(layout, running, previous)
        rng = random.Random(20261130)
        for trial in range(RANDOM_KILLS):
            finished = layout.kill_after(f"random-{trial}", rng.uniform(0, duration))
            shown = layout.whole_generation()
            assert shown in (previous, (shown[0], f"random-{trial}"))
            assert not finished or shown[1] == f"random-{trial}"
            check_served(layout, running, shown)
            outcome = "old" if shown == previous else "new"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            previous = shown
    except (AssertionError, OSError):
        print(running.log.read_text(errors="replace")[-4000:])
        raise
    finally:
        running.stop()
    layout.publish("last")
    assert layout.whole_generation()[1] == "last"
    assert layout.leftovers() == []
    kinds = {line.split()[1] for line in steps}
    assert (
        {steps[number - 1].split()[1] for number in chosen}
        == kinds
        >= {"mkdir", "replace", "fsync", "symlink"}
    )
    assert (
        outcomes.get("new", 0) >= 1
        and outcomes.get("old", 0) >= 1
        and len(chosen) >= 15
        and RANDOM_KILLS >= 5
    )
    print(f"kill trials: {len(chosen)} before steps, {RANDOM_KILLS} at random instants; outcomes {outcomes}")


def test_kill_of_the_kg_build_command_while_it_publishes(
    project_copy: Path, built, tmp_path: Path, driver: Driver
) -> None:
    """The `kg build` command itself, killed -9 at random instants once it has begun writing its new
    generation: the project's own dist/ and .kg/store show one build whole (the previous one, unless
    the kill came after the switch), and `kg serve` answers from it."""
    command = [str(Path(sys.executable).with_name("kg")), "--project", str(project_copy), "build"]
    copy_build(built.store_path.parent, project_copy / ".kg", project_copy / "dist")  # as a first build
    layout = Layout(project_copy, project_copy / "dist" / "graphs", driver)
    generations = project_copy / ".kg" / GENERATIONS
    rng = random.Random(7)
    for _ in range(2):
        building = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not [name for name in os.listdir(generations) if name.startswith(".new-")]:
            assert building.poll() is None, "the build ended before it wrote anything"
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 1.5))
        building.send_signal(signal.SIGKILL)
        building.wait(30)
        shown = os.readlink(generations / CURRENT)
        store_real, dist_real = (Path(os.path.realpath(p)) for p in (layout.store, layout.dist))
        assert store_real.parent == dist_real.parent == generations.resolve() / shown
        whole_dump(store_real.parent)
        layout.check_named_whole()
        server = start_server(layout.store, tmp_path, "--workers", "1")
        try:
            reply = server.get("/sparql", "application/sparql-results+json", query="ASK {}")
            assert reply.status == 200 and reply.headers["kg-generation"] == shown
        finally:
            server.stop()
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    assert [name for name in os.listdir(generations) if name.startswith(".new-")] == []


def test_each_staging_of_one_process_has_a_folder_of_its_own(tmp_path: Path) -> None:
    """A store an earlier build of this process left open keeps its lock by path: the next build's
    staging folder must not be the same path, or its store cannot be opened."""
    generations = Generations(tmp_path / ".kg" / "store", tmp_path / "dist")
    with generations.locked():
        first = generations.staging()
        generations.begin(first)
        left_open = ox.Store(str(first.store))
        second = generations.staging()
        generations.begin(second)
        assert second.path != first.path
        assert len(ox.Store(str(second.store))) == 0  # opened beside the one left open
        del left_open


def test_retiring_removes_only_unserved_generations_older_than_the_current(tmp_path: Path) -> None:
    """What a build removes while its writers finish: the generations older than the current one, but
    not one a server still answers from, nor the current, nor a newer or a staging folder."""
    generations = Generations(tmp_path / ".kg" / "store", tmp_path / "dist")
    home = generations.home
    names = ["0001-aaaaaaaaaaaa", "0002-bbbbbbbbbbbb", "0003-cccccccccccc", "0004-dddddddddddd"]
    for name in names:
        (home / name / "store").mkdir(parents=True)
        (home / name / "store" / "CURRENT").write_text("a store")
    (home / ".new-1-00000000").mkdir()  # a build staging meanwhile
    os.symlink(names[2], home / CURRENT)
    served = Lease((home / names[1] / "store").resolve())
    try:
        with generations.locked():
            removed = generations.retire_older()
        assert removed == [home / names[0]]
        assert sorted(os.listdir(home)) == [".lock", ".new-1-00000000", *names[1:], CURRENT]
    finally:
        served.release()
    with generations.locked():
        assert generations.retire_older() == [home / names[1]]  # no longer served
        assert generations.retire_older() == []
