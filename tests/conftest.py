"""Shared fixtures: one real build of the project into a temporary folder per test session, and the
server's app over it with a test client (its query workers are real processes, started on first use)."""

from __future__ import annotations

import fcntl
import os
import pickle
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, cast

import pytest
from browser import CHROMIUM, launched_chromium
from flask import Flask
from flask.testing import FlaskClient
from inputs import copy_build, copy_inputs
from listener import Listener
from publishing import Driver
from rdflib import Dataset, Graph
from server_fixtures import RunningServer, serving
from shacl_cases import broken_graph

from kg.build.analyses import CACHE_VARIABLE
from kg.build.pipeline import DATA_GRAPHS, BuildResult, build, merged
from kg.build.project import load_project
from kg.build.validation import Violation, validate
from kg.server import ServerConfig, create_app
from kg.store.embedded import EmbeddedStore

PROJECT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


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


def once_per_run(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], T]) -> T:
    """`make(folder)` computed once per test run and shared by its pytest-xdist workers: the first
    worker to ask makes it under a lock, in a folder of the run's temporary folder, and the others read
    what it wrote (the value is pickled)."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / f"shared-{name}"
    folder.mkdir(exist_ok=True)
    made = folder / "value.pickle"
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not made.exists():
            made.write_bytes(pickle.dumps(make(folder)))
    return cast(T, pickle.loads(made.read_bytes()))


@pytest.fixture(scope="session", autouse=True)
def shared_analyses(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One folder of shape-query analyses for the whole run, its workers and the builds they start
    (`kg.build.reach`: each analysis is keyed by its query and the code, so any build may reuse it)."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-analyses"
    before = os.environ.get(CACHE_VARIABLE)
    os.environ[CACHE_VARIABLE] = str(folder)
    yield folder
    if before is None:
        del os.environ[CACHE_VARIABLE]
    else:
        os.environ[CACHE_VARIABLE] = before


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The project built once per test run, by the real pipeline, into a temporary dist/ and store.

    Every test reads the build only (the store is opened read-only), so one copy serves all workers."""

    result = once_per_run(tmp_path_factory, "build", lambda out: build(PROJECT, out / "dist", out / "store"))
    return Built(result, result.dist, result.store)


@pytest.fixture(scope="session")
def library_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project with a second source beside the report: a test fixture (tests/data/library/) whose
    one figure differs from the report's, so that questions across sources have something to find
    (one copy per test run, shared by the workers)."""

    def make(folder: Path) -> Path:
        root = folder / "library"
        for name in ("ontology", "graph", "sources", "queries"):
            shutil.copytree(PROJECT / name, root / name)
        for name in ("graph", "sources"):
            shutil.copytree(PROJECT / "tests" / "data" / "library" / name, root / name, dirs_exist_ok=True)
        return root

    return once_per_run(tmp_path_factory, "library", make)


@pytest.fixture(scope="session")
def library_built(library_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The library of two sources built once per test run, by the real pipeline."""
    result = once_per_run(
        tmp_path_factory,
        "library-build",
        lambda _: build(library_root, library_root / "dist", library_root / ".kg" / "store"),
    )
    return Built(result, result.dist, result.store)


