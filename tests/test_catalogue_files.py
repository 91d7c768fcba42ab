"""Catalogue files that cannot be read or whose header is not YAML: `kg queries` names the file in one
line with exit status 2, and a question asked by name reads its own file only, so the others still
answer."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from test_input_files import kg


@pytest.fixture
def answering(project_copy: Path) -> Path:
    """A built copy of the project, whose catalogue a test breaks."""
    code, said = kg(project_copy, "build")
    assert code == 0, said
    return project_copy


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("x.rq", Path.mkdir, "queries/x.rq: is a folder, not a SPARQL file"),
        (
            "y.rq",
            os.mkfifo,
            "queries/y.rq: is a FIFO, not a regular file; a SPARQL file must be a regular file",
        ),
        (
            "heroin-sources.rq",
            lambda path: path.write_bytes(path.read_bytes().replace(b"heroin", b"h\xe9roin", 1)),
            "queries/heroin-sources.rq:1:",
        ),
    ],
)
def test_a_bad_catalogue_file_is_named_and_other_questions_still_answer(
    answering: Path, name: str, make: Callable[[Path], object], message: str
) -> None:
    make(answering / "queries" / name)
    code, said = kg(answering, "queries", timeout=120)
    assert code == 2 and "Traceback" not in said and said.startswith(f"error: {message}")
    assert len(said.splitlines()) == 1
    code, said = kg(answering, "query", "fentanyl-routes", timeout=120)
    assert (code, said) == (0, "")


def test_a_bad_header_is_one_line_and_does_not_stop_another_question(answering: Path) -> None:
    routes = answering / "queries" / "fentanyl-routes.rq"
    lines = routes.read_text("utf-8").splitlines(keepends=True)
    lines[0] = "#+ summary: [oops\n"
    routes.write_text("".join(lines), "utf-8")
    code, said = kg(answering, "queries", timeout=120)
    assert (code, said) == (
        2,
        "error: queries/fentanyl-routes.rq:2:15: "
        "header is not valid YAML: did not find expected ',' or ']'\n",
    )
    code, said = kg(answering, "query", "fentanyl-routes", timeout=120)
    assert code == 2 and said.startswith("error: queries/fentanyl-routes.rq:2:15:")
    code, said = kg(answering, "query", "heroin-sources", timeout=120)
    assert (code, said) == (0, "")


def test_a_query_file_given_that_is_not_utf8_is_named(answering: Path, tmp_path: Path) -> None:
    given = tmp_path / "given.rq"
    given.write_bytes(b"SELECT * WHERE {\n ?s ?p \xff }\n")
    code, said = kg(answering, "query", str(given), timeout=120)
    assert (code, said) == (2, f"error: {given}:2:8: not UTF-8 text: byte ff (invalid start byte)\n")
