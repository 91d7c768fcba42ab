"""Shared fixtures: one real build of the project into a temporary folder per test session, and the
server's app over it with a test client (its query workers are real processes, started on first use)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from listener import Listener
from rdflib import Dataset, Graph
from server_fixtures import RunningServer, start_server

from kg.build.pipeline import DATA_GRAPHS, BuildResult, build, merged
from kg.build.project import load_project
from kg.server import ServerConfig, create_app
from kg.store.embedded import EmbeddedStore

PROJECT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Built:
    """Where the session's build wrote its outputs."""

    result: BuildResult
    dist: Path
    store_path: Path

    def store(self) -> EmbeddedStore:
        return EmbeddedStore(self.store_path)


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The project built once, by the real pipeline, into a temporary dist/ and store."""
    out = tmp_path_factory.mktemp("build")
    result = build(PROJECT, out / "dist", out / "store")
    return Built(result, out / "dist", out / "store")


@pytest.fixture(scope="session")
def library_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project with a second source beside the report: a test fixture (tests/data/library/) whose
    one figure differs from the report's, so that questions across sources have something to find."""
    root = tmp_path_factory.mktemp("library")
    for folder in ("ontology", "graph", "sources", "queries"):
        shutil.copytree(PROJECT / folder, root / folder)
    for folder in ("graph", "sources"):
        shutil.copytree(PROJECT / "tests" / "data" / "library" / folder, root / folder, dirs_exist_ok=True)
    return root


@pytest.fixture(scope="session")
def library_built(library_root: Path) -> Built:
    """The library of two sources built once, by the real pipeline."""
    result = build(library_root, library_root / "dist", library_root / ".kg" / "store")
    return Built(result, library_root / "dist", library_root / ".kg" / "store")


@pytest.fixture(scope="session")
def store(built: Built) -> EmbeddedStore:
    return built.store()


@pytest.fixture(scope="session")
def graphs(project_root: Path) -> tuple[Graph, Graph]:
    """The curated data with the ontology merged in, and the shapes: what SHACL validates."""
    project = load_project(project_root)
    return merged(project, ("ontology", *DATA_GRAPHS)), project.graphs["shapes"]


@pytest.fixture(scope="session")
def dataset(built: Built) -> Dataset:
    """The built dataset as rdflib reads it from dist/, for checks written in Python."""
    data = Dataset(default_union=True)
    data.parse(built.dist / "opioid-kg.nq", format="nquads")
    return data


@pytest.fixture(scope="session")
def source_text(project_root: Path) -> str:
    """The text of the first source report."""
    return (project_root / "sources" / "000_1bdfefaeb44abb70" / "text.txt").read_text("utf-8")


@pytest.fixture(scope="session")
def app(built: Built) -> Iterator[Flask]:
    """The server's app over the session's build, as `kg serve` makes it (workers start on first use)."""
    config = ServerConfig(
        store=str(built.store_path),
        project=PROJECT,
        built=built.dist,
        workers=2,
    )
    application = create_app(config)
    application.config["TESTING"] = True
    yield application
    application.extensions["kg"].close()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    """A loopback listener that counts connections: what a query must never reach."""
    running = Listener()
    yield running
    running.close()


@pytest.fixture
def project_copy(project_root: Path, tmp_path: Path) -> Path:
    """A copy of the project's inputs that a test may break."""
    copy = tmp_path / "project"
    for folder in ("ontology", "graph", "sources", "queries"):
        shutil.copytree(project_root / folder, copy / folder)
    return copy


@pytest.fixture(scope="module")
def server(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A real `kg serve` with default settings, one per test module; a module needing other settings
    defines its own."""
    running = start_server(built.store_path, tmp_path_factory.mktemp("serve"))
    yield running
    running.stop()
