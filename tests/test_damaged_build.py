"""A build whose files were damaged or taken over outside the tool: the next build still works or says
why not, each command that reads the damaged store says so in one line, and a link the user made where
the build keeps its outputs is never replaced unsaid."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from test_input_files import KG, SOURCE, current, kg


def _built(project: Path) -> Path:
    code, said = kg(project, "build")
    assert code == 0, said
    return project


def _damage_store(project: Path) -> Path:
    """The current store's table files deleted, as a disk or a hand might: all of them, as a store's
    folder may also hold one its index no longer lists, whose loss harms nothing."""
    store = Path(os.path.realpath(project / ".kg" / "store"))
    tables = sorted(store.glob("*.sst"))
    assert tables
    for table in tables:
        table.unlink()
    return store


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
    done = subprocess.run([str(KG), "build"], cwd=project, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "full build (the store of generation" in done.stdout and "cannot be read" in done.stdout
    assert current(project) != before
    code, said = kg(project, "build")  # and the build after it starts from it again
    assert code == 0, said


@pytest.mark.parametrize(
    "command",
    [("sources",), ("validate",), ("stats",), ("query", "-e", "ASK {}"), ("search", "Mexico")],
    ids=lambda args: args[0],
)
def test_a_command_reading_a_damaged_store_names_it_in_one_line(project_copy: Path, command) -> None:
    project = _built(project_copy)
    store = _damage_store(project)
    code, said = kg(project, *command)
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
    code, said = kg(project, "build")
    assert code != 0 and "Traceback" not in said, said
    assert f"{output} is not a build's output (a link to {elsewhere})" in said, said
    assert os.readlink(link) == str(elsewhere) and not any(elsewhere.iterdir())


def test_a_server_of_a_damaged_store_says_why_its_workers_cannot_start(project_copy: Path) -> None:
    """Its query workers failed with a traceback each, and the server said only `exit -9`."""
    project = _built(project_copy)
    _damage_store(project)
    code, said = kg(project, "serve", "--port", "0", timeout=120)
    assert code == 1 and "Traceback" not in said, said
    assert said.startswith("error: the query workers could not start: a query worker could not open")
    assert "cannot be read: Corruption" in said and said.count("\n") == 1, said


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
