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

from kg.build.pipeline import BuildFailed, build

WRITER = "kg.build.serializations"


def writers(out: Path) -> list[int]:
    """The processes writing serializations into `out`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if WRITER.encode() in command and any(str(out).encode() in part for part in command):
            found.append(int(entry.name))
    return found


def test_a_build_that_fails_after_the_writer_started_leaves_no_writer(
    project_copy: Path, tmp_path: Path
) -> None:
    changes = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "changes.ttl"
    changes.write_text(
        changes.read_text("utf-8").replace('kg:percentChange "38"', 'kg:percentChange "48"'), "utf-8"
    )
    with pytest.raises(BuildFailed, match="percentage change does not agree"):
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert writers(tmp_path) == []
    assert os.listdir(tmp_path / "generations") == [".lock"]  # its staging folder removed


def test_the_writer_dies_with_a_build_killed_by_sigkill(tmp_path: Path) -> None:
    split = tmp_path / "split"
    split.mkdir()
    os.mkfifo(split / "data.nq")  # never written: the writer waits on it for as long as it lives
    out = tmp_path / "out"
    starter = (
        "import sys, time; from pathlib import Path; from kg.build.serializations import Serializing; "
        f"Serializing(Path({str(split)!r}), ['data'], Path({str(out)!r})); print('started', flush=True); "
        "time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None and parent.stdout.readline() == "started\n"
    deadline = time.monotonic() + 10
    while not writers(out):
        assert time.monotonic() < deadline, "the writer never started"
        time.sleep(0.05)
    [writer] = writers(out)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while writers(out):
        assert time.monotonic() < deadline, f"writer {writer} outlived the build killed by SIGKILL"
        time.sleep(0.05)
