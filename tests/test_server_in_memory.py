"""`kg serve --in-memory`: the store copied into memory once, by the fork server, and read by every
query worker: the same answers as from the store on disk, under the same limits, and no worker reads
a file of the store. A real `kg serve` on the real build, beside the session's server on disk."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import fork_servers_of, workers_of, workers_when
from server_fixtures import EXPLOSIVE, KG, PROJECT, RunningServer, serving

from kg.query.catalogue import load_catalogue
from kg.query.run import run_query
from kg.store.embedded import EmbeddedStore
from kg.store.memory import memory_copy
from kg.store.queryfiles import binding_terms

JSON = "application/sparql-results+json"
TIMEOUT = 2.0


@pytest.fixture(scope="module")
def held(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from serving(
        built.store_path,
        tmp_path_factory.mktemp("held"),
        "--in-memory",
        "--cache-mb",
        "0",
        "--workers",
        "2",
        "--timeout",
        str(TIMEOUT),
        "--queue-wait",
        str(3 * TIMEOUT),
    )


def files_of_store(pid: int, store: Path) -> list[str]:
    """The files under `store` that process `pid` holds open."""
    folder = os.path.realpath(store) + os.sep
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith(folder):
            found.append(target)
    return found


def test_every_catalogue_question_answers_as_from_the_store_on_disk(held, server) -> None:
    """Rows byte for byte, in their order; a graph's triples (a set, in each store's own order) line
    for line: the copy keeps blank nodes' labels."""
    for name, query in load_catalogue(PROJECT / "queries").items():
        accept = "application/n-triples" if query.answer in ("construct", "describe") else JSON
        from_memory = held.get(f"/api/queries/{name}", accept)
        from_disk = server.get(f"/api/queries/{name}", accept)
        assert from_memory.status == from_disk.status == 200, (name, from_memory.text[:300])
        if accept == JSON:
            assert from_memory.body == from_disk.body, name
        else:
            assert sorted(from_memory.body.splitlines()) == sorted(from_disk.body.splitlines()), name
        assert len(from_memory.body) > 100, name


def test_the_workers_read_the_copy_and_no_file_of_the_store(held, server, built) -> None:
    """The control, the server on disk, shows that the check sees a worker's files of the store."""
    assert re.search(
        r"the store copied into memory \(\d+ MB\); 1024 MB address space beyond it", held.log.read_text()
    )
    held.get("/sparql", JSON, query="SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    server.get("/sparql", JSON, query="SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    holding = fork_servers_of(held.process.pid)
    workers = workers_of(held.process.pid)
    assert len(holding) == 1 and len(workers) == 3  # two workers and the spare, forked from the copy
    assert all(files_of_store(pid, built.store_path) == [] for pid in [*holding, *workers])
    on_disk = workers_of(server.process.pid)
    assert on_disk and all(files_of_store(pid, built.store_path) for pid in on_disk)


def test_a_runaway_query_is_stopped_and_its_worker_forked_again_from_the_copy(held) -> None:
    before = set(workers_of(held.process.pid))
    stopped = held.get("/sparql", JSON, query=EXPLOSIVE)
    assert stopped.status == 504, stopped.text
    answered = held.get("/sparql", JSON, query="ASK { ?s ?p ?o }")
    assert answered.status == 200 and answered.json()["boolean"] is True
    after = workers_when(held.process.pid, len(before))
    assert len(after) == len(before) and after != before
    assert fork_servers_of(held.process.pid) and len(fork_servers_of(held.process.pid)) == 1


def test_a_service_call_is_refused_in_memory_too(held) -> None:
    reply = held.get(
        "/sparql", JSON, query="SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    )
    assert reply.status == 400 and "SERVICE" in reply.text


def test_a_remote_store_is_not_held(tmp_path) -> None:
    served = subprocess.run(
        [str(KG), "--project", str(PROJECT), "serve", "--store", "http://127.0.0.1:9/sparql", "--in-memory"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert served.returncode == 2
    assert "--in-memory" in served.stderr and "SPARQL endpoint" in served.stderr


def test_a_store_that_cannot_be_copied_stops_the_server_saying_which_and_why(tmp_path) -> None:
    broken = tmp_path / "store"
    broken.mkdir()
    (broken / "CURRENT").write_text("MANIFEST-000099\n")  # a built store's marker, naming no manifest
    served = subprocess.run(
        [str(KG), "--project", str(PROJECT), "serve", "--store", str(broken), "--in-memory", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert served.returncode == 1
    assert (
        served.stderr.count(f"the store at {broken} could not be held in memory") == 2
    )  # the log, the error
    assert f"the store at {broken} could not be read: " in served.stderr  # and the store's own words
    assert served.stderr.rstrip().splitlines()[-1].startswith("error: the query workers could not start: ")
    assert "Traceback" not in served.stderr


@pytest.mark.parametrize("which", ["built", "library_built", "copied"])
def test_every_catalogue_question_orders_its_rows_alike_on_disk_and_in_memory(which: str, request) -> None:
    """The two stores hand rows to the sort in orders of their own, so rows a question's ORDER BY
    leaves tied came out in another order from the copy (`controlled-precursors` at 600 sources):
    every question must order its rows totally. The synthetic copy's labels repeat the report's,
    which makes such ties."""
    fixture = request.getfixturevalue(which)
    path = fixture.path if isinstance(fixture, EmbeddedStore) else fixture.store_path
    on_disk, in_memory = EmbeddedStore(path), EmbeddedStore(path, memory_copy(path))
    for name, query in load_catalogue(PROJECT / "queries").items():
        bindings = binding_terms(query.bindings({}))
        first, second = run_query(on_disk, query.text, bindings), run_query(in_memory, query.text, bindings)
        if first.kind == "graph":
            assert set(first.triples) == set(second.triples), name
        else:
            assert first.rows == second.rows, name


def test_a_corrupt_store_is_said_to_be_unreadable_in_words_not_a_traceback(
    built, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    shutil.copytree(built.store_path, store)
    max(store.glob("*.sst"), key=lambda table: table.stat().st_size).unlink()
    with pytest.raises(OSError, match=r"the process reading it failed \(exit 1\)"):
        memory_copy(store)
    said = capfd.readouterr().err
    assert f"the store at {store} could not be read: " in said
    assert "Traceback" not in said
