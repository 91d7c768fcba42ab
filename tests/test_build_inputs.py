"""Input files a curator gets wrong in ways Turtle cannot see: each stops the build (or is accepted) with
one clear line naming the file, and the line where it can be fixed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kg.build.parsing import InputError, parse_turtle
from kg.build.pipeline import BuildFailed, build
from kg.build.project import turtle_files

PREFIXES = (
    "@prefix kg: <https://w3id.org/opioid-kg/ontology#> .\n"
    "@prefix substance: <https://w3id.org/opioid-kg/id/substance/> .\n"
)


def test_an_undeclared_predicate_is_reported_where_it_is_used(project_copy: Path, tmp_path: Path) -> None:
    """The subject is described first in substances.ttl; the typo is in a file of its own, line 4."""
    extra = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "zz-extra.ttl"
    extra.write_text(PREFIXES + "\nsubstance:fentanyl kg:misspeltProperty 3 .\n", "utf-8")
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert f"{extra}:4: undeclared predicate https://w3id.org/opioid-kg/ontology#misspeltProperty" in str(
        error.value
    )


def test_an_undeclared_class_written_as_a_full_iri_is_reported_where_it_is_used(
    project_copy: Path, tmp_path: Path
) -> None:
    extra = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "zz-extra.ttl"
    extra.write_text(
        PREFIXES + "\n\nsubstance:fentanyl\n    a <https://w3id.org/opioid-kg/ontology#NoSuchClass> .\n",
        "utf-8",
    )
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert f"{extra}:6: undeclared class https://w3id.org/opioid-kg/ontology#NoSuchClass" in str(error.value)


def test_a_folder_named_like_a_turtle_file_is_named_as_a_folder(project_copy: Path, tmp_path: Path) -> None:
    folder = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "x.ttl"
    folder.mkdir()
    with pytest.raises(InputError) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert str(error.value) == f"{folder}: is a folder, not a Turtle file"


def test_a_dangling_link_names_its_missing_target(project_copy: Path, tmp_path: Path) -> None:
    link = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "gone.ttl"
    os.symlink(project_copy / "nowhere" / "gone.ttl", link)
    with pytest.raises(InputError) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert (
        str(error.value) == f"{link}: a link to {project_copy / 'nowhere' / 'gone.ttl'}, which does not exist"
    )


def test_an_unreadable_file_says_why(tmp_path: Path) -> None:
    locked = tmp_path / "locked.ttl"
    locked.write_text(PREFIXES, "utf-8")
    locked.chmod(0)
    if os.access(locked, os.R_OK):
        pytest.skip("this user reads every file (root)")
    with pytest.raises(InputError) as error:
        parse_turtle(locked)
    assert str(error.value) == f"{locked}: cannot read: Permission denied"


def test_a_byte_order_mark_is_accepted(project_copy: Path, tmp_path: Path) -> None:
    """Editors on Windows start UTF-8 files with U+FEFF; the file reads as without it, and errors in it
    still name the right line and column."""
    places = project_copy / "graph" / "common" / "data" / "places.ttl"
    places.write_bytes(b"\xef\xbb\xbf" + places.read_bytes())
    graph = parse_turtle(places)
    assert len(graph) > 10
    broken = tmp_path / "broken.ttl"
    broken.write_bytes(b"\xef\xbb\xbf" + PREFIXES.encode() + b"substance:x kg:y .\n")
    with pytest.raises(InputError) as error:
        parse_turtle(broken)
    assert str(error.value).startswith(f"{broken}:3:")
    assert "\ufeff" not in str(error.value)
    result = build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert result.violations == 0


def test_the_turtle_files_are_found_and_ordered_as_pathlib_finds_them(tmp_path: Path) -> None:
    """`turtle_files` walks the tree once instead of pathlib's `rglob`: the same entries (a folder
    named like a Turtle file, a dangling link, a link to a folder, which is not followed), in the same
    order, where a name that sorts before `/` sits beside a folder; but a file or a folder whose name
    starts with a dot, which is passed over."""
    names = ["a/x.ttl", "a-b/y.ttl", "a.ttl/z.ttl", ".hidden.ttl", "B/c.ttl", "b/c.ttl", "d/1/2/3.ttl"]
    for name in [*names, ".git/x.ttl", "a/.#x.ttl"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", "utf-8")
    (tmp_path / "notes.txt").write_text("", "utf-8")
    (tmp_path / "folder-link.ttl").symlink_to(tmp_path / "a")
    (tmp_path / "link").symlink_to(tmp_path / "d")
    (tmp_path / "gone.ttl").symlink_to(tmp_path / "nowhere.ttl")
    found = turtle_files(tmp_path)
    visible = [path for path in tmp_path.rglob("*.ttl") if not any(part[0] == "." for part in path.parts)]
    assert found == sorted(visible)
    assert [path.relative_to(tmp_path).as_posix() for path in found[:3]] == [
        "B/c.ttl",
        "a/x.ttl",
        "a-b/y.ttl",
    ]
    assert len(found) == 9
    assert turtle_files(tmp_path, deep=False) == sorted(p for p in tmp_path.glob("*.ttl") if p.name[0] != ".")


def test_names_starting_with_a_dot_are_passed_over(project_copy: Path, tmp_path: Path) -> None:
    """An editor's lock (a link to nowhere), a draft put aside and a hidden folder are not curated data:
    the build is the one without them."""
    data = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data"
    build(project_copy, tmp_path / "one" / "dist", tmp_path / "one" / "store")
    (data / ".#findings.ttl").symlink_to("user@host.4242:1700000000")
    (data / ".draft.ttl").write_text(PREFIXES + "substance:draft kg:note 1 .\n", "utf-8")
    (data / ".drafts").mkdir()
    (data / ".drafts" / "x.ttl").write_text("not Turtle", "utf-8")
    build(project_copy, tmp_path / "two" / "dist", tmp_path / "two" / "store")
    for name in ("opioid-kg.nq", "opioid-kg.trig"):
        assert (tmp_path / "two" / "dist" / name).read_bytes() == (
            tmp_path / "one" / "dist" / name
        ).read_bytes()
    assert turtle_files(tmp_path / "missing") == []
