"""Input files that cannot be read as what they claim to be: each stops `kg build` (or the command that
reads it) with exit status 2 and one line naming the file and, where there is one, the line and column,
and a failed build leaves the previous dist/ and store as they were."""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

SOURCE = "000_1bdfefaeb44abb70"
KG = Path(sys.executable).parent / "kg"


def kg(project: Path, *args: str, timeout: float = 120) -> tuple[int, str]:
    """The real `kg` command run in `project`: its exit status and what it wrote on stderr."""
    done = subprocess.run(
        [str(KG), *args], cwd=project, capture_output=True, text=True, timeout=timeout, check=False
    )
    return done.returncode, done.stderr


def current(project: Path) -> str:
    """The generation dist/ and the store show."""
    dist = os.path.realpath(project / "dist")
    store = os.path.realpath(project / ".kg" / "store")
    assert Path(dist).parent == Path(store).parent
    return dist


def assert_fails_cleanly(project: Path, expected: str) -> None:
    """`kg build` in `project` (built once before) stops with one line, `error: ` and `expected`, exit
    status 2, and leaves the previous generation current."""
    before = current(project)
    code, said = kg(project, "build")
    assert "Traceback" not in said
    assert said == f"error: {expected}\n"
    assert code == 2
    assert current(project) == before


@pytest.fixture
def project(project_copy: Path) -> Path:
    """A copy of the project, built once, to break."""
    code, said = kg(project_copy, "build")
    assert code == 0, said
    return project_copy


