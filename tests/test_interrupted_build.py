"""A build stopped by a signal says what it leaves: while it writes, the previous generation, whole and
current, with nothing of the stopped build left behind; after its switch, its own generation."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from processes import FOREGROUND, busy_for, handles
from test_input_files import KG, SOURCE, current, kg

from kg.build import pipeline
from kg.build.checked_store import MEMORY_VARIABLE
from kg.build.parsed import ParsedFiles
from kg.build.pipeline import Unwritten, build
from kg.cli import main
from kg.store.generations import GENERATIONS, Generations


@pytest.fixture
def project(project_copy: Path) -> Path:
    """A copy of the project, built once, with a change for the next build to write."""
    code, said = kg(project_copy, "build")
    assert code == 0, said
    _change(project_copy)
    return project_copy


def _change(project: Path) -> None:
    """A change to the project's files, for the next build to write."""
    with (project / "graph" / SOURCE / "data" / "findings.ttl").open("a", encoding="utf-8") as out:
        out.write("# a change\n")


def _staging(project: Path) -> list[str]:
    """The staging folders of builds under way (or left behind) in the project."""
    return [path.name for path in (project / ".kg" / GENERATIONS).iterdir() if path.name.startswith(".new-")]


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_the_build_writes_leaves_the_previous_build(
    project: Path, sent: signal.Signals
) -> None:
    for _ in range(5):  # a build that ended before the signal came (a busy machine) proves nothing
        before = current(project)
        building = subprocess.Popen(
            [sys.executable, "-c", FOREGROUND, str(KG), "build"],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not _staging(project) and building.poll() is None:
            assert time.monotonic() < deadline, "the build never began to write"
            time.sleep(0.005)
        building.send_signal(sent)
        _, said = building.communicate(timeout=60)
        if building.returncode != 0 or current(project) == before:
            break
        _change(project)  # it was published whole: again, with another change
    assert said == f"error: build failed; dist/ and the store are unchanged: interrupted ({sent.name})\n", (
        f"exit {building.returncode}"
    )
    assert building.returncode == 128 + sent.value  # as a shell reports a command a signal stopped
    assert current(project) == before
    assert _staging(project) == []


def _stopped_once_published(project: Path) -> tuple[Unwritten, str]:
    """How a build of `project` that is stopped after its switch fails, and the generation then current."""
    with pytest.raises(Unwritten) as stopped:
        build(project, project / "dist", project / ".kg" / "store")
    now = Generations(project / ".kg" / "store", project / "dist").current()
    return stopped.value, now.id if now is not None else "none"


def test_an_interrupt_just_after_the_switch_says_the_build_is_published(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signal arrives as the switch returns (the steps after it are the links' check and the
    removal of older generations): the new generation is current, and the message says so."""
    switch = Generations.publish

    def switched_then_interrupted(self: Generations, *args: object) -> object:
        switch(self, *args)
        raise KeyboardInterrupt("SIGTERM")

    monkeypatch.setattr(Generations, "publish", switched_then_interrupted)
    stopped, now = _stopped_once_published(project)
    assert now.startswith("0002-") and stopped.published
    assert str(stopped) == f"the build is published (generation {now}), but then: interrupted (SIGTERM)"


def test_an_interrupt_while_unused_parses_are_removed_says_the_build_is_published(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the switch the build removes the parses and analyses no build uses any more; an interrupt
    then ended `kg build` with click's bare "Aborted!", not saying the build was published."""

    def interrupted(self: ParsedFiles) -> None:
        raise KeyboardInterrupt("SIGINT")

    monkeypatch.setattr(ParsedFiles, "prune", interrupted)
    stopped, now = _stopped_once_published(project)
    assert now.startswith("0002-") and stopped.published
    assert str(stopped) == f"the build is published (generation {now}), but then: interrupted (SIGINT)"


def _stores() -> set[int]:
    """The Oxigraph stores this process holds open."""
    return {id(found) for found in gc.get_objects() if type(found) is ox.Store}


@pytest.mark.parametrize("in_memory", [True, False], ids=["checked in memory", "checked on disk"])
def test_an_interrupt_while_loading_closes_the_stores_before_their_folder_is_removed(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch, in_memory: bool
) -> None:
    """The interrupt's frames (the loader's, holding the store) are not what keeps a store open while
    the staging folder is removed: an open store writes files into the folder being removed."""
    monkeypatch.setenv(MEMORY_VARIABLE, str(10**9) if in_memory else "0")
    read = pipeline.graph_quads

    def interrupted(split: Path, name: str) -> Iterator[ox.Quad]:
        for number, quad in enumerate(read(split, name)):
            if name == "data" and number == 100:
                raise KeyboardInterrupt
            yield quad

    monkeypatch.setattr(pipeline, "graph_quads", interrupted)
    open_before = _stores()
    with pytest.raises(Unwritten, match="interrupted"):
        build(project_copy, project_copy / "dist", project_copy / ".kg" / "store")  # a clean build
    assert _stores() - open_before == set()
    assert _staging(project_copy) == []


def test_an_interrupt_just_after_the_staging_folder_is_made_leaves_none(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signal may land between the folder's creation and the build's knowing its name: the build
    names it first, so that it removes whatever it made."""
    make = Path.mkdir

    def interrupted(path: Path, *args: Any, **options: Any) -> None:
        make(path, *args, **options)
        if any(part.startswith(".new-") for part in path.parts):
            raise KeyboardInterrupt

    monkeypatch.setattr(Path, "mkdir", interrupted)
    with pytest.raises(Unwritten, match="interrupted"):
        build(project_copy, project_copy / "dist", project_copy / ".kg" / "store")
    assert _staging(project_copy) == []


def test_an_interrupt_before_the_build_stages_anything_is_one_line(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the build still read its inputs ended with click's `Aborted!` (exit 1), or a
    traceback, where every later moment gives the documented line."""
    read = pipeline.check_project

    def interrupted(root: Path) -> None:
        read(root)
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "check_project", interrupted)
    result = CliRunner().invoke(main, ["--project", str(project_copy), "build"])
    assert result.exit_code == 130, result.output
    assert result.output == "error: build failed; dist/ and the store are unchanged: interrupted (SIGINT)\n"
    assert not (project_copy / ".kg").exists()  # nothing made


def test_an_interrupt_of_any_command_is_one_line(project_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any other command stopped by Ctrl-C says so in one line, with the status a shell gives a
    command that SIGINT stopped (128 + 2), where click said `Aborted!`."""
    import kg.cli.query

    read = kg.cli.query.load_catalogue

    def interrupted(folder: Path) -> object:
        read(folder)
        raise KeyboardInterrupt

    monkeypatch.setattr(kg.cli.query, "load_catalogue", interrupted)
    result = CliRunner().invoke(main, ["--project", str(project_root), "queries"])
    assert (result.exit_code, result.output) == (130, "error: interrupted (SIGINT)\n")


# The `kg` command as its console script starts it (pyproject.toml names the function), with SIGINT sent to
# the process while the command line's modules load, as a Ctrl-C arriving in its first half second does.
CTRL_C_AS_IT_LOADS = """
import importlib, os, signal, sys, tomllib
signal.signal(signal.SIGINT, signal.default_int_handler)
class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "click":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None
with open(sys.argv[1], "rb") as project:
    module, _, function = tomllib.load(project)["project"]["scripts"]["kg"].partition(":")
sys.meta_path.insert(0, CtrlC())
sys.argv = ["kg", "--version"]
sys.exit(getattr(importlib.import_module(module), function)())
"""


def test_ctrl_c_as_the_command_loads_says_so_in_one_line(project_root: Path) -> None:
    """A Ctrl-C before the command had loaded its modules (half a second on a busy machine) printed
    Python's traceback of the import it stopped."""
    stopped = subprocess.run(
        [sys.executable, "-c", CTRL_C_AS_IT_LOADS, str(project_root / "pyproject.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (stopped.returncode, stopped.stderr) == (130, "error: interrupted (SIGINT)\n"), stopped.stderr


def test_ctrl_c_stops_a_server_as_sigterm_does_without_an_error(built, tmp_path: Path) -> None:
    """Ctrl-C is how a server is stopped: it said `error: interrupted (SIGINT)` with status 130 where
    SIGTERM exits 0."""
    from server_fixtures import start_server

    for sent in (signal.SIGINT, signal.SIGTERM):
        server = start_server(built.store_path, tmp_path, launcher=[sys.executable, "-c", FOREGROUND])
        try:
            server.process.send_signal(sent)
            assert server.process.wait(30) == 0, (sent, server.log.read_text())
        finally:
            server.stop()  # not left running, if it did not stop
        said = server.log.read_text()
        assert "error:" not in said and said.endswith("\nstopped\n"), said


def _generation(project: Path) -> str:
    now = Generations(project / ".kg" / "store", project / "dist").current()
    return now.id if now is not None else "none"


@pytest.mark.parametrize("moment", ["as the build returns", "as its summary is written"])
def test_a_signal_after_the_switch_in_kg_build_says_the_build_is_published(
    project: Path, monkeypatch: pytest.MonkeyPatch, moment: str
) -> None:
    """Outside the build's own steps, a SIGTERM after the switch reached the command as an interrupt:
    `error: build failed; dist/ and the store are unchanged`, or click's `interrupted (SIGINT)`,
    with 130, though the new generation was current."""
    if moment == "as the build returns":
        made = pipeline.BuildResult

        def interrupted(*args: Any, **kwargs: Any) -> object:
            made(*args, **kwargs)
            raise KeyboardInterrupt("SIGTERM")

        monkeypatch.setattr(pipeline, "BuildResult", interrupted)
    else:

        def summary(self: object) -> str:
            raise KeyboardInterrupt("SIGTERM")

        monkeypatch.setattr(pipeline.BuildResult, "summary", summary)
    before = signal.getsignal(signal.SIGTERM)
    result = CliRunner().invoke(main, ["--project", str(project), "build"])
    now = _generation(project)
    assert now.startswith("0002-")
    expected = f"error: the build is published (generation {now}), but then: interrupted (SIGTERM)\n"
    assert (result.exit_code, result.output) == (143, expected)
    assert signal.getsignal(signal.SIGTERM) is before  # not left to what runs next


def _unwritable(output: str) -> tuple[IO[bytes], str]:
    """A file a command's output cannot be written to, and what the system says when it tries."""
    if output == "a full disk":
        return open("/dev/full", "wb"), "No space left on device"  # noqa: SIM115 - the caller closes it
    reading, writing = os.pipe()
    os.close(reading)
    return open(writing, "wb"), "Broken pipe"  # noqa: SIM115 - the caller closes it


@pytest.mark.parametrize("output", ["a full disk", "a closed pipe"])
def test_a_build_whose_summary_cannot_be_written_says_it_is_published(project: Path, output: str) -> None:
    """`kg build > /dev/full` ended in a traceback, and `kg build | true` said nothing at all, both
    after the build was published."""
    target, reason = _unwritable(output)
    with target:
        done = subprocess.run(
            [str(KG), "build"], cwd=project, stdout=target, stderr=subprocess.PIPE, text=True, timeout=120
        )
    now = _generation(project)
    assert now.startswith("0002-")
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        f"error: the build is published (generation {now}), but then: its summary could not be written:"
        f" {reason}\n"
    )


@pytest.mark.parametrize("output", ["a full disk", "a closed pipe"])
def test_any_command_whose_output_cannot_be_written_ends_in_one_line(project_root: Path, output: str) -> None:
    """`kg queries > /dev/full` ended in a traceback; `kg queries | head -1` ends quietly, as a command
    a closed pipe stops does (128 + SIGPIPE)."""
    target, _reason = _unwritable(output)
    with target:
        done = subprocess.run(
            [str(KG), "queries"],
            cwd=project_root,
            stdout=target,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    if output == "a full disk":
        assert (done.returncode, done.stderr) == (
            1,
            "error: cannot write to standard output: No space left on device\n",
        )
    else:
        assert (done.returncode, done.stderr) == (128 + signal.SIGPIPE, "")


@pytest.mark.parametrize(
    "command",
    [
        ("network", "draw", "--format", "svg"),
        ("network", "export", "--format", "graphml"),
        ("export",),
    ],
    ids=lambda args: " ".join(args[:2]),
)
@pytest.mark.parametrize("place", ["/dev/full", "a folder"])
def test_a_file_named_for_output_that_cannot_be_written_is_one_line(
    built, project_root: Path, tmp_path: Path, command, place
) -> None:
    """`kg network draw -o /dev/full` ended in a traceback."""
    target = place if place == "/dev/full" else str(tmp_path)
    built_from = ["--dist", str(built.dist)] if command[0] == "export" else ["--store", str(built.store_path)]
    args = [str(KG), "--project", str(project_root), *command, *built_from, "-o", target]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    if place == "/dev/full":
        assert done.returncode == 1
        assert done.stderr.endswith(f"error: cannot write {target}: No space left on device\n"), done.stderr
    else:  # refused as any wrong value of an option is
        assert done.returncode == 2 and f"'{target}' is a directory" in done.stderr, done.stderr


@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["PYTHONUNBUFFERED", "buffered"])
def test_a_reader_that_stops_mid_answer_ends_the_command_as_a_closed_pipe(
    built, project_root: Path, unbuffered: str
) -> None:
    """With PYTHONUNBUFFERED set, an answer cut by its reader (`kg query … | head -c 10`) ended with
    0: the unbuffered stream wrote what the pipe took and dropped the rest unsaid."""
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    if unbuffered:
        environment["PYTHONUNBUFFERED"] = unbuffered
    command = [str(KG), "--project", str(project_root), "query", "-e", "SELECT * { ?s ?p ?o }"]
    command += ["--store", str(built.store_path)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment
    ) as running:
        assert running.stdout is not None and running.stderr is not None
        assert len(running.stdout.read(10)) == 10
        running.stdout.close()
        said = running.stderr.read().decode()
        assert running.wait(60) == 128 + signal.SIGPIPE and said == "", said


ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # 10^11 rows to count


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_a_query_at_once_and_says_so(project_root: Path, built, sent: signal.Signals) -> None:
    """`kg query` on the embedded store took Ctrl-C only once the store had answered (a query of 28 s
    ran to its end; a larger one ran on for ten minutes), and died of SIGTERM without a word: the
    store answers without returning to Python, which handles a signal only between its own steps."""
    command = [
        str(KG),
        "--project",
        str(project_root),
        "query",
        "-e",
        ENDLESS,
        "--store",
        str(built.store_path),
    ]
    with subprocess.Popen(
        [sys.executable, "-c", FOREGROUND, *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as asking:
        # well into the query: kg's handler of SIGTERM is in place, then a CPU second more goes by
        assert handles(asking.pid, signal.SIGTERM) and busy_for(asking.pid, 1), asking.communicate()
        asking.send_signal(sent)
        try:
            _, said = asking.communicate(timeout=30)  # the query alone would run for hours
        except subprocess.TimeoutExpired:
            asking.kill()
            pytest.fail(f"{sent.name} did not stop the query")
    assert asking.returncode == 128 + sent, said
    assert said == f"error: interrupted ({sent.name})\n"
