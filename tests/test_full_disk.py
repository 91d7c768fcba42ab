"""A disk that fills while `kg build` writes: the build stops with one line that says so, exit status 1,
the previous generation stays current, and nothing of the failed build is left taking space.

The project sits on a small file system of its own (a tmpfs), filled to leave a given room before each
rebuild; the sweep over that room stops builds in different writers (the patched dump, the store's
files as it opens and as it loads), and the largest rooms let the build through."""

from __future__ import annotations

import logging
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from inputs import copy_inputs
from test_input_files import KG, SOURCE, current, kg

from kg.build.files_in_project import validate_in_project
from kg.namespaces import graph_iri
from kg.query.internal import typed
from kg.server.dump import write_dump
from kg.server.messages import Failure, Query
from kg.server.worker import answer
from kg.store.embedded import EmbeddedStore
from kg.store.generations import GENERATIONS

ROOM_KB = range(0, 8000, 400)  # the room left on the disk for each rebuild; the project's build is ~7 MB


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A file system of 32 MB mounted for the test."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a file system here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=True)


def _leave_room(disk: Path, kilobytes: int) -> Path:
    """A file filling `disk` but for `kilobytes`."""
    filler = disk / "filler"
    free = os.statvfs(disk)
    size = free.f_bavail * free.f_frsize - kilobytes * 1024
    with filler.open("wb") as out:
        os.posix_fallocate(out.fileno(), 0, max(size, 1))
    return filler


def _build_with_room(project: Path, disk: Path, room: int) -> str:
    """`kg build` in `project` with `room` KB left on `disk`: "built", or where it stopped, once the
    failure is seen to be one line, exit status 1, with no staging folder left."""
    filler = _leave_room(disk, room)
    code, said = kg(project, "build")
    filler.unlink()
    if code == 0:
        return "built"
    generations = project / ".kg" / GENERATIONS
    leftovers = [path.name for path in generations.iterdir() if path.name.startswith(".")]
    assert "Traceback" not in said, f"{room} KB: {said}"
    assert said.count("\n") == 1 and said.startswith(
        "error: build failed; dist/ and the store are unchanged"
    ), f"{room} KB: {said}"
    assert "No space left on device" in said or "write failure" in said, f"{room} KB: {said}"
    assert code == 1
    assert leftovers in ([], [".lock"]), f"{room} KB: {leftovers}"
    return re.sub(r"\.new-[\w-]+|\d+", "N", said)  # where it stopped, not which build


@pytest.fixture
def on_disk(project_copy: Path, small_disk: Path) -> Path:
    """A copy of the project's inputs on the small disk."""
    return copy_inputs(project_copy, small_disk / "project")


@pytest.fixture
def built_on_disk(on_disk: Path) -> Path:
    """The copy on the small disk, built once."""
    code, said = kg(on_disk, "build")
    assert code == 0, said
    return on_disk


def test_a_build_stopped_by_a_full_disk_says_so_and_leaves_the_previous_build(
    built_on_disk: Path, small_disk: Path
) -> None:
    project = built_on_disk
    findings = project / "graph" / SOURCE / "data" / "findings.ttl"
    outcomes = []
    for room in ROOM_KB:
        with findings.open("a", encoding="utf-8") as out:
            out.write(f"# with {room} KB left\n")  # a change: the rebuild writes a new generation
        before = current(project)
        outcomes.append(_build_with_room(project, small_disk, room))
        assert outcomes[-1] == "built" or current(project) == before
    assert "built" in outcomes and len(set(outcomes)) > 2, outcomes  # stopped in two places or more
    code, said = kg(project, "build")
    assert code == 0, said


def test_a_first_build_stopped_by_a_full_disk_says_so_and_leaves_nothing(
    on_disk: Path, small_disk: Path
) -> None:
    """A first build sorts every file's lines with `sort` and `awk`, whose write failures came as a
    traceback of the pipe between them (and awk's own line)."""
    project = on_disk
    outcomes = []
    for room in ROOM_KB:
        outcomes.append(_build_with_room(project, small_disk, room))
        if outcomes[-1] == "built":
            break
        assert not (project / ".kg" / GENERATIONS / "current").exists()
    assert outcomes[-1] == "built" and len(set(outcomes)) > 2, outcomes


