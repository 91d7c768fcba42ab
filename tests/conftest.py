"""Shared fixtures: one real build of the project into a temporary folder per test session."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdflib import Dataset

from kg.build.pipeline import BuildResult, build
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
def store(built: Built) -> EmbeddedStore:
    return built.store()


@pytest.fixture(scope="session")
def dataset(built: Built) -> Dataset:
    """The built dataset as rdflib reads it from dist/, for checks written in Python."""
    data = Dataset(default_union=True)
    data.parse(built.dist / "opioid-kg.nq", format="nquads")
    return data


@pytest.fixture(scope="session")
def source_text(project_root: Path) -> str:
    """The text of the first source report."""
    return (project_root / "sources" / "000_1bdfefaeb44abb70.txt").read_text("utf-8")


@pytest.fixture
def project_copy(project_root: Path, tmp_path: Path) -> Path:
    """A copy of the project's inputs that a test may break."""
    copy = tmp_path / "project"
    for folder in ("ontology", "graph", "sources", "queries"):
        shutil.copytree(project_root / folder, copy / folder)
    return copy
