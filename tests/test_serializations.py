"""The serializations are written by a child process of the build: it never outlives the build, and
what it writes is what the build publishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import running

from kg.build import pipeline
from kg.build.pipeline import BuildFailed, build
from kg.build.serializations import (
    ONE_WRITER_BELOW,
    SerializationFailed,
    Serializing,
    serialization_paths,
)

WRITER = "kg.build.serializations"


def writers(out: Path) -> list[int]:
    """The processes writing serializations into `out`."""
    return [
        pid
        for pid, _, command in running()
        if WRITER.encode() in command.split(b"\0") and str(out).encode() in command
    ]


def test_a_build_that_fails_while_the_writer_runs_stops_it(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer is kept waiting (its input a pipe nobody writes) while the build fails its checks: the
    build ends it before removing the staging folder it writes into."""
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    os.mkfifo(blocked / "data.nq")
    outs: list[Path] = []

    def waiting_writer(split: Path, names: list[str], out: Path, *_: object) -> Serializing:
        outs.append(out)
        return Serializing(blocked, ["data"], out)

    monkeypatch.setattr(pipeline, "Serializing", waiting_writer)
    changes = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "changes.ttl"
    changes.write_text(
        changes.read_text("utf-8").replace('kg:percentChange "38"', 'kg:percentChange "48"'), "utf-8"
    )
    with pytest.raises(BuildFailed, match="percentage change does not agree"):
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert len(outs) == 1 and writers(outs[0]) == []
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
    written = Serializing(split, ["data"], tmp_path / "out").wait()
    assert written == serialization_paths(["data"], tmp_path / "out")
    assert all(path.is_file() for path in written)
    assert "<urn:s>" in (tmp_path / "out" / "graphs" / "data.ttl").read_text("utf-8")


def test_the_writers_die_with_a_build_killed_by_sigkill(tmp_path: Path) -> None:
    split = tmp_path / "split"
    split.mkdir()
    os.mkfifo(split / "data.nq")  # never written: the writers wait on them for as long as they live
    out, dump = tmp_path / "out", tmp_path / "dump.nq"
    os.mkfifo(dump)
    starter = (
        "import sys, time; from pathlib import Path; from kg.build.serializations import Serializing; "
        f"Serializing(Path({str(split)!r}), ['data'], Path({str(out)!r}), dump=Path({str(dump)!r})); "
        "print('started', flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None and parent.stdout.readline() == "started\n"
    deadline = time.monotonic() + 10
    while len(writers(out)) < 2:  # the dataset's and the graphs' files, and the dump
        assert time.monotonic() < deadline, f"the writers never started: {writers(out)}"
        time.sleep(0.05)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while writers(out):
        assert time.monotonic() < deadline, f"writers {writers(out)} outlived the build killed by SIGKILL"
        time.sleep(0.05)


def test_a_writer_that_fails_fails_the_build_with_its_reason(tmp_path: Path) -> None:
    split = tmp_path / "split"
    split.mkdir()  # no data.nq: the writer cannot read the graph it is asked for
    with pytest.raises(
        SerializationFailed, match=r"writing the serializations into .* failed \(1\): .*No such file"
    ):
        Serializing(split, ["data"], tmp_path / "out").wait()


@pytest.mark.parametrize(("quads", "processes"), [(ONE_WRITER_BELOW - 1, 1), (ONE_WRITER_BELOW, 2)])
def test_a_small_dataset_is_written_by_one_process_and_a_large_one_s_dump_by_another(
    tmp_path: Path, quads: int, processes: int
) -> None:
    split = tmp_path / "split"
    split.mkdir()
    os.mkfifo(split / "data.nq")  # never written: the writers wait on it
    os.mkfifo(tmp_path / "dump.nq")
    out = tmp_path / "out"
    writing = Serializing(split, ["data"], out, quads, dump=tmp_path / "dump.nq")
    try:
        deadline = time.monotonic() + 10
        while len(writers(out)) < processes:
            assert time.monotonic() < deadline, writers(out)
            time.sleep(0.05)
        time.sleep(0.2)
        assert len(writers(out)) == processes
    finally:
        writing.stop()
    assert writers(out) == []