def test_a_file_system_gone_read_only_stops_the_build_with_one_line(
    built_on_disk: Path, small_disk: Path
) -> None:
    project = built_on_disk
    before = current(project)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        code, said = kg(project, "build")
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert (
        said.startswith("error: build failed; dist/ and the store are unchanged: ") and said.count("\n") == 1
    )
    assert "Read-only file system" in said and code == 1
    assert current(project) == before


def test_kg_validate_file_on_a_full_or_read_only_disk_reports_as_the_whole_path_does(
    built_on_disk: Path, small_disk: Path
) -> None:
    """`kg validate FILE` validates from the build in a scratch copy under `.kg/`; where the disk takes
    none, it reads the whole project instead (its scratch is the system's temporary folder), and says
    what that path says: before, a traceback of the scratch copy's first write."""
    project = built_on_disk
    flows = project / "graph" / SOURCE / "data" / "flows.ttl"
    text = flows.read_text("utf-8")
    flows.write_text(
        text.replace("kg:substance substance:illicit-fentanyl ;", "kg:substance country:MX ;", 1)
    )
    whole = validate_in_project(project, [flows], "store").as_text() + "\n"
    filler = _leave_room(small_disk, 0)
    try:
        full = subprocess.run([str(KG), "validate", str(flows)], cwd=project, capture_output=True, text=True)
    finally:
        filler.unlink()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        read_only = subprocess.run(
            [str(KG), "validate", str(flows)], cwd=project, capture_output=True, text=True
        )
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    for done in (full, read_only):
        assert (done.returncode, done.stdout, done.stderr) == (1, whole, "")


def test_a_dump_stopped_by_a_full_disk_leaves_no_graph_s_file(built, small_disk: Path) -> None:
    """The server's dump reads each graph from a file beside it (`kg.server.dump`): a disk that fills
    while the graph's quads are written out stopped the dump with that graph's file still there, as
    long as anything held the error (the request's log, a test's `raises`)."""
    nquads = (built.dist / "opioid-kg.nq").read_bytes()
    triples = ox.serialize(
        (ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(nquads, format=ox.RdfFormat.N_QUADS)),
        format=ox.RdfFormat.N_TRIPLES,
    )
    assert triples is not None

    def read(iri: str, file: Path) -> Path:
        file.write_bytes(triples)
        return file

    filler = _leave_room(small_disk, len(triples) * 3 // 2 // 1024)  # the graph's file, not its quads
    try:
        with pytest.raises(OSError, match="No space left on device") as stopped:
            write_dump(small_disk / "dump.nq", "nquads", [graph_iri("data")], read)
        assert sorted(path.name for path in small_disk.iterdir()) == ["filler"], stopped.value
    finally:
        filler.unlink()


def test_a_graph_s_file_the_disk_cannot_take_is_refused_with_its_cause_in_the_log(
    built, small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A query worker writing a graph's answer to a file (`Query.written_to`, the dump's reading) on
    a full disk answers 500 without the cause, as every failure of the disk does, and says the cause
    in the server's log, where before nothing was said."""
    text, bindings = typed("graph", graph=graph_iri("data"))
    file = small_disk / "data.nt"
    query = Query(text, Query.sorted_bindings(bindings), graph_format="ntriples", written_to=str(file))
    filler = _leave_room(small_disk, 0)
    try:
        with caplog.at_level(logging.WARNING, logger="kg.server.worker"):
            failed = answer(EmbeddedStore(built.store_path), query)
    finally:
        filler.unlink()
    assert isinstance(failed, Failure) and (failed.status, failed.message) == (
        500,
        "the query failed while it ran",
    )
    assert f"the answer could not be written to {file}: [Errno 28] No space left on device" in caplog.text
