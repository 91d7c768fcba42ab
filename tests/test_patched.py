"""A rebuild patches the previous dump from the files that changed: a line leaves the dataset only when
no file gives it any more, and without what it needs it sorts every file again; either way the output
is a clean build's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_incremental import _edit, _files, _same_as_clean

from kg.build.parsing import InputError
from kg.build.pipeline import PARSED, build

COMMENT = (
    "<https://w3id.org/opioid-kg/id/period/2017> <http://www.w3.org/2000/01/rdf-schema#comment> "
    '"The calendar year 2017."@en .\n'
)
PERIOD = "period:2017 a kg:CalendarYear ;"
QUAD = COMMENT.replace(" .\n", " <https://w3id.org/opioid-kg/graph/data> .\n").encode()


def test_a_line_leaves_the_dataset_only_when_no_file_gives_it(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    """The same triple in two files of one graph: taken out of one it stays, out of both it goes."""
    store, dist = library_work / "store", library_work / "dist"
    periods = library / "graph" / "common" / "data" / "periods.ttl"
    again = periods.with_name("again.ttl")
    steps = [
        ("in both files", "0 quads removed, 1 added"),
        ("taken out of the first", "0 quads removed, 0 added"),
        ("taken out of the second", "1 quads removed, 0 added"),
    ]
    for step, counts in steps:
        if step == "in both files":
            _edit(periods, PERIOD, f'{PERIOD}\n    rdfs:comment "The calendar year 2017."@en ;')
            again.write_text(COMMENT, "utf-8")
        elif step == "taken out of the first":
            _edit(periods, '\n    rdfs:comment "The calendar year 2017."@en ;', "")
        else:
            again.unlink()
        rebuilt = build(library, dist, store)
        assert "rebuilt from generation" in rebuilt.how and counts in rebuilt.how, (step, rebuilt.how)
        assert "dump patched" in rebuilt.how, (step, rebuilt.how)
        assert (QUAD in _files(dist)["opioid-kg.nq"]) == (step != "taken out of the second"), step
        _same_as_clean(library, tmp_path, rebuilt)


def test_without_the_previous_parses_a_rebuild_sorts_every_file(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    """The parse cache emptied: the N-Quads of the file as it was are not there to take out."""
    shutil.rmtree(library_work / PARSED)
    _edit(
        library / "graph" / "common" / "data" / "periods.ttl",
        PERIOD,
        f'{PERIOD}\n    rdfs:comment "2017."@en ;',
    )
    rebuilt = build(library, library_work / "dist", library_work / "store")
    assert "rebuilt from generation" in rebuilt.how and "0 quads removed, 1 added" in rebuilt.how, rebuilt.how
    assert "dump patched" not in rebuilt.how, rebuilt.how
    _same_as_clean(library, tmp_path, rebuilt)


def test_a_bad_file_is_reported_as_a_clean_build_reports_it(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    periods = library / "graph" / "common" / "data" / "periods.ttl"
    periods.write_text(periods.read_text("utf-8") + "\nthis is not Turtle .\n", "utf-8")
    with pytest.raises(InputError) as rebuilding:
        build(library, library_work / "dist", library_work / "store")
    with pytest.raises(InputError) as clean:
        build(library, tmp_path / "clean" / "dist", tmp_path / "clean" / "store")
    assert str(rebuilding.value) == str(clean.value) and str(periods) in str(clean.value)


def test_a_line_two_files_gave_a_clean_build_stays_when_one_no_longer_does(
    library: Path, tmp_path: Path
) -> None:
    """The lines several files give are counted by the clean build's sort too."""
    periods = library / "graph" / "common" / "data" / "periods.ttl"
    _edit(periods, PERIOD, f'{PERIOD}\n    rdfs:comment "The calendar year 2017."@en ;')
    periods.with_name("again.ttl").write_text(COMMENT, "utf-8")
    store, dist = tmp_path / "work" / "store", tmp_path / "work" / "dist"
    assert build(library, dist, store).how.startswith("full build")
    _edit(periods, '\n    rdfs:comment "The calendar year 2017."@en ;', "")
    rebuilt = build(library, dist, store)
    assert "0 quads removed, 0 added" in rebuilt.how and "dump patched" in rebuilt.how, rebuilt.how
    assert QUAD in _files(dist)["opioid-kg.nq"]
    _same_as_clean(library, tmp_path, rebuilt)
