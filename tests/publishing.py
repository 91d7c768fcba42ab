"""The build's publishing step as the kill tests drive it: the driver process (`publish_driver.py`)
that forks one process per trial, and the paths a user knows, checked whole after each trial."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from kg.query.counts import triples_per_graph
from kg.store.embedded import EmbeddedStore
from kg.store.generations import CURRENT, Generations, generation_id

DRIVER = Path(__file__).with_name("publish_driver.py")
MARKER = "https://w3id.org/opioid-kg/id/build-marker"
# The marker's class, declared by the publishing driver in the ontology graph: every thing has a class.
MARKER_CLASS = "https://w3id.org/opioid-kg/id/build-marker-class"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
MARKER_QUERY = f"SELECT ?m WHERE {{ <{MARKER}> <{RDFS_LABEL}> ?m }}"


WAIT = 300  # seconds a trial may take before the test gives up on it


class Driver:
    """The publishing driver (`publish_driver.py`), one process for a test's trials: each trial is a
    process it forks, which the test reads line by line and may kill."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(DRIVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
        )
        self.pending = b""
        self.running = 0  # the trial's process, until its exit is read

    def start(self, fields: list[str]) -> None:
        """Start a trial; its process says `ready` before it publishes."""
        assert self.process.stdin is not None
        self.process.stdin.write(("\t".join(fields) + "\n").encode())
        self.running = int(self.line(WAIT).removeprefix("pid "))
        assert self.line(WAIT) == "ready"

    def line(self, seconds: float) -> str:
        """The next line the trial or the driver prints, or "" when none came within `seconds`."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + seconds
        while b"\n" not in self.pending:
            if not select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))[0]:
                return ""
            chunk = os.read(self.process.stdout.fileno(), 65536)
            assert chunk, "the publishing driver ended"
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return line.decode()

    def until_exit(self, seconds: float = WAIT) -> tuple[list[str], int | None]:
        """The trial's further lines, and its exit code once the driver reaped it (None if it runs on
        after `seconds`)."""
        deadline = time.monotonic() + seconds
        lines = []
        while True:
            line = self.line(max(0.0, deadline - time.monotonic()))
            if not line:
                return lines, None
            if line.startswith("exit "):
                self.running = 0
                return lines, int(line.removeprefix("exit "))
            lines.append(line)

    def kill(self) -> int | None:
        """Kill -9 the trial's process; its exit code once the driver has reaped it (0 when it finished
        just before the kill)."""
        with contextlib.suppress(ProcessLookupError):  # it ended, and the driver reaped it, meanwhile
            os.kill(self.running, signal.SIGKILL)
        return self.until_exit(30)[1]

    def close(self) -> None:
        if self.running:
            with contextlib.suppress(ProcessLookupError):  # a trial a failed test left may have ended
                os.kill(self.running, signal.SIGKILL)
        self.process.kill()
        self.process.wait(30)
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


class Layout:
    """The paths a user knows, in a temporary folder: `dist` and `.kg/store`."""

    def __init__(self, root: Path, graphs: Path, driver: Driver) -> None:
        self.root = root
        self.graphs = graphs
        self.driver = driver
        self.dist = root / "dist"
        self.store = root / ".kg" / "store"
        self.generations = Generations(self.store, self.dist)
        self.home = self.generations.home

    def tidy(self) -> None:
        """Remove what a killed trial left, as the next run's first step would."""
        with self.generations.locked():
            self.generations.clean()

    def start(self, marker: str, stop_at: int = 0) -> None:
        self.driver.start([str(self.graphs), str(self.store), str(self.dist), marker, str(stop_at)])

    def publish(self, marker: str) -> tuple[list[str], float]:
        """Run the publishing step through; the steps it took and the seconds it took them."""
        self.start(marker)
        started = time.monotonic()
        lines, code = self.driver.until_exit()
        duration = time.monotonic() - started
        assert code == 0 and lines[-1] == "done", lines
        return lines[:-1], duration

    def kill_at_step(self, marker: str, step: int) -> str:
        """Kill -9 the publishing step just before its `step`-th file-system step; that step."""
        self.start(marker, step)
        line = ""
        while not line.startswith(f"{step} "):
            line = self.driver.line(WAIT)
            assert line and not line.startswith("exit "), f"the trial ended or hung before step {step}"
        assert self.driver.kill() == -signal.SIGKILL
        return line.strip()

    def kill_after(self, marker: str, seconds: float) -> bool:
        """Kill -9 the publishing step `seconds` after it starts; whether it had finished by then."""
        self.start(marker)
        code = self.driver.until_exit(seconds)[1]
        if code is None:
            code = self.driver.kill()
        return code == 0

    def whole_generation(self) -> tuple[str, str]:
        """The generation the user's paths show, checked whole, and every other folder named as a
        generation checked whole too (a removal cut short must not leave half of one under its name).
        Returns the shown generation's id and marker."""
        store_real, dist_real = Path(os.path.realpath(self.store)), Path(os.path.realpath(self.dist))
        assert store_real.parent == dist_real.parent, f"store {store_real} and dist {dist_real} differ"
        assert store_real.parent.parent == self.home.resolve()
        assert generation_id(self.store) == store_real.parent.name
        self.check_named_whole()
        return store_real.parent.name, _marker_of_whole(store_real.parent)

    def check_named_whole(self) -> None:
        """Every folder named as a generation is whole: a removal cut short must not leave part of one
        under its name, where the next build would keep it as the previous generation."""
        for name in self.named_generations():
            whole_dump(self.home / name)

    def named_generations(self) -> list[str]:
        """The folders named as generations, oldest first."""
        return sorted(name for name in os.listdir(self.home) if not name.startswith(".") and name != CURRENT)

    def leftovers(self) -> list[str]:
        names = set(os.listdir(self.home)) - {CURRENT, ".lock"}
        assert len(self.named_generations()) <= 2, (
            f"more than the current and previous generation: {sorted(names)}"
        )
        hidden = [name for name in names if name.startswith(".")]
        return hidden + [name for name in os.listdir(self.root / ".kg") if name.startswith(".")]


def whole_dump(folder: Path) -> tuple[list[str], EmbeddedStore]:
    """The N-Quads lines of the generation in `folder`, and its store, once both hold the same quads."""
    dump = folder / "dist" / "opioid-kg.nq"
    assert dump.is_file(), f"{folder.name} is named as a generation but has no {dump.name}"
    lines = dump.read_text("utf-8").splitlines()
    store = EmbeddedStore(folder / "store")
    assert sum(triples_per_graph(store).values()) == len(lines), f"{folder.name}: store and dist/ differ"
    return lines, store


def _marker_of_whole(folder: Path) -> str:
    """The marker of the whole generation in `folder`."""
    lines, store = whole_dump(folder)
    [row] = list(store.query(MARKER_QUERY))
    marker: str = row["m"].value
    assert any(line.startswith(f"<{MARKER}>") and f'"{marker}"' in line for line in lines)
    return marker