def test_an_unterminated_quote_in_a_table_names_the_csv_file_and_line(project: Path) -> None:
    table = project / "graph" / SOURCE / "tables" / "poppy-cultivation.csv"
    lines = table.read_text("utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace('2017",', "2017,")
    table.write_text("".join(lines), "utf-8")
    assert_fails_cleanly(
        project, f"graph/{SOURCE}/tables/poppy-cultivation.csv:3: not CSV: unexpected end of data"
    )


def test_a_table_that_is_not_utf8_is_named_at_its_line_and_column(project: Path) -> None:
    table = project / "graph" / SOURCE / "tables" / "poppy-cultivation.csv"
    table.write_bytes(table.read_bytes().replace(b"Mexico, 2016", b"M\xe9xico, 2016"))
    assert_fails_cleanly(
        project,
        f"graph/{SOURCE}/tables/poppy-cultivation.csv:2:59: "
        "not UTF-8 text: byte e9 (invalid continuation byte)",
    )


@pytest.mark.parametrize(
    "where",
    [
        f"graph/{SOURCE}/data/flows.ttl",
        f"graph/{SOURCE}/tables/poppy-cultivation.csv",
        f"sources/{SOURCE}/text.txt",
    ],
)
@pytest.mark.parametrize(("encoding", "mark"), [("utf-16", "ff fe"), ("utf-16-be", "fe ff")])
def test_a_file_saved_as_utf16_says_so(project: Path, where: str, encoding: str, mark: str) -> None:
    """A file an editor saved as UTF-16 ("Unicode" in Windows' Notepad) was said to hold a byte that is
    not UTF-8 at its first line, with no word of what the file is."""
    path = project / where
    data = path.read_text("utf-8").encode(encoding)
    path.write_bytes(data if encoding == "utf-16" else codecs.BOM_UTF16_BE + data)
    assert_fails_cleanly(
        project,
        f"{where}:1:1: not UTF-8 text: byte {mark[:2]} (invalid start byte); the file starts with the"
        f" byte-order mark of UTF-16 ({mark}): save it as UTF-8",
    )


def test_a_literal_longer_than_the_parser_reads_names_the_file_line_and_limit(project: Path) -> None:
    """Oxigraph's Turtle parser holds at most 16 MiB of one token; a longer comment is refused, in a
    rebuild (the parse cache in use) as in a clean build."""
    huge = project / "graph" / SOURCE / "data" / "huge.ttl"
    with huge.open("w", encoding="utf-8") as out:
        out.write("@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n\n")
        out.write('<https://w3id.org/opioid-kg/id/substance/fentanyl> rdfs:comment "')
        out.write("a" * 17_000_000 + '" .\n')
    expected = (
        f"graph/{SOURCE}/data/huge.ttl:3: a literal or IRI longer than the Turtle parser reads at once; "
        "the limit is 16,777,216 bytes (16 MiB)"
    )
    assert_fails_cleanly(project, expected)
    code, said = kg(project, "build", "--dist", "other-dist", "--store", "other/store")
    assert (code, said) == (2, f"error: {expected}\n")


def test_a_turtle_file_that_is_not_utf8_is_named_where_the_byte_is(project: Path) -> None:
    """Oxigraph's parser says such a file fails at its first line; the byte is found where it is."""
    places = project / "graph" / "common" / "data" / "places.ttl"
    lines = places.read_bytes().splitlines(keepends=True)
    assert lines[62] == b'    skos:prefLabel "Mexico"@en ;\n'
    lines[62] = b'    skos:prefLabel "M\xe9xico"@en ;\n'
    places.write_bytes(b"".join(lines))
    assert_fails_cleanly(
        project, "graph/common/data/places.ttl:63:22: not UTF-8 text: byte e9 (invalid continuation byte)"
    )


@pytest.mark.parametrize(
    "where", ["graph/common/data/places.ttl", f"sources/{SOURCE}/source.ttl", "ontology/units.ttl"]
)
def test_a_turtle_file_not_utf8_in_a_comment_is_refused_too(project: Path, where: str) -> None:
    """The parser skips a comment's bytes unread, so such a file built: every Turtle file is UTF-8 text,
    as the tables and queries are, whatever part of it holds the byte."""
    path = project / where
    lines = path.read_bytes().count(b"\n")
    with path.open("ab") as out:
        out.write(b"\n# caf\xe9 au lait\n")
    assert_fails_cleanly(
        project, f"{where}:{lines + 2}:6: not UTF-8 text: byte e9 (invalid continuation byte)"
    )


@pytest.mark.parametrize("where", [f"graph/{SOURCE}/data/f.ttl", "ontology/f.ttl"])
def test_a_fifo_named_like_a_turtle_file_is_refused_not_waited_on(project: Path, where: str) -> None:
    os.mkfifo(project / where)
    assert_fails_cleanly(
        project, f"{where}: is a FIFO, not a regular file; a Turtle file must be a regular file"
    )


def test_a_fifo_as_a_table_or_its_description_is_refused(project: Path) -> None:
    table = project / "graph" / SOURCE / "tables" / "poppy-cultivation.csv"
    original = table.read_bytes()
    table.unlink()
    os.mkfifo(table)
    assert_fails_cleanly(
        project,
        f"graph/{SOURCE}/tables/poppy-cultivation.csv: is a FIFO, not a regular file; "
        "a CSV table must be a regular file",
    )
    table.unlink()
    table.mkdir()
    assert_fails_cleanly(
        project, f"graph/{SOURCE}/tables/poppy-cultivation.csv: is a folder, not a CSV table"
    )
    table.rmdir()
    table.write_bytes(original)
    os.mkfifo(project / "graph" / SOURCE / "tables" / "x.csv-metadata.json")
    assert_fails_cleanly(
        project,
        f"graph/{SOURCE}/tables/x.csv-metadata.json: is a FIFO, not a regular file; "
        "a CSVW table description must be a regular file",
    )


def test_a_source_text_that_is_not_utf8_or_not_a_file_is_named(project: Path) -> None:
    text = project / "sources" / SOURCE / "text.txt"
    original = text.read_bytes()
    text.write_bytes(original.replace(b"Mexico", b"M\xe9xico", 1))
    code, said = kg(project, "build")
    assert code == 2 and "Traceback" not in said and "RuntimeError" not in said
    assert said.startswith(f"error: sources/{SOURCE}/text.txt:")
    assert said.endswith(": not UTF-8 text: byte e9 (invalid continuation byte)\n")
    text.unlink()
    os.mkfifo(text)
    assert_fails_cleanly(
        project,
        f"sources/{SOURCE}/text.txt: is a FIFO, not a regular file; a source text must be a regular file",
    )


def test_a_syntax_error_in_a_data_cube_check_names_its_file_line_and_column(project: Path) -> None:
    check = project / "queries" / "checks" / "ic-01.rq"
    check.write_text(check.read_text("utf-8").rstrip("\n") + " }}}\n", "utf-8")
    lines = len(check.read_text("utf-8").splitlines())
    assert_fails_cleanly(
        project,
        f"queries/checks/ic-01.rq:{lines + 1}:1: "
        "SPARQL syntax error: expected one of FILTER, OPTIONAL, VALUES",
    )


def test_a_check_the_build_asks_in_another_form_is_still_parsed(project: Path) -> None:
    """The build asks IC-3 as a grouped query of its own; the file, which others re-run, must parse."""
    check = project / "queries" / "checks" / "ic-03.rq"
    check.write_text(check.read_text("utf-8").replace("ASK", "ASKK", 1), "utf-8")
    code, said = kg(project, "build")
    assert code == 2 and said.startswith("error: queries/checks/ic-03.rq:") and "SPARQL syntax error" in said


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("ic-02.rq", lambda path: path.write_bytes(path.read_bytes() + b"\xff"), ":24:1: not UTF-8 text"),
        ("ic-99.rq", Path.mkdir, ": is a folder, not a SPARQL file"),
        ("ic-98.rq", os.mkfifo, ": is a FIFO, not a regular file"),
        (
            "normalize-phase-1.ru",
            lambda path: path.write_text(path.read_text() + " }}}"),
            ":46:5: SPARQL syntax error",
        ),
    ],
)
def test_a_check_file_that_cannot_be_read_is_named(
    project: Path, name: str, make: Callable[[Path], object], message: str
) -> None:
    path = project / "queries" / "checks" / name
    make(path)
    code, said = kg(project, "build")
    assert code == 2 and "Traceback" not in said
    assert said.startswith(f"error: queries/checks/{name}{message}")