@pytest.fixture(scope="session")
def copied(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    """The report and one synthetic copy of it (every resource of its own renamed `s0001-…`, as
    `benchmarks/scale.py` generates one), built once per test run."""
    sys.path.insert(0, str(PROJECT / "benchmarks"))
    from scale import generate  # benchmarks/ is not a package

    def make(folder: Path) -> Path:
        root = folder / "copied"
        generate(PROJECT, root, 2)
        return build(root, root / "dist", root / ".kg" / "store").store

    return EmbeddedStore(once_per_run(tmp_path_factory, "copied", make))


@pytest.fixture(scope="session")
def store(built: Built) -> EmbeddedStore:
    return built.store()


@pytest.fixture(scope="session")
def graphs(project_root: Path) -> tuple[Graph, Graph]:
    """The curated data with the ontology merged in, and the shapes: what SHACL validates."""
    project = load_project(project_root)
    return merged(project, ("ontology", *DATA_GRAPHS)), project.graphs["shapes"]


@pytest.fixture(scope="session")
def broken_reference(
    graphs: tuple[Graph, Graph], tmp_path_factory: pytest.TempPathFactory
) -> tuple[bool, list[Violation]]:
    """pyshacl, the reference engine, on the curated graph broken by every negative case of
    `shacl_cases` at once: whether it conforms, and its violations (computed once per run, as the
    most costly validation of the tests)."""

    def make(_: Path) -> tuple[bool, list[Violation]]:
        data, shapes = graphs
        report = validate(broken_graph(data), shapes)
        return report.conforms, report.violations

    return once_per_run(tmp_path_factory, "broken-reference", make)


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


@pytest.fixture
def driver() -> Iterator[Driver]:
    """The driver of the build's publishing step, which forks a process for each trial (one per test, so
    that a trial a failing test left behind cannot be read by the next)."""
    running = Driver()
    yield running
    running.close()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    """A loopback listener that counts connections: what a query must never reach."""
    running = Listener()
    yield running
    running.close()


@pytest.fixture
def library(library_root: Path, tmp_path: Path) -> Path:
    """A copy of the two-source library that a test may change."""
    return copy_inputs(library_root, tmp_path / "library")


@pytest.fixture
def library_work(library: Path, library_built: Built, tmp_path: Path) -> Path:
    """`tmp_path/work`, holding the session's build of the library as `kg build` leaves it (its
    generations, the store and dist/ links to the current one, its kept parses): for a test that changes
    its `library` copy and rebuilds, the same as building the copy there first, at the cost of a copy.
    """
    work = tmp_path / "work"
    copy_build(library_built.store_path.parent, work, work / "dist")
    return work


@pytest.fixture
def project_copy(project_root: Path, tmp_path: Path) -> Path:
    """A copy of the project's inputs that a test may break."""
    return copy_inputs(project_root, tmp_path / "project")


@pytest.fixture(scope="session")
def server(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A real `kg serve` with default settings, one per test process (the store is read-only, so the
    modules share it); a module needing other settings defines its own."""
    yield from serving(built.store_path, tmp_path_factory.mktemp("serve"))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """The system's Chromium, launched once per test process; each test opens its own context."""
    if not CHROMIUM.exists():
        pytest.skip("no Chromium at /usr/bin/chromium (apt-get install chromium)")
    yield from launched_chromium()


# Files whose tests share a costly fixture of the session run as one unit, on one worker, which makes it
# once: the security suite's server (`exposed`), and pyshacl's validation of the broken graph.
SHARED_UNITS = {
    "tests/security/test_exhaustion.py": "exposed-server",
    "tests/security/test_ssrf_server.py": "exposed-server",
    "tests/test_shapes.py": "pyshacl",
    "tests/test_store_validation.py": "pyshacl",
}
# Units that take longest, started first so that no worker is left with one at the end.
LONGEST_FIRST = (
    "tests/test_generations.py",
    "exposed-server",
    "pyshacl",
    "tests/test_analyst_tasks.py",
    "tests/test_push.py",
    "tests/test_server_generations.py",
    "tests/test_push_virtuoso.py",
)


def unit_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its file, or the unit its file shares."""
    path = nodeid.split("::")[0]
    return SHARED_UNITS.get(path, path)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """With `--dist loadgroup` (as `make test` runs), each unit of work goes whole to one pytest-xdist
    worker, so that a module's server or browser starts once, not on each worker."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByUnit(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

    return ByUnit(config, log)  # type: ignore[arg-type]  # xdist's Producer, passed through


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest units first (pytest-xdist keeps this order with `--no-loadscope-reorder`)."""

    def rank(item: pytest.Item) -> int:
        unit = unit_of(item.nodeid)
        return LONGEST_FIRST.index(unit) if unit in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the collection order stays within a rank
