"""A rebuild patches the previous dump from the files that changed: a line leaves the dataset only when
no file gives it any more, and without what it needs it sorts every file again; either way the output
is a clean build's."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from test_incremental import _edit, _files, _same_as_clean

from kg.build.parsed import ParsedFiles
from kg.build.parsing import InputError
from kg.build.patched import _patched_graphs
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


OTHER = COMMENT.replace("The calendar year 2017.", "Another comment.")


def test_a_file_saved_while_a_build_reads_it_leads_no_later_build_astray(
    library: Path, library_work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file's key and its N-Quads are of one reading: a file saved after the build took its key makes
    the build read every file again, so the next builds take out what the dump holds."""
    store, dist = library_work / "store", library_work / "dist"
    data = library / "graph" / "common" / "data"
    (data / "again.ttl").write_text(COMMENT, "utf-8")
    build(library, dist, store)
    twice = data / "aaa.ttl"  # read before again.ttl, whose key it has
    twice.write_text(COMMENT, "utf-8")
    keyed = ParsedFiles.key

    def key_then_save(self: ParsedFiles, path: Path, name: str) -> str:
        key = keyed(self, path, name)
        if path == twice:
            twice.write_text(OTHER, "utf-8")  # saved again once its key was read
        return key

    monkeypatch.setattr(ParsedFiles, "key", key_then_save)
    saved_meanwhile = build(library, dist, store)
    monkeypatch.undo()
    assert "dump patched" not in saved_meanwhile.how, saved_meanwhile.how
    _same_as_clean(library, tmp_path, saved_meanwhile)
    rebuilt = build(library, dist, store)
    assert "dump patched" in rebuilt.how, rebuilt.how
    _same_as_clean(library, tmp_path, rebuilt)


def test_a_graph_file_of_the_previous_generation_gone_makes_a_rebuild_sort_every_file(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    (library_work / "generations" / "current" / "graphs" / "background.nq").unlink()
    _edit(
        library / "graph" / "common" / "data" / "periods.ttl",
        PERIOD,
        f'{PERIOD}\n    rdfs:comment "2017."@en ;',
    )
    rebuilt = build(library, library_work / "dist", library_work / "store")
    assert "rebuilt from generation" in rebuilt.how and "dump patched" not in rebuilt.how, rebuilt.how
    _same_as_clean(library, tmp_path, rebuilt)


def test_a_kept_parse_cut_short_makes_a_rebuild_sort_every_file(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    """The N-Quads of a file removed are taken out only when they are what its build kept."""
    again = library / "graph" / "common" / "data" / "again.ttl"
    again.write_text(COMMENT, "utf-8")
    build(library, library_work / "dist", library_work / "store")
    kept = library_work / PARSED / f"{ParsedFiles(library_work / PARSED).key(again, 'data')}.nq"
    kept.write_bytes(b"")
    again.unlink()
    rebuilt = build(library, library_work / "dist", library_work / "store")
    assert "1 quads removed" in rebuilt.how and "dump patched" not in rebuilt.how, rebuilt.how
    _same_as_clean(library, tmp_path, rebuilt)


@pytest.mark.parametrize(
    ("name", "kind"),
    [(name, kind) for name in ("graphs/background.nq", "dist/opioid-kg.nq") for kind in ("link", "fifo")]
    + [("graphs", "link")],
)
def test_a_previous_file_that_is_no_regular_file_makes_a_rebuild_sort_every_file(
    library: Path, library_work: Path, tmp_path: Path, name: str, kind: str
) -> None:
    """A link (to the same bytes outside the generation) or a FIFO in place of the previous dump or
    a graph's file, or a link in place of the graphs' folder, is not patched from, nor linked into
    the new generation, nor waited on."""
    previous = library_work / "generations" / "current" / name
    outside = tmp_path / "outside"
    previous.rename(outside)
    if kind == "link":
        previous.symlink_to(outside)
    else:
        os.mkfifo(previous)
    _edit(
        library / "graph" / "common" / "data" / "periods.ttl",
        PERIOD,
        f'{PERIOD}\n    rdfs:comment "2017."@en ;',
    )
    rebuilt = build(library, library_work / "dist", library_work / "store")
    assert "dump patched" not in rebuilt.how, rebuilt.how  # a FIFO for the dump: no previous build at all
    graphs = library_work / "generations" / "current" / "graphs"
    assert all(path.is_file() and not path.is_symlink() for path in graphs.iterdir())
    _same_as_clean(library, tmp_path, rebuilt)


def test_a_graph_file_the_previous_generation_did_not_record_is_not_read(tmp_path: Path) -> None:
    """A file found in the previous generation for a graph it counted no triples of (so recorded no
    file for) is not patched from: the new file holds the lines put in, and only those."""
    before, split = tmp_path / "before", tmp_path / "split"
    before.mkdir()
    planted = b"<urn:planted> <urn:p> <urn:o> <https://w3id.org/opioid-kg/graph/background> .\n"
    (before / "background.nq").write_bytes(planted)
    line = b"<urn:s> <urn:p> <urn:o> <https://w3id.org/opioid-kg/graph/background> .\n"
    counts = _patched_graphs(before, {}, [(0, False, line)], split)
    assert counts == {"background": 1}
    assert (split / "background.nq").read_bytes() == line
