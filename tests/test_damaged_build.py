"""A build whose files were damaged or taken over outside the tool: the next build still works or says
why not, each command that reads the damaged store says so in one line, and a link the user made where
the build keeps its outputs is never replaced unsaid."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from server_fixtures import RunningServer, start_server
from test_input_files import KG, SOURCE, current

# The engine read a store with damaged data blocks past 20 GB until the kernel killed it: every command
# here runs within this address space, so that a regression fails its test rather than the machine.
MEMORY_CAP = 6 << 30


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def _run(project: Path, *command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The real `kg` command (or `command` itself, from a path) run in `project` within `MEMORY_CAP`."""
    program = [] if command[0].startswith("/") else [str(KG)]
    return subprocess.run(
        [*program, *command],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_capped,
        check=False,
    )


def _kg(project: Path, *args: str, timeout: float = 300) -> tuple[int, str]:
    done = _run(project, *args, timeout=timeout)
    return done.returncode, done.stderr


def _built(project: Path) -> Path:
    code, said = _kg(project, "build")
    assert code == 0, said
    return project


def _damage_store(project: Path) -> Path:
    """The current store's table files deleted, as a disk or a hand might: all of them, as a store's
    folder may also hold one its index no longer lists, whose loss harms nothing."""
    store = _current_store(project)
    tables = sorted(store.glob("*.sst"))
    assert tables
    for table in tables:
        table.unlink()
    return store


def _current_store(project: Path) -> Path:
    """The store of the project's current generation, by its real path."""
    return Path(os.path.realpath(project / ".kg" / "store"))


def _damaged(project: Path, how: str, damage_bytes: Callable[[Path], None]) -> Path:
    """The current store, its table files deleted or their bytes changed by `damage_bytes`."""
    store = _current_store(project)
    if how == "files deleted":
        _damage_store(project)
    else:
        damage_bytes(store)
    return store


