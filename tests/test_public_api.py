"""The public Python API: a short, sorted list of names, each one working as the README shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kg

PROJECT = Path(__file__).resolve().parent.parent
PUBLIC = [
    "EmbeddedStore",
    "KgError",
    "NamedQuery",
    "QueryResult",
    "RemoteStore",
    "Store",
    "__version__",
    "ask",
    "export",
    "flow_network",
    "load_catalogue",
    "open_store",
    "production_network",
]


def test_the_public_names_are_pinned() -> None:
    assert sorted(kg.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(kg, name) is not None, name


def test_importing_kg_loads_none_of_them() -> None:
    """`import kg` must stay cheap: the command line and the query workers import it first."""
    code = "import sys, kg; print(sorted(m for m in sys.modules if m.startswith('kg')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['kg']"


def test_a_notebook_session(built, tmp_path: Path) -> None:
    store = kg.open_store(built.store_path)
    routes = kg.ask(store, "fentanyl-routes", queries=PROJECT / "queries")
    assert routes.rows and "country:MX" in routes.table()
    other = kg.ask(
        store,
        "fentanyl-routes",
        queries=PROJECT / "queries",
        substance="https://w3id.org/opioid-kg/id/substance/heroin",
    )
    assert other.rows != routes.rows
    network = kg.flow_network(store)
    assert "MX" in network and network.number_of_edges() > 0
    assert kg.production_network(store).number_of_edges() > 0
    written = kg.export(built.dist / "opioid-kg.nq", tmp_path / "data.ttl", "turtle", ("data",))
    assert written.path.exists() and written.triples_per_graph["data"] > 0
    try:
        kg.ask(store, "no-such-question", queries=PROJECT / "queries")
    except kg.KgError as error:
        assert "no-such-question" in error.message and error.exit_code == 2
    else:
        raise AssertionError("an unknown question must raise KgError")
