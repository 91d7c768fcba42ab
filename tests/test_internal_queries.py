"""Every SPARQL query the code asks is a catalogue file (kg/query/internal, kg/build/queries and its
SHACL validators, kg/store/queries), and every update the push sends a file of kg/exchange/updates,
not text in Python."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.exchange.roundtrip import CORE_DATATYPES, unusual_line
from kg.exchange.updates import update, updates
from kg.namespaces import XSD
from kg.query.catalogue import load_catalogue
from kg.query.internal import FOLDER, bound, internal_queries
from kg.store.base import StreamedSolutions
from kg.store.embedded import EmbeddedStore, create_store
from kg.store.queryfiles import CatalogueError
from kg.store.sparql import projection, query_form

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "kg"
PROJECT = PACKAGE.parent.parent
# A query or update form with a group after it: a query, or a piece of one. An empty `ASK {}` asks the
# store nothing (the query workers' readiness probe); a keyword alone is prose or a token to compare.
QUERY_TEXT = re.compile(
    r"\b(SELECT|CONSTRUCT|DESCRIBE|INSERT|DELETE)\b[^;]*\{|\bASK\s*(WHERE\s*)?\{\s*[^}\s]", re.IGNORECASE
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


def test_no_query_is_written_in_python() -> None:
    written = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, text in string_constants(path)
        if QUERY_TEXT.search(text)
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


def test_every_select_the_server_may_ask_names_its_variables() -> None:
    """A store's answer is checked against the variables its query projects (a store behind `kg serve
    --store` that answers with others fails as the store, 502, not as the page reading it): each
    SELECT of the catalogue and of the code names them, `SELECT *` none."""
    queries = {**internal_queries(), **load_catalogue(PROJECT / "queries")}
    selects = {name: query.text for name, query in queries.items() if query_form(query.text) == "select"}
    assert len(selects) > 40
    assert [name for name, text in selects.items() if not projection(text)] == []


def test_the_push_probes_exactly_the_literals_beyond_the_core(tmp_path: Path) -> None:
    """The push's query and its line test agree on which datatypes every store keeps."""
    graph = "urn:example:graph"
    typed = ["@en" if kind.endswith("langString") else f"^^<{kind}>" for kind in sorted(CORE_DATATYPES)]
    lines = [f'<urn:example:s> <urn:example:p> "1"{suffix} <{graph}> .' for suffix in typed]
    lines.append(f'<urn:example:s> <urn:example:p> "P2M"^^<{XSD}duration> <{graph}> .')
    data = tmp_path / "data.nq"
    data.write_text("\n".join(lines) + "\n", "utf-8")
    create_store(tmp_path / "store", data)
    answer = EmbeddedStore(tmp_path / "store").query(*bound("unusual-literals", graph=[graph]))
    assert isinstance(answer, StreamedSolutions)
    found = [f"{row['o']}" for row in answer]
    assert found == [f'"P2M"^^<{XSD}duration>']
    assert [line for line in lines if unusual_line(line.rsplit(" ", 2)[0] + " .")] == [lines[-1]]
    assert len(found) == 1 < len(lines) == len(CORE_DATATYPES) + 1


def test_the_push_s_updates_load_and_do_on_a_store_what_they_say() -> None:
    assert set(updates()) == {
        "delete-blank-nodes",
        "delete-data",
        "drop-graph",
        "insert-data",
        "insert-template",
        "replace-from-staging",
    }
    store = ox.Store()
    graph, staging = "urn:example:graph", "urn:example:staging"
    plain = ['<urn:example:s> <urn:example:p> "$data" .', "<urn:example:s> <urn:example:p> <urn:example:o> ."]
    blank = ["_:b <urn:example:p> <urn:example:o> ."]

    def lines(name: str) -> list[str]:
        return sorted(
            f"{quad.triple} ." for quad in store.quads_for_pattern(None, None, None, ox.NamedNode(name))
        )

    store.update(update("insert-data", plain, graph=graph))
    store.update(update("insert-template", blank, graph=graph))
    assert len(lines(graph)) == 3
    store.update(update("delete-blank-nodes", graph=graph))
    assert lines(graph) == sorted(plain)
    store.update(update("delete-data", plain[:1], graph=graph))
    assert lines(graph) == plain[1:]
    store.update(update("insert-data", plain[:1], graph=staging))
    store.update(update("replace-from-staging", graph=graph, staging=staging, triples="2"))
    assert lines(graph) == plain[1:]  # the staging graph does not hold what was counted: nothing
    store.update(update("replace-from-staging", graph=graph, staging=staging, triples="1"))
    assert lines(graph) == plain[:1] == lines(staging)
    store.update(update("drop-graph", graph=staging))
    assert lines(staging) == []


def test_an_update_s_graph_must_be_an_iri() -> None:
    with pytest.raises(CatalogueError, match="not an absolute IRI"):
        update("drop-graph", graph="> } ; DROP ALL ; INSERT DATA { <a")
