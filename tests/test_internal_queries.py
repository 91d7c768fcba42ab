"""Every SPARQL query the code asks is a catalogue file in kg/query/internal, not text in Python."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from click.testing import CliRunner

from kg.cli import main
from kg.query.catalogue import load_catalogue
from kg.query.internal import FOLDER, internal_queries

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "kg"
PROJECT = PACKAGE.parent.parent
# A query form and a pattern to match; an empty `ASK {}` asks the store nothing.
QUERY_TEXT = re.compile(
    r"\b(SELECT|CONSTRUCT|DESCRIBE)\b[^;]*\bWHERE\b|\bASK\s*(WHERE\s*)?\{\s*[^}\s]", re.IGNORECASE
)


def string_constants(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module (f-strings by their literal parts), docstrings left out."""
    tree = ast.parse(path.read_text("utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    parts = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(part.value for part in node.values if isinstance(part, ast.Constant))
            found.append((node.lineno, str(text)))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings | parts
        ):
            found.append((node.lineno, node.value))
    return found


# Not yet catalogue files: the build's checks, which run SPARQL on the build's own store before any
# reader exists (the W3C Data Cube constraints, whose `<$p>` templates the recommendation defines;
# the SHACL shapes compiled to SPARQL; the vocabulary, excerpt and source checks), and the push's
# probe of which literals a store keeps.
NOT_YET = {
    "build/cube.py",
    "build/excerpts.py",
    "build/shape_queries.py",
    "build/sources.py",
    "build/store_validation.py",
    "build/vocabulary.py",
    "exchange/roundtrip.py",
}


def test_no_query_is_written_in_python() -> None:
    written = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if str(path.relative_to(PACKAGE)) not in NOT_YET
        for line, text in string_constants(path)
        if QUERY_TEXT.search(text) and not text.lstrip().startswith(("DELETE", "INSERT"))
    ]
    assert written == []


def test_the_check_finds_a_query_in_python(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        '"""Doc: SELECT ?s WHERE { }."""\nQ = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{1}> {{ }} }}"\n'
    )
    assert [line for line, text in string_constants(module) if QUERY_TEXT.search(text)] == [2]


def test_internal_queries_load_and_stay_out_of_the_public_catalogue() -> None:
    internal = internal_queries()
    assert internal == load_catalogue(FOLDER) and len(internal) >= 20
    public = load_catalogue(PROJECT / "queries")
    assert set(internal).isdisjoint(public)
    listed = CliRunner().invoke(main, ["--project", str(PROJECT), "queries"]).output
    assert not any(line.startswith(f"{name}  (") for name in internal for line in listed.splitlines())
    internal_listing = CliRunner().invoke(main, ["--project", str(PROJECT), "queries", "--internal"]).output
    assert all(f"{name}  (" in internal_listing for name in internal)
