"""The serializations are written by a child process of the build: it never outlives the build, and
what it writes is what the build publishes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import children_of, running

from kg.build import pipeline
from kg.build.incremental import STATE
from kg.build.pipeline import BuildFailed, _writers_ready, build
from kg.build.serializations import (
    ONE_WRITER_BELOW,
    SerializationFailed,
    Serializing,
    serialization_paths,
)
from kg.build.whole_files import write_sealed
from kg.store.generations import Generation

WRITER = "kg.build.serializations"


def writers(parent: int | None = None) -> list[int]:
    """The writing processes `parent` (this process by default) started."""
    started_by = os.getpid() if parent is None else parent
    return [pid for pid, command in children_of(started_by) if WRITER.encode() in command.split(b"\0")]


def alive(pids: list[int]) -> list[int]:
    """Those of the writing processes `pids` still running."""
    return [pid for pid, _, command in running() if pid in pids and WRITER.encode() in command.split(b"\0")]


def test_a_build_that_fails_while_the_writer_runs_stops_it(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer is kept waiting (its input a pipe nobody writes) while the build fails its checks: the
    build ends it before removing the staging folder it writes into."""
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    os.mkfifo(blocked / "data.nq")
    outs: list[Path] = []

    class WaitingWriters(Serializing):
        def start(self, split: Path, names: list[str], out: Path, *_: object, **__: object) -> Serializing:
            outs.append(out)
            return super().start(blocked, ["data"], out)

    monkeypatch.setattr(pipeline, "Serializing", WaitingWriters)
    changes = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "changes.ttl"
    # A figure its excerpt writes (44,100 hectares), so that the shapes' rule alone finds it wrong.
    changes.write_text(
        changes.read_text("utf-8").replace('kg:percentChange "38"', 'kg:percentChange "44100"'), "utf-8"
    )
    with pytest.raises(BuildFailed, match="percentage change does not agree"):
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert len(outs) == 1 and writers() == []
    assert os.listdir(tmp_path / "generations") == [".lock"]  # its staging folder removed


def test_the_writer_runs_the_build_s_own_code_whatever_the_working_folder_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kg").mkdir()
    (tmp_path / "kg" / "__init__.py").write_text("raise SystemExit('not the build')\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    split = tmp_path / "split"
    split.mkdir()
    (split / "data.nq").write_text('<urn:s> <urn:p> "o" <https://w3id.org/opioid-kg/graph/data> .\n', "utf-8")
    written = Serializing().start(split, ["data"], tmp_path / "out").wait()
    assert written == serialization_paths(["data"], tmp_path / "out")
    assert all(path.is_file() for path in written)
    assert "<urn:s>" in (tmp_path / "out" / "graphs" / "data.ttl").read_text("utf-8")


@pytest.mark.parametrize("given_work", [True, False], ids=["writing", "waiting-for-work"])
def test_the_writers_die_with_a_build_killed_by_sigkill(tmp_path: Path, given_work: bool) -> None:
    """Killed while they write, or while they still wait for their work (started early)."""
    split = tmp_path / "split"
    split.mkdir()
    os.mkfifo(split / "data.nq")  # never written: the writers wait on them for as long as they live
    out, dump = tmp_path / "out", tmp_path / "dump.nq"
    os.mkfifo(dump)
    starter = (
        "import sys, time; from pathlib import Path; from kg.build.serializations import Serializing; "
        + (
            f"Serializing().start(Path({str(split)!r}), ['data'], Path({str(out)!r}), "
            f"dump=Path({str(dump)!r})); "
            if given_work
            else "writing = Serializing(2); "
        )
        + "print('started', flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None and parent.stdout.readline() == "started\n"
    deadline = time.monotonic() + 10
    while len(writers(parent.pid)) < 2:  # the dataset's and the graphs' files, and the dump
        assert time.monotonic() < deadline, f"the writers never started: {writers(parent.pid)}"
        time.sleep(0.05)
    started = writers(parent.pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while alive(started):
        assert time.monotonic() < deadline, f"writers {alive(started)} outlived the build killed by SIGKILL"
        time.sleep(0.05)


def test_a_writer_that_fails_fails_the_build_with_its_reason(tmp_path: Path) -> None:
    split = tmp_path / "split"
    split.mkdir()  # no data.nq: the writer cannot read the graph it is asked for
    with pytest.raises(
        SerializationFailed, match=r"writing the serializations into .* failed \(1\): .*No such file"
    ):
        Serializing().start(split, ["data"], tmp_path / "out").wait()


@pytest.mark.parametrize(("quads", "processes"), [(ONE_WRITER_BELOW - 1, 1), (ONE_WRITER_BELOW, 2)])
def test_a_small_dataset_is_written_by_one_process_and_a_large_one_s_dump_by_another(
    tmp_path: Path, quads: int, processes: int
) -> None:
    split = tmp_path / "split"
    split.mkdir()
    os.mkfifo(split / "data.nq")  # never written: the writers wait on it
    os.mkfifo(tmp_path / "dump.nq")
    out = tmp_path / "out"
    writing = Serializing().start(split, ["data"], out, quads, dump=tmp_path / "dump.nq")
    try:
        deadline = time.monotonic() + 10
        while len(writers()) < processes:
            assert time.monotonic() < deadline, writers()
            time.sleep(0.05)
        time.sleep(0.2)
        assert len(writers()) == processes
    finally:
        writing.stop()
    assert writers() == []


def test_a_writer_started_early_and_given_no_work_ends_and_the_other_writes_everything(
    tmp_path: Path,
) -> None:
    """Two writers started before the build knew its size, which turned out small: one writes every
    file, the other ends without writing, and the build goes on."""
    split = tmp_path / "split"
    split.mkdir()
    (split / "data.nq").write_text('<urn:s> <urn:p> "o" <https://w3id.org/opioid-kg/graph/data> .\n', "utf-8")
    (tmp_path / "dump.nq").write_bytes((split / "data.nq").read_bytes())
    writing = Serializing(2)
    assert len(writers()) == 2
    written = writing.start(split, ["data"], tmp_path / "out", 1, dump=tmp_path / "dump.nq").wait()
    assert all(path.is_file() for path in written) and len(written) == 5
    assert writers() == []


@pytest.mark.parametrize(
    ("state", "ready"),
    [
        (None, 1),
        ({"triples": {"data": ONE_WRITER_BELOW - 1}}, 1),
        ({"triples": {"data": ONE_WRITER_BELOW // 2, "provenance": ONE_WRITER_BELOW // 2}}, 2),
        ({"triples": {"data": "many"}}, 1),
        ({"triples": [ONE_WRITER_BELOW]}, 1),
    ],
)
def test_two_writers_are_started_early_after_a_generation_large_enough_for_two(
    tmp_path: Path, state: dict[str, object] | None, ready: int
) -> None:
    generation = Generation(tmp_path / "0001-x")
    generation.path.mkdir()
    if state is not None:
        write_sealed(generation.path / STATE, json.dumps(state).encode())
    assert _writers_ready(generation) == ready
    assert _writers_ready(None) == 1


def test_a_writer_killed_before_its_work_came_fails_the_writing_and_is_stopped_quietly(
    tmp_path: Path,
) -> None:
    """Its input is a closed pipe by then: giving it its work raises nothing, waiting says it was
    killed, and stopping it raises nothing either."""
    writing = Serializing(1)
    (killed,) = writers()
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while alive([killed]):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    writing.start(tmp_path / "split", ["data"], tmp_path / "out")
    with pytest.raises(SerializationFailed, match=r"failed \(-9\)"):
        writing.wait()
    writing.stop()
    assert writers() == []