def _flip_bytes(store: Path, *, keep_times: bool = False) -> None:
    """A byte changed every few kilobytes in the first half of each table file of more than 8 KB, where
    its data blocks are (its index and footer come last, so the store still opens), as a hand or a
    program might; with `keep_times`, as a disk might, the files' times left as they were."""
    for table in sorted(store.glob("*.sst")):
        data = bytearray(table.read_bytes())
        if len(data) > 8192:
            times = table.stat()
            for offset in range(1000, len(data) // 2, 3000):
                data[offset] ^= 0xFF
            table.unlink()  # a file of its own: a rebuild's store shares the previous one's by hard links
            table.write_bytes(bytes(data))
            if keep_times:
                os.utime(table, ns=(times.st_atime_ns, times.st_mtime_ns))


def _rot(store: Path) -> None:
    _flip_bytes(store, keep_times=True)


def _change(project: Path) -> None:
    with (project / "graph" / SOURCE / "data" / "findings.ttl").open("a", encoding="utf-8") as out:
        out.write("# a change\n")


@pytest.mark.parametrize("changed", [True, False], ids=["a file changed", "nothing changed"])
def test_a_damaged_store_is_built_again_whole(project_copy: Path, changed: bool) -> None:
    """The next build copied the damaged store and failed with a traceback, every time, until `.kg` was
    deleted by hand: it now builds whole, saying why."""
    project = _built(project_copy)
    _damage_store(project)
    before = current(project)
    if changed:
        _change(project)
    done = _run(project, "build")
    assert done.returncode == 0, done.stderr
    assert "full build (the store of generation" in done.stdout, done.stdout
    assert "is not as it was built: 0" in done.stdout and ".sst is missing)" in done.stdout, done.stdout
    assert current(project) != before
    code, said = _kg(project, "build")  # and the build after it starts from it again
    assert code == 0, said


@pytest.mark.parametrize("changed", [True, False], ids=["a file changed", "nothing changed"])
def test_a_store_changed_inside_its_files_is_built_again_whole(project_copy: Path, changed: bool) -> None:
    """Bytes changed inside the store's data blocks (it still opens) made every later build fail with a
    traceback, or could have carried what the engine read wrongly into the next: the build compares
    the store with the digests recorded when it was built, builds whole, and its dump is the clean one."""
    project = _built(project_copy)
    clean = (project / "dist" / "opioid-kg.nq").read_bytes()
    _rot(_current_store(project))
    if changed:
        _change(project)
    done = _run(project, "build")
    assert done.returncode == 0, done.stderr
    assert "full build (the store of generation" in done.stdout, done.stdout
    assert "is not as it was built: 0" in done.stdout and "has changed since the build" in done.stdout
    assert (project / "dist" / "opioid-kg.nq").read_bytes() == clean
    code, said = _kg(project, "validate")
    assert code == 0, said


def test_a_rebuild_records_the_files_it_shares_with_the_previous_store_as_they_are(
    project_copy: Path,
) -> None:
    """A rebuild's store shares most files with the previous one (hard links), whose digests the
    build has just compared whole: it records theirs rather than read them again. The record is
    still the files' own, and a change to one, shared or not, is found."""
    project = _built(project_copy)
    _change(project)
    done = _run(project, "build")
    assert done.returncode == 0 and "rebuilt from generation" in done.stdout, done.stdout + done.stderr
    store = _current_store(project)
    assert any(table.stat().st_nlink > 1 for table in store.glob("*.sst"))  # files shared indeed
    code, said = _kg(project, "validate")
    assert code == 0, said
    _rot(store)
    code, said = _kg(project, "validate")
    assert code == 2 and "has changed since the build (its SHA-256 is not the one recorded)" in said, said


def test_validate_finds_a_changed_store_before_it_reads_it(project_copy: Path) -> None:
    """`kg validate` read the shapes from a damaged store with a traceback; it now reads every file whole
    and compares it, whatever its time says."""
    project = _built(project_copy)
    _rot(_current_store(project))
    code, said = _kg(project, "validate")
    assert code == 2 and said.count("\n") == 1, said
    assert said.startswith("error: the store at .kg/store cannot be read: 0"), said
    assert ".sst has changed since the build (its SHA-256 is not the one recorded)" in said, said
    assert said.endswith("`kg build` builds it again\n"), said


def test_a_project_copied_without_its_times_is_read_as_built(project_copy: Path, tmp_path: Path) -> None:
    """A command compares each file's size and time, and reads whole those whose time differs: a copy
    that kept no times is read whole and found as built, not refused."""
    project = _built(project_copy)
    copied = tmp_path / "copied"
    shutil.copytree(project, copied, symlinks=True, copy_function=shutil.copy)
    code, said = _kg(copied, "sources")
    assert code == 0, said
    _flip_bytes(Path(os.path.realpath(copied / ".kg" / "store")))
    code, said = _kg(copied, "sources")
    assert code == 2 and "has changed since the build (its SHA-256 is not the one recorded)" in said, said


def test_a_store_holding_what_is_not_a_file_is_refused_without_waiting(project_copy: Path) -> None:
    """Reading every file of a store to compare it would wait for ever on a FIFO, as opening it does."""
    project = _built(project_copy)
    current_file = _current_store(project) / "CURRENT"
    current_file.unlink()
    os.mkfifo(current_file)
    code, said = _kg(project, "sources", timeout=60)
    assert code == 2 and said.count("\n") == 1, said
    assert said.endswith("cannot be read: CURRENT is not a regular file; `kg build` builds it again\n"), said


def test_a_damaged_block_met_by_a_query_is_the_store_s_failure(project_copy: Path, tmp_path: Path) -> None:
    """A damaged data block met while a query ran was reported as the query's error, naming the query's
    file (`error: queries/fentanyl-routes.rq: Corruption: …`). Met so in a store outside a build's
    generations, which has no digests to be compared with."""
    project = _built(project_copy)
    store = tmp_path / "copied-store"
    shutil.copytree(os.path.realpath(project / ".kg" / "store"), store)
    _flip_bytes(store)
    code, said = _kg(project, "query", "fentanyl-routes", "--store", str(store))
    assert code == 2 and "Traceback" not in said and said.count("\n") == 1, said
    assert said.startswith(f"error: the store at {store} cannot be read: Corruption: "), said
    assert ".rq" not in said, said


def test_a_push_from_a_damaged_store_names_it_in_one_line(project_copy: Path, tmp_path: Path) -> None:
    """`kg push` read every quad of a damaged store and ended in a traceback, or read it past all
    memory: it reads every file of the store whole first, as the build recorded them."""
    from triplestores import OxigraphServer

    project = _built(project_copy)
    _rot(_current_store(project))  # its files' times kept, as a disk's damage
    server = OxigraphServer(tmp_path / "oxigraph").start()
    try:
        code, said = _kg(project, "push", "--endpoint", server.query, "--update", server.update)
        assert code == 2 and "Traceback" not in said and said.count("\n") == 1, said
        assert said.startswith("error: the store at .kg/store cannot be read: 0"), said
        assert "has changed since the build (its SHA-256 is not the one recorded)" in said, said
    finally:
        server.stop()


@pytest.mark.parametrize("where", ["a table file", "the record"])
def test_what_is_not_a_file_is_refused_in_any_store(project_copy: Path, tmp_path: Path, where: str) -> None:
    """A FIFO in a store outside the generations held `kg query`, `kg validate` and `kg serve` for
    ever (only a recorded store's files were looked at), and so did a FIFO as the record itself."""
    project = _built(project_copy)
    if where == "a table file":
        store = tmp_path / "copied-store"
        shutil.copytree(os.path.realpath(project / ".kg" / "store"), store)
        table = sorted(store.glob("*.sst"))[0]
        table.unlink()
        os.mkfifo(table)
        expected = f"cannot be read: {table.name} is not a regular file"
    else:
        store = project / ".kg" / "store"
        record = Path(os.path.realpath(store)).parent / "store-digests.json"
        record.unlink()
        os.mkfifo(record)
        expected = "cannot be read: its record store-digests.json is not a regular file"
    for command in (("query", "-e", "ASK {}"), ("validate",)):
        code, said = _kg(project, *command, "--store", str(store), timeout=60)
        assert code == 2 and expected in said and said.count("\n") == 1, said


def test_a_record_nested_past_any_reading_is_said_in_one_line(project_copy: Path) -> None:
    """A record of a hundred thousand nested lists ended `kg query` in a RecursionError's traceback."""
    project = _built(project_copy)
    record = _current_store(project).parent / "store-digests.json"
    record.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    code, said = _kg(project, "query", "-e", "ASK {}")
    assert code == 2 and said.count("\n") == 1, said
    assert "the record of its files cannot be read (RecursionError)" in said, said


WORKER_ANSWERS = """
import sys
import time
from pathlib import Path
from kg.server.messages import Query
from kg.server.worker import answer
from kg.store.embedded import EmbeddedStore
failure = answer(EmbeddedStore(Path(sys.argv[1])), Query(Path(sys.argv[2]).read_text(encoding="utf-8")))
print(failure.status, failure.message)
"""


def test_a_query_worker_says_a_damaged_block_is_the_store_s_to_the_operator_alone(project_copy: Path) -> None:
    """A worker answered such a query 400, `the query failed: Corruption: … in /…/000057.sst`: the
    store's failure blamed on the client, with a path of the server's disk in the answer. (A worker
    meets it in a store damaged after the server took it up; in a process of its own, capped.)"""
    project = _built(project_copy)
    store = _current_store(project)
    _flip_bytes(store)
    query = project / "queries" / "fentanyl-routes.rq"
    done = _run(project, sys.executable, "-c", WORKER_ANSWERS, str(store), str(query))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "500 the store could not be read\n", done.stdout
    assert done.stderr.startswith(f"the store at {store} cannot be read: Corruption: "), done.stderr


@pytest.mark.parametrize(
    "command",
    [("sources",), ("validate",), ("stats",), ("query", "-e", "ASK {}"), ("search", "Mexico")],
    ids=lambda args: args[0],
)
@pytest.mark.parametrize("damage", ["files deleted", "bytes changed"])
def test_a_command_reading_a_damaged_store_names_it_in_one_line(project_copy: Path, command, damage) -> None:
    """With bytes changed inside its data blocks, `kg stats` read the store past 20 GB until the kernel
    killed it, `kg sources` answered a report's title empty (exit 0), `kg validate` ended in a
    traceback: each compares the store's files with their digests before it reads them."""
    project = _built(project_copy)
    store = _damaged(project, damage, _flip_bytes)
    code, said = _kg(project, *command)
    assert code != 0 and "Traceback" not in said, said
    assert said.startswith("error: the store at ") and "cannot be read" in said, said
    assert said.count("\n") == 1 and (".kg/store" in said or str(store) in said), said


@pytest.mark.parametrize("output", ["dist", ".kg/store"])
def test_a_link_the_user_made_where_the_build_writes_is_refused(project_copy: Path, output: str) -> None:
    """A link at dist/ (into a web root, say) was silently turned to the build's generation, though a
    folder there is refused as not the build's."""
    project = _built(project_copy)
    elsewhere = project.parent / "elsewhere"
    elsewhere.mkdir()
    link = project / output
    link.unlink()
    link.symlink_to(elsewhere)
    _change(project)
    code, said = _kg(project, "build")
    assert code != 0 and "Traceback" not in said, said
    assert f"{output} is not a build's output (a link to {elsewhere})" in said, said
    assert os.readlink(link) == str(elsewhere) and not any(elsewhere.iterdir())


def test_a_server_keeps_its_generation_when_the_next_is_damaged(project_copy: Path, tmp_path: Path) -> None:
    """A new build whose store was damaged before the server took it up would have been served."""
    project = _built(project_copy)
    running = start_server(project / ".kg" / "store", tmp_path)
    try:
        first = _served_generation(running)
        _change(project)
        code, said = _kg(project, "build")
        assert code == 0, said
        store = _current_store(project)
        assert store.parent.name != first
        _flip_bytes(store)
        deadline = time.monotonic() + 60
        while "cannot be served" not in running.log.read_text(errors="replace"):
            assert _served_generation(running) == first
            assert time.monotonic() < deadline, running.log.read_text(errors="replace")
            time.sleep(0.2)
        said = running.log.read_text(errors="replace")
        assert f"the new generation cannot be served: the store at {store} cannot be read: 0" in said, said
        assert _served_generation(running) == first
    finally:
        running.stop()


def _served_generation(running: RunningServer) -> str:
    reply = running.get("/sparql", "application/sparql-results+json", query="ASK {}")
    assert reply.status == 200, reply.text
    return reply.headers["kg-generation"]


@pytest.mark.parametrize("damage", ["files deleted", "bytes changed"])
def test_a_server_of_a_damaged_store_says_why_it_cannot_start(project_copy: Path, damage: str) -> None:
    """Its query workers failed with a traceback each, and the server said only `exit -9`; a store whose
    data blocks were damaged was served, wrong or failing as each query met them."""
    project = _built(project_copy)
    store = _damaged(project, damage, _rot)
    code, said = _kg(project, "serve", "--port", "0", timeout=120)
    assert code == 2 and "Traceback" not in said and said.count("\n") == 1, said
    assert said.startswith(f"error: the store at {store} cannot be read: 0"), said
    assert said.endswith("`kg build` builds it again\n"), said


def test_the_build_s_own_link_into_a_linked_folder_is_its_own(tmp_path: Path) -> None:
    """A link the build made from a folder reached through a link leads, read from where it stands,
    nowhere: it is still the build's own, and the next build replaces it."""
    from kg.store.generations import Generations

    (tmp_path / "project" / ".kg").mkdir(parents=True)
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "out").symlink_to(tmp_path / "a" / "b" / "c")
    generations = Generations(tmp_path / "project" / ".kg" / "store", tmp_path / "out" / "dist")
    generations.check_place(())
    generations._link(generations.dist_link, generations.home / "current" / "dist")
    generations.check_place(())  # refused the link it had made
